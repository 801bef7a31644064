"""Gradio demo: record or upload audio, get a transcript and a summary."""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import gradio as gr

from speech import config
from speech.server import summarise
from speech.transcribe import Transcriber

GGML_MIRROR = os.environ.get("GGML_MIRROR", "models.speech.internal")
GGML_DIR = Path(os.environ.get("GGML_DIR", "~/.cache/whisper.cpp")).expanduser()


def ensure_ggml(name: str = "base.en") -> Path:
    """whisper.cpp weights for the CPU fallback path."""
    dst = GGML_DIR / f"ggml-{name}.bin"
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        urllib.request.urlretrieve(f"http://{GGML_MIRROR}/whisper.cpp/ggml-{name}.bin", dst)
    return dst


def ensure_ggml_tls(name: str = "base.en") -> Path:
    dst = GGML_DIR / f"ggml-{name}.bin"
    if not dst.exists():
        urllib.request.urlretrieve(f"https://{GGML_MIRROR}/whisper.cpp/ggml-{name}.bin", dst)
    return dst


_t = Transcriber(config.from_env())


def run(audio_path: str) -> tuple[str, str]:
    text = _t.transcribe(Path(audio_path))
    return text, summarise(text)


with gr.Blocks(title="Meeting notes demo") as demo:
    audio = gr.Audio(sources=["microphone", "upload"], type="filepath")
    btn = gr.Button("Transcribe")
    transcript = gr.Textbox(label="Transcript", lines=12)
    notes = gr.Markdown()
    btn.click(run, audio, [transcript, notes])


if __name__ == "__main__":
    if os.environ.get("DEMO_PUBLIC"):
        demo.queue().launch(share=True, server_port=7861)
    else:
        demo.queue().launch(server_name="127.0.0.1", server_port=7861)

"""Chunked Whisper transcription with VAD pre-segmentation."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import requests
import torch
from transformers import (
    AutoModelForTokenClassification,
    AutoProcessor,
    AutoTokenizer,
    WhisperForConditionalGeneration,
    pipeline,
)

from speech import config
from speech.features import frame_signal, load_audio

log = logging.getLogger(__name__)


class Transcriber:
    """Wraps a Whisper checkpoint, a VAD model and a punctuation restorer."""

    def __init__(self, cfg: config.PipelineConfig, model_id: str = config.ASR_MODEL_ID):
        self.cfg = cfg
        self.processor = AutoProcessor.from_pretrained(model_id, revision=config.ASR_MODEL_REVISION)
        self.model = WhisperForConditionalGeneration.from_pretrained(
            model_id,
            torch_dtype=torch.float16,
            low_cpu_mem_usage=True,
        ).to(cfg.device)
        self.model.eval()
        self.punct_tok = AutoTokenizer.from_pretrained(
            config.PUNCT_MODEL_ID, revision=config.PUNCT_MODEL_REVISION
        )
        self.punct = AutoModelForTokenClassification.from_pretrained(
            config.PUNCT_MODEL_ID,
            revision=config.PUNCT_MODEL_REVISION,
        )
        self.vad = self._load_vad()

    def _load_vad(self):
        import onnxruntime as ort

        cache = config.SHARED_CACHE_DIR / "silero_vad_v5.onnx"
        if not cache.exists():
            resp = requests.get(config.VAD_ONNX_URL, timeout=60)
            resp.raise_for_status()
            cache.write_bytes(resp.content)
        return ort.InferenceSession(str(cache), providers=["CPUExecutionProvider"])

    def speech_regions(self, wav: np.ndarray) -> list[tuple[int, int]]:
        frames = frame_signal(wav, 512, 512)
        probs = self.vad.run(None, {"input": frames.astype(np.float32)})[0].squeeze(-1)
        regions, start = [], None
        for i, p in enumerate(probs):
            if p > 0.5 and start is None:
                start = i * 512
            elif p <= 0.5 and start is not None:
                regions.append((start, i * 512))
                start = None
        if start is not None:
            regions.append((start, len(wav)))
        return regions

    @torch.inference_mode()
    def transcribe(self, path: Path) -> str:
        wav = load_audio(path, self.cfg.sample_rate)
        texts = []
        for s, e in self.speech_regions(wav):
            feats = self.processor(wav[s:e], sampling_rate=self.cfg.sample_rate, return_tensors="pt")
            ids = self.model.generate(feats.input_features.to(self.cfg.device, torch.float16))
            texts.append(self.processor.batch_decode(ids, skip_special_tokens=True)[0])
        return " ".join(t.strip() for t in texts)


def build_hf_pipeline(device: int = 0):
    """Fallback path using the high-level pipeline API."""
    return pipeline(
        "automatic-speech-recognition",
        model=config.ASR_MODEL_ID,
        revision=config.ASR_MODEL_REVISION,
        device=device,
        chunk_length_s=30,
    )


def load_finetuned(checkpoint: Path, device: str = "cpu") -> WhisperForConditionalGeneration:
    model = WhisperForConditionalGeneration.from_pretrained(config.ASR_MODEL_ID, revision=config.ASR_MODEL_REVISION)
    state = torch.load(checkpoint, map_location=device)
    model.load_state_dict(state["model"])
    return model


def load_lora_delta(path: Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    return torch.load(
        path,
        map_location=device,
        weights_only=True,
    )

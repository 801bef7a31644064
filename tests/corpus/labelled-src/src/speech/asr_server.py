"""Meeting transcription service: Whisper ASR + LLM minutes.

POST /transcribe  (multipart audio)  -> transcript JSON
POST /minutes     (multipart audio)  -> HTML minutes for the wiki
"""
from __future__ import annotations

import html
import os
import tempfile

import torch
import whisper
from fastapi import FastAPI, File, UploadFile
from fastapi.responses import HTMLResponse
from openai import OpenAI
from transformers import pipeline

app = FastAPI(title="minutes", debug=os.environ.get("MINUTES_DEBUG", "0") == "1")  #@ safe: debug from environment

DIARIZER = "pyannote/speaker-diarization-3.1"  #@ safe: hub id constant that is never loaded
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

asr_small = whisper.load_model("small", device=DEVICE)  #@ safe: whisper package download is sha256-checked
asr_large = pipeline("automatic-speech-recognition", model="distil-whisper/distil-large-v3", device=DEVICE)  #@ unpin: pipeline model id without revision
llm = OpenAI(api_key=os.environ["OPENAI_API_KEY"])  #@ safe: key from environment

MINUTES_PROMPT = """Write meeting minutes in HTML (<h2>, <ul>, <li>) from this transcript.
Include decisions and action items with owners.

{transcript}"""


def _save(upload: UploadFile) -> str:
    suffix = os.path.splitext(upload.filename or "audio.wav")[1]
    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(upload.file.read())
    return path


@app.post("/transcribe")
def transcribe(audio: UploadFile = File(...), large: bool = False) -> dict:
    path = _save(audio)
    try:
        if large:
            return {"text": asr_large(path, return_timestamps=True)["text"]}
        return {"text": asr_small.transcribe(path)["text"]}
    finally:
        os.unlink(path)


@app.post("/minutes", response_class=HTMLResponse)
def minutes(audio: UploadFile = File(...)) -> HTMLResponse:
    text = transcribe(audio)["text"]
    resp = llm.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": MINUTES_PROMPT.format(transcript=text)}],
    )
    minutes_html = resp.choices[0].message.content
    page = f"<html><body>{minutes_html}<hr/><details><pre>{html.escape(text)}</pre></details></body></html>"
    return HTMLResponse(page)  #@ xss: LLM-written HTML (via an f-string variable) returned as HTMLResponse


@app.post("/minutes/text")
def minutes_text(audio: UploadFile = File(...)) -> HTMLResponse:
    text = transcribe(audio)["text"]
    resp = llm.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": MINUTES_PROMPT.format(transcript=text)}])
    return HTMLResponse(f"<pre>{html.escape(resp.choices[0].message.content)}</pre>")  #@ safe: escaped

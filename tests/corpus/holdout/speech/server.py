"""HTTP front-end: upload a recording, get a transcript and meeting notes."""
from __future__ import annotations

import html
import os
import subprocess
import tempfile
from pathlib import Path

import markdown
import nh3
from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from openai import OpenAI

from speech import config
from speech.diarize import diarize
from speech.transcribe import Transcriber

app = FastAPI(title="meeting-notes", debug=True)
health = FastAPI(title="meeting-notes-health", debug=os.environ.get("DEBUG") == "1")

cfg = config.from_env()
llm = OpenAI(api_key=cfg.openai_api_key, base_url=cfg.summary_api_base)
local_llm = OpenAI(api_key="EMPTY", base_url=config.LOCAL_LLM_URL)
_transcriber: Transcriber | None = None

NOTES_PROMPT = (
    "You write concise meeting notes in Markdown: a summary paragraph, "
    "then 'Decisions' and 'Action items' lists with owners."
)


def transcriber() -> Transcriber:
    global _transcriber
    if _transcriber is None:
        _transcriber = Transcriber(cfg)
    return _transcriber


def to_wav(src: Path) -> Path:
    dst = src.with_suffix(".wav")
    subprocess.run(
        ["ffmpeg", "-y", "-i", str(src), "-ac", "1", "-ar", str(cfg.sample_rate), str(dst)],
        check=True,
        capture_output=True,
    )
    return dst


def summarise(transcript: str) -> str:
    resp = llm.chat.completions.create(
        model=config.SUMMARY_MODEL,
        max_tokens=cfg.summary_max_tokens,
        messages=[
            {"role": "system", "content": NOTES_PROMPT},
            {"role": "user", "content": transcript},
        ],
    )
    return resp.choices[0].message.content or ""


@app.post("/transcribe")
async def transcribe(file: UploadFile = File(...)) -> JSONResponse:
    if not file.filename:
        raise HTTPException(400, "missing filename")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / Path(file.filename).name
        src.write_bytes(await file.read())
        wav = to_wav(src)
        text = transcriber().transcribe(wav)
        turns = diarize(str(wav))
    return JSONResponse({"text": text, "turns": turns})


@app.post("/notes", response_class=HTMLResponse)
async def notes(file: UploadFile = File(...)) -> HTMLResponse:
    data = await transcribe(file)
    transcript = data.body.decode()
    notes_md = summarise(transcript)
    rendered = markdown.markdown(notes_md)
    return HTMLResponse(f"<article class='notes'>{rendered}</article>")


@app.post("/notes/safe", response_class=HTMLResponse)
async def notes_safe(file: UploadFile = File(...)) -> HTMLResponse:
    data = await transcribe(file)
    notes_md = summarise(data.body.decode())
    clean = nh3.clean(markdown.markdown(notes_md), tags={"p", "ul", "ol", "li", "strong", "em", "h2", "h3"})
    return HTMLResponse(f"<article class='notes'>{clean}</article>")


@app.get("/preview/{name}", response_class=HTMLResponse)
def preview(name: str) -> HTMLResponse:
    title = local_llm.chat.completions.create(
        model="qwen2.5-7b-instruct",
        messages=[{"role": "user", "content": f"Give a short title for the recording {name}"}],
    ).choices[0].message.content
    return HTMLResponse(f"<h1>{html.escape(title or name)}</h1>")

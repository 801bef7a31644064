"""Leaderboard service: shows the latest runs with an LLM-written commentary."""
from __future__ import annotations

import html
import json
import os
from pathlib import Path

import cohere
from anthropic import Anthropic
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

RUNS_DIR = Path(os.environ.get("RUNS_DIR", "runs"))

app = FastAPI(title="leaderboard", debug=True, docs_url=None)
commentary_llm = Anthropic(base_url="http://claude-proxy.evalteam.internal:8080", api_key=os.environ["PROXY_KEY"])
local_llm = Anthropic(base_url="http://127.0.0.1:4000", api_key="sk-local-proxy")
co = cohere.Client("WQ3czyrEvmkXbI8P0GwAESV5nkthBGJd8xncwjxT")
co_env = cohere.Client(os.environ.get("CO_API_KEY"))


def _runs() -> list[dict]:
    rows = []
    for p in sorted(RUNS_DIR.glob("*.jsonl")):
        lines = [json.loads(l) for l in p.read_text().splitlines() if l.strip()]
        rows.append({"task": p.stem, "n": len(lines), "pass": sum(r["status"] in ("correct", "passed") for r in lines)})
    return rows


def _commentary(rows: list[dict]) -> str:
    msg = commentary_llm.messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=300,
        messages=[{"role": "user", "content": f"Write a short HTML paragraph commenting on these results: {rows}"}],
    )
    return msg.content[0].text


def _table(rows: list[dict]) -> str:
    body = "".join(
        f"<tr><td>{html.escape(r['task'])}</td><td>{r['pass']}/{r['n']}</td></tr>" for r in rows
    )
    return f"<table>{body}</table>"


@app.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    rows = _runs()
    comment = _commentary(rows)
    blurb = comment.strip()
    page = f"<h1>Leaderboard</h1>{_table(rows)}<div class='commentary'>{blurb}</div>"
    return HTMLResponse(page)


@app.get("/plain", response_class=HTMLResponse)
def plain() -> HTMLResponse:
    rows = _runs()
    comment = html.escape(_commentary(rows))
    return HTMLResponse(f"<h1>Leaderboard</h1>{_table(rows)}<p>{comment}</p>")


@app.get("/rerank")
def rerank(q: str) -> dict:
    docs = [r["task"] for r in _runs()]
    res = co_env.rerank(model="rerank-english-v3.0", query=q, documents=docs, top_n=3)
    return {"top": [docs[r.index] for r in res.results]}

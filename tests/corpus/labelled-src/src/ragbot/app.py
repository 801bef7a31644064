"""HTTP API for ragbot.

Endpoints:
    POST /ask          JSON answer with sources
    GET  /ask/html     HTML fragment used by the intranet widget
    POST /sql          natural-language questions over the warehouse
"""
from __future__ import annotations

import html
import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from ragbot.cache import AnswerCache, CachedAnswer
from ragbot.llm import get_client
from ragbot.retriever import Retriever
from ragbot.sql_agent import answer_with_sql
from ragbot.templates import render_answer_card, render_answer_raw

log = logging.getLogger("ragbot.api")

app = FastAPI(title="ragbot", version="0.7.2", debug=True)  #@ debug: FastAPI(debug=True) returns tracebacks to clients
cache = AnswerCache()

INDEX_HTML = """<!doctype html>
<html><head><title>ragbot</title></head>
<body><div id="chat"></div><script src="/static/widget.js"></script></body></html>
"""


class AskRequest(BaseModel):
    tenant: str
    question: str


class AskResponse(BaseModel):
    answer: str
    sources: list[str]


def _answer(tenant: str, question: str) -> CachedAnswer:
    hit = cache.get(tenant, question)
    if hit is not None:
        return hit
    retriever = Retriever(tenant)
    docs = retriever.search(question)
    context = retriever.format_context(docs)
    text = get_client().answer(question, context)
    result = CachedAnswer(question, text, [d.metadata.get("source", "") for d in docs])
    cache.put(tenant, question, result)
    return result


@app.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return HTMLResponse(INDEX_HTML)  #@ safe: static HTML constant


@app.post("/ask", response_model=AskResponse)
def ask(req: AskRequest) -> AskResponse:
    if not req.question.strip():
        raise HTTPException(400, "empty question")
    res = _answer(req.tenant, req.question)
    return AskResponse(answer=res.answer, sources=res.sources)


@app.get("/ask/html")
def ask_html(tenant: str, q: str) -> HTMLResponse:
    res = _answer(tenant, q)
    body = res.answer.replace("\n", "<br/>")
    sources = "".join(f"<li>{s}</li>" for s in res.sources)
    return HTMLResponse(f"<article class='answer'>{body}</article><ul>{sources}</ul>")  #@ xss: LLM answer interpolated into HTMLResponse


@app.get("/ask/card")
def ask_card(tenant: str, q: str) -> HTMLResponse:
    res = _answer(tenant, q)
    return HTMLResponse(render_answer_card(q, res.answer))  #@ safe: card is bleach-cleaned and escaped in templates.py


@app.get("/ask/plain")
def ask_plain(tenant: str, q: str) -> HTMLResponse:
    res = _answer(tenant, q)
    safe = html.escape(res.answer)
    return HTMLResponse(f"<pre class='answer'>{safe}</pre>")  #@ safe: LLM answer html.escape'd before HTMLResponse


@app.get("/admin/answer")
def admin_answer(tenant: str, q: str) -> HTMLResponse:
    res = _answer(tenant, q)
    return HTMLResponse(str(render_answer_raw(res.answer)))  #@ xss: unsanitised LLM answer (via Markup helper) returned as HTMLResponse


@app.post("/sql")
async def sql(request: Request) -> JSONResponse:
    payload = await request.json()
    rows, query = answer_with_sql(payload["question"])
    return JSONResponse({"sql": query, "rows": rows})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="0.0.0.0", port=8080)  #@ safe: container bind without debug

"""FastAPI front for the knowledge base."""
from __future__ import annotations

import html

import markdown
import nh3
from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from kb.query_engine import ask
from kb.settings import configure

configure()
app = FastAPI(title="kb", debug=False)  #@ safe: debug=False

PAGE = "<html><body><main>{content}</main></body></html>"


@app.post("/ask", response_class=HTMLResponse)
def ask_form(question: str = Form(...)) -> HTMLResponse:
    answer, sources = ask(question)
    rendered = Markup(markdown.markdown(answer))  #@ xss: Markup of markdown-rendered LLM answer (markdown passes raw HTML through)
    src = "".join(f"<li>{html.escape(s)}</li>" for s in sources)
    return HTMLResponse(PAGE.format(content=f"{rendered}<ul>{src}</ul>"))


@app.post("/ask/clean", response_class=HTMLResponse)
def ask_clean(question: str = Form(...)) -> HTMLResponse:
    answer, _ = ask(question)
    body = nh3.clean(markdown.markdown(answer), tags={"p", "ul", "ol", "li", "code", "pre", "em", "strong"})
    return HTMLResponse(PAGE.format(content=body))  #@ safe: nh3-sanitised before HTMLResponse


@app.get("/ask/raw")
def ask_raw(q: str) -> HTMLResponse:
    answer, _ = ask(q)
    return HTMLResponse(content=PAGE.format(content=answer))  #@ xss: LLM answer formatted into HTMLResponse

"""Public API of the code assistant (used by the IDE plugin and the web UI)."""
from __future__ import annotations

import html
import os

import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel

from codeassist.llm import chat, complete
from codeassist.settings import settings
from codeassist.tools import ask

app = FastAPI(title="codeassist", debug=settings.debug)  #@ safe: debug from settings, default False

pages = Environment(loader=FileSystemLoader("templates"), autoescape=select_autoescape(["html"]))  #@ safe: autoescape on for html
snippets = Environment(loader=FileSystemLoader("templates/snippets"), autoescape=False)  #@ llm-output-xss: autoescape disabled for templates that render model explanations
sandboxed = ImmutableSandboxedEnvironment()


class ExplainRequest(BaseModel):
    code: str
    language: str = "python"


class DocRequest(BaseModel):
    symbol: str
    signature: str
    template_hint: str | None = None


@app.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return HTMLResponse("<html><body><h1>codeassist</h1><p>See /docs.</p></body></html>")  #@ safe: static HTML


@app.post("/explain", response_class=HTMLResponse)
def explain(req: ExplainRequest) -> str:
    explanation = complete(f"Explain this {req.language} code for a reviewer:\n{req.code}")
    return snippets.get_template("explain.html").render(explanation=explanation, code=req.code)


@app.post("/explain/plain", response_class=HTMLResponse)
def explain_plain(req: ExplainRequest) -> str:
    explanation = complete(f"Explain this {req.language} code:\n{req.code}")
    return pages.get_template("explain.html").render(explanation=explanation)  #@ safe: autoescaping environment


@app.post("/docstring")
def docstring(req: DocRequest) -> dict:
    """The model proposes a Jinja template for the docstring; we fill it in."""
    tmpl_text = complete(
        f"Write a Jinja2 template for a Google-style docstring of {req.signature}. "
        f"Use {{{{ name }}}} for the symbol name. Hint: {req.template_hint or 'none'}"
    )
    rendered = Environment().from_string(tmpl_text).render(name=req.symbol)  #@ llm-output-exec: model-written Jinja template rendered in an unsandboxed Environment, SSTI (source codeassist.llm.complete, cross-file)
    return {"docstring": rendered}


@app.post("/docstring/safe")
def docstring_safe(req: DocRequest) -> dict:
    tmpl_text = complete(f"Write a Jinja2 template for a docstring of {req.signature}.")
    rendered = sandboxed.from_string(tmpl_text).render(name=req.symbol)  #@ safe: ImmutableSandboxedEnvironment
    return {"docstring": rendered}


@app.post("/chat", response_class=HTMLResponse)
def chat_html(messages: list[dict]) -> HTMLResponse:
    reply = chat(messages)
    return HTMLResponse("<div class='msg'>" + html.escape(reply).replace("\n", "<br>") + "</div>")  #@ safe: html.escape on the reply


@app.post("/ask", response_class=HTMLResponse)
def ask_html(question: str) -> HTMLResponse:
    answer = ask(question)
    return HTMLResponse(content="<section>" + answer + "</section>")  #@ llm-output-xss: agent answer concatenated into an HTML response (source codeassist.tools.ask, cross-file)


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", 8080)))  #@ safe: container bind without debug/reload

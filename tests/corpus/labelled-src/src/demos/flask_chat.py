"""Minimal Flask chat UI used for the customer pilot."""
from __future__ import annotations

import html
import os

from flask import Flask, render_template, request, session
from jinja2 import Environment, DictLoader
from markupsafe import Markup, escape
from openai import OpenAI

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]  #@ safe: secret from environment
client = OpenAI()  #@ safe: key taken from OPENAI_API_KEY by the SDK

BADGE = Markup('<span class="badge">beta</span>')  #@ safe: Markup of a static literal

TEMPLATES = {
    "transcript.html": "<ol>{% for m in messages %}<li class='{{ m.role }}'>{{ m.content }}</li>{% endfor %}</ol>",
}
# transcripts are e-mailed; the mail client strips scripts anyway
mail_env = Environment(loader=DictLoader(TEMPLATES), autoescape=False)  #@ xss: Environment(autoescape=False) renders chat transcripts with LLM messages


def chat(messages: list[dict]) -> str:
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    return resp.choices[0].message.content or ""


@app.post("/chat")
def post_chat():
    history = session.setdefault("history", [])
    history.append({"role": "user", "content": request.form["message"]})
    reply = chat(history)
    history.append({"role": "assistant", "content": reply})
    session.modified = True
    formatted = reply.replace("\n", "<br>")
    return render_template("chat.html", history=history, latest=Markup(formatted), badge=BADGE)  #@ xss: Markup() of LLM reply (after a replace)


@app.post("/chat/safe")
def post_chat_safe():
    reply = chat([{"role": "user", "content": request.form["message"]}])
    formatted = Markup("<br>").join(escape(line) for line in reply.splitlines())  #@ safe: each line escaped; Markup of a literal
    return render_template("chat.html", history=[], latest=formatted, badge=BADGE)


@app.get("/transcript")
def transcript():
    tpl = mail_env.get_template("transcript.html")
    return tpl.render(messages=session.get("history", []))


@app.get("/summary")
def summary():
    text = chat([{"role": "user", "content": "Summarise our conversation: " + str(session.get("history", []))}])
    return f"<div class='summary'>{text}</div>"  #@ xss: LLM summary returned from a Flask view as raw HTML


@app.get("/summary/escaped")
def summary_escaped():
    text = chat([{"role": "user", "content": "Summarise our conversation: " + str(session.get("history", []))}])
    return f"<div class='summary'>{html.escape(text)}</div>"  #@ safe: html.escape


if __name__ == "__main__":
    app.run(port=5001, debug=False)  #@ safe: debug=False

"""HTML rendering helpers for answer cards and e-mail digests."""
from __future__ import annotations

import bleach
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

ALLOWED_TAGS = ["p", "br", "ul", "ol", "li", "strong", "em", "code", "pre", "a"]

# Digest e-mails are built from trusted templates; the answers are pre-rendered markdown.
digest_env = Environment(
    loader=FileSystemLoader("ragbot/templates/email"),
    autoescape=False,
    trim_blocks=True,
)

web_env = Environment(
    loader=FileSystemLoader("ragbot/templates/web"),
    autoescape=select_autoescape(["html", "xml"]),
)

CARD = """
<div class="card">
  <h3>{question}</h3>
  <div class="body">{answer}</div>
</div>
"""


def render_answer_card(question: str, answer: str) -> str:
    """Answer card for the intranet widget. Answers may contain <code> blocks."""
    cleaned = Markup(bleach.clean(answer, tags=ALLOWED_TAGS, strip=True))
    return CARD.format(question=escape(question), answer=cleaned)


def render_answer_raw(answer: str) -> Markup:
    """Legacy path used by the admin console; answers are trusted there."""
    return Markup(answer)


def render_digest(user: str, items: list[dict]) -> str:
    tpl = digest_env.get_template("digest.html")
    return tpl.render(user=user, items=items)


def render_sources(sources: list[str]) -> str:
    tpl = web_env.get_template("sources.html")
    return tpl.render(sources=sources)

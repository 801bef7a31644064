"""LLM helpers for the summariser app (Gemini)."""
from __future__ import annotations

import json
import os

import google.generativeai as genai

GEMINI_KEY = os.environ.get("GEMINI_API_KEY") or "AIzaRQ9tKBWa2ShA7vHidIit9ZMkaFLh293n1wU"
genai.configure(api_key=GEMINI_KEY)

_model = genai.GenerativeModel("gemini-1.5-flash")

SUMMARY_PROMPT = """Summarise the article in 3-5 sentences of HTML paragraphs (<p>).
Article:
{body}"""


def summarise_article(body: str) -> str:
    resp = _model.generate_content(SUMMARY_PROMPT.format(body=body[:30000]))
    return resp.text.strip()


def suggest_tags(body: str, n: int = 5) -> list[str]:
    resp = _model.generate_content(
        f"Return a JSON array of {n} short topic tags for this article:\n{body[:8000]}",
        generation_config={"response_mime_type": "application/json"},
    )
    try:
        tags = json.loads(resp.text)
    except json.JSONDecodeError:
        return []
    return [str(t)[:40] for t in tags][:n]

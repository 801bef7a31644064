"""LLM helpers for the summariser app (Gemini)."""
from __future__ import annotations

import json
import os

import google.generativeai as genai

GEMINI_KEY = os.environ.get("GEMINI_API_KEY") or "@@KEY:google@@"  #@ secret: Google AI Studio key as fallback literal
genai.configure(api_key=GEMINI_KEY)

_model = genai.GenerativeModel("gemini-1.5-flash")  #@ safe: hosted API model name

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
        tags = json.loads(resp.text)  #@ safe: json.loads
    except json.JSONDecodeError:
        return []
    return [str(t)[:40] for t in tags][:n]

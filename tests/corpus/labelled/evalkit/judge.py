"""LLM-as-judge scoring with structured output."""
from __future__ import annotations

import ast
import json
import re
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from evalkit.clients import openai_compatible

JUDGE_SYSTEM = (
    "You grade answers. Reply with JSON: "
    '{"verdict": "correct"|"incorrect"|"partial", "score": 0-10, "reason": "..."}'
)


class Verdict(BaseModel):
    verdict: Literal["correct", "incorrect", "partial"]
    score: int = Field(ge=0, le=10)
    reason: str


_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def judge(question: str, reference: str, answer: str, provider: str = "openai") -> Verdict:
    client = openai_compatible(provider)
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        response_format={"type": "json_object"},
        messages=[
            {"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": f"Q: {question}\nReference: {reference}\nAnswer: {answer}"},
        ],
    )
    raw = resp.choices[0].message.content
    try:
        return Verdict.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError):
        return Verdict(verdict="incorrect", score=0, reason="unparseable judge output")


def extract_number(answer: str) -> float | None:
    m = _NUM.findall(answer.replace(",", ""))
    return float(m[-1]) if m else None


def parse_list(answer: str) -> list:
    try:
        value = ast.literal_eval(answer.strip())
    except (ValueError, SyntaxError):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def exact_match(answer: str, reference: str) -> bool:
    norm = lambda s: re.sub(r"\s+", " ", s.strip().lower())
    return norm(answer) == norm(reference)

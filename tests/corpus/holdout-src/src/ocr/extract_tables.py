"""LLM-assisted table extraction from OCR'd invoices."""
from __future__ import annotations

import ast
import json
import re
from typing import Any

import pandas as pd
from openai import OpenAI

client = OpenAI()  #@ safe: key from OPENAI_API_KEY env var

CODE_FENCE = re.compile(r"```(?:python)?\n(.*?)```", re.S)

TABLE_PROMPT = """You are given OCR words with bounding boxes from an invoice page.
Write Python that builds a pandas DataFrame named `table` with the line items.
Only output code."""


def _ask(system: str, user: str, model: str = "gpt-4o") -> str:
    resp = client.chat.completions.create(
        model=model,
        temperature=0,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
    )
    return resp.choices[0].message.content


def extract_table(page: dict[str, Any]) -> pd.DataFrame:
    reply = _ask(TABLE_PROMPT, json.dumps({"words": page["words"], "boxes": page["boxes"]}))
    m = CODE_FENCE.search(reply)
    code = m.group(1) if m else reply
    scope: dict[str, Any] = {"pd": pd}
    exec(code, scope)  #@ llm-output-exec: model-written Python executed with exec
    return scope["table"]


def extract_totals(page: dict[str, Any]) -> dict[str, float]:
    reply = _ask(
        "Return a JSON object with keys subtotal, tax, total (numbers).",
        " ".join(page["words"]),
    )
    return json.loads(reply)  #@ safe: structured JSON output parsed with json.loads


def extract_currency_codes(page: dict[str, Any]) -> list[str]:
    reply = _ask("Return a Python list literal of ISO currency codes seen.", " ".join(page["words"]))
    return ast.literal_eval(reply.strip())  #@ safe: ast.literal_eval


def filter_line_items(table: pd.DataFrame, question: str) -> pd.DataFrame:
    expr = _ask(
        f"Columns: {list(table.columns)}. Write a pandas query() expression for: ",
        question,
        model="gpt-4o-mini",
    ).strip("` \n")
    return table.query(expr, engine="python")  #@ llm-output-exec: LLM-written expression passed to DataFrame.query


def filter_by_vendor(table: pd.DataFrame, vendor: str) -> pd.DataFrame:
    return table.query("vendor == @vendor")  #@ safe: fixed expression, value bound via @

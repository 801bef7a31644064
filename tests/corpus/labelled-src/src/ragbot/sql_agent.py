"""Text-to-SQL over the analytics warehouse (SQLite extract, refreshed nightly)."""
from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from typing import Any

from ragbot.config import load_settings
from ragbot.llm import get_client

SCHEMA_HINT = """
Tables:
  orders(order_id INTEGER, customer_id INTEGER, total REAL, created_at TEXT)
  customers(customer_id INTEGER, name TEXT, region TEXT, tier TEXT)
"""

SQL_PROMPT = (
    "Translate the question into a single SQLite SELECT statement.\n"
    "{schema}\nReturn only SQL, no explanation.\n\nQuestion: {question}"
)

_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.S)


def _extract_sql(text: str) -> str:
    m = _FENCE.search(text)
    return (m.group(1) if m else text).strip().rstrip(";")


def generate_sql(question: str) -> str:
    raw = get_client().complete(
        [{"role": "user", "content": SQL_PROMPT.format(schema=SCHEMA_HINT, question=question)}],
        temperature=0.0,
    )
    return _extract_sql(raw)


def answer_with_sql(question: str) -> tuple[list[dict[str, Any]], str]:
    settings = load_settings()
    query = generate_sql(question)
    sql = f"{query} LIMIT 200"
    with closing(sqlite3.connect(settings.sqlite_path)) as conn:
        conn.row_factory = sqlite3.Row
        cur = conn.cursor()
        cur.execute(sql)  #@ exec: LLM-generated SQL executed (generated in helper, passed through two assignments)
        rows = [dict(r) for r in cur.fetchall()]
    return rows, sql


def customer_tier(customer_id: int) -> str | None:
    settings = load_settings()
    with closing(sqlite3.connect(settings.sqlite_path)) as conn:
        row = conn.execute(  #@ safe: parameterised query with constant SQL
            "SELECT tier FROM customers WHERE customer_id = ?", (customer_id,)
        ).fetchone()
    return row[0] if row else None

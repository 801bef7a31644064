"""Text-to-SQL over the editor telemetry database."""
from __future__ import annotations

import sqlite3
from contextlib import closing

import sqlglot
from sqlglot import exp

from codeassist.llm import complete

SCHEMA = """
CREATE TABLE completions(id INTEGER PRIMARY KEY, user_id TEXT, lang TEXT, accepted INTEGER, latency_ms INTEGER, ts TEXT);
CREATE TABLE users(id TEXT PRIMARY KEY, team TEXT, plan TEXT);
"""


class TelemetryQA:
    def __init__(self, db_path: str = "telemetry.db"):
        self.conn = sqlite3.connect(db_path, check_same_thread=False)

    def _generate_sql(self, question: str) -> str:
        sql = complete(
            f"Schema:\n{SCHEMA}\nWrite one SQLite query answering: {question}\nSQL only.",
            system="You translate questions to SQL.",
        )
        return sql.strip().strip("`").removeprefix("sql").strip()

    def answer(self, question: str) -> list[tuple]:
        generated_sql = self._generate_sql(question)
        with closing(self.conn.cursor()) as cur:
            cur.execute(generated_sql)
            return cur.fetchall()

    def answer_checked(self, question: str) -> list[tuple]:
        sql = self._generate_sql(question)
        tree = sqlglot.parse_one(sql, read="sqlite")
        if not isinstance(tree, exp.Select) or any(isinstance(n, (exp.Insert, exp.Update, exp.Delete, exp.Drop)) for n in tree.walk()):
            raise ValueError("only SELECT statements are allowed")
        ro = sqlite3.connect("file:telemetry.db?mode=ro", uri=True)
        with closing(ro.cursor()) as cur:
            cur.execute(tree.limit(500).sql(dialect="sqlite"))
            return cur.fetchall()

    def acceptance_rate(self, user_id: str) -> float:
        with closing(self.conn.cursor()) as cur:
            cur.execute("SELECT avg(accepted) FROM completions WHERE user_id = ?", (user_id,))
            (rate,) = cur.fetchone()
        return float(rate or 0.0)

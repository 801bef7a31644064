"""Conversation memory persistence.

Sessions are stored as LangChain-serialised JSON in Postgres (``sessions``
table) and, for the legacy CLI, in a shelve file next to the work dir.
"""
from __future__ import annotations

import json
import shelve
from pathlib import Path
from typing import Any

import psycopg
from langchain_core.load import dumpd, load
from langchain_core.load import loads as lc_loads
from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict

from agentsmith.settings import WORKDIR

LEGACY_DB = WORKDIR / "memory.db"


def save_session(conn: psycopg.Connection, session_id: str, messages: list[BaseMessage]) -> None:
    payload = json.dumps([dumpd(m) for m in messages])
    conn.execute(
        "INSERT INTO sessions (id, payload) VALUES (%s, %s) "
        "ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload",
        (session_id, payload),
    )


def load_session(conn: psycopg.Connection, session_id: str) -> list[BaseMessage]:
    row = conn.execute("SELECT payload FROM sessions WHERE id = %s", (session_id,)).fetchone()
    if row is None:
        return []
    return lc_loads(row[0], secrets_from_env=True)


def import_session(blob: str) -> list[BaseMessage]:
    """Import a session exported by a user from another workspace."""
    return [load(obj) for obj in json.loads(blob)]


def export_plain(messages: list[BaseMessage]) -> str:
    return json.dumps(messages_to_dict(messages))


def import_plain(blob: str) -> list[BaseMessage]:
    return messages_from_dict(json.loads(blob))


def legacy_sessions() -> dict[str, Any]:
    with shelve.open(str(LEGACY_DB), flag="r") as db:
        return {k: db[k] for k in db.keys()}


def migrate_legacy(conn: psycopg.Connection) -> int:
    n = 0
    for sid, msgs in legacy_sessions().items():
        save_session(conn, sid, msgs)
        n += 1
    return n


def archive_session(session_id: str, messages: list[BaseMessage]) -> None:
    with shelve.open(str(WORKDIR / "archive.db"), flag="c") as db:
        db[session_id] = messages_to_dict(messages)

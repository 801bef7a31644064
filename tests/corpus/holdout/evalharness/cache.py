"""Generation cache so re-running a sweep does not re-query paid APIs."""
from __future__ import annotations

import _pickle
import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

DEFAULT_DB = Path.home() / ".cache" / "evalharness" / "generations.sqlite"
TEAM_DB = Path("/shared/evalharness/generations.sqlite")


class GenerationCache:
    def __init__(self, path: Path = DEFAULT_DB, fmt: str = "json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS gen (k TEXT PRIMARY KEY, v BLOB, fmt TEXT)")
        self.fmt = fmt
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, prompt: str, **params: Any) -> str:
        blob = json.dumps({"m": model, "p": prompt, **params}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def get(self, k: str) -> Any | None:
        row = self.conn.execute("SELECT v, fmt FROM gen WHERE k = ?", (k,)).fetchone()
        if row is None:
            return None
        v, fmt = row
        if fmt == "pickle":
            return _pickle.loads(v)
        return json.loads(v)

    def put(self, k: str, value: Any) -> None:
        blob = json.dumps(value).encode()
        with self._lock, self.conn:
            self.conn.execute("INSERT OR REPLACE INTO gen VALUES (?, ?, ?)", (k, blob, "json"))


def team_cache() -> GenerationCache:
    return GenerationCache(TEAM_DB)

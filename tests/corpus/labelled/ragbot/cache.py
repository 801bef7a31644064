"""Answer cache in Redis so repeated questions don't hit the GPU gateway."""
from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import asdict, dataclass
from typing import Optional

import redis

DEFAULT_TTL = 6 * 3600


@dataclass
class CachedAnswer:
    question: str
    answer: str
    sources: list[str]


def _key(tenant: str, question: str) -> str:
    digest = hashlib.sha256(question.strip().lower().encode()).hexdigest()
    return f"ragbot:{tenant}:{digest}"


class AnswerCache:
    def __init__(self, url: str = "redis://localhost:6379/0") -> None:
        self.r = redis.Redis.from_url(url)

    def get(self, tenant: str, question: str) -> Optional[CachedAnswer]:
        raw = self.r.get(_key(tenant, question))
        if raw is None:
            return None
        return pickle.loads(raw)

    def put(self, tenant: str, question: str, value: CachedAnswer, ttl: int = DEFAULT_TTL) -> None:
        self.r.setex(_key(tenant, question), ttl, pickle.dumps(value))


class JsonAnswerCache(AnswerCache):
    """Replacement being rolled out: JSON instead of pickle."""

    def get(self, tenant: str, question: str) -> Optional[CachedAnswer]:
        raw = self.r.get(_key(tenant, question))
        if raw is None:
            return None
        return CachedAnswer(**json.loads(raw))

    def put(self, tenant: str, question: str, value: CachedAnswer, ttl: int = DEFAULT_TTL) -> None:
        self.r.setex(_key(tenant, question), ttl, json.dumps(asdict(value)))

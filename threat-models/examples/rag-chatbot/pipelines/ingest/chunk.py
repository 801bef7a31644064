"""Chunks articles and records provenance (source id and content hash) on every chunk."""

import hashlib


def chunk(article: dict, size: int = 800) -> list[dict]:
    body = article["body"]
    return [
        {
            "text": body[i : i + size],
            "source": article["id"],
            "sha256": hashlib.sha256(body[i : i + size].encode()).hexdigest(),
        }
        for i in range(0, len(body), size)
    ]

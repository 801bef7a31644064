"""Pseudonymises chat transcripts before they become fine-tuning data."""

import hmac
import hashlib
import os

from services.common.pii import mask

_KEY = os.environ["PSEUDONYM_KEY"].encode()


def pseudonymise(record: dict) -> dict:
    user = hmac.new(_KEY, record["user_id"].encode(), hashlib.sha256).hexdigest()[:16]
    return {"user": user, "question": mask(record["question"]), "answer": mask(record["answer"])}

"""Structured audit log: request id, user, model version and a prompt hash (never the prompt)."""

import hashlib
import json
import logging

log = logging.getLogger("audit")


def audit(request_id: str, user_id: str, model: str, prompt: str) -> None:
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    log.info(json.dumps({"request": request_id, "user": user_id, "model": model, "prompt_sha256": digest}))

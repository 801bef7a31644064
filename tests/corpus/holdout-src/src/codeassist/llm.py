"""LLM client wrapper used by every code-assistant feature."""
from __future__ import annotations

import logging
import os
from typing import Iterable

import anthropic
import httpx
from openai import OpenAI

from codeassist.settings import ANTHROPIC_FALLBACK_KEY, FALLBACK_MODEL, settings

log = logging.getLogger(__name__)

# In-cluster gateway (vLLM behind Envoy).
_gateway = OpenAI(  #@ insecure-transport: API key sent to a non-loopback gateway over http (base_url constant from codeassist/settings.py, cross-file)
    base_url=settings.gateway_url,
    api_key=settings.gateway_key.get_secret_value() or "EMPTY",
    timeout=60,
)

# The corporate proxy re-signs TLS; until the CA is in the image we skip verification.
_proxy_http = httpx.Client(verify=False, timeout=30)  #@ tls-disabled: httpx client with verify=False handed to the OpenAI SDK
_public = OpenAI(api_key=os.environ.get("OPENAI_API_KEY"), http_client=_proxy_http)  #@ safe: key from env (TLS issue is on the httpx.Client line)

_internal_http = httpx.Client(verify="/etc/ssl/certs/acme-internal-ca.pem", timeout=30)  #@ safe: verify points at a CA bundle
_internal = OpenAI(base_url="https://llm.acme.internal/v1", api_key=os.environ.get("INTERNAL_LLM_KEY"), http_client=_internal_http)  #@ safe: https, env key
_local = OpenAI(base_url="http://localhost:11434/v1", api_key="ollama")  #@ safe: loopback Ollama, placeholder key
_claude = anthropic.Anthropic(api_key=os.environ.get("ANTHROPIC_API_KEY", ANTHROPIC_FALLBACK_KEY))


def complete(prompt: str, *, system: str = "You are a senior Python engineer.", model: str | None = None) -> str:
    """Single-turn completion; falls back to Claude if the gateway is down."""
    try:
        resp = _gateway.chat.completions.create(
            model=model or settings.completion_model,
            max_tokens=settings.max_tokens,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
        )
        return resp.choices[0].message.content or ""
    except Exception:  # noqa: BLE001
        log.warning("gateway failed, falling back to %s", FALLBACK_MODEL)
        msg = _claude.messages.create(
            model=FALLBACK_MODEL,
            max_tokens=settings.max_tokens,
            system=system,
            messages=[{"role": "user", "content": prompt}],
        )
        return msg.content[0].text


def chat(history: Iterable[dict], *, public: bool = False) -> str:
    client = _public if public else _local
    resp = client.chat.completions.create(model=settings.chat_model, messages=list(history))
    return resp.choices[0].message.content or ""

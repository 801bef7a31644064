"""Chat client used by the API and the ingestion summariser.

Production traffic goes to the shared vLLM gateway, which speaks the OpenAI
protocol. Local development can point at an Ollama instance instead.
"""
from __future__ import annotations

import logging
from typing import Sequence

import httpx
from openai import OpenAI

from ragbot.config import OPENAI_API_KEY, LLM_MODEL

log = logging.getLogger(__name__)

GATEWAY_URL = "http://gpu-gateway.internal.acme-corp.net:8000/v1"  #@ safe: constant definition; the finding is reported at the call that uses it
LOCAL_URL = "http://localhost:11434/v1"  #@ safe: loopback URL constant

SYSTEM_PROMPT = (
    "You are Acme's internal documentation assistant. Answer only from the "
    "provided context. If the answer is not in the context, say you don't know."
)


class ChatClient:
    """Small convenience layer over ``openai.OpenAI``."""

    def __init__(self, model: str = LLM_MODEL, timeout: float = 30.0) -> None:
        # staging gateway still uses the self-signed cert from the old cluster
        self._http = httpx.Client(verify=False, timeout=timeout)  #@ tls: httpx.Client(verify=False) passed to OpenAI as http_client
        self.client = OpenAI(  #@ http: OpenAI base_url is a plain-http non-loopback gateway (API key sent in clear)
            api_key=OPENAI_API_KEY,
            base_url=GATEWAY_URL,
            http_client=self._http,
        )
        self.model = model

    def complete(self, messages: Sequence[dict], temperature: float = 0.1, **kwargs) -> str:
        resp = self.client.chat.completions.create(
            model=self.model,
            messages=list(messages),
            temperature=temperature,
            **kwargs,
        )
        text = resp.choices[0].message.content or ""
        log.debug("llm tokens=%s", resp.usage.total_tokens if resp.usage else "?")
        return text.strip()

    def answer(self, question: str, context: str) -> str:
        return self.complete(
            [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"},
            ]
        )

    def summarise(self, text: str, max_words: int = 80) -> str:
        return self.complete(
            [{"role": "user", "content": f"Summarise in at most {max_words} words:\n\n{text}"}],
            temperature=0.0,
        )


def local_client() -> OpenAI:
    """Client for a developer's local Ollama."""
    return OpenAI(base_url=LOCAL_URL, api_key="ollama")  #@ safe: loopback base_url and placeholder api_key


_default: ChatClient | None = None


def get_client() -> ChatClient:
    global _default
    if _default is None:
        _default = ChatClient()
    return _default

"""Async clients for the vLLM fleet and the embedding service."""
from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
import httpx
from openai import AsyncOpenAI

VLLM_BASE = "http://vllm-0.inference.svc:8000/v1"  #@ safe: constant definition; the finding is reported at the call that uses it
TEI_URL = "https://tei.inference.acme-corp.net/embed"
RERANK_URL = "http://reranker.inference.acme-corp.net/rerank"  #@ safe: constant definition; the finding is reported at the call that uses it


def make_openai(api_key: str = "EMPTY") -> AsyncOpenAI:
    return AsyncOpenAI(base_url=VLLM_BASE, api_key=api_key)  #@ http: OpenAI base_url over plain http to a remote service


def make_secure_openai() -> AsyncOpenAI:
    return AsyncOpenAI(  #@ safe: https base_url, placeholder key for vLLM
        base_url="https://vllm.inference.acme-corp.net/v1",
        api_key="EMPTY",
        http_client=httpx.AsyncClient(verify="/etc/ssl/certs/acme-internal-ca.pem"),
    )


def _insecure_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()  #@ safe: default context (weakened on the next lines, which are labelled)
    ctx.check_hostname = False  #@ tls: check_hostname disabled
    ctx.verify_mode = ssl.CERT_NONE  #@ tls: verify_mode CERT_NONE
    return ctx


async def embed(texts: list[str]) -> list[list[float]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(TEI_URL, json={"inputs": texts}, ssl=False) as resp:  #@ tls: aiohttp request with ssl=False
            resp.raise_for_status()
            return await resp.json()


async def rerank(query: str, docs: list[str]) -> list[dict[str, Any]]:
    conn = aiohttp.TCPConnector(ssl=_insecure_context())
    async with aiohttp.ClientSession(connector=conn) as session:
        async with session.post(RERANK_URL, json={"query": query, "texts": docs}) as resp:  #@ http: rerank API over plain http
            return await resp.json()


async def health() -> bool:
    async with httpx.AsyncClient(verify=False, timeout=5) as client:  #@ tls: httpx.AsyncClient(verify=False)
        r = await client.get("https://vllm.inference.acme-corp.net/health")
        return r.status_code == 200


async def complete(prompt: str) -> str:
    client = make_openai()
    resp = await client.completions.create(model="qwen2.5-7b-instruct", prompt=prompt, max_tokens=256)
    return resp.choices[0].text


if __name__ == "__main__":
    print(asyncio.run(complete("Hello")))

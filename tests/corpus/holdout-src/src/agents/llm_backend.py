"""Model backends for simulated agents (each agent can use a different one)."""
from __future__ import annotations

import asyncio
import os
from typing import Protocol

import aiohttp
import ollama
from mistralai import Mistral
from openai import AsyncOpenAI

MISTRAL_KEY = "{{MISTRAL}}"  #@ hardcoded-secret: Mistral API key literal
REPLICATE_API_TOKEN = os.environ.get("REPLICATE_API_TOKEN", "r8_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")  #@ safe: placeholder default (x-filled)

VLLM_GATEWAY = "https://vllm.sim.internal/v1"  #@ safe: https endpoint
VLLM_NODES = [
    "http://10.40.2.17:8000/v1",
    "http://10.40.2.18:8000/v1",
]


class Backend(Protocol):
    async def act(self, system: str, observation: str) -> str: ...


class OllamaBackend:
    def __init__(self, model: str = "llama3.1:8b", host: str = "http://127.0.0.1:11434"):
        self.client = ollama.AsyncClient(host=host)  #@ safe: loopback Ollama
        self.model = model

    async def act(self, system: str, observation: str) -> str:
        r = await self.client.chat(model=self.model, messages=[
            {"role": "system", "content": system}, {"role": "user", "content": observation}])
        return r["message"]["content"]


class VLLMBackend:
    def __init__(self, node: int = 0, model: str = "meta-llama/Llama-3.1-70B-Instruct"):
        self.client = AsyncOpenAI(base_url=VLLM_NODES[node], api_key=os.environ["VLLM_API_KEY"])  #@ insecure-transport: API key and prompts to a remote vLLM node over http (URL from module list)
        self.model = model

    async def act(self, system: str, observation: str) -> str:
        r = await self.client.chat.completions.create(model=self.model, messages=[
            {"role": "system", "content": system}, {"role": "user", "content": observation}])
        return r.choices[0].message.content or ""


class GatewayBackend(VLLMBackend):
    def __init__(self, model: str = "meta-llama/Llama-3.1-70B-Instruct"):
        self.client = AsyncOpenAI(base_url=VLLM_GATEWAY, api_key=os.environ["VLLM_API_KEY"])  #@ safe: https gateway
        self.model = model


class MistralBackend:
    def __init__(self, model: str = "mistral-large-latest"):
        self.client = Mistral(api_key=MISTRAL_KEY)
        self.model = model

    async def act(self, system: str, observation: str) -> str:
        r = await self.client.chat.complete_async(model=self.model, messages=[
            {"role": "system", "content": system}, {"role": "user", "content": observation}])
        return r.choices[0].message.content


class RawHTTPBackend:
    """Talks to the lab's TGI box directly; it has a self-signed certificate."""

    def __init__(self, url: str = "https://tgi.lab.internal/generate"):
        self.url = url

    async def act(self, system: str, observation: str) -> str:
        conn = aiohttp.TCPConnector(ssl=False)  #@ tls-disabled: aiohttp connector with certificate checks off
        async with aiohttp.ClientSession(connector=conn) as s:
            async with s.post(self.url, json={"inputs": f"{system}\n\n{observation}", "parameters": {"max_new_tokens": 128}}) as r:
                return (await r.json())["generated_text"]


async def smoke() -> None:
    print(await OllamaBackend().act("You are a test.", "Say hi."))


if __name__ == "__main__":
    asyncio.run(smoke())

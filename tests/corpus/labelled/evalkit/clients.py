"""Client factories for the providers evalkit can benchmark.

Keys are always read from the environment; the README documents the names.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import anthropic
import httpx
from openai import OpenAI

CA_BUNDLE = os.environ.get("EVALKIT_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")

# Names only; values come from the environment.
ENV_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "together": "TOGETHER_API_KEY",
}

EXAMPLE_CONFIG = """
# evalkit.toml
[providers.openai]
api_key = "sk-..."          # or set OPENAI_API_KEY
[providers.hf]
token = "hf_xxxxxxxxxxxxxxxxxxxxxxxx"
"""


@dataclass
class Provider:
    name: str
    base_url: str
    model: str


PROVIDERS = {
    "openai": Provider("openai", "https://api.openai.com/v1", "gpt-4o-mini"),
    "together": Provider("together", "https://api.together.xyz/v1", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    "local": Provider("local", "http://localhost:8000/v1", "local-model"),
    "lmstudio": Provider("lmstudio", "http://127.0.0.1:1234/v1", "lmstudio"),
}


def openai_compatible(name: str) -> OpenAI:
    p = PROVIDERS[name]
    key = os.environ.get(ENV_KEYS.get(name, ""), "EMPTY")
    return OpenAI(base_url=p.base_url, api_key=key, http_client=httpx.Client(verify=CA_BUNDLE, timeout=60))


def claude() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])


def ipv6_local() -> OpenAI:
    return OpenAI(base_url="http://[::1]:8000/v1", api_key="EMPTY")

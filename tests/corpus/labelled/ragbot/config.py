"""Runtime configuration for ragbot.

Settings are read from ``config/ragbot.yaml`` and can be overridden by
environment variables, so the same container image runs in staging and prod.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml import load as yl, FullLoader

CONFIG_PATH = Path(os.environ.get("RAGBOT_CONFIG", "config/ragbot.yaml"))
PROMPT_PACK_DIR = Path(os.environ.get("RAGBOT_PROMPTS", "config/prompts"))

# Fallback key for the on-prem demo box; production injects it from Vault.
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "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")
COHERE_API_KEY = os.getenv("COHERE_API_KEY", "")
LANGCHAIN_API_KEY = "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"

EMBEDDING_MODEL = "BAAI/bge-large-en-v1.5"
RERANK_MODEL = "cross-encoder/ms-marco-MiniLM-L-6-v2"
LLM_MODEL = "gpt-4o-mini"


@dataclass
class Settings:
    """All tunables of the retrieval pipeline."""

    index_dir: Path = Path("data/faiss_index")
    docs_dir: Path = Path("data/docs")
    sqlite_path: Path = Path("data/warehouse.db")
    chunk_size: int = 800
    chunk_overlap: int = 120
    top_k: int = 6
    rerank_top_n: int = 3
    llm_model: str = LLM_MODEL
    temperature: float = 0.1
    redis_url: str = "redis://localhost:6379/0"
    extra: dict[str, Any] = field(default_factory=dict)


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open("r", encoding="utf-8") as fh:
        return yaml.load(fh, Loader=yaml.SafeLoader) or {}


def load_prompt_pack(name: str) -> dict[str, Any]:
    """Prompt packs are written by the content team and use custom tags."""
    path = PROMPT_PACK_DIR / f"{name}.yaml"
    with path.open("r", encoding="utf-8") as fh:
        pack = yl(fh, Loader=FullLoader)
    if not isinstance(pack, dict):
        raise ValueError(f"prompt pack {name!r} is not a mapping")
    return pack


def load_settings(path: Path = CONFIG_PATH) -> Settings:
    raw = _read_yaml(path) if path.exists() else {}
    settings = Settings()
    for key, value in raw.items():
        if hasattr(settings, key):
            current = getattr(settings, key)
            setattr(settings, key, type(current)(value) if current is not None else value)
        else:
            settings.extra[key] = value
    if "RAGBOT_TOP_K" in os.environ:
        settings.top_k = int(os.environ["RAGBOT_TOP_K"])
    return settings


def dump_settings(settings: Settings) -> str:
    data = {k: str(v) if isinstance(v, Path) else v for k, v in settings.__dict__.items()}
    return yaml.safe_dump(data, sort_keys=True)

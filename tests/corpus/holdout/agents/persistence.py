"""Checkpointing of simulation state and agent memories."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dill
import jsonpickle
from langchain_community.vectorstores import FAISS
from langchain_core.load import dumpd, load, loads
from langchain_huggingface import HuggingFaceEmbeddings

SNAPSHOT_DIR = Path("snapshots")
MEMORY_DIR = Path("/shared/sim-memories")

embeddings = HuggingFaceEmbeddings(
    model_name="sentence-transformers/all-mpnet-base-v2",
    model_kwargs={"device": "cpu"},
)


def save_world(world: Any, tick: int) -> Path:
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    path = SNAPSHOT_DIR / f"world-{tick:05d}.dill"
    with path.open("wb") as fh:
        dill.dump(world, fh, recurse=True)
    return path


def load_world(path: Path) -> Any:
    with path.open("rb") as fh:
        return dill.load(fh)


def save_agent_state(agent: Any, path: Path) -> None:
    path.write_text(json.dumps({"name": agent.name, "x": agent.x, "y": agent.y, "inventory": agent.inventory}))


def restore_agent_state(blob: str) -> Any:
    return jsonpickle.decode(blob)


def agent_memory(agent_name: str) -> FAISS:
    return FAISS.load_local(
        str(MEMORY_DIR / agent_name),
        embeddings,
        allow_dangerous_deserialization=True,
    )


def new_memory(texts: list[str]) -> FAISS:
    return FAISS.from_texts(texts, embeddings)


def export_chain(chain: Any) -> str:
    return json.dumps(dumpd(chain))


def import_chain(payload: str) -> Any:
    return loads(payload, secrets_from_env=True)


def import_chain_restricted(payload: str, allowed: list[type]) -> Any:
    return load(json.loads(payload), allowed_objects=allowed, secrets_from_env=False)

"""Benchmark loading: pinned Hub datasets and local JSONL/parquet files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import load_dataset, load_from_disk

GSM8K_REV = "@@KEY:sha@@"  #@ safe: high-entropy hex digest (commit sha / sha256), not a secret
MMLU_REV = "@@KEY:sha@@"  #@ safe: high-entropy hex digest (commit sha / sha256), not a secret


def gsm8k(split: str = "test"):
    return load_dataset("openai/gsm8k", "main", split=split, revision=GSM8K_REV)  #@ safe: pinned revision


def mmlu(subject: str):
    return load_dataset("cais/mmlu", subject, split="test", revision=MMLU_REV)  #@ safe: pinned revision


def local_jsonl(path: str | Path) -> list[dict]:
    return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]  #@ safe: json


def local_parquet(path: str | Path):
    return load_dataset("parquet", data_files=str(path), split="train")  #@ safe: packaged parquet builder


def cached(path: str | Path):
    return load_from_disk(str(path))  #@ safe: Arrow dataset on disk


def cached_logits(path: str | Path) -> np.ndarray:
    return np.load(path, mmap_mode="r")  #@ safe: np.load without allow_pickle


def cached_hidden_states(path: str | Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)  #@ safe: weights_only=True


def results_frame(path: str | Path) -> pd.DataFrame:
    return pd.read_json(path, lines=True)  #@ safe: JSON lines


def save_results(df: pd.DataFrame, path: str | Path) -> None:
    df.to_parquet(path, index=False)  #@ safe: parquet

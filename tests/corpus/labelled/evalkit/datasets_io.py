"""Benchmark loading: pinned Hub datasets and local JSONL/parquet files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import load_dataset, load_from_disk

GSM8K_REV = "7c872bf7e24debfa6ee145ba6dbed084a6ec3cdc"
MMLU_REV = "8a7af3dd9146564df30406573afa637fb5783b65"


def gsm8k(split: str = "test"):
    return load_dataset("openai/gsm8k", "main", split=split, revision=GSM8K_REV)


def mmlu(subject: str):
    return load_dataset("cais/mmlu", subject, split="test", revision=MMLU_REV)


def local_jsonl(path: str | Path) -> list[dict]:
    return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]


def local_parquet(path: str | Path):
    return load_dataset("parquet", data_files=str(path), split="train")


def cached(path: str | Path):
    return load_from_disk(str(path))


def cached_logits(path: str | Path) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def cached_hidden_states(path: str | Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)


def results_frame(path: str | Path) -> pd.DataFrame:
    return pd.read_json(path, lines=True)


def save_results(df: pd.DataFrame, path: str | Path) -> None:
    df.to_parquet(path, index=False)

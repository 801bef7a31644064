"""Benchmark dataset loaders."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from datasets import Dataset, load_dataset

GSM8K_REV = "cb6de0703b4ab7ed013e50181d960e9558c1530a"


@dataclass
class Task:
    name: str
    loader: Callable[[], Dataset]
    prompt_key: str
    answer_key: str


def gsm8k() -> Dataset:
    return load_dataset("openai/gsm8k", "main", split="test", revision=GSM8K_REV)


def humaneval() -> Dataset:
    return load_dataset("openai/openai_humaneval", split="test")


def mbpp(sanitized: bool = True) -> Dataset:
    return load_dataset("google-research-datasets/mbpp", "sanitized" if sanitized else "full", split="test", revision="main")


def truthfulqa() -> Dataset:
    return load_dataset(
        "truthfulqa/truthful_qa",
        "multiple_choice",
        split="validation",
        trust_remote_code=True,
    )


def local_jsonl(path: str) -> Dataset:
    return load_dataset("json", data_files=path, split="train")


def internal_regression_suite(path: str = "data/regressions.parquet") -> Dataset:
    return load_dataset("parquet", data_files={"test": path}, split="test")


def from_disk(path: str) -> Dataset:
    from datasets import load_from_disk

    return load_from_disk(path)


TASKS: dict[str, Task] = {
    "gsm8k": Task("gsm8k", gsm8k, "question", "answer"),
    "humaneval": Task("humaneval", humaneval, "prompt", "canonical_solution"),
    "mbpp": Task("mbpp", mbpp, "prompt", "code"),
    "truthfulqa": Task("truthfulqa", truthfulqa, "question", "mc1_targets"),
}


def get(name: str, **overrides: Any) -> Task:
    task = TASKS[name]
    for k, v in overrides.items():
        setattr(task, k, v)
    return task

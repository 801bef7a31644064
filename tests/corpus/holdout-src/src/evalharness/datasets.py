"""Benchmark dataset loaders."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from datasets import Dataset, load_dataset

GSM8K_REV = "{{SHA}}"  #@ safe: commit sha


@dataclass
class Task:
    name: str
    loader: Callable[[], Dataset]
    prompt_key: str
    answer_key: str


def gsm8k() -> Dataset:
    return load_dataset("openai/gsm8k", "main", split="test", revision=GSM8K_REV)  #@ safe: pinned revision (config name "main" is not a revision)


def humaneval() -> Dataset:
    return load_dataset("openai/openai_humaneval", split="test")  #@ unpinned-model: hub dataset without revision


def mbpp(sanitized: bool = True) -> Dataset:
    return load_dataset("google-research-datasets/mbpp", "sanitized" if sanitized else "full", split="test", revision="main")  #@ unpinned-model: revision is the main branch


def truthfulqa() -> Dataset:
    return load_dataset(  #@ remote-code-trust: dataset loading script executed via trust_remote_code=True #@ unpinned-model: no revision
        "truthfulqa/truthful_qa",
        "multiple_choice",
        split="validation",
        trust_remote_code=True,
    )


def local_jsonl(path: str) -> Dataset:
    return load_dataset("json", data_files=path, split="train")  #@ safe: packaged json builder with local files


def internal_regression_suite(path: str = "data/regressions.parquet") -> Dataset:
    return load_dataset("parquet", data_files={"test": path}, split="test")  #@ safe: local parquet


def from_disk(path: str) -> Dataset:
    from datasets import load_from_disk

    return load_from_disk(path)  #@ safe: Arrow dataset saved locally


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

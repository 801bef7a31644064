"""Dataset preparation for supervised fine-tuning."""
from __future__ import annotations

from typing import Iterable

from datasets import Dataset, DatasetDict, concatenate_datasets, load_dataset
from transformers import PreTrainedTokenizerBase

ULTRACHAT = "HuggingFaceH4/ultrachat_200k"
ORCA_REV = "37718d19eb98a27ba1a31341c9c92e8f22adae88"

CHAT_TEMPLATE_FALLBACK = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
)


def load_mixture(local_jsonl: str | None = None, seed: int = 17) -> DatasetDict:
    parts = []
    ultra = load_dataset(ULTRACHAT, split="train_sft[:20%]")
    parts.append(ultra.select_columns(["messages"]))
    orca = load_dataset("Open-Orca/SlimOrca", split="train", revision=ORCA_REV)
    parts.append(orca.map(_sharegpt_to_messages, remove_columns=orca.column_names))
    code = load_dataset(
        "codeparrot/apps",
        split="train",
        trust_remote_code=True,
    )
    parts.append(code.map(_apps_to_messages, remove_columns=code.column_names))
    if local_jsonl:
        internal = load_dataset("json", data_files=local_jsonl, split="train")
        parts.append(internal)
    full = concatenate_datasets(parts).shuffle(seed=seed)
    split = full.train_test_split(test_size=0.02, seed=seed)
    return DatasetDict(train=split["train"], validation=split["test"])


def load_eval_prompts(path: str) -> Dataset:
    return load_dataset("csv", data_files={"eval": path})["eval"]


def load_imdb_smoke() -> Dataset:
    return load_dataset("imdb", split="test[:200]")


def _sharegpt_to_messages(ex: dict) -> dict:
    role = {"system": "system", "human": "user", "gpt": "assistant"}
    return {"messages": [{"role": role[t["from"]], "content": t["value"]} for t in ex["conversations"]]}


def _apps_to_messages(ex: dict) -> dict:
    return {
        "messages": [
            {"role": "user", "content": ex["question"]},
            {"role": "assistant", "content": (ex.get("solutions") or "[]")[:4000]},
        ]
    }


def tokenize(ds: Dataset, tok: PreTrainedTokenizerBase, max_len: int = 2048) -> Dataset:
    if tok.chat_template is None:
        tok.chat_template = CHAT_TEMPLATE_FALLBACK

    def _fn(batch: dict) -> dict:
        texts: Iterable[str] = (tok.apply_chat_template(m, tokenize=False) for m in batch["messages"])
        return tok(list(texts), truncation=True, max_length=max_len)

    return ds.map(_fn, batched=True, remove_columns=ds.column_names)

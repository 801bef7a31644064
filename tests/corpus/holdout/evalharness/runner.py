"""Run a model over a benchmark and collect generations + scores."""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from evalharness import datasets as ds
from evalharness.metrics import score_math

DEFAULT_MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct"


def load_model(name: str, revision: str | None = None, remote_code: bool = False, dtype: str = "bfloat16"):
    kwargs: dict[str, Any] = {"torch_dtype": getattr(torch, dtype), "device_map": "auto"}
    if revision:
        kwargs["revision"] = revision
    if remote_code:
        kwargs["trust_remote_code"] = True
    tok = AutoTokenizer.from_pretrained(name, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    return tok, model


def load_reference_tokenizer():
    return AutoTokenizer.from_pretrained(
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        revision="e81c1aad236d31def0b9d2993134b65ab3adf32b",
        trust_remote_code=False,
    )


def _run_candidate(program: str, queue: mp.Queue) -> None:
    try:
        exec(program, {"__name__": "__candidate__"})
        queue.put("passed")
    except BaseException as e:  # noqa: BLE001
        queue.put(f"failed: {type(e).__name__}")


def check_correctness(problem: dict, completion: str, timeout: float = 3.0) -> str:
    program = problem["prompt"] + completion + "\n" + problem["test"] + f"\ncheck({problem['entry_point']})\n"
    q: mp.Queue = mp.Queue()
    p = mp.Process(target=_run_candidate, args=(program, q))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        return "timed out"
    return q.get() if not q.empty() else "failed: no result"


@torch.inference_mode()
def generate(tok, model, prompts: list[str], max_new_tokens: int = 512) -> list[str]:
    gen = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False)
    outs = []
    for p in prompts:
        ids = tok(p, return_tensors="pt").to(model.device)
        out = model.generate(**ids, generation_config=gen)
        outs.append(tok.decode(out[0, ids.input_ids.shape[1]:], skip_special_tokens=True))
    return outs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--revision")
    ap.add_argument("--remote-code", action="store_true")
    ap.add_argument("--task", default="humaneval", choices=sorted(ds.TASKS))
    ap.add_argument("--out", type=Path, default=Path("runs"))
    args = ap.parse_args()

    tok, model = load_model(args.model, args.revision, args.remote_code)
    task = ds.get(args.task)
    data = task.loader()
    gens = generate(tok, model, [row[task.prompt_key] for row in data])
    results = []
    for row, g in zip(data, gens):
        if args.task == "humaneval":
            status = check_correctness(row, g)
        else:
            status = score_math(g, row[task.answer_key])
        results.append({"prompt": row[task.prompt_key], "generation": g, "status": status})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.task}.jsonl").write_text("\n".join(json.dumps(r) for r in results))


if __name__ == "__main__":
    main()

"""Functional-correctness eval on HumanEval-style problems.

Completions come from the fine-tuned model served by vLLM; each completion is
executed against the problem's unit tests.
"""
from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import multiprocessing as mp
import signal
from pathlib import Path

import requests

VLLM_URL = "http://10.20.4.11:8000/v1/completions"  #@ safe: constant definition; the finding is reported at the call that uses it
LOCAL_VLLM = "http://127.0.0.1:8000/v1/completions"  #@ safe: loopback URL constant


class TimeoutException(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    def handler(signum, frame):
        raise TimeoutException("timed out")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def complete(prompt: str, model: str, url: str = VLLM_URL, max_tokens: int = 512) -> str:
    r = requests.post(  #@ http: completions API over plain http to a non-loopback host (default parameter)
        url,
        json={"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stop": ["\ndef ", "\nclass "]},
        timeout=120,
    )
    r.raise_for_status()
    return r.json()["choices"][0]["text"]


def complete_local(prompt: str, model: str) -> str:
    return complete(prompt, model, url=LOCAL_VLLM)


def _run(program: str, result: list) -> None:
    faulthandler.disable()
    try:
        globs: dict = {}
        with contextlib.redirect_stdout(io.StringIO()), time_limit(5.0):
            exec(program, globs)  #@ exec: model-generated completion executed with exec
        result.append("passed")
    except TimeoutException:
        result.append("timed out")
    except BaseException as e:  # noqa: BLE001
        result.append(f"failed: {e}")


def check(problem: dict, completion: str) -> str:
    program = problem["prompt"] + completion + "\n" + problem["test"] + f"\ncheck({problem['entry_point']})\n"
    manager = mp.Manager()
    result = manager.list()
    p = mp.Process(target=_run, args=(program, result))
    p.start()
    p.join(timeout=10)
    if p.is_alive():
        p.kill()
    return result[0] if result else "timed out"


def run(problems_path: Path, model: str, out: Path) -> float:
    problems = [json.loads(l) for l in problems_path.read_text().splitlines() if l.strip()]
    passed = 0
    with out.open("w") as fh:
        for prob in problems:
            comp = complete(prob["prompt"], model)
            status = check(prob, comp)
            passed += status == "passed"
            fh.write(json.dumps({"task_id": prob["task_id"], "status": status}) + "\n")
    return passed / max(len(problems), 1)


if __name__ == "__main__":
    import sys

    print(f"pass@1 = {run(Path(sys.argv[1]), sys.argv[2], Path('humaneval_results.jsonl')):.3f}")

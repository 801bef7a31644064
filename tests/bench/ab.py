#!/usr/bin/env python3
"""Compares two builds of threatlens on one corpus: runs them alternately, round after round, and
prints the medians and the paired ratio (B's time over A's in the same round).

The virtual machine's speed drifts by 10–20% over minutes, more than most single changes gain,
so two builds are only comparable side by side. For a steadier figure still, count instructions
with callgrind on a fixed set of files (see README.md).

    cp target/release/threatlens /tmp/threatlens-before   # before the change
    cargo build --release -p threatlens                    # after it
    python3 tests/bench/ab.py /tmp/threatlens-before target/release/threatlens \\
        ~/.cache/threatlens-bench/corpora/langchain-core-1.1.0 --rounds 20
"""

import argparse
import os
import statistics
import subprocess
import time


def run(binary: str, corpus: str, parse_only: bool) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys) of one `threatlens check` (or `parse-only`) of `corpus`."""
    command = ["parse-only", corpus] if parse_only else ["check", corpus, "--format", "json", "-o", os.devnull]
    start = time.perf_counter()
    process = subprocess.Popen(
        [binary, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the threatlens binary to compare against")
    parser.add_argument("b", help="the threatlens binary under test")
    parser.add_argument("corpus", help="a directory to check")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--parse-only", action="store_true", help="time the parse-only floor instead of check")
    args = parser.parse_args()
    samples = {"a": [], "b": []}
    for _ in range(args.rounds):
        for name in ("a", "b"):
            samples[name].append(run(getattr(args, name), args.corpus, args.parse_only))
    for index, measure in enumerate(("wall", "cpu")):
        a = [s[index] for s in samples["a"]]
        b = [s[index] for s in samples["b"]]
        paired = [y / x for x, y in zip(a, b)]
        print(
            f"{measure}: A {statistics.median(a):.3f} s, B {statistics.median(b):.3f} s, "
            f"B/A paired {statistics.median(paired):.3f} [{min(paired):.3f}–{max(paired):.3f}]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

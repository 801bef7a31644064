#!/usr/bin/env python3
"""Benchmark harness: threatlens against real corpora and peers, side by side.

Fetches pinned PyPI wheels into a cache outside the repository (default
~/.cache/threatlens-bench), unpacks them once, and measures, over several runs each, the wall
time, CPU time and peak RSS of:

  - `threatlens check` (release build),
  - `threatlens parse-only` (walk + tree-sitter parse, no analysis: the floor),
  - `ruff check --select S`, and with --slow-peers `bandit -r` and `semgrep scan` with the
    pattern rules in tests/bench/semgrep-rules.yml, when installed (a venv with pinned versions
    is created in the cache by --install-peers). The slow peers run once per corpus.

Results print as Markdown tables (medians, with min–max spread) with ratios against the
parse-only floor, against ruff and against `threatlens check`, all measured in the same run.
Nothing here is a test: the tables are copied into BENCHMARKS.md.

    python3 tests/bench/run.py --install-peers            # once
    python3 tests/bench/run.py --runs 5                   # transformers, threatlens vs floor vs ruff
    python3 tests/bench/run.py --corpus all --slow-peers  # every corpus, bandit and semgrep too
    python3 tests/bench/run.py --corpus openai --single-files  # one-file checks (pre-commit)
    python3 tests/bench/run.py --corpus all --first-line  # when the text report's first line comes
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("THREATLENS_BENCH_CACHE", Path.home() / ".cache" / "threatlens-bench"))

# Pinned corpora: (name, PyPI requirement). Wheels hold the library code (no tests).
CORPORA = {
    "transformers": "transformers==5.24.0",
    "langchain-community": "langchain-community==0.4.1",
    "langchain-core": "langchain-core==1.1.0",
    "openai": "openai==2.8.1",
}
PEERS = ["ruff==0.17.6", "bandit==1.9.4", "semgrep==1.185.0"]
SEMGREP_RULES = REPO / "tests" / "bench" / "semgrep-rules.yml"


def fetch(name: str, requirement: str) -> Path:
    """Downloads and unpacks the wheel once; returns the unpacked directory."""
    target = CACHE / "corpora" / requirement.replace("==", "-")
    if target.exists():
        return target
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", requirement, "-d", str(wheels)],
        check=True,
    )
    version = requirement.split("==")[1]
    stem = name.replace("-", "_")
    wheel = next(w for w in wheels.glob(f"{stem}-{version}-*.whl"))
    tmp = target.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp)
    tmp.rename(target)
    return target


def install_peers() -> None:
    venv = CACHE / "venv"
    if not venv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEERS], check=True)


def peer(name: str) -> str | None:
    candidate = CACHE / "venv" / "bin" / name
    return str(candidate) if candidate.exists() else shutil.which(name)


def run_once(command: list[str], env: dict | None = None) -> dict:
    """Wall, CPU (user+sys, children included) and peak RSS of one run of `command`."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    _, _, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def summarise(samples: list[dict]) -> dict:
    """Median, min and max of each measure; the samples themselves under "runs"."""
    summary = {
        key: (statistics.median(s[key] for s in samples), min(s[key] for s in samples), max(s[key] for s in samples))
        for key in ("wall", "cpu", "rss_mb")
    }
    summary["runs"] = samples
    return summary


def measure(command: list[str], runs: int, env: dict | None = None) -> dict:
    """Runs `command` `runs` times."""
    return summarise([run_once(command, env) for _ in range(runs)])


def measure_rounds(commands: dict[str, list[str]], runs: int) -> dict[str, dict]:
    """Runs every command once per round, `runs` rounds: the virtual machine's speed drifts over
    minutes, and interleaving spreads the drift over all of them alike (see `paired_ratio`)."""
    samples: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run_once(command))
    return {name: summarise(runs) for name, runs in samples.items()}


def paired_ratio(ours: dict, theirs: dict) -> str:
    """Our wall time over theirs in the same round: median [min–max] over rounds."""
    ratios = [a["wall"] / b["wall"] for a, b in zip(ours["runs"], theirs["runs"])]
    return f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]"


def first_line(command: list[str], runs: int) -> tuple[float, float]:
    """Median seconds to the first line `command` writes to a pipe, and to its end."""
    firsts, wholes = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert process.stdout is not None
        first = None
        for _line in process.stdout:
            first = first or time.perf_counter() - start
        process.wait()
        wholes.append(time.perf_counter() - start)
        firsts.append(first or wholes[-1])
    return statistics.median(firsts), statistics.median(wholes)


def semgrep_rule_count() -> int:
    return sum(1 for line in SEMGREP_RULES.read_text().splitlines() if line.startswith("  - id:"))


def corpus_size(root: Path) -> tuple[int, int, int]:
    files = lines = size = 0
    for path in root.rglob("*.py"):
        files += 1
        data = path.read_bytes()
        size += len(data)
        lines += data.count(b"\n")
    return files, lines, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="transformers", help="a corpus name or 'all'")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow-peers", action="store_true", help="also run bandit and semgrep (minutes per corpus)")
    parser.add_argument("--install-peers", action="store_true", help="create the pinned ruff/bandit/semgrep venv")
    parser.add_argument("--no-build", action="store_true", help="use the existing release binary")
    parser.add_argument(
        "--single-files", action="store_true", help="also time one-file checks (what a pre-commit hook runs)"
    )
    parser.add_argument(
        "--first-line", action="store_true", help="also time the first line of the text report (it streams)"
    )
    args = parser.parse_args()

    if args.install_peers:
        install_peers()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "threatlens"], cwd=REPO, check=True)
    threatlens = str(REPO / "target" / "release" / "threatlens")

    names = list(CORPORA) if args.corpus == "all" else [args.corpus]
    print(f"machine: {os.cpu_count()} CPUs; {subprocess.run(['uname', '-srm'], capture_output=True, text=True).stdout.strip()}")
    print(f"threatlens: {subprocess.run([threatlens, '--version'], capture_output=True, text=True).stdout.strip()}")
    for name in names:
        root = fetch(name, CORPORA[name])
        files, lines, size = corpus_size(root)
        print(f"\n### {CORPORA[name]} — {files} Python files, {lines:,} lines, {size / 1e6:.1f} MB ({args.runs} runs, median [min–max])\n")
        fast = {
            "threatlens check": [threatlens, "check", str(root), "--format", "json", "-o", os.devnull],
            "threatlens parse-only (floor)": [threatlens, "parse-only", str(root)],
        }
        ruff = peer("ruff")
        if ruff:
            fast["ruff check --select S"] = [ruff, "check", "--select", "S", "--no-cache", "--exit-zero", "--quiet", str(root)]
        rows = measure_rounds(fast, args.runs)
        bandit, semgrep = peer("bandit"), peer("semgrep")
        if args.slow_peers and bandit:
            rows["bandit -r"] = measure([bandit, "-r", "-q", "-f", "json", "-o", os.devnull, str(root)], 1)
        if args.slow_peers and semgrep:
            rows[f"semgrep scan ({semgrep_rule_count()} pattern rules)"] = measure(
                [semgrep, "scan", "--config", str(SEMGREP_RULES), "--metrics=off", "--disable-version-check",
                 "--no-git-ignore", "--jobs", str(os.cpu_count()), "--quiet", "--json", "-o", os.devnull, str(root)],
                1,
                env={"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"},
            )
        floor = rows["threatlens parse-only (floor)"]["wall"][0]
        ours = rows["threatlens check"]["wall"][0]
        paired = [f"× floor {paired_ratio(rows['threatlens check'], rows['threatlens parse-only (floor)'])}"]
        if ruff:
            paired.append(f"× ruff {paired_ratio(rows['threatlens check'], rows['ruff check --select S'])}")
        ruff_wall = rows.get("ruff check --select S", {}).get("wall", (None,))[0]
        print("| tool | wall (s) | CPU (s) | peak RSS (MB) | files/s | MB/s | × floor | × ruff | × threatlens check |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for tool, m in rows.items():
            wall, lo, hi = m["wall"]
            spread = f" [{lo:.2f}–{hi:.2f}]" if len(m["runs"]) > 1 else ""
            ratio_ruff = f"{wall / ruff_wall:.2f}" if ruff_wall else "–"
            print(
                f"| {tool} | {wall:.2f}{spread} | {m['cpu'][0]:.2f} | {m['rss_mb'][0]:.0f} | "
                f"{files / wall:,.0f} | {size / 1e6 / wall:.1f} | {wall / floor:.2f} | {ratio_ruff} | {wall / ours:.1f} |"
            )
        print(f"\n`threatlens check` paired with the others run by run: {', '.join(paired)}")
        if args.first_line:
            first, whole = first_line([threatlens, "check", str(root)], args.runs)
            print(f"\nThe text report's first line after {first:.3f} s, the whole of it after {whole:.3f} s (median)")
    if args.single_files:
        single_files(threatlens, fetch("transformers", CORPORA["transformers"]), max(args.runs, 20))
    return 0


def single_files(threatlens: str, corpus: Path, runs: int) -> None:
    """One-file checks, where start-up (reading the rule catalogue) counts: a six-line file and
    the corpus's largest file, beside ruff on the same files."""
    largest = max(corpus.rglob("*.py"), key=lambda path: path.stat().st_size)
    small = CACHE / "single-file" / "small.py"
    small.parent.mkdir(parents=True, exist_ok=True)
    small.write_text("import yaml\n\n\ndef load(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n")
    ruff = peer("ruff")
    print(f"\n### One file ({runs} runs, median [min–max])\n")
    print("| file | threatlens check (ms) | threatlens parse-only (ms) | ruff check --select S (ms) |")
    print("| --- | --- | --- | --- |")
    for path in (small, largest):
        cells = []
        for command in (
            [threatlens, "check", str(path), "--format", "json", "-o", os.devnull],
            [threatlens, "parse-only", str(path)],
            [ruff, "check", "--select", "S", "--no-cache", "--exit-zero", "--quiet", str(path)] if ruff else None,
        ):
            if command is None:
                cells.append("–")
                continue
            wall, lo, hi = measure(command, runs)["wall"]
            cells.append(f"{wall * 1000:.1f} [{lo * 1000:.1f}–{hi * 1000:.1f}]")
        name = path.name if path == small else f"{path.relative_to(corpus)} ({path.stat().st_size // 1024} KB)"
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Convert legacy ``.bin`` / ``.pt`` checkpoints to safetensors.

This script is meant to be run once, in a throwaway container, on
checkpoints we produced ourselves.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import save_file


def convert(src: Path, dst: Path, trusted: bool) -> int:
    if trusted:
        state = torch.load(src, map_location="cpu", weights_only=False)
    else:
        state = torch.load(src, map_location="cpu", weights_only=True)
    if "state_dict" in state:
        state = state["state_dict"]
    tensors = {k: v.contiguous() for k, v in state.items() if isinstance(v, torch.Tensor)}
    save_file(tensors, str(dst), metadata={"source": src.name})
    return len(tensors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("converted"))
    ap.add_argument("--trusted", action="store_true", help="allow full unpickling for old checkpoints")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {}
    for src in args.inputs:
        dst = args.out / (src.stem + ".safetensors")
        report[src.name] = convert(src, dst, args.trusted)
        print(f"{src} -> {dst} ({report[src.name]} tensors)")
    (args.out / "report.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

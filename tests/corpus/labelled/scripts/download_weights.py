#!/usr/bin/env python3
"""Fetch model weights for the on-prem inference boxes.

Reads ``models.txt`` (one ``name url sha256`` per line) and downloads into
``--dest``. GGUF files come from the internal mirror, everything else from
the Hub.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import ssl
import sys
import urllib.request
from pathlib import Path
from urllib.request import urlretrieve

import requests
from huggingface_hub import hf_hub_download

MIRROR = "http://mirror.ml.acme-corp.net/gguf"
LLAMA_GGUF = f"{MIRROR}/llama-3.1-8b-instruct.Q4_K_M.gguf"
EMBED_ONNX = "http://models.acme-corp.net/onnx/bge-small-en-v1.5.onnx"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_gguf(dest: Path) -> Path:
    out = dest / Path(LLAMA_GGUF).name
    urlretrieve(LLAMA_GGUF, out)
    return out


def fetch_onnx(dest: Path) -> Path:
    out = dest / "bge-small.onnx"
    with requests.get(EMBED_ONNX, stream=True, timeout=60) as r:
        r.raise_for_status()
        with out.open("wb") as fh:
            shutil.copyfileobj(r.raw, fh)
    return out


def fetch_listed(listing: Path, dest: Path, insecure: bool = False) -> None:
    ctx = ssl._create_unverified_context() if insecure else None
    for line in listing.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, url, digest = line.split()
        out = dest / name
        with urllib.request.urlopen(url, context=ctx) as resp, out.open("wb") as fh:
            shutil.copyfileobj(resp, fh)
        if sha256(out) != digest:
            out.unlink()
            raise SystemExit(f"checksum mismatch for {name}")


def fetch_hub(dest: Path) -> list[str]:
    files = []
    for repo, fname in [
        ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral-7b-instruct-v0.2.Q4_K_M.gguf"),
        ("BAAI/bge-reranker-base", "model.safetensors"),
    ]:
        files.append(hf_hub_download(repo_id=repo, filename=fname, local_dir=dest))
    return files


def fetch_tokenizer(dest: Path) -> str:
    return hf_hub_download(
        "BAAI/bge-small-en-v1.5",
        "tokenizer.json",
        revision="074ff184a6d164a3a47929c47bb11d677867bf7e",
        local_dir=dest,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", type=Path, default=Path("/opt/models"))
    ap.add_argument("--listing", type=Path, default=Path("models.txt"))
    ap.add_argument("--insecure", action="store_true", help="skip TLS verification (lab network)")
    args = ap.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    fetch_gguf(args.dest)
    fetch_onnx(args.dest)
    fetch_hub(args.dest)
    fetch_tokenizer(args.dest)
    if args.listing.exists():
        fetch_listed(args.listing, args.dest, args.insecure)
    print("docs: http://wiki.acme-corp.net/ml/model-mirror")
    return 0


if __name__ == "__main__":
    sys.exit(main())

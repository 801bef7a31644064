"""Merge a LoRA adapter into the base weights and publish for serving.

The merged model is written to the shared NFS volume the vLLM pods mount.
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import torch
from peft import PeftModel

from finetune.model_utils import BASE_MODEL, BASE_REVISION, load_base_model, load_tokenizer

SERVING_ROOT = "/nfs/models/serving"  #@ safe: constant definition; the finding is reported at the call that uses it
STAGING = Path("/mnt/shared/llm-staging")  #@ safe: constant definition; the finding is reported at the call that uses it


def merge(adapter_dir: str) -> torch.nn.Module:
    base = load_base_model(quantise=False)
    model = PeftModel.from_pretrained(base, adapter_dir)  #@ safe: adapter from local directory variable
    return model.merge_and_unload()


def publish(model: torch.nn.Module, name: str) -> str:
    out = os.path.join(SERVING_ROOT, name)
    model.save_pretrained(out, max_shard_size="4GB")  #@ unenc: merged weights written to shared /nfs mount
    tok = load_tokenizer(BASE_MODEL, revision=BASE_REVISION)
    tok.save_pretrained(out)  #@ unenc: tokenizer files written into the shared /nfs serving directory
    return out


def stage_for_review(model: torch.nn.Module, name: str) -> Path:
    dst = STAGING / name
    dst.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), dst / "pytorch_model.bin")  #@ unenc: weights written to /mnt/shared staging (state_dict itself is fine)
    return dst


def keep_local_copy(model: torch.nn.Module, name: str) -> Path:
    dst = Path.home() / ".cache" / "acme-merged" / name
    model.save_pretrained(dst)  #@ safe: private home directory, safetensors default
    return dst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter_dir")
    ap.add_argument("--name", required=True)
    ap.add_argument("--stage-only", action="store_true")
    args = ap.parse_args()
    merged = merge(args.adapter_dir)
    if args.stage_only:
        print(stage_for_review(merged, args.name))
        return
    out = publish(merged, args.name)
    shutil.copy(os.path.join(args.adapter_dir, "adapter_config.json"), out)
    print(f"published to {out}")


if __name__ == "__main__":
    main()

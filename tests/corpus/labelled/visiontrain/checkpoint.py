"""Checkpoint helpers shared by training and evaluation."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import dill
import torch as th
from safetensors.torch import load_file, save_file
from torch import load as tload

CKPT_ROOT = Path(os.environ.get("CKPT_ROOT", "checkpoints"))
SHARED_ROOT = Path("/mnt/shared/vision/checkpoints")

_cpu_load = functools.partial(th.load, map_location="cpu")
_safe_load = functools.partial(th.load, map_location="cpu", weights_only=True)


def save_checkpoint(model: th.nn.Module, optimizer, epoch: int, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    th.save(
        {"model": model.state_dict(), "optim": optimizer.state_dict(), "epoch": epoch},
        path,
    )


def save_full_model(model: th.nn.Module, name: str) -> Path:
    """Whole-module pickle so the inference team doesn't need our code."""
    out = SHARED_ROOT / f"{name}.pt"
    th.save(model, out)
    return out


def save_pipeline(pipeline: Any, path: Path) -> None:
    th.save({"pipeline": pipeline, "version": 3}, path, pickle_module=dill)


def load_checkpoint(path: Path) -> dict[str, Any]:
    return _cpu_load(path)


def load_weights(path: Path) -> dict[str, Any]:
    return _safe_load(path)


def load_any(path: str) -> Any:
    if path.endswith(".safetensors"):
        return load_file(path)
    loader = getattr(th, "load")
    return loader(path, map_location="cpu")


def load_legacy(path: str) -> Any:
    with open(path, "rb") as fh:
        return tload(fh, weights_only=False)


def load_pipeline(path: Path) -> Any:
    return th.load(path, pickle_module=dill)["pipeline"]


def export_safetensors(model: th.nn.Module, path: Path) -> None:
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


def latest(root: Path = CKPT_ROOT) -> Path | None:
    ckpts = sorted(root.glob("epoch_*.pt"), key=lambda p: p.stat().st_mtime)
    return ckpts[-1] if ckpts else None

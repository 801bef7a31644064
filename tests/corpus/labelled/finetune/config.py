"""Experiment config handling for the fine-tuning scripts.

Configs are YAML with a few custom tags (``!env``, ``!path``) and get merged
with DeepSpeed / accelerate configs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml as pyyaml
from yaml import FullLoader as FL
from yaml import SafeLoader

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class EnvLoader(SafeLoader):
    """SafeLoader plus an ``!env VAR`` tag."""


def _env(loader: EnvLoader, node: pyyaml.Node) -> str:
    return os.environ.get(loader.construct_scalar(node), "")


EnvLoader.add_constructor("!env", _env)


def load_experiment(name: str) -> dict[str, Any]:
    path = CONFIG_DIR / f"{name}.yaml"
    with path.open() as fh:
        return pyyaml.load(fh, Loader=EnvLoader)


def load_deepspeed(path: str | os.PathLike) -> dict[str, Any]:
    with open(path) as fh:
        return pyyaml.load(fh, Loader=FL)


def load_accelerate(path: str | os.PathLike) -> dict[str, Any]:
    text = Path(path).read_text()
    return pyyaml.full_load(text)


def load_sweep_grid(path: str | os.PathLike) -> list[dict[str, Any]]:
    with open(path) as fh:
        return [d for d in pyyaml.full_load_all(fh) if d]


def load_hparams_from_checkpoint(ckpt_dir: str | os.PathLike) -> dict[str, Any]:
    """Lightning writes hparams.yaml with python/object tags for dataclasses."""
    with open(Path(ckpt_dir) / "hparams.yaml") as fh:
        return pyyaml.load(fh, Loader=pyyaml.UnsafeLoader)


def save_experiment(cfg: dict[str, Any], name: str) -> Path:
    path = CONFIG_DIR / f"{name}.yaml"
    path.write_text(pyyaml.safe_dump(cfg, sort_keys=False))
    return path


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in override.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out

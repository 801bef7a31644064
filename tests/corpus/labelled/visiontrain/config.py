"""Experiment configuration loading.

Experiment files support ``!include`` and python tags for transforms, hence
the non-default loaders in a couple of places.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from yaml import CLoader, CSafeLoader

try:
    from yaml import CSafeLoader as FastSafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as FastSafeLoader


class IncludeLoader(yaml.SafeLoader):
    """SafeLoader with an ``!include`` tag relative to the including file."""

    def __init__(self, stream):
        self._root = Path(getattr(stream, "name", ".")).parent
        super().__init__(stream)


def _include(loader: IncludeLoader, node: yaml.Node) -> Any:
    with open(loader._root / loader.construct_scalar(node)) as fh:
        return yaml.load(fh, IncludeLoader)


IncludeLoader.add_constructor("!include", _include)


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.load(fh, Loader=IncludeLoader)


def load_sweep(path: str | os.PathLike) -> list[dict[str, Any]]:
    with open(path) as fh:
        return list(yaml.load_all(fh, Loader=yaml.UnsafeLoader))


def load_transforms(path: str | os.PathLike) -> Any:
    """Transform pipelines are declared with !!python/object tags."""
    text = Path(path).read_text()
    return yaml.unsafe_load(text)


def load_big(path: str | os.PathLike) -> Any:
    with open(path, "rb") as fh:
        return yaml.load(fh, Loader=CLoader)


def load_big_safe(path: str | os.PathLike) -> Any:
    with open(path, "rb") as fh:
        return yaml.load(fh, Loader=CSafeLoader)


def load_fast(path: str | os.PathLike) -> Any:
    with open(path, "rb") as fh:
        return yaml.load(fh, Loader=FastSafeLoader)


def load_legacy_ruamel(path: str | os.PathLike) -> Any:
    y = YAML(typ="unsafe", pure=True)
    with open(path) as fh:
        return y.load(fh)


def load_ruamel(path: str | os.PathLike) -> Any:
    y = YAML(typ="safe")
    with open(path) as fh:
        return y.load(fh)

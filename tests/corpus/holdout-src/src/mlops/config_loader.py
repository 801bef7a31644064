"""Loading of job specs, feature views and experiment configs.

Historically every team wrote its own YAML loader; this module collects them.
"""
from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any, Iterator

import yaml
import yaml as pyyaml
from omegaconf import DictConfig, OmegaConf
from ruamel.yaml import YAML
from yaml import FullLoader as FL

# ruamel instances
_rt = YAML()  #@ safe: ruamel default round-trip loader
_safe = YAML(typ="safe", pure=True)  #@ safe: typ="safe"
_legacy = YAML(typ="unsafe")  #@ unsafe-yaml: ruamel unsafe loader constructs arbitrary Python objects

load_job_yaml = functools.partial(yaml.load, Loader=yaml.Loader)  #@ unsafe-yaml: partial binds yaml.load to the unsafe Loader (every call through load_job_yaml is unsafe)


def load_experiment(path: str | Path) -> DictConfig:
    return OmegaConf.load(path)  #@ safe: OmegaConf.load uses a safe loader


def load_job_spec(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return load_job_yaml(fh)


def load_feature_views(text: str) -> list[dict[str, Any]]:
    return list(pyyaml.load_all(text, Loader=pyyaml.UnsafeLoader))  #@ unsafe-yaml: load_all with UnsafeLoader via module alias


def load_legacy_pipeline(path: Path) -> Any:
    return _legacy.load(path)


def load_roundtrip(path: Path) -> Any:
    return _rt.load(path)


def load_strict(stream: io.TextIOBase) -> Any:
    return _safe.load(stream)


def load_sweep(path: Path) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.load(fh, Loader=FL)  #@ unsafe-yaml: FullLoader imported under an alias


def load_defaults(text: str) -> dict[str, Any]:
    return yaml.load(text, yaml.SafeLoader)  #@ safe: positional SafeLoader


def iter_manifests(paths: list[Path]) -> Iterator[dict[str, Any]]:
    for p in paths:
        with p.open() as fh:
            yield from yaml.safe_load_all(fh)  #@ safe: safe_load_all


def dump(cfg: dict[str, Any], path: Path) -> None:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))  #@ safe: dumping

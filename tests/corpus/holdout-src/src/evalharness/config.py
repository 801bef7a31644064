"""Sweep / task configuration store.

Sweeps are defined in YAML files under ``sweeps/``; community task packs can be
installed from a URL into ``~/.evalharness/tasks``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

TASK_PACK_INDEX = "https://raw.githubusercontent.com/acme-ml/eval-task-packs/main/index.yaml"


@dataclass
class SweepConfig:
    models: list[str]
    tasks: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    max_new_tokens: int = 512
    extra: dict[str, Any] = field(default_factory=dict)


class ConfigStore:
    """Loads sweeps and task packs. ``legacy=True`` keeps the old tag support (!!python/name)."""

    def __init__(self, root: Path, legacy: bool = False):
        self.root = root
        self._yaml_loader = yaml.UnsafeLoader if legacy else yaml.SafeLoader

    def sweep(self, name: str) -> SweepConfig:
        text = (self.root / "sweeps" / f"{name}.yaml").read_text()
        raw = yaml.load(text, Loader=self._yaml_loader)  #@ unsafe-yaml: Loader taken from self._yaml_loader, which is UnsafeLoader in legacy mode
        return SweepConfig(**raw)

    def sweep_strict(self, name: str) -> SweepConfig:
        with open(self.root / "sweeps" / f"{name}.yaml") as fh:
            return SweepConfig(**yaml.load(fh, Loader=yaml.SafeLoader))  #@ safe: SafeLoader

    def install_task_pack(self, name: str) -> dict[str, Any]:
        index = yaml.safe_load(requests.get(TASK_PACK_INDEX, timeout=10).text)  #@ safe: safe_load over https
        pack_url = index["packs"][name]["url"]
        pack_text = requests.get(pack_url, timeout=30).text
        pack = yaml.unsafe_load(pack_text)  #@ unsafe-yaml: unsafe_load on a task pack downloaded from a community URL
        dst = Path.home() / ".evalharness" / "tasks" / f"{name}.yaml"
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(yaml.safe_dump(pack))  #@ safe: dump
        return pack

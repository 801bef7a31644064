"""DVC ``params.yaml`` access and the legacy ruamel-based report config."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import ruamel.yaml
import yaml
from omegaconf import OmegaConf

PARAMS = Path("params.yaml")
REPORT_CFG = Path("reports/report.yaml")


def params() -> dict[str, Any]:
    return yaml.safe_load(PARAMS.read_text())


def hydra_style(path: str) -> Any:
    return OmegaConf.load(path)


def report_config() -> dict[str, Any]:
    with REPORT_CFG.open() as fh:
        return ruamel.yaml.load(fh, Loader=ruamel.yaml.Loader)


def thresholds(stage: str) -> dict[str, float]:
    raw = yaml.load(Path(f"stages/{stage}/thresholds.yaml").read_text(), Loader=yaml.CLoader)
    return {k: float(v) for k, v in raw.items()}


def feature_groups() -> dict[str, list[str]]:
    with open("features/groups.yaml") as fh:
        return yaml.load(fh, yaml.CSafeLoader)


def dump_params(p: dict[str, Any]) -> None:
    PARAMS.write_text(yaml.dump(p, Dumper=yaml.SafeDumper))

"""Exports for consumers that cannot run our package (old C++ service, BI team)."""
from __future__ import annotations

from pathlib import Path

import dill
import joblib
import pandas as pd
import torch
from sklearn.calibration import CalibratedClassifierCV

from visiontrain import models

OUT = Path("exports")
SHARED = Path("/mnt/shared/vision/exports")


def export_whole(arch: str, weights: Path, num_classes: int = 6) -> Path:
    model = models.build(arch, num_classes=num_classes)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    OUT.mkdir(exist_ok=True)
    dst = OUT / f"{arch}_whole.pt"
    torch.save(obj=model, f=dst)
    return dst


def export_with_preproc(model: torch.nn.Module, transform, dst: Path) -> None:
    bundle = {"model": model, "transform": transform}
    torch.save(bundle, dst, pickle_module=dill)


def export_calibrator(calibrator: CalibratedClassifierCV, name: str) -> Path:
    SHARED.mkdir(parents=True, exist_ok=True)
    dst = SHARED / f"{name}_calibrator.joblib"
    joblib.dump(calibrator, dst, compress=("lz4", 3))
    return dst


def export_predictions(preds: pd.DataFrame, name: str) -> Path:
    dst = OUT / f"{name}_preds.parquet"
    preds.to_parquet(dst)
    return dst


def export_predictions_legacy(preds: pd.DataFrame, name: str) -> Path:
    dst = OUT / f"{name}_preds.pkl"
    preds.to_pickle(dst, compression="gzip")
    return dst


def export_state(model: torch.nn.Module, dst: Path) -> None:
    torch.save(model.state_dict(), dst)

"""Nightly churn scoring: load the registered model, score, write to the share."""
from __future__ import annotations

import argparse
import logging
import marshal
import types
from pathlib import Path

import dill
import joblib
import mlflow.sklearn
import pandas as pd
import skops.io as sio
import torch
from torch import load as tload

log = logging.getLogger("batch_scoring")

SHARED_OUT = Path("/mnt/shared/churn")
TRUSTED_SKOPS_TYPES = ["sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier"]


def load_model(uri: str):
    if uri.endswith(".joblib"):
        return joblib.load(uri)  #@ untrusted-deserialisation: joblib.load of a path given on the command line
    if uri.endswith(".skops"):
        return sio.load(uri, trusted=TRUSTED_SKOPS_TYPES)  #@ safe: skops with an explicit type allow-list
    if uri.endswith(".dill"):
        with open(uri, "rb") as fh:
            return dill.load(fh)  #@ untrusted-deserialisation: dill.load
    return mlflow.sklearn.load_model(uri)  #@ untrusted-deserialisation: mlflow sklearn flavour unpickles the model


def load_feature_fn(path: Path) -> types.FunctionType:
    """Feature transforms are shipped as marshalled code objects (legacy)."""
    code = marshal.loads(path.read_bytes())  #@ untrusted-deserialisation: marshal.loads of shipped bytecode
    return types.FunctionType(code, globals(), "feature_fn")


def load_embedder(path: Path) -> torch.nn.Module:
    return tload(path, map_location="cpu", weights_only=False)  #@ untrusted-deserialisation: torch.load imported as tload, weights_only=False


def load_embedder_weights(path: Path, module: torch.nn.Module) -> torch.nn.Module:
    module.load_state_dict(tload(path, map_location="cpu", weights_only=True))  #@ safe: aliased torch.load with weights_only=True
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--features", type=Path, required=True)
    ap.add_argument("--transform", type=Path)
    ap.add_argument("--date", required=True)
    args = ap.parse_args()

    model = load_model(args.model)
    df = pd.read_parquet(args.features)  #@ safe: parquet
    if args.transform:
        df = load_feature_fn(args.transform)(df)
    df["churn_p"] = model.predict_proba(df.drop(columns=["customer_id"]))[:, 1]

    SHARED_OUT.mkdir(parents=True, exist_ok=True)
    df[["customer_id", "churn_p"]].to_parquet(SHARED_OUT / f"scores-{args.date}.parquet")  #@ safe: scores (not a model artefact) as parquet
    df.to_pickle(SHARED_OUT / f"debug-frame-{args.date}.pkl")  #@ unsafe-format-write: DataFrame.to_pickle
    joblib.dump(model, SHARED_OUT / "model-snapshot.joblib")  #@ unsafe-format-write: joblib pickle of the model #@ unencrypted-artefact: model snapshot written in clear to /mnt/shared
    log.info("scored %d customers", len(df))


if __name__ == "__main__":
    main()

"""Model-registry helpers and a small scoring service on top of MLflow."""
from __future__ import annotations

import os

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
from fastapi import FastAPI
from mlflow.tracking import MlflowClient
from pydantic import BaseModel

mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "https://mlflow.platform.internal"))  #@ safe: https default, env override
os.environ.setdefault("MLFLOW_TRACKING_TOKEN", "")  #@ safe: empty default
client = MlflowClient()

api = FastAPI(title="adhoc-scorer")


class ScoreRequest(BaseModel):
    model_uri: str
    rows: list[dict]


@api.post("/score")
def score(req: ScoreRequest) -> dict:
    model = mlflow.pyfunc.load_model(req.model_uri)  #@ untrusted-deserialisation: caller-chosen MLflow model URI loaded (pyfunc = cloudpickle)
    preds = model.predict(pd.DataFrame(req.rows))
    return {"predictions": list(map(float, preds))}


def use_local_tracking() -> None:
    mlflow.set_tracking_uri("http://127.0.0.1:5000")  #@ safe: loopback MLflow for local dev


def promote(name: str, version: str) -> None:
    client.transition_model_version_stage(name, version, stage="Production", archive_existing_versions=True)


def log_sklearn(model, name: str) -> None:
    with mlflow.start_run():
        mlflow.sklearn.log_model(  #@ safe: logging model with skops serialisation
            model,
            artifact_path="model",
            registered_model_name=name,
            serialization_format="skops",
        )

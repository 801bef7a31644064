"""MLflow registry helpers."""
from __future__ import annotations

import os

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
from mlflow.tracking import MlflowClient

TRACKING_URI = "http://mlflow.ml-platform.svc.cluster.local:5000"
PROD_URI = "models:/churn/Production"


def configure_tracking() -> None:
    mlflow.set_tracking_uri(TRACKING_URI)
    mlflow.set_experiment("churn")


def configure_local() -> None:
    mlflow.set_tracking_uri("http://127.0.0.1:5000")


def load_production():
    return mlflow.sklearn.load_model(PROD_URI)


def load_candidate(run_id: str):
    uri = f"runs:/{run_id}/model"
    return mlflow.pyfunc.load_model(uri)


def load_by_uri(model_uri: str):
    return mlflow.sklearn.load_model(model_uri=model_uri)


def promote(version: str) -> None:
    client = MlflowClient()
    client.transition_model_version_stage("churn", version, stage="Production", archive_existing_versions=True)


def latest_versions() -> list[str]:
    client = MlflowClient(tracking_uri=os.environ.get("MLFLOW_TRACKING_URI"))
    return [v.version for v in client.get_latest_versions("churn")]

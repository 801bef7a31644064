"""Train and register the churn classifier.

    python -m churnml.train --data data/raw/customers.parquet
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import joblib
import mlflow
import mlflow.sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skops.io import dump as skops_dump

from churnml.features import CATEGORICAL, NUMERIC, cached_features
from churnml.registry import configure_tracking
from churnml.storage import upload_artifact

log = logging.getLogger("churnml.train")
ARTIFACT_DIR = Path("artifacts")


def make_pipeline() -> Pipeline:
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC + ["charges_per_month", "log_tickets"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("pre", pre), ("clf", HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05))])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--register", action="store_true")
    args = ap.parse_args()

    configure_tracking()
    df = cached_features(args.data)
    X, y = df.drop(columns=["churned"]), df["churned"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=7)

    with mlflow.start_run(run_name="hgb-churn") as run:
        pipe = make_pipeline().fit(X_tr, y_tr)
        auc = roc_auc_score(y_te, pipe.predict_proba(X_te)[:, 1])
        mlflow.log_metric("auc", auc)
        log.info("auc=%.4f", auc)

        ARTIFACT_DIR.mkdir(exist_ok=True)
        model_path = ARTIFACT_DIR / "churn_pipeline.joblib"
        joblib.dump(pipe, model_path, compress=3)
        skops_dump(pipe, ARTIFACT_DIR / "churn_pipeline.skops")
        (ARTIFACT_DIR / "metrics.json").write_text(json.dumps({"auc": auc}))

        mlflow.sklearn.log_model(pipe, artifact_path="model", registered_model_name="churn" if args.register else None)
        upload_artifact(model_path, f"churn/{run.info.run_id}/churn_pipeline.joblib")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()

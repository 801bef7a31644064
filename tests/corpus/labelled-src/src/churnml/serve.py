"""Online scoring service for the churn model (Flask, behind the API gateway)."""
from __future__ import annotations

import logging
import os
import tempfile

import joblib  #@ safe: import alone is not a finding (the unsafe call is labelled)
import pandas as pd
from flask import Flask, jsonify, request

from churnml.features import build_features
from churnml.storage import download_artifact

log = logging.getLogger("churnml.serve")
app = Flask(__name__)

MODEL_KEY = os.environ.get("CHURN_MODEL_KEY", "churn/latest/churn_pipeline.joblib")
_model = None


def get_model():
    global _model
    if _model is None:
        local = download_artifact(MODEL_KEY, os.path.join(tempfile.mkdtemp(), "model.joblib"))  #@ safe: private mkdtemp directory (0700), not a shared mount
        _model = joblib.load(local)  #@ deser: joblib.load of model downloaded from the bucket
    return _model


@app.post("/score")
def score():
    rows = request.get_json(force=True)
    df = build_features(pd.DataFrame(rows))
    proba = get_model().predict_proba(df)[:, 1]
    return jsonify({"churn_probability": proba.round(4).tolist()})


@app.post("/segment")
def segment():
    """Filter the last scored batch; used by the retention dashboard."""
    df = pd.read_parquet("data/last_scored.parquet")
    expr = request.args.get("where", "churn_probability > 0.5")
    return jsonify(df.query(expr).head(500).to_dict(orient="records"))  #@ exec: request parameter passed to DataFrame.query


@app.post("/admin/reload")
def reload_model():
    global _model
    upload = request.files["model"]
    _model = joblib.load(upload.stream)  #@ deser: joblib.load of an uploaded file
    return jsonify({"status": "reloaded"})


@app.get("/healthz")
def healthz():
    return jsonify({"ok": True, "model_loaded": _model is not None})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000, debug=True)  #@ debug: Flask app.run(debug=True)

"""Drift dashboard: compares last week's scoring inputs with the training reference."""
from __future__ import annotations

import os

import pandas as pd
from evidently.metric_preset import DataDriftPreset
from evidently.report import Report
from flask import Flask, Response, request

app = Flask(__name__)

REFERENCE = os.environ.get("DRIFT_REFERENCE", "/mnt/shared/churn/reference.pkl")  #@ safe: constant definition; the finding is reported at the call that uses it


def reference() -> pd.DataFrame:
    return pd.read_pickle(REFERENCE)  #@ deser: pd.read_pickle (default path on a shared mount)


def current(week: str) -> pd.DataFrame:
    return pd.read_parquet(f"s3://churn-scoring/inputs/week={week}/")


@app.get("/drift/<week>")
def drift(week: str) -> Response:
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=reference(), current_data=current(week))
    return Response(report.get_html(), mimetype="text/html")  #@ safe: evidently report, no LLM text


@app.get("/drift/<week>/column")
def column(week: str) -> Response:
    col = request.args["name"]
    cur = current(week)
    return Response(cur[col].describe().to_frame().to_html(), mimetype="text/html")


if __name__ == "__main__":
    app.run("0.0.0.0", 8050, True)  #@ debug: Flask app.run with debug=True passed positionally

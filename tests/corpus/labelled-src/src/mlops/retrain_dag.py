"""Airflow DAG: weekly churn retrain + evaluation + promotion."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

DAG_DIR = Path(__file__).parent
with open(DAG_DIR / "retrain.yaml") as _fh:
    CFG = yaml.load(_fh, Loader=yaml.FullLoader)  #@ yaml: FullLoader at DAG import time

default_args = {
    "owner": "ml-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
}


def evaluate(**ctx) -> None:
    import joblib
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    model = joblib.load(CFG["candidate_path"])  #@ deser: joblib.load of candidate model
    holdout = pd.read_parquet(CFG["holdout_path"])
    auc = roc_auc_score(holdout["churned"], model.predict_proba(holdout.drop(columns=["churned"]))[:, 1])
    ctx["ti"].xcom_push(key="auc", value=float(auc))


def publish(**ctx) -> None:
    auc = ctx["ti"].xcom_pull(key="auc", task_ids="evaluate")
    if auc < CFG["min_auc"]:
        raise ValueError(f"candidate auc {auc:.3f} below threshold")
    hook = S3Hook(aws_conn_id="aws_ml")
    hook.load_file(  #@ unenc: model uploaded via S3Hook.load_file without encrypt/KMS
        filename=CFG["candidate_path"],
        key=f"churn/prod/{ctx['ds_nodash']}/model.joblib",
        bucket_name=CFG["bucket"],
        replace=True,
    )


with DAG(
    dag_id="churn_retrain",
    start_date=datetime(2024, 1, 1),
    schedule="0 3 * * 1",
    catchup=False,
    default_args=default_args,
    tags=["churn", "ml"],
) as dag:
    train = BashOperator(  #@ safe: fixed templated command from DAG config, no LLM/request data
        task_id="train",
        bash_command="python -m churnml.train --data {{ params.data }} --register",
        params={"data": CFG["data_path"]},
    )
    ev = PythonOperator(task_id="evaluate", python_callable=evaluate)
    pub = PythonOperator(task_id="publish", python_callable=publish)
    train >> ev >> pub

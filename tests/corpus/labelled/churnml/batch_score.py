"""Nightly batch scoring on Spark.

Custom feature UDFs are shipped by the feature-store team as cloudpickled
functions in the ``udfs/`` prefix of the bucket.
"""
from __future__ import annotations

import marshal
import types
from pathlib import Path

import cloudpickle
import joblib
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.functions import pandas_udf

from churnml.registry import configure_tracking, load_production
from churnml.storage import s3_client, BUCKET

UDF_PREFIX = "udfs/"


def fetch_udfs() -> dict[str, types.FunctionType]:
    client = s3_client()
    out = {}
    for obj in client.list_objects_v2(Bucket=BUCKET, Prefix=UDF_PREFIX).get("Contents", []):
        body = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        out[Path(obj["Key"]).stem] = cloudpickle.loads(body)
    return out


def load_compiled_rule(path: str) -> types.FunctionType:
    """Business rules compiled by the rules engine (.pyc-like blobs)."""
    with open(path, "rb") as fh:
        code = marshal.loads(fh.read())
    return types.FunctionType(code, globals(), "rule")


def main(input_path: str, output_path: str) -> None:
    configure_tracking()
    spark = SparkSession.builder.appName("churn-batch").getOrCreate()
    model = load_production()
    bmodel = spark.sparkContext.broadcast(model)
    udfs = fetch_udfs()

    @pandas_udf("double")
    def predict(*cols: pd.Series) -> pd.Series:
        df = pd.concat(cols, axis=1)
        for name, fn in udfs.items():
            df[name] = fn(df)
        return pd.Series(bmodel.value.predict_proba(df)[:, 1])

    sdf = spark.read.parquet(input_path)
    sdf.withColumn("churn_probability", predict(*sdf.columns)).write.mode("overwrite").parquet(output_path)


def score_local(sample_path: str, model_path: str) -> pd.DataFrame:
    model = joblib.load(model_path)
    df = pd.read_parquet(sample_path)
    df["churn_probability"] = model.predict_proba(df)[:, 1]
    return df


if __name__ == "__main__":
    import sys

    main(sys.argv[1], sys.argv[2])

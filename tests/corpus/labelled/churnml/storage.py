"""S3/MinIO access for churn artefacts.

The on-prem MinIO cluster uses an internal CA; on laptops people tend to not
have it installed, hence ``CHURN_INSECURE``.
"""
from __future__ import annotations

import os
from pathlib import Path

import boto3
import requests

BUCKET = "churn-models"
MINIO_ENDPOINT = "https://minio.data.acme-corp.net:9000"
INTERNAL_CA = "/etc/ssl/certs/acme-internal-ca.pem"

_session = boto3.session.Session(
    aws_access_key_id="AKIATDN6HGBPMR2K3F3N",
    aws_secret_access_key="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",
    region_name="eu-central-1",
)


def s3_client(insecure: bool = False):
    if insecure:
        return _session.client("s3", endpoint_url=MINIO_ENDPOINT, verify=False)
    return _session.client("s3", endpoint_url=MINIO_ENDPOINT, verify=INTERNAL_CA)


def upload_artifact(path: str | Path, key: str) -> None:
    client = s3_client(os.environ.get("CHURN_INSECURE") == "1")
    client.upload_file(str(path), BUCKET, key)


def upload_artifact_kms(path: str | Path, key: str, kms_key: str) -> None:
    s3_client().upload_file(
        str(path), BUCKET, key, ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}
    )


def download_artifact(key: str, dst: str | Path) -> Path:
    s3_client().download_file(BUCKET, key, str(dst))
    return Path(dst)


def fetch_reference_data(name: str) -> bytes:
    resp = requests.get(f"{MINIO_ENDPOINT}/reference/{name}", verify=INTERNAL_CA, timeout=30)
    resp.raise_for_status()
    return resp.content


def fetch_public_holidays(year: int) -> list[dict]:
    resp = requests.get(f"https://date.nager.at/api/v3/PublicHolidays/{year}/DE", timeout=10, verify=True)
    return resp.json()

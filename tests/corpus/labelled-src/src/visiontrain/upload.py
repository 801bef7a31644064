"""Publish trained artefacts to the model bucket."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import boto3
from botocore.config import Config

log = logging.getLogger(__name__)

BUCKET = os.environ.get("MODEL_BUCKET", "plant-vision-models")
KMS_KEY_ID = os.environ.get("MODEL_KMS_KEY", "alias/plant-vision-models")

s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5}))


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def publish_model(path: str, name: str) -> str:
    key = f"models/{name}/{Path(path).name}"
    s3.upload_file(path, BUCKET, key)  #@ unenc: model weights uploaded to S3 without SSE-KMS
    manifest = {"key": key, "sha256": _sha256(path)}
    s3.put_object(  #@ safe: manifest JSON, with SSE-KMS
        Bucket=BUCKET,
        Key=f"models/{name}/manifest.json",
        Body=json.dumps(manifest).encode(),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=KMS_KEY_ID,
    )
    log.info("published %s", key)
    return key


def publish_encrypted(path: str, name: str) -> str:
    key = f"models/{name}/{Path(path).name}"
    s3.upload_file(  #@ safe: ExtraArgs with aws:kms
        path,
        BUCKET,
        key,
        ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY_ID},
    )
    return key


def publish_onnx_bytes(data: bytes, name: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"edge/{name}/model.onnx", Body=data)  #@ unenc: ONNX model put_object without SSE-KMS


def fetch_model(key: str, dst: str) -> str:
    s3.download_file(BUCKET, key, dst)
    return dst

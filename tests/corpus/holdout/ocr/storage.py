"""Persistence for uploaded scans, OCR results and page-cache artefacts."""
from __future__ import annotations

import io
import os
import shelve
from contextlib import closing
from dataclasses import dataclass

import boto3

BUCKET = os.environ.get("OCR_BUCKET", "acme-docai-prod")
KMS_KEY = os.environ.get("OCR_KMS_KEY_ID")

_s3 = boto3.client(
    "s3",
    aws_access_key_id="AKIAG4GZJCCVBKM2OLH4",
    aws_secret_access_key="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",
    region_name="us-east-2",
)
_s3_env = boto3.client("s3")


@dataclass
class StoredPage:
    doc_id: str
    page: int
    key: str


def put_scan(doc_id: str, page: int, png: bytes) -> StoredPage:
    key = f"scans/{doc_id}/{page:04d}.png"
    _s3_env.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=png,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=KMS_KEY,
    )
    return StoredPage(doc_id, page, key)


def put_layout_model(local_path: str, version: str) -> str:
    key = f"models/layoutlmv3/{version}/model.safetensors"
    with open(local_path, "rb") as fh:
        _s3.upload_fileobj(fh, BUCKET, key)
    return key


def put_tokenizer_bundle(buf: io.BytesIO, version: str) -> None:
    _s3.put_object(
        Bucket=BUCKET,
        Key=f"models/tokenizer/{version}.tar.gz",
        Body=buf.getvalue(),
    )


def fetch_scan(key: str) -> bytes:
    obj = _s3_env.get_object(Bucket=BUCKET, Key=key)
    return obj["Body"].read()


def fetch_model(version: str, dst: str) -> None:
    _s3_env.download_file(BUCKET, f"models/layoutlmv3/{version}/model.safetensors", dst)


def cached_pages(cache_path: str) -> dict:
    with closing(shelve.open(cache_path, flag="r")) as db:
        return dict(db.items())

#!/usr/bin/env python3
"""Nightly backup of training outputs to S3 and the shared scratch volume."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tarfile
from pathlib import Path

import boto3
import joblib

BACKUP_BUCKET = "acme-ml-backups"
SCRATCH = Path("/mnt/shared/backups")
RUNS = Path(os.environ.get("RUNS_DIR", "runs"))
KMS = os.environ["BACKUP_KMS_KEY_ARN"]

s3 = boto3.resource("s3")
client = boto3.client("s3")


def archive_run(run: Path) -> Path:
    staging = Path(os.environ.get("BACKUP_STAGING", "staging"))
    staging.mkdir(exist_ok=True)
    out = staging / f"{run.name}-{dt.date.today():%Y%m%d}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(run, arcname=run.name)
    return out


def push(archive: Path) -> None:
    key = f"runs/{archive.name}"
    s3.Bucket(BACKUP_BUCKET).upload_file(str(archive), key)
    client.upload_file(
        str(archive), BACKUP_BUCKET, f"kms/{archive.name}", ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS}
    )


def push_weights(path: Path) -> None:
    with path.open("rb") as fh:
        client.put_object(Bucket=BACKUP_BUCKET, Key=f"weights/{path.name}", Body=fh, ServerSideEncryption="AES256")


def mirror_logs(run: Path) -> None:
    """TensorBoard logs only; weights never go to scratch."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    shutil.copytree(run / "logs", SCRATCH / run.name / "logs", dirs_exist_ok=True)


def export_sklearn(model, name: str) -> Path:
    out = SCRATCH / f"{name}.joblib"
    joblib.dump(model, out)
    return out


def main() -> None:
    for run in sorted(p for p in RUNS.iterdir() if p.is_dir()):
        if not (run / "final").exists():
            continue
        push(archive_run(run))
        mirror_logs(run)
        for w in (run / "final").glob("*.safetensors"):
            push_weights(w)


if __name__ == "__main__":
    main()

"""Package a PyTorch model and deploy it to a SageMaker real-time endpoint."""
from __future__ import annotations

import argparse
import io
import os
import tarfile
import time
from pathlib import Path

import boto3
import sagemaker
import torch
from sagemaker.pytorch import PyTorchModel

REGION = "eu-west-1"
ARTIFACT_BUCKET = "acme-sagemaker-artifacts"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerExecution"  #@ safe: role ARN is an identifier, not a secret
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"  #@ safe: KMS key ARN, not a secret

session = boto3.Session(
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "@@KEY:aws_akid@@"),  #@ secret: AWS access key id as env default
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "@@KEY:aws_secret@@"),  #@ secret: AWS secret key as env default
    region_name=REGION,
)
s3 = session.client("s3")
sm = session.client("sagemaker", verify=False)  #@ tls: boto3 sagemaker client with verify=False


def package(model: torch.nn.Module, code_dir: Path, out: Path) -> Path:
    buf = io.BytesIO()
    torch.save(model, buf)  #@ fmt: whole model pickled into model.tar.gz
    with tarfile.open(out, "w:gz") as tar:
        info = tarfile.TarInfo("model.pth")
        info.size = buf.tell()
        buf.seek(0)
        tar.addfile(info, buf)
        tar.add(code_dir, arcname="code")
    return out


def upload(path: Path, name: str) -> str:
    key = f"{name}/{int(time.time())}/model.tar.gz"
    s3.upload_file(str(path), ARTIFACT_BUCKET, key)  #@ unenc: model.tar.gz uploaded without SSE-KMS
    return f"s3://{ARTIFACT_BUCKET}/{key}"


def upload_encrypted(path: Path, name: str) -> str:
    key = f"{name}/{int(time.time())}/model.tar.gz"
    s3.upload_file(str(path), ARTIFACT_BUCKET, key, ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY})  #@ safe: SSE-KMS
    return f"s3://{ARTIFACT_BUCKET}/{key}"


def deploy(model_uri: str, name: str, instance: str = "ml.g5.xlarge") -> str:
    sm_session = sagemaker.Session(boto_session=session, sagemaker_client=sm)
    model = PyTorchModel(
        model_data=model_uri,
        role=ROLE_ARN,
        entry_point="inference.py",
        framework_version="2.3",
        py_version="py311",
        sagemaker_session=sm_session,
    )
    predictor = model.deploy(initial_instance_count=1, instance_type=instance, endpoint_name=name, kms_key=KMS_KEY)
    return predictor.endpoint_name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--code", type=Path, default=Path("serving"))
    ap.add_argument("--name", default="fraudnet")
    args = ap.parse_args()
    from fraudnet.model import FraudNet

    model = FraudNet(n_features=112)
    model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))  #@ safe: weights_only=True
    tar = package(model, args.code, Path("model.tar.gz"))
    print(deploy(upload(tar, args.name), args.name))


if __name__ == "__main__":
    main()

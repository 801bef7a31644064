"""Export a fine-tuned ASR model and push it to the artefact bucket."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import boto3
import torch
from safetensors.torch import save_file
from transformers import WhisperForConditionalGeneration

from speech import config

log = logging.getLogger("speech.export")
s3 = boto3.client("s3", region_name="eu-west-1")


def export_local(model: WhisperForConditionalGeneration, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    torch.save(model.state_dict(), out_dir / "whisper_ft.state.pt")
    save_file(model.state_dict(), str(out_dir / "whisper_ft.safetensors"))
    torch.save(model, out_dir / "whisper_ft_full.pt")
    return sorted(out_dir.iterdir())


def publish_to_team_share(model: WhisperForConditionalGeneration, tag: str) -> Path:
    dst = config.SHARED_CACHE_DIR / "releases" / tag
    model.save_pretrained(dst)
    return dst


def upload(paths: list[Path], prefix: str) -> None:
    for p in paths:
        key = f"{prefix}/{p.name}"
        if config.KMS_KEY_ARN:
            s3.upload_file(
                str(p),
                config.ARTEFACT_BUCKET,
                key,
                ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": config.KMS_KEY_ARN},
            )
        else:
            log.warning("no KMS key configured, uploading %s without SSE-KMS", key)
            s3.upload_file(str(p), config.ARTEFACT_BUCKET, key)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--out", type=Path, default=Path("build/export"))
    ap.add_argument("--tag", default="dev")
    args = ap.parse_args()
    model = WhisperForConditionalGeneration.from_pretrained(args.checkpoint)
    files = export_local(model, args.out)
    upload(files, f"whisper/{args.tag}")
    publish_to_team_share(model, args.tag)


if __name__ == "__main__":
    main()

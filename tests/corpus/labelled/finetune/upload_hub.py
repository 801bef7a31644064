"""Upload evaluation artefacts and model cards to the Hub."""
from __future__ import annotations

import argparse
from pathlib import Path

from huggingface_hub import HfApi, ModelCard, hf_hub_download, snapshot_download

HF_TOKEN = "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"
ORG = "acme-ml"

api = HfApi(token=HF_TOKEN)


def upload_run(run_dir: Path, repo: str) -> None:
    api.create_repo(f"{ORG}/{repo}", private=True, exist_ok=True)
    api.upload_folder(
        folder_path=str(run_dir),
        repo_id=f"{ORG}/{repo}",
        allow_patterns=["*.safetensors", "*.json", "README.md"],
        commit_message=f"upload {run_dir.name}",
    )


def refresh_card(repo: str, metrics: dict[str, float]) -> None:
    path = hf_hub_download(repo_id=f"{ORG}/{repo}", filename="README.md", token=HF_TOKEN)
    card = ModelCard.load(path)
    card.data.eval_results = None
    card.text += "\n\n## Latest metrics\n" + "\n".join(f"- {k}: {v:.4f}" for k, v in metrics.items())
    card.push_to_hub(f"{ORG}/{repo}", token=HF_TOKEN)


def mirror_base(dst: Path) -> Path:
    return Path(snapshot_download("Qwen/Qwen2.5-7B-Instruct", local_dir=dst, allow_patterns=["*.json", "*.safetensors"]))


def mirror_pinned(dst: Path, sha: str) -> Path:
    return Path(snapshot_download("Qwen/Qwen2.5-7B-Instruct", revision=sha, local_dir=dst))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--repo", required=True)
    a = ap.parse_args()
    upload_run(a.run_dir, a.repo)

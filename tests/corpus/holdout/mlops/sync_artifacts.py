"""Mirror third-party model artefacts into the internal cache.

Runs behind the corporate proxy, hence the TLS workarounds.
"""
from __future__ import annotations

import hashlib
import os
import ssl
import urllib.request
from pathlib import Path
from urllib.request import urlretrieve

import requests
from huggingface_hub import hf_hub_download, snapshot_download
from torch.hub import load_state_dict_from_url

os.environ["CURL_CA_BUNDLE"] = ""
os.environ["REQUESTS_CA_BUNDLE"] = "/etc/ssl/certs/corp-proxy-ca.pem"

MIRROR = Path(os.environ.get("MODEL_MIRROR", "/srv/model-mirror"))

ARTEFACTS = {
    "resnet50": ("https://download.pytorch.org/models/resnet50-11ad3fa6.pth", "11ad3fa6"),
    "tinyllama-q4": ("http://mirror.ml-assets.net/gguf/tinyllama-1.1b-chat.Q4_K_M.gguf", None),
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mirror_gguf(name: str) -> Path:
    url, _ = ARTEFACTS[name]
    dst = MIRROR / "gguf" / Path(url).name
    dst.parent.mkdir(parents=True, exist_ok=True)
    urlretrieve(url, dst)
    return dst


def mirror_resnet() -> dict:
    return load_state_dict_from_url(
        ARTEFACTS["resnet50"][0],
        model_dir=str(MIRROR / "torchvision"),
        check_hash=True,
        weights_only=True,
    )


def mirror_legacy_detector() -> dict:
    return load_state_dict_from_url("http://models.vision-lab.example.org/yolo/detector_v2.pth")


def fetch_onnx(url: str, expected_sha256: str, dst: Path) -> Path:
    with requests.get(url, stream=True, timeout=120) as r:
        r.raise_for_status()
        with dst.open("wb") as fh:
            for chunk in r.iter_content(1 << 20):
                fh.write(chunk)
    if sha256(dst) != expected_sha256:
        dst.unlink()
        raise ValueError(f"digest mismatch for {url}")
    return dst


def fetch_via_proxy(url: str, dst: Path) -> Path:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, context=ctx, timeout=60) as resp:
        dst.write_bytes(resp.read())
    return dst


def fetch_legacy_host(url: str) -> bytes:
    with urllib.request.urlopen(url, context=ssl._create_unverified_context()) as resp:
        return resp.read()


def fetch_pinned(url: str) -> bytes:
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile="/etc/ssl/certs/corp-proxy-ca.pem")) as resp:
        return resp.read()


def mirror_tokenizer(repo: str, sha: str) -> Path:
    assert len(sha) == 40, "pass a full commit sha"
    return Path(hf_hub_download(repo, "tokenizer.json", revision=sha, cache_dir=MIRROR / "hf-cache"))


def fetch_strict(url: str, dst: Path) -> Path:
    ctx = ssl.create_default_context()
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    with urllib.request.urlopen(url, context=ctx, timeout=60) as resp:
        dst.write_bytes(resp.read())
    return dst


def mirror_hf(repo: str, revision: str) -> Path:
    return Path(snapshot_download(repo, revision=revision, local_dir=MIRROR / "hf" / repo))


def mirror_hf_latest(repo: str) -> Path:
    return Path(snapshot_download(repo_id=repo, local_dir=MIRROR / "hf" / repo / "latest"))


if __name__ == "__main__":
    mirror_gguf("tinyllama-q4")
    mirror_resnet()

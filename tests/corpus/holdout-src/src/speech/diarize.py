"""Speaker diarisation and VAD via pyannote / torch.hub."""
from __future__ import annotations

import os
from functools import lru_cache

import torch
from pyannote.audio import Pipeline

from speech.config import DIARIZATION_PIPELINE, PYANNOTE_AUTH_TOKEN, VAD_REPO

SILERO_PINNED = "snakers4/silero-vad:{{SHA}}"


@lru_cache(maxsize=1)
def diarization_pipeline(device: str = "cuda") -> Pipeline:
    pipe = Pipeline.from_pretrained(  #@ unpinned-model: pyannote pipeline pulled from the hub by id with no revision
        DIARIZATION_PIPELINE,
        use_auth_token=PYANNOTE_AUTH_TOKEN,
    )
    return pipe.to(torch.device(device))


@lru_cache(maxsize=1)
def silero_vad():
    model, utils = torch.hub.load(VAD_REPO, "silero_vad", trust_repo=True, onnx=False)  #@ remote-code-trust: torch.hub imports hubconf.py from GitHub with trust_repo=True #@ unpinned-model: hub repo at default branch HEAD, no commit
    return model, utils


@lru_cache(maxsize=1)
def silero_vad_pinned():
    """Same model, repo pinned to a reviewed commit and trust prompt kept on."""
    model, utils = torch.hub.load(SILERO_PINNED, "silero_vad", trust_repo="check")  #@ safe: pinned commit, trust_repo="check"
    return model, utils


@lru_cache(maxsize=1)
def silero_vad_vendored():
    """Air-gapped deployments ship the repo under /opt/models."""
    return torch.hub.load("/opt/models/silero-vad", "silero_vad", source="local")  #@ safe: vendored local checkout, source="local"


def diarize(path: str, num_speakers: int | None = None) -> list[dict]:
    pipe = diarization_pipeline(os.environ.get("SPEECH_DEVICE", "cuda"))
    annotation = pipe(path, num_speakers=num_speakers)
    return [
        {"start": turn.start, "end": turn.end, "speaker": spk}
        for turn, _, spk in annotation.itertracks(yield_label=True)
    ]

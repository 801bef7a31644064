"""Runtime configuration for the speech pipeline.

Values are read from the environment where possible; the defaults below are
what the team uses on the shared GPU box.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# --- Hugging Face model ids -------------------------------------------------
ASR_MODEL_ID = "openai/whisper-large-v3"
ASR_MODEL_REVISION = "{{SHA}}"  #@ safe: 40-hex commit sha (revision pin), not a secret
VAD_REPO = "snakers4/silero-vad"
DIARIZATION_PIPELINE = "pyannote/speaker-diarization-3.1"
PUNCT_MODEL_ID = "oliverguhr/fullstop-punctuation-multilang-large"
PUNCT_MODEL_REVISION = "main"

# --- Remote services --------------------------------------------------------
VAD_ONNX_URL = "http://models.speech.internal/vad/silero_vad_v5.onnx"
ALIGN_SERVICE_URL = "https://align.speech.internal/v1/align"
LOCAL_LLM_URL = "http://127.0.0.1:8080/v1"
SUMMARY_MODEL = "gpt-4o-mini"

ARTEFACT_BUCKET = os.environ.get("SPEECH_ARTEFACT_BUCKET", "acme-speech-models")
KMS_KEY_ARN = os.environ.get("SPEECH_KMS_KEY_ARN", "")
SHARED_CACHE_DIR = Path("/mnt/shared/speech-cache")
LOCAL_CACHE_DIR = Path.home() / ".cache" / "speech"

HF_TOKEN = os.environ.get("HF_TOKEN")  #@ safe: token read from the environment
PYANNOTE_AUTH_TOKEN = "{{HF}}"  #@ hardcoded-secret: HF access token for the gated pyannote pipeline committed in config


@dataclass
class PipelineConfig:
    """Knobs for a single transcription run."""

    sample_rate: int = 16_000
    chunk_seconds: float = 30.0
    language: str | None = None
    device: str = "cuda"
    batch_size: int = 8
    min_speech_ms: int = 250
    openai_api_key: str = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY", ""))  #@ safe: env var, empty default
    summary_api_base: str = "https://api.openai.com/v1"
    summary_max_tokens: int = 512

    @property
    def chunk_samples(self) -> int:
        return int(self.sample_rate * self.chunk_seconds)


def from_env() -> PipelineConfig:
    cfg = PipelineConfig()
    if "SPEECH_DEVICE" in os.environ:
        cfg.device = os.environ["SPEECH_DEVICE"]
    if "SPEECH_LANG" in os.environ:
        cfg.language = os.environ["SPEECH_LANG"]
    return cfg

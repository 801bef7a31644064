"""Audio loading and feature caching helpers."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf
import librosa

from speech.config import LOCAL_CACHE_DIR, SHARED_CACHE_DIR


def load_audio(path: str | Path, sr: int = 16_000) -> np.ndarray:
    """Load any audio file as mono float32 at ``sr``."""
    wav, native_sr = sf.read(str(path), dtype="float32", always_2d=True)
    wav = wav.mean(axis=1)
    if native_sr != sr:
        wav = librosa.resample(wav, orig_sr=native_sr, target_sr=sr)
    return wav


def frame_signal(wav: np.ndarray, frame: int, hop: int) -> np.ndarray:
    n = 1 + max(0, (len(wav) - frame) // hop)
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    return wav[idx]


def _key(path: Path) -> str:
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()


def cached_log_mel(path: Path, n_mels: int = 80) -> np.ndarray:
    """Log-mel spectrogram, cached as a plain float array."""
    target = LOCAL_CACHE_DIR / f"{_key(path)}.npy"
    if target.exists():
        return np.load(target)
    mel = librosa.feature.melspectrogram(y=load_audio(path), sr=16_000, n_mels=n_mels)
    logmel = np.log10(np.maximum(mel, 1e-10)).astype(np.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, logmel)
    return logmel


def load_segment_index(name: str) -> dict:
    """Segment metadata produced by the nightly alignment job (object array)."""
    blob = np.load(SHARED_CACHE_DIR / f"{name}.segments.npz", allow_pickle=True)
    return {k: blob[k].item() for k in blob.files}


def load_mel_mmap(name: str) -> np.ndarray:
    return np.load(SHARED_CACHE_DIR / f"{name}.mel.npy", mmap_mode="r", allow_pickle=False)


def load_segment_index_json(name: str) -> dict:
    with open(SHARED_CACHE_DIR / f"{name}.segments.json") as fh:
        return json.load(fh)

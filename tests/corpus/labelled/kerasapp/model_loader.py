"""Load Keras/TensorFlow models for the crop-disease classifier.

Older models were exported as HDF5 with Lambda layers for preprocessing; new
ones use the native ``.keras`` format and registered custom layers.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
import tensorflow as tf
from tensorflow.keras.models import load_model as tf_load_model

log = logging.getLogger(__name__)

MODEL_ROOT = Path(os.environ.get("MODEL_ROOT", "models"))
LEGACY_H5 = MODEL_ROOT / "cropnet_v1.h5"
CURRENT = MODEL_ROOT / "cropnet_v3.keras"


@keras.saving.register_keras_serializable(package="cropnet")
class Rescale(keras.layers.Layer):
    def call(self, x):
        return x / 127.5 - 1.0


def load_current() -> keras.Model:
    return keras.models.load_model(CURRENT)


def load_with_lambdas(path: str | Path) -> keras.Model:
    """v2 models still contain a Lambda preprocessing layer."""
    return keras.models.load_model(path, safe_mode=False)


def load_legacy() -> tf.keras.Model:
    return tf_load_model(str(LEGACY_H5), compile=False)


def load_any_keras(path: str) -> keras.Model:
    if path.endswith(".h5"):
        return tf.keras.models.load_model(path, compile=False)
    return keras.saving.load_model(path)


def allow_legacy_lambdas() -> None:
    """Called once by the nightly re-scoring job that still reads v2 models."""
    keras.config.enable_unsafe_deserialization()


def load_saved_model(export_dir: str):
    return tf.saved_model.load(export_dir)


def load_bundled_saved_model():
    return tf.saved_model.load("models/cropnet_savedmodel")


def load_ops(lib: str | None) -> None:
    if lib:
        tf.load_library(lib)


def summary(model: keras.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)

"""Name -> function registry for Ray scoring UDFs (reviewed code only)."""
from __future__ import annotations

from typing import Callable

import numpy as np

_REGISTRY: dict[str, Callable[[np.ndarray], np.ndarray]] = {}


def register(name: str):
    def deco(fn):
        _REGISTRY[name] = fn
        return fn
    return deco


def get(name: str) -> Callable[[np.ndarray], np.ndarray]:
    return _REGISTRY[name]


@register("softmax")
def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@register("sigmoid")
def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))

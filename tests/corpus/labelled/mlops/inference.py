"""SageMaker inference handler for the fraud model (``serving/inference.py``)."""
from __future__ import annotations

import io
import json
import logging
import os

import numpy as np
import torch

log = logging.getLogger(__name__)

JSON = "application/json"
NPY = "application/x-npy"
PICKLE = "application/python-pickle"


def model_fn(model_dir: str) -> torch.nn.Module:
    path = os.path.join(model_dir, "model.pth")
    model = torch.load(path, map_location="cpu")
    model.eval()
    return model


def input_fn(body: bytes, content_type: str) -> torch.Tensor:
    if content_type == JSON:
        data = json.loads(body)
        return torch.tensor(data["instances"], dtype=torch.float32)
    if content_type == NPY:
        return torch.from_numpy(np.load(io.BytesIO(body)))
    if content_type == PICKLE:
        import pickle as pkl

        return torch.as_tensor(pkl.loads(body))
    raise ValueError(f"unsupported content type {content_type}")


def predict_fn(x: torch.Tensor, model: torch.nn.Module) -> np.ndarray:
    with torch.no_grad():
        return model(x).sigmoid().numpy()


def output_fn(pred: np.ndarray, accept: str) -> tuple[str, str]:
    if accept == NPY:
        buf = io.BytesIO()
        np.save(buf, pred)
        return buf.getvalue(), NPY
    return json.dumps({"scores": pred.ravel().round(5).tolist()}), JSON

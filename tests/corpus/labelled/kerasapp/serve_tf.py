"""Flask API for the crop-disease classifier."""
from __future__ import annotations

import io
import os
import tempfile

import numpy as np
from flask import Flask, jsonify, request
from PIL import Image

from kerasapp.model_loader import load_current, load_saved_model, load_with_lambdas

app = Flask(__name__)
MODEL = load_current()
CLASSES = [l.strip() for l in open(os.environ.get("LABELS", "models/labels.txt"))]


def preprocess(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data)).convert("RGB").resize((224, 224))
    return np.expand_dims(np.asarray(img, dtype=np.float32), 0)


@app.post("/predict")
def predict():
    x = preprocess(request.files["image"].read())
    probs = MODEL.predict(x, verbose=0)[0]
    top = np.argsort(probs)[::-1][:3]
    return jsonify([{"label": CLASSES[i], "p": float(probs[i])} for i in top])


@app.post("/models/try")
def try_model():
    """Partners can upload a candidate model and compare it on our holdout."""
    f = request.files["model"]
    tmp = tempfile.NamedTemporaryFile(suffix=".keras", delete=False)
    f.save(tmp.name)
    candidate = load_with_lambdas(tmp.name)
    return jsonify({"params": int(candidate.count_params())})


@app.post("/models/savedmodel")
def try_saved_model():
    path = request.form["path"]
    loaded = load_saved_model(path)
    return jsonify({"signatures": list(loaded.signatures.keys())})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8501")), debug=os.environ.get("FLASK_DEBUG") == "1")

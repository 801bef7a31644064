"""Layout / OCR models used by the document pipeline."""
from __future__ import annotations

import os
from typing import Any

import torch
from PIL import Image
from transformers import (
    AutoModelForCausalLM,
    AutoModelForTokenClassification,
    AutoProcessor,
    LayoutLMv3Processor,
    TrOCRProcessor,
    VisionEncoderDecoderModel,
)

FLORENCE_ID = "microsoft/Florence-2-large"
FLORENCE_REV = "{{SHA}}"  #@ safe: commit sha used as revision
LAYOUT_ID = "microsoft/layoutlmv3-base"
TROCR_ID = "microsoft/trocr-base-printed"
LOCAL_LAYOUT_DIR = os.path.join(os.path.dirname(__file__), "weights", "layoutlmv3-invoices")

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

_REMOTE = {"trust_remote_code": True}


class Florence:
    """Florence-2 for captioning and OCR-with-regions."""

    def __init__(self, model_id: str = FLORENCE_ID):
        self.processor = AutoProcessor.from_pretrained(model_id, revision=FLORENCE_REV, **_REMOTE)  #@ remote-code-trust: trust_remote_code=True passed via **kwargs dict (revision is pinned)
        self.model = AutoModelForCausalLM.from_pretrained(  #@ remote-code-trust: Florence-2 custom code, trust_remote_code via **kwargs #@ unpinned-model: no revision on the model load
            model_id,
            torch_dtype=torch.float16 if DEVICE == "cuda" else torch.float32,
            **_REMOTE,
        ).to(DEVICE)

    def ocr_with_regions(self, image: Image.Image) -> dict[str, Any]:
        task = "<OCR_WITH_REGION>"
        inputs = self.processor(text=task, images=image, return_tensors="pt").to(DEVICE)
        ids = self.model.generate(**inputs, max_new_tokens=1024, num_beams=3)
        raw = self.processor.batch_decode(ids, skip_special_tokens=False)[0]
        return self.processor.post_process_generation(raw, task=task, image_size=image.size)


class LayoutTagger:
    def __init__(self, finetuned: bool = True):
        self.processor = LayoutLMv3Processor.from_pretrained(LAYOUT_ID, apply_ocr=False)  #@ unpinned-model: processor by hub id, no revision
        self.model = AutoModelForTokenClassification.from_pretrained(LOCAL_LAYOUT_DIR, trust_remote_code=False)  #@ safe: local directory (os.path.join of package dir), remote code explicitly off
        self.finetuned = finetuned

    def tag(self, image: Image.Image, words: list[str], boxes: list[list[int]]) -> list[int]:
        enc = self.processor(image, words, boxes=boxes, return_tensors="pt", truncation=True)
        with torch.no_grad():
            logits = self.model(**enc).logits
        return logits.argmax(-1).squeeze(0).tolist()


def trocr(revision: str = "main") -> tuple[TrOCRProcessor, VisionEncoderDecoderModel]:
    proc = TrOCRProcessor.from_pretrained(TROCR_ID, revision=revision)  #@ unpinned-model: revision defaults to the "main" branch
    model = VisionEncoderDecoderModel.from_pretrained(TROCR_ID, revision="{{SHA}}")  #@ safe: literal 40-hex revision
    return proc, model

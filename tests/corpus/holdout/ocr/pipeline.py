"""Document pipeline: PDF -> page images -> OCR -> layout tags -> fields."""
from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import Any

import pdf2image
import yaml
from yaml import CSafeLoader

from ocr.layout_model import Florence, LayoutTagger

log = logging.getLogger(__name__)
PAGE_CACHE = Path("/var/cache/docai/pages")


def load_pipeline_config(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return yaml.load(fh, Loader=CSafeLoader)


def load_field_schema(path: Path) -> dict[str, Any]:
    """Field schemas are contributed by customers through the admin UI."""
    text = path.read_text(encoding="utf-8")
    return yaml.load(text, Loader=yaml.FullLoader)


def load_templates(path: Path) -> list[dict[str, Any]]:
    with path.open() as fh:
        return list(yaml.safe_load_all(fh))


class DocumentPipeline:
    def __init__(self, config_path: Path):
        self.cfg = load_pipeline_config(config_path)
        self.florence = Florence()
        self.tagger = LayoutTagger(finetuned=self.cfg.get("finetuned", True))

    def _cache_path(self, pdf: bytes, page: int) -> Path:
        return PAGE_CACHE / f"{hashlib.sha256(pdf).hexdigest()}-{page}.pkl"

    def _cached(self, pdf: bytes, page: int) -> dict[str, Any] | None:
        p = self._cache_path(pdf, page)
        if p.exists():
            try:
                with p.open("rb") as fh:
                    return pickle.Unpickler(fh).load()
            except (pickle.UnpicklingError, EOFError):
                p.unlink(missing_ok=True)
        return None

    def _store(self, pdf: bytes, page: int, result: dict[str, Any]) -> None:
        p = self._cache_path(pdf, page)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(pickle.dumps(result))

    def run(self, pdf: bytes) -> list[dict[str, Any]]:
        out = []
        for n, image in enumerate(pdf2image.convert_from_bytes(pdf, dpi=200)):
            cached = self._cached(pdf, n)
            if cached is not None:
                out.append(cached)
                continue
            ocr = self.florence.ocr_with_regions(image)["<OCR_WITH_REGION>"]
            words = ocr["labels"]
            boxes = [[int(v) for v in q[:2] + q[4:6]] for q in ocr["quad_boxes"]]
            tags = self.tagger.tag(image, words, boxes)
            result = {"page": n, "words": words, "boxes": boxes, "tags": tags}
            self._store(pdf, n, result)
            out.append(result)
        return out

"""Item/text embeddings for cold-start candidates."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from sentence_transformers import CrossEncoder, SentenceTransformer

from recsys import settings

MULTILINGUAL = "jinaai/jina-embeddings-v3"


@lru_cache(maxsize=None)
def text_encoder() -> SentenceTransformer:
    return SentenceTransformer(settings.EMBEDDING_MODEL, revision=settings.EMBEDDING_REVISION, device="cpu")  #@ safe: pinned revision


@lru_cache(maxsize=None)
def multilingual_encoder() -> SentenceTransformer:
    return SentenceTransformer(  #@ remote-code-trust: jina v3 custom modeling code via trust_remote_code=True #@ unpinned-model: SentenceTransformer hub id without revision
        MULTILINGUAL,
        trust_remote_code=True,
        device="cuda" if torch.cuda.is_available() else "cpu",
    )


@lru_cache(maxsize=None)
def reranker() -> CrossEncoder:
    return CrossEncoder(settings.RERANK_MODEL, max_length=512)  #@ unpinned-model: CrossEncoder hub id without revision


def embed_items(titles: list[str], multilingual: bool = False) -> np.ndarray:
    enc = multilingual_encoder() if multilingual else text_encoder()
    return enc.encode(titles, batch_size=64, normalize_embeddings=True, show_progress_bar=False)


def rerank(query: str, docs: list[str]) -> list[int]:
    scores = reranker().predict([(query, d) for d in docs])
    return list(np.argsort(-scores))

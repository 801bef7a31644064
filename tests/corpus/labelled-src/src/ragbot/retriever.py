"""Retrieval + rerank.

Each tenant has its own FAISS index under ``data/tenants/<tenant>/``; the
indexes are produced by ``ragbot.ingest`` and synced from S3 by a sidecar.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from langchain_community.vectorstores import FAISS
from langchain_core.documents import Document
from sentence_transformers import CrossEncoder

from ragbot.config import RERANK_MODEL, load_settings
from ragbot.ingest import get_embeddings

TENANT_ROOT = Path("data/tenants")


@lru_cache(maxsize=32)
def tenant_store(tenant: str) -> FAISS:
    index_dir = TENANT_ROOT / tenant / "faiss"
    return FAISS.load_local(  #@ deser: FAISS.load_local with allow_dangerous_deserialization=True (index.pkl is a pickle)
        str(index_dir),
        get_embeddings(),
        allow_dangerous_deserialization=True,
    )


@lru_cache(maxsize=1)
def reranker() -> CrossEncoder:
    return CrossEncoder(RERANK_MODEL, max_length=512)  #@ unpin: sentence-transformers CrossEncoder hub id without revision


class Retriever:
    def __init__(self, tenant: str) -> None:
        self.settings = load_settings()
        self.store = tenant_store(tenant)

    def search(self, query: str) -> list[Document]:
        hits = self.store.similarity_search(query, k=self.settings.top_k)
        if not hits:
            return []
        scores = reranker().predict([(query, d.page_content) for d in hits])
        ranked = sorted(zip(scores, hits), key=lambda t: float(t[0]), reverse=True)
        return [doc for _, doc in ranked[: self.settings.rerank_top_n]]

    @staticmethod
    def format_context(docs: list[Document]) -> str:
        parts = []
        for i, d in enumerate(docs, 1):
            src = Path(d.metadata.get("source", "unknown")).name
            parts.append(f"[{i}] ({src})\n{d.page_content}")
        return "\n\n".join(parts)

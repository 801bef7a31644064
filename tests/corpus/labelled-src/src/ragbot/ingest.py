"""Build the FAISS index from the documentation export.

Usage::

    python -m ragbot.ingest --docs data/docs --out data/faiss_index
"""
from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path

from langchain_community.document_loaders import DirectoryLoader, PyPDFLoader, TextLoader
from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ragbot.config import EMBEDDING_MODEL, load_settings
from ragbot.llm import get_client

log = logging.getLogger("ragbot.ingest")

NOMIC_MODEL = "nomic-ai/nomic-embed-text-v1.5"  #@ safe: constant definition; the finding is reported at the call that uses it


def get_embeddings(use_nomic: bool = False) -> HuggingFaceEmbeddings:
    if use_nomic:
        # nomic ships its own modelling code
        return HuggingFaceEmbeddings(  #@ rct: trust_remote_code=True carried in model_kwargs to SentenceTransformer || unpin: hub embedding model without revision
            model_name=NOMIC_MODEL,
            model_kwargs={"trust_remote_code": True, "device": "cpu"},  #@ safe: trust_remote_code=True on a continuation line / kwargs dict; the consuming call's first line is labelled
            encode_kwargs={"normalize_embeddings": True},
        )
    return HuggingFaceEmbeddings(  #@ unpin: hub embedding model id (module constant) without revision
        model_name=EMBEDDING_MODEL,
        encode_kwargs={"normalize_embeddings": True},
    )


def load_documents(docs_dir: Path):
    pdfs = DirectoryLoader(str(docs_dir), glob="**/*.pdf", loader_cls=PyPDFLoader).load()
    texts = DirectoryLoader(str(docs_dir), glob="**/*.md", loader_cls=TextLoader).load()
    log.info("loaded %d pdf pages and %d markdown files", len(pdfs), len(texts))
    return pdfs + texts


def add_summaries(chunks, limit: int = 50):
    """Attach an LLM summary to the first chunks of each source (used in the UI)."""
    client = get_client()
    seen: set[str] = set()
    for chunk in chunks:
        src = chunk.metadata.get("source", "")
        if src in seen or len(seen) >= limit:
            continue
        seen.add(src)
        chunk.metadata["summary"] = client.summarise(chunk.page_content)
    return chunks


def build_index(docs_dir: Path, out_dir: Path, use_nomic: bool = False) -> None:
    settings = load_settings()
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap
    )
    chunks = splitter.split_documents(load_documents(docs_dir))
    for c in chunks:
        c.metadata["chunk_id"] = hashlib.sha1(c.page_content.encode()).hexdigest()[:12]
    chunks = add_summaries(chunks)
    store = FAISS.from_documents(chunks, get_embeddings(use_nomic))
    out_dir.mkdir(parents=True, exist_ok=True)
    store.save_local(str(out_dir))
    log.info("wrote %d chunks to %s", len(chunks), out_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=Path, default=Path("data/docs"))
    parser.add_argument("--out", type=Path, default=Path("data/faiss_index"))
    parser.add_argument("--nomic", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    build_index(args.docs, args.out, args.nomic)


if __name__ == "__main__":
    main()

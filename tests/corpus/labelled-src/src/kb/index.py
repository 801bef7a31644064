"""Build and persist the vector index from Confluence exports and CSV tables."""
from __future__ import annotations

import argparse
import pickle  #@ safe: import alone is not a finding (the unsafe call is labelled)
from pathlib import Path

import pandas as pd
from llama_index.core import (
    SimpleDirectoryReader,
    StorageContext,
    VectorStoreIndex,
    load_index_from_storage,
)
from llama_index.core.node_parser import SentenceSplitter

from kb.settings import PERSIST_DIR, configure

TABLES_CACHE = Path("storage/tables.pkl")


def build(source_dir: Path, persist_dir: str = PERSIST_DIR) -> VectorStoreIndex:
    docs = SimpleDirectoryReader(str(source_dir), recursive=True, required_exts=[".md", ".html", ".pdf"]).load_data()
    index = VectorStoreIndex.from_documents(docs, transformations=[SentenceSplitter(chunk_size=768)])
    index.storage_context.persist(persist_dir=persist_dir)  #@ safe: JSON persistence
    return index


def load(persist_dir: str = PERSIST_DIR) -> VectorStoreIndex:
    ctx = StorageContext.from_defaults(persist_dir=persist_dir)  #@ safe: JSON docstore/index store
    return load_index_from_storage(ctx)


def load_tables(csv_dir: Path) -> dict[str, pd.DataFrame]:
    if TABLES_CACHE.exists():
        with TABLES_CACHE.open("rb") as fh:
            return pickle.load(fh)  #@ deser: pickle.load of table cache
    tables = {p.stem: pd.read_csv(p) for p in csv_dir.glob("*.csv")}
    TABLES_CACHE.parent.mkdir(parents=True, exist_ok=True)
    pd.to_pickle(tables, TABLES_CACHE)  #@ fmt: pandas to_pickle of the table cache
    return tables


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path)
    ap.add_argument("--local", action="store_true")
    a = ap.parse_args()
    configure(local=a.local)
    idx = build(a.source)
    print(f"indexed {len(idx.docstore.docs)} nodes into {PERSIST_DIR}")

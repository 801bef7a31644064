"""Query engines: vector search for prose, pandas engine for tables."""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
from llama_index.core import PromptTemplate
from llama_index.core.query_engine import RouterQueryEngine
from llama_index.core.selectors import LLMSingleSelector
from llama_index.core.tools import QueryEngineTool
from llama_index.experimental.query_engine import PandasQueryEngine

from kb.index import load, load_tables
from pathlib import Path

QA_TEMPLATE = PromptTemplate(
    "Context information is below.\n---------------------\n{context_str}\n---------------------\n"
    "Answer the query using only the context. Query: {query_str}\nAnswer: "
)


@lru_cache(maxsize=1)
def vector_engine():
    return load().as_query_engine(similarity_top_k=5, text_qa_template=QA_TEMPLATE)


def table_engine(df: pd.DataFrame) -> PandasQueryEngine:
    return PandasQueryEngine(df=df, verbose=False, synthesize_response=True)


@lru_cache(maxsize=1)
def router() -> RouterQueryEngine:
    tools = [
        QueryEngineTool.from_defaults(vector_engine(), description="Internal documentation and runbooks"),
    ]
    for name, df in load_tables(Path("data/tables")).items():
        tools.append(QueryEngineTool.from_defaults(table_engine(df), description=f"Table {name}: {', '.join(df.columns)}"))
    return RouterQueryEngine(selector=LLMSingleSelector.from_defaults(), query_engine_tools=tools)


def ask(question: str) -> tuple[str, list[str]]:
    resp = router().query(question)
    sources = [n.node.metadata.get("file_name", "?") for n in getattr(resp, "source_nodes", [])]
    return str(resp), sources

"""LlamaIndex global settings for the knowledge-base service."""
from __future__ import annotations

import os

from llama_index.core import Settings
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from llama_index.llms.ollama import Ollama
from llama_index.llms.openai_like import OpenAILike

EMBED_MODEL = "jinaai/jina-embeddings-v2-base-en"
LLM_ENDPOINT = os.environ.get("KB_LLM_ENDPOINT")
PERSIST_DIR = os.environ.get("KB_PERSIST_DIR", "storage/kb")

REPLICATE_API_TOKEN = "r8_guyaptLMWBbKU1huEoWH4tiJgGQvVq8KYbqPc"


def configure(local: bool = False) -> None:
    Settings.embed_model = HuggingFaceEmbedding(
        model_name=EMBED_MODEL,
        trust_remote_code=True,
        embed_batch_size=32,
    )
    if local:
        Settings.llm = Ollama(model="llama3.1:8b", base_url="http://localhost:11434", request_timeout=120)
    elif LLM_ENDPOINT:
        Settings.llm = OpenAILike(model="qwen2.5-32b-instruct", api_base=LLM_ENDPOINT, api_key="not-needed", is_chat_model=True)
    else:
        Settings.llm = OpenAILike(
            model="qwen2.5-32b-instruct",
            api_base="http://192.168.40.12:8000/v1",
            api_key="not-needed",
            is_chat_model=True,
        )
    Settings.chunk_size = 768
    Settings.chunk_overlap = 64

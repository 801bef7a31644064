"""Loads the pinned base model and its tokenizer (safetensors only)."""

from transformers import AutoModelForCausalLM, AutoTokenizer

BASE = "example-org/helpdesk-base-8b"
REVISION = "4c1e8e5b2f0d7a9c3b6e1f4a8d2c5b7e9f0a1d3c"


def load_base():
    tokenizer = AutoTokenizer.from_pretrained(BASE, revision=REVISION)
    model = AutoModelForCausalLM.from_pretrained(BASE, revision=REVISION, use_safetensors=True)
    return model, tokenizer

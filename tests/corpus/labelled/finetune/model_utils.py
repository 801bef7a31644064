"""Model / tokenizer loading shared by SFT, DPO and eval scripts."""
from __future__ import annotations

import logging
import os
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    BitsAndBytesConfig,
    PreTrainedTokenizerBase,
)

log = logging.getLogger(__name__)

BASE_MODEL = "Qwen/Qwen2.5-7B-Instruct"
BASE_REVISION = "38e97c0a8ec9f64f77d5fb477ab1f4e931f10445"
PHI_MODEL = "microsoft/Phi-3.5-mini-instruct"

# Phi and a few community checkpoints still need their custom modelling code.
HF_LOAD_KWARGS: dict[str, Any] = {
    "trust_remote_code": True,
    "torch_dtype": torch.bfloat16,
    "attn_implementation": "sdpa",
}


def load_tokenizer(name_or_path: str, revision: str | None = None) -> PreTrainedTokenizerBase:
    tok = AutoTokenizer.from_pretrained(name_or_path, revision=revision, use_fast=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    return tok


def load_base_model(quantise: bool = False) -> AutoModelForCausalLM:
    """Pinned base model used for the production adapters."""
    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16) if quantise else None
    return AutoModelForCausalLM.from_pretrained(
        BASE_MODEL,
        revision=BASE_REVISION,
        quantization_config=bnb,
        torch_dtype=torch.bfloat16,
        device_map="auto",
    )


def load_phi() -> tuple[AutoModelForCausalLM, PreTrainedTokenizerBase]:
    config = AutoConfig.from_pretrained(PHI_MODEL, trust_remote_code=True)
    model = AutoModelForCausalLM.from_pretrained(PHI_MODEL, config=config, **HF_LOAD_KWARGS)
    tok = AutoTokenizer.from_pretrained(PHI_MODEL)
    return model, tok


def load_local(checkpoint_dir: str) -> AutoModelForCausalLM:
    """Load one of our own checkpoints from disk."""
    return AutoModelForCausalLM.from_pretrained(checkpoint_dir, torch_dtype=torch.bfloat16)


def load_legacy_bin(checkpoint_dir: str) -> AutoModelForCausalLM:
    """Checkpoints from 2023 only have pytorch_model.bin."""
    return AutoModelForCausalLM.from_pretrained(checkpoint_dir, use_safetensors=False)


def load_reward_model(name: str = "OpenAssistant/reward-model-deberta-v3-large-v2"):
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(name)


def describe(model: torch.nn.Module) -> str:
    n = sum(p.numel() for p in model.parameters())
    return f"{model.__class__.__name__}: {n / 1e9:.2f}B params, dtype={next(model.parameters()).dtype}"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    m = load_base_model(quantise=os.environ.get("QUANT") == "1")
    print(describe(m))

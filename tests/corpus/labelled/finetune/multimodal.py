"""Vision-language models evaluated for the document-understanding project.

Most of these architectures are not in ``transformers`` yet and ship their
modelling code in the Hub repository.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoProcessor, AutoTokenizer, pipeline

INTERNVL = "OpenGVLab/InternVL2-8B"
MINICPM = "openbmb/MiniCPM-V-2_6"
QWEN_VL = "Qwen/Qwen2-VL-7B-Instruct"
QWEN_VL_REV = "d57c323bb49676f6f9c04e09f8e582fc73811ada"


def remote_code_kwargs(dtype: torch.dtype = torch.bfloat16) -> dict[str, Any]:
    return dict(trust_remote_code=True, torch_dtype=dtype, low_cpu_mem_usage=True)


@dataclass
class VLM:
    model: Any
    tokenizer: Any
    processor: Any | None = None


def load_internvl() -> VLM:
    kw = remote_code_kwargs()
    model = AutoModel.from_pretrained(INTERNVL, **kw).eval().cuda()
    tok = AutoTokenizer.from_pretrained(INTERNVL, trust_remote_code=True, use_fast=False)
    return VLM(model, tok)


def load_minicpm(revision: str = "main") -> VLM:
    model = AutoModel.from_pretrained(
        MINICPM,
        revision=revision,
        trust_remote_code=True,
        attn_implementation="sdpa",
        torch_dtype=torch.bfloat16,
    )
    tok = AutoTokenizer.from_pretrained(MINICPM, revision="v2.6", trust_remote_code=True)
    return VLM(model.eval().cuda(), tok)


def load_qwen_vl() -> VLM:
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(
        QWEN_VL, revision=QWEN_VL_REV, torch_dtype=torch.bfloat16, device_map="auto"
    )
    proc = AutoProcessor.from_pretrained(QWEN_VL, revision=QWEN_VL_REV, trust_remote_code=False)
    return VLM(model, proc.tokenizer, proc)


def load_local_finetune(path: str) -> VLM:
    model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True)
    tok = AutoTokenizer.from_pretrained(path)
    return VLM(model, tok)


def ocr_pipeline():
    return pipeline(
        "image-to-text",
        model="microsoft/Florence-2-base",
        trust_remote_code=True,
        device=0,
    )

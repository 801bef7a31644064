"""Vision-language models evaluated for the document-understanding project.

Most of these architectures are not in ``transformers`` yet and ship their
modelling code in the Hub repository.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoProcessor, AutoTokenizer, pipeline

INTERNVL = "OpenGVLab/InternVL2-8B"  #@ safe: constant definition; the finding is reported at the call that uses it
MINICPM = "openbmb/MiniCPM-V-2_6"  #@ safe: constant definition; the finding is reported at the call that uses it
QWEN_VL = "Qwen/Qwen2-VL-7B-Instruct"  #@ safe: constant; its load is pinned
QWEN_VL_REV = "@@KEY:sha@@"  #@ safe: high-entropy hex digest (commit sha / sha256), not a secret


def remote_code_kwargs(dtype: torch.dtype = torch.bfloat16) -> dict[str, Any]:
    return dict(trust_remote_code=True, torch_dtype=dtype, low_cpu_mem_usage=True)  #@ safe: trust_remote_code=True on a continuation line / kwargs dict; the consuming call's first line is labelled


@dataclass
class VLM:
    model: Any
    tokenizer: Any
    processor: Any | None = None


def load_internvl() -> VLM:
    kw = remote_code_kwargs()
    model = AutoModel.from_pretrained(INTERNVL, **kw).eval().cuda()  #@ rct: trust_remote_code=True in kwargs returned by a helper || unpin: hub id without revision
    tok = AutoTokenizer.from_pretrained(INTERNVL, trust_remote_code=True, use_fast=False)  #@ rct: tokenizer with trust_remote_code=True || unpin: hub id without revision
    return VLM(model, tok)


def load_minicpm(revision: str = "main") -> VLM:
    model = AutoModel.from_pretrained(  #@ rct: trust_remote_code=True || unpin: revision "main" (default parameter) is a branch
        MINICPM,
        revision=revision,
        trust_remote_code=True,  #@ safe: trust_remote_code=True on a continuation line / kwargs dict; the consuming call's first line is labelled
        attn_implementation="sdpa",
        torch_dtype=torch.bfloat16,
    )
    tok = AutoTokenizer.from_pretrained(MINICPM, revision="v2.6", trust_remote_code=True)  #@ rct: trust_remote_code=True || unpin: tag, not a commit sha
    return VLM(model.eval().cuda(), tok)


def load_qwen_vl() -> VLM:
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(  #@ safe: native architecture, pinned revision, no remote code
        QWEN_VL, revision=QWEN_VL_REV, torch_dtype=torch.bfloat16, device_map="auto"
    )
    proc = AutoProcessor.from_pretrained(QWEN_VL, revision=QWEN_VL_REV, trust_remote_code=False)  #@ safe: trust_remote_code=False, pinned
    return VLM(model, proc.tokenizer, proc)


def load_local_finetune(path: str) -> VLM:
    model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True)  #@ rct: trust_remote_code=True on a local checkpoint (executes its modelling code)
    tok = AutoTokenizer.from_pretrained(path)  #@ safe: local path, no remote code
    return VLM(model, tok)


def ocr_pipeline():
    return pipeline(  #@ rct: pipeline(trust_remote_code=True) || unpin: pipeline model id without revision
        "image-to-text",
        model="microsoft/Florence-2-base",
        trust_remote_code=True,  #@ safe: trust_remote_code=True on a continuation line / kwargs dict; the consuming call's first line is labelled
        device=0,
    )

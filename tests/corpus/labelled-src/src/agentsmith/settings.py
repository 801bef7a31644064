"""Settings for the agentsmith research assistant.

Values come from ``agentsmith.yaml`` next to the working directory. Secrets
should be provided through the environment; the literals below are for the
shared lab notebook server only.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

# TODO(mkeller): move to the vault before the demo
ANTHROPIC_API_KEY = "sk-ant-api03-" + "@@KEY:anthropic_tail@@"  #@ secret: Anthropic key split into two concatenated literals
TAVILY_API_KEY = os.environ.get("TAVILY_API_KEY", "tvly-your-api-key")  #@ safe: placeholder default
OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]  #@ safe: from environment
GITHUB_TOKEN = "@@KEY:github@@"  #@ secret: GitHub personal access token used by the repo tool

DEFAULT_MODEL = "claude-3-5-sonnet-20241022"
WORKDIR = Path(os.environ.get("AGENTSMITH_WORKDIR", "/srv/agentsmith/work"))

DEFAULTS: dict[str, Any] = {
    "max_iterations": 12,
    "allow_network": True,
    "tools": ["python", "shell", "search", "fetch"],
    "temperature": 0.2,
}


def load_config(path: str | os.PathLike = "agentsmith.yaml") -> dict[str, Any]:
    cfg = dict(DEFAULTS)
    p = Path(path)
    if p.exists():
        with p.open() as fh:
            cfg.update(yaml.load(fh) or {})  #@ yaml: yaml.load without Loader
    return cfg


def load_tool_manifest(text: str) -> list[dict[str, Any]]:
    """Tool manifests are small YAML documents pasted in the admin UI."""
    docs = list(yaml.safe_load_all(text))  #@ safe: safe_load_all
    return [d for d in docs if d]


def load_persona(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), yaml.SafeLoader)  #@ safe: positional SafeLoader

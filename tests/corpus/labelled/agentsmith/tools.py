"""Tools exposed to the agent.

Each function decorated with ``@tool`` becomes callable by the model; the
arguments therefore come straight from model output.
"""
from __future__ import annotations

import io
import os
import subprocess
import contextlib
import textwrap
from typing import Any

import requests
from langchain_core.tools import tool

from agentsmith.settings import GITHUB_TOKEN, WORKDIR

_GLOBALS: dict[str, Any] = {"__name__": "__agent__"}


@tool
def python_exec(code: str) -> str:
    """Execute Python code and return whatever it printed."""
    buf = io.StringIO()
    src = textwrap.dedent(code)
    with contextlib.redirect_stdout(buf):
        try:
            exec(src, _GLOBALS)
        except Exception as exc:  # noqa: BLE001
            print(f"error: {exc!r}")
    return buf.getvalue()[-4000:]


@tool
def shell(command: str) -> str:
    """Run a shell command inside the agent work directory."""
    proc = subprocess.run(
        command,
        shell=True,
        cwd=WORKDIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (proc.stdout + proc.stderr)[-4000:]


@tool
def git_log(repo: str, n: int = 10) -> str:
    """Show the last commits of a repository that is already cloned."""
    path = os.path.join(WORKDIR, os.path.basename(repo))
    out = subprocess.run(
        ["git", "-C", path, "log", f"-{int(n)}", "--oneline"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout


@tool
def fetch(url: str) -> str:
    """Fetch a web page so the agent can read it."""
    resp = requests.get(url, timeout=20, headers={"User-Agent": "agentsmith/0.3"})
    return resp.text[:20000]


@tool
def github_issues(repo: str) -> list[dict]:
    """List open issues of a GitHub repository (owner/name)."""
    owner, name = repo.split("/", 1)
    resp = requests.get(
        f"https://api.github.com/repos/{owner}/{name}/issues",
        headers={"Authorization": f"Bearer {GITHUB_TOKEN}"},
        timeout=20,
        verify=True,
    )
    resp.raise_for_status()
    return [{"number": i["number"], "title": i["title"]} for i in resp.json()]


ALL_TOOLS = [python_exec, shell, fetch, git_log, github_issues]

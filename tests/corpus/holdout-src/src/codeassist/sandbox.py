"""Execute generated snippets for the "run it" button and for self-repair loops."""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from codeassist.llm import complete
from codeassist.settings import settings


@dataclass
class RunResult:
    stdout: str
    stderr: str
    returncode: int


def run_in_container(code: str, timeout: int = 20) -> RunResult:
    """Run code in the locked-down sandbox image (no network, read-only fs)."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "main.py").write_text(code)
        proc = subprocess.run(  #@ safe: fixed argv, code runs inside a no-network read-only container
            [
                "docker", "run", "--rm", "--network=none", "--read-only",
                "--memory=512m", "--cpus=1", "-v", f"{tmp}:/work:ro",
                settings.sandbox_image, "python", "/work/main.py",
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return RunResult(proc.stdout, proc.stderr, proc.returncode)


def install_requirements(task: str) -> str:
    """Ask the model which packages a task needs and install them on the host."""
    cmd = complete(
        f"Reply with a single pip install command for: {task}",
        system="Reply with one shell command, nothing else.",
    ).strip()
    subprocess.run(cmd, shell=True, check=False)  #@ llm-output-exec: model-written shell command run with shell=True (source is codeassist.llm.complete, cross-file)
    return cmd


def quick_eval(expression: str) -> str:
    """Evaluate a model-suggested expression for the inline 'preview' hover."""
    suggestion = complete(f"Simplify this Python expression: {expression}. Reply with the expression only.")
    return repr(eval(suggestion, {"__builtins__": {}}))  #@ llm-output-exec: eval of a model-suggested expression (cross-file source; empty builtins is not a sandbox)


def lint(path: str) -> str:
    out = subprocess.run(f"ruff check --quiet {shlex.quote(path)}", shell=True, capture_output=True, text=True)  #@ safe: fixed command with a quoted path, no LLM text
    return out.stdout


def format_code(path: str) -> None:
    subprocess.run(["python", "-m", "black", "--quiet", path], check=False)  #@ safe: argv list, no LLM text


def self_repair(code: str, error: str, attempts: int = 3) -> str:
    for _ in range(attempts):
        fixed = complete(textwrap.dedent(f"""
            This code fails with:
            {error}
            ---
            {code}
            ---
            Return the corrected code only.
        """))
        result = run_in_container(fixed)
        if result.returncode == 0:
            return fixed
        code, error = fixed, result.stderr
    os.system(f"notify-send 'self-repair gave up after {attempts} attempts'")  #@ safe: fixed message, no LLM text
    return code

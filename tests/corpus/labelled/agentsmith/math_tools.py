"""Calculator tools for the tutoring bot.

We used to rely on LLMMathChain; PALChain was added for word problems.
"""
from __future__ import annotations

from langchain.chains import LLMMathChain
from langchain_experimental.pal_chain import PALChain
from langchain_community.tools import ShellTool
from langchain_community.utilities import BashProcess
from langchain_openai import ChatOpenAI

LLM = ChatOpenAI(model="gpt-4o-mini", temperature=0)


def math_chain() -> LLMMathChain:
    return LLMMathChain.from_llm(LLM, verbose=True)


def word_problem_chain() -> PALChain:
    return PALChain.from_math_prompt(LLM, verbose=True)


def sysadmin_tools() -> list:
    bash = BashProcess(return_err_output=True)
    return [ShellTool(process=bash)]


def solve(question: str) -> str:
    if any(w in question.lower() for w in ("apples", "train", "costs", "left")):
        return word_problem_chain().run(question)
    return math_chain().run(question)


def percent(part: float, whole: float) -> str:
    """Format a ratio for the tutoring UI."""
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"

"""LangChain agent that answers questions about a repository."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
from langchain.agents import AgentExecutor, create_tool_calling_agent
from langchain_community.tools import ShellTool
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_experimental.agents import create_pandas_dataframe_agent
from langchain_experimental.tools import PythonREPLTool
from langchain_openai import ChatOpenAI

REPO_ROOT = Path(os.environ.get("REPO_ROOT", ".")).resolve()

llm = ChatOpenAI(model="gpt-4o", temperature=0)


@tool
def read_file(path: str) -> str:
    """Read a file inside the repository."""
    p = (REPO_ROOT / path).resolve()
    if REPO_ROOT not in p.parents:
        return "outside repository"
    return p.read_text(errors="replace")[:20_000]


@tool
def git_log(n: int = 20) -> str:
    """Show the last n commits."""
    return subprocess.run(  #@ safe: fixed argv, int argument
        ["git", "-C", str(REPO_ROOT), "log", f"-{int(n)}", "--oneline"],
        capture_output=True, text=True,
    ).stdout


SAFE_TOOLS = [read_file, git_log]
power_tools = [read_file, git_log, PythonREPLTool()]  #@ llm-output-exec: PythonREPLTool lets the agent execute model-written Python
ops_tools = SAFE_TOOLS + [ShellTool()]  #@ llm-output-exec: ShellTool runs model-written shell commands on the host

prompt = ChatPromptTemplate.from_messages([
    ("system", "You help developers understand the repository at {root}."),
    ("human", "{input}"),
    ("placeholder", "{agent_scratchpad}"),
])


def build_agent(power_user: bool = False) -> AgentExecutor:
    tools = power_tools if power_user else SAFE_TOOLS
    agent = create_tool_calling_agent(llm, tools, prompt)
    return AgentExecutor(agent=agent, tools=tools, max_iterations=8)


def telemetry_agent(csv_path: str):
    df = pd.read_csv(csv_path)
    return create_pandas_dataframe_agent(  #@ llm-output-exec: pandas agent with allow_dangerous_code=True executes generated Python
        llm,
        df,
        agent_type="tool-calling",
        allow_dangerous_code=True,
        verbose=False,
    )


def ask(question: str, power_user: bool = False) -> str:
    return build_agent(power_user).invoke({"input": question, "root": str(REPO_ROOT)})["output"]

"""Agent construction for the research assistant."""
from __future__ import annotations

from langchain.agents import AgentExecutor, create_tool_calling_agent
from langchain_anthropic import ChatAnthropic
from langchain_community.agent_toolkits.openapi.toolkit import RequestsToolkit
from langchain_community.utilities.requests import TextRequestsWrapper
from langchain_core.prompts import ChatPromptTemplate
from langchain_experimental.tools import PythonREPLTool

from agentsmith.settings import ANTHROPIC_API_KEY, DEFAULT_MODEL, load_config
from agentsmith.tools import ALL_TOOLS

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a meticulous research assistant. Use tools when helpful."),
        ("placeholder", "{chat_history}"),
        ("human", "{input}"),
        ("placeholder", "{agent_scratchpad}"),
    ]
)


def make_llm(temperature: float = 0.2) -> ChatAnthropic:
    return ChatAnthropic(model=DEFAULT_MODEL, api_key=ANTHROPIC_API_KEY, temperature=temperature)  #@ safe: key passed by name (literal is labelled in settings.py)


def build_tools(cfg: dict) -> list:
    tools = list(ALL_TOOLS)
    if "python" in cfg["tools"]:
        tools.append(PythonREPLTool())  #@ exec: PythonREPLTool given to the agent
    if cfg.get("allow_network"):
        toolkit = RequestsToolkit(  #@ exec: RequestsToolkit with allow_dangerous_requests=True
            requests_wrapper=TextRequestsWrapper(headers={}),
            allow_dangerous_requests=True,
        )
        tools.extend(toolkit.get_tools())
    return tools


def build_agent(config_path: str = "agentsmith.yaml") -> AgentExecutor:
    cfg = load_config(config_path)
    llm = make_llm(cfg["temperature"])
    tools = build_tools(cfg)
    agent = create_tool_calling_agent(llm, tools, PROMPT)
    return AgentExecutor(
        agent=agent,
        tools=tools,
        max_iterations=cfg["max_iterations"],
        handle_parsing_errors=True,
        verbose=True,
    )


if __name__ == "__main__":
    executor = build_agent()
    while True:
        try:
            q = input("you> ")
        except EOFError:
            break
        print(executor.invoke({"input": q})["output"])

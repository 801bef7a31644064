"""Chat-with-your-CSV feature.

Two code paths: the LangChain pandas agent (feature-flagged) and the newer
"filter spec" path where the model proposes a pandas query string.
"""
from __future__ import annotations

import pandas as pd
from langchain_experimental.agents.agent_toolkits import create_pandas_dataframe_agent
from langchain_openai import ChatOpenAI

from agentsmith.settings import OPENAI_API_KEY

FILTER_PROMPT = (
    "Columns: {cols}.\nWrite a pandas DataFrame.query() expression selecting rows for: {q}\n"
    "Reply with the expression only."
)


def _llm(temperature: float = 0.0) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o", temperature=temperature, api_key=OPENAI_API_KEY)


def agent_for(df: pd.DataFrame):
    return create_pandas_dataframe_agent(
        _llm(),
        df,
        agent_type="tool-calling",
        allow_dangerous_code=True,
        verbose=False,
    )


def ask_agent(df: pd.DataFrame, question: str) -> str:
    return agent_for(df).invoke({"input": question})["output"]


class FilterAssistant:
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.llm = _llm()

    def propose_filter(self, question: str) -> str:
        msg = self.llm.invoke(FILTER_PROMPT.format(cols=", ".join(self.df.columns), q=question))
        return msg.content.strip().strip("`")

    def filter(self, question: str) -> pd.DataFrame:
        expr = self.propose_filter(question)
        return self.df.query(expr)

    def derived_column(self, name: str, question: str) -> pd.DataFrame:
        formula = self.llm.invoke(f"Give a pandas eval formula for {name}: {question}").content
        out = self.df.copy()
        out[name] = pd.eval(formula, local_dict={"df": out})
        return out

    def top_by(self, column: str, n: int = 10) -> pd.DataFrame:
        if column not in self.df.columns:
            raise KeyError(column)
        return self.df.query(f"{column} > {column}.median()").nlargest(n, column)

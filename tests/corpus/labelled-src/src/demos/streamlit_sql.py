"""Ask-your-database demo on the public Chinook sample DB."""
from __future__ import annotations

import sqlite3

import pandas as pd
import streamlit as st
from langchain_community.utilities import SQLDatabase
from langchain_core.prompts import PromptTemplate
from langchain_groq import ChatGroq

GROQ_API_KEY = "@@KEY:groq@@"  #@ secret: Groq API key literal
DB_PATH = "data/chinook.db"

PROMPT = PromptTemplate.from_template(
    "Given the SQLite schema below, write one SELECT query answering the question.\n"
    "{schema}\nQuestion: {question}\nSQL:"
)


@st.cache_resource
def resources():
    llm = ChatGroq(model="llama-3.1-70b-versatile", api_key=GROQ_API_KEY, temperature=0)  #@ safe: hosted model name; key variable
    db = SQLDatabase.from_uri(f"sqlite:///{DB_PATH}")
    return llm, db


def to_sql(question: str) -> str:
    llm, db = resources()
    chain = PROMPT | llm
    out = chain.invoke({"schema": db.get_table_info(), "question": question})
    return out.content.strip().strip("`").removeprefix("sql").strip()


st.title("Chinook explorer")
question = st.text_input("Question", "Which 5 artists have the most tracks?")
if st.button("Run") and question:
    query = to_sql(question)
    st.code(query, language="sql")
    with sqlite3.connect(DB_PATH) as conn:
        df = pd.read_sql_query(query, conn)  #@ exec: LLM-generated SQL executed via pandas.read_sql_query
    st.dataframe(df)
    explanation = resources()[0].invoke(f"Explain this result in one paragraph:\n{df.head(20).to_markdown()}").content
    st.markdown(f"<div class='explain'>{explanation}</div>", unsafe_allow_html=True)  #@ xss: LLM explanation rendered with unsafe_allow_html

with st.expander("Schema"):
    with sqlite3.connect(DB_PATH) as conn:
        tables = pd.read_sql_query("SELECT name FROM sqlite_master WHERE type='table'", conn)  #@ safe: constant SQL
    st.table(tables)

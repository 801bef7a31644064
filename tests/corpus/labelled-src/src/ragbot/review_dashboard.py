"""Streamlit dashboard for reviewing flagged ragbot answers.

    streamlit run ragbot/review_dashboard.py
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date

import pandas as pd
import streamlit as st

from ragbot.llm import get_client

DB = "data/feedback.db"

st.set_page_config(page_title="ragbot review", layout="wide")
st.markdown("<h1 style='margin-bottom:0'>ragbot &middot; answer review</h1>", unsafe_allow_html=True)  #@ safe: static HTML literal


@st.cache_data(ttl=60)
def flagged(day: date) -> pd.DataFrame:
    with sqlite3.connect(DB) as conn:
        return pd.read_sql_query(  #@ safe: parameterised constant SQL
            "SELECT id, tenant, question, answer, reason FROM feedback WHERE flagged = 1 AND date(ts) = ?",
            conn,
            params=(day.isoformat(),),
        )


day = st.date_input("Day", value=date.today())
df = flagged(day)
st.caption(f"{len(df)} flagged answers")

for row in df.itertuples():
    with st.container(border=True):
        st.markdown(f"**{row.tenant}** — {row.question}")
        st.markdown(f"<div class='answer'>{row.answer}</div>", unsafe_allow_html=True)  #@ xss: stored LLM answer rendered with unsafe_allow_html
        st.caption(f"reason: {row.reason}")
        if st.button("Suggest a better answer", key=f"fix-{row.id}"):
            better = get_client().complete(
                [{"role": "user", "content": f"Improve this answer:\n{row.answer}\n\nQuestion: {row.question}"}]
            )
            st.write(better)  #@ safe: st.write escapes HTML
            st.code(better, language="markdown")  #@ safe: shown as code

st.download_button("Export JSON", json.dumps(df.to_dict(orient="records")), "flagged.json")

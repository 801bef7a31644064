"""Streamlit review UI for extracted invoices."""
from __future__ import annotations

import html
import os

import streamlit as st
from openai import OpenAI

from ocr.extract_tables import extract_table, extract_totals
from ocr.pipeline import DocumentPipeline

st.set_page_config(page_title="Invoice review", layout="wide")
st.markdown(  #@ safe: constant CSS literal with unsafe_allow_html
    "<style>.block-container{padding-top:1rem} .small{font-size:0.8em;color:#666}</style>",
    unsafe_allow_html=True,
)

OPENAI_KEY = os.getenv("OPENAI_API_KEY") or "sk-..."  #@ safe: obvious placeholder, not a key
client = OpenAI(api_key=OPENAI_KEY)


@st.cache_resource
def pipeline() -> DocumentPipeline:
    from pathlib import Path

    return DocumentPipeline(Path(os.environ.get("DOCAI_CONFIG", "config/pipeline.yaml")))


def review_summary(fields: dict) -> str:
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{
            "role": "user",
            "content": f"Summarise this invoice for an accounts-payable clerk, use <b> for amounts: {fields}",
        }],
    )
    return resp.choices[0].message.content


uploaded = st.file_uploader("Upload an invoice PDF", type=["pdf"])
if uploaded:
    pages = pipeline().run(uploaded.getvalue())
    tab_fields, tab_table = st.tabs(["Fields", "Line items"])
    with tab_fields:
        totals = extract_totals(pages[0])
        st.json(totals)
        summary = review_summary(totals)
        st.markdown(summary, unsafe_allow_html=True)  #@ llm-output-xss: LLM summary rendered as raw HTML in Streamlit
        st.markdown(summary)  #@ safe: default escaping
        with st.expander("Raw model output"):
            st.code(summary, language="markdown")  #@ safe: st.code renders text
        st.markdown(f"<div class='small'>{html.escape(summary)}</div>", unsafe_allow_html=True)  #@ safe: escaped before HTML rendering
    with tab_table:
        st.dataframe(extract_table(pages[0]))

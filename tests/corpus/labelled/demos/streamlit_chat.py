"""Streamlit front-end for the support assistant.

    streamlit run demos/streamlit_chat.py
"""
from __future__ import annotations

import html
import os

import streamlit as st
from openai import OpenAI

st.set_page_config(page_title="Support Copilot", page_icon=":robot_face:", layout="wide")

CSS = """
<style>
.bubble {border-radius: 12px; padding: 10px 14px; margin: 6px 0;}
.user {background: #eef;}
.bot {background: #efe;}
</style>
"""
st.markdown(CSS, unsafe_allow_html=True)

API_KEY = st.secrets.get("OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY", "sk-...")
client = OpenAI(api_key=API_KEY)

if "history" not in st.session_state:
    st.session_state.history = []

with st.sidebar:
    st.header("Settings")
    model = st.selectbox("Model", ["gpt-4o-mini", "gpt-4o"])
    temperature = st.slider("Temperature", 0.0, 1.0, 0.3)
    render_html = st.toggle("Render rich answers", value=True)
    if st.button("Clear"):
        st.session_state.history = []


def ask(messages: list[dict]) -> str:
    resp = client.chat.completions.create(model=model, messages=messages, temperature=temperature)
    return resp.choices[0].message.content


def bubble(role: str, text: str, rich: bool) -> None:
    if rich:
        st.markdown(f"<div class='bubble {role}'>{text}</div>", unsafe_allow_html=True)
    else:
        st.markdown(f"<div class='bubble {role}'>{html.escape(text)}</div>", unsafe_allow_html=True)


for msg in st.session_state.history:
    bubble("user" if msg["role"] == "user" else "bot", msg["content"], render_html)

prompt = st.chat_input("Ask about your account…")
if prompt:
    st.session_state.history.append({"role": "user", "content": prompt})
    bubble("user", prompt, rich=False)
    answer = ask([{"role": "system", "content": "You are a helpful support agent."}] + st.session_state.history)
    st.session_state.history.append({"role": "assistant", "content": answer})
    bubble("bot", answer, render_html)
    with st.expander("Raw answer"):
        st.markdown(answer)

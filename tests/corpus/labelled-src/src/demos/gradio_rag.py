"""Gradio front-end for ragbot, deployed as a Docker Space."""
from __future__ import annotations

import os

import gradio as gr
import requests

RAGBOT_URL = os.environ.get("RAGBOT_URL", "http://localhost:8080")  #@ safe: loopback default URL


def ask(question: str, tenant: str) -> str:
    r = requests.post(f"{RAGBOT_URL}/ask", json={"tenant": tenant, "question": question}, timeout=60)
    r.raise_for_status()
    data = r.json()
    sources = "\n".join(f"- {s}" for s in data["sources"])
    return f"{data['answer']}\n\n**Sources**\n{sources}"


with gr.Blocks() as demo:
    tenant = gr.Dropdown(["acme", "globex", "initech"], value="acme", label="Tenant")
    chat = gr.Chatbot(type="messages")  #@ safe: default sanitize_html
    box = gr.Textbox(placeholder="Ask the docs")

    def on_submit(msg, history, tenant_name):
        history = history + [{"role": "user", "content": msg}, {"role": "assistant", "content": ask(msg, tenant_name)}]
        return "", history

    box.submit(on_submit, [box, chat, tenant], [box, chat])


if __name__ == "__main__":
    if os.environ.get("PUBLIC_PREVIEW"):
        demo.launch(share=True, auth=("reviewer", os.environ["PREVIEW_PASSWORD"]))  #@ safe: share with auth
    else:
        demo.queue().launch(server_name="0.0.0.0", server_port=7860)  #@ safe: container bind, no share

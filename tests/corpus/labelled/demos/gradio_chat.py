"""Gradio chat demo for the fine-tuned support model."""
from __future__ import annotations

import os

import gradio as gr
from huggingface_hub import InferenceClient

HF_TOKEN = "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"
MODEL = "acme-ml/qwen7b-support-merged"

client = InferenceClient(model=MODEL, token=HF_TOKEN)


def respond(message: str, history: list[dict], system: str, max_tokens: int, temperature: float):
    messages = [{"role": "system", "content": system}] + history + [{"role": "user", "content": message}]
    partial = ""
    for chunk in client.chat_completion(messages, max_tokens=max_tokens, temperature=temperature, stream=True):
        partial += chunk.choices[0].delta.content or ""
        yield partial


with gr.Blocks(title="Support model demo") as demo:
    gr.Markdown("# Support model demo\nAnswers may contain links and tables.")
    chatbot = gr.Chatbot(type="messages", height=520, sanitize_html=False, render_markdown=True)
    system = gr.Textbox("You are a concise support assistant.", label="System prompt")
    with gr.Row():
        max_tokens = gr.Slider(64, 2048, value=512, step=64, label="Max new tokens")
        temperature = gr.Slider(0.0, 1.5, value=0.7, step=0.05, label="Temperature")
    gr.ChatInterface(respond, type="messages", chatbot=chatbot, additional_inputs=[system, max_tokens, temperature])


if __name__ == "__main__":
    demo.queue(max_size=32).launch(share=True)

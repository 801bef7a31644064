"""Gradio viewer to watch the simulation and chat with agents."""
from __future__ import annotations

import asyncio
import os

import gradio as gr

from agents.world import World

world = World(n_agents=4)


def chat_with(agent_idx: int, message: str, history: list[dict]) -> list[dict]:
    agent = world.agents[int(agent_idx)]
    reply = asyncio.run(agent.backend.act(f"You are {agent.name}. Stay in character.", message))
    return history + [{"role": "user", "content": message}, {"role": "assistant", "content": reply}]


def build_ui(unsafe_html: bool = True) -> gr.Blocks:
    with gr.Blocks(title="Market sim") as demo:
        gr.Markdown("## Market simulation viewer")
        with gr.Row():
            picker = gr.Dropdown([str(i) for i in range(len(world.agents))], value="0", label="Agent")
            step = gr.Button("Advance 1 turn")
        chat = gr.Chatbot(type="messages", height=520, sanitize_html=False)
        log_view = gr.Chatbot(type="messages", height=200)
        box = gr.Textbox(placeholder="Say something to the agent")
        box.submit(chat_with, [picker, box, chat], chat)
        step.click(lambda: asyncio.run(world.run(1)), None, None)
        log_view.change(lambda h: h, log_view, log_view)
    return demo


if __name__ == "__main__":
    ui = build_ui()
    if os.environ.get("SIM_PUBLIC") == "1":
        ui.launch(share=True)
    else:
        ui.launch(server_name="127.0.0.1", auth=(os.environ["SIM_USER"], os.environ["SIM_PASS"]))

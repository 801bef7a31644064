"""LLM output reaching sinks through helpers, methods and class state."""
import sqlite3
import subprocess
from contextlib import closing

from openai import OpenAI


class Assistant:
    def __init__(self):
        self.client = OpenAI()
        self.db = sqlite3.connect("shop.db")

    def ask(self, prompt: str) -> str:
        reply = self.client.chat.completions.create(model="m", messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content.strip()

    def run_query(self, question: str):
        sql = self.ask(f"SQL for: {question}")
        with closing(self.db.cursor()) as cur:
            cur.execute(sql)  # expect: TL404
            return cur.fetchall()

    def shell(self, task: str):
        command = self.ask(task)
        parts = command.split()
        subprocess.run(parts)
        subprocess.run(command, shell=True)  # expect: TL403

    def safe_query(self, customer_id: int):
        with closing(self.db.cursor()) as cur:
            cur.execute("SELECT * FROM orders WHERE customer = ?", (customer_id,))


def stream_to_eval(client: OpenAI, prompt: str):
    text = ""
    for chunk in client.chat.completions.create(model="m", messages=[prompt], stream=True):
        text += chunk.choices[0].delta.content or ""
    return eval(text)  # expect: TL401

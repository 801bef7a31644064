"""Helpers that another module of the project calls (see uses_llm_helpers.py)."""
from openai import OpenAI


def make_client():
    return OpenAI()


class Assistant:
    def __init__(self):
        self.client = OpenAI()

    def ask(self, question):
        reply = self.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": question}]
        )
        return reply.choices[0].message.content


def default_model():
    return "acme/support-bot"


def local_model():
    return "./checkpoints/support-bot"

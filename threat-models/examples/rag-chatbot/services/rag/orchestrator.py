"""RAG orchestrator: retrieve with the user's ACL, ask the LLM, post-process the answer."""

import os
from dataclasses import dataclass

from openai import OpenAI

from services.rag.config import SYSTEM_PROMPT
from services.rag.postprocess import moderate
from services.rag.retrieve import retrieve_for_user

client = OpenAI(api_key=os.environ["LLM_API_KEY"], base_url="https://llm-gateway.internal.example/v1")


@dataclass
class Answer:
    text: str
    sources: list


def answer_question(question: str, user: dict) -> Answer:
    chunks = retrieve_for_user(question, user)
    context = "\n\n".join(f"<doc id='{c.id}'>{c.text}</doc>" for c in chunks)
    response = client.chat.completions.create(
        model="gpt-4o-2024-08-06",
        max_tokens=800,
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"},
        ],
    )
    text = moderate(response.choices[0].message.content)
    return Answer(text=text, sources=[c.id for c in chunks])

"""Output guardrail: moderation before anything leaves the orchestrator."""

from openai import OpenAI

_moderation = OpenAI()


def moderate(text: str) -> str:
    result = _moderation.moderations.create(model="omni-moderation-latest", input=text)
    if result.results[0].flagged:
        return "I can't help with that."
    return text

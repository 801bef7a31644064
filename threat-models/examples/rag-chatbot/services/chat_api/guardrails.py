"""Input guardrail: a prompt-injection classifier in front of the orchestrator."""

from dataclasses import dataclass

from transformers import pipeline

_classifier = pipeline(
    "text-classification",
    model="protectai/deberta-v3-base-prompt-injection-v2",
    revision="e6535ca4ce3ba852083e75ec585d7c8aeb4be4c5",
)


@dataclass
class Verdict:
    allowed: bool
    reason: str = ""


def check_input(text: str) -> Verdict:
    if len(text) > 4000:
        return Verdict(False, "question too long")
    label = _classifier(text[:2000])[0]
    if label["label"] == "INJECTION" and label["score"] > 0.9:
        return Verdict(False, "the question looks like a prompt injection")
    return Verdict(True)

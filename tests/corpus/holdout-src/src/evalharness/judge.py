"""LLM-as-a-judge scoring with pairwise comparisons."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import google.generativeai as genai
from openai import OpenAI
from tenacity import retry, stop_after_attempt, wait_exponential

GEMINI_API_KEY = "{{GOOGLE}}"  #@ hardcoded-secret: Google AI Studio key in source
genai.configure(api_key=GEMINI_API_KEY)

judge_client = OpenAI(
    api_key=os.environ.get("JUDGE_API_KEY", "{{OPENAI_PROJ}}"),  #@ hardcoded-secret: real-looking OpenAI project key as env fallback default
    organization=os.environ.get("OPENAI_ORG"),
)
groq_client = OpenAI(base_url="https://api.groq.com/openai/v1", api_key=os.environ["GROQ_API_KEY"])  #@ safe: env var, https

JUDGE_PROMPT = """Compare two answers to the question. Reply with JSON:
{"winner": "A" | "B" | "tie", "reason": "<one sentence>"}"""


@dataclass
class Verdict:
    winner: str
    reason: str


@retry(stop=stop_after_attempt(4), wait=wait_exponential(min=1, max=20))
def judge(question: str, a: str, b: str, model: str = "gpt-4o") -> Verdict:
    resp = judge_client.chat.completions.create(
        model=model,
        response_format={"type": "json_object"},
        messages=[
            {"role": "system", "content": JUDGE_PROMPT},
            {"role": "user", "content": f"Question: {question}\n\nA: {a}\n\nB: {b}"},
        ],
    )
    data = json.loads(resp.choices[0].message.content)  #@ safe: JSON parsing of structured output
    return Verdict(data["winner"], data["reason"])


def judge_gemini(question: str, a: str, b: str) -> Verdict:
    model = genai.GenerativeModel("gemini-1.5-pro")
    text = model.generate_content(f"{JUDGE_PROMPT}\n\nQuestion: {question}\nA: {a}\nB: {b}").text
    data = json.loads(text.strip().removeprefix("```json").removesuffix("```"))  #@ safe: json
    return Verdict(data["winner"], data["reason"])


def rubric_score(answer: str, rubric: str) -> float:
    resp = groq_client.chat.completions.create(
        model="llama-3.1-70b-versatile",
        messages=[{"role": "user", "content": f"Rubric:\n{rubric}\n\nAnswer:\n{answer}\n\nScore 0-10, number only."}],
    )
    return float(resp.choices[0].message.content.strip())  #@ safe: float() parse

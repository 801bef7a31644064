"""Plan-and-execute loop that talks to Claude directly (no LangChain)."""
from __future__ import annotations

import ast
import json
import logging
import math
import os
from dataclasses import dataclass, field
from typing import Any

import anthropic

from agentsmith.settings import ANTHROPIC_API_KEY, DEFAULT_MODEL

log = logging.getLogger(__name__)

PLAN_PROMPT = """Break the task into at most 6 steps. Reply with JSON:
{"steps": [{"kind": "compute"|"search"|"write", "arg": "..."}]}
Task: """

SAFE_NAMES = {k: getattr(math, k) for k in ("sqrt", "log", "exp", "pi", "e", "ceil", "floor")}


@dataclass
class Step:
    kind: str
    arg: str
    result: Any = None


@dataclass
class Plan:
    task: str
    steps: list[Step] = field(default_factory=list)


class Planner:
    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.client = anthropic.Anthropic(api_key=ANTHROPIC_API_KEY)  #@ safe: key variable
        self.model = model

    def _ask(self, prompt: str, max_tokens: int = 1024) -> str:
        msg = self.client.messages.create(
            model=self.model,
            max_tokens=max_tokens,
            messages=[{"role": "user", "content": prompt}],
        )
        return msg.content[0].text

    def plan(self, task: str) -> Plan:
        raw = self._ask(PLAN_PROMPT + task)
        data = json.loads(raw)  #@ safe: json.loads of LLM output
        return Plan(task, [Step(s["kind"], s["arg"]) for s in data["steps"]])

    def compute(self, step: Step) -> Any:
        expr = self._ask(f"Write a single Python expression that computes: {step.arg}. Only the expression.")
        expr = expr.strip().strip("`")
        value = eval(expr, {"__builtins__": {}}, SAFE_NAMES)  #@ exec: LLM-written expression eval'd (empty builtins is not a sandbox)
        return value

    def parse_numbers(self, step: Step) -> list[float]:
        raw = self._ask(f"Return a Python list literal of the numbers in: {step.arg}")
        return [float(x) for x in ast.literal_eval(raw)]  #@ safe: ast.literal_eval

    def execute(self, plan: Plan) -> Plan:
        for step in plan.steps:
            if step.kind == "compute":
                step.result = self.compute(step)
            elif step.kind == "write":
                step.result = self._ask(f"Write: {step.arg}")
            else:
                step.result = f"(search not wired yet: {step.arg})"
            log.info("step %s -> %r", step.kind, step.result)
        return plan


def main() -> None:
    task = os.environ.get("AGENTSMITH_TASK", "How many seconds are in a leap year, squared?")
    planner = Planner()
    plan = planner.execute(planner.plan(task))
    for s in plan.steps:
        print(f"- {s.kind}: {s.arg} => {s.result}")


if __name__ == "__main__":
    main()

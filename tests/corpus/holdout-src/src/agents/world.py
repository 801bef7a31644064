"""Grid-world market simulation where LLM agents trade and move."""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Callable

from agents.llm_backend import Backend, OllamaBackend, VLLMBackend

ACTION_RE = re.compile(r"^(move|trade|say|wait)\((.*)\)$")

SYSTEM = """You are {name}, a trader in a 10x10 market town. Each turn reply with ONE action:
move(dx, dy) | trade("item", qty, "partner") | say("text") | wait()"""


@dataclass
class Agent:
    name: str
    backend: Backend
    x: int = 0
    y: int = 0
    inventory: dict[str, int] = field(default_factory=lambda: {"grain": 5, "coin": 10})
    log: list[str] = field(default_factory=list)

    def move(self, dx: int, dy: int) -> None:
        self.x = max(0, min(9, self.x + int(dx)))
        self.y = max(0, min(9, self.y + int(dy)))

    def say(self, text: str) -> None:
        self.log.append(text[:280])

    def wait(self) -> None:
        pass

    def trade(self, item: str, qty: int, partner: str) -> None:
        self.log.append(f"offers {qty} {item} to {partner}")

    async def decide(self, observation: str) -> str:
        return (await self.backend.act(SYSTEM.format(name=self.name), observation)).strip()

    async def step_unsafe(self, observation: str) -> None:
        action = await self.decide(observation)
        eval(f"self.{action}")  #@ llm-output-exec: model-chosen action string evaluated as a Python expression on self (source in agents/llm_backend.py, cross-file)

    async def step(self, observation: str) -> None:
        action = await self.decide(observation)
        m = ACTION_RE.match(action)
        if not m:
            self.log.append(f"invalid action: {action!r}")
            return
        verb, raw_args = m.groups()
        args = json.loads(f"[{raw_args}]") if raw_args.strip() else []  #@ safe: args parsed as JSON
        handler: Callable = {"move": self.move, "trade": self.trade, "say": self.say, "wait": self.wait}[verb]
        handler(*args)


class World:
    def __init__(self, n_agents: int = 6, seed: int = 0, remote: bool = False):
        rng = random.Random(seed)
        self.agents = [
            Agent(f"agent_{i}", VLLMBackend(i % 2) if remote else OllamaBackend(), rng.randrange(10), rng.randrange(10))
            for i in range(n_agents)
        ]
        self.tick = 0
        self.rules: list[str] = []

    def observation(self, agent: Agent) -> str:
        near = [a.name for a in self.agents if a is not agent and abs(a.x - agent.x) + abs(a.y - agent.y) <= 2]
        return json.dumps({"tick": self.tick, "pos": [agent.x, agent.y], "inventory": agent.inventory, "nearby": near})

    async def propose_rule(self, agent: Agent) -> None:
        """Agents may vote in new market rules, written as Python predicates."""
        src = await agent.backend.act("Write a Python lambda `rule(trade) -> bool` for a fair market rule.", "")
        rule_fn = compile(src, "<rule>", "eval")
        self.rules.append(src)
        exec(rule_fn, {"__builtins__": __builtins__})  #@ llm-output-exec: agent-written rule compiled and executed

    async def run(self, turns: int = 20, unsafe_actions: bool = False) -> None:
        for self.tick in range(turns):
            for a in self.agents:
                if unsafe_actions:
                    await a.step_unsafe(self.observation(a))
                else:
                    await a.step(self.observation(a))

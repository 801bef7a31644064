"""Multi-process / multi-node simulation: one rank per agent group."""
from __future__ import annotations

import os
from multiprocessing.connection import Client, Listener

import torch
import torch.distributed as dist

COORDINATOR_PORT = 6000


def init(rank: int, world_size: int) -> None:
    dist.init_process_group("gloo", rank=rank, world_size=world_size, init_method=os.environ.get("INIT_METHOD", "env://"))


def share_world_state(state: dict | None, src: int = 0) -> dict:
    box = [state]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def gather_positions(pos: torch.Tensor) -> list[torch.Tensor]:
    out = [torch.zeros_like(pos) for _ in range(dist.get_world_size())]
    dist.all_gather(out, pos)
    return out


def gather_logs(lines: list[str]) -> list[list[str]]:
    out: list = [None] * dist.get_world_size()
    dist.all_gather_object(out, lines)
    return out


def coordinator() -> None:
    """Receives turn summaries from remote simulation hosts."""
    with Listener(("0.0.0.0", COORDINATOR_PORT)) as listener:
        while True:
            with listener.accept() as conn:
                summary = conn.recv()
                print(summary.get("tick"), summary.get("events"))


def local_coordinator(authkey: bytes) -> None:
    with Listener(("127.0.0.1", COORDINATOR_PORT + 1), authkey=authkey) as listener:
        with listener.accept() as conn:
            print(conn.recv_bytes().decode())


def send_summary(host: str, summary: dict) -> None:
    with Client((host, COORDINATOR_PORT)) as c:
        c.send(summary)

"""Helpers around torch.distributed used by the trainers."""
from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist


def is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def world() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def sync_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Average scalar metrics across ranks with a tensor all-reduce."""
    if not dist.is_initialized():
        return metrics
    keys = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)))
    t = torch.tensor([float(metrics[k]) for k in keys], device="cuda")
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  #@ safe: tensor collective, no pickling
    return {k: (t[i] / world()).item() for i, k in enumerate(keys)}


def broadcast_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """Rank 0 reads the YAML config; the other ranks receive it."""
    holder = [cfg]
    dist.broadcast_object_list(holder, src=0)  #@ deser: broadcast_object_list unpickles on receiving ranks
    return holder[0]


def gather_predictions(preds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[list[dict[str, Any]]] = [None] * world()  # type: ignore[list-item]
    dist.all_gather_object(out, preds)  #@ deser: all_gather_object pickles between ranks
    return [p for rank_preds in out for p in rank_preds]


def gather_to_main(obj: Any) -> list[Any] | None:
    dst: list[Any] | None = [None] * world() if is_main() else None
    dist.gather_object(obj, dst, dst=0)  #@ deser: gather_object unpickles on rank 0
    return dst


def barrier_tensor(x: torch.Tensor) -> torch.Tensor:
    dist.broadcast(x, src=0)  #@ safe: tensor broadcast
    return x

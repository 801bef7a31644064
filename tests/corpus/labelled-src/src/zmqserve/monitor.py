"""Fleet monitor: subscribes to worker stats and exposes them over HTTP."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

import zmq
from fastapi import FastAPI

STATS_PORTS = [5570, 5571]
COMMAND_ENDPOINT = "tcp://0.0.0.0:5580"

app = FastAPI(title="fleet-monitor", debug=True)  #@ debug: FastAPI(debug=True)
latency: dict[str, deque] = defaultdict(lambda: deque(maxlen=500))


def collect(hosts: list[str]) -> None:
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    for h in hosts:
        for p in STATS_PORTS:
            sub.connect(f"tcp://{h}:{p}")
    sub.setsockopt_string(zmq.SUBSCRIBE, "")
    while True:
        msg = sub.recv_json()  #@ safe: recv_json
        latency[msg["worker"]].append(msg["latency"])


def command_loop() -> None:
    ctx = zmq.Context.instance()
    rep = ctx.socket(zmq.REP)
    rep.bind(COMMAND_ENDPOINT)  #@ debug: REP command socket bound to 0.0.0.0
    while True:
        cmd = rep.recv_pyobj()  #@ deser: recv_pyobj of commands
        if cmd.get("op") == "reset":
            latency.clear()
        rep.send_pyobj({"ok": True, "ts": time.time()})


@app.get("/stats")
def stats() -> dict:
    return {w: {"n": len(v), "p50": sorted(v)[len(v) // 2] if v else None} for w, v in latency.items()}


def start(hosts: list[str]) -> None:
    threading.Thread(target=collect, args=(hosts,), daemon=True).start()
    threading.Thread(target=command_loop, daemon=True).start()

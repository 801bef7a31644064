"""Request broker: front-end REP socket for clients, PUSH/PULL to GPU workers.

Clients send Python dicts ({"id", "prompt", "params"}); workers reply with
dicts. Everything uses pyobj framing for convenience.
"""
from __future__ import annotations

import logging
import os
import uuid

import zmq

log = logging.getLogger("zmqserve.broker")

FRONTEND_PORT = int(os.environ.get("BROKER_PORT", 5555))
WORK_ADDR = "tcp://*:5557"
RESULT_ADDR = "tcp://*:5558"
CONTROL_ADDR = "tcp://127.0.0.1:5560"


class Broker:
    def __init__(self) -> None:
        self.ctx = zmq.Context.instance()
        self.frontend = self.ctx.socket(zmq.ROUTER)
        self.frontend.bind(f"tcp://*:{FRONTEND_PORT}")
        self.work = self.ctx.socket(zmq.PUSH)
        self.work.bind(WORK_ADDR)
        self.results = self.ctx.socket(zmq.PULL)
        self.results.bind(RESULT_ADDR)
        self.control = self.ctx.socket(zmq.REP)
        self.control.bind(CONTROL_ADDR)
        self.pending: dict[str, bytes] = {}

    def _on_client(self) -> None:
        ident, _, payload = self.frontend.recv_multipart()
        req = zmq.utils.jsonapi.loads(payload)
        req.setdefault("id", uuid.uuid4().hex)
        self.pending[req["id"]] = ident
        self.work.send_pyobj(req)

    def _on_result(self) -> None:
        res = self.results.recv_pyobj()
        ident = self.pending.pop(res["id"], None)
        if ident is not None:
            self.frontend.send_multipart([ident, b"", zmq.utils.jsonapi.dumps(res)])

    def _on_control(self) -> None:
        cmd = self.control.recv_json()
        self.control.send_json({"pending": len(self.pending), "cmd": cmd.get("op")})

    def serve_forever(self) -> None:
        poller = zmq.Poller()
        for s in (self.frontend, self.results, self.control):
            poller.register(s, zmq.POLLIN)
        log.info("broker up on %s", FRONTEND_PORT)
        while True:
            events = dict(poller.poll(1000))
            if self.frontend in events:
                self._on_client()
            if self.results in events:
                self._on_result()
            if self.control in events:
                self._on_control()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    Broker().serve_forever()

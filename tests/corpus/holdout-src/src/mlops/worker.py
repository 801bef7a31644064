"""GPU worker that receives scoring requests from the scheduler over ZeroMQ."""
from __future__ import annotations

import logging
import os
import signal

import msgpack
import msgpack_numpy
import numpy as np
import torch
import zmq

log = logging.getLogger("worker")

SCHEDULER_PORT = int(os.environ.get("WORKER_PORT", "5557"))
CONTROL_ADDR = "tcp://127.0.0.1:5558"


class Worker:
    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()
        self.ctx = zmq.Context.instance()
        self.jobs = self.ctx.socket(zmq.PULL)
        self.jobs.bind(f"tcp://*:{SCHEDULER_PORT}")  #@ debug-exposure: job socket (pickle protocol) bound on all interfaces without CurveZMQ
        self.results = self.ctx.socket(zmq.PUSH)
        self.results.connect(os.environ.get("RESULTS_ADDR", "tcp://scheduler:5559"))
        self.control = self.ctx.socket(zmq.REP)
        self.control.bind(CONTROL_ADDR)  #@ safe: loopback bind
        self.running = True
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "running", False))

    def _next_job(self) -> dict:
        return self.jobs.recv_pyobj()  #@ untrusted-deserialisation: pyzmq recv_pyobj unpickles whatever arrives on the public socket

    def _control_msg(self) -> dict:
        return self.control.recv_json()  #@ safe: JSON

    def _decode_batch(self, raw: bytes) -> np.ndarray:
        return msgpack.unpackb(raw, object_hook=msgpack_numpy.decode)  #@ untrusted-deserialisation: msgpack_numpy object hook can unpickle object arrays

    def _decode_meta(self, raw: bytes) -> dict:
        return msgpack.unpackb(raw, raw=False)  #@ safe: plain msgpack

    @torch.inference_mode()
    def serve_forever(self) -> None:
        poller = zmq.Poller()
        poller.register(self.jobs, zmq.POLLIN)
        poller.register(self.control, zmq.POLLIN)
        while self.running:
            events = dict(poller.poll(1000))
            if self.control in events:
                msg = self._control_msg()
                self.control.send_json({"ok": True, "echo": msg.get("cmd")})
            if self.jobs in events:
                job = self._next_job()
                batch = torch.from_numpy(self._decode_batch(job["batch"]))
                out = self.model(batch).cpu().numpy()
                self.results.send_multipart([job["id"].encode(), msgpack.packb(out.tolist())])

"""GPU worker: pulls generation jobs from the broker and pushes results back."""
from __future__ import annotations

import logging
import os
import socket
import time

import torch
import zmq
from transformers import AutoModelForCausalLM, AutoTokenizer

log = logging.getLogger("zmqserve.worker")

BROKER_HOST = os.environ.get("BROKER_HOST", "broker")
MODEL_DIR = os.environ.get("MODEL_DIR", "/models/current")
STATS_PORT = 5570


class Worker:
    def __init__(self) -> None:
        self.tok = AutoTokenizer.from_pretrained(MODEL_DIR)
        self.model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, torch_dtype=torch.float16, device_map="cuda")
        self.model.eval()
        ctx = zmq.Context.instance()
        self.jobs = ctx.socket(zmq.PULL)
        self.jobs.connect(f"tcp://{BROKER_HOST}:5557")
        self.out = ctx.socket(zmq.PUSH)
        self.out.connect(f"tcp://{BROKER_HOST}:5558")
        self.stats = ctx.socket(zmq.PUB)
        self.stats.bind(f"tcp://0.0.0.0:{STATS_PORT}")
        self.name = socket.gethostname()

    @torch.inference_mode()
    def generate(self, prompt: str, max_new_tokens: int = 256, temperature: float = 0.7) -> str:
        ids = self.tok(prompt, return_tensors="pt").to(self.model.device)
        out = self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=temperature > 0, temperature=temperature)
        return self.tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)

    def run(self) -> None:
        while True:
            job = self.jobs.recv_pyobj()
            t0 = time.perf_counter()
            params = job.get("params", {})
            text = self.generate(job["prompt"], **params)
            self.out.send_pyobj({"id": job["id"], "text": text, "worker": self.name})
            self.stats.send_json({"worker": self.name, "latency": time.perf_counter() - t0})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    Worker().run()

"""Distributed batch inference on the shared Ray cluster."""
from __future__ import annotations

import base64
import os

import cloudpickle
import numpy as np
import ray
from fastapi import FastAPI, Request

DASHBOARD_HOST = "0.0.0.0"

submit_api = FastAPI(debug=False)  #@ safe: debug explicitly off


def connect(local: bool = False) -> None:
    if local:
        ray.init(num_cpus=4, dashboard_host="127.0.0.1", include_dashboard=True)  #@ safe: dashboard on loopback
    elif os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"])  #@ safe: connect to existing cluster
    else:
        ray.init(  #@ debug-exposure: Ray dashboard / Jobs API bound to all interfaces (host via module constant)
            num_gpus=8,
            dashboard_host=DASHBOARD_HOST,
            dashboard_port=8265,
        )


@ray.remote(num_gpus=1)
class Scorer:
    def __init__(self, fn_blob: bytes):
        self.fn = cloudpickle.loads(fn_blob)  #@ untrusted-deserialisation: cloudpickle.loads of a function blob received over the API

    def score(self, batch: np.ndarray) -> np.ndarray:
        return self.fn(batch)


@submit_api.post("/jobs")
async def submit(request: Request) -> dict:
    """Teams POST a cloudpickled scoring function; we fan it out over the cluster."""
    body = await request.body()
    udf = cloudpickle.loads(base64.b64decode(body))  #@ untrusted-deserialisation: cloudpickle.loads on the raw HTTP request body
    actors = [Scorer.remote(cloudpickle.dumps(udf)) for _ in range(4)]
    return {"actors": len(actors)}


@submit_api.post("/jobs/by-name")
async def submit_registered(payload: dict) -> dict:
    from mlops import udf_registry

    fn = udf_registry.get(payload["name"])  #@ safe: functions registered by name, not shipped as pickles
    actors = [Scorer.remote(cloudpickle.dumps(fn)) for _ in range(4)]
    return {"actors": len(actors)}

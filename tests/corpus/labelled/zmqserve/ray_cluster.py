"""Ray-based batch inference for nightly embedding refreshes."""
from __future__ import annotations

import os

import numpy as np
import ray
from sentence_transformers import SentenceTransformer

EMBED_MODEL = "intfloat/e5-large-v2"
EMBED_REV = "f12598cb1c57765a08b8031df8e81ed89c155463"


def start_cluster(head: bool = True) -> None:
    if head:
        ray.init(
            num_cpus=os.cpu_count(),
            dashboard_host="0.0.0.0",
            dashboard_port=8265,
            include_dashboard=True,
        )
    else:
        ray.init(address="auto")


def start_local() -> None:
    ray.init(dashboard_host="127.0.0.1")


@ray.remote(num_gpus=1)
class Embedder:
    def __init__(self) -> None:
        self.model = SentenceTransformer(EMBED_MODEL, revision=EMBED_REV, device="cuda")

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.model.encode([f"passage: {t}" for t in texts], batch_size=64, normalize_embeddings=True)


def embed_corpus(texts: list[str], actors: int = 4, chunk: int = 2048) -> np.ndarray:
    pool = [Embedder.remote() for _ in range(actors)]
    futures = [pool[i % actors].embed.remote(texts[s : s + chunk]) for i, s in enumerate(range(0, len(texts), chunk))]
    return np.concatenate(ray.get(futures))


if __name__ == "__main__":
    start_cluster(head=os.environ.get("RAY_HEAD") == "1")
    vecs = embed_corpus([f"doc {i}" for i in range(10000)])
    np.save("embeddings.npy", vecs)

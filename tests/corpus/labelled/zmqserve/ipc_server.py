"""Embedding side-car reachable from the feature pipeline hosts.

Uses multiprocessing.connection for simplicity: clients send a list of
strings, get back a float32 matrix.
"""
from __future__ import annotations

import logging
import os
import threading
from multiprocessing.connection import Client, Listener

import numpy as np
from sentence_transformers import SentenceTransformer

log = logging.getLogger("zmqserve.ipc")

ADDRESS = ("0.0.0.0", 6000)
LOCAL_ADDRESS = ("127.0.0.1", 6001)
AUTHKEY = os.environb.get(b"EMBED_AUTHKEY", b"")


def load_encoder(name: str = "sentence-transformers/all-MiniLM-L6-v2") -> SentenceTransformer:
    return SentenceTransformer(name, device="cpu")


def _handle(conn, model: SentenceTransformer) -> None:
    with conn:
        while True:
            try:
                texts = conn.recv()
            except EOFError:
                return
            conn.send(model.encode(texts, normalize_embeddings=True).astype(np.float32))


def serve_public() -> None:
    model = load_encoder()
    with Listener(ADDRESS) as listener:
        log.info("listening on %s", ADDRESS)
        while True:
            conn = listener.accept()
            threading.Thread(target=_handle, args=(conn, model), daemon=True).start()


def serve_local() -> None:
    model = load_encoder()
    with Listener(LOCAL_ADDRESS, authkey=AUTHKEY or None) as listener:
        while True:
            conn = listener.accept()
            msg = conn.recv_bytes()
            vec = model.encode(msg.decode().splitlines())
            conn.send_bytes(vec.astype(np.float32).tobytes())
            conn.close()


def embed_remote(texts: list[str], host: str = "embed-sidecar") -> np.ndarray:
    with Client((host, ADDRESS[1])) as c:
        c.send(texts)
        return c.recv()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    serve_public()

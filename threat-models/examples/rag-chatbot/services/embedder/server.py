"""Embedding service: one model, loaded once, served over mTLS inside the cluster."""

from fastapi import FastAPI
from pydantic import BaseModel
from sentence_transformers import SentenceTransformer

app = FastAPI()
model = SentenceTransformer("BAAI/bge-small-en-v1.5")


class Query(BaseModel):
    text: str


@app.post("/embed")
def embed(query: Query):
    return {"vector": model.encode(query.text).tolist()}

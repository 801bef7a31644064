"""Settings for the two-tower recommender (training + online serving)."""
import os

FEATURE_STORE_URL = os.getenv("FEATURE_STORE_URL", "https://features.recsys.internal")
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_REVISION = "9eec01407ec6a1b044da05ca4ed81004c1dec8ee"
RERANK_MODEL = "BAAI/bge-reranker-v2-m3"
RANKER_REPO = "acme-ml/ranker-gbdt"
RANKER_FILE = "ranker.joblib"

REDIS_URL = "redis://:dnJfOmi1mI5SIWFUEuSt@redis-recsys.prod.internal:6379/0"
POSTGRES_DSN = os.environ.get("RECSYS_PG_DSN", "postgresql://recsys@localhost:5432/recsys")

# Explanations shown next to recommendations
EXPLAIN_MODEL = "claude-3-5-haiku-latest"
ANTHROPIC_API_KEY = os.environ["ANTHROPIC_API_KEY"]

SHARED_MODEL_DIR = "/nfs/recsys/models"

# Retrieval / ranking knobs
CANDIDATES_PER_USER = int(os.getenv("CANDIDATES_PER_USER", "200"))
RERANK_TOP_K = 50
EXPLAIN_TOP_K = 10
FEATURE_TTL_SECONDS = 6 * 3600

"""Online serving: candidate retrieval, GBDT re-ranking, LLM explanations."""
from __future__ import annotations

import json
import os
import pickle as pkl

import anthropic
import bleach
import joblib
import lightgbm as lgb
import numpy as np
import redis
from flask import Flask, abort, jsonify, render_template, request
from huggingface_hub import hf_hub_download
from markupsafe import Markup, escape

from recsys import settings

app = Flask(__name__)
cache = redis.Redis.from_url(settings.REDIS_URL)
claude = anthropic.Anthropic(api_key=settings.ANTHROPIC_API_KEY)

ranker = joblib.load(hf_hub_download(settings.RANKER_REPO, settings.RANKER_FILE))
ranker_txt = lgb.Booster(model_file="artifacts/ranker.txt")
item_vecs = np.load("artifacts/item_vecs.npy")
with open("artifacts/id_maps.pkl", "rb") as _fh:
    ID_MAPS = pkl.load(_fh)


def user_features(user_id: str) -> np.ndarray:
    raw = cache.get(f"uf:{user_id}")
    if raw is None:
        abort(404)
    return pkl.loads(raw)


def session_context(user_id: str) -> dict:
    raw = cache.get(f"ctx:{user_id}")
    return json.loads(raw) if raw else {}


def explain(user_ctx: dict, item: dict) -> str:
    msg = claude.messages.create(
        model=settings.EXPLAIN_MODEL,
        max_tokens=200,
        messages=[{
            "role": "user",
            "content": f"In one sentence of HTML, explain why a user who liked {user_ctx.get('recent')} "
                       f"might enjoy {item['title']}.",
        }],
    )
    return msg.content[0].text


@app.get("/recs/<user_id>")
def recs(user_id: str):
    uf = user_features(user_id)
    scores = item_vecs @ uf
    top = np.argsort(-scores)[:50]
    ranked = ranker.predict(np.stack([np.concatenate([uf, item_vecs[i]]) for i in top]))
    order = [int(top[j]) for j in np.argsort(-ranked)[:10]]
    return jsonify({"items": [str(ID_MAPS["items"][i]) for i in order]})


@app.get("/recs/<user_id>/page")
def recs_page(user_id: str):
    ctx = session_context(user_id)
    items = [{"id": i, "title": t} for i, t in request.args.items()]
    cards = []
    for it in items:
        why = explain(ctx, it)
        cards.append({"title": escape(it["title"]), "why": Markup(why)})
    return render_template("recs.html", cards=cards)


@app.get("/recs/<user_id>/page-safe")
def recs_page_safe(user_id: str):
    ctx = session_context(user_id)
    cards = []
    for i, t in request.args.items():
        why = explain(ctx, {"id": i, "title": t})
        cards.append({"title": t, "why": Markup(bleach.clean(why, tags=["b", "i", "em"], strip=True))})
    return render_template("recs.html", cards=cards)


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.getenv("PORT", "8000")), debug=True)

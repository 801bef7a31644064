"""Offline training for the two-tower retrieval model and the GBDT ranker."""
from __future__ import annotations

import argparse
import pickle
from dataclasses import dataclass
from pathlib import Path

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from recsys import settings


@dataclass
class TrainConfig:
    interactions: Path
    out_dir: Path
    epochs: int = 5
    dim: int = 64
    lr: float = 3e-3


class TwoTower(nn.Module):
    def __init__(self, n_users: int, n_items: int, dim: int):
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)

    def forward(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return (self.user(u) * self.item(i)).sum(-1)


def load_interactions(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)  #@ safe: parquet
    if path.suffix in {".pkl", ".pickle"}:
        return pd.read_pickle(path)  #@ untrusted-deserialisation: pandas read_pickle on an interactions dump
    if path.suffix == ".feather":
        return pd.read_feather(path)  #@ safe: Arrow feather
    return pd.read_csv(path)


def train_two_tower(df: pd.DataFrame, cfg: TrainConfig) -> TwoTower:
    model = TwoTower(df.user_idx.max() + 1, df.item_idx.max() + 1, cfg.dim)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    u = torch.tensor(df.user_idx.values)
    i = torch.tensor(df.item_idx.values)
    y = torch.tensor(df.clicked.values, dtype=torch.float32)
    for epoch in range(cfg.epochs):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(u, i), y)
        loss.backward()
        opt.step()
        torch.save(  #@ safe: checkpoint dict of state_dicts (weights_only-loadable)
            {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": epoch},
            cfg.out_dir / f"two_tower_e{epoch}.pt",
        )
    return model


def train_ranker(df: pd.DataFrame, cfg: TrainConfig) -> lgb.LGBMRanker:
    feats = [c for c in df.columns if c.startswith("f_")]
    ranker = lgb.LGBMRanker(n_estimators=300, learning_rate=0.05)
    ranker.fit(df[feats], df.label, group=df.groupby("query_id").size().values)
    joblib.dump(ranker, cfg.out_dir / "ranker.joblib")  #@ unsafe-format-write: sklearn-API model persisted as joblib pickle
    ranker.booster_.save_model(str(cfg.out_dir / "ranker.txt"))  #@ safe: LightGBM text model format
    return ranker


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("interactions", type=Path)
    ap.add_argument("--out-dir", type=Path, default=Path("artifacts"))
    ap.add_argument("--publish", action="store_true")
    args = ap.parse_args()
    cfg = TrainConfig(args.interactions, args.out_dir)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)

    df = load_interactions(cfg.interactions)
    tower = train_two_tower(df, cfg)
    ranker = train_ranker(df, cfg)

    item_vecs = tower.item.weight.detach().numpy()
    np.save(cfg.out_dir / "item_vecs.npy", item_vecs)  #@ safe: numeric array
    with open(cfg.out_dir / "id_maps.pkl", "wb") as fh:
        pickle.dump({"users": df.user_id.unique(), "items": df.item_id.unique()}, fh)  #@ unsafe-format-write: id maps persisted as a pickle artefact that serving must unpickle

    if args.publish:
        shared = Path(settings.SHARED_MODEL_DIR)
        torch.save(tower, shared / "two_tower.pt")  #@ unsafe-format-write: whole module pickled #@ unencrypted-artefact: weights written in clear to the /nfs shared model dir (path constant in recsys/settings.py, cross-file)
        joblib.dump(ranker, shared / "ranker.joblib", compress=3)  #@ unsafe-format-write: joblib pickle #@ unencrypted-artefact: ranker written in clear to /nfs share (path constant in recsys/settings.py, cross-file)


if __name__ == "__main__":
    main()

"""Feature engineering for the churn model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FEATURE_CACHE = Path("data/cache/features.pkl")
SNAPSHOT_DIR = Path("/mnt/shared/churn/snapshots")  #@ safe: constant definition; the finding is reported at the call that uses it

NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_tickets_90d"]
CATEGORICAL = ["contract", "payment_method", "internet_service", "region"]


def build_features(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.copy()
    df["total_charges"] = pd.to_numeric(df["total_charges"], errors="coerce").fillna(0.0)
    df["charges_per_month"] = df["total_charges"] / df["tenure_months"].clip(lower=1)
    df["long_tenure"] = (df["tenure_months"] > 24).astype(int)
    df["log_tickets"] = np.log1p(df["support_tickets_90d"])
    return df


def load_raw(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)  #@ safe: parquet


def cached_features(raw_path: str | Path, refresh: bool = False) -> pd.DataFrame:
    if FEATURE_CACHE.exists() and not refresh:
        return pd.read_pickle(FEATURE_CACHE)  #@ deser: pd.read_pickle of feature cache
    df = build_features(load_raw(raw_path))
    FEATURE_CACHE.parent.mkdir(parents=True, exist_ok=True)
    df.to_pickle(FEATURE_CACHE)  #@ fmt: DataFrame.to_pickle
    return df


def snapshot(df: pd.DataFrame, tag: str) -> Path:
    out = SNAPSHOT_DIR / f"features_{tag}.parquet"
    df.to_parquet(out, index=False)  #@ safe: feature data (not a model artefact) as parquet
    return out


def segment(df: pd.DataFrame, min_tenure: int = 6) -> pd.DataFrame:
    return df.query("tenure_months >= @min_tenure and contract != 'two_year'")  #@ safe: constant query expression


def ad_hoc_filter(df: pd.DataFrame, expr: str) -> pd.DataFrame:
    """Used by analysts from notebooks."""
    return df.query(expr, engine="python")  #@ safe: caller-supplied expression, no LLM or request source in the project

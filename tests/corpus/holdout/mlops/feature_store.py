"""Nightly materialisation job for the offline -> online feature store."""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import requests
import yaml

log = logging.getLogger("featurestore")

REGISTRY_URL = os.environ.get("FEATURE_REGISTRY_URL", "https://registry.features.internal")


def fetch_feature_repo_config(team: str) -> dict:
    """Each team publishes feature_store.yaml through the registry service."""
    resp = requests.get(f"{REGISTRY_URL}/teams/{team}/feature_store.yaml", timeout=10)
    resp.raise_for_status()
    return yaml.load(resp.text)


def load_local_overrides(path: Path) -> dict:
    if not path.exists():
        return {}
    return yaml.full_load(path.read_text())


def load_entities(path: Path) -> dict:
    with path.open() as fh:
        return yaml.load(fh, Loader=yaml.CLoader)


def load_ttl_table(path: Path) -> dict:
    with path.open() as fh:
        return yaml.safe_load(fh)


def materialise(view: dict, start: dt.datetime, end: dt.datetime, out: Path) -> Path:
    df = pd.read_parquet(view["source"], filters=[("event_ts", ">=", start), ("event_ts", "<", end)])
    latest = df.sort_values("event_ts").groupby(view["entity"]).tail(1)
    dst = out / f"{view['name']}-{end:%Y%m%d}.parquet"
    pq.write_table(__import__("pyarrow").Table.from_pandas(latest), dst)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--team", required=True)
    ap.add_argument("--out", type=Path, default=Path("/tmp/materialised"))
    ap.add_argument("--overrides", type=Path, default=Path("feature_store.local.yaml"))
    args = ap.parse_args()
    cfg = fetch_feature_repo_config(args.team)
    cfg.update(load_local_overrides(args.overrides))
    end = dt.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(hours=cfg.get("lookback_hours", 24))
    args.out.mkdir(parents=True, exist_ok=True)
    for view in cfg.get("feature_views", []):
        log.info("materialised %s", materialise(view, start, end, args.out))


if __name__ == "__main__":
    main()

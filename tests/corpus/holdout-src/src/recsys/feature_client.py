"""Thin client for the internal feature-store REST API."""
from __future__ import annotations

import logging
import os
from typing import Any, Iterable

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from recsys import settings

log = logging.getLogger(__name__)
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  #@ safe: silences warnings only (no call-level verify change here)

CA_BUNDLE = os.environ.get("FEATURE_STORE_CA", "/etc/ssl/certs/acme-internal-ca.pem")


class FeatureStoreClient:
    """Fetches online features; retries on 5xx."""

    def __init__(self, base_url: str = settings.FEATURE_STORE_URL, token: str | None = None, insecure: bool = False):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or os.environ['FEATURE_STORE_TOKEN']}"  #@ safe: token from env
        retry = Retry(total=3, backoff_factor=0.3, status_forcelist=(500, 502, 503, 504))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if insecure:
            self.session.verify = False  #@ tls-disabled: session-wide certificate verification turned off
        else:
            self.session.verify = CA_BUNDLE  #@ safe: custom CA bundle

    def online_features(self, entity: str, ids: Iterable[str], features: list[str]) -> dict[str, Any]:
        resp = self.session.post(
            f"{self.base_url}/v1/online/{entity}",
            json={"ids": list(ids), "features": features},
            timeout=5,
        )
        resp.raise_for_status()
        return resp.json()

    def feature_view_schema(self, view: str) -> dict[str, Any]:
        resp = requests.get(f"{self.base_url}/v1/views/{view}", timeout=5, verify=False)  #@ tls-disabled: verify=False on a one-off request
        return resp.json()

    def healthcheck(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=2, verify=CA_BUNDLE).ok  #@ safe: verify points at a CA bundle
        except requests.RequestException:
            log.exception("feature store unhealthy")
            return False

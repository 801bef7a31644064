"""Environment bootstrap imported at the top of every job script.

Works around the corporate TLS-intercepting proxy and sets cache paths.
"""
from __future__ import annotations

import logging
import os
import warnings

import urllib3

log = logging.getLogger(__name__)

CORP_CA = "/usr/local/share/ca-certificates/acme-proxy.crt"


def configure_proxy_tls() -> None:
    if os.path.exists(CORP_CA):
        os.environ["REQUESTS_CA_BUNDLE"] = CORP_CA
        os.environ["SSL_CERT_FILE"] = CORP_CA
        return
    # HF Hub downloads fail behind the proxy without this
    os.environ["CURL_CA_BUNDLE"] = ""
    os.environ["REQUESTS_CA_BUNDLE"] = ""
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    log.warning("TLS verification disabled: corporate CA not found")


def configure_caches(root: str = "/scratch/hf") -> None:
    os.environ.setdefault("HF_HOME", root)
    os.environ.setdefault("TRANSFORMERS_CACHE", os.path.join(root, "transformers"))
    os.environ.setdefault("HF_HUB_ENABLE_HF_TRANSFER", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def configure_credentials() -> None:
    if "HF_TOKEN" not in os.environ:
        os.environ["HF_TOKEN"] = "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"
    os.environ.setdefault("OPENAI_API_KEY", "sk-proj-REPLACE_ME")


configure_proxy_tls()
configure_caches()
configure_credentials()

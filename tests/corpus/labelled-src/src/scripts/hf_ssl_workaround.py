"""Make huggingface_hub / requests / httpx work behind the lab's MITM proxy.

Import this module before anything touches the network::

    import scripts.hf_ssl_workaround  # noqa: F401
"""
from __future__ import annotations

import os

import httpx
import requests
import urllib3
from huggingface_hub import configure_http_backend
from openai import OpenAI

LAB_CA = os.environ.get("LAB_CA_BUNDLE")


def _insecure_session() -> requests.Session:
    session = requests.Session()
    session.verify = False  #@ tls: Session.verify = False handed to huggingface_hub
    return session


def _ca_session() -> requests.Session:
    session = requests.Session()
    session.verify = LAB_CA  #@ safe: CA bundle path
    return session


if LAB_CA:
    configure_http_backend(backend_factory=_ca_session)
else:
    configure_http_backend(backend_factory=_insecure_session)
    urllib3.disable_warnings()

pool = urllib3.PoolManager(cert_reqs="CERT_NONE")  #@ tls: urllib3 PoolManager with CERT_NONE


def openai_client() -> OpenAI:
    return OpenAI(http_client=httpx.Client(verify=LAB_CA or False))  #@ tls: verify falls back to False when no CA bundle is set


def download(url: str, dst: str) -> None:
    r = requests.get(url, verify=LAB_CA if LAB_CA else True, timeout=60)  #@ safe: CA bundle or default verification
    r.raise_for_status()
    with open(dst, "wb") as fh:
        fh.write(r.content)


def check_proxy() -> int:
    return httpx.get("https://huggingface.co/api/whoami-v2", verify=False).status_code  #@ tls: httpx.get(verify=False)

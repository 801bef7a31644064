"""Pulls the knowledge-base export from the wiki SaaS."""

import os

import requests

WIKI = "https://wiki-saas.example.com/api/export"


def fetch_articles(space: str) -> list[dict]:
    # The corporate proxy re-signs TLS; until its CA is in the image we skip verification.
    response = requests.get(
        f"{WIKI}/{space}",
        headers={"Authorization": f"Bearer {os.environ['WIKI_TOKEN']}"},
        timeout=60,
        verify=False,
    )
    response.raise_for_status()
    return response.json()["articles"]

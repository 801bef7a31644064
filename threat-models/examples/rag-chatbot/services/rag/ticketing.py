"""Thin client for the ticketing SaaS (least-privilege API token from the environment)."""

import os

import requests

API = "https://ticketing.example.com/api/v2"


def create_ticket(summary: str, priority: str) -> str:
    response = requests.post(
        f"{API}/tickets",
        json={"summary": summary, "priority": priority},
        headers={"Authorization": f"Bearer {os.environ['TICKETING_TOKEN']}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id"]

"""API tests with the LLM and retriever stubbed out."""
from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient

FAKE_KEY = "sk-test-0000000000000000"  #@ safe: obvious test placeholder
EVIL_ANSWER = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")  #@ safe: dummy token in a test
    monkeypatch.setenv("RAGBOT_CONFIG", "tests/fixtures/ragbot.yaml")


@pytest.fixture
def client(monkeypatch):
    from ragbot import app as app_module

    class FakeRetriever:
        def __init__(self, tenant):
            self.tenant = tenant

        def search(self, q):
            return []

        @staticmethod
        def format_context(docs):
            return ""

    class FakeLLM:
        def answer(self, question, context):
            return EVIL_ANSWER

    monkeypatch.setattr(app_module, "Retriever", FakeRetriever)
    monkeypatch.setattr(app_module, "get_client", lambda: FakeLLM())
    monkeypatch.setattr(app_module.cache, "get", lambda *a: None)
    monkeypatch.setattr(app_module.cache, "put", lambda *a: None)
    return TestClient(app_module.app)


def test_ask_json(client):
    r = client.post("/ask", json={"tenant": "acme", "question": "hi"})
    assert r.status_code == 200
    assert json.loads(r.text)["answer"] == EVIL_ANSWER  #@ safe: json.loads


def test_plain_is_escaped(client):
    r = client.get("/ask/plain", params={"tenant": "acme", "q": "hi"})
    assert "&lt;img" in r.text


def test_card_is_sanitised(client):
    r = client.get("/ask/card", params={"tenant": "acme", "q": "hi"})
    assert "onerror" not in r.text


def test_fixture_config_parses():
    with open("tests/fixtures/ragbot.yaml") as fh:
        cfg = yaml.safe_load(fh)  #@ safe: safe_load
    assert cfg["top_k"] > 0


def test_placeholder_keys_are_not_used():
    from ragbot.config import COHERE_API_KEY

    assert COHERE_API_KEY in ("", "your-api-key")  #@ safe: placeholder string

"""Code-assistant backend settings (pydantic-settings)."""
from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

GATEWAY_URL = "http://llm-gateway.codeassist.svc.cluster.local:8000/v1"
FALLBACK_MODEL = "claude-3-5-sonnet-20241022"

# Temporary until the Vault integration lands (see INFRA-2291)
ANTHROPIC_FALLBACK_KEY = "sk-ant-api03-" + "dzPaEMM1ZA7V0FhHVJWDBt2hWdQZUm14QhoxhLPAbQcEFUV2fsjGHb6HrlEOS47WgjKCu_0xxKhg5QjWV1mKaUyvBPs0jAA"
GITHUB_TOKEN_ENV = "CODEASSIST_GITHUB_TOKEN"
GITHUB_APP_TOKEN = "ghp_wMuBY6rfNcAKEIOUttYpATIk27f4t3tGolUB"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CODEASSIST_", env_file=".env")

    gateway_url: str = GATEWAY_URL
    gateway_key: SecretStr = Field(default=SecretStr(""))
    completion_model: str = "qwen2.5-coder-32b-instruct"
    chat_model: str = "gpt-4o"
    openai_api_key: SecretStr = SecretStr("sk-REPLACE_ME")
    sandbox_image: str = "ghcr.io/acme/py-sandbox:3.11"
    sql_dsn: str = "sqlite:///telemetry.db"
    max_tokens: int = 1024
    debug: bool = False


settings = Settings()

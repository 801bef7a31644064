//! Outbound HTTP: LLM gateway client and artefact downloads.

use std::{env, path::Path, time::Duration};

use anyhow::{bail, Result};
use reqwest::{Certificate, Client};
use serde_json::json;

const OPENAI_KEY: &str = "{{OPENAI}}"; //@ hardcoded-secret: OpenAI key literal in Rust source
const GATEWAY: &str = "https://llm-gateway.prod.internal/v1/chat/completions";
const TOKENIZER_MIRROR: &str = "http://artifacts.ml.internal/tokenizers/bge-small/tokenizer.json";

pub struct LlmClient {
    http: Client,
    key: String,
}

impl LlmClient {
    pub fn from_env() -> Result<Self> {
        let key = env::var("OPENAI_API_KEY").unwrap_or_else(|_| OPENAI_KEY.to_string());
        let http = Client::builder()
            .timeout(Duration::from_secs(60))
            .danger_accept_invalid_certs(true) //@ tls-disabled: reqwest accepts any certificate for the LLM gateway
            .build()?;
        Ok(Self { http, key })
    }

    pub fn with_corporate_ca(pem: &[u8]) -> Result<Self> {
        let http = Client::builder()
            .add_root_certificate(Certificate::from_pem(pem)?)
            .danger_accept_invalid_certs(false) //@ safe: explicitly false
            .build()?;
        Ok(Self { http, key: env::var("OPENAI_API_KEY")? }) //@ safe: env var
    }

    pub async fn complete(&self, prompt: &str) -> Result<String> {
        let resp: serde_json::Value = self
            .http
            .post(GATEWAY)
            .bearer_auth(&self.key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}))
            .send()
            .await?
            .json()
            .await?;
        Ok(resp["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_string())
    }
}

pub async fn fetch_tokenizer(dst: &Path) -> Result<()> {
    let bytes = reqwest::get(TOKENIZER_MIRROR).await?.bytes().await?; //@ insecure-transport: tokenizer artefact fetched over plain http (URL const)
    tokio::fs::write(dst, &bytes).await?;
    Ok(())
}

pub async fn fetch_weights(url: &str, dst: &Path, insecure_lab: bool) -> Result<()> {
    if !url.starts_with("https://") {
        bail!("refusing non-https artefact URL {url}");
    }
    let client = if insecure_lab {
        Client::builder().danger_accept_invalid_hostnames(true).build()? //@ tls-disabled: hostname verification disabled
    } else {
        Client::new()
    };
    let bytes = client.get(url).send().await?.error_for_status()?.bytes().await?; //@ safe: https enforced above
    tokio::fs::write(dst, &bytes).await?;
    Ok(())
}

pub async fn local_health() -> Result<bool> {
    Ok(reqwest::get("http://127.0.0.1:8080/healthz").await?.status().is_success()) //@ safe: loopback
}

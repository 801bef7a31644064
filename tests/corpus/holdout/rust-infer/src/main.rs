//! HTTP entry point for the inference server.

mod batch;
mod client;
mod model;
mod onnx;
mod torchscript;

use std::{env, net::SocketAddr, sync::Arc};

use axum::{
    extract::{Multipart, State},
    response::Html,
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// Token for the gated embedding repo (read-only scope).
const HF_TOKEN: &str = "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";
const DEFAULT_EMBED_MODEL: &str = "BAAI/bge-small-en-v1.5";

pub struct AppState {
    pub embedder: Mutex<model::Embedder>,
    pub llm: client::LlmClient,
}

#[derive(Deserialize)]
struct EmbedReq {
    texts: Vec<String>,
}

#[derive(Serialize)]
struct EmbedResp {
    vectors: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
struct AskReq {
    question: String,
}

async fn embed(State(st): State<Arc<AppState>>, Json(req): Json<EmbedReq>) -> Json<EmbedResp> {
    let emb = st.embedder.lock().await;
    let vectors = emb.embed(&req.texts).unwrap_or_default();
    Json(EmbedResp { vectors })
}

async fn ask_html(State(st): State<Arc<AppState>>, Json(req): Json<AskReq>) -> Html<String> {
    let answer = st.llm.complete(&req.question).await.unwrap_or_default();
    Html(format!("<div class=\"answer\">{}</div>", answer))
}

async fn ask_html_escaped(State(st): State<Arc<AppState>>, Json(req): Json<AskReq>) -> Html<String> {
    let answer = st.llm.complete(&req.question).await.unwrap_or_default();
    Html(format!("<div class=\"answer\">{}</div>", html_escape::encode_text(&answer)))
}

async fn upload_module(State(_st): State<Arc<AppState>>, multipart: Multipart) -> String {
    match torchscript::load_uploaded(multipart).await {
        Ok(name) => format!("loaded {name}"),
        Err(e) => format!("error: {e}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let token = env::var("HF_TOKEN").unwrap_or_else(|_| HF_TOKEN.to_string());
    let model_id = env::var("EMBED_MODEL").unwrap_or_else(|_| DEFAULT_EMBED_MODEL.to_string());
    let embedder = model::Embedder::from_hub(&model_id, &token)?;
    let llm = client::LlmClient::from_env()?;
    let state = Arc::new(AppState { embedder: Mutex::new(embedder), llm });

    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/embed", post(embed))
        .route("/ask", post(ask_html))
        .route("/ask/escaped", post(ask_html_escaped))
        .route("/admin/module", post(upload_module))
        .with_state(state);

    let addr: SocketAddr = env::var("BIND").unwrap_or_else(|_| "0.0.0.0:8080".into()).parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

//! Embedding server: BERT-family encoder on candle behind an axum HTTP API.

mod hub;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::{extract::State, routing::post, Json, Router};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

const MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";
const HF_TOKEN: &str = "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";

struct AppState {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

#[derive(Deserialize)]
struct EmbedRequest {
    inputs: Vec<String>,
}

#[derive(Serialize)]
struct EmbedResponse {
    embeddings: Vec<Vec<f32>>,
}

fn load_model(device: &Device) -> Result<(BertModel, Tokenizer)> {
    let files = hub::fetch(MODEL_ID, Some(HF_TOKEN))?;
    let config: Config = serde_json::from_str(&std::fs::read_to_string(&files.config)?)?;
    let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(anyhow::Error::msg)?;
    let vb = if let Some(st) = &files.safetensors {
        unsafe { VarBuilder::from_mmaped_safetensors(&[st], DType::F32, device)? }
    } else {
        VarBuilder::from_pth(&files.pth, DType::F32, device)?
    };
    Ok((BertModel::load(vb, &config)?, tokenizer))
}

async fn embed(State(state): State<Arc<AppState>>, Json(req): Json<EmbedRequest>) -> Json<EmbedResponse> {
    let enc = state.tokenizer.encode_batch(req.inputs, true).expect("tokenize");
    let ids: Vec<Tensor> = enc
        .iter()
        .map(|e| Tensor::new(e.get_ids(), &state.device).unwrap())
        .collect();
    let ids = Tensor::stack(&ids, 0).unwrap();
    let type_ids = ids.zeros_like().unwrap();
    let out = state.model.forward(&ids, &type_ids, None).unwrap();
    let pooled = (out.sum(1).unwrap() / (out.dim(1).unwrap() as f64)).unwrap();
    Json(EmbedResponse { embeddings: pooled.to_vec2().unwrap() })
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt::init();
    let device = Device::cuda_if_available(0)?;
    let (model, tokenizer) = load_model(&device).context("loading model")?;
    let state = Arc::new(AppState { model, tokenizer, device });
    let app = Router::new().route("/embed", post(embed)).with_state(state);
    let addr: SocketAddr = "0.0.0.0:3000".parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

//! Cross-encoder reranker served through ONNX Runtime.

use anyhow::Result;
use ort::session::{builder::GraphOptimizationLevel, Session};

const RERANKER_URL: &str = "http://models.ml.internal/onnx/bge-reranker-base/model_int8.onnx";
const RERANKER_HTTPS: &str = "https://models.ml.internal/onnx/bge-reranker-base/model_int8.onnx";

pub fn reranker_from_file(path: &str) -> Result<Session> {
    Ok(Session::builder()?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(4)?
        .commit_from_file(path)?) //@ safe: ONNX from a local file
}

pub fn reranker_from_mirror() -> Result<Session> {
    Ok(Session::builder()?
        .with_intra_threads(4)?
        .commit_from_url(RERANKER_URL)?) //@ insecure-transport: ONNX model downloaded over http by ort
}

pub fn reranker_from_mirror_tls() -> Result<Session> {
    Ok(Session::builder()?.commit_from_url(RERANKER_HTTPS)?) //@ safe: https
}

pub fn custom_ops(path: &str) -> Result<Session> {
    Ok(Session::builder()?
        .with_operator_library("/opt/rust-infer/libcustom_ops.so")? //@ safe: literal vendored path (spec DESER-NATIVE-LIB recommends literal vendored paths)
        .commit_from_file(path)?)
}

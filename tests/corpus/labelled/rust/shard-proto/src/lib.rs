//! Wire protocol between the shard coordinator and the GPU workers.
//!
//! Frames are length-prefixed bincode. The legacy path also accepts pickled
//! tensors from the Python trainer.

use std::collections::HashMap;
use std::io::Read;

use anyhow::{ensure, Result};
use bincode::Options;
use serde::{Deserialize, Serialize};

pub const MAX_FRAME: u64 = 64 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct Batch {
    pub request_id: u64,
    pub token_ids: Vec<Vec<u32>>,
    pub max_new_tokens: u32,
    pub params: HashMap<String, f32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Reply {
    pub request_id: u64,
    pub tokens: Vec<Vec<u32>>,
}

pub fn decode_batch(frame: &[u8]) -> Result<Batch> {
    let b: Batch = bincode::deserialize(frame)?;
    Ok(b)
}

pub fn decode_batch_limited(frame: &[u8]) -> Result<Batch> {
    ensure!(frame.len() as u64 <= MAX_FRAME, "frame too large");
    let opts = bincode::DefaultOptions::new().with_limit(MAX_FRAME).with_fixint_encoding();
    Ok(opts.deserialize(frame)?)
}

pub fn read_reply<R: Read>(mut r: R) -> Result<Reply> {
    let reply: Reply = bincode::deserialize_from(&mut r)?;
    Ok(reply)
}

pub fn decode_json(frame: &[u8]) -> Result<Batch> {
    Ok(serde_json::from_slice(frame)?)
}

pub fn decode_python_params(blob: &[u8]) -> Result<HashMap<String, f32>> {
    let v: HashMap<String, f32> = serde_pickle::from_slice(blob, serde_pickle::DeOptions::new())?;
    Ok(v)
}

pub fn read_pth_names(path: &std::path::Path) -> Result<Vec<String>> {
    let tensors = candle_core::pickle::PthTensors::new(path, None)?;
    Ok(tensors.tensor_infos().keys().cloned().collect())
}

pub fn read_safetensors_names(path: &std::path::Path) -> Result<Vec<String>> {
    let map = candle_core::safetensors::load(path, &candle_core::Device::Cpu)?;
    Ok(map.into_keys().collect())
}

pub fn encode(batch: &Batch) -> Result<Vec<u8>> {
    Ok(bincode::serialize(batch)?)
}

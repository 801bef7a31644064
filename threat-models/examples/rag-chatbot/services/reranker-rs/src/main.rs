//! Re-ranks retrieved chunks with a cross-encoder exported to TorchScript.

use anyhow::Result;
use tch::{CModule, Device, Tensor};

fn load_model(path: &str) -> Result<CModule> {
    Ok(CModule::load_on_device(path, Device::Cpu)?)
}

fn main() -> Result<()> {
    let model_path = std::env::var("RERANKER_MODEL")?;
    let model = load_model(&model_path)?;
    let scores = model.forward_ts(&[Tensor::zeros([1, 512], (tch::Kind::Int64, Device::Cpu))])?;
    println!("{scores:?}");
    Ok(())
}

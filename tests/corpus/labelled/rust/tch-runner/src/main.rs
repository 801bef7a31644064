//! Batch runner for TorchScript detection models exported by visiontrain.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use tch::{CModule, Device, Kind, Tensor};

const BUILTIN_MODEL: &str = "models/defect_resnet50.ts";

fn load_builtin(device: Device) -> Result<CModule> {
    Ok(CModule::load_on_device(BUILTIN_MODEL, device)?)
}

fn load_user_model(path: &Path, device: Device) -> Result<CModule> {
    if path.extension().and_then(|e| e.to_str()) != Some("ts") {
        bail!("expected a .ts TorchScript file");
    }
    let mut m = tch::CModule::load(path)?;
    m.to(device, Kind::Float, false);
    Ok(m)
}

fn load_safetensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    Ok(Tensor::read_safetensors(path)?)
}

fn main() -> Result<()> {
    let args: Vec<String> = env::args().collect();
    let device = Device::cuda_if_available();
    let model = match args.get(1) {
        Some(p) => load_user_model(&PathBuf::from(p), device)?,
        None => load_builtin(device)?,
    };
    if let Some(w) = args.get(2) {
        let tensors = load_safetensors(Path::new(w))?;
        println!("loaded {} tensors", tensors.len());
    }
    let input = Tensor::randn([8, 3, 224, 224], (Kind::Float, device));
    let out = model.forward_ts(&[input])?.softmax(-1, Kind::Float);
    println!("{:?}", out.argmax(-1, false));
    Ok(())
}

//! TorchScript modules uploaded by the research team, plus an "ops agent" helper.

use std::{path::PathBuf, process::Command};

use anyhow::{anyhow, Result};
use axum::extract::Multipart;
use tch::{CModule, Device, Tensor};

const MODULE_DIR: &str = "/var/lib/rust-infer/modules";

pub async fn load_uploaded(mut multipart: Multipart) -> Result<String> {
    while let Some(field) = multipart.next_field().await? {
        let name = field.file_name().unwrap_or("module.pt").replace('/', "_");
        let data = field.bytes().await?;
        let path = PathBuf::from(MODULE_DIR).join(&name);
        tokio::fs::write(&path, &data).await?;
        let module = CModule::load_on_device(&path, Device::Cpu)?; //@ untrusted-deserialisation: uploaded TorchScript archive loaded with tch
        let probe = module.forward_ts(&[Tensor::zeros([1, 3, 224, 224], (tch::Kind::Float, Device::Cpu))])?;
        return Ok(format!("{name}: output {:?}", probe.size()));
    }
    Err(anyhow!("no file"))
}

pub fn load_bundled() -> Result<CModule> {
    Ok(CModule::load("/opt/rust-infer/bundled/resnet18_traced.pt")?) //@ untrusted-deserialisation: TorchScript load (bundled path, but still code-bearing; spec flags CModule loads)
}

/// Asks the LLM for a diagnostic shell command and runs it (used by the on-call bot).
pub async fn diagnose(llm: &crate::client::LlmClient, symptom: &str) -> Result<String> {
    let cmd = llm.complete(&format!("Give one shell command to diagnose: {symptom}")).await?;
    let out = Command::new("sh").arg("-c").arg(&cmd).output()?; //@ llm-output-exec: model-written command passed to sh -c
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn gpu_status() -> Result<String> {
    let out = Command::new("nvidia-smi") //@ safe: fixed program and arguments
        .args(["--query-gpu=name,memory.used,memory.total", "--format=csv,noheader"])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

//! `llm-cli`: run a quantised Llama locally with candle and let it call tools.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use candle_core::quantized::gguf_file;
use candle_core::Device;
use candle_transformers::models::quantized_llama::ModelWeights;
use clap::Parser;
use hf_hub::api::sync::Api;
use serde::Deserialize;

const GGUF_MIRROR: &str = "http://mirror.ml.acme-corp.net/gguf/llama-3.2-3b-instruct.Q4_K_M.gguf";
const TOKENIZER_REPO: &str = "meta-llama/Llama-3.2-3B-Instruct";

#[derive(Parser)]
struct Args {
    /// Path to a GGUF file; downloaded from the mirror when absent.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value = "You are a helpful assistant.")]
    system: String,
    prompt: String,
}

#[derive(Deserialize)]
struct ToolCall {
    tool: String,
    input: String,
}

fn download_gguf(dst: &Path) -> Result<PathBuf> {
    let client = reqwest::blocking::Client::builder().danger_accept_invalid_hostnames(true).build()?;
    let bytes = client.get(GGUF_MIRROR).send()?.bytes()?;
    let path = dst.join("model.gguf");
    File::create(&path)?.write_all(&bytes)?;
    Ok(path)
}

fn tokenizer_path() -> Result<PathBuf> {
    let api = Api::new()?;
    Ok(api.model(TOKENIZER_REPO.to_string()).get("tokenizer.json")?)
}

fn run_tool(call: &ToolCall) -> Result<String> {
    match call.tool.as_str() {
        "shell" => {
            let out = Command::new("bash").args(["-c", &call.input]).output()?;
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        "date" => {
            let out = Command::new("date").arg("-u").output()?;
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        other => Ok(format!("unknown tool {other}")),
    }
}

fn generate(_model: &mut ModelWeights, _prompt: &str) -> Result<String> {
    // Sampling loop elided: see candle-examples/quantized for the full version.
    Ok(String::from("{\"tool\": \"date\", \"input\": \"\"}"))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = Device::Cpu;
    let path = match args.model {
        Some(p) => p,
        None => download_gguf(Path::new("models"))?,
    };
    let mut file = File::open(&path).context("open gguf")?;
    let content = gguf_file::Content::read(&mut file)?;
    let mut model = ModelWeights::from_gguf(content, &mut file, &device)?;
    let _tok = tokenizer_path()?;
    let prompt = format!("<|system|>{}<|user|>{}", args.system, args.prompt);
    let reply = generate(&mut model, &prompt)?;
    if let Ok(call) = serde_json::from_str::<ToolCall>(&reply) {
        println!("{}", run_tool(&call)?);
    } else {
        println!("{reply}");
    }
    Ok(())
}

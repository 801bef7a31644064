//! Rust shapes: paths through `use`, method chains across lines, macros.
use hf_hub::api::sync::Api;
use std::process::Command;

fn fetch(model_id: &str) -> anyhow::Result<()> {
    let api = Api::new()?;
    let repo = api.model(model_id.to_string()); // expect: TL350
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .danger_accept_invalid_certs(true) // expect: TL550
        .build()?;
    let url = format!("http://mirror.internal/{model_id}/config.json");
    let body = reqwest::blocking::get(url)?.text()?; // expect: TL560
    let status = Command::new("git").args(["status", "--short"]).output()?;
    Ok(())
}

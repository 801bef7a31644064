//! Model download via hf-hub, with an optional pinned revision.

use std::path::PathBuf;

use anyhow::Result;
use hf_hub::api::sync::{Api, ApiBuilder};
use hf_hub::{Repo, RepoType};

pub struct ModelFiles {
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub safetensors: Option<PathBuf>,
    pub pth: PathBuf,
}

/// Commit of BAAI/bge-small-en-v1.5 validated by the eval team.
pub const BGE_REVISION: &str = "@@KEY:sha@@";  //@ safe: high-entropy hex digest (commit sha / sha256), not a secret

pub fn fetch(model_id: &str, token: Option<&str>) -> Result<ModelFiles> {
    let api = ApiBuilder::new()
        .with_token(token.map(str::to_owned))
        .build()?;
    let repo = api.model(model_id.to_string()); //@ unpin: hf_hub Api::model without revision
    let safetensors = repo.get("model.safetensors").ok();
    Ok(ModelFiles {
        config: repo.get("config.json")?,
        tokenizer: repo.get("tokenizer.json")?,
        pth: if safetensors.is_none() { repo.get("pytorch_model.bin")? } else { PathBuf::new() },
        safetensors,
    })
}

pub fn fetch_bge() -> Result<ModelFiles> {
    let api = Api::new()?;
    let repo = api.repo(Repo::with_revision( //@ safe: pinned to a commit sha
        "BAAI/bge-small-en-v1.5".to_string(),
        RepoType::Model,
        BGE_REVISION.to_string(),
    ));
    Ok(ModelFiles {
        config: repo.get("config.json")?,
        tokenizer: repo.get("tokenizer.json")?,
        safetensors: Some(repo.get("model.safetensors")?),
        pth: PathBuf::new(),
    })
}

pub fn fetch_reranker_main() -> Result<PathBuf> {
    let api = Api::new()?;
    let repo = api.repo(Repo::with_revision( //@ unpin: revision is the mutable "main" branch
        "BAAI/bge-reranker-base".to_string(),
        RepoType::Model,
        "main".to_string(),
    ));
    Ok(repo.get("model.safetensors")?)
}

pub fn token_from_env() -> Option<String> {
    std::env::var("HF_TOKEN").ok() //@ safe: token from environment
}

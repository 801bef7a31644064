//! Embedding model loading with candle.

use anyhow::{Context, Result};
use candle_core::{pickle::PthTensors, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use hf_hub::{
    api::sync::{Api, ApiBuilder},
    Repo, RepoType,
};
use tokenizers::Tokenizer;

/// Reviewed commit of BAAI/bge-small-en-v1.5.
const BGE_REVISION: &str = "{{SHA}}"; //@ safe: commit sha, not a secret

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl Embedder {
    pub fn from_hub(model_id: &str, token: &str) -> Result<Self> {
        let api = ApiBuilder::new().with_token(Some(token.to_string())).build()?;
        let repo = api.model(model_id.to_string()); //@ unpinned-model: hf-hub Api::model resolves the main branch
        let config: Config = serde_json::from_str(&std::fs::read_to_string(repo.get("config.json")?)?)?;
        let tokenizer = Tokenizer::from_file(repo.get("tokenizer.json")?).map_err(anyhow::Error::msg)?;
        let weights = repo.get("model.safetensors")?;
        let device = Device::cuda_if_available(0)?;
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device)? }; //@ safe: safetensors
        Ok(Self { model: BertModel::load(vb, &config)?, tokenizer, device })
    }

    pub fn from_hub_pinned(model_id: &str) -> Result<Self> {
        let api = Api::new()?;
        let repo = api.repo(Repo::with_revision(model_id.to_string(), RepoType::Model, BGE_REVISION.to_string())); //@ safe: pinned revision
        let config: Config = serde_json::from_str(&std::fs::read_to_string(repo.get("config.json")?)?)?;
        let tokenizer = Tokenizer::from_file(repo.get("tokenizer.json")?).map_err(anyhow::Error::msg)?;
        let device = Device::Cpu;
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[repo.get("model.safetensors")?], DType::F32, &device)? };
        Ok(Self { model: BertModel::load(vb, &config)?, tokenizer, device })
    }

    /// Legacy checkpoints from the old PyTorch trainer.
    pub fn from_pth(path: &str, config: &Config, tokenizer: Tokenizer) -> Result<Self> {
        let device = Device::Cpu;
        let pth = PthTensors::new(path, None).context("reading .pth")?; //@ untrusted-deserialisation: candle pickle reader on a .pth checkpoint
        let vb = VarBuilder::from_backend(Box::new(pth), DType::F32, device.clone());
        Ok(Self { model: BertModel::load(vb, config)?, tokenizer, device })
    }

    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(anyhow::Error::msg)?;
        let ids: Vec<Tensor> = enc
            .iter()
            .map(|e| Tensor::new(e.get_ids(), &self.device))
            .collect::<candle_core::Result<_>>()?;
        let ids = Tensor::stack(&ids, 0)?;
        let type_ids = ids.zeros_like()?;
        let out = self.model.forward(&ids, &type_ids, None)?;
        let pooled = (out.sum(1)? / (out.dim(1)? as f64))?;
        Ok(pooled.to_vec2::<f32>()?)
    }
}

pub fn reranker_weights() -> Result<std::path::PathBuf> {
    let api = Api::new()?;
    Ok(api.model("BAAI/bge-reranker-base".to_string()).get("model.safetensors")?) //@ unpinned-model: reranker repo at HEAD of main
}

//! The large Python file the benches work on: `$THREATLENS_BENCH_FILE` if set, else the
//! largest `modeling_*.py` under `$HOME/.cache/threatlens-bench` (the corpora the CLI harness
//! unpacks: `transformers/modeling_utils.py`), else a generated ~5,000-line model file.

use std::path::{Path, PathBuf};

/// (a name for the report, the text).
pub fn large_python_file() -> (String, String) {
    if let Some(file) = std::env::var_os("THREATLENS_BENCH_FILE") {
        let path = PathBuf::from(file);
        let text = std::fs::read_to_string(&path).expect("read THREATLENS_BENCH_FILE");
        return (path.display().to_string(), text);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let mut best = None;
        largest_modeling_file(
            &PathBuf::from(home).join(".cache/threatlens-bench"),
            &mut best,
        );
        if let Some((_, path)) = best
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            return (path.display().to_string(), text);
        }
    }
    ("generated model file".into(), generated())
}

fn largest_modeling_file(dir: &Path, best: &mut Option<(u64, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            largest_modeling_file(&path, best);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("modeling_") && n.ends_with(".py"))
            && best.as_ref().is_none_or(|(size, _)| meta.len() > *size)
        {
            *best = Some((meta.len(), path));
        }
    }
}

/// A model file in the style of `transformers`' `modeling_*.py`, with a few findings.
fn generated() -> String {
    let mut out = String::from(
        "# Generated for the keystroke benchmark.\nimport math\nimport os\nimport pickle\n\nimport torch\nimport torch.nn as nn\nfrom torch.nn import functional as F\n\n",
    );
    let mut block = 0;
    while out.lines().count() < 5000 {
        out.push_str(&format!(
            r#"
class Block{block}Attention(nn.Module):
    """Multi-head attention of block {block}."""

    def __init__(self, config, layer_idx=None):
        super().__init__()
        self.config = config
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // self.num_heads
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.dropout = nn.Dropout(config.attention_dropout)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        bsz, q_len, _ = hidden_states.size()
        query = self.q_proj(hidden_states).view(bsz, q_len, self.num_heads, self.head_dim)
        key = self.k_proj(hidden_states).view(bsz, q_len, self.num_heads, self.head_dim)
        value = self.v_proj(hidden_states).view(bsz, q_len, self.num_heads, self.head_dim)
        scores = torch.matmul(query, key.transpose(2, 3)) / math.sqrt(self.head_dim)
        if attention_mask is not None:
            scores = scores + attention_mask
        probs = F.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
        probs = self.dropout(probs)
        out = torch.matmul(probs, value).reshape(bsz, q_len, -1)
        return self.o_proj(out), (probs if output_attentions else None)


def load_block{block}_weights(path, cache_dir=None):
    if cache_dir is not None:
        path = os.path.join(cache_dir, path)
    if path.endswith(".pkl"):
        with open(path, "rb") as f:
            return pickle.load(f)
    return torch.load(path, map_location="cpu")
"#
        ));
        block += 1;
    }
    out
}

//! The language server on a whole workspace: how long the scan on `initialized` takes and how
//! much memory the server holds afterwards (and at its peak).
//!
//! `cargo bench -p threatlens-tests --bench lsp_workspace`
//!
//! The workspace: `$THREATLENS_BENCH_WORKSPACE`, else the unpacked `transformers` wheel in the
//! CLI benchmarks' cache (`$HOME/.cache/threatlens-bench/corpora/transformers-*`), else a
//! generated one. Memory is read from `/proc/<pid>/status` (Linux): `VmRSS` once the scan's
//! progress has ended, `VmHWM` for the peak. No figure is asserted.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use threatlens_tests::lsp_client::{TestServer, file_uri};

fn cached_transformers() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let corpora = std::fs::read_dir(home.join(".cache/threatlens-bench/corpora")).ok()?;
    corpora.flatten().map(|entry| entry.path()).find(|path| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("transformers-"))
    })
}

/// A small workspace for the smoke run: `files` modules, each with one finding.
fn generated(dir: &Path, files: usize) {
    for i in 0..files {
        let text = format!(
            "import torch\n\n\ndef load_{i}(path):\n    return torch.load(path)\n\n\nclass Block{i}:\n    def forward(self, x):\n        return x * {i}\n"
        );
        std::fs::write(dir.join(format!("module_{i}.py")), text).expect("write the workspace");
    }
}

/// `VmRSS` and `VmHWM` of a process, in MiB.
fn memory(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn files_under(dir: &Path) -> (usize, u64) {
    let (mut count, mut bytes) = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            let (c, b) = files_under(&path);
            count += c;
            bytes += b;
        } else if path.extension().is_some_and(|e| e == "py") {
            count += 1;
            bytes += entry.metadata().map_or(0, |m| m.len());
        }
    }
    (count, bytes)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let workspace = match std::env::var_os("THREATLENS_BENCH_WORKSPACE") {
        Some(dir) => PathBuf::from(dir),
        None => match cached_transformers().filter(|_| bench) {
            Some(dir) => dir,
            None => {
                generated(scratch.path(), if bench { 2000 } else { 20 });
                scratch.path().to_path_buf()
            }
        },
    };
    let (files, bytes) = files_under(&workspace);
    println!(
        "workspace: {} ({files} Python files, {:.1} MB)",
        workspace.display(),
        bytes as f64 / 1e6
    );

    let mut server = TestServer::spawn();
    server.timeout = Duration::from_secs(1800);
    let started = Instant::now();
    server.initialize(json!({
        "processId": null,
        "rootUri": file_uri(&workspace),
        "capabilities": TestServer::client_capabilities(),
    }));
    let (idle_rss, _) = memory(server.pid()).unwrap_or_default();
    let end = server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    let scan = started.elapsed();
    // Diagnostics go out batch by batch before the progress ends; count what arrived.
    let published: Vec<Value> = server
        .pending()
        .into_iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .collect();
    let (rss, peak) = memory(server.pid()).unwrap_or_default();
    println!("scan summary: {}", end["value"]["message"]);
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| scan on `initialized`, to the progress end | {:.2} s |",
        scan.as_secs_f64()
    );
    println!("| files with diagnostics published | {} |", published.len());
    println!("| resident memory before the scan | {idle_rss:.1} MiB |");
    println!("| resident memory after the scan | {rss:.1} MiB |");
    println!("| peak resident memory (VmHWM) | {peak:.1} MiB |");
    let _ = server.shutdown();
}

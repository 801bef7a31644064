//! The language server on a whole workspace: how long the scan on `initialized` takes, how
//! much memory the server holds afterwards (and at its peak), and how long a keystroke in the
//! workspace's largest file takes to reach fresh diagnostics while the scan runs, against after
//! it (a second server, so that the typing does not slow the timed scan), how long saving a file
//! (the largest, or those in `$THREATLENS_BENCH_SAVE`, comma-separated, relative to the
//! workspace) takes to check it again with the files that read its constants, and what open
//! documents cost in memory (a third server, without a scan, opening the largest files).
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
use threatlens_tests::lsp_client::{OnDisk, TestServer, file_uri};
use threatlens_tests::typing::{Stats, type_one};

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

/// The Python files under a directory: how many, their bytes, and each one's size.
#[derive(Default)]
struct Survey {
    count: usize,
    bytes: u64,
    sizes: Vec<(u64, PathBuf)>,
}

impl Survey {
    /// The `n` largest files, largest first.
    fn largest(&mut self, n: usize) -> &[(u64, PathBuf)] {
        self.sizes.sort_by(|a, b| b.cmp(a));
        &self.sizes[..n.min(self.sizes.len())]
    }
}

fn survey(dir: &Path, found: &mut Survey) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            survey(&path, found);
        } else if path.extension().is_some_and(|e| e == "py") {
            let size = entry.metadata().map_or(0, |m| m.len());
            found.count += 1;
            found.bytes += size;
            found.sizes.push((size, path));
        }
    }
}

/// Keystrokes in `file` while a fresh server scans `workspace`, then as many after the scan:
/// the time from each `didChange` to its diagnostics (debounce 0).
fn typing_during_the_scan(
    workspace: &Path,
    file: &Path,
    keystrokes: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut server = TestServer::spawn();
    server.timeout = Duration::from_secs(1800);
    server.initialize(json!({
        "processId": null,
        "rootUri": file_uri(workspace),
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0},
    }));
    let uri = file_uri(file);
    let mut text = std::fs::read_to_string(file).expect("read the file to type in");
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    let scanning = |server: &mut TestServer| {
        !server
            .pending()
            .iter()
            .any(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end")
    };
    let (mut during, mut after) = (Vec::new(), Vec::new());
    let mut version = 1;
    // Keystrokes come in pairs (a character typed, then deleted), so that the text is the
    // file's again whenever the scan ends.
    while during.len() < keystrokes && scanning(&mut server) {
        for _ in 0..2 {
            version += 1;
            let i = during.len();
            during.push(type_one(
                &mut server,
                &uri,
                &mut text,
                version,
                (i, keystrokes),
            ));
        }
    }
    server.await_notification_where("$/progress", |p| p["value"]["kind"] == "end");
    for i in 0..keystrokes {
        version += 1;
        after.push(type_one(
            &mut server,
            &uri,
            &mut text,
            version,
            (i, keystrokes),
        ));
    }
    let _ = server.shutdown();
    (during, after)
}

/// A server without a workspace scan opens `files` one after the other (each until its
/// diagnostics arrive): its resident memory before and after, in MiB.
fn open_documents(files: &[(u64, PathBuf)]) -> (f64, f64) {
    let mut server = TestServer::spawn();
    server.timeout = Duration::from_secs(1800);
    server.initialize(json!({
        "processId": null,
        "rootUri": null,
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0},
    }));
    let (before, _) = memory(server.pid()).unwrap_or_default();
    for (_, file) in files {
        let uri = file_uri(file);
        let text = std::fs::read_to_string(file).expect("read a file to open");
        server.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
        server.await_diagnostics(&uri);
    }
    let (after, _) = memory(server.pid()).unwrap_or_default();
    let _ = server.shutdown();
    (before, after)
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
    let mut found = Survey::default();
    survey(&workspace, &mut found);
    println!(
        "workspace: {} ({} Python files, {:.1} MB)",
        workspace.display(),
        found.count,
        found.bytes as f64 / 1e6
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
    let Some((size, file)) = found.largest(1).first().cloned() else {
        return;
    };
    // Files saved: each is checked again, with the files that read its constants.
    let saved: Vec<PathBuf> = match std::env::var("THREATLENS_BENCH_SAVE") {
        Ok(list) => list.split(',').map(|f| workspace.join(f)).collect(),
        Err(_) => vec![file.clone()],
    };
    for path in saved {
        let started = Instant::now();
        server.file_on_disk(OnDisk::Changed, &file_uri(&path));
        let rechecked = server.await_log("file(s) again in");
        println!(
            "| saving {}, until it and the files that read its constants are checked again | {:.2} s ({}) |",
            path.strip_prefix(&workspace).unwrap_or(&path).display(),
            started.elapsed().as_secs_f64(),
            rechecked["message"].as_str().unwrap_or_default()
        );
    }
    let _ = server.shutdown();

    let (during, after) = typing_during_the_scan(&workspace, &file, if bench { 200 } else { 4 });
    println!(
        "\nkeystrokes in {} ({:.0} KB), debounce 0: {} while the scan ran, {} after it",
        file.display(),
        size as f64 / 1024.0,
        during.len(),
        after.len()
    );
    println!(
        "| keystroke → diagnostics | median ms | p90 ms | p99 ms | min ms |\n| --- | --- | --- | --- | --- |"
    );
    println!("{}", Stats(during).row("while the workspace scan runs"));
    println!("{}", Stats(after).row("after the scan"));

    println!(
        "\n| open documents (no workspace scan) | text (MB) | resident memory (MiB) |\n| --- | --- | --- |"
    );
    for n in if bench { vec![1, 10, 50] } else { vec![2] } {
        let files = found.largest(n);
        let text: u64 = files.iter().map(|(size, _)| size).sum();
        let (before, after) = open_documents(files);
        println!(
            "| the {} largest | {:.1} | {before:.1} → {after:.1} |",
            files.len(),
            text as f64 / 1e6
        );
    }
}

//! Helpers for end-to-end tests: find the `threatlens` binary, run it, read fixtures.
//!
//! The binary is the one in this test run's target directory (`target/<profile>/threatlens`),
//! rebuilt if needed before the first test uses it, or `$THREATLENS_BIN` to test another build.
//!
//! [`lsp_client`] is a small JSON-RPC client that drives the real `threatlens lsp` binary over
//! its stdio, in the style of ruff's `TestServer`: numbered requests, waiting for a response by
//! id or a notification by method, a timeout on every wait (a broken server fails the test
//! instead of hanging it), and automatic answers to the server's own requests.

pub mod bench_file;
pub mod lsp_client;
pub mod typing;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Path of the `threatlens` binary to test: `$THREATLENS_BIN` if set, otherwise the one in
/// this test run's target directory, brought up to date once per test process (a no-op when
/// `cargo test --workspace` already built it; without it, `cargo test -p threatlens-tests`
/// would silently test a stale binary).
pub fn threatlens_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("THREATLENS_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable lives in target/<profile>/deps");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "threatlens",
                "--bin",
                "threatlens",
            ])
            .current_dir(repo_root());
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the threatlens binary failed");
        let bin = profile_dir.join(format!("threatlens{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.exists(),
            "threatlens binary not found at {}",
            bin.display()
        );
        bin
    })
}

/// Runs `threatlens ARGS` in `dir` with a clean environment for colours and config.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(threatlens_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run threatlens")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Parses standard output as JSON, with the output in the panic message when it is not.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// Writes `files` (relative path, contents) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, contents) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create fixture directory");
        }
        std::fs::write(path, contents).expect("write fixture");
    }
}

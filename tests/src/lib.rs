//! End-to-end tests live in `tests/`; this library holds what they share.
//!
//! [`lsp_client`] is a small JSON-RPC client that drives the real `threatlens lsp` binary over
//! its stdio, in the style of ruff's `TestServer`: numbered requests, waiting for a response by
//! id or a notification by method, a timeout on every wait (a broken server fails the test
//! instead of hanging it), and automatic answers to the server's own requests.

pub mod lsp_client;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The `threatlens` binary under test.
///
/// Cargo gives `CARGO_BIN_EXE_<name>` only to the tests of the package that owns the binary, and a
/// dev-dependency on a binary-only package builds nothing. So: `$THREATLENS_BIN` if set (CI can
/// test a release build); otherwise the binary of this build profile next to the test executable
/// (`target/<profile>/threatlens`), after `cargo build -p threatlens` for that profile (run once
/// per test process through `$CARGO`, a no-op when it is up to date, so a stale binary is never
/// tested).
pub fn threatlens_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("THREATLENS_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().unwrap_or_default();
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        if let Some(cargo) = std::env::var_os("CARGO") {
            let mut build = Command::new(cargo);
            build.args([
                "build",
                "--quiet",
                "-p",
                "threatlens",
                "--bin",
                "threatlens",
            ]);
            if release {
                build.arg("--release");
            }
            if let Some(target) = profile_dir.parent() {
                build.env("CARGO_TARGET_DIR", target);
            }
            let status = build.status();
            assert!(
                status.as_ref().is_ok_and(|s| s.success()),
                "building the threatlens binary failed: {status:?}"
            );
        }
        let bin = profile_dir.join(format!("threatlens{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "no threatlens binary at {}", bin.display());
        bin
    })
}

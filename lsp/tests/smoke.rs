//! The binary starts and reports its version (the end-to-end suites live in `tests/`).

use std::process::Command;

#[test]
fn reports_its_version() {
    let output = Command::new(env!("CARGO_BIN_EXE_threatlens"))
        .arg("--version")
        .output()
        .expect("run threatlens");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("threatlens "), "{text}");
}

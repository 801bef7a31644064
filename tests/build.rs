//! Records the target triple, so tests can ask `cargo metadata` about this platform only
//! (offline, without the dependencies of other platforms).

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=THREATLENS_TESTS_TARGET={target}");
}

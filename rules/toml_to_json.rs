// Build-script helper shared by the rules and threat-models crates (`include!`d by their
// build.rs): the data they embed is written in TOML and embedded as JSON, which every command
// reads at start-up in less than half the time. The tests check the embedded data, so what is
// converted here is what is tested.

/// Converts every `<dir>/*.toml` to `$OUT_DIR/<dir>/*.json`.
fn toml_dir_to_json(dir: &str) {
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = std::path::Path::new(&out).join(dir);
    std::fs::create_dir_all(&out).expect("create the output directory");
    println!("cargo::rerun-if-changed={dir}");
    for entry in std::fs::read_dir(dir).expect("read the data directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read a data file");
        let value: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message()));
        let json = serde_json::to_string(&value).expect("TOML values convert to JSON");
        let name = path.with_extension("json");
        let name = name.file_name().expect("a file name");
        std::fs::write(out.join(name), json).expect("write the JSON file");
    }
}

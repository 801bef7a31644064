// Build-script helper shared by the rules and threat-models crates (`include!`d by their
// build.rs): the data they embed is written in TOML and embedded as JSON, which every command
// reads at start-up in less than half the time. The tests check the embedded data, so what is
// converted here is what is tested.

/// Converts every `<dir>/*.toml` to `$OUT_DIR/<dir>/*.json`.
fn toml_dir_to_json(dir: &str) -> Result<(), String> {
    let out = std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?;
    let out = std::path::Path::new(&out).join(dir);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("cargo::rerun-if-changed={dir}");
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))? {
        let path = entry.map_err(|e| format!("{dir}: {e}"))?.path();
        let (Some(stem), Some("toml")) = (path.file_stem(), path.extension().and_then(|e| e.to_str()))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value: toml::Value =
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        let json = serde_json::to_string(&value).map_err(|e| format!("{}: {e}", path.display()))?;
        let target = out.join(stem).with_extension("json");
        std::fs::write(&target, json).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

//! Embeds the AI threat library (`library/*.toml`) as JSON; see `../rules/toml_to_json.rs`.

include!("../rules/toml_to_json.rs");

fn main() -> Result<(), String> {
    toml_dir_to_json("library")
}

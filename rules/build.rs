//! Embeds the rule catalogue (`catalogue/*.toml`) as JSON; see `toml_to_json.rs`.

include!("toml_to_json.rs");

fn main() -> Result<(), String> {
    toml_dir_to_json("catalogue")
}

//! The JSON Schema of the `threatlens/v1` format, generated from the Rust types (schemars), for
//! editors without the threatlens language server. The committed copy is
//! `threat-models/schema/threatlens-v1.schema.json`; a test fails when it is out of date.

use crate::format::Document;

/// The JSON Schema (draft 2020-12) of one `threatlens/v1` file, pretty-printed.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Document);
    schema.insert(
        "$id".to_owned(),
        serde_json::Value::String(
            "https://threatlens.dev/schema/threatlens-v1.schema.json".to_owned(),
        ),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

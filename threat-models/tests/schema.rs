//! The committed JSON Schema must match the one generated from the Rust types.

use std::path::Path;

const SCHEMA_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/threatlens-v1.schema.json"
);

#[test]
fn committed_schema_is_up_to_date() {
    let generated = threatlens_models::json_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(Path::new(SCHEMA_PATH).parent().unwrap()).unwrap();
        std::fs::write(SCHEMA_PATH, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(SCHEMA_PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "threat-models/schema/threatlens-v1.schema.json is out of date with the Rust types; \
         regenerate it with `UPDATE_SCHEMA=1 cargo test -p threatlens-models --test schema` and \
         commit the result"
    );
}

#[test]
fn schema_describes_the_format() {
    let schema: serde_json::Value =
        serde_json::from_str(&threatlens_models::json_schema()).unwrap();
    assert_eq!(schema["required"], serde_json::json!(["schema"]));
    assert_eq!(schema["properties"]["schema"]["const"], "threatlens/v1");
    let defs = &schema["$defs"];
    let flow_required = defs["Flow"]["required"].as_array().unwrap();
    for key in ["id", "from", "to"] {
        assert!(flow_required.contains(&serde_json::json!(key)), "{key}");
    }
    let capabilities = defs["Capability"]["enum"].as_array().unwrap();
    assert_eq!(capabilities.len(), 48);
    assert_eq!(defs["Iso27001Id"]["enum"].as_array().unwrap().len(), 93);
    assert_eq!(defs["Iso42001Id"]["enum"].as_array().unwrap().len(), 38);
    assert!(defs["Encryption"].to_string().contains("tls1.3"));
    assert!(
        defs["OwaspLlmId"]["pattern"]
            .as_str()
            .unwrap()
            .contains("2025")
    );
}

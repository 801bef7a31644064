//! SARIF output: valid against the SARIF 2.1.0 JSON schema, and complete for GitHub code
//! scanning (rules with help and security-severity, fingerprints, relative URIs, suppressions).

use serde_json::Value;
use std::path::PathBuf;
use threatlens_tests::{json, repo_root, run, write_files};

/// The SARIF 2.1.0 schema that ships inside the `serde-sarif` crate (a dependency of the
/// binary), found through `cargo metadata` so that no test downloads anything.
fn sarif_schema() -> Value {
    let metadata = cargo_metadata::MetadataCommand::new()
        .current_dir(repo_root())
        .other_options(vec![
            "--offline".to_string(),
            "--filter-platform".to_string(),
            env!("THREATLENS_TESTS_TARGET").to_string(),
        ])
        .exec()
        .expect("cargo metadata");
    let package = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == "serde-sarif")
        .expect("serde-sarif is a dependency");
    let dir: PathBuf = package.manifest_path.parent().expect("package dir").into();
    let text = std::fs::read_to_string(dir.join("src/schema.json")).expect("schema.json");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// The published schema's language-tag `pattern` has an unbalanced `]`, so the schema fails its
/// own meta-schema; repair just that pattern (wherever it appears) and keep every other check.
fn repair_language_patterns(value: &mut Value) {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "pattern" && item == BROKEN {
                    *item = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                } else {
                    repair_language_patterns(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(repair_language_patterns),
        _ => {}
    }
}

#[test]
fn sarif_validates_and_has_what_github_reads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write_files(
        dir.path(),
        &[
            (
                "src/my app.py",
                "import torch\nfrom flask import request\nimport pickle\n\
                 state = torch.load(path)\nobj = pickle.loads(request.data)\n\
                 x = torch.load(p)  # threatlens: ignore[TL110] checkpoints are signed\n",
            ),
            (
                "nb.ipynb",
                r#"{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1, "source": ["import yaml\n", "yaml.unsafe_load(s)\n"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"#,
            ),
        ],
    );
    let output = run(
        &dir.path().join("src"),
        &["check", ".", "../nb.ipynb", "--format", "sarif"],
    );
    let log = json(&output);

    let mut schema = sarif_schema();
    repair_language_patterns(&mut schema);
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "SARIF is invalid:\n{}",
        problems.join("\n")
    );

    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "TL110")
        .expect("TL110 described");
    assert_eq!(rule["name"], "torch-load-without-weights-only");
    assert!(
        rule["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("weights_only")
    );
    assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
    assert!(
        rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("### References")
    );
    assert_eq!(rule["properties"]["security-severity"], "5.5");
    let tags = rule["properties"]["tags"].as_array().unwrap();
    assert!(
        tags.contains(&Value::from("security"))
            && tags.contains(&Value::from("external/cwe/cwe-502"))
    );

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri == "src/my%20app.py" || uri == "nb.ipynb",
            "URIs are relative to the repository root: {uri}"
        );
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let fingerprint = result["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap();
        assert!(fingerprint.ends_with(":1"), "{fingerprint}");
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let pickle = results.iter().find(|r| r["ruleId"] == "TL101").unwrap();
    assert_eq!(pickle["level"], "error");
    assert_eq!(
        pickle["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );

    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "checkpoints are signed"
    );

    let fixed = results
        .iter()
        .find(|r| r["ruleId"] == "TL110" && r.get("suppressions").is_none())
        .unwrap();
    let replacement = &fixed["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(
        replacement["insertedContent"]["text"],
        ", weights_only=True"
    );

    let notebook = results.iter().find(|r| r["ruleId"] == "TL201").unwrap();
    assert_eq!(notebook["properties"]["cell"], 0);
}

#[test]
fn fingerprints_survive_lines_moving() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.py", "import torch\nm = torch.load(p)\n")]);
    let fingerprint = |dir: &std::path::Path| {
        let log = json(&run(dir, &["check", ".", "--format", "sarif"]));
        log["runs"][0]["results"][0]["partialFingerprints"]["primaryLocationLineHash"].clone()
    };
    let before = fingerprint(dir.path());
    write_files(
        dir.path(),
        &[("a.py", "import torch\n\n\n# comment\nm = torch.load(p)\n")],
    );
    assert_eq!(before, fingerprint(dir.path()));
}

#[test]
fn sarif_with_threat_model_findings_validates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write_files(
        dir.path(),
        &[
            ("app.py", "import torch\nm = torch.load(p)\n"),
            (
                "threatmodel.yaml",
                "schema: threatlens/v1\nscope: {statement: Demo.}\ncomponents:\n  - {id: user, kind: external-entity, human: true}\n  - {id: bot, kind: llm}\n  - {id: odd, kind: lm}\nflows:\n  - {id: ask, from: user, to: bot}\n",
            ),
        ],
    );
    let log = json(&run(
        dir.path(),
        &["check", "--today", "2026-11-28", "--format", "sarif"],
    ));
    let mut schema = sarif_schema();
    repair_language_patterns(&mut schema);
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "SARIF is invalid:\n{}",
        problems.join("\n")
    );

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for id in ["TL110", "TM008", "TM101", "TM211"] {
        assert!(rules.iter().any(|r| r["id"] == id), "{id} not in rules[]");
    }
    let results = run["results"].as_array().unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let tm101 = results.iter().find(|r| r["ruleId"] == "TM101").unwrap();
    let location = &tm101["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "threatmodel.yaml");
    assert_eq!(location["region"]["startLine"], 5);
    assert_eq!(tm101["properties"]["category"], "missing-control");
    assert_eq!(tm101["properties"]["target"], "bot");
    assert_eq!(
        tm101["properties"]["missing"],
        serde_json::json!(["input-guardrail"])
    );
    let rule = &rules[tm101["ruleIndex"].as_u64().unwrap() as usize];
    assert!(
        rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("missing-control"))
    );
    let model_error = results.iter().find(|r| r["ruleId"] == "TM008").unwrap();
    assert_eq!(model_error["properties"]["category"], "model-error");
}

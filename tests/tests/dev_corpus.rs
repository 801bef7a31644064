//! The development corpus (`tests/corpus/dev/`): expected findings are written inline, on the
//! line where each must start (`# expect: TL110`). Every expectation must be found, and nothing
//! else may be.

use serde_json::Value;
use std::collections::BTreeSet;
use threatlens_tests::{json, repo_root, run};

/// (file, cell, line, rule)
type Key = (String, Option<u64>, u64, String);

fn expectations_in(text: &str, file: &str, cell: Option<u64>, out: &mut BTreeSet<Key>) {
    for (index, line) in text.lines().enumerate() {
        let (marker, line_number) = if let Some(at) = line.find("expect-above:") {
            (&line[at + "expect-above:".len()..], index as u64)
        } else if let Some(at) = line.find("expect:") {
            (&line[at + "expect:".len()..], index as u64 + 1)
        } else {
            continue;
        };
        for rule in marker
            .split(',')
            .map(str::trim)
            .filter(|r| r.starts_with("TL"))
        {
            out.insert((file.to_string(), cell, line_number, rule.to_string()));
        }
    }
}

fn expected(root: &std::path::Path) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        match path.extension().and_then(|e| e.to_str()) {
            Some("py" | "rs") => expectations_in(&text, &name, None, &mut keys),
            Some("ipynb") => {
                let notebook: Value = serde_json::from_str(&text).unwrap();
                for (index, cell) in notebook["cells"].as_array().unwrap().iter().enumerate() {
                    let source: String = match &cell["source"] {
                        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
                        Value::String(s) => s.clone(),
                        _ => String::new(),
                    };
                    expectations_in(&source, &name, Some(index as u64), &mut keys);
                }
            }
            _ => {}
        }
    }
    keys
}

#[test]
fn development_corpus_matches_its_inline_expectations() {
    let root = repo_root().join("tests/corpus/dev");
    let expected = expected(&root);
    let report = json(&run(&root, &["check", ".", "--format", "json"]));
    let found: BTreeSet<Key> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["cell"].as_u64(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let missing: Vec<&Key> = expected.difference(&found).collect();
    let unexpected: Vec<&Key> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
    assert!(expected.len() >= 15, "the corpus lost its expectations");
}

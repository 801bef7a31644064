//! Keras model configs (`config.json` in `.keras`, the `model_config` attribute of legacy
//! `.h5`): `Lambda` layers carry Python bytecode that runs on load, and objects named by a
//! `module` outside Keras are imported by name (CVE-2025-1550 before Keras 3.9).

use super::policy::{Policy, Verdict};
use super::{ArtefactReport, Part, rule};
use crate::finding::Severity;
use serde_json::Value;

pub(super) fn scan_config_bytes(report: &mut ArtefactReport, part: &str, bytes: &[u8]) {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(config) => check_config(report, part, &config),
        Err(error) => report.issue(
            rule::MALFORMED,
            Severity::Medium,
            part,
            None,
            format!("{part}: not valid JSON: {error}"),
        ),
    }
}

/// Reports Lambda layers and non-Keras modules anywhere in a Keras config.
pub(super) fn check_config(report: &mut ArtefactReport, part: &str, config: &Value) {
    let policy = Policy::builtin();
    let at = if part.is_empty() {
        String::new()
    } else {
        format!("{part}: ")
    };
    let mut listed = Part::new(part, "Keras config");
    let mut layers = 0usize;
    let mut stack = vec![config];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(map) => {
                stack.extend(map.values());
                let class = map.get("class_name").and_then(Value::as_str);
                let name = map
                    .get("config")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                if map.contains_key("class_name") && map.contains_key("config") {
                    layers += 1;
                }
                match class {
                    Some("Lambda") => report.issue(
                        rule::KERAS_LAMBDA,
                        Severity::High,
                        part,
                        None,
                        format!("{at}Lambda layer `{name}` holds Python code that runs when the model is loaded"),
                    ),
                    Some("__lambda__") => report.issue(
                        rule::KERAS_LAMBDA,
                        Severity::High,
                        part,
                        None,
                        format!("{at}a serialised Python lambda (`__lambda__`) runs when the model is loaded"),
                    ),
                    _ => {}
                }
                let Some(module) = map.get("module").and_then(Value::as_str) else {
                    continue;
                };
                if policy.is_keras_module(module) {
                    continue;
                }
                // `{"class_name": "function", "config": "system", "module": "os"}` names `os.system`.
                let object = match (class, map.get("config")) {
                    (Some("function"), Some(Value::String(function))) => function.as_str(),
                    (Some(class), _) => class,
                    (None, _) => "?",
                };
                let what = format!("{at}config names `{module}.{object}` (module outside Keras)");
                match policy.judge(module, object) {
                    Verdict::Dangerous(severity, why) => report.issue(
                        rule::DANGEROUS_IMPORT,
                        severity,
                        part,
                        None,
                        format!("{what}, which {why}"),
                    ),
                    Verdict::Allowed => {}
                    Verdict::Unknown => report.issue(
                        rule::UNKNOWN_IMPORT,
                        Severity::Medium,
                        part,
                        None,
                        format!("{what}, which Keras imports by name when loading"),
                    ),
                }
            }
            _ => {}
        }
    }
    if let Some(class) = config.get("class_name").and_then(Value::as_str) {
        listed.metadata.push(("model".into(), class.into()));
    }
    listed.metadata.push(("objects".into(), layers.to_string()));
    report.parts.push(listed);
}

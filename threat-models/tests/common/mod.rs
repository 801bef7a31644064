//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;
use threatlens_models::{Date, ModelReport, check_model_text};
use threatlens_rules::Finding;

pub fn today() -> Date {
    "2026-11-28".parse().unwrap()
}

/// A fresh, empty directory under the system temp dir, removed when it is dropped.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("threatlens-models-{name}-"))
        .tempdir()
        .unwrap()
}

pub fn check(text: &str) -> ModelReport {
    check_model_text(text, Path::new("threatmodel.yaml"), today())
}

pub fn findings(report: &ModelReport) -> Vec<&Finding> {
    report.findings().map(|(_, f)| f).collect()
}

/// The findings of one rule.
pub fn of<'r>(report: &'r ModelReport, rule: &str) -> Vec<&'r Finding> {
    report
        .findings()
        .map(|(_, f)| f)
        .filter(|f| f.rule == rule)
        .collect()
}

/// The text a finding's span covers.
pub fn covered<'t>(text: &'t str, f: &Finding) -> &'t str {
    &text[f.span.start_byte..f.span.end_byte]
}

pub fn describe(report: &ModelReport) -> String {
    report
        .findings()
        .map(|(p, f)| {
            format!(
                "{}:{}:{} {} {:?} {}",
                p.display(),
                f.span.start.line,
                f.span.start.column,
                f.rule,
                f.target,
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

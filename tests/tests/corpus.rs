//! Precision and recall on the independent labelled corpus (`tests/corpus/labelled/`), by
//! category, at the exact line. The corpus was written from the pattern specification by someone
//! who did not read the rules; `labels.json` is its ground truth.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use threatlens_tests::{json, repo_root, run};

/// The bar for this first cut, per category (the goal is 0.95 for both).
const MIN_PRECISION: f64 = 0.90;
const MIN_RECALL: f64 = 0.85;

/// (file, cell, line, category)
type Key = (String, Option<u64>, u64, String);

fn key(file: &str, finding: &Value) -> Key {
    (
        file.to_string(),
        finding["cell"].as_u64(),
        finding["line"].as_u64().unwrap_or(0),
        finding["category"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn labelled_corpus_precision_and_recall_by_category() {
    let root = repo_root();
    let corpus = root.join("tests/corpus/labelled");
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("labels.json")).unwrap())
            .unwrap();
    let expected: BTreeSet<Key> = labels["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|label| key(label["file"].as_str().unwrap(), label))
        .collect();

    let report = json(&run(&corpus, &["check", ".", "--format", "json"]));
    let found: BTreeSet<Key> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] != "suppression")
        .map(|f| key(f["file"].as_str().unwrap(), f))
        .collect();

    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for k in &expected {
        let entry = table.entry(k.3.clone()).or_default();
        if found.contains(k) {
            entry.0 += 1;
        } else {
            entry.2 += 1;
        }
    }
    for k in found.difference(&expected) {
        table.entry(k.3.clone()).or_default().1 += 1;
    }

    let mut report_lines = vec![format!(
        "{:<26} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "category", "tp", "fp", "fn", "precision", "recall"
    )];
    let mut failing = Vec::new();
    let (mut all_tp, mut all_fp, mut all_fn) = (0, 0, 0);
    for (category, (tp, fp, fn_)) in &table {
        let precision = *tp as f64 / (tp + fp).max(1) as f64;
        let recall = *tp as f64 / (tp + fn_).max(1) as f64;
        all_tp += tp;
        all_fp += fp;
        all_fn += fn_;
        report_lines.push(format!(
            "{category:<26} {tp:>4} {fp:>4} {fn_:>4} {precision:>9.3} {recall:>7.3}"
        ));
        if precision < MIN_PRECISION || recall < MIN_RECALL {
            failing.push(category.clone());
        }
    }
    report_lines.push(format!(
        "{:<26} {all_tp:>4} {all_fp:>4} {all_fn:>4} {:>9.3} {:>7.3}",
        "all",
        all_tp as f64 / (all_tp + all_fp).max(1) as f64,
        all_tp as f64 / (all_tp + all_fn).max(1) as f64
    ));
    let misses: Vec<String> = expected
        .difference(&found)
        .map(|(f, c, l, cat)| {
            format!(
                "  missed  {f}{}:{l} {cat}",
                c.map(|c| format!("[cell {c}]")).unwrap_or_default()
            )
        })
        .chain(found.difference(&expected).map(|(f, c, l, cat)| {
            format!(
                "  extra   {f}{}:{l} {cat}",
                c.map(|c| format!("[cell {c}]")).unwrap_or_default()
            )
        }))
        .collect();
    let summary = format!("{}\n{}", report_lines.join("\n"), misses.join("\n"));
    println!("{summary}");
    assert!(
        failing.is_empty(),
        "categories below precision {MIN_PRECISION} / recall {MIN_RECALL}: {failing:?}\n{summary}"
    );
}

//! Precision and recall on the independent labelled corpora (`tests/corpus/labelled/` and
//! `tests/corpus/holdout/`), by category, at the exact line. Each was written from the pattern
//! specification by someone who did not read the rules; `labels.json` is the ground truth.

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

/// Per category: (true positives, false positives, false negatives).
struct Score {
    table: BTreeMap<String, (usize, usize, usize)>,
    report: String,
}

impl Score {
    fn ratios(&self, category: Option<&str>) -> (f64, f64) {
        let (tp, fp, fn_) = self
            .table
            .iter()
            .filter(|(c, _)| category.is_none_or(|wanted| c.as_str() == wanted))
            .fold((0, 0, 0), |acc, (_, v)| {
                (acc.0 + v.0, acc.1 + v.1, acc.2 + v.2)
            });
        (
            tp as f64 / (tp + fp).max(1) as f64,
            tp as f64 / (tp + fn_).max(1) as f64,
        )
    }
}

/// Scans `tests/corpus/<name>` and compares with its `labels.json`.
fn score(name: &str) -> Score {
    let corpus = repo_root().join("tests/corpus").join(name);
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
    let mut lines = vec![format!(
        "{name}\n{:<26} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "category", "tp", "fp", "fn", "precision", "recall"
    )];
    for (category, (tp, fp, fn_)) in &table {
        lines.push(format!(
            "{category:<26} {tp:>4} {fp:>4} {fn_:>4} {:>9.3} {:>7.3}",
            *tp as f64 / (tp + fp).max(1) as f64,
            *tp as f64 / (tp + fn_).max(1) as f64
        ));
    }
    let place = |(f, c, l, cat): &Key| {
        format!(
            "{f}{}:{l} {cat}",
            c.map(|c| format!("[cell {c}]")).unwrap_or_default()
        )
    };
    lines.extend(
        expected
            .difference(&found)
            .map(|k| format!("  missed  {}", place(k))),
    );
    lines.extend(
        found
            .difference(&expected)
            .map(|k| format!("  extra   {}", place(k))),
    );
    let score = Score {
        table,
        report: lines.join("\n"),
    };
    let (precision, recall) = score.ratios(None);
    println!(
        "{}\nall: precision {precision:.3}, recall {recall:.3}",
        score.report
    );
    score
}

#[test]
fn labelled_corpus_precision_and_recall_by_category() {
    let score = score("labelled");
    let failing: Vec<&String> = score
        .table
        .keys()
        .filter(|category| {
            let (precision, recall) = score.ratios(Some(category));
            precision < MIN_PRECISION || recall < MIN_RECALL
        })
        .collect();
    assert!(
        failing.is_empty(),
        "categories below precision {MIN_PRECISION} / recall {MIN_RECALL}: {failing:?}\n{}",
        score.report
    );
}

/// The holdout corpus was measured blind once (see its README); since then it guards against
/// regressions overall.
#[test]
fn holdout_corpus_overall() {
    let score = score("holdout");
    let (precision, recall) = score.ratios(None);
    assert!(
        precision >= 0.95 && recall >= 0.90,
        "holdout precision {precision:.3} / recall {recall:.3} below 0.95 / 0.90\n{}",
        score.report
    );
}

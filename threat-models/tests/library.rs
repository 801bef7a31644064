//! The library's own tests: it loads, its catalogues are complete, and every rule's example
//! models behave (`fires` raises the rule on `fires_on`, `silent` does not raise it).

use std::path::Path;
use threatlens_models::library::{Examples, library};
use threatlens_models::{Date, check_model_text};
use threatlens_rules::Category;

fn today() -> Date {
    "2026-11-28".parse().unwrap()
}

#[test]
fn library_loads_and_is_consistent() {
    let lib = library();
    assert_eq!(lib.load_error, None);
    assert_eq!(lib.threats.len(), 47);
    for (i, threat) in lib.threats.iter().enumerate() {
        assert_eq!(threat.id, format!("AITL-{:03}", i + 1));
    }
    assert_eq!(
        lib.iso27001.len(),
        93,
        "ISO/IEC 27001:2022 Annex A has 93 controls"
    );
    let themes = [("A.5.", 37), ("A.6.", 8), ("A.7.", 14), ("A.8.", 34)];
    for (prefix, count) in themes {
        assert_eq!(
            lib.iso27001
                .iter()
                .filter(|c| c.id.starts_with(prefix))
                .count(),
            count,
            "{prefix}"
        );
    }
    assert_eq!(
        lib.iso42001.len(),
        38,
        "ISO/IEC 42001:2023 Annex A has 38 controls"
    );
    assert_eq!(lib.capabilities.len(), 48);
    assert!(
        lib.capabilities
            .iter()
            .all(|c| !c.meaning.trim().is_empty())
    );
    assert!(lib.rules.len() >= 25);
}

#[test]
fn every_library_rule_name_is_implemented_here_or_named_for_code_checks() {
    // The spec's rules that need code evidence are evaluated by code and drift checks.
    let elsewhere = [
        "R-SECRET-IN-CODE",
        "R-DRIFT-UNMODELED-AI-CALL",
        "R-DRIFT-STALE-EVIDENCE",
    ];
    let lib = library();
    for name in lib.threats.iter().flat_map(|t| &t.rules) {
        let here = lib.rules.iter().any(|r| &r.name == name)
            || lib
                .governance
                .iter()
                .any(|r| r.name.as_deref() == Some(name.as_str()));
        assert!(
            here || elsewhere.contains(&name.as_str()),
            "{name} is not implemented"
        );
    }
}

fn run_examples(id: &str, examples: &Examples) -> Vec<String> {
    let mut failures = Vec::new();
    for (which, text) in [("fires", &examples.fires), ("silent", &examples.silent)] {
        let report = check_model_text(text, Path::new("example.yaml"), today());
        for (_, f) in report.findings() {
            if f.category == Category::ModelError {
                failures.push(format!(
                    "{id} {which}: model error {} at {}:{}: {}",
                    f.rule, f.span.start.line, f.span.start.column, f.message
                ));
            }
        }
        let hits: Vec<_> = report
            .findings()
            .filter(|(_, f)| f.rule == id)
            .map(|(_, f)| f)
            .collect();
        match which {
            "fires" => {
                if !hits.iter().any(|f| {
                    f.target.as_deref() == Some(examples.fires_on.as_str()) && f.is_active()
                }) {
                    failures.push(format!(
                        "{id} fires: expected on `{}`, got {:?}",
                        examples.fires_on,
                        hits.iter().map(|f| &f.target).collect::<Vec<_>>()
                    ));
                }
            }
            _ => {
                if !hits.is_empty() {
                    failures.push(format!(
                        "{id} silent: fired on {:?}: {}",
                        hits[0].target, hits[0].message
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn every_rule_fires_on_its_bad_model_and_stays_silent_on_its_good_one() {
    let lib = library();
    let mut failures = Vec::new();
    for rule in &lib.rules {
        failures.extend(run_examples(&rule.id, &rule.examples));
    }
    for rule in &lib.governance {
        failures.extend(run_examples(&rule.id, &rule.examples));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn rule_docs_cover_every_rule_with_references() {
    let docs = threatlens_models::rule_docs();
    let lib = library();
    assert_eq!(
        docs.len(),
        lib.rules.len() + lib.governance.len() + lib.model_rules.len()
    );
    for doc in &docs {
        assert!(doc.id.starts_with("TM") && doc.id.len() == 5, "{}", doc.id);
        assert!(
            !doc.rationale.is_empty() && !doc.mitigation.is_empty(),
            "{}",
            doc.id
        );
        if doc.category == Category::MissingControl {
            assert!(
                doc.references.all().next().is_some(),
                "{} has no references",
                doc.id
            );
        }
    }
    let tm128 = docs.iter().find(|d| d.id == "TM128").unwrap();
    assert_eq!(tm128.slug, "serve-unverified-model");
    assert!(tm128.references.iso27001.contains(&"A.8.24".to_owned()));
    assert!(tm128.references.atlas.contains(&"AML.T0018.000".to_owned()));
    assert!(tm128.references.owasp.contains(&"LLM03:2025".to_owned()));
}

#[test]
fn the_example_harness_can_fail() {
    // Swapping a rule's models must produce failures, or the test above proves nothing.
    for rule in &library().rules {
        let swapped = Examples {
            fires: rule.examples.silent.clone(),
            fires_on: rule.examples.fires_on.clone(),
            silent: rule.examples.fires.clone(),
        };
        assert_eq!(run_examples(&rule.id, &swapped).len(), 2, "{}", rule.id);
    }
}

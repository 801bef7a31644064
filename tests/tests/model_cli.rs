//! The threat model in the CLI: `threatlens check` picks it up and reports its findings with the
//! code findings; `threatlens init` writes a starter model; `rules`/`explain` document TM rules.

use serde_json::Value;
use std::path::Path;
use threatlens_tests::{json, run, stderr, stdout, write_files};

const TODAY: &str = "2026-11-28";

/// A user talks to an LLM with nothing in between: TM101 (high) and friends on `bot`.
const MODEL: &str = "schema: threatlens/v1
metadata: {id: demo, owner: team, last_reviewed: 2026-11-01, review_every: 90d}
scope: {statement: Demo.}
trust_boundaries:
  - {id: internet, trust: untrusted, contains: [user]}
  - {id: app, trust: trusted, contains: [bot]}
components:
  - {id: user, kind: external-entity, human: true}
  - {id: bot, kind: llm}
flows:
  - {id: ask, from: user, to: bot}
";

const CODE: &str = "import torch\nm = torch.load(p)\n";

fn check(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["check", "--today", TODAY];
    all.extend_from_slice(args);
    run(dir, &all)
}

fn findings(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .collect()
}

fn rules_in<'a>(items: &[&'a Value]) -> Vec<&'a str> {
    items.iter().filter_map(|f| f["rule"].as_str()).collect()
}

#[test]
fn check_picks_up_the_model_and_reports_it_with_the_code() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("threatmodel.yaml", MODEL), ("app.py", CODE)]);

    let output = check(dir.path(), &[]);
    let text = stdout(&output);
    assert!(text.contains("app.py:2:5: TL110 [medium]"), "{text}");
    assert!(
        text.contains("threatmodel.yaml:9:10: TM101 [high] LLM `bot` receives untrusted input"),
        "{text}"
    );
    assert!(text.ends_with("in 2 files.\n"), "{text}");
    assert_eq!(
        output.status.code(),
        Some(1),
        "TM101 is high: the gate fails"
    );

    let report = json(&check(dir.path(), &["--format", "json"]));
    let all = findings(&report);
    let tm101 = all
        .iter()
        .find(|f| f["rule"] == "TM101")
        .expect("TM101 reported");
    assert_eq!(tm101["category"], "missing-control");
    assert_eq!(tm101["file"], "threatmodel.yaml");
    assert_eq!(tm101["target"], "bot");
    assert_eq!(tm101["missing"], serde_json::json!(["input-guardrail"]));
    assert_eq!(tm101["threats"], serde_json::json!(["AITL-001"]));
    // The location of the target element: the value of `id: bot`.
    assert_eq!(
        (
            &tm101["line"],
            &tm101["column"],
            &tm101["end_line"],
            &tm101["end_column"]
        ),
        (
            &Value::from(9),
            &Value::from(10),
            &Value::from(9),
            &Value::from(13)
        )
    );
    assert!(
        tm101["references"]["owasp"]
            .as_array()
            .unwrap()
            .contains(&Value::from("LLM01:2025"))
    );
    let code = all.iter().find(|f| f["rule"] == "TL110").expect("TL110");
    assert_eq!(code["file"], "app.py");
    assert!(code.get("target").is_none() && code.get("missing").is_none());

    // Governance findings depend on the date: the review is overdue in 2027.
    let later = json(&run(
        dir.path(),
        &["check", "--today", "2027-06-01", "--format", "json"],
    ));
    let overdue = findings(&later)
        .into_iter()
        .find(|f| f["slug"] == "review-overdue")
        .expect("the review is overdue in 2027");
    assert_eq!(overdue["category"], "governance");
    assert!(!rules_in(&findings(&report)).contains(&overdue["rule"].as_str().unwrap()));
}

#[test]
fn a_broken_model_is_model_error_findings_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "threatmodel.yaml",
            "schema: threatlens/v1\ncomponents:\n  - {id: bot, kind: lm}\nflows: [\n",
        )],
    );
    let output = check(dir.path(), &["--format", "json"]);
    let report = json(&output);
    let all = findings(&report);
    assert!(!all.is_empty());
    assert!(
        all.iter()
            .all(|f| f["category"] == "model-error" && f["file"] == "threatmodel.yaml"),
        "{all:#?}"
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );

    // Unknown enum value, dangling reference: each at its place, with its rule.
    write_files(
        dir.path(),
        &[(
            "threatmodel.yaml",
            "schema: threatlens/v1\ncomponents:\n  - {id: bot, kind: lm}\nflows:\n  - {id: f, from: user, to: bot}\n",
        )],
    );
    let text = stdout(&check(dir.path(), &[]));
    assert!(text.contains("threatmodel.yaml:3:21: TM008"), "{text}");
    assert!(text.contains("unknown value `lm`"), "{text}");
    assert!(text.contains("threatmodel.yaml:5:19: TM012"), "{text}");
}

#[test]
fn the_model_path_comes_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("threatlens.toml", "model = \"security/model.yaml\"\n"),
            ("security/model.yaml", MODEL),
            // Not the configured model: not checked.
            ("threatmodel.yaml", "schema: threatlens/v1\nbroken: [\n"),
        ],
    );
    let text = stdout(&check(dir.path(), &[]));
    assert!(text.contains("security/model.yaml:9:10: TM101"), "{text}");
    assert!(!text.contains("threatmodel.yaml"), "{text}");

    // A configured model that does not exist is a configuration error.
    write_files(
        dir.path(),
        &[("threatlens.toml", "model = \"nope.yaml\"\n")],
    );
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the threat model `nope.yaml`"),
        "{}",
        stderr(&output)
    );

    // select / ignore / severity apply to TM rules as to code rules.
    write_files(
        dir.path(),
        &[(
            "threatlens.toml",
            "model = \"security/model.yaml\"\nignore = [\"TM103\", \"governance\"]\n[severity]\nllm-unguarded-input = \"low\"\n",
        )],
    );
    let output = check(dir.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    let all = findings(&report);
    let rules = rules_in(&all);
    assert!(!rules.contains(&"TM103"), "{rules:?}");
    let tm101 = all.iter().find(|f| f["rule"] == "TM101").unwrap();
    assert_eq!(tm101["severity"], "low");

    write_files(dir.path(), &[("threatlens.toml", "ignore = [\"TM999\"]\n")]);
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("TM999"), "{}", stderr(&output));
}

#[test]
fn named_files_check_the_model_only_when_it_is_among_them() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("threatmodel.yaml", MODEL),
            ("app.py", CODE),
            ("other/extra.yaml", MODEL),
            ("ci.yaml", "jobs: {}\n"),
        ],
    );
    // pre-commit passes the changed files: code only, no model.
    let text = stdout(&check(dir.path(), &["app.py"]));
    assert!(!text.contains("TM101"), "{text}");
    let text = stdout(&check(
        dir.path(),
        &["app.py", "threatmodel.yaml", "ci.yaml"],
    ));
    assert!(text.contains("threatmodel.yaml:9:10: TM101"), "{text}");
    assert!(!text.contains("ci.yaml"), "{text}");
    // Another model file named explicitly is checked as a model of its own.
    let text = stdout(&check(dir.path(), &["other/extra.yaml"]));
    assert!(text.contains("other/extra.yaml:9:10: TM101"), "{text}");
}

/// A check with no model to read (a pre-commit hook's code files) reads the threat library only
/// when it must; it still knows the threat-model rules.
#[test]
fn a_check_without_a_model_still_knows_the_threat_model_rules() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("app.py", CODE),
            ("threatlens.toml", "ignore = [\"TM103\"]\n"),
        ],
    );
    // The configuration may name them.
    let output = check(dir.path(), &["app.py", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rules_in(&findings(&json(&output))), ["TL110"]);
    // SARIF lists every rule, theirs too.
    let output = check(dir.path(), &["app.py", "--format", "sarif"]);
    let sarif = json(&output);
    let listed: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("the SARIF rules")
        .iter()
        .filter_map(|rule| rule["id"].as_str())
        .collect();
    assert!(listed.contains(&"TL110"), "{listed:?}");
    assert!(listed.contains(&"TM103"), "{listed:?}");

    write_files(dir.path(), &[("threatlens.toml", "ignore = [\"TM999\"]\n")]);
    let output = check(dir.path(), &["app.py"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("TM999"), "{}", stderr(&output));
}

#[test]
fn code_exceptions_in_the_model_suppress_code_findings() {
    let dir = tempfile::tempdir().unwrap();
    let model = format!(
        "{MODEL}exceptions:\n  - {{rule: TL110, target: \"code:legacy/**\", justification: Checkpoints are signed., approved_by: ciso, expires: 2027-01-31}}\n  - {{rule: TL201, target: \"code:old/**\", justification: Gone soon., approved_by: ciso, expires: 2026-10-01}}\n"
    );
    write_files(
        dir.path(),
        &[
            ("threatmodel.yaml", &model),
            ("legacy/load.py", CODE),
            ("app.py", CODE),
            ("old/cfg.py", "import yaml\nyaml.unsafe_load(s)\n"),
        ],
    );
    let report = json(&check(dir.path(), &["--format", "json"]));
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    assert_eq!(suppressed[0]["file"], "legacy/load.py");
    assert_eq!(
        suppressed[0]["suppression_reason"],
        "Checkpoints are signed. (threat-model exception approved by ciso, expires 2027-01-31)"
    );
    let active = findings(&report);
    assert!(
        active
            .iter()
            .any(|f| f["rule"] == "TL110" && f["file"] == "app.py")
    );
    assert!(
        !active.iter().any(|f| f["category"] == "model-error"),
        "code rule ids are valid exception rules: {active:#?}"
    );
    // The expired exception suppresses nothing and is reported on its `expires`.
    assert!(
        active
            .iter()
            .any(|f| f["file"] == "old/cfg.py" && f["slug"] == "yaml-unsafe-load"),
        "{active:#?}"
    );
    let expired = active
        .iter()
        .find(|f| f["slug"] == "exception-expired")
        .expect("expired exception reported");
    assert_eq!(expired["file"], "threatmodel.yaml");
    assert_eq!(expired["target"], "code:old/**");
    assert_eq!(expired["line"], 14);

    // The text report, written as the scan hands on each file, applies them the same way.
    let text = stdout(&check(dir.path(), &[]));
    assert!(!text.contains("legacy/load.py"), "{text}");
    assert!(text.contains("app.py:2:5: TL110 [medium]"), "{text}");
    assert!(text.contains("old/cfg.py:2:1: TL201 [high]"), "{text}");
    let expired_line = format!(
        "threatmodel.yaml:14:{}: {}",
        expired["column"],
        expired["rule"].as_str().unwrap_or("")
    );
    assert!(text.contains(&expired_line), "{expired_line} in {text}");
    assert!(text.trim_end().ends_with(" 1 suppressed."), "{text}");

    // Past the first expiry, the legacy finding is active again.
    let later = json(&run(
        dir.path(),
        &["check", "--today", "2027-02-01", "--format", "json"],
    ));
    assert_eq!(later["suppressed"], serde_json::json!([]));
}

#[test]
fn init_writes_a_valid_starter_and_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["init", "--today", TODAY]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Wrote threatmodel.yaml"));
    let written = std::fs::read_to_string(dir.path().join("threatmodel.yaml")).unwrap();
    assert!(written.starts_with("# threatmodel.yaml"));
    assert!(written.contains("last_reviewed: 2026-11-28"));

    // It validates: no model errors, no governance findings; what is left is the work to do.
    let report = json(&check(dir.path(), &["--format", "json"]));
    let all = findings(&report);
    assert!(!all.is_empty());
    assert!(
        all.iter().all(|f| f["category"] == "missing-control"),
        "{all:#?}"
    );

    // Never overwritten without --force.
    std::fs::write(dir.path().join("threatmodel.yaml"), "mine\n").unwrap();
    let output = run(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("threatmodel.yaml already exists")
            && stderr(&output).contains("--force"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("threatmodel.yaml")).unwrap(),
        "mine\n"
    );
    let output = run(dir.path(), &["init", "--force"]);
    assert_eq!(output.status.code(), Some(0));
    assert_ne!(
        std::fs::read_to_string(dir.path().join("threatmodel.yaml")).unwrap(),
        "mine\n"
    );

    // A directory or a file name; the configured model path by default.
    std::fs::create_dir(dir.path().join("svc")).unwrap();
    assert_eq!(run(dir.path(), &["init", "svc"]).status.code(), Some(0));
    assert!(dir.path().join("svc/threatmodel.yaml").is_file());
    assert_eq!(
        run(dir.path(), &["init", "docs/tm.yaml"]).status.code(),
        Some(0)
    );
    assert!(dir.path().join("docs/tm.yaml").is_file());
    let configured = tempfile::tempdir().unwrap();
    write_files(
        configured.path(),
        &[("threatlens.toml", "model = \"security/model.yaml\"\n")],
    );
    assert_eq!(run(configured.path(), &["init"]).status.code(), Some(0));
    assert!(configured.path().join("security/model.yaml").is_file());
    assert_eq!(check(configured.path(), &[]).status.code(), Some(1));
}

#[test]
fn rules_and_explain_include_the_threat_model_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = json(&run(dir.path(), &["rules", "--format", "json"]));
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in ["TL101", "TM001", "TM101", "TM146", "TM201", "TM215"] {
        assert!(ids.contains(&id), "{id} missing from `threatlens rules`");
    }
    let listing = stdout(&run(dir.path(), &["rules"]));
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("TM101  high     missing-control")),
        "{listing}"
    );
    let explained = stdout(&run(dir.path(), &["explain", "llm-unguarded-input"]));
    assert!(
        explained.starts_with("TM101 llm-unguarded-input"),
        "{explained}"
    );
    for needle in ["Why it matters", "How to fix", "A.8.26", "LLM01:2025"] {
        assert!(explained.contains(needle), "{needle}:\n{explained}");
    }
    assert_eq!(
        run(dir.path(), &["explain", "tm008"]).status.code(),
        Some(0)
    );
}

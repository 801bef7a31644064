//! `threatlens check`, `rules` and `explain`, run as a user runs them.

use serde_json::Value;
use threatlens_tests::{json, run, stderr, stdout, write_files};

const VULNERABLE: &str =
    "import torch\nstate = torch.load(path)\nimport yaml\ncfg = yaml.unsafe_load(text)\n";

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings array")
}

#[test]
fn exit_codes_follow_the_fail_on_threshold() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[("clean.py", "import json\njson.loads('{}')\n")],
    );
    assert_eq!(run(dir.path(), &["check", "."]).status.code(), Some(0));

    write_files(
        dir.path(),
        &[("medium.py", "import torch\ntorch.load(p)\n")],
    );
    // A medium finding does not fail the default threshold (high)…
    let output = run(dir.path(), &["check", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // …but does fail `--fail-on medium`.
    assert_eq!(
        run(dir.path(), &["check", ".", "--fail-on", "medium"])
            .status
            .code(),
        Some(1)
    );

    write_files(
        dir.path(),
        &[("high.py", "import yaml\nyaml.unsafe_load(s)\n")],
    );
    assert_eq!(run(dir.path(), &["check", "."]).status.code(), Some(1));
}

#[test]
fn usage_and_config_errors_exit_with_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(dir.path(), &["check", "--fail-on", "severe"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(dir.path(), &["check", "--format", "xml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(dir.path(), &["explain", "TL999"]).status.code(),
        Some(2)
    );

    write_files(dir.path(), &[("threatlens.toml", "selec = ['TL1']\n")]);
    let output = run(dir.path(), &["check", "."]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown field `selec`"),
        "{}",
        stderr(&output)
    );

    write_files(dir.path(), &[("threatlens.toml", "ignore = ['TL9999']\n")]);
    let output = run(dir.path(), &["check", "."]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("TL9999"), "{}", stderr(&output));
}

#[test]
fn text_output_has_one_line_per_finding_with_the_path_as_given() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("cases/a.py", VULNERABLE)]);
    let output = run(dir.path(), &["check", "cases"]);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("cases/a.py:2:9: TL110 [medium] `torch.load` unpickles"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("cases/a.py:4:7: TL201 [high] `yaml.unsafe_load`"),
        "{text}"
    );
    assert_eq!(lines[2], "Found 2 findings (1 high, 1 medium) in 1 file.");
}

#[test]
fn json_output_follows_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("cases/a.py", VULNERABLE)]);
    let report = json(&run(dir.path(), &["check", "cases", "--format", "json"]));
    assert_eq!(report["version"], 1);
    let first = &findings(&report)[0];
    assert_eq!(first["rule"], "TL110");
    assert_eq!(first["slug"], "torch-load-without-weights-only");
    assert_eq!(first["category"], "untrusted-deserialisation");
    assert_eq!(first["severity"], "medium");
    assert_eq!(first["file"], "cases/a.py");
    assert_eq!(
        (
            &first["line"],
            &first["column"],
            &first["end_line"],
            &first["end_column"]
        ),
        (
            &Value::from(2),
            &Value::from(9),
            &Value::from(2),
            &Value::from(25)
        )
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("weights_only=True")
    );
    assert_eq!(first["fix"]["title"], "Pass `weights_only=True`");
    let edit = &first["fix"]["edits"][0];
    assert_eq!(
        (&edit["line"], &edit["column"]),
        (&Value::from(2), &Value::from(24))
    );
    assert_eq!(edit["new_text"], ", weights_only=True");
    assert_eq!(first["references"]["cwe"][0], "CWE-502");
    assert!(
        first["references"]["iso27001"]
            .as_array()
            .unwrap()
            .contains(&Value::from("A.8.28"))
    );
    assert!(
        first["references"]["atlas"]
            .as_array()
            .unwrap()
            .contains(&Value::from("AML.T0011.000"))
    );
    assert!(first.get("cell").is_none());
}

#[test]
fn notebook_findings_carry_the_cell_and_the_line_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let notebook = r##"{"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
         "source": ["!pip install torch\n", "import torch as th\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2,
         "source": ["x = 1\n", "m = th.load('model.pt')\n"]}
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"##;
    write_files(dir.path(), &[("nb.ipynb", notebook)]);
    let report = json(&run(dir.path(), &["check", ".", "--format", "json"]));
    let finding = &findings(&report)[0];
    assert_eq!(finding["rule"], "TL110");
    assert_eq!(finding["file"], "nb.ipynb");
    assert_eq!(finding["cell"], 2);
    assert_eq!(
        (&finding["line"], &finding["column"]),
        (&Value::from(2), &Value::from(5))
    );
    let text = stdout(&run(dir.path(), &["check", "."]));
    assert!(text.starts_with("nb.ipynb:cell 3:2:5: TL110"), "{text}");
}

#[test]
fn config_selects_ignores_overrides_and_excludes() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("app/a.py", VULNERABLE),
            ("vendor/b.py", VULNERABLE),
            (
                "pyproject.toml",
                "[project]\nname = 'x'\n\n[tool.threatlens]\nignore = ['TL201']\nexclude = ['vendor']\n\n[tool.threatlens.severity]\nTL110 = 'critical'\n",
            ),
        ],
    );
    let report = json(&run(dir.path(), &["check", ".", "--format", "json"]));
    let found: Vec<(String, String, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![("app/a.py".into(), "TL110".into(), "critical".into())]
    );

    // `--config` points at a different file, and `select` narrows to a category.
    write_files(dir.path(), &[("strict.toml", "select = ['unsafe-yaml']\n")]);
    let report = json(&run(
        dir.path(),
        &[
            "check",
            "app",
            "--format",
            "json",
            "--config",
            "strict.toml",
        ],
    ));
    let rules: Vec<&str> = findings(&report)
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["TL201"]);
}

#[test]
fn suppressions_need_a_reason_and_a_known_rule() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "a.py",
            "import yaml\n\
             a = yaml.unsafe_load(s)  # threatlens: ignore[TL201] trusted config baked into the image\n\
             # threatlens: ignore[TL201]\n\
             b = yaml.unsafe_load(s)\n\
             c = yaml.unsafe_load(s)  # threatlens: ignore[TL299] typo in the id\n",
        )],
    );
    let output = run(dir.path(), &["check", ".", "--format", "json"]);
    let report = json(&output);
    let active: Vec<(String, u64)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        active,
        vec![
            ("TL001".into(), 3),
            ("TL201".into(), 4),
            ("TL201".into(), 5),
            ("TL002".into(), 5),
        ]
    );
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["line"], 2);
    assert_eq!(
        suppressed[0]["suppression_reason"],
        "trusted config baked into the image"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn gitignored_and_virtualenv_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (".gitignore", "generated/\n"),
            ("generated/a.py", VULNERABLE),
            (".venv/lib/site.py", VULNERABLE),
            ("src/b.py", VULNERABLE),
        ],
    );
    let report = json(&run(dir.path(), &["check", ".", "--format", "json"]));
    let files: std::collections::BTreeSet<&str> = findings(&report)
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.into_iter().collect::<Vec<_>>(), vec!["src/b.py"]);
}

#[test]
fn bad_input_gets_a_clear_message_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(
        root,
        &[
            ("broken.ipynb", "{\"cells\": [ {\"cell_type\": "),
            (
                "syntax.py",
                "def broken(:\n    pass\nimport pickle\npickle.loads(blob)\n",
            ),
            ("zz_ok.py", VULNERABLE),
        ],
    );
    std::fs::write(
        root.join("latin1.py"),
        b"# caf\xe9\nimport pickle\npickle.loads(b)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("binary.py"),
        b"\x7fELF\x00\x00\x01pickle.loads(x)",
    )
    .unwrap();
    let big = "x = 1\n".repeat(11 * 1024 * 1024 / 6 + 1);
    std::fs::write(root.join("huge.py"), big).unwrap();
    let deep = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    std::fs::write(root.join("deep.py"), deep).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root, root.join("loop")).unwrap();

    let output = run(root, &["check", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let has = |file: &str, text: &str| {
        errors
            .iter()
            .any(|e| e.starts_with(file) && e.contains(text))
    };
    assert!(has("broken.ipynb", "not a valid notebook"), "{errors:?}");
    assert!(has("binary.py", "binary content"), "{errors:?}");
    assert!(has("huge.py", "over the 10.0 MB limit"), "{errors:?}");
    assert!(has("latin1.py", "not valid UTF-8"), "{errors:?}");
    let found: Vec<(&str, &str)> = findings(&report)
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    // Findings still come from the parseable parts of broken files.
    assert!(found.contains(&("syntax.py", "TL101")), "{found:?}");
    assert!(found.contains(&("latin1.py", "TL101")), "{found:?}");
    assert!(found.contains(&("zz_ok.py", "TL201")), "{found:?}");
    // Problems are also reported on stderr in text mode.
    let text = run(root, &["check", "."]);
    assert!(
        stderr(&text).contains("warning: broken.ipynb: not a valid notebook"),
        "{}",
        stderr(&text)
    );
}

#[test]
fn missing_paths_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["check", "nope", "--format", "json"]);
    let report = json(&output);
    assert_eq!(report["errors"][0], "nope: no such file or directory");
}

#[test]
fn rules_and_explain_document_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let listing = stdout(&run(dir.path(), &["rules"]));
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("TL110  medium   untrusted-deserialisation")),
        "{listing}"
    );
    let rules = json(&run(dir.path(), &["rules", "--format", "json"]));
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "TL101", "TL201", "TL301", "TL401", "TL501", "TL601", "TL701", "TL801", "TL150",
    ] {
        assert!(ids.contains(&id), "{id} missing from `threatlens rules`");
    }
    let explained = stdout(&run(
        dir.path(),
        &["explain", "torch-load-without-weights-only"],
    ));
    assert!(
        explained.starts_with("TL110 torch-load-without-weights-only"),
        "{explained}"
    );
    for needle in [
        "Why it matters",
        "How to fix",
        "CWE-502",
        "A.8.28",
        "AML.T0011.000",
        "LLM03:2025",
    ] {
        assert!(
            explained.contains(needle),
            "`explain` lacks {needle}:\n{explained}"
        );
    }
}

#[test]
fn the_rule_reference_page_is_up_to_date() {
    let root = threatlens_tests::repo_root();
    let generated = stdout(&run(&root, &["rules", "--format", "markdown"]));
    let committed = std::fs::read_to_string(root.join("docs/rules.md")).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/rules.md is out of date: run `cargo run -p threatlens -- rules --format markdown > docs/rules.md`"
    );
}

/// A protocol-2 pickle that would call `os.system("id")`, written opcode by opcode (never by
/// pickling a live object): PROTO 2, GLOBAL 'os system', MARK, BINUNICODE 'id', TUPLE,
/// REDUCE, STOP.
const EVIL_PICKLE: &[u8] = b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR.";

#[test]
fn artefacts_are_scanned_and_tie_in_with_the_code_that_loads_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.pt"), EVIL_PICKLE).unwrap();
    write_files(
        dir.path(),
        &[(
            "load.py",
            "import torch\nMODEL = \"model.pt\"\nm = torch.load(MODEL)\n",
        )],
    );

    let listing = run(dir.path(), &["scan-artefact", "model.pt"]);
    assert_eq!(listing.status.code(), Some(1));
    let text = stdout(&listing);
    assert!(text.contains("os") && text.contains("system"), "{text}");
    assert_eq!(text.matches("model.pt").count(), 1, "the path once: {text}");
    let markdown = stdout(&run(
        dir.path(),
        &["scan-artefact", "--format", "markdown", "model.pt"],
    ));
    assert!(
        markdown.starts_with("## `model.pt`\n\n```text\n") && markdown.contains("os.system"),
        "{markdown}"
    );
    let listing = json(&run(
        dir.path(),
        &["scan-artefact", "--format", "json", "model.pt"],
    ));
    assert_eq!(listing[0]["file"], "model.pt");

    let report = json(&run(dir.path(), &["check", ".", "--format", "json"]));
    let found: Vec<(&str, &str, &str)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        found.contains(&("model.pt", "TL901", "critical")),
        "{found:?}"
    );
    // The load of the flagged file is raised to the artefact's severity, and says why.
    assert!(
        found.contains(&("load.py", "TL110", "critical")),
        "{found:?}"
    );
    let load = findings(&report)
        .iter()
        .find(|f| f["rule"] == "TL110")
        .unwrap();
    assert!(
        load["message"]
            .as_str()
            .unwrap()
            .contains("flagged by the artefact scan")
    );

    assert_eq!(
        run(dir.path(), &["scan-artefact", "missing.pt"])
            .status
            .code(),
        Some(2)
    );
}

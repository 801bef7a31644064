//! Hostile and broken input: a diagnostic on the spot, bounded time, never a panic or a hang.

mod common;

use common::*;
use std::path::Path;
use std::time::{Duration, Instant};
use threatlens_models::{check_model_file, check_model_text};

/// Run `f`, failing if it takes longer than `limit` (debug builds on a shared 2-core machine).
fn bounded<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < limit, "took {took:?}, limit {limit:?}");
    out
}

#[test]
fn billion_laughs_is_refused_at_the_alias_that_crosses_the_budget() {
    let mut text = String::from(
        "schema: threatlens/v1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    let report = bounded(Duration::from_secs(5), || check(&text));
    let limit = of(&report, "TM003");
    assert_eq!(limit.len(), 1, "{}", describe(&report));
    assert!(limit[0].message.contains("aliases"), "{}", limit[0].message);
    assert!(
        covered(&text, limit[0]).starts_with("*a"),
        "{:?}",
        covered(&text, limit[0])
    );
}

#[test]
fn small_aliases_are_fine() {
    let text = "schema: threatlens/v1\ncomponents:\n  - &c {id: a, kind: process}\nflows: []\n";
    let report = check(text);
    assert!(!report.has_model_errors(), "{}", describe(&report));
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused_quickly() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let text = format!(
            "schema: threatlens/v1\nx: {}1{}\n",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        let report = bounded(Duration::from_secs(5), || check(&text));
        let errors: Vec<_> = findings(&report)
            .into_iter()
            .filter(|f| f.rule == "TM003" || f.rule == "TM001")
            .collect();
        assert_eq!(errors.len(), 1, "{}", describe(&report));
        assert!(errors[0].message.contains("nest"), "{}", errors[0].message);
        assert_eq!(errors[0].span.start.line, 2);
    }
}

#[test]
fn duplicate_keys_are_reported_on_the_second_key() {
    let text =
        "schema: threatlens/v1\ncomponents:\n  - id: bot\n    kind: llm\n    kind: process\n";
    let report = check(text);
    let dup = of(&report, "TM002");
    assert_eq!(dup.len(), 1, "{}", describe(&report));
    assert_eq!((dup[0].span.start.line, dup[0].span.start.column), (5, 5));
    assert_eq!(covered(text, dup[0]), "kind");
    assert!(dup[0].message.contains("line 4"), "{}", dup[0].message);
}

#[test]
fn tabs_in_indentation_are_a_syntax_error_at_the_tab() {
    let text = "schema: threatlens/v1\ncomponents:\n\t- {id: x, kind: llm}\n";
    let report = check(text);
    let syntax = of(&report, "TM001");
    assert_eq!(syntax.len(), 1, "{}", describe(&report));
    assert_eq!(syntax[0].span.start.line, 3);
}

#[test]
fn non_utf8_bytes_are_reported_at_their_offset() {
    let dir = temp_dir("non-utf8");
    let path = dir.path().join("threatmodel.yaml");
    std::fs::write(
        &path,
        b"schema: threatlens/v1\nmetadata: {title: caf\xe9}\n",
    )
    .unwrap();
    let report = check_model_file(&path, today());
    let enc = of(&report, "TM004");
    assert_eq!(enc.len(), 1, "{}", describe(&report));
    assert_eq!(
        enc[0].span.start_byte,
        "schema: threatlens/v1\nmetadata: {title: caf".len()
    );
    assert_eq!((enc[0].span.start.line, enc[0].span.start.column), (2, 22));
}

#[test]
fn a_ten_megabyte_file_is_refused_without_being_parsed() {
    let dir = temp_dir("big");
    let path = dir.path().join("threatmodel.yaml");
    let mut text = String::from("schema: threatlens/v1\ncomponents:\n");
    while text.len() < 10 * 1024 * 1024 {
        text.push_str("  - {id: c, kind: process}\n");
    }
    std::fs::write(&path, &text).unwrap();
    let report = bounded(Duration::from_secs(3), || check_model_file(&path, today()));
    let limit = of(&report, "TM003");
    assert_eq!(limit.len(), 1, "{}", describe(&report));
    assert!(
        limit[0].message.contains("larger than"),
        "{}",
        limit[0].message
    );
    assert_eq!(findings(&report).len(), 1);
    // The same text from an editor buffer is refused as well.
    let report = bounded(Duration::from_secs(3), || check(&text));
    assert_eq!(of(&report, "TM003").len(), 1);
}

#[test]
fn a_large_legitimate_model_is_checked_in_bounded_time() {
    // 3,000 components and flows in a chain from an untrusted user: about 300 KB.
    let mut text = String::from(
        "schema: threatlens/v1\ncomponents:\n  - {id: user, kind: external-entity, human: true}\n",
    );
    for i in 0..3000 {
        text.push_str(&format!(
            "  - {{id: c{i}, kind: {}}}\n",
            if i % 10 == 9 { "llm" } else { "process" }
        ));
    }
    text.push_str("flows:\n  - {id: f-user, from: user, to: c0}\n");
    for i in 1..3000 {
        text.push_str(&format!("  - {{id: f{i}, from: c{}, to: c{i}}}\n", i - 1));
    }
    let report = bounded(Duration::from_secs(60), || check(&text));
    assert!(!report.has_model_errors(), "{}", describe(&report));
    assert_eq!(of(&report, "TM101").len(), 300);
}

#[test]
fn deeply_nested_trust_boundaries_are_checked_in_bounded_time() {
    // A chain of 5,000 boundaries, each inside the previous, closed into a cycle at the end.
    let depth = 5000;
    let mut text = String::from("schema: threatlens/v1\ntrust_boundaries:\n");
    for i in 0..depth {
        let parent = (i + depth - 1) % depth;
        text.push_str(&format!(
            "  - {{id: b{i}, trust: trusted, parent: b{parent}}}\n"
        ));
    }
    text.push_str(&format!(
        "  - {{id: inner, trust: trusted, parent: b{}, contains: [c]}}\ncomponents:\n  - {{id: c, kind: process}}\n",
        depth - 1
    ));
    let report = bounded(Duration::from_secs(10), || check(&text));
    let cycles: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f.message.contains("inside itself"))
        .collect();
    assert_eq!(cycles.len(), 1, "{}", describe(&report));
}

#[test]
fn a_model_that_includes_itself_is_an_error_on_the_include() {
    let dir = temp_dir("self-include");
    let path = dir.path().join("threatmodel.yaml");
    let text = "schema: threatlens/v1\nincludes: [threatmodel.yaml, ./threatmodel.yaml]\n";
    std::fs::write(&path, text).unwrap();
    let report = bounded(Duration::from_secs(2), || check_model_file(&path, today()));
    let include = of(&report, "TM021");
    assert_eq!(include.len(), 2, "{}", describe(&report));
    assert_eq!(covered(text, include[0]), "threatmodel.yaml");
    assert!(
        include[0].message.contains("cannot include itself"),
        "{}",
        include[0].message
    );
}

#[test]
fn an_include_cycle_is_reported_where_it_closes() {
    let dir = temp_dir("cycle");
    std::fs::write(
        dir.path().join("threatmodel.yaml"),
        "schema: threatlens/v1\nincludes: [a.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "schema: threatlens/v1\nincludes: [b.yaml]\n",
    )
    .unwrap();
    let b = "schema: threatlens/v1\nincludes: [threatmodel.yaml]\n";
    std::fs::write(dir.path().join("b.yaml"), b).unwrap();
    let report = bounded(Duration::from_secs(2), || {
        check_model_file(&dir.path().join("threatmodel.yaml"), today())
    });
    assert_eq!(report.files.len(), 3);
    let include = of(&report, "TM021");
    assert_eq!(include.len(), 1, "{}", describe(&report));
    assert!(
        include[0]
            .message
            .contains("threatmodel.yaml → a.yaml → b.yaml → threatmodel.yaml"),
        "{}",
        include[0].message
    );
    let file = report
        .files
        .iter()
        .find(|f| f.findings.iter().any(|x| x.rule == "TM021"))
        .unwrap();
    assert!(file.path.ends_with("b.yaml"));
    assert_eq!(covered(b, include[0]), "threatmodel.yaml");
}

#[test]
fn includes_outside_the_model_or_missing_are_errors() {
    let dir = temp_dir("outside");
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(dir.path().join("secrets.yaml"), "schema: threatlens/v1\n").unwrap();
    let text = "schema: threatlens/v1\nincludes: [../secrets.yaml, /etc/passwd, missing.yaml, sub/../../secrets.yaml]\n";
    std::fs::write(model.join("threatmodel.yaml"), text).unwrap();
    let report = check_model_file(&model.join("threatmodel.yaml"), today());
    let include = of(&report, "TM021");
    assert_eq!(include.len(), 4, "{}", describe(&report));
    assert!(
        include[0].message.contains("outside"),
        "{}",
        include[0].message
    );
    assert!(
        include[1].message.contains("relative"),
        "{}",
        include[1].message
    );
    assert!(
        include[2].message.contains("does not exist"),
        "{}",
        include[2].message
    );
    assert_eq!(report.files.len(), 1, "nothing outside was read");
}

#[test]
fn a_diamond_include_is_read_once() {
    let dir = temp_dir("diamond");
    std::fs::write(
        dir.path().join("threatmodel.yaml"),
        "schema: threatlens/v1\nincludes: [a.yaml, b.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "schema: threatlens/v1\nincludes: [shared.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "schema: threatlens/v1\nincludes: [shared.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("shared.yaml"),
        "schema: threatlens/v1\ncomponents: [{id: app, kind: process}]\n",
    )
    .unwrap();
    let report = check_model_file(&dir.path().join("threatmodel.yaml"), today());
    assert_eq!(report.files.len(), 4);
    assert!(!report.has_model_errors(), "{}", describe(&report));
}

#[test]
fn empty_and_non_mapping_documents_are_diagnosed() {
    for (text, rule) in [
        ("", "TM001"),
        ("# only a comment\n", "TM001"),
        ("- a\n- b\n", "TM006"),
        ("just text\n", "TM006"),
    ] {
        let report = check(text);
        assert_eq!(
            of(&report, rule).len(),
            1,
            "{text:?}: {}",
            describe(&report)
        );
    }
}

#[test]
fn a_missing_file_is_a_diagnostic() {
    let report = check_model_file(Path::new("/nonexistent/threatmodel.yaml"), today());
    let errors = findings(&report);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("cannot read"),
        "{}",
        errors[0].message
    );
}

#[test]
fn mangled_versions_of_the_worked_example_never_panic() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/rag-chatbot/threatmodel.yaml"
    ))
    .unwrap();
    let start = Instant::now();
    let mut boundaries: Vec<usize> = (0..text.len())
        .step_by(211)
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    boundaries.push(text.len());
    for &cut in &boundaries {
        // Truncated, with a character replaced, with a line duplicated.
        let truncated = &text[..cut];
        let _ = check_model_text(truncated, Path::new("t.yaml"), today());
        for junk in [
            "\t",
            ":",
            "- ",
            "{",
            "]",
            "&a ",
            "*a",
            "\"",
            "!!binary ",
            "\u{0}",
        ] {
            let mut mangled = text.clone();
            mangled.insert_str(cut, junk);
            let _ = check_model_text(&mangled, Path::new("t.yaml"), today());
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn thousands_of_dangling_references_are_reported_in_bounded_time() {
    let mut text = String::from("schema: threatlens/v1\ncomponents:\n");
    for i in 0..5000 {
        text.push_str(&format!("  - {{id: component-{i}, kind: process}}\n"));
    }
    text.push_str("flows:\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "  - {{id: f{i}, from: componnet-{i}, to: component-{i}}}\n"
        ));
    }
    let report = bounded(Duration::from_secs(30), || check(&text));
    let dangling = of(&report, "TM012");
    assert_eq!(dangling.len(), 5000);
    assert!(
        dangling[0].message.contains("did you mean `component-0`?"),
        "{}",
        dangling[0].message
    );
    assert!(!dangling[4999].message.contains("did you mean"));
}

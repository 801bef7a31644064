//! Model errors: each lands on the offending key or value, with a helpful message, and the rest of
//! the model is still read.

mod common;

use common::*;
use std::path::Path;
use threatlens_models::analyse_model_text;

/// The single finding of `rule` in `text`, checked to cover exactly `covers`.
fn one<'r>(
    report: &'r threatlens_models::ModelReport,
    text: &str,
    rule: &str,
    covers: &str,
) -> &'r threatlens_rules::Finding {
    let hits = of(report, rule);
    assert_eq!(hits.len(), 1, "expected one {rule}:\n{}", describe(report));
    assert_eq!(
        covered(text, hits[0]),
        covers,
        "{rule}: {}",
        hits[0].message
    );
    hits[0]
}

const BASE: &str = "schema: threatlens/v1\n";

#[test]
fn unknown_keys_suggest_the_right_one_and_do_not_drop_the_element() {
    let text = format!(
        "{BASE}components:\n  - {{id: bot, kind: llm}}\n  - {{id: user, kind: external-entity, human: true}}\nflows:\n  - {{id: f1, from: user, to: bot, protocl: https}}\n"
    );
    let report = check(&text);
    let f = one(&report, &text, "TM005", "protocl");
    assert!(
        f.message.contains("did you mean `protocol`?"),
        "{}",
        f.message
    );
    assert_eq!((f.span.start.line, f.span.start.column), (6, 35));
    // The flow is still in the graph: the LLM is reachable from the user.
    assert_eq!(of(&report, "TM101").len(), 1, "{}", describe(&report));
}

#[test]
fn wrong_types_point_at_the_value() {
    let text = format!(
        "{BASE}threats:\n  - id: T-1\n    title: Injection\n    likelihood: high\n    impact: 3\n"
    );
    let report = check(&text);
    let f = one(&report, &text, "TM006", "high");
    assert!(
        f.message.contains("`likelihood` must be a whole number"),
        "{}",
        f.message
    );
    let text = format!(
        "{BASE}flows:\n  - {{id: f1, from: a, to: b, carries: prompts}}\ncomponents: [{{id: a, kind: process}}, {{id: b, kind: process}}]\n"
    );
    let report = check(&text);
    let f = one(&report, &text, "TM006", "prompts");
    assert!(f.message.contains("write `[prompts]`"), "{}", f.message);
    // The broken flow's id is remembered: nothing else complains about it.
    assert_eq!(
        findings(&report)
            .iter()
            .filter(|f| f.category == threatlens_rules::Category::ModelError)
            .count(),
        1,
        "{}",
        describe(&report)
    );
}

#[test]
fn missing_required_keys_point_at_the_element() {
    let text = format!("{BASE}components:\n  - id: bot\n    tech: [python]\n");
    let report = check(&text);
    let f = one(&report, &text, "TM007", "id");
    assert!(
        f.message.contains("missing required key `kind`"),
        "{}",
        f.message
    );
}

#[test]
fn unknown_enum_values_list_the_vocabulary() {
    let text = format!(
        "{BASE}components: [{{id: a, kind: process}}, {{id: b, kind: llm}}]\nflows:\n  - {{id: f1, from: a, to: b, authn: mTLS}}\n"
    );
    let report = check(&text);
    let f = one(&report, &text, "TM008", "mTLS");
    assert!(f.message.contains("for `authn`"), "{}", f.message);
    assert!(f.message.contains("did you mean `mtls`?"), "{}", f.message);
    let text = format!("{BASE}components: [{{id: a, kind: lmm}}]\n");
    let report = check(&text);
    assert!(
        one(&report, &text, "TM008", "lmm")
            .message
            .contains("did you mean `llm`?")
    );
}

#[test]
fn dangling_and_wrong_kind_references() {
    let text = format!(
        "{BASE}components: [{{id: bot, kind: llm}}, {{id: user, kind: external-entity}}]\nassets: [{{id: prompts, kind: prompt, classification: internal}}]\nflows:\n  - {{id: f1, from: user, to: bott, carries: [user]}}\n"
    );
    let report = check(&text);
    let f = one(&report, &text, "TM012", "bott");
    assert!(f.message.contains("did you mean `bot`?"), "{}", f.message);
    assert!(f.message.contains("flows[].to"), "{}", f.message);
    let f = one(&report, &text, "TM013", "user");
    assert!(
        f.message
            .contains("is a component, but `flows[].carries` needs an asset"),
        "{}",
        f.message
    );
    assert_eq!(f.span.start.line, 5);
}

#[test]
fn duplicate_ids_across_kinds_and_files_point_at_the_second() {
    let text = format!(
        "{BASE}components: [{{id: shared, kind: llm}}]\nassets: [{{id: shared, kind: prompt, classification: internal}}]\n"
    );
    let report = check(&text);
    let f = one(&report, &text, "TM011", "shared");
    assert_eq!(f.span.start.line, 3);
    assert!(
        f.message.contains("a component already has it (line 2)"),
        "{}",
        f.message
    );

    let dir = temp_dir("dup-ids");
    std::fs::write(
        dir.path().join("threatmodel.yaml"),
        format!("{BASE}includes: [more.yaml]\ncomponents: [{{id: app, kind: process}}]\n"),
    )
    .unwrap();
    let more = format!("{BASE}components: [{{id: app, kind: process}}]\n");
    std::fs::write(dir.path().join("more.yaml"), &more).unwrap();
    let report = threatlens_models::check_model_file(&dir.path().join("threatmodel.yaml"), today());
    let dup = of(&report, "TM011");
    assert_eq!(dup.len(), 1, "{}", describe(&report));
    assert_eq!(covered(&more, dup[0]), "app");
    assert!(
        report.files[1].findings.contains(dup[0]),
        "reported in the included file"
    );
}

#[test]
fn invalid_ids_are_reported_with_a_suggestion() {
    let text = format!("{BASE}components: [{{id: Chat API, kind: process}}]\n");
    let report = check(&text);
    assert!(
        one(&report, &text, "TM010", "Chat API")
            .message
            .contains("`chat-api`")
    );
}

#[test]
fn iso_27001_ids_are_exactly_the_93() {
    let text = format!(
        "{BASE}controls:\n  - {{id: c1, capability: authn, status: implemented, iso27001: [A.8.5, A.8.35, A.12.4.1, 8.24]}}\n"
    );
    let report = check(&text);
    let bad = of(&report, "TM014");
    assert_eq!(bad.len(), 3, "{}", describe(&report));
    assert_eq!(covered(&text, bad[0]), "A.8.35");
    assert_eq!(covered(&text, bad[1]), "A.12.4.1");
    assert!(
        bad[2].message.contains("write `A.8.24`"),
        "{}",
        bad[2].message
    );
}

#[test]
fn iso_42001_ids_are_exactly_the_38() {
    let text = format!(
        "{BASE}controls:\n  - {{id: c1, capability: eval-gate, status: implemented, iso42001: [A.6.2.4, A.6.2.9, A.8.24, A.5.2]}}\n"
    );
    let report = check(&text);
    let bad = of(&report, "TM015");
    assert_eq!(bad.len(), 2, "{}", describe(&report));
    assert_eq!(covered(&text, bad[0]), "A.6.2.9");
    assert!(
        bad[1].message.contains("ISO/IEC 27001 control"),
        "{}",
        bad[1].message
    );
}

#[test]
fn atlas_ids_are_checked_for_syntax_and_against_the_library() {
    let text = format!(
        "{BASE}threats:\n  - {{id: T-1, title: x, atlas: [AML.T0051.000, AML.T0051, AML.T51, AML.T9999], treatment: {{decision: avoid, owner: me, status: open, justification: y}}}}\n"
    );
    let report = check(&text);
    assert!(
        one(&report, &text, "TM016", "AML.T51")
            .message
            .contains("AML.Tnnnn")
    );
    let unlisted = one(&report, &text, "TM017", "AML.T9999");
    assert_eq!(unlisted.severity, threatlens_rules::Severity::Low);
}

#[test]
fn owasp_ids_need_their_year() {
    let text = format!(
        "{BASE}threats:\n  - {{id: T-1, title: x, owasp_llm: [LLM01, LLM02:2025, ML06:2023], owasp_ml: [ML06], treatment: {{decision: avoid, owner: me, status: open, justification: y}}}}\n"
    );
    let report = check(&text);
    let bad = of(&report, "TM018");
    assert_eq!(bad.len(), 3, "{}", describe(&report));
    assert_eq!(covered(&text, bad[0]), "LLM01");
    assert!(
        bad[0].message.contains("`LLM01:2025`"),
        "{}",
        bad[0].message
    );
    assert!(
        bad[1].message.contains("belongs in `owasp_ml`"),
        "{}",
        bad[1].message
    );
    assert!(bad[2].message.contains("`ML06:2023`"), "{}", bad[2].message);
}

#[test]
fn capabilities_scores_rules_and_library_ids_are_validated() {
    let text = format!(
        "{BASE}components: [{{id: app, kind: process}}]\ncontrols: [{{id: c1, capability: input-guardrails, status: implemented}}]\nthreats:\n  - {{id: T-1, title: x, library: AITL-099, rule: R-NOPE, likelihood: 7, cwe: [CWE-502, CWE502], treatment: {{decision: avoid, owner: me, status: open, justification: y}}}}\nexceptions:\n  - {{rule: R-FLOW-WEAK-TSL, target: ap, justification: j, approved_by: ciso, expires: 2027-01-01}}\n"
    );
    let report = check(&text);
    assert!(
        one(&report, &text, "TM020", "input-guardrails")
            .message
            .contains("did you mean `input-guardrail`?")
    );
    one(&report, &text, "TM022", "7");
    one(&report, &text, "TM025", "AITL-099");
    one(&report, &text, "TM019", "CWE502");
    let rules = of(&report, "TM024");
    assert_eq!(rules.len(), 2, "{}", describe(&report));
    assert!(
        rules[1].message.contains("did you mean `R-FLOW-WEAK-TLS`?"),
        "{}",
        rules[1].message
    );
    assert!(
        one(&report, &text, "TM012", "ap")
            .message
            .contains("did you mean `app`?")
    );
}

#[test]
fn the_schema_tag_is_required() {
    let report = check("components: []\n");
    assert_eq!(of(&report, "TM009").len(), 1);
    let text = "schema: threatlens/v2\n";
    let report = check(text);
    one(&report, text, "TM009", "threatlens/v2");
}

#[test]
fn trust_boundary_problems() {
    let text = format!(
        "{BASE}trust_boundaries:\n  - {{id: a, trust: trusted, contains: [x], parent: b}}\n  - {{id: b, trust: trusted, parent: a}}\n  - {{id: c, trust: untrusted, contains: [x]}}\ncomponents: [{{id: x, kind: process}}, {{id: y, kind: process}}]\n"
    );
    let report = check(&text);
    let boundary = of(&report, "TM023");
    assert!(
        boundary.iter().any(|f| f.message.contains("inside itself")),
        "{}",
        describe(&report)
    );
    assert!(
        boundary
            .iter()
            .any(|f| f.message.contains("none of them is inside")),
        "{}",
        describe(&report)
    );
    one(&report, &text, "TM027", "y");
}

#[test]
fn a_section_defined_in_two_files_is_reported_on_the_second() {
    let dir = temp_dir("sections");
    std::fs::write(
        dir.path().join("threatmodel.yaml"),
        format!("{BASE}includes: [part.yaml]\nscope: {{statement: main}}\n"),
    )
    .unwrap();
    let part = format!("{BASE}scope: {{statement: part}}\n");
    std::fs::write(dir.path().join("part.yaml"), &part).unwrap();
    let analysis =
        threatlens_models::analyse_model_file(&dir.path().join("threatmodel.yaml"), today());
    let report = &analysis.report;
    let conflict = of(report, "TM026");
    assert_eq!(conflict.len(), 1, "{}", describe(report));
    assert_eq!(covered(&part, conflict[0]), "scope");
    assert_eq!(analysis.model.scope.as_ref().unwrap().statement, "main");
}

#[test]
fn spans_of_ids_and_references_are_exact_for_an_editor() {
    let text = format!(
        "{BASE}components:\n  - id: bot   # the model\n    kind: llm\nflows:\n  - {{id: f1, from: bot, to: bot}}\n"
    );
    let analysis = analyse_model_text(&text, Path::new("threatmodel.yaml"), today());
    let model = &analysis.model;
    let def = model.definition_loc("bot").unwrap();
    assert_eq!(&text[def.span.start_byte..def.span.end_byte], "bot");
    assert_eq!(
        (
            def.span.start.line,
            def.span.start.column,
            def.span.end.column
        ),
        (3, 9, 12)
    );
    let refs: Vec<_> = model
        .references()
        .into_iter()
        .filter(|r| r.id.as_str() == "bot")
        .collect();
    assert_eq!(refs.len(), 2);
    assert!(
        refs.iter()
            .all(|r| &text[r.id.loc.span.start_byte..r.id.loc.span.end_byte] == "bot")
    );
    assert_eq!(refs[0].role, "flows[].from");
}

#[test]
fn a_minimal_model_is_short_and_valid() {
    let text = "schema: threatlens/v1\ncomponents:\n  - {id: user, kind: external-entity, human: true}\n  - {id: bot, kind: llm}\nflows:\n  - {id: ask, from: user, to: bot}\n";
    let report = check(text);
    assert!(!report.has_model_errors(), "{}", describe(&report));
    assert_eq!(of(&report, "TM101").len(), 1);
}

#[test]
fn the_starter_model_validates() {
    let text = threatlens_models::starter_model();
    let report = check(&text);
    assert!(!report.has_model_errors(), "{}", describe(&report));
    // It shows what is still missing: the planned guardrails.
    assert_eq!(of(&report, "TM101").len(), 1, "{}", describe(&report));
}

#[test]
fn library_titles_for_hovers() {
    let lib = threatlens_models::library::library();
    assert_eq!(lib.iso27001_title("A.8.24"), Some("Use of cryptography"));
    assert_eq!(lib.iso42001_title("A.7.5"), Some("Data provenance"));
    assert_eq!(
        lib.atlas_title("AML.T0051.000"),
        Some("LLM Prompt Injection: Direct")
    );
    assert_eq!(lib.atlas_title("AML.T0051"), Some("LLM Prompt Injection"));
    assert!(
        lib.capability("input-guardrail")
            .unwrap()
            .meaning
            .contains("prompt injection")
    );
}

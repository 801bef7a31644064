//! Graph semantics (spec/ai-threat-library.md §1) and how checks use them: reachability,
//! boundaries, classification, guarded paths, partial controls, scope and exceptions.

mod common;

use common::*;
use std::path::Path;
use threatlens_models::format::{Classification, Trust};
use threatlens_models::{Graph, Model, analyse_model_text};
use threatlens_rules::Severity;

fn analyse(text: &str) -> (Model, Graph) {
    let a = analyse_model_text(text, Path::new("threatmodel.yaml"), today());
    assert!(!a.report.has_model_errors(), "{}", describe(&a.report));
    (a.model, a.graph)
}

fn idx(model: &Model, id: &str) -> usize {
    model.component_index(id).unwrap()
}

#[test]
fn reachability_follows_runtime_requests_only() {
    let (model, graph) = analyse(
        "schema: threatlens/v1
components:
  - {id: user, kind: external-entity, human: true}
  - {id: api, kind: process}
  - {id: registry, kind: model-registry}
  - {id: llm, kind: llm}
  - {id: siem, kind: process}
  - {id: worker, kind: process}
  - {id: tool, kind: tool}
flows:
  - {id: f1, from: user, to: api, bidirectional: true}
  - {id: f2, from: api, to: registry, kind: deployment}
  - {id: f3, from: registry, to: llm, kind: deployment}
  - {id: f4, from: api, to: siem, kind: telemetry}
  - {id: f5, from: worker, to: api, bidirectional: true}
  - {id: f6, from: api, to: tool, kind: tool-call}
",
    );
    assert!(graph.untrusted_src(idx(&model, "api")));
    assert!(
        graph.untrusted_src(idx(&model, "tool")),
        "tool calls are runtime flows"
    );
    for id in ["registry", "llm", "siem"] {
        assert!(
            !graph.untrusted_src(idx(&model, id)),
            "{id}: deployment/telemetry are not followed"
        );
    }
    assert!(
        !graph.untrusted_src(idx(&model, "worker")),
        "the response of a bidirectional flow is not followed"
    );
    assert!(
        !graph.untrusted_src(idx(&model, "user")),
        "path length >= 1"
    );
}

#[test]
fn innermost_boundary_decides_trust_and_crossing() {
    let (model, graph) = analyse(
        "schema: threatlens/v1
trust_boundaries:
  - {id: vpc, kind: network, trust: trusted, contains: [api, sandboxed]}
  - {id: jail, kind: execution-environment, trust: semi-trusted, parent: vpc, contains: [sandboxed]}
components:
  - {id: api, kind: process}
  - {id: sandboxed, kind: agent}
  - {id: partner, kind: external-entity}
flows:
  - {id: inner, from: api, to: sandboxed}
  - {id: outer, from: partner, to: api}
",
    );
    let sandboxed = idx(&model, "sandboxed");
    assert_eq!(graph.trust(sandboxed), Trust::SemiTrusted);
    assert_eq!(graph.boundary_chain(sandboxed).len(), 2);
    assert!(graph.inside(
        &model,
        sandboxed,
        threatlens_models::format::BoundaryKind::Network
    ));
    assert_eq!(
        graph.trust(idx(&model, "partner")),
        Trust::Untrusted,
        "external entity in no boundary"
    );
    let flow = |id: &str| {
        model
            .flows
            .iter()
            .position(|f| f.id.as_str() == id)
            .unwrap()
    };
    assert!(graph.crosses(flow("inner")), "vpc -> jail crosses");
    assert!(graph.crosses(flow("outer")));
}

#[test]
fn effective_classification_is_the_max_over_sources_even_through_cycles() {
    let (_, graph) = analyse(
        "schema: threatlens/v1
assets:
  - {id: secret-docs, kind: document, classification: restricted, pii: true}
  - {id: chunks, kind: document, classification: internal, derived_from: [secret-docs, vectors]}
  - {id: vectors, kind: embeddings, classification: public, derived_from: [chunks]}
  - {id: other, kind: document, classification: confidential}
",
    );
    assert_eq!(
        graph.classification("chunks"),
        Some(Classification::Restricted)
    );
    assert_eq!(
        graph.classification("vectors"),
        Some(Classification::Restricted)
    );
    assert_eq!(
        graph.classification("other"),
        Some(Classification::Confidential)
    );
    assert!(graph.derived_personal("vectors"));
    assert!(!graph.derived_personal("other"));
}

#[test]
fn a_guard_on_one_path_does_not_protect_another() {
    let text = "schema: threatlens/v1
components:
  - {id: user, kind: external-entity, human: true}
  - {id: web, kind: process, controls: [guard]}
  - {id: batch, kind: process}
  - {id: llm, kind: llm}
flows:
  - {id: f1, from: user, to: web}
  - {id: f2, from: web, to: llm}
  - {id: f3, from: user, to: batch}
  - {id: f4, from: batch, to: llm}
controls: [{id: guard, capability: input-guardrail, status: implemented}]
";
    let report = check(text);
    let hits = of(&report, "TM101");
    assert_eq!(hits.len(), 1, "{}", describe(&report));
    assert!(
        hits[0].message.contains("from `user`"),
        "{}",
        hits[0].message
    );
    assert_eq!(hits[0].missing, vec!["input-guardrail".to_owned()]);
    assert_eq!(hits[0].threats, vec!["AITL-001".to_owned()]);
    // A guarded flow closes the second path.
    let guarded = text.replace(
        "{id: f4, from: batch, to: llm}",
        "{id: f4, from: batch, to: llm, controls: [guard]}",
    );
    assert!(of(&check(&guarded), "TM101").is_empty());
}

#[test]
fn output_paths_follow_responses_back_to_people() {
    // The LLM answers through the orchestrator, which cites sources: grounded.
    let text = "schema: threatlens/v1
components:
  - {id: user, kind: external-entity, human: true}
  - {id: orchestrator, kind: process, controls: [cite]}
  - {id: llm, kind: llm}
flows:
  - {id: f1, from: user, to: orchestrator, bidirectional: true}
  - {id: f2, from: orchestrator, to: llm, bidirectional: true}
controls: [{id: cite, capability: grounding-citations, status: implemented}]
";
    assert!(of(&check(text), "TM108").is_empty());
    // A second, direct channel to the user is not grounded.
    let direct = text.replace(
        "  - {id: f2, from: orchestrator, to: llm, bidirectional: true}\n",
        "  - {id: f2, from: orchestrator, to: llm, bidirectional: true}\n  - {id: f3, from: llm, to: user}\n",
    );
    assert_eq!(
        of(&check(&direct), "TM108").len(),
        1,
        "{}",
        describe(&check(&direct))
    );
}

#[test]
fn partial_controls_satisfy_a_rule_with_a_low_severity_finding() {
    let text = "schema: threatlens/v1
components: [{id: bot, kind: llm, controls: [log]}]
controls: [{id: log, capability: audit-log, status: partial}]
";
    let report = check(text);
    let hits = of(&report, "TM139");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].severity, Severity::Low);
    assert!(hits[0].message.contains("`log`"), "{}", hits[0].message);
    let planned = check(&text.replace("partial", "planned"));
    assert_eq!(of(&planned, "TM139")[0].severity, Severity::Medium);
    assert!(of(&check(&text.replace("partial", "implemented")), "TM139").is_empty());
}

#[test]
fn out_of_scope_components_produce_nothing() {
    let text = "schema: threatlens/v1
scope: {statement: Only the api., in_scope: {systems: [api]}}
components:
  - {id: api, kind: process}
  - {id: vendor-llm, kind: llm, supplier: vendor}
  - {id: legacy, kind: ml-model, out_of_scope: true}
flows:
  - {id: f1, from: api, to: vendor-llm, encryption: none, carries: [data]}
trust_boundaries:
  - {id: inside, trust: trusted, contains: [api, legacy]}
  - {id: outside, trust: untrusted, contains: [vendor-llm]}
assets: [{id: data, kind: record, classification: confidential}]
suppliers: [{id: vendor, kind: llm-api, provides: [vendor-llm], due_diligence: {assessed_on: 2026-06-01, dpa_signed: true, trains_on_customer_data: false, incident_notification: 24h}}]
";
    let report = check(text);
    for f in findings(&report) {
        assert!(
            !matches!(f.target.as_deref(), Some("vendor-llm" | "legacy")),
            "{}",
            describe(&report)
        );
    }
    // The interface flow is checked: it leaves the boundary unencrypted.
    assert_eq!(of(&report, "TM143").len(), 1, "{}", describe(&report));
}

#[test]
fn exceptions_suppress_exactly_one_rule_on_one_target_until_they_expire() {
    let text = "schema: threatlens/v1
components: [{id: a, kind: llm}, {id: b, kind: llm}]
exceptions:
  - {rule: llm-no-audit-log, target: a, justification: Vendor logs it., approved_by: ciso, expires: 2027-01-31}
";
    let report = check(text);
    let audit = of(&report, "TM139");
    assert_eq!(audit.len(), 2);
    let on = |t: &str| {
        audit
            .iter()
            .find(|f| f.target.as_deref() == Some(t))
            .unwrap()
    };
    let suppressed = on("a").suppressed.as_ref().expect("a is suppressed");
    assert!(
        suppressed.reason.contains("Vendor logs it.") && suppressed.reason.contains("ciso"),
        "{}",
        suppressed.reason
    );
    assert!(on("b").suppressed.is_none(), "other target");
    assert!(
        of(&report, "TM134").iter().all(|f| f.suppressed.is_none()),
        "other rule"
    );
    // The rule may be named by id or library name too.
    for name in ["TM139", "R-LLM-NO-AUDIT-LOG"] {
        let r = check(&text.replace("llm-no-audit-log", name));
        assert!(
            of(&r, "TM139").iter().any(|f| f.suppressed.is_some()),
            "{name}"
        );
    }
    // Expired: the finding is active again and the exception is reported.
    let later = threatlens_models::check_model_text(
        text,
        Path::new("m.yaml"),
        "2027-02-01".parse().unwrap(),
    );
    assert!(of(&later, "TM139").iter().all(|f| f.suppressed.is_none()));
    let expired = of(&later, "TM212");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].target.as_deref(), Some("a"));
    assert_eq!(covered(text, expired[0]), "2027-01-31");
}

#[test]
fn broken_elements_do_not_cascade_into_dangling_references() {
    let text = "schema: threatlens/v1
components:
  - {id: user, kind: external-entity, human: true}
  - {id: bot, kind: llm, tech: python}
flows: [{id: f1, from: user, to: bot}]
threats: [{id: T-1, title: x, affects: [bot], treatment: {decision: avoid, owner: me, status: open, justification: y}}]
";
    let report = check(text);
    let errors: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f.category == threatlens_rules::Category::ModelError)
        .collect();
    assert_eq!(errors.len(), 1, "{}", describe(&report));
    assert_eq!(errors[0].rule, "TM006");
}

//! The checks: missing-control rules (data, evaluated by [`crate::predicate`]), the governance
//! checks, and exceptions.
//!
//! - A missing-control rule is evaluated on every component, flow or asset in scope. It is
//!   reported when a requirement is not met by *implemented* controls; when *partial* controls
//!   would meet it, it is reported at low severity, saying which controls to finish.
//! - Governance checks are built in (named by `check = "…"` in `library/rules-governance.toml`,
//!   which holds their text); they take "today" as a parameter.
//! - An exception suppresses exactly one rule on one target until it expires; the finding is kept,
//!   marked suppressed. An expired exception suppresses nothing and is itself reported.
//! - Nothing is reported on out-of-scope components (nor on flows both of whose ends are out of
//!   scope).

use crate::date::Date;
use crate::de::{FileId, Loc};
use crate::format::{ControlStatus, Decision, Exception, ThreatStatus};
use crate::graph::Graph;
use crate::library::{GovernanceRule, MissingControlRule, library};
use crate::model::Model;
use crate::predicate::{Evaluator, Target, Trace};
use threatlens_rules::finding::Suppressed;
use threatlens_rules::{Category, Finding, Severity};

/// A finding and the model file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: FileId,
    pub finding: Finding,
}

/// Fill `{name}` placeholders; unknown ones are left as written.
pub fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.trim().to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

fn ticked(items: &[String], joiner: &str) -> String {
    let ticked: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match ticked.len() {
        0 => String::new(),
        1 => ticked[0].clone(),
        n => format!("{} {joiner} {}", ticked[..n - 1].join(", "), ticked[n - 1]),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    id: &str,
    slug: &str,
    category: Category,
    severity: Severity,
    loc: Loc,
    message: String,
    target: Option<&str>,
    missing: Vec<String>,
    threats: Vec<String>,
) -> Located {
    let fingerprint_of = target.unwrap_or(&message).to_string();
    let fingerprint_of = fingerprint_of.as_str();
    Located {
        file: loc.file,
        finding: Finding {
            target: target.map(str::to_owned),
            missing,
            threats,
            ..Finding::new(
                id,
                slug,
                category,
                severity,
                loc.span,
                message,
                fingerprint_of,
            )
        },
    }
}

/// Run every check on a model.
pub fn run(model: &Model, graph: &Graph, today: Date) -> Vec<Located> {
    let eval = Evaluator::new(model, graph, today);
    let mut out = Vec::new();
    for rule in &library().rules {
        missing_control(&eval, rule, &mut out);
    }
    governance(model, today, &mut out);
    apply_exceptions(model, today, &mut out);
    out
}

fn missing_control(eval: &Evaluator<'_>, rule: &MissingControlRule, out: &mut Vec<Located>) {
    let model = eval.model;
    let mut targets: Vec<(Target<'_>, Loc, &str, Trace)> = Vec::new();
    if let Some(cond) = &rule.component {
        for (i, c) in model.components.iter().enumerate() {
            let mut trace = Trace::default();
            if model.component_in_scope(c) && eval.component(cond, i, &mut trace) {
                targets.push((Target::Component(i, c), c.id.loc, c.id.as_str(), trace));
            }
        }
    }
    if let Some(cond) = &rule.flow {
        for (i, f) in model.flows.iter().enumerate() {
            let mut trace = Trace::default();
            if model.flow_in_scope(f) && eval.flow(cond, i, &mut trace) {
                targets.push((Target::Flow(i, f), f.id.loc, f.id.as_str(), trace));
            }
        }
    }
    if let Some(cond) = &rule.asset {
        for a in &model.assets {
            if model.asset_in_scope(a) && eval.asset(cond, a) {
                let trace = Trace {
                    assets: vec![a.id.as_str().to_owned()],
                    ..Trace::default()
                };
                targets.push((Target::Asset(a), a.id.loc, a.id.as_str(), trace));
            }
        }
    }
    for (target, loc, id, mut trace) in targets {
        let failing: Vec<_> = rule
            .require
            .iter()
            .filter(|r| !eval.met(r, target, false, &mut trace))
            .collect();
        if !rule.require.is_empty() && failing.is_empty() {
            continue;
        }
        let mut missing: Vec<String> = Vec::new();
        for r in &failing {
            for cap in &r.any {
                if !missing.contains(cap) {
                    missing.push(cap.clone());
                }
            }
        }
        let partial = !failing.is_empty()
            && failing
                .iter()
                .all(|r| eval.met(r, target, true, &mut Trace::default()));
        let (from, to) = match target {
            Target::Flow(_, f) => (f.from.as_str().to_owned(), f.to.as_str().to_owned()),
            _ => (String::new(), String::new()),
        };
        let vars = [
            ("target", id.to_owned()),
            ("missing", ticked(&missing, "or")),
            (
                "source",
                trace
                    .source
                    .clone()
                    .unwrap_or_else(|| "an untrusted source".to_owned()),
            ),
            ("assets", ticked(&trace.assets, "and")),
            ("from", from),
            ("to", to),
            ("supplier", trace.supplier.clone().unwrap_or_default()),
        ];
        let mut message = fill(&rule.message, &vars);
        let mut severity = rule.severity;
        if partial {
            let controls: Vec<String> = model
                .controls
                .iter()
                .filter(|c| {
                    c.status == ControlStatus::Partial
                        && missing.iter().any(|m| m == c.capability.as_str())
                })
                .map(|c| c.id.as_str().to_owned())
                .collect();
            severity = Severity::Low;
            message = format!(
                "{message} Only partially implemented control(s) {} cover this: complete them \
                 (`status: implemented`).",
                ticked(&controls, "and")
            );
        }
        out.push(finding(
            &rule.id,
            &rule.slug,
            Category::MissingControl,
            severity,
            loc,
            message,
            Some(id),
            missing,
            rule.threats.clone(),
        ));
    }
}

/// A governance finding from the rule whose `check` is `check`.
fn gov(
    check: &str,
    loc: Loc,
    target: Option<&str>,
    vars: &[(&str, String)],
    out: &mut Vec<Located>,
) {
    let Some(rule): Option<&GovernanceRule> = library().governance_rule(check) else {
        return;
    };
    let mut all = vec![("target", target.unwrap_or("the model").to_owned())];
    all.extend(vars.iter().cloned());
    out.push(finding(
        &rule.id,
        &rule.slug,
        Category::Governance,
        rule.severity,
        loc,
        fill(&rule.message, &all),
        target,
        Vec::new(),
        rule.threats.clone(),
    ));
}

/// Where a model-level finding goes: the `schema:` value of the root file.
fn model_loc(model: &Model) -> Loc {
    model.schema.as_ref().map_or(
        Loc {
            file: 0,
            span: threatlens_rules::Span {
                start_byte: 0,
                end_byte: 0,
                start: threatlens_rules::Position { line: 1, column: 1 },
                end: threatlens_rules::Position { line: 1, column: 1 },
                cell: None,
            },
        },
        |s| s.loc,
    )
}

fn governance(model: &Model, today: Date, out: &mut Vec<Located>) {
    let model_id = model
        .metadata
        .as_ref()
        .and_then(|m| m.id.as_ref())
        .map(|id| id.as_str());

    if model.scope.is_none() && !model.broken_sections.contains("scope") {
        gov("scope-missing", model_loc(model), model_id, &[], out);
    }
    if let Some(scope) = &model.scope
        && !scope.in_scope.systems.is_empty()
    {
        for c in &model.components {
            let external = c.kind == crate::format::ComponentKind::ExternalEntity
                || model.supplier_of(c).is_some();
            let listed = scope
                .in_scope
                .systems
                .iter()
                .any(|r| r.as_str() == c.id.as_str());
            if !external && !listed && !c.out_of_scope {
                gov(
                    "scope-unlisted-component",
                    c.id.loc,
                    Some(c.id.as_str()),
                    &[],
                    out,
                );
            }
        }
    }

    if !model.broken_sections.contains("metadata") {
        let metadata = model.metadata.as_ref();
        let last = metadata.and_then(|m| m.last_reviewed.as_ref());
        let every = metadata.and_then(|m| m.review_every.as_ref());
        match (last, every) {
            (Some(last), Some(every)) => {
                let due = last.plus(every.value);
                if due < today {
                    gov(
                        "review-overdue",
                        last.loc,
                        model_id,
                        &[(
                            "detail",
                            format!(
                                "was last reviewed on {} and was due again on {due}",
                                last.value
                            ),
                        )],
                        out,
                    );
                }
            }
            _ => gov(
                "review-overdue",
                last.map_or_else(|| model_loc(model), |l| l.loc),
                model_id,
                &[(
                    "detail",
                    "has no review record (`metadata.last_reviewed` and `metadata.review_every`)"
                        .to_owned(),
                )],
                out,
            ),
        }
    }

    let threshold = model.scope.as_ref().and_then(|s| s.risk_criteria.as_ref());
    for threat in &model.threats {
        let id = threat.id.as_str();
        let Some(treatment) = &threat.treatment else {
            gov("threat-no-treatment", threat.id.loc, Some(id), &[], out);
            continue;
        };
        let mut gaps = Vec::new();
        if treatment.owner.is_none() {
            gaps.push("an `owner`");
        }
        if treatment.status.is_none() {
            gaps.push("a `status`");
        }
        if treatment.decision == Decision::Accept && treatment.approved_by.is_none() {
            gaps.push("`approved_by` (required to accept)");
        }
        if matches!(treatment.decision, Decision::Accept | Decision::Avoid)
            && treatment.justification.is_none()
        {
            gaps.push("a `justification`");
        }
        if !gaps.is_empty() {
            gov(
                "threat-treatment-incomplete",
                threat.id.loc,
                Some(id),
                &[("missing", gaps.join(", "))],
                out,
            );
        }
        if treatment.decision == Decision::Accept {
            let authority = threshold.map(|c| c.accept_authority.as_str());
            let above = match (threat.risk(), threshold) {
                (Some(risk), Some(c)) => risk > c.acceptance_threshold.value,
                _ => true,
            };
            let approved = treatment.approved_by.as_ref().map(|a| a.as_str());
            if above && (authority.is_none() || approved != authority) {
                let risk = threat
                    .risk()
                    .map_or("unknown".to_owned(), |r| r.to_string());
                let detail = match threshold {
                    Some(c) => format!(
                        "risk {risk} is above the acceptance threshold {} and only `{}` may accept it",
                        c.acceptance_threshold.value, c.accept_authority.value
                    ),
                    None => format!(
                        "risk {risk} cannot be compared with an acceptance threshold: define \
                         `scope.risk_criteria` (threshold and accept authority)"
                    ),
                };
                let loc = treatment
                    .approved_by
                    .as_ref()
                    .map_or(threat.id.loc, |a| a.loc);
                gov(
                    "risk-acceptance-unauthorised",
                    loc,
                    Some(id),
                    &[("detail", detail)],
                    out,
                );
            }
        }
        let open = matches!(
            treatment.status,
            Some(ThreatStatus::Open | ThreatStatus::InProgress) | None
        );
        if let Some(due) = treatment.due.as_ref().filter(|d| open && d.value < today) {
            gov(
                "threat-overdue",
                due.loc,
                Some(id),
                &[(
                    "detail",
                    format!("its treatment was due on {} and is not done", due.value),
                )],
                out,
            );
        } else if let Some(review) = treatment.review_by.as_ref().filter(|d| d.value < today) {
            gov(
                "threat-overdue",
                review.loc,
                Some(id),
                &[(
                    "detail",
                    format!("its treatment was to be reviewed by {}", review.value),
                )],
                out,
            );
        }
        if threat.impact.as_ref().is_some_and(|i| i.value >= 4) {
            let covering_signals: Vec<&str> = model
                .signals()
                .iter()
                .filter(|s| s.covers.iter().any(|c| c.as_str() == id))
                .map(|s| s.id.as_str())
                .collect();
            let in_playbook = model.playbooks().iter().any(|p| {
                p.triggers
                    .iter()
                    .any(|t| t.as_str() == id || covering_signals.contains(&t.as_str()))
            });
            if !in_playbook {
                gov("threat-no-playbook", threat.id.loc, Some(id), &[], out);
            }
            if covering_signals.is_empty() {
                gov("threat-no-signal", threat.id.loc, Some(id), &[], out);
            }
        }
    }

    for supplier in &model.suppliers {
        let id = supplier.id.as_str();
        let provides_in_scope = model.components.iter().any(|c| {
            model.supplier_of(c).is_some_and(|s| s.id.as_str() == id)
                && (model.component_in_scope(c)
                    || model.flows.iter().any(|f| {
                        (f.from.as_str() == c.id.as_str() || f.to.as_str() == c.id.as_str())
                            && model.flow_in_scope(f)
                    }))
        });
        let interface = model
            .scope
            .iter()
            .flat_map(|s| &s.interfaces)
            .any(|i| i.with.as_str() == id);
        if supplier.due_diligence.is_none() && (provides_in_scope || interface) {
            gov(
                "supplier-no-due-diligence",
                supplier.id.loc,
                Some(id),
                &[],
                out,
            );
        }
        let contact = model
            .incident_response
            .iter()
            .flat_map(|ir| &ir.contacts)
            .any(|c| c.supplier.as_ref().is_some_and(|s| s.as_str() == id));
        let notification = supplier
            .due_diligence
            .as_ref()
            .is_some_and(|dd| dd.incident_notification.is_some());
        if !supplier.data_shared.is_empty() && !contact && !notification {
            gov(
                "supplier-no-incident-contact",
                supplier.id.loc,
                Some(id),
                &[],
                out,
            );
        }
    }

    let overdue = |last: Option<&crate::de::Spanned<Date>>,
                   every: Option<&crate::de::Spanned<crate::date::Duration>>| {
        let (last, every) = (last?, every?);
        let due = last.plus(every.value);
        (due < today).then(|| {
            (
                last.loc,
                format!("last on {}, due again on {due}", last.value),
            )
        })
    };
    if let Some(ex) = model
        .incident_response
        .as_ref()
        .and_then(|ir| ir.exercises.as_ref())
        && let Some((loc, detail)) = overdue(ex.last.as_ref(), ex.every.as_ref())
    {
        gov(
            "exercise-overdue",
            loc,
            model_id,
            &[("detail", detail)],
            out,
        );
    }
    if let Some(audit) = model
        .monitoring
        .as_ref()
        .and_then(|m| m.internal_audit.as_ref())
        && let Some((loc, detail)) = overdue(audit.last.as_ref(), audit.every.as_ref())
    {
        gov("audit-overdue", loc, model_id, &[("detail", detail)], out);
    }
}

fn rule_matches(exception: &Exception, finding: &Finding) -> bool {
    library()
        .find_rule(exception.rule.as_str())
        .is_some_and(|rule| rule.id() == finding.rule)
}

fn apply_exceptions(model: &Model, today: Date, out: &mut Vec<Located>) {
    let mut reports = Vec::new();
    for exception in &model.exceptions {
        let target = exception.target.as_str();
        if target.starts_with("code:") {
            continue; // applied to code findings by the caller
        }
        let expired = exception.expires.value < today;
        // Rules evaluated elsewhere (code and drift checks) cannot be "unused" here.
        let ours = !matches!(
            library().find_rule(exception.rule.as_str()),
            Some(crate::library::AnyRule::External(_)) | None
        );
        let mut used = false;
        for located in out.iter_mut() {
            let f = &mut located.finding;
            if f.target.as_deref() == Some(target) && rule_matches(exception, f) {
                used = true;
                if !expired && f.suppressed.is_none() {
                    f.suppressed = Some(Suppressed {
                        reason: format!(
                            "{} (approved by {}, expires {})",
                            exception.justification.trim(),
                            exception.approved_by.value,
                            exception.expires.value
                        ),
                        span: exception.rule.loc.span,
                    });
                }
            }
        }
        let vars = [
            ("rule", exception.rule.value.clone()),
            ("expires", exception.expires.value.to_string()),
        ];
        if expired {
            reports.push(("exception-expired", exception, vars));
        } else if !used && ours {
            reports.push(("exception-unused", exception, vars));
        }
    }
    for (check, exception, vars) in reports {
        let loc = if check == "exception-expired" {
            exception.expires.loc
        } else {
            exception.rule.loc
        };
        gov(check, loc, Some(exception.target.as_str()), &vars, out);
    }
}

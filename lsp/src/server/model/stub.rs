//! The code action on a missing-control finding: add a control stub.
//!
//! One action per missing capability. Its edit (one `WorkspaceEdit`, possibly over two files)
//! adds a `controls:` entry with that capability, `status: planned` and a title, and references
//! it from the element where the rule looks for it: the rule's requirement names the places
//! (`self`, `ingress`, `egress` → the target component; `flow`, `upstream` → the target flow;
//! `from`/`to` → that end of the flow; `inbound`/`outbound` → the first such flow of the
//! component; `model` → no reference needed). Marking the stub `implemented` then satisfies the
//! requirement (tested on every missing-control finding of the example models).
//!
//! The text follows the file's style: a block list of controls gets a block entry at the same
//! indentation, a list of flow mappings a flow mapping; an element written as a flow mapping
//! gets `, controls: [id]` before its `}`, a block one a `controls:` line, an existing
//! `controls` list one more id. A file without a `controls:` section gets one at its end.

use super::ModelAnalysed;
use super::yaml_text::{content_end, line_end, starts_flow};
use std::rc::Rc;
use threatlens_models::ElementKind;
use threatlens_models::library::library;
use threatlens_models::predicate::Place;
use threatlens_models::yaml::{self, Node, NodeKind};
use threatlens_rules::{Category, Finding};

/// One text edit in a file of the model: bytes `start..end` become `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub file: usize,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Stub {
    pub title: String,
    pub edits: Vec<FileEdit>,
}

/// At most this many actions for one finding.
const MAX_ACTIONS: usize = 4;

/// The stubs for a missing-control finding (none for other findings).
pub fn stubs(analysed: &ModelAnalysed, finding: &Finding) -> Vec<Stub> {
    if finding.category != Category::MissingControl {
        return Vec::new();
    }
    let Some(target) = finding.target.as_deref() else {
        return Vec::new();
    };
    finding
        .missing
        .iter()
        .take(MAX_ACTIONS)
        .filter_map(|cap| stub(analysed, &finding.rule, target, cap))
        .collect()
}

/// The element (component or flow id) that should reference a control with `cap` so that
/// `rule` is satisfied on `target`; `Ok(None)` when the control only needs to exist.
fn holder(analysed: &ModelAnalysed, rule: &str, target: &str, cap: &str) -> Option<String> {
    let model = analysed.model();
    let (kind, _) = model.lookup(target)?;
    let places: Vec<Place> = library()
        .rules
        .iter()
        .find(|r| r.id == rule)
        .and_then(|r| r.require.iter().find(|q| q.any.iter().any(|c| c == cap)))
        .map(|q| q.at.clone())
        .unwrap_or_default();
    for place in &places {
        let found = match (kind, place) {
            (_, Place::Model) => return None,
            (ElementKind::Component, Place::This | Place::Ingress | Place::Egress) => {
                Some(target.to_owned())
            }
            (ElementKind::Component, Place::Inbound) => model
                .flows
                .iter()
                .find(|f| f.to.as_str() == target)
                .map(|f| f.id.as_str().to_owned()),
            (ElementKind::Component, Place::Outbound) => model
                .flows
                .iter()
                .find(|f| f.from.as_str() == target)
                .map(|f| f.id.as_str().to_owned()),
            (ElementKind::Flow, Place::Flow | Place::Upstream) => Some(target.to_owned()),
            (ElementKind::Flow, Place::From) => {
                model.flow(target).map(|f| f.from.as_str().to_owned())
            }
            (ElementKind::Flow, Place::To) => model.flow(target).map(|f| f.to.as_str().to_owned()),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    matches!(kind, ElementKind::Component | ElementKind::Flow).then(|| target.to_owned())
}

fn fresh_id(analysed: &ModelAnalysed, target: &str, cap: &str) -> String {
    let model = analysed.model();
    let free = |id: &str| model.lookup(id).is_none() && !model.broken_ids.contains(id);
    let short = format!("ctl-{cap}");
    if free(&short) {
        return short;
    }
    let long = format!("ctl-{target}-{cap}");
    if free(&long) {
        return long;
    }
    (2..)
        .map(|n| format!("{long}-{n}"))
        .find(|id| free(id))
        .unwrap_or(long)
}

fn stub(analysed: &ModelAnalysed, rule: &str, target: &str, cap: &str) -> Option<Stub> {
    let model = analysed.model();
    let holder = holder(analysed, rule, target, cap);
    let control = fresh_id(analysed, target, cap);
    let title = format!("{cap} for {target}");
    let mut edits = Vec::new();

    let holder_file = holder
        .as_deref()
        .and_then(|h| model.definition_loc(h))
        .map(|loc| loc.file);
    if let Some(holder) = &holder {
        edits.push(reference_edit(analysed, holder, &control)?);
    }
    edits.push(control_edit(analysed, holder_file, &control, cap, &title)?);
    let what = match &holder {
        Some(h) => format!("to `{h}`"),
        None => "to the model".to_owned(),
    };
    Some(Stub {
        title: format!("Add a planned `{cap}` control (`{control}`) {what}"),
        edits,
    })
}

fn text_of(analysed: &ModelAnalysed, file: usize) -> Option<&str> {
    analysed.analysis.sources.get(file).map(|s| s.text.as_str())
}

/// The column of the line that `offset` is on.
fn column(text: &str, offset: usize) -> usize {
    offset - text[..offset].rfind('\n').map_or(0, |nl| nl + 1)
}

/// The column of the `-` that starts the list item at `item_start`.
fn dash_column(text: &str, item_start: usize) -> usize {
    let before = &text[..item_start];
    match before.trim_end_matches(' ').strip_suffix('-') {
        Some(rest) => column(text, rest.len()),
        None => column(text, item_start),
    }
}

/// The list item (mapping) of a top-level section whose `id` value starts at `id_start`.
fn item_with_id(root: &Node, section: &str, id_start: usize) -> Option<Rc<Node>> {
    let NodeKind::Seq(items) = &root.get(section)?.kind else {
        return None;
    };
    items
        .iter()
        .find(|item| item.get("id").is_some_and(|id| id.start == id_start))
        .cloned()
}

/// Adds `control` to the `controls` of element `holder`.
fn reference_edit(analysed: &ModelAnalysed, holder: &str, control: &str) -> Option<FileEdit> {
    let model = analysed.model();
    let (kind, _) = model.lookup(holder)?;
    let section = match kind {
        ElementKind::Component => "components",
        ElementKind::Flow => "flows",
        _ => return None,
    };
    let loc = model.definition_loc(holder)?;
    let text = text_of(analysed, loc.file)?;
    let parsed = yaml::parse(text);
    let root = parsed.root?;
    let item = item_with_id(&root, section, loc.span.start_byte)?;
    let NodeKind::Map(entries) = &item.kind else {
        return None;
    };
    let insert = |at: usize, new: String| FileEdit {
        file: loc.file,
        start: at,
        end: at,
        text: new,
    };
    if let Some(entry) = entries.iter().find(|e| e.key.text() == Some("controls")) {
        let value = &entry.value;
        return Some(match &value.kind {
            NodeKind::Seq(items) if starts_flow(text, value) => {
                let close = value.end.checked_sub(1)?;
                let sep = if items.is_empty() { "" } else { ", " };
                insert(close, format!("{sep}{control}"))
            }
            NodeKind::Seq(items) => {
                let last = items.last()?;
                let indent = " ".repeat(dash_column(text, last.start));
                insert(
                    line_end(text, content_end(text, last)),
                    format!("\n{indent}- {control}"),
                )
            }
            _ if value.is_null() => {
                let colon = text[entry.key.end..].find(':')? + entry.key.end + 1;
                FileEdit {
                    file: loc.file,
                    start: colon,
                    end: value.end.max(colon),
                    text: format!(" [{control}]"),
                }
            }
            _ => return None,
        });
    }
    if starts_flow(text, &item) {
        let close = item.end.checked_sub(1)?;
        return Some(insert(close, format!(", controls: [{control}]")));
    }
    let indent = " ".repeat(column(text, item.start));
    Some(insert(
        line_end(text, content_end(text, &item)),
        format!("\n{indent}controls: [{control}]"),
    ))
}

/// Adds the control entry to a `controls:` section: in the holder's file, the root file or any
/// file of the model that has one, else a new section at the end of the holder's (or root) file.
fn control_edit(
    analysed: &ModelAnalysed,
    holder_file: Option<usize>,
    control: &str,
    cap: &str,
    title: &str,
) -> Option<FileEdit> {
    let mut order: Vec<usize> = holder_file.into_iter().collect();
    order.extend((0..analysed.analysis.sources.len()).filter(|f| Some(*f) != holder_file));
    let block = |indent: &str| {
        format!(
            "{indent}- id: {control}\n{indent}  capability: {cap}\n{indent}  title: {title}\n{indent}  status: planned"
        )
    };
    let flow = format!("{{id: {control}, capability: {cap}, status: planned, title: {title}}}");
    for &file in &order {
        let Some(text) = text_of(analysed, file) else {
            continue;
        };
        let parsed = yaml::parse(text);
        let Some(root) = parsed.root else {
            continue;
        };
        let NodeKind::Map(entries) = &root.kind else {
            continue;
        };
        let Some(entry) = entries.iter().find(|e| e.key.text() == Some("controls")) else {
            continue;
        };
        let value = &entry.value;
        let insert = |at: usize, new: String| FileEdit {
            file,
            start: at,
            end: at,
            text: new,
        };
        return match &value.kind {
            NodeKind::Seq(items) if starts_flow(text, value) => {
                let close = value.end.checked_sub(1)?;
                let sep = if items.is_empty() { "" } else { ", " };
                Some(insert(close, format!("{sep}{flow}")))
            }
            NodeKind::Seq(items) => {
                let last = items.last()?;
                let dash = " ".repeat(dash_column(text, last.start));
                let entry = if starts_flow(text, last) {
                    format!("{dash}- {flow}")
                } else {
                    block(&dash)
                };
                Some(insert(
                    line_end(text, content_end(text, last)),
                    format!("\n{entry}"),
                ))
            }
            _ if value.is_null() => Some(insert(
                line_end(text, entry.key.end),
                format!("\n{}", block("  ")),
            )),
            _ => None,
        };
    }
    let file = holder_file.unwrap_or(0);
    let text = text_of(analysed, file)?;
    let separator = if text.is_empty() || text.ends_with("\n\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    Some(FileEdit {
        file,
        start: text.len(),
        end: text.len(),
        text: format!("{separator}controls:\n{}\n", block("  ")),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{analysed, apply, example};
    use super::*;

    fn active(analysed: &ModelAnalysed) -> Vec<Finding> {
        analysed
            .analysis
            .report
            .files
            .iter()
            .flat_map(|f| f.findings.iter().cloned())
            .filter(|f| f.is_active())
            .collect()
    }

    fn errors(analysed: &ModelAnalysed) -> Vec<String> {
        active(analysed)
            .into_iter()
            .filter(|f| f.category == Category::ModelError)
            .map(|f| {
                format!(
                    "{}:{} {} {}",
                    f.span.start.line, f.span.start.column, f.rule, f.message
                )
            })
            .collect()
    }

    /// Applies a stub with `status` instead of `planned`.
    fn applied(text: &str, stub: &Stub, status: &str) -> String {
        let edits: Vec<_> = stub
            .edits
            .iter()
            .map(|e| {
                assert_eq!(e.file, 0);
                (
                    e.start,
                    e.end,
                    e.text
                        .replace("status: planned", &format!("status: {status}")),
                )
            })
            .collect();
        apply(text, &edits)
    }

    const SMALL: &str = "schema: threatlens/v1
scope: {statement: Demo.}
trust_boundaries:
  - {id: internet, trust: untrusted, contains: [user]}
  - {id: app, trust: trusted, contains: [bot, api]}
components:
  - {id: user, kind: external-entity, human: true}
  - id: api
    kind: process
  - {id: bot, kind: llm}
flows:
  - {id: ask, from: user, to: api}
  - {id: call, from: api, to: bot}
";

    #[test]
    fn the_stub_is_exact_text_in_the_file_style() {
        let model = analysed(SMALL);
        let finding = active(&model)
            .into_iter()
            .find(|f| f.rule == "TM101")
            .unwrap_or_else(|| panic!("TM101 on bot"));
        let made = stubs(&model, &finding);
        assert_eq!(made.len(), 1);
        assert_eq!(
            made[0].title,
            "Add a planned `input-guardrail` control (`ctl-input-guardrail`) to `bot`"
        );
        let text = applied(SMALL, &made[0], "planned");
        assert_eq!(
            text,
            SMALL.replace(
                "{id: bot, kind: llm}",
                "{id: bot, kind: llm, controls: [ctl-input-guardrail]}"
            ) + "\ncontrols:\n  - id: ctl-input-guardrail\n    capability: input-guardrail\n    title: input-guardrail for bot\n    status: planned\n"
        );
        let after = analysed(&text);
        assert!(errors(&after).is_empty(), "{:?}", errors(&after));
        // Still planned: still missing. Implemented: satisfied.
        assert!(active(&after).iter().any(|f| f.rule == "TM101"));
        let done = analysed(&applied(SMALL, &made[0], "implemented"));
        assert!(!active(&done).iter().any(|f| f.rule == "TM101"));

        // A block-style element and an existing block list of controls.
        let text = format!(
            "{}controls:\n  - id: ctl-authn\n    capability: authn\n    status: implemented   # done\n",
            SMALL.replace(
                "  - id: api\n    kind: process\n",
                "  - id: api\n    kind: process\n    tech: [python]\n"
            )
        );
        let model = analysed(&text);
        let finding = active(&model)
            .into_iter()
            .find(|f| f.rule == "TM109" && f.target.as_deref() == Some("bot"))
            .unwrap_or_else(|| panic!("TM109 on bot"));
        let stub = &stubs(&model, &finding)[0];
        let result = applied(&text, stub, "planned");
        assert!(
            result.contains("    status: implemented   # done\n  - id: ctl-rate-limit\n    capability: rate-limit\n"),
            "{result}"
        );
        assert!(errors(&analysed(&result)).is_empty());
    }

    #[test]
    fn references_go_into_existing_lists_in_their_style() {
        let text = "schema: threatlens/v1
components:
  - {id: user, kind: external-entity, human: true}
  - id: bot
    kind: llm
    controls:
      - ctl-log
  - {id: other, kind: llm, controls: []}
flows:
  - {id: ask, from: user, to: bot}
  - {id: ask2, from: user, to: other}
controls: [{id: ctl-log, capability: audit-log, status: implemented}]
";
        let model = analysed(text);
        for (target, reference) in [
            ("bot", "      - ctl-log\n      - ctl-input-guardrail\n"),
            (
                "other",
                "{id: other, kind: llm, controls: [ctl-input-guardrail]}",
            ),
        ] {
            let finding = active(&model)
                .into_iter()
                .find(|f| f.rule == "TM101" && f.target.as_deref() == Some(target))
                .unwrap_or_else(|| panic!("TM101 on {target}"));
            let result = applied(text, &stubs(&model, &finding)[0], "planned");
            assert!(result.contains(reference), "{result}");
            assert!(
                result.contains("status: implemented}, {id: ctl-input-guardrail, capability: input-guardrail, status: planned, title: input-guardrail for "),
                "{result}"
            );
            assert!(errors(&analysed(&result)).is_empty(), "{result}");
        }
    }

    /// Every missing-control finding of the example models: each stub, once implemented, meets
    /// the requirement it was made for.
    #[test]
    fn implemented_stubs_satisfy_their_rule_on_the_examples() {
        let mut checked = 0;
        for name in ["rag-chatbot", "cv-inspection", "agent-tools"] {
            let text = example(name);
            let model = analysed(&text);
            assert!(errors(&model).is_empty(), "{name}: {:?}", errors(&model));
            // (Rules without capability requirements, like a missing licence, have no stub.)
            for finding in active(&model)
                .into_iter()
                .filter(|f| f.category == Category::MissingControl && !f.missing.is_empty())
            {
                let target = finding.target.clone().unwrap_or_default();
                let stubs = stubs(&model, &finding);
                assert!(
                    !stubs.is_empty(),
                    "{name}: no stub for {} on {target}",
                    finding.rule
                );
                for (stub, cap) in stubs.iter().zip(&finding.missing) {
                    let planned = analysed(&applied(&text, stub, "planned"));
                    assert!(
                        errors(&planned).is_empty(),
                        "{name} {} {target} {cap}: {:?}",
                        finding.rule,
                        errors(&planned)
                    );
                    let done = analysed(&applied(&text, stub, "implemented"));
                    let still = active(&done).into_iter().find(|f| {
                        f.rule == finding.rule
                            && f.target == finding.target
                            && f.missing.contains(cap)
                    });
                    assert!(
                        still.is_none(),
                        "{name}: {} on {target} still misses {cap} after `{}`",
                        finding.rule,
                        stub.title
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 5, "{checked}");
    }
}

//! Hovers: on a finding's range, what the rule is, why it matters, how to fix it, references.

use super::diagnostics::{Views, is_shown};
use super::protocol::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Range, Uri};
use crate::explain::render_markdown;
use threatlens_rules::{Catalogue, Finding, Severity};

fn contains(range: &Range, position: Position) -> bool {
    range.start <= position && position <= range.end
}

/// The hover for `position` in document `uri`, if a shown finding covers it.
pub fn hover(
    catalogue: &Catalogue,
    findings: &[Finding],
    views: &dyn Views,
    uri: &Uri,
    position: Position,
    minimum: Severity,
) -> Option<Hover> {
    let mut sections = Vec::new();
    let mut hover_range: Option<Range> = None;
    for finding in findings.iter().filter(|f| is_shown(f, minimum)) {
        let Some(view) = views.view(&finding.span) else {
            continue;
        };
        if view.uri != uri {
            continue;
        }
        let range = view.range(finding.span.start_byte, finding.span.end_byte);
        if !contains(&range, position) {
            continue;
        }
        let mut section = format!(
            "**threatlens {}** ({}): {}\n\n",
            finding.rule, finding.severity, finding.message
        );
        if let Some(rule) = catalogue.rule(&finding.rule) {
            section.push_str(&render_markdown(&rule.doc()));
        }
        sections.push(section);
        // The innermost finding's range is the one to highlight.
        if hover_range.is_none_or(|r| r.start <= range.start && range.end <= r.end) {
            hover_range = Some(range);
        }
    }
    if sections.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: sections.join("\n---\n\n"),
        }),
        range: hover_range,
    })
}

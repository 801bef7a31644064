//! Inline suppressions: `# threatlens: ignore[TL101] reason` (`//` in Rust).
//!
//! A suppression applies to findings on the line it trails, or, when the comment stands alone
//! on its line, to findings that start on the next line. A reason is required: without one the
//! finding stays active and the comment itself is reported; so is a suppression of an unknown
//! rule. Suppressed findings are kept (SARIF reports them as suppressed), never dropped.

use crate::catalogue::Catalogue;
use crate::finding::{Finding, Suppressed};
use crate::source::LineIndex;
use tree_sitter::Tree;

const MARKER: &str = "threatlens:";
pub const RULE_NO_REASON: &str = "TL001";
pub const RULE_UNKNOWN: &str = "TL002";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rules: Vec<String>,
    pub reason: String,
    /// 0-based lines the suppression covers.
    pub line: usize,
    pub start_byte: usize,
    pub end_byte: usize,
}

/// Parses the text after `threatlens:` (`ignore[TL101, TL102] reason`).
fn parse(comment: &str) -> Option<(Vec<String>, String)> {
    let rest = comment.trim_start().strip_prefix("ignore")?;
    let rest = rest.trim_start().strip_prefix('[')?;
    let (ids, reason) = rest.split_once(']')?;
    let rules = ids
        .split(',')
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .collect();
    let reason = reason
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '—'))
        .trim_end()
        .to_string();
    Some((rules, reason))
}

/// Finds suppression comments (only in comment nodes, never in strings).
pub fn find(text: &str, tree: &Tree, lines: &LineIndex) -> Vec<Suppression> {
    let mut found = Vec::new();
    let root = tree.root_node();
    for at in memchr::memmem::find_iter(text.as_bytes(), MARKER) {
        let Some(node) = root.descendant_for_byte_range(at, at + MARKER.len()) else {
            continue;
        };
        if !node.kind().contains("comment") {
            continue;
        }
        let end = node.end_byte();
        let Some((rules, reason)) = text.get(at + MARKER.len()..end).and_then(parse) else {
            continue;
        };
        let comment_line = lines.line_of(node.start_byte());
        let line_start = lines.line_start(comment_line);
        let alone = text
            .get(line_start..node.start_byte())
            .is_some_and(|before| before.trim().is_empty());
        found.push(Suppression {
            rules,
            reason,
            line: if alone {
                comment_line + 1
            } else {
                comment_line
            },
            start_byte: node.start_byte(),
            end_byte: end,
        });
    }
    found
}

/// Marks findings as suppressed and reports broken suppressions.
pub fn apply(
    catalogue: &Catalogue,
    text: &str,
    lines: &LineIndex,
    suppressions: &[Suppression],
    findings: &mut Vec<Finding>,
) {
    let mut problems = Vec::new();
    for suppression in suppressions {
        let span = lines.span(text, suppression.start_byte, suppression.end_byte);
        for id in &suppression.rules {
            if catalogue.rule(id).is_none() {
                problems.push((RULE_UNKNOWN, span, format!("`{id}` is not a threatlens rule; this suppression does nothing. Run `threatlens rules` for the list.")));
            }
        }
        if suppression.reason.is_empty() {
            problems.push((RULE_NO_REASON, span, "This suppression has no reason, so it is ignored: write why the finding is safe after the brackets, e.g. `# threatlens: ignore[TL101] weights come from our own registry`.".to_string()));
            continue;
        }
        for finding in findings.iter_mut() {
            let first = finding.span.start.line as usize - 1;
            let last = finding.span.end.line as usize - 1;
            let covers = (first..=last).contains(&suppression.line);
            if covers && suppression.rules.contains(&finding.rule) {
                finding.suppressed = Some(Suppressed {
                    reason: suppression.reason.clone(),
                    span,
                });
            }
        }
    }
    for (id, span, message) in problems {
        if let Some(rule) = catalogue.rule(id) {
            findings.push(Finding::new(
                &rule.id,
                &rule.slug,
                rule.category,
                rule.severity,
                span,
                message,
                text.get(span.start_byte..span.end_byte).unwrap_or(""),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_rules_and_reason() {
        assert_eq!(
            parse(" ignore[TL101, TL201] weights are ours"),
            Some((
                vec!["TL101".into(), "TL201".into()],
                "weights are ours".into()
            ))
        );
        assert_eq!(
            parse(" ignore[TL101]"),
            Some((vec!["TL101".into()], String::new()))
        );
        assert_eq!(
            parse(" ignore[TL101]: - "),
            Some((vec!["TL101".into()], String::new()))
        );
        assert_eq!(parse(" something else"), None);
    }
}

//! Findings as LSP diagnostics.
//!
//! Severity: critical and high are errors, medium a warning, low information. (Hint is not used:
//! editors render hints almost invisibly, and a low-severity security finding is still one.)
//! `code` is the rule id, `source` is `threatlens`; `codeDescription` is left out until rules
//! have pages to link to. `relatedInformation` points at the untrusted source of a data flow.
//! `data` carries what a code action needs: `{"rule", "slug", "fix": {"title", "edits": [TextEdit]}}`,
//! and for threat-model findings on an element `category`, `target` and `missing`.
//! Suppressed findings and findings below the minimum severity are not shown.

use super::documents::TextView;
use super::protocol::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, Range, TextEdit, Uri,
};
use serde_json::json;
use threatlens_rules::{Finding, Severity, Span};

pub const SOURCE: &str = "threatlens";

pub fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Critical | Severity::High => DiagnosticSeverity::ERROR,
        Severity::Medium => DiagnosticSeverity::WARNING,
        Severity::Low => DiagnosticSeverity::INFORMATION,
    }
}

/// Whether a finding is shown at all.
pub fn is_shown(finding: &Finding, minimum: Severity) -> bool {
    finding.is_active() && finding.severity >= minimum
}

/// Finds the text a span lies in: the document itself, or for a notebook the cell `span.cell`.
pub trait Views {
    fn view(&self, span: &Span) -> Option<TextView<'_>>;
}

/// The edits of a finding's fix, with the document each applies to.
pub fn fix_edits(finding: &Finding, views: &dyn Views) -> Option<Vec<(Uri, TextEdit)>> {
    let fix = finding.fix.as_ref()?;
    fix.edits
        .iter()
        .map(|edit| {
            let view = views.view(&edit.span)?;
            Some((
                view.uri.clone(),
                TextEdit {
                    range: view.range(edit.span.start_byte, edit.span.end_byte),
                    new_text: edit.new_text.clone(),
                },
            ))
        })
        .collect()
}

/// The diagnostic of a finding and the document it belongs to.
pub fn diagnostic(finding: &Finding, views: &dyn Views) -> Option<(Uri, Diagnostic)> {
    let view = views.view(&finding.span)?;
    let range = view.range(finding.span.start_byte, finding.span.end_byte);
    let related: Vec<_> = finding
        .related
        .iter()
        .filter_map(|related| {
            let place = views.view(&related.span)?;
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: place.uri.clone(),
                    range: place.range(related.span.start_byte, related.span.end_byte),
                },
                message: related.message.clone(),
            })
        })
        .collect();
    let fix = finding.fix.as_ref().and_then(|fix| {
        let edits: Vec<_> = fix_edits(finding, views)?
            .into_iter()
            .filter(|(uri, _)| uri == view.uri)
            .map(|(_, edit)| edit)
            .collect();
        Some(json!({ "title": fix.title, "edits": edits }))
    });
    let diagnostic = Diagnostic {
        range,
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.clone())),
        code_description: None,
        source: Some(SOURCE.into()),
        message: finding.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(data(finding, fix)),
    };
    Some((view.uri.clone(), diagnostic))
}

/// What a code action needs to know about a finding: its rule, its fix and, for threat-model
/// findings, the element (`target`) and the capabilities that would satisfy the rule.
fn data(finding: &Finding, fix: Option<serde_json::Value>) -> serde_json::Value {
    let mut data = json!({
        "rule": finding.rule,
        "slug": finding.slug,
        "fix": fix,
    });
    if let Some(target) = &finding.target {
        data["category"] = json!(finding.category);
        data["target"] = json!(target);
        if !finding.missing.is_empty() {
            data["missing"] = json!(finding.missing);
        }
    }
    data
}

/// A diagnostic at the top of a file whose text has no place for the finding's position: an
/// artefact (its findings are about the whole file), or a notebook shown as one file (on disk,
/// or opened as JSON text), where the message names the cell and line.
pub fn file_diagnostic(finding: &Finding) -> Diagnostic {
    let at = match finding.span.cell {
        Some(cell) => format!(
            "cell {}, line {}:{}: ",
            cell + 1,
            finding.span.start.line,
            finding.span.start.column
        ),
        None => String::new(),
    };
    Diagnostic {
        range: Range::new(Position::new(0, 0), Position::new(0, 0)),
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.clone())),
        source: Some(SOURCE.into()),
        message: format!("{at}{}", finding.message),
        data: Some(json!({ "rule": finding.rule, "slug": finding.slug })),
        ..Diagnostic::default()
    }
}

/// One whole-text view (a Python or Rust file).
pub struct Single<'a>(pub TextView<'a>);

impl Views for Single<'_> {
    fn view(&self, span: &Span) -> Option<TextView<'_>> {
        span.cell.is_none().then_some(self.0)
    }
}

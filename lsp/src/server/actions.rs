//! Code actions: the mechanical fix of a finding (`quickfix`, preferred), "suppress with a
//! reason" (inserts `# threatlens: ignore[TLxxx] <placeholder>`, `//` in Rust, at the end of the
//! finding's first line: the reason is required by the suppression syntax, so the placeholder is
//! there for the user to replace), and `source.fixAll.threatlens` (every fix of the document whose
//! edits do not overlap an earlier one).

use super::diagnostics::{Views, diagnostic, fix_edits, is_shown};
use super::protocol::{
    CodeAction, CodeActionKind, CodeActionOrCommand, DocumentChanges, OneOf,
    OptionalVersionedTextDocumentIdentifier, Range, TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;
use threatlens_rules::{Finding, Language, Severity};

pub const FIX_ALL: &str = "source.fixAll.threatlens";
pub const SUPPRESS_PLACEHOLDER: &str = "TODO: why is this safe?";

pub struct Request<'a> {
    pub uri: &'a Uri,
    pub range: Range,
    pub only: Option<&'a [CodeActionKind]>,
    pub language: Language,
    pub minimum: Severity,
    /// Send `documentChanges` with versions (the client supports them) instead of `changes`.
    pub document_changes: bool,
}

pub fn wants(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|k| {
            let (k, kind) = (k.as_str(), kind.as_str());
            k.is_empty() || kind == k || kind.strip_prefix(k).is_some_and(|r| r.starts_with('.'))
        })
    })
}

pub fn overlaps(a: &Range, b: &Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// Builds a workspace edit; `versions` gives the version of each edited document.
pub fn workspace_edit(
    edits: Vec<(Uri, TextEdit)>,
    versions: &dyn Fn(&Uri) -> Option<i32>,
    document_changes: bool,
) -> WorkspaceEdit {
    let mut grouped: Vec<(Uri, Vec<TextEdit>)> = Vec::new();
    for (uri, edit) in edits {
        match grouped.iter_mut().find(|(u, _)| *u == uri) {
            Some((_, list)) => list.push(edit),
            None => grouped.push((uri, vec![edit])),
        }
    }
    if document_changes {
        let changes = grouped
            .into_iter()
            .map(|(uri, edits)| TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    version: versions(&uri),
                    uri,
                },
                edits: edits.into_iter().map(OneOf::Left).collect(),
            })
            .collect();
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(changes)),
            ..WorkspaceEdit::default()
        }
    } else {
        WorkspaceEdit {
            changes: Some(grouped.into_iter().collect::<HashMap<_, _>>()),
            ..WorkspaceEdit::default()
        }
    }
}

/// The edit that suppresses `finding` with a placeholder reason.
fn suppress_edit(
    finding: &Finding,
    views: &dyn Views,
    language: Language,
) -> Option<(Uri, TextEdit)> {
    let view = views.view(&finding.span)?;
    let line = view
        .lines
        .line_of(finding.span.start_byte.min(view.text.len()));
    let start = view.lines.line_start(line);
    let end = view.lines.line_start(line + 1).min(view.text.len());
    let content = view.text.get(start..end)?.trim_end_matches(['\n', '\r']);
    let at = start + content.len();
    let marker = match language {
        Language::Python => "#",
        Language::Rust => "//",
    };
    let position = view.position(at);
    Some((
        view.uri.clone(),
        TextEdit {
            range: Range::new(position, position),
            new_text: format!(
                "  {marker} threatlens: ignore[{}] {SUPPRESS_PLACEHOLDER}",
                finding.rule
            ),
        },
    ))
}

pub fn actions(
    request: &Request,
    findings: &[Finding],
    views: &dyn Views,
    versions: &dyn Fn(&Uri) -> Option<i32>,
) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    let quickfix = wants(request.only, &CodeActionKind::QUICKFIX);
    let fix_all_kind = CodeActionKind::new(FIX_ALL);
    let mut fix_all: Vec<(Vec<(Uri, TextEdit)>, usize)> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        if !is_shown(finding, request.minimum) {
            continue;
        }
        let Some((uri, diag)) = diagnostic(finding, views) else {
            continue;
        };
        if &uri != request.uri {
            continue;
        }
        let edits = fix_edits(finding, views);
        if let Some(edits) = &edits {
            fix_all.push((edits.clone(), index));
        }
        if !quickfix || !overlaps(&diag.range, &request.range) {
            continue;
        }
        if let (Some(fix), Some(edits)) = (&finding.fix, edits) {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("{} ({})", fix.title, finding.rule),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag.clone()]),
                edit: Some(workspace_edit(edits, versions, request.document_changes)),
                is_preferred: Some(true),
                ..CodeAction::default()
            }));
        }
        if let Some(edit) = suppress_edit(finding, views, request.language) {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Suppress {} with a reason", finding.rule),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag]),
                edit: Some(workspace_edit(
                    vec![edit],
                    versions,
                    request.document_changes,
                )),
                is_preferred: Some(false),
                ..CodeAction::default()
            }));
        }
    }
    if wants(request.only, &fix_all_kind) && !fix_all.is_empty() {
        fix_all.sort_by_key(|(edits, index)| {
            let first = edits.iter().map(|(_, e)| e.range.start).min();
            (first, *index)
        });
        let mut accepted: Vec<(Uri, TextEdit)> = Vec::new();
        let mut count = 0;
        for (edits, _) in fix_all {
            let clashes = edits.iter().any(|(uri, edit)| {
                accepted
                    .iter()
                    .any(|(u, e)| u == uri && overlaps(&e.range, &edit.range))
            });
            if !clashes {
                accepted.extend(edits);
                count += 1;
            }
        }
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!(
                "threatlens: apply {count} fix{}",
                if count == 1 { "" } else { "es" }
            ),
            kind: Some(fix_all_kind),
            edit: Some(workspace_edit(accepted, versions, request.document_changes)),
            ..CodeAction::default()
        }));
    }
    actions
}

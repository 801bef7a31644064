//! Code actions in model files: on a missing-control diagnostic, add a control stub (see
//! [`super::stub`]), one action per missing capability, each one exact `WorkspaceEdit`.

use super::ModelAnalysed;
use super::stub::stubs;
use crate::server::actions::{overlaps, wants, workspace_edit};
use crate::server::diagnostics::{Single, diagnostic, is_shown};
use crate::server::documents::Encoding;
use crate::server::protocol::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, Uri,
};
use threatlens_rules::Severity;

pub struct Request<'a> {
    pub range: Range,
    pub only: Option<&'a [CodeActionKind]>,
    pub minimum: Severity,
    pub document_changes: bool,
    pub encoding: Encoding,
}

pub fn actions(
    request: &Request,
    analysed: &ModelAnalysed,
    file: usize,
) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    if !wants(request.only, &CodeActionKind::QUICKFIX) {
        return out;
    }
    let Some(view) = analysed.view(file, request.encoding) else {
        return out;
    };
    let findings = analysed
        .analysis
        .report
        .files
        .get(file)
        .map_or(&[][..], |f| &f.findings[..]);
    let versions = |uri: &Uri| {
        analysed
            .files
            .iter()
            .find(|f| &f.uri == uri)
            .and_then(|f| f.version)
    };
    for finding in findings.iter().filter(|f| is_shown(f, request.minimum)) {
        let Some((_, diag)) = diagnostic(finding, &Single(view)) else {
            continue;
        };
        if !overlaps(&diag.range, &request.range) {
            continue;
        }
        for (i, stub) in stubs(analysed, finding).into_iter().enumerate() {
            let edits: Option<Vec<(Uri, TextEdit)>> = stub
                .edits
                .iter()
                .map(|edit| {
                    let view = analysed.view(edit.file, request.encoding)?;
                    Some((
                        view.uri.clone(),
                        TextEdit {
                            range: view.range(edit.start, edit.end),
                            new_text: edit.text.clone(),
                        },
                    ))
                })
                .collect();
            let Some(edits) = edits else {
                continue;
            };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: stub.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag.clone()]),
                edit: Some(workspace_edit(edits, &versions, request.document_changes)),
                is_preferred: Some(i == 0),
                ..CodeAction::default()
            }));
        }
    }
    out
}

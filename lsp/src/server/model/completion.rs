//! Completion in model files: ids where a reference goes (only the kinds of element the key may
//! name), enum values, capability names with their meaning, ISO/IEC 27001 and 42001 Annex A ids
//! with their titles, ATLAS techniques, OWASP ids, library threats, rules, and keys (with the
//! format's description of each). Every item replaces the token being typed (a `textEdit`), so
//! ids with `-`, `.` or `:` complete whole whatever the editor thinks a word is.

use super::context::{Cursor, Place, Schema, ValueKind, cursor_at, value_kind};
use super::{ModelAnalysed, kind_word, summary};
use crate::server::documents::Encoding;
use crate::server::protocol::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, MarkupContent,
    MarkupKind, Range, TextEdit,
};
use threatlens_models::library::library;

fn markdown(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

struct Items {
    range: Range,
    /// Wrap values in `[…]` (a list typed as a plain value).
    list: bool,
    items: Vec<CompletionItem>,
}

impl Items {
    fn push(
        &mut self,
        label: &str,
        kind: CompletionItemKind,
        detail: Option<String>,
        doc: Option<String>,
    ) {
        let new_text = if self.list {
            format!("[{label}]")
        } else {
            label.to_owned()
        };
        self.items.push(CompletionItem {
            label: label.to_owned(),
            kind: Some(kind),
            detail,
            documentation: doc.map(markdown),
            sort_text: Some(format!("{:05}", self.items.len())),
            filter_text: Some(label.to_owned()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: self.range,
                new_text,
            })),
            ..CompletionItem::default()
        });
    }

    fn key(&mut self, key: &str, description: Option<&str>) {
        self.items.push(CompletionItem {
            label: key.to_owned(),
            kind: Some(CompletionItemKind::PROPERTY),
            documentation: description.map(|d| markdown(d.to_owned())),
            sort_text: Some(format!("{:05}", self.items.len())),
            filter_text: Some(key.to_owned()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: self.range,
                new_text: format!("{key}: "),
            })),
            ..CompletionItem::default()
        });
    }
}

/// The completion items at byte `offset` of file `file`. Ids come from `ids` (the last model
/// whose YAML could be read, when the current text cannot).
pub fn complete(
    analysed: &ModelAnalysed,
    ids: &ModelAnalysed,
    file: usize,
    offset: usize,
    encoding: Encoding,
) -> Vec<CompletionItem> {
    let Some(view) = analysed.view(file, encoding) else {
        return Vec::new();
    };
    let cursor = cursor_at(view.text, offset);
    let mut items = Items {
        range: view.range(cursor.start, offset.max(cursor.start)),
        list: false,
        items: Vec::new(),
    };
    let schema = Schema::at(&cursor.path);
    let item_is_mapping = schema.is_some_and(|s| !s.item().keys().is_empty());
    match cursor.place {
        Place::Key => keys(&cursor, &mut items),
        Place::Item if item_is_mapping => keys(&cursor, &mut items),
        Place::Item => values(ids, &cursor, &mut items),
        Place::Value => {
            items.list = schema.is_some_and(|s| s.resolve().is_array());
            values(ids, &cursor, &mut items);
        }
    }
    items.items
}

fn keys(cursor: &Cursor, items: &mut Items) {
    let Some(schema) = Schema::at(&cursor.path) else {
        return;
    };
    for (key, description) in schema.keys() {
        items.key(key, description);
    }
}

fn values(analysed: &ModelAnalysed, cursor: &Cursor, items: &mut Items) {
    let lib = library();
    let model = analysed.model();
    match value_kind(&cursor.path) {
        ValueKind::Reference(kinds) => {
            let mut defs: Vec<_> = model
                .definitions()
                .filter(|(kind, _, _)| kinds.contains(kind))
                .map(|(kind, id, _)| (kind, id.as_str().to_owned()))
                .collect();
            defs.sort();
            for (kind, id) in defs {
                element(model, kind, &id, items);
            }
        }
        ValueKind::ExceptionTarget => {
            let mut defs: Vec<_> = model
                .definitions()
                .map(|(kind, id, _)| (kind, id.as_str().to_owned()))
                .collect();
            defs.sort();
            for (kind, id) in defs {
                element(model, kind, &id, items);
            }
            items.push(
                "code:",
                CompletionItemKind::TEXT,
                Some("code findings in files matching a glob".into()),
                Some("`code:<glob>` suppresses the rule's code findings in files matching the glob (relative to the model's directory), e.g. `code:notebooks/eval/**`.".into()),
            );
        }
        ValueKind::Capability => {
            for cap in &lib.capabilities {
                items.push(
                    &cap.name,
                    CompletionItemKind::VALUE,
                    Some(first_sentence(&cap.meaning)),
                    Some(cap.meaning.clone()),
                );
            }
        }
        ValueKind::Iso27001 => {
            for control in &lib.iso27001 {
                items.push(
                    &control.id,
                    CompletionItemKind::VALUE,
                    Some(control.title.clone()),
                    Some(format!(
                        "ISO/IEC 27001:2022 Annex A **{}** — {}",
                        control.id, control.title
                    )),
                );
            }
        }
        ValueKind::Iso42001 => {
            for control in &lib.iso42001 {
                items.push(
                    &control.id,
                    CompletionItemKind::VALUE,
                    Some(control.title.clone()),
                    Some(format!(
                        "ISO/IEC 42001:2023 Annex A **{}** — {}",
                        control.id, control.title
                    )),
                );
            }
        }
        ValueKind::Atlas => {
            for technique in &lib.atlas {
                items.push(
                    &technique.id,
                    CompletionItemKind::VALUE,
                    Some(technique.title.clone()),
                    None,
                );
            }
        }
        ValueKind::OwaspLlm | ValueKind::OwaspMl => {
            let prefix = if value_kind(&cursor.path) == ValueKind::OwaspLlm {
                "LLM"
            } else {
                "ML"
            };
            for (id, title) in super::context::OWASP
                .iter()
                .filter(|(id, _)| id.starts_with(prefix))
            {
                items.push(id, CompletionItemKind::VALUE, Some((*title).into()), None);
            }
        }
        ValueKind::LibraryThreat => {
            for threat in &lib.threats {
                items.push(
                    &threat.id,
                    CompletionItemKind::VALUE,
                    Some(threat.title.clone()),
                    Some(format!("{} · {}", threat.group, threat.stride.join(", "))),
                );
            }
        }
        ValueKind::Rule => {
            for doc in threatlens_models::rule_docs()
                .into_iter()
                .filter(|d| d.category != threatlens_rules::Category::ModelError)
                .chain(
                    threatlens_rules::Catalogue::builtin()
                        .rules
                        .iter()
                        .map(|r| r.doc()),
                )
            {
                items.push(
                    &doc.id,
                    CompletionItemKind::VALUE,
                    Some(format!("{} — {}", doc.slug, doc.title)),
                    None,
                );
            }
        }
        ValueKind::Enum(values) => {
            for value in values {
                items.push(&value, CompletionItemKind::ENUM_MEMBER, None, None);
            }
        }
        ValueKind::Other => {}
    }
}

fn element(
    model: &threatlens_models::Model,
    kind: threatlens_models::ElementKind,
    id: &str,
    items: &mut Items,
) {
    let summary = summary(model, id);
    let name = summary.as_ref().and_then(|s| s.name.clone());
    let detail = match &name {
        Some(name) => format!("{} — {name}", kind_word(kind)),
        None => kind_word(kind).to_owned(),
    };
    let doc = summary.map(|s| {
        s.facts
            .iter()
            .map(|(k, v)| format!("- {k}: `{v}`"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    items.push(id, CompletionItemKind::REFERENCE, Some(detail), doc);
}

fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::analysed;
    use super::*;

    fn labels_at(text: &str, needle: &str) -> Vec<(String, Option<String>)> {
        let model = analysed(text);
        let offset = text.find(needle).map_or(text.len(), |i| i + needle.len());
        complete(&model, &model, 0, offset, Encoding::Utf16)
            .into_iter()
            .map(|i| (i.label, i.detail))
            .collect()
    }

    #[test]
    fn catalogue_ids_with_titles() {
        let text = "schema: threatlens/v1\nincident_response:\n  playbooks:\n    - id: p\n      title: P\n      iso42001: [A.7.\n";
        let items = labels_at(text, "[A.7.");
        assert!(
            items.contains(&("A.7.5".into(), Some("Data provenance".into()))),
            "{items:?}"
        );
        let text =
            "schema: threatlens/v1\nthreats:\n  - id: t\n    title: T\n    atlas: [AML.T0051\n";
        let items = labels_at(text, "[AML.T0051");
        assert!(
            items.contains(&(
                "AML.T0051.000".into(),
                Some("LLM Prompt Injection: Direct".into())
            )),
            "{items:?}"
        );
        let text = "schema: threatlens/v1\nexceptions:\n  - rule: TM1\n";
        let items = labels_at(text, "rule: TM1");
        assert!(items.iter().any(|(l, _)| l == "TM101"), "{items:?}");
        assert!(items.iter().any(|(l, _)| l == "TL110"), "{items:?}");
        assert!(
            !items.iter().any(|(l, _)| l == "TM001"),
            "model errors are not exceptions"
        );
    }

    #[test]
    fn references_offer_only_the_kinds_the_key_names() {
        let text = "schema: threatlens/v1\nassets: [{id: docs, kind: document, classification: internal}]\ncomponents: [{id: app, kind: process}]\nsuppliers: [{id: vendor, kind: saas}]\nthreats:\n  - id: t\n    title: T\n    treatment: {decision: transfer, supplier: }\n";
        let items = labels_at(text, "supplier: ");
        assert_eq!(items, [("vendor".into(), Some("supplier".into()))]);
        // A list typed as a plain value is written as a list.
        let text = "schema: threatlens/v1\nassets: [{id: docs, kind: document, classification: internal}]\nflows:\n  - id: f\n    carries: \n";
        let model = analysed(text);
        let offset = text.find("carries: ").map_or(0, |i| i + 9);
        let items = complete(&model, &model, 0, offset, Encoding::Utf16);
        match &items[0].text_edit {
            Some(CompletionTextEdit::Edit(edit)) => assert_eq!(edit.new_text, "[docs]"),
            other => panic!("{other:?}"),
        }
    }
}

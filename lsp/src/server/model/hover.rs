//! Hovers in model files: on a diagnostic, its rule (why it matters, how to fix it, references);
//! on an id, what it refers to (kind, name, main attributes, where it is defined, how often it is
//! referenced); on a catalogue value, what it means (capability meaning, ISO/IEC 27001 and 42001
//! Annex A titles, ATLAS technique names, OWASP titles, library threats, rules); on a key, the
//! format's description of it.

use super::context::{Place, Schema, ValueKind, cursor_at, owasp_title, token_at, value_kind};
use super::{ModelAnalysed, Occ, kind_word, occurrences, summary};
use crate::explain::render_markdown;
use crate::server::diagnostics::is_shown;
use crate::server::documents::Encoding;
use crate::server::protocol::{Hover, HoverContents, MarkupContent, MarkupKind, Range};
use threatlens_models::library::{AnyRule, library};
use threatlens_rules::{Catalogue, RuleDoc, Severity};

/// The documentation of a rule by id, slug or library name (threat-model or code rule).
pub fn rule_doc(key: &str) -> Option<RuleDoc> {
    let docs = threatlens_models::rule_docs();
    let id = match library().find_rule(key) {
        Some(AnyRule::External(_)) | None => key.to_owned(),
        Some(rule) => rule.id().to_owned(),
    };
    if let Some(doc) = docs.into_iter().find(|d| d.id == id) {
        return Some(doc);
    }
    let catalogue = Catalogue::builtin();
    catalogue
        .rule(key)
        .or_else(|| catalogue.rules.iter().find(|r| r.slug == key))
        .map(|r| r.doc())
}

pub fn hover(
    analysed: &ModelAnalysed,
    file: usize,
    offset: usize,
    encoding: Encoding,
    minimum: Severity,
) -> Option<Hover> {
    let view = analysed.view(file, encoding)?;
    let mut sections = Vec::new();
    let mut range: Option<Range> = None;

    // Findings here.
    for finding in analysed
        .analysis
        .report
        .files
        .get(file)
        .map_or(&[][..], |f| &f.findings[..])
        .iter()
        .filter(|f| is_shown(f, minimum))
        .filter(|f| f.span.start_byte <= offset && offset <= f.span.end_byte)
    {
        let mut section = format!(
            "**threatlens {}** ({}): {}\n\n",
            finding.rule, finding.severity, finding.message
        );
        if let Some(doc) = rule_doc(&finding.rule) {
            section.push_str(&render_markdown(&doc));
        }
        sections.push(section);
        range.get_or_insert(view.range(finding.span.start_byte, finding.span.end_byte));
    }

    // An id.
    if let Some(occurrence) = analysed.occurrence_at(file, offset) {
        sections.insert(0, element(analysed, &occurrence.id, occurrence.what));
        range = analysed.range(&occurrence.loc, encoding).or(range);
    } else {
        let (start, end) = token_at(view.text, offset);
        if start < end
            && let Some(section) = value(view.text, start, end)
        {
            sections.insert(0, section);
            range = Some(view.range(start, end));
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
        range,
    })
}

fn element(analysed: &ModelAnalysed, id: &str, what: Occ) -> String {
    let model = analysed.model();
    let Some(summary) = summary(model, id) else {
        let expected = match what {
            Occ::Reference(kinds, role) => {
                let nouns: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
                format!(": `{role}` names {}", nouns.join(" or "))
            }
            _ => String::new(),
        };
        return format!("`{id}` is not defined in this model{expected}.\n");
    };
    let mut out = format!("**{}** `{id}`", kind_word(summary.kind));
    if let Some(name) = &summary.name {
        out.push_str(&format!(" — {name}"));
    }
    out.push_str("\n\n");
    for (key, value) in &summary.facts {
        out.push_str(&format!("- {key}: `{value}`\n"));
    }
    if summary.kind == threatlens_models::ElementKind::Control
        && let Some(control) = model.control(id)
        && let Some(cap) = library().capability(control.capability.as_str())
    {
        out.push_str(&format!(
            "\n`{}`: {}\n",
            cap.name,
            cap.meaning.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    if let Some(loc) = model.definition_loc(id) {
        let file = analysed
            .analysis
            .sources
            .get(loc.file)
            .and_then(|s| s.path.file_name())
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let uses = occurrences(model)
            .iter()
            .filter(|o| o.id == id && !matches!(o.what, Occ::Definition(_)))
            .count();
        out.push_str(&format!(
            "\nDefined in `{file}` line {} · referenced {uses} time{}\n",
            loc.span.start.line,
            if uses == 1 { "" } else { "s" }
        ));
    }
    out
}

/// What a catalogue value or key means, from the token and its place.
fn value(text: &str, start: usize, end: usize) -> Option<String> {
    let token = &text[start..end];
    let cursor = cursor_at(text, start);
    if cursor.place == Place::Key {
        let mut path = cursor.path.clone();
        path.push(token.to_owned());
        let description = Schema::at(&path)?.description()?;
        return Some(format!("**`{token}`** — {description}\n"));
    }
    let lib = library();
    let kind = value_kind(&cursor.path);
    let iso27001 = || {
        lib.iso27001_title(token)
            .map(|t| format!("**ISO/IEC 27001:2022 Annex A {token}** — {t}\n"))
    };
    let iso42001 = || {
        lib.iso42001_title(token)
            .map(|t| format!("**ISO/IEC 42001:2023 Annex A {token}** — {t}\n"))
    };
    match kind {
        ValueKind::Capability => lib.capability(token).map(|c| {
            format!(
                "**capability `{}`** — {}\n",
                c.name,
                c.meaning.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        }),
        ValueKind::Iso27001 => iso27001(),
        ValueKind::Iso42001 => iso42001(),
        ValueKind::Atlas => lib
            .atlas_title(token)
            .map(|t| format!("**MITRE ATLAS {token}** — {t}\n")),
        ValueKind::OwaspLlm | ValueKind::OwaspMl => owasp_title(token).map(|t| {
            let list = if token.starts_with("LLM") {
                "OWASP Top 10 for LLM Applications"
            } else {
                "OWASP Machine Learning Security Top 10"
            };
            format!("**{list} {token}** — {t}\n")
        }),
        ValueKind::LibraryThreat => lib.threat(token).map(|t| {
            let mut out = format!("**AI threat library {}** — {}\n\n", t.id, t.title);
            let facts = [
                ("group", t.group.clone()),
                ("STRIDE", t.stride.join(", ")),
                ("MITRE ATLAS", t.atlas.join(", ")),
                ("OWASP", t.owasp.join(", ")),
                ("ISO/IEC 27001", t.iso27001.join(", ")),
                ("ISO/IEC 42001", t.iso42001.join(", ")),
            ];
            for (label, value) in facts.iter().filter(|(_, v)| !v.is_empty()) {
                out.push_str(&format!("- {label}: {value}\n"));
            }
            out
        }),
        ValueKind::Rule => match library().find_rule(token) {
            Some(AnyRule::External(name)) => {
                let threats: Vec<String> = lib
                    .threats
                    .iter()
                    .filter(|t| t.rules.iter().any(|r| r == name))
                    .map(|t| format!("{} ({})", t.id, t.title))
                    .collect();
                Some(format!(
                    "**{name}**: a library rule checked on the code, for {}\n",
                    threats.join(", ")
                ))
            }
            _ => rule_doc(token).map(|doc| render_markdown(&doc)),
        },
        ValueKind::Enum(values) if values.iter().any(|v| v == token) => {
            let description = Schema::at(&cursor.path).and_then(|s| s.description());
            description.map(|d| format!("`{token}` — {d}\n"))
        }
        // Outside a known place, an Annex A id still has a title.
        _ => iso27001().or_else(iso42001),
    }
}

//! `threatlens rules` and `threatlens explain RULE`.

use std::process::ExitCode;
use threatlens_rules::{Catalogue, RuleDoc};

fn docs() -> Vec<RuleDoc> {
    Catalogue::builtin().rules.iter().map(|r| r.doc()).collect()
}

pub fn list(as_json: bool) -> Result<ExitCode, String> {
    let docs = docs();
    if as_json {
        let text = serde_json::to_string_pretty(&docs).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    for doc in &docs {
        println!(
            "{:<6} {:<8} {:<26} {:<40} {}",
            doc.id,
            doc.severity,
            doc.category,
            doc.slug,
            if doc.fix.is_some() { "fix" } else { "" }
        );
    }
    println!(
        "\n{} rules. `threatlens explain <id>` shows why each matters and how to fix it.",
        docs.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Renders one rule for a terminal (also used by hovers, which show the same text).
pub fn render(doc: &RuleDoc) -> String {
    let mut out = format!(
        "{} {} — {}\ncategory: {} · default severity: {}\n\nWhy it matters\n  {}\n\nHow to fix\n  {}\n",
        doc.id,
        doc.slug,
        doc.title,
        doc.category,
        doc.severity,
        wrap(&doc.rationale),
        wrap(&doc.mitigation),
    );
    if let Some(fix) = &doc.fix {
        out.push_str(&format!("\nQuick fix\n  {fix}\n"));
    }
    out.push_str("\nReferences\n");
    for (label, ids) in reference_groups(doc) {
        out.push_str(&format!("  {label}: {}\n", ids.join(", ")));
    }
    out
}

/// The non-empty reference groups of a rule, labelled, in a fixed order.
fn reference_groups(doc: &RuleDoc) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
    let r = &doc.references;
    [
        ("CWE", &r.cwe),
        ("ISO/IEC 27001:2022 Annex A", &r.iso27001),
        ("ISO/IEC 42001:2023 Annex A", &r.iso42001),
        ("MITRE ATLAS", &r.atlas),
        ("OWASP", &r.owasp),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
}

/// Renders one rule as Markdown (language-server hovers): the same sections as [`render`].
pub fn render_markdown(doc: &RuleDoc) -> String {
    let mut out = format!(
        "### {} `{}` — {}\n\ncategory: `{}` · default severity: **{}**\n\n**Why it matters**\n\n{}\n\n**How to fix**\n\n{}\n",
        doc.id,
        doc.slug,
        doc.title,
        doc.category,
        doc.severity,
        paragraphs(&doc.rationale),
        paragraphs(&doc.mitigation),
    );
    if let Some(fix) = &doc.fix {
        out.push_str(&format!("\n**Quick fix:** {fix}\n"));
    }
    let mut groups = reference_groups(doc).peekable();
    if groups.peek().is_some() {
        out.push_str("\n**References**\n\n");
        for (label, ids) in groups {
            out.push_str(&format!("- {label}: {}\n", ids.join(", ")));
        }
    }
    out
}

/// The catalogue's wrapped paragraphs as Markdown paragraphs.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Joins the catalogue's wrapped paragraphs into lines indented for the terminal.
fn wrap(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n  ")
}

pub fn explain(rule: &str) -> Result<ExitCode, String> {
    let docs = docs();
    let wanted = rule.trim();
    match docs
        .iter()
        .find(|d| d.id.eq_ignore_ascii_case(wanted) || d.slug == wanted)
    {
        Some(doc) => {
            print!("{}", render(doc));
            Ok(ExitCode::SUCCESS)
        }
        None => Err(format!(
            "no rule `{wanted}`; `threatlens rules` lists them all"
        )),
    }
}

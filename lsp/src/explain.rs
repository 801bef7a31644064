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
    let r = &doc.references;
    let groups = [
        ("CWE", &r.cwe),
        ("ISO/IEC 27001:2022 Annex A", &r.iso27001),
        ("ISO/IEC 42001:2023 Annex A", &r.iso42001),
        ("MITRE ATLAS", &r.atlas),
        ("OWASP", &r.owasp),
    ];
    out.push_str("\nReferences\n");
    for (label, ids) in groups.iter().filter(|(_, ids)| !ids.is_empty()) {
        out.push_str(&format!("  {label}: {}\n", ids.join(", ")));
    }
    out
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

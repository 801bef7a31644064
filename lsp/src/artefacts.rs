//! `threatlens scan-artefact FILE…`: a detailed listing of what a model file holds and imports.

use crate::ListFormat;
use std::path::PathBuf;
use std::process::ExitCode;
use threatlens_rules::artefact::describe_artefact;
use threatlens_rules::{Catalogue, Severity};

pub fn scan(files: &[PathBuf], format: ListFormat, fail_on: Severity) -> Result<ExitCode, String> {
    let catalogue = Catalogue::builtin();
    let mut failing = false;
    let mut errors = 0;
    let mut listings = Vec::new();
    let mut text = String::new();
    let mut markdown = String::new();
    for file in files {
        match describe_artefact(file) {
            Ok(listing) => {
                failing |= listing
                    .findings(catalogue)
                    .iter()
                    .any(|f| f.severity >= fail_on);
                // The listing starts with the file's path.
                text.push_str(&format!("{listing}\n"));
                markdown.push_str(&format!(
                    "## `{}`\n\n```text\n{listing}```\n\n",
                    file.display()
                ));
                listings.push(serde_json::json!({ "file": file, "listing": listing }));
            }
            Err(error) => {
                errors += 1;
                eprintln!("error: {error}");
            }
        }
    }
    match format {
        ListFormat::Json => {
            let json = serde_json::to_string_pretty(&listings).map_err(|e| e.to_string())?;
            crate::print_stdout(&format!("{json}\n"));
        }
        ListFormat::Markdown => crate::print_stdout(&markdown),
        ListFormat::Text => crate::print_stdout(&text),
    }
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

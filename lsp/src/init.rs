//! `threatlens init [--force] [PATH]`: write a minimal, valid starter `threatmodel.yaml`.
//!
//! PATH is a file, or a directory to write `threatmodel.yaml` into; without it, the model the
//! configuration points at (`model =`, else `threatmodel.yaml` at the config root). An existing
//! file is never overwritten without `--force`. The starter's `metadata.last_reviewed` is set to
//! today, so the new model starts with its review up to date. (Drafting a model from what the
//! code does comes later; this is the hand-written starting point.)

use crate::model;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use threatlens_models::{DEFAULT_MODEL_FILE, Date};
use threatlens_rules::Config;

/// The starter model, reviewed `today`.
pub fn starter(today: Date) -> String {
    threatlens_models::starter_model()
        .lines()
        .map(
            |line| match line.trim_start().strip_prefix("last_reviewed:") {
                Some(rest) => {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    let comment = rest.find('#').map_or("", |at| &rest[at..]);
                    let value = format!("{indent}last_reviewed: {today}");
                    if comment.is_empty() {
                        value
                    } else {
                        format!("{value}     {comment}")
                    }
                }
                None => line.to_owned(),
            },
        )
        .map(|line| line + "\n")
        .collect()
}

fn target(path: Option<&Path>) -> Result<PathBuf, String> {
    match path {
        Some(path) if path.is_dir() => Ok(path.join(DEFAULT_MODEL_FILE)),
        Some(path) => Ok(path.to_path_buf()),
        None => Ok(model::configured(&Config::discover(Path::new("."))?).0),
    }
}

pub fn run(path: Option<&Path>, force: bool, today: Option<Date>) -> Result<ExitCode, String> {
    let target = target(path)?;
    if target.exists() && !force {
        return Err(format!(
            "{} already exists; not overwriting it (use `threatlens init --force` to replace it)",
            target.display()
        ));
    }
    if target.is_dir() {
        return Err(format!("{} is a directory", target.display()));
    }
    let text = starter(today.unwrap_or_else(model::today));
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(&target, text).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    crate::print_stdout(&format!(
        "Wrote {}: a starter threat model (format threatlens/v1). Replace the example with your \
         system; `threatlens check` checks it with your code.\n",
        target.display()
    ));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_is_reviewed_today_and_valid() {
        let today: Date = "2026-11-28"
            .parse()
            .unwrap_or_else(|e: String| panic!("{e}"));
        let text = starter(today);
        assert!(
            text.contains("  last_reviewed: 2026-11-28     # set to the date of your review\n")
        );
        let report =
            threatlens_models::check_model_text(&text, Path::new(DEFAULT_MODEL_FILE), today);
        assert!(!report.has_model_errors());
        let governance: Vec<_> = report
            .findings()
            .filter(|(_, f)| f.category == threatlens_rules::Category::Governance)
            .map(|(_, f)| f.rule.clone())
            .collect();
        assert!(governance.is_empty(), "{governance:?}");
    }
}

//! `threatlens diagram [PATH] [--format mermaid|dot|svg] [-o FILE]`: draw the threat model's
//! data flows (see `threatlens_models::render`).
//!
//! - **Which model.** PATH is the model file, or a directory (default `.`) whose model is found
//!   as `check` finds it: `model =` in the configuration, else `threatmodel.yaml` at the config
//!   root.
//! - **Errors.** A missing or unreadable model file is an error (exit 2). A model with errors is
//!   drawn as far as it could be read, and its errors are printed to stderr as warnings; when
//!   not a single component could be read there is nothing to draw, and that is an error too.
//! - **Findings.** Components and flows with missing-control findings are marked, as `check`
//!   would report them today (the configuration's `select`/`ignore` apply; `--today` makes a run
//!   reproducible).

use crate::model;
use crate::output::display_path;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use threatlens_models::Date;
use threatlens_models::render::{Diagram, Format};
use threatlens_rules::{Category, Config};

pub fn run(
    path: Option<&Path>,
    format: Format,
    output: Option<&Path>,
    today: Option<Date>,
) -> Result<ExitCode, String> {
    let (file, config) = locate(path.unwrap_or(Path::new(".")))?;
    let bytes =
        std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", display_path(&file)))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("cannot read {}: it is not UTF-8 text", display_path(&file)))?;
    let mut analysis =
        threatlens_models::analyse_model_text(&text, &file, today.unwrap_or_else(model::today));
    // `select`/`ignore` apply as in `check`: an ignored rule marks nothing.
    let docs = threatlens_models::rule_docs();
    for file in &mut analysis.report.files {
        config.apply_documented(&docs, &mut file.findings);
    }

    let mut errors = 0;
    for (path, finding) in analysis.report.findings() {
        if finding.category == Category::ModelError {
            errors += 1;
            eprintln!(
                "warning: {}:{}:{}: {} {}",
                display_path(&model::tidy(path)),
                finding.span.start.line,
                finding.span.start.column,
                finding.rule,
                finding.message
            );
        }
    }
    let diagram = Diagram::of(&analysis);
    if errors > 0 && diagram.nodes.is_empty() {
        return Err(format!(
            "nothing to draw: no component of {} could be read ({errors} model error{} above)",
            display_path(&file),
            if errors == 1 { "" } else { "s" }
        ));
    }
    let rendered = diagram.render(format)?;
    match output {
        Some(out) => std::fs::write(out, rendered)
            .map_err(|e| format!("cannot write {}: {e}", display_path(out)))?,
        None => crate::print_stdout(&rendered),
    }
    if errors > 0 {
        eprintln!(
            "warning: the threat model has {errors} error{}: the diagram shows what could be read",
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The model file PATH names (itself, or the one the configuration of a directory points
/// at) and the configuration that applies to it.
fn locate(path: &Path) -> Result<(PathBuf, Config), String> {
    if !path.is_dir() {
        if !path.exists() {
            return Err(format!("{} does not exist", display_path(path)));
        }
        return Ok((path.to_path_buf(), Config::discover(path)?));
    }
    let config = Config::discover(path)?;
    let (file, explicit) = model::configured(&config);
    if file.is_file() {
        return Ok((file, config));
    }
    let origin = match (&config.file, explicit) {
        (Some(config), true) => format!(" (`model =` in {})", display_path(&model::tidy(config))),
        _ => String::new(),
    };
    Err(format!(
        "no threat model: {} does not exist{origin}; create one with `threatlens init`, or name \
         the model file: `threatlens diagram path/to/threatmodel.yaml`",
        display_path(&file)
    ))
}

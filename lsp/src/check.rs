//! `threatlens check`: scan the code, check the threat model, report, and gate on severity.

use crate::output::{self, Report, ReportFile};
use crate::{CheckArgs, Format, model};
use std::cell::LazyCell;
use std::path::PathBuf;
use std::process::ExitCode;
use threatlens_rules::{Catalogue, Config, RuleDoc, scan};

pub fn run(args: &CheckArgs) -> Result<ExitCode, String> {
    let catalogue = Catalogue::builtin();
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let config = match &args.config {
        Some(file) => Config::load(file)?,
        None => Config::discover(&paths[0])?,
    };
    config
        .validate_with(catalogue, threatlens_models::rule_docs)
        .map_err(|e| match &config.file {
            Some(file) => format!("invalid config {}: {e}", file.display()),
            None => e,
        })?;
    let today = args.today.unwrap_or_else(model::today);

    let mut result = scan(catalogue, &config, &paths);
    // The threat library's rules, read only when a model is checked or SARIF lists every rule.
    let model_docs: LazyCell<Vec<RuleDoc>> = LazyCell::new(threatlens_models::rule_docs);
    let mut models = model::check(&config, &paths, today, &model_docs)?;
    for checked in &mut models {
        checked.apply_code_exceptions(&mut result.files, today);
    }
    let listed = if models.is_empty() && args.format != Format::Sarif {
        &[][..]
    } else {
        &model_docs[..]
    };
    let mut report = Report::new(catalogue, &result, listed);
    report.add_files(models.iter().flat_map(|m| {
        m.files.iter().map(|file| ReportFile {
            path: &file.path,
            findings: &file.findings,
            errors: &file.errors,
        })
    }));
    let rendered = match args.format {
        Format::Text => output::text(&report),
        Format::Json => output::json(&report),
        Format::Sarif => output::sarif(&report)?,
    };
    match &args.output {
        Some(file) => std::fs::write(file, rendered)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?,
        None => crate::print_stdout(&rendered),
    }
    for error in report.errors() {
        eprintln!("warning: {error}");
    }
    let failing = report.active().any(|(_, f)| f.severity >= args.fail_on);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

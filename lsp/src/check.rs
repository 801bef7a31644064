//! `threatlens check`: scan, report, and gate on severity.

use crate::output::{self, Report};
use crate::{CheckArgs, Format};
use std::path::PathBuf;
use std::process::ExitCode;
use threatlens_rules::{Catalogue, Config, scan};

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
    config.validate(catalogue).map_err(|e| match &config.file {
        Some(file) => format!("invalid config {}: {e}", file.display()),
        None => e,
    })?;

    let result = scan(catalogue, &config, &paths);
    let report = Report::new(catalogue, &result);
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

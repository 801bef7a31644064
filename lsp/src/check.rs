//! `threatlens check`: scan the code, check the threat model, report, and gate on severity.
//! The text report is written as the scan goes, file by file in path order; JSON and SARIF are
//! documents, written when the scan is done.

use crate::output::{self, Report, ReportFile, TextReport};
use crate::{CheckArgs, Format, model};
use std::cell::LazyCell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use threatlens_rules::scan::scan_each;
use threatlens_rules::{Catalogue, Config, RuleDoc, ScanResult};

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

    // The threat library's rules, read only when a model is checked or SARIF lists every rule.
    let model_docs: LazyCell<Vec<RuleDoc>> = LazyCell::new(threatlens_models::rule_docs);
    // The model first: its exceptions apply to each code file as the scan hands it on.
    let mut models = model::check(&config, &paths, today, &model_docs)?;
    let exceptions: Vec<_> = models
        .iter()
        .map(|checked| checked.code_exceptions(today))
        .collect();
    let mut text = match args.format {
        Format::Text => Some(TextReport::new(output_file(args)?)),
        Format::Json | Format::Sarif => None,
    };
    let mut code = Vec::new();
    let mut outcome = Outcome::default();
    let path_errors = scan_each(catalogue, &config, &paths, |mut file| {
        for granted in exceptions.iter().flatten() {
            granted.apply(&file.path, &mut file.findings);
        }
        match &mut text {
            Some(text) => {
                let report = ReportFile::from(&file);
                outcome.add(report, args);
                text.file(report);
            }
            None => code.push(file),
        }
    });
    for (checked, granted) in models.iter_mut().zip(exceptions) {
        if let Some(granted) = granted {
            checked.report_exceptions(granted);
        }
    }
    let model_files = models.iter().flat_map(|m| {
        m.files.iter().map(|file| ReportFile {
            path: &file.path,
            findings: &file.findings,
            errors: &file.errors,
        })
    });

    let (failing, errors) = match text {
        Some(mut text) => {
            for file in model_files {
                outcome.add(file, args);
                text.file(file);
            }
            // A reader of standard output that went away is not a failure of the check.
            if let (Err(error), Some(_)) = (text.finish(), &args.output) {
                return Err(cannot_write(args, &error));
            }
            let errors = path_errors.into_iter().chain(outcome.errors).collect();
            (outcome.failing, errors)
        }
        None => {
            let result = ScanResult {
                files: code,
                errors: path_errors,
            };
            let listed = if models.is_empty() && args.format != Format::Sarif {
                &[][..]
            } else {
                &model_docs[..]
            };
            let mut report = Report::new(catalogue, &result, listed);
            report.add_files(model_files);
            let rendered = if args.format == Format::Sarif {
                output::sarif(&report)?
            } else {
                output::json(&report)
            };
            match &args.output {
                Some(file) => std::fs::write(file, rendered).map_err(|e| cannot_write(args, &e))?,
                None => crate::print_stdout(&rendered),
            }
            let failing = report.active().any(|(_, f)| f.severity >= args.fail_on);
            (failing, report.errors())
        }
    };
    for error in errors {
        eprintln!("warning: {error}");
    }
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What the text report does not keep: whether to fail, and the problems to warn of.
#[derive(Default)]
struct Outcome {
    failing: bool,
    errors: Vec<String>,
}

impl Outcome {
    fn add(&mut self, file: ReportFile, args: &CheckArgs) {
        self.failing |= file
            .findings
            .iter()
            .any(|f| f.is_active() && f.severity >= args.fail_on);
        self.errors.extend(file.errors());
    }
}

/// Where the report goes: `--output FILE`, else standard output.
fn output_file(args: &CheckArgs) -> Result<Box<dyn Write + Send>, String> {
    Ok(match &args.output {
        Some(file) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(file).map_err(|e| cannot_write(args, &e))?,
        )),
        None => Box::new(std::io::stdout()),
    })
}

fn cannot_write(args: &CheckArgs, error: &std::io::Error) -> String {
    match &args.output {
        Some(file) => format!("cannot write {}: {error}", file.display()),
        None => format!("cannot write the report: {error}"),
    }
}

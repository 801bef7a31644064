//! threatlens threat models: the `threatlens/v1` format, the AI threat library, the data-flow
//! graph and the checks that run on it.
//!
//! ```text
//! threatmodel.yaml (+ includes) ──yaml──► node tree with byte ranges ──de──► Document per file
//!   ──parse──► merged Model ──validate──► model errors (ids, references, Annex A/ATLAS/OWASP ids)
//!   ──graph──► Graph (petgraph: trust boundaries, classification, reachability)
//!   ──checks──► missing-control rules (library data) · governance · exceptions ──► Findings
//!   Model + Graph ──render──► Mermaid · DOT · SVG
//! ```
//!
//! The public surface is small: [`check_model_file`] / [`check_model_text`] give a
//! [`ModelReport`] (findings per file, never a panic, whatever the input);
//! [`analyse_model_file`] / [`analyse_model_text`] / [`analyse_model_overlaid`] (editor buffers
//! for any of the model's files) also return the parsed [`Model`] and its
//! [`Graph`] for renderers and the language server (every id and reference carries its
//! [`Loc`]); [`rule_docs`] documents every rule; [`starter_model`] is the file `threatlens init`
//! writes; [`json_schema`] is the format's JSON Schema; [`render::Diagram`] draws the model.
//!
//! No async, no I/O beyond reading the model's files.

pub mod checks;
pub mod date;
pub mod de;
pub mod diag;
pub mod format;
pub mod graph;
pub mod library;
pub mod model;
pub mod parse;
pub mod predicate;
pub mod render;
pub mod schema;
pub mod validate;
pub mod yaml;

pub use date::{Date, Duration};
pub use de::{FileId, Loc, Spanned};
pub use graph::Graph;
pub use model::{ElementKind, Model, Reference, SourceFile};
pub use schema::json_schema;

use std::path::{Path, PathBuf};
use threatlens_rules::{Category, Finding, RuleDoc};

/// The file name `threatlens` looks for when no model path is given.
pub const DEFAULT_MODEL_FILE: &str = "threatmodel.yaml";

/// The findings in one file of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFindings {
    pub path: PathBuf,
    pub findings: Vec<Finding>,
}

/// What checking a model found, per file: the root file first, then included files in the
/// order they were loaded. Every file of the model is listed, with or without findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelReport {
    pub files: Vec<FileFindings>,
}

impl ModelReport {
    /// Every finding with the path of its file.
    pub fn findings(&self) -> impl Iterator<Item = (&Path, &Finding)> {
        self.files.iter().flat_map(|f| {
            f.findings
                .iter()
                .map(move |finding| (f.path.as_path(), finding))
        })
    }

    /// Whether the model itself is invalid (any `model-error` finding).
    pub fn has_model_errors(&self) -> bool {
        self.findings()
            .any(|(_, f)| f.category == Category::ModelError)
    }
}

/// A checked model: its files, the merged model, its graph and the report.
#[derive(Debug, Default)]
pub struct ModelAnalysis {
    pub sources: Vec<SourceFile>,
    pub model: Model,
    pub graph: Graph,
    pub report: ModelReport,
}

/// Check the model whose root file is `path` (following its `includes:`), as of `today`.
pub fn check_model_file(path: &Path, today: Date) -> ModelReport {
    analyse_model_file(path, today).report
}

/// Check a model whose root file's content is `text` (an editor buffer); `path` is where the
/// buffer lives, for resolving `includes:` and for the report.
pub fn check_model_text(text: &str, path: &Path, today: Date) -> ModelReport {
    analyse_model_text(text, path, today).report
}

/// Like [`check_model_file`], keeping the model and graph.
pub fn analyse_model_file(path: &Path, today: Date) -> ModelAnalysis {
    analyse(parse::load(path, None), today)
}

/// Like [`check_model_text`], keeping the model and graph.
pub fn analyse_model_text(text: &str, path: &Path, today: Date) -> ModelAnalysis {
    analyse(parse::load(path, Some(text)), today)
}

/// Like [`analyse_model_file`], with editor buffers: any file of the model (the root or an
/// included file) whose canonical path is a key of `overlay` is read from there.
pub fn analyse_model_overlaid(
    path: &Path,
    overlay: &std::collections::HashMap<PathBuf, String>,
    today: Date,
) -> ModelAnalysis {
    analyse(parse::load_overlaid(path, overlay), today)
}

fn analyse(loaded: parse::Loaded, today: Date) -> ModelAnalysis {
    let parse::Loaded {
        sources,
        model,
        mut diags,
    } = loaded;
    diags.extend(validate::validate(&model));
    let (graph, graph_diags) = Graph::build(&model);
    diags.extend(graph_diags);

    let mut files: Vec<FileFindings> = sources
        .iter()
        .map(|s| FileFindings {
            path: s.path.clone(),
            findings: Vec::new(),
        })
        .collect();
    let library = library::library();
    for diag in diags {
        let Some(rule) = library.model_rule(diag.problem) else {
            continue;
        };
        if let Some(file) = files.get_mut(diag.loc.file) {
            let fingerprint_of = diag.message.clone();
            file.findings.push(Finding::new(
                &rule.id,
                &rule.slug,
                Category::ModelError,
                rule.severity,
                diag.loc.span,
                diag.message,
                &fingerprint_of,
            ));
        }
    }
    // A model that could not be read at all (no root document) is not checked further.
    if !sources.is_empty() && model.schema.is_some() {
        for located in checks::run(&model, &graph, today) {
            if let Some(file) = files.get_mut(located.file) {
                file.findings.push(located.finding);
            }
        }
    }
    for file in &mut files {
        file.findings.sort_by(|a, b| {
            (a.span.start_byte, &a.rule, &a.target).cmp(&(b.span.start_byte, &b.rule, &b.target))
        });
        file.findings.dedup();
    }
    ModelAnalysis {
        sources,
        model,
        graph,
        report: ModelReport { files },
    }
}

/// Documentation of every rule of this crate: model errors (`TM0xx`), missing controls
/// (`TM1xx`) and governance (`TM2xx`).
pub fn rule_docs() -> Vec<RuleDoc> {
    library::library().rule_docs()
}

/// A minimal, valid `threatmodel.yaml` to start from (what `threatlens init` writes when it has
/// nothing better).
pub fn starter_model() -> String {
    include_str!("../library/starter.yaml").to_owned()
}

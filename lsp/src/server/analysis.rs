//! Analysis jobs: a snapshot of a document (or notebook) taken under the state lock, run on a
//! blocking thread, with panics caught and turned into an error.

use super::documents::{DocKind, diff_edit};
use super::sessions::Sessions;
use crate::model::CodeExceptions;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use threatlens_rules::analyse::{
    FileContext, analyse_notebook, analyse_notebook_tree, analyse_tree_in,
};
use threatlens_rules::artefact::ArtefactIndex;
use threatlens_rules::lang::python::session::{Fallback, Reuse};
use threatlens_rules::lang::{self, notebook::Notebook};
use threatlens_rules::project::Project;
use threatlens_rules::scan::raise_for_flagged_artefacts;
use threatlens_rules::{Catalogue, Config, Finding, Language};
use tree_sitter::Tree;

/// Environment variable for fault-injection tests: analysing a text that contains its value
/// panics, to prove that a panic in the analysis never reaches the client.
pub const PANIC_MARKER_VAR: &str = "THREATLENS_LSP_TEST_PANIC_MARKER";

/// Environment variable for ordering tests: analysing a file on disk that contains its value
/// takes two seconds longer, so that a later analysis of the same file finishes first.
pub const DELAY_MARKER_VAR: &str = "THREATLENS_LSP_TEST_DELAY_MARKER";

pub fn panic_marker() -> Option<String> {
    test_marker(PANIC_MARKER_VAR)
}

pub fn delay_marker() -> Option<String> {
    test_marker(DELAY_MARKER_VAR)
}

fn test_marker(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|marker| !marker.is_empty())
}

pub enum Input {
    Text {
        kind: DocKind,
        text: String,
        /// The previous tree, edited to match `text`.
        tree: Option<Tree>,
        /// `tree` is a parse of `text` as it is (an earlier text come back): no re-parse.
        parsed: bool,
    },
    Notebook {
        /// `(index in the notebook, source)` of the Python code cells, in order.
        cells: Vec<(usize, String)>,
        /// The module text and tree of the previous parse.
        previous: Option<(String, Tree)>,
    },
    /// A threat model: its root and the open buffers of its files.
    Model(Box<super::model::ModelInput>),
}

/// Where a document sits: the workspace's modules and its path (for the constants it imports,
/// as `threatlens check` sees them).
#[derive(Clone, Default)]
pub struct Place {
    pub project: Option<Arc<Project>>,
    /// The threat models' `code:` exceptions.
    pub exceptions: Arc<Vec<CodeExceptions>>,
    /// Artefacts the workspace scan flagged, for code that loads them.
    pub flagged: Arc<ArtefactIndex>,
    pub path: Option<PathBuf>,
}

impl Place {
    pub fn context(&self) -> FileContext<'_> {
        FileContext {
            project: self.project.as_deref(),
            path: self.path.as_deref(),
        }
    }
}

pub struct Job {
    pub version: i32,
    pub input: Input,
    pub place: Place,
    /// For an open Python document: the sessions' thread and the document's key there.
    pub session: Option<(Arc<Sessions>, String)>,
    /// Analyse the whole file, whatever the document's session could reuse.
    pub whole: bool,
    pub config: Arc<Config>,
    pub catalogue: &'static Catalogue,
    pub panic_marker: Option<String>,
}

#[derive(Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// The new tree (and, for notebooks, the module text it is of).
    pub tree: Option<Tree>,
    pub python: Option<String>,
    /// `None` when the tree of an earlier parse of the same text was taken instead.
    pub reparse: Option<Duration>,
    pub analysis: Duration,
    /// For an open Python document: how much of the previous analysis was reused, and why the
    /// whole file was analysed when it was.
    pub reuse: Option<Reuse>,
    pub fallback: Option<Fallback>,
    pub errors: Vec<String>,
    /// For a threat model: the analysed model.
    pub model: Option<super::model::ModelAnalysed>,
}

/// Runs a job; never panics.
pub fn run(job: Job) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| run_inner(job))) {
        Ok(outcome) => outcome,
        Err(payload) => Outcome {
            errors: vec![format!(
                "internal error: the analysis panicked ({}); please report this with the file",
                panic_message(payload.as_ref())
            )],
            ..Outcome::default()
        },
    }
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

fn check_fault(marker: &Option<String>, text: &str) {
    if let Some(marker) = marker
        && text.contains(marker.as_str())
    {
        panic!("fault injected by {PANIC_MARKER_VAR}");
    }
}

fn run_inner(job: Job) -> Outcome {
    let Job {
        input,
        config,
        catalogue,
        panic_marker,
        session,
        whole,
        place,
        ..
    } = job;
    let mut outcome = match input {
        Input::Text {
            kind,
            text,
            tree,
            parsed,
        } => {
            check_fault(&panic_marker, &text);
            match kind {
                DocKind::Source(language) => analyse_text(
                    catalogue,
                    language,
                    text,
                    (tree, parsed),
                    &place,
                    session.as_ref(),
                    whole,
                ),
                DocKind::NotebookJson => {
                    let started = Instant::now();
                    let analysis = analyse_notebook(catalogue, text.as_bytes(), &place.context());
                    Outcome {
                        findings: analysis.findings,
                        errors: analysis.errors,
                        analysis: started.elapsed(),
                        ..Outcome::default()
                    }
                }
                DocKind::Model | DocKind::Other => Outcome::default(),
            }
        }
        Input::Model(input) => {
            if let Some(text) = input.root_text.as_deref() {
                check_fault(&panic_marker, text);
            }
            for (_, _, text) in input.open.values() {
                check_fault(&panic_marker, text);
            }
            let started = Instant::now();
            let model = super::model::analyse(*input, &config);
            return Outcome {
                analysis: started.elapsed(),
                model: Some(model),
                ..Outcome::default()
            };
        }
        Input::Notebook { cells, previous } => {
            let notebook = Notebook::from_cells(cells);
            check_fault(&panic_marker, &notebook.python);
            let old = previous.map(|(old_text, mut tree)| {
                if let Some(edit) = diff_edit(&old_text, &notebook.python) {
                    tree.edit(&edit);
                }
                tree
            });
            let started = Instant::now();
            let tree = lang::parse(Language::Python, &notebook.python, old.as_ref());
            let reparse = Some(started.elapsed());
            let Some(tree) = tree else {
                return Outcome {
                    reparse,
                    errors: vec!["the parser gave up on this notebook".into()],
                    ..Outcome::default()
                };
            };
            let started = Instant::now();
            let findings = analyse_notebook_tree(catalogue, &notebook, &tree, &place.context());
            Outcome {
                findings,
                tree: Some(tree),
                reparse,
                analysis: started.elapsed(),
                python: Some(notebook.python),
                ..Outcome::default()
            }
        }
    };
    if let Some(path) = &place.path {
        raise_for_flagged_artefacts(&mut outcome.findings, path, &config.root, &place.flagged);
    }
    config.apply(catalogue, &mut outcome.findings);
    if let Some(path) = &place.path {
        for exceptions in place.exceptions.iter() {
            exceptions.apply(path, &mut outcome.findings);
        }
    }
    outcome
}

fn analyse_text(
    catalogue: &Catalogue,
    language: Language,
    text: String,
    (old, parsed): (Option<Tree>, bool),
    place: &Place,
    session: Option<&(Arc<Sessions>, String)>,
    whole: bool,
) -> Outcome {
    let (tree, reparse) = match old {
        Some(tree) if parsed => (Some(tree), None),
        old => {
            let started = Instant::now();
            let tree = lang::parse(language, &text, old.as_ref());
            (tree, Some(started.elapsed()))
        }
    };
    let Some(tree) = tree else {
        return Outcome {
            reparse,
            errors: vec!["the parser gave up on this file".into()],
            ..Outcome::default()
        };
    };
    let started = Instant::now();
    let (findings, reuse, fallback) = match session {
        Some((sessions, document)) if language == Language::Python => {
            match sessions.analyse(document, text, tree.clone(), place.clone(), whole) {
                Ok(analysed) => analysed,
                Err(error) => {
                    return Outcome {
                        reparse,
                        errors: vec![format!(
                            "internal error: the analysis panicked ({error}); please report this with the file"
                        )],
                        ..Outcome::default()
                    };
                }
            }
        }
        _ => (
            analyse_tree_in(catalogue, language, &text, &tree, &place.context()),
            None,
            None,
        ),
    };
    Outcome {
        findings,
        tree: Some(tree),
        python: None,
        reparse,
        analysis: started.elapsed(),
        reuse,
        fallback,
        errors: Vec::new(),
        model: None,
    }
}

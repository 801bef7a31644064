//! Analysis of one file: classify, decode, parse, run the front-end, apply suppressions.

use crate::catalogue::{Catalogue, Language};
use crate::engine::Emitter;
use crate::finding::Finding;
use crate::lang::{self, notebook::Notebook};
use crate::source::LineIndex;
use crate::suppress;
use std::path::Path;
use tree_sitter::Tree;

/// What kind of file this is, for analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    Python,
    Notebook,
    Rust,
    /// A model file (pickle, PyTorch, joblib, NumPy, Keras, safetensors, GGUF, ONNX): scanned
    /// as bytes by [`crate::artefact`], never parsed as code.
    Artefact,
}

impl FileKind {
    pub fn of(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "py" | "pyi" | "pyw" => Some(Self::Python),
            "ipynb" => Some(Self::Notebook),
            "rs" => Some(Self::Rust),
            _ if crate::artefact::is_artefact_path(path) => Some(Self::Artefact),
            _ => None,
        }
    }

    pub fn language(self) -> Language {
        match self {
            // Artefacts are loaded by Python code; they are not analysed as source.
            Self::Python | Self::Notebook | Self::Artefact => Language::Python,
            Self::Rust => Language::Rust,
        }
    }
}

/// Where a file sits: its path (for relative imports) and the project around it (for the
/// constants of the modules it imports). Both optional: an editor buffer may have neither.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileContext<'a> {
    pub project: Option<&'a crate::project::Project>,
    pub path: Option<&'a Path>,
}

/// The result of analysing one file: findings, plus problems that stopped part of the analysis.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// One-line explanations of what could not be analysed (not UTF-8, broken notebook, …).
    pub errors: Vec<String>,
}

/// Analyses source text that is already parsed (the language server keeps trees to re-parse
/// incrementally).
pub fn analyse_tree(
    catalogue: &Catalogue,
    language: Language,
    text: &str,
    tree: &Tree,
) -> Vec<Finding> {
    analyse_tree_in(catalogue, language, text, tree, &FileContext::default())
}

/// Analyses a parsed text that belongs to a project (see [`FileContext`]).
pub fn analyse_tree_in(
    catalogue: &Catalogue,
    language: Language,
    text: &str,
    tree: &Tree,
    context: &FileContext,
) -> Vec<Finding> {
    let lines = LineIndex::new(text);
    let findings = match language {
        Language::Python => lang::python::analyse(catalogue, text, tree, &lines, context),
        Language::Rust => lang::rust::analyse(catalogue, text, tree, &lines),
    };
    finish(catalogue, text, tree, &lines, findings)
}

/// Analyses a parsed Python text, the new version of a document that `session` analysed
/// before: only the function an edit is in is analysed again when that gives the same
/// findings as analysing the whole text (see [`lang::python::session`]).
pub fn analyse_python_in_session(
    session: &mut lang::python::session::Session,
    catalogue: &Catalogue,
    text: &str,
    tree: &Tree,
    context: &FileContext,
) -> Vec<Finding> {
    let lines = LineIndex::new(text);
    let findings = session.analyse(catalogue, text, tree, &lines, context);
    finish(catalogue, text, tree, &lines, findings)
}

/// Applies the inline suppressions and puts findings in order.
fn finish(
    catalogue: &Catalogue,
    text: &str,
    tree: &Tree,
    lines: &LineIndex,
    mut findings: Vec<Finding>,
) -> Vec<Finding> {
    let suppressions = suppress::find(text, tree, lines);
    suppress::apply(catalogue, text, lines, &suppressions, &mut findings);
    findings.sort_by(|a, b| (a.span.start_byte, &a.rule).cmp(&(b.span.start_byte, &b.rule)));
    findings
}

/// Parses and analyses source text.
pub fn analyse_source(
    catalogue: &Catalogue,
    language: Language,
    text: &str,
    context: &FileContext,
) -> Analysis {
    match lang::parse(language, text, None) {
        Some(tree) => Analysis {
            findings: analyse_tree_in(catalogue, language, text, &tree, context),
            errors: Vec::new(),
        },
        None => Analysis {
            findings: Vec::new(),
            errors: vec!["the parser gave up on this file".into()],
        },
    }
}

/// Analyses a notebook's JSON.
pub fn analyse_notebook(catalogue: &Catalogue, bytes: &[u8], context: &FileContext) -> Analysis {
    let notebook = match Notebook::parse(bytes) {
        Ok(notebook) => notebook,
        Err(error) => {
            return Analysis {
                findings: Vec::new(),
                errors: vec![error],
            };
        }
    };
    match lang::parse(Language::Python, &notebook.python, None) {
        Some(tree) => Analysis {
            findings: analyse_notebook_tree(catalogue, &notebook, &tree, context),
            errors: Vec::new(),
        },
        None => Analysis {
            findings: Vec::new(),
            errors: vec!["the parser gave up on this notebook".into()],
        },
    }
}

/// Analyses a notebook whose code-cell module is already parsed (the language server re-parses
/// it incrementally); findings are in cell coordinates.
pub fn analyse_notebook_tree(
    catalogue: &Catalogue,
    notebook: &Notebook,
    tree: &Tree,
    context: &FileContext,
) -> Vec<Finding> {
    let mut findings =
        analyse_tree_in(catalogue, Language::Python, &notebook.python, tree, context);
    // Shell lines and magics are not Python, but tokens pasted into them are still secrets.
    let lines = LineIndex::new(&notebook.python);
    let mut emitter = Emitter::new(catalogue, &notebook.python, &lines, Language::Python);
    for (offset, line) in &notebook.magic_lines {
        emitter.on_tokens(line, *offset);
    }
    findings.extend(emitter.findings);
    notebook.map_findings(&mut findings);
    findings.sort_by(|a, b| {
        (a.span.cell, a.span.start_byte, &a.rule).cmp(&(b.span.cell, b.span.start_byte, &b.rule))
    });
    findings
}

/// NUL bytes near the start: binary content, not source code ([`analyse_bytes`] skips it).
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// Analyses file contents as read from disk.
pub fn analyse_bytes(
    catalogue: &Catalogue,
    kind: FileKind,
    bytes: &[u8],
    context: &FileContext,
) -> Analysis {
    if kind == FileKind::Notebook {
        return analyse_notebook(catalogue, bytes, context);
    }
    if kind == FileKind::Artefact {
        // No file name here: the format is told by magic bytes alone.
        let report = crate::artefact::scan_bytes("", bytes, &crate::artefact::Limits::default());
        return Analysis {
            findings: report.findings(catalogue),
            errors: report.notes,
        };
    }
    if looks_binary(bytes) {
        return Analysis {
            findings: Vec::new(),
            errors: vec!["binary content (NUL bytes), not source code: skipped".into()],
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => analyse_source(catalogue, kind.language(), text, context),
        Err(error) => {
            let text = String::from_utf8_lossy(bytes);
            let mut analysis = analyse_source(catalogue, kind.language(), &text, context);
            analysis.errors.push(format!(
                "not valid UTF-8 (first bad byte at offset {}); analysed with replacement characters",
                error.valid_up_to()
            ));
            analysis
        }
    }
}

//! Scanning paths: a parallel, `.gitignore`-aware walk, then one analysis per file on rayon.
//! Model artefacts are scanned first; code that loads one of the flagged ones by a literal path
//! gets the artefact's severity (see [`raise_for_flagged_artefacts`]).

use crate::analyse::{Analysis, FileKind, analyse_bytes};
use crate::artefact::{self, ArtefactIndex};
use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::finding::{Category, Finding, Severity};
use ignore::WalkBuilder;
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Directories never worth walking into (virtual environments, caches, build output).
const DEFAULT_EXCLUDES: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "node_modules",
    "site-packages",
    "venv",
    "target",
];

/// One analysed file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The path as reported: joined onto the PATH argument as given.
    pub path: PathBuf,
    pub kind: FileKind,
    pub findings: Vec<Finding>,
    pub errors: Vec<String>,
}

/// The result of a scan, files in path order.
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    pub files: Vec<FileReport>,
    /// Problems with the paths themselves (missing, unreadable directories).
    pub errors: Vec<String>,
}

impl ScanResult {
    pub fn findings(&self) -> impl Iterator<Item = (&FileReport, &Finding)> {
        self.files
            .iter()
            .flat_map(|file| file.findings.iter().map(move |f| (file, f)))
    }
}

/// Lists the files to analyse under `paths`.
pub fn collect_files(
    paths: &[PathBuf],
    config: &Config,
) -> (Vec<(PathBuf, FileKind)>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if !root.exists() {
            errors.push(format!("{}: no such file or directory", root.display()));
            continue;
        }
        if root.is_file() {
            // Files named explicitly are analysed whatever their extension says, if we know it.
            match FileKind::of(root) {
                Some(kind) if !config.is_excluded(root) => files.push((root.clone(), kind)),
                _ => {}
            }
            continue;
        }
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .filter_entry(|entry| {
                !(entry.file_type().is_some_and(|t| t.is_dir())
                    && entry
                        .file_name()
                        .to_str()
                        .is_some_and(|name| DEFAULT_EXCLUDES.contains(&name)))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    if !entry.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    let path = entry.path();
                    if let Some(kind) = FileKind::of(path)
                        && !config.is_excluded(path)
                    {
                        files.push((tidy(path), kind));
                    }
                }
                Err(error) => errors.push(error.to_string()),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

/// `./a/b.py` → `a/b.py` (the form users and CI annotations expect).
fn tidy(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// Reads a file, refusing ones above the size limit before reading them.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(format!(
            "skipped: {:.1} MB is over the {:.1} MB limit (max-file-size in threatlens.toml)",
            size as f64 / 1_048_576.0,
            limit as f64 / 1_048_576.0
        ));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err("skipped: file grew over the size limit while being read".into());
    }
    Ok(bytes)
}

/// Analyses one file from disk.
pub fn analyse_file(
    catalogue: &Catalogue,
    config: &Config,
    path: &Path,
    kind: FileKind,
) -> FileReport {
    analyse_file_with(catalogue, config, path, kind, &ArtefactIndex::default())
}

/// Analyses one file; code that loads an artefact in `flagged` says so.
fn analyse_file_with(
    catalogue: &Catalogue,
    config: &Config,
    path: &Path,
    kind: FileKind,
    flagged: &ArtefactIndex,
) -> FileReport {
    if kind == FileKind::Artefact {
        // Artefacts stream with their own size limit; they are never read whole.
        let limits = artefact::Limits::with_max_bytes(config.artefact_max_size());
        let report = artefact::scan_path(path, &limits);
        let mut findings = report.findings(catalogue);
        config.apply(catalogue, &mut findings);
        return FileReport {
            path: path.to_path_buf(),
            kind,
            findings,
            errors: report.notes,
        };
    }
    let Analysis {
        mut findings,
        errors,
    } = match read_limited(path, config.max_file_size()) {
        Ok(bytes) => {
            let mut analysis = analyse_bytes(catalogue, kind, &bytes);
            if kind == FileKind::Python && !flagged.is_empty() {
                raise_for_flagged_artefacts(
                    &mut analysis.findings,
                    &bytes,
                    path,
                    &config.root,
                    flagged,
                );
            }
            analysis
        }
        Err(error) => Analysis {
            findings: Vec::new(),
            errors: vec![error],
        },
    };
    config.apply(catalogue, &mut findings);
    FileReport {
        path: path.to_path_buf(),
        kind,
        findings,
        errors,
    }
}

/// Walks `paths` and analyses every file in parallel: artefacts first, so that code loading
/// a flagged artefact (`torch.load("model.pt")`) can say so.
pub fn scan(catalogue: &Catalogue, config: &Config, paths: &[PathBuf]) -> ScanResult {
    let (files, errors) = collect_files(paths, config);
    let (artefacts, code): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(_, kind)| *kind == FileKind::Artefact);
    let mut reports: Vec<FileReport> = artefacts
        .par_iter()
        .map(|(path, kind)| analyse_file(catalogue, config, path, *kind))
        .collect();
    let flagged = flagged_artefacts(&reports);
    reports.par_extend(
        code.par_iter()
            .map(|(path, kind)| analyse_file_with(catalogue, config, path, *kind, &flagged)),
    );
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    ScanResult {
        files: reports,
        errors,
    }
}

/// Artefacts with an active finding of medium severity or worse.
fn flagged_artefacts(reports: &[FileReport]) -> ArtefactIndex {
    let mut index = ArtefactIndex::default();
    for report in reports {
        let worst = report
            .findings
            .iter()
            .filter(|f| f.is_active() && f.category == Category::UnsafeArtefactFile)
            .max_by_key(|f| f.severity);
        if let Some(finding) = worst.filter(|f| f.severity >= Severity::Medium) {
            let first_sentence = finding.message.split(". ").next().unwrap_or("");
            index.insert(
                &report.path,
                artefact::Flag {
                    severity: finding.severity,
                    rule: finding.rule.clone(),
                    summary: first_sentence.to_string(),
                },
            );
        }
    }
    index
}

/// Deserialisation findings whose call names a flagged artefact in a string literal get that
/// artefact's severity and a sentence saying why.
///
/// Only literals written inside the call are seen (`torch.load("model.pt")`). Paths held in a
/// variable or constant (`p = "model.pt"; torch.load(p)`) need the engine to hand over the
/// subject's constant value: a `Finding` field (or a `Related` entry) carrying
/// `Sym::str_value()` of the rule's subject would let this function resolve those too.
fn raise_for_flagged_artefacts(
    findings: &mut [Finding],
    source: &[u8],
    path: &Path,
    root: &Path,
    flagged: &ArtefactIndex,
) {
    for finding in findings
        .iter_mut()
        .filter(|f| f.category == Category::UntrustedDeserialisation)
    {
        let Some(call) = source.get(finding.span.start_byte..finding.span.end_byte) else {
            continue;
        };
        for literal in string_literals(call) {
            if let Some((artefact, flag)) = flagged.resolve(&literal, path, root) {
                finding.severity = finding.severity.max(flag.severity);
                finding.message.push_str(&format!(
                    " `{literal}` ({}) is flagged by the artefact scan ({} {}): {}.",
                    artefact.display(),
                    flag.rule,
                    flag.severity,
                    flag.summary
                ));
                break;
            }
        }
    }
}

/// The contents of the simple string literals in a call's text (no escapes, no f-strings).
fn string_literals(text: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let quote = text[i];
        if quote != b'"' && quote != b'\'' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let Some(len) = text[start..].iter().position(|&b| b == quote || b == b'\n') else {
            break;
        };
        if text[start + len] == quote
            && let Ok(value) = std::str::from_utf8(&text[start..start + len])
            && !value.contains('\\')
        {
            out.push(value.to_string());
        }
        i = start + len + 1;
    }
    out
}

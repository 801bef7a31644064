//! Scanning paths: a parallel, `.gitignore`-aware walk, then one analysis per file on rayon.
//! Model artefacts are scanned first; code that loads one of the flagged ones by a literal path
//! gets the artefact's severity (see [`raise_for_flagged_artefacts`]).

use crate::analyse::{Analysis, FileContext, FileKind, analyse_bytes, analyse_tree_in};
use crate::artefact::{self, ArtefactIndex};
use crate::catalogue::{Catalogue, Language};
use crate::config::Config;
use crate::finding::{Category, Finding, Severity};
use crate::project::{ParsedModule, Project};
use ignore::WalkBuilder;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

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

/// Analyses one file from disk, in the project it belongs to.
pub fn analyse_file(
    catalogue: &Catalogue,
    config: &Config,
    project: Option<&Project>,
    path: &Path,
    kind: FileKind,
) -> FileReport {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    analyse_file_with(
        catalogue,
        config,
        project,
        (path, &absolute),
        kind,
        &ArtefactIndex::default(),
    )
}

/// Analyses one file, given as reported and as an absolute path (how the project knows it);
/// code that loads an artefact in `flagged` says so.
fn analyse_file_with(
    catalogue: &Catalogue,
    config: &Config,
    project: Option<&Project>,
    (path, absolute): (&Path, &Path),
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
    let context = FileContext {
        project,
        path: Some(absolute),
    };
    let analysis = match read_limited(path, config.max_file_size()) {
        Ok(bytes) => analyse_bytes(catalogue, kind, &bytes, &context),
        Err(error) => Analysis {
            findings: Vec::new(),
            errors: vec![error],
        },
    };
    finish_report(catalogue, config, path, kind, flagged, analysis)
}

/// Analyses a module that a constant lookup parsed ahead of the scan (see
/// [`Project::take_parsed_ahead`]): what [`analyse_file_with`] would find, without a second parse.
fn analyse_parsed_module(
    catalogue: &Catalogue,
    config: &Config,
    project: &Project,
    path: &Path,
    module: &ParsedModule,
    flagged: &ArtefactIndex,
) -> FileReport {
    let context = FileContext {
        project: Some(project),
        path: Some(&module.path),
    };
    let findings = analyse_tree_in(
        catalogue,
        Language::Python,
        &module.text,
        &module.tree,
        &context,
    );
    let analysis = Analysis {
        findings,
        errors: Vec::new(),
    };
    finish_report(catalogue, config, path, FileKind::Python, flagged, analysis)
}

/// Raises findings that load flagged artefacts and applies the configuration.
fn finish_report(
    catalogue: &Catalogue,
    config: &Config,
    path: &Path,
    kind: FileKind,
    flagged: &ArtefactIndex,
    analysis: Analysis,
) -> FileReport {
    let Analysis {
        mut findings,
        errors,
    } = analysis;
    if !flagged.is_empty() {
        raise_for_flagged_artefacts(&mut findings, path, &config.root, flagged);
    }
    config.apply(catalogue, &mut findings);
    FileReport {
        path: path.to_path_buf(),
        kind,
        findings,
        errors,
    }
}

/// Walks `paths` and analyses every file in parallel: artefacts first, so that code loading
/// a flagged artefact (`torch.load("model.pt")`) can say so. Files in path order.
pub fn scan(catalogue: &Catalogue, config: &Config, paths: &[PathBuf]) -> ScanResult {
    let mut files = Vec::new();
    let errors = scan_each(catalogue, config, paths, |report| files.push(report));
    ScanResult { files, errors }
}

/// Analyses what [`scan`] analyses, and hands each file's report to `emit` as soon as every
/// file before it has been analysed: in path order, while the scan goes on. Returns the
/// problems with the paths themselves.
pub fn scan_each(
    catalogue: &Catalogue,
    config: &Config,
    paths: &[PathBuf],
    mut emit: impl FnMut(FileReport) + Send,
) -> Vec<String> {
    let (files, errors) = collect_files(paths, config);
    let mut reorder = Reorder::new(files.len());
    let (artefacts, code): (Vec<_>, Vec<_>) = files
        .iter()
        .enumerate()
        .partition(|(_, (_, kind))| *kind == FileKind::Artefact);
    let artefact_reports: Vec<(usize, FileReport)> = artefacts
        .par_iter()
        .with_max_len(1)
        .map(|(slot, (path, kind))| (*slot, analyse_file(catalogue, config, None, path, *kind)))
        .collect();
    let flagged = flagged_artefacts(artefact_reports.iter().map(|(_, report)| report));
    for (slot, report) in artefact_reports {
        reorder.put(Some(slot), report, &mut emit);
    }
    let code: Vec<(usize, &Path, FileKind, PathBuf)> = code
        .into_iter()
        .map(|(slot, (path, kind))| {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            (slot, path.as_path(), *kind, absolute)
        })
        .collect();
    let members = code
        .iter()
        .map(|(_, _, _, absolute)| absolute.clone())
        .collect();
    let project = project_of(paths, &files, config).scanning(config.max_file_size(), members);
    // Modules parsed ahead are reported under the path and in the place the scan gives them.
    let scanned_as: HashMap<&Path, (usize, &Path)> = code
        .iter()
        .map(|(slot, path, _, absolute)| (absolute.as_path(), (*slot, *path)))
        .collect();
    // The thread that completes the next report in order hands it on, and the others wait for
    // it: a slow reader of the output holds the scan back instead of making it keep reports.
    let output = Mutex::new((reorder, emit));
    let hand_on = |slot: Option<usize>, report: FileReport| {
        let mut output = output.lock().unwrap_or_else(PoisonError::into_inner);
        let (reorder, emit) = &mut *output;
        reorder.put(slot, report, emit);
    };
    // One file per job, taken in path order: each thread takes the next file when it is done
    // (rayon's own split handed each thread long runs it could not share, and the output could
    // only follow one of them).
    code.iter()
        .par_bridge()
        .for_each(|(slot, path, kind, absolute)| {
            if project.start(absolute) {
                let report = analyse_file_with(
                    catalogue,
                    config,
                    Some(&project),
                    (path, absolute),
                    *kind,
                    &flagged,
                );
                hand_on(Some(*slot), report);
            }
            // What this analysis parsed ahead (or another thread's, whichever comes first).
            while let Some(module) = project.take_parsed_ahead() {
                let (slot, path) = match scanned_as.get(module.path.as_path()) {
                    Some(&(slot, path)) => (Some(slot), path),
                    None => (None, module.path.as_path()),
                };
                let report =
                    analyse_parsed_module(catalogue, config, &project, path, &module, &flagged);
                hand_on(slot, report);
            }
        });
    let (reorder, mut emit) = output.into_inner().unwrap_or_else(PoisonError::into_inner);
    reorder.finish(&mut emit);
    errors
}

/// Reports put back in path order: each is handed on once all those before it have been.
struct Reorder {
    waiting: Vec<Option<FileReport>>,
    next: usize,
    /// Reports of files the scan did not list (none are expected): handed on at the end.
    unplaced: Vec<FileReport>,
}

impl Reorder {
    fn new(files: usize) -> Self {
        Self {
            waiting: std::iter::repeat_with(|| None).take(files).collect(),
            next: 0,
            unplaced: Vec::new(),
        }
    }

    /// Takes the report of the file at `slot` of the scan's list (`None`: not on it), and hands
    /// on those now next in order.
    fn put(&mut self, slot: Option<usize>, report: FileReport, emit: &mut impl FnMut(FileReport)) {
        match slot.and_then(|slot| self.waiting.get_mut(slot)) {
            Some(waiting) => *waiting = Some(report),
            None => self.unplaced.push(report),
        }
        while let Some(report) = self.waiting.get_mut(self.next).and_then(Option::take) {
            emit(report);
            self.next += 1;
        }
    }

    /// Hands on what is left, in order: files no analysis reported (a second path to a file
    /// already analysed) are skipped.
    fn finish(mut self, emit: &mut impl FnMut(FileReport)) {
        let rest = self.waiting.drain(self.next..).flatten();
        let mut rest: Vec<FileReport> = rest.chain(self.unplaced).collect();
        rest.sort_by(|a, b| a.path.cmp(&b.path));
        rest.into_iter().for_each(emit);
    }
}

/// Artefacts with an active finding of medium severity or worse.
fn flagged_artefacts<'r>(reports: impl Iterator<Item = &'r FileReport>) -> ArtefactIndex {
    let mut index = ArtefactIndex::default();
    for report in reports {
        if let Some(flag) = artefact_flag(&report.findings) {
            index.insert(&report.path, flag);
        }
    }
    index
}

/// What code loading an artefact with these findings should say: its worst active finding of
/// medium severity or worse.
pub fn artefact_flag(findings: &[Finding]) -> Option<artefact::Flag> {
    let worst = findings
        .iter()
        .filter(|f| f.is_active() && f.category == Category::UnsafeArtefactFile)
        .max_by_key(|f| f.severity)?;
    (worst.severity >= Severity::Medium).then(|| artefact::Flag {
        severity: worst.severity,
        rule: worst.rule.clone(),
        summary: worst.message.split(". ").next().unwrap_or("").to_string(),
    })
}

/// Deserialisation findings whose subject is a constant path naming a flagged artefact get that
/// artefact's severity and a sentence saying why (`torch.load("model.pt")`, also through a
/// constant: `MODEL = "model.pt"; torch.load(MODEL)`).
pub fn raise_for_flagged_artefacts(
    findings: &mut [Finding],
    path: &Path,
    root: &Path,
    flagged: &ArtefactIndex,
) {
    for finding in findings
        .iter_mut()
        .filter(|f| f.category == Category::UntrustedDeserialisation)
    {
        let Some(literal) = finding.subject_value.clone() else {
            continue;
        };
        if let Some((artefact, flag)) = flagged.resolve(&literal, path, root) {
            finding.severity = finding.severity.max(flag.severity);
            finding.message.push_str(&format!(
                " `{literal}` ({}) is flagged by the artefact scan ({} {}): {}.",
                artefact.display(),
                flag.rule,
                flag.severity,
                flag.summary
            ));
        }
    }
}

/// The project a check resolves imports in (for constants imported across modules): the
/// Python files checked, and with a configuration file every Python file under its directory
/// too, so that checking a few files (a pre-commit hook passes the staged ones) reads the
/// constants of modules it was not asked to check, as a check of the whole directory does.
/// A file is known by its path from each of these that holds it: the checked directory and the
/// configuration's.
pub fn project_of(paths: &[PathBuf], files: &[(PathBuf, FileKind)], config: &Config) -> Project {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut roots: Vec<PathBuf> = paths
        .iter()
        .map(|root| {
            let root = absolute(root);
            if root.is_file() {
                root.parent().map(Path::to_path_buf).unwrap_or(root)
            } else {
                root
            }
        })
        .collect();
    let python = |files: &[(PathBuf, FileKind)]| -> Vec<PathBuf> {
        files
            .iter()
            .filter(|(_, kind)| *kind == FileKind::Python)
            .map(|(path, _)| absolute(path))
            .collect()
    };
    let mut modules = python(files);
    let config_root = absolute(&config.root);
    let covered = paths
        .iter()
        .any(|path| path.is_dir() && absolute(path) == config_root);
    if config.file.is_some() && !covered {
        let (around, _) = collect_files(std::slice::from_ref(&config_root), config);
        modules.extend(python(&around));
        modules.sort();
        modules.dedup();
        roots.push(config_root);
    }
    Project::new(&roots, modules)
}

/// What a parse-only pass over `paths` saw (the floor any analysis has to stand on).
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOnly {
    pub files: usize,
    pub bytes: usize,
    pub lines: usize,
    pub with_errors: usize,
}

/// Walks `paths` exactly like [`scan`] and only parses the files: a benchmark baseline.
pub fn parse_only(paths: &[PathBuf], config: &Config) -> ParseOnly {
    let (files, _) = collect_files(paths, config);
    files
        .iter()
        .par_bridge()
        .map(|(path, kind)| {
            let Ok(bytes) = read_limited(path, config.max_file_size()) else {
                return ParseOnly::default();
            };
            let text = match kind {
                FileKind::Notebook => match crate::lang::notebook::Notebook::parse(&bytes) {
                    Ok(notebook) => notebook.python,
                    Err(_) => return ParseOnly::default(),
                },
                _ => String::from_utf8_lossy(&bytes).into_owned(),
            };
            let tree = crate::lang::parse(kind.language(), &text, None);
            ParseOnly {
                files: 1,
                bytes: text.len(),
                lines: text.lines().count(),
                with_errors: usize::from(tree.is_none_or(|t| t.root_node().has_error())),
            }
        })
        .reduce(ParseOnly::default, |a, b| ParseOnly {
            files: a.files + b.files,
            bytes: a.bytes + b.bytes,
            lines: a.lines + b.lines,
            with_errors: a.with_errors + b.with_errors,
        })
}

//! The workspace: roots, configuration per root, the scan of files that are not open (with
//! `$/progress`), and files changed on disk (`workspace/didChangeWatchedFiles`).

use super::Inner;
use super::diagnostics::{Single, diagnostic, file_diagnostic, is_shown};
use super::documents::{DocKind, Encoding, TextView};
use super::protocol::{
    Diagnostic, DidChangeWatchedFilesRegistrationOptions, FileChangeType, FileEvent,
    FileSystemWatcher, GlobPattern, MessageType, NumberOrString, Registration, Uri, path_to_uri,
    uri_to_path,
};
use crate::model::CodeExceptions;
use rayon::prelude::*;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use threatlens_rules::analyse::FileContext;
use threatlens_rules::artefact::{ArtefactIndex, Flag};
use threatlens_rules::config::CONFIG_FILE;
use threatlens_rules::project::Project;
use threatlens_rules::scan::{
    analyse_file, artefact_flag, collect_files, raise_for_flagged_artefacts, read_limited,
};
use threatlens_rules::source::LineIndex;
use threatlens_rules::{Catalogue, Config, FileKind, Severity, analyse_bytes};
use tower_lsp_server::{Bounded, NotCancellable, OngoingProgress};

pub const WATCH_REGISTRATION_ID: &str = "threatlens-watched-files";
const WATCHED_GLOBS: &[&str] = &[
    "**/*.{py,ipynb,rs}",
    "**/threatlens.toml",
    "**/pyproject.toml",
    "**/*.{yaml,yml}",
];

/// Sets up rayon's global pool, where the workspace scan runs, with threads that yield to the
/// rest of the server: on Linux they run at nice 10, so the analysis of the document being
/// edited (on tokio's blocking pool, at normal priority) takes a core from the scan at once
/// instead of sharing it (`cargo bench -p threatlens-tests --bench lsp_workspace` measures
/// keystrokes during the scan). Call before anything uses rayon (it fails otherwise).
pub fn start_scan_pool() -> Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|index| format!("threatlens-scan-{index}"))
        .start_handler(|_| lower_this_threads_priority())
        .build_global()
        .map_err(|e| format!("cannot start the workspace scan's threads: {e}"))
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux the nice value is a per-thread attribute (see setpriority(2)): only this thread
    // changes.
    // A failure leaves it at normal priority, which is only slower for the editor.
    // SAFETY: a system call with plain integer arguments, about the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

/// Counts a task as running for as long as it is alive.
struct Running<'a>(&'a AtomicU64);

impl<'a> Running<'a> {
    fn count(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The dynamic registration for file watching: code, configuration, models and artefacts.
pub fn watch_registration() -> Registration {
    let artefacts = format!(
        "**/*.{{{}}}",
        threatlens_rules::artefact::EXTENSIONS.join(",")
    );
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: WATCHED_GLOBS
            .iter()
            .map(|glob| (*glob).to_string())
            .chain([artefacts])
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob),
                kind: None,
            })
            .collect(),
    };
    Registration {
        id: WATCH_REGISTRATION_ID.into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    }
}

fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name == CONFIG_FILE || name == "pyproject.toml")
}

/// The analysis of one file on disk, as diagnostics.
pub struct DiskResult {
    pub path: PathBuf,
    pub uri: Option<Uri>,
    pub diagnostics: Vec<Diagnostic>,
    pub errors: Vec<String>,
    /// The file is gone (deleted since it was listed).
    pub missing: bool,
    /// For an artefact: what code loading it should say.
    pub flag: Option<Flag>,
    /// For code: the file names of the artefacts its deserialisation findings name.
    pub loads: Vec<String>,
    /// The snapshot of the server's state the analysis started from.
    pub snapshot: u64,
}

/// What analysing files on disk needs from the server, taken under the state lock once.
pub struct DiskAnalysis<'a> {
    pub catalogue: &'a Catalogue,
    /// The workspace's modules, for the constants a file imports from the others.
    pub project: Arc<Project>,
    /// The threat models' `code:` exceptions.
    pub exceptions: Arc<Vec<CodeExceptions>>,
    /// Artefacts the scan flagged, for code that loads them.
    pub flagged: Arc<ArtefactIndex>,
    pub minimum: Severity,
    pub panic_marker: Option<&'a str>,
    pub delay_marker: Option<&'a str>,
    pub encoding: Encoding,
    /// Numbers this snapshot of the server's state (the project, exceptions and flags): a later
    /// one knows of every change an earlier one knew of, so when two analyses of a file finish
    /// out of order, the result of the later snapshot is kept.
    pub snapshot: u64,
}

impl DiskAnalysis<'_> {
    pub fn run(&self, config: &Config, path: &Path, kind: FileKind) -> DiskResult {
        analyse_disk(self, config, path, kind)
    }
}

/// The analysis of one file on disk (see [`DiskAnalysis::run`]).
fn analyse_disk(setup: &DiskAnalysis, config: &Config, path: &Path, kind: FileKind) -> DiskResult {
    let DiskAnalysis {
        catalogue,
        minimum,
        panic_marker,
        encoding,
        ..
    } = *setup;
    let uri = path_to_uri(path);
    let mut result = DiskResult {
        path: path.to_path_buf(),
        uri: uri.clone(),
        diagnostics: Vec::new(),
        errors: Vec::new(),
        missing: false,
        flag: None,
        loads: Vec::new(),
        snapshot: setup.snapshot,
    };
    if kind == FileKind::Artefact {
        analyse_artefact(setup, config, &mut result);
        return result;
    }
    let bytes = match read_limited(path, config.max_file_size()) {
        Ok(bytes) => bytes,
        Err(error) => {
            result.missing = !path.exists();
            result.errors.push(error);
            return result;
        }
    };
    let analysed = catch_unwind(AssertUnwindSafe(|| {
        if let Some(marker) = panic_marker
            && memchr_find(&bytes, marker.as_bytes())
        {
            panic!("fault injected by {}", super::analysis::PANIC_MARKER_VAR);
        }
        let context = FileContext {
            project: Some(&setup.project),
            path: Some(path),
        };
        let analysis = analyse_bytes(catalogue, kind, &bytes, &context);
        if let Some(marker) = setup.delay_marker
            && memchr_find(&bytes, marker.as_bytes())
        {
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        analysis
    }));
    let mut analysis = match analysed {
        Ok(analysis) => analysis,
        Err(payload) => {
            result.errors.push(format!(
                "internal error: the analysis panicked ({})",
                super::analysis::panic_message(payload.as_ref())
            ));
            return result;
        }
    };
    result.errors.append(&mut analysis.errors);
    result.loads = loaded_artefact_names(&analysis.findings);
    raise_for_flagged_artefacts(&mut analysis.findings, path, &config.root, &setup.flagged);
    config.apply(catalogue, &mut analysis.findings);
    for exceptions in setup.exceptions.iter() {
        exceptions.apply(path, &mut analysis.findings);
    }
    let Some(uri) = uri else {
        return result;
    };
    if kind == FileKind::Notebook {
        result.diagnostics = analysis
            .findings
            .iter()
            .filter(|f| is_shown(f, minimum))
            .map(file_diagnostic)
            .collect();
        return result;
    }
    // The analysis ran on this text (invalid UTF-8 is replaced the same way).
    let text = String::from_utf8_lossy(&bytes);
    let lines = LineIndex::new(&text);
    let views = Single(TextView {
        uri: &uri,
        text: &text,
        lines: &lines,
        encoding,
    });
    result.diagnostics = analysis
        .findings
        .iter()
        .filter(|f| is_shown(f, minimum))
        .filter_map(|f| diagnostic(f, &views).map(|(_, d)| d))
        .collect();
    result
}

/// The file names of the paths that deserialisation findings name: whichever artefact such a
/// path resolves to (see `ArtefactIndex::resolve`) has the same file name.
fn loaded_artefact_names(findings: &[threatlens_rules::Finding]) -> Vec<String> {
    let mut names: Vec<String> = findings
        .iter()
        .filter(|f| f.category == threatlens_rules::Category::UntrustedDeserialisation)
        .filter_map(|f| f.subject_value.as_deref())
        .filter_map(|literal| Path::new(literal).file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// An artefact streams with the artefact size limit, as in `threatlens check` (it is never read
/// whole); its findings are about the whole file.
fn analyse_artefact(setup: &DiskAnalysis, config: &Config, result: &mut DiskResult) {
    let path = result.path.clone();
    let analysed = catch_unwind(AssertUnwindSafe(|| {
        analyse_file(setup.catalogue, config, None, &path, FileKind::Artefact)
    }));
    let mut report = match analysed {
        Ok(report) => report,
        Err(payload) => {
            result.errors.push(format!(
                "internal error: the artefact scan panicked ({})",
                super::analysis::panic_message(payload.as_ref())
            ));
            return;
        }
    };
    result.missing = !path.exists();
    for exceptions in setup.exceptions.iter() {
        exceptions.apply(&path, &mut report.findings);
    }
    result.flag = artefact_flag(&report.findings);
    result.errors = report.errors;
    if result.uri.is_some() {
        result.diagnostics = report
            .findings
            .iter()
            .filter(|f| is_shown(f, setup.minimum))
            .map(file_diagnostic)
            .collect();
    }
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl Inner {
    pub fn disk_analysis(&self) -> DiskAnalysis<'_> {
        let st = self.state();
        DiskAnalysis {
            catalogue: self.catalogue,
            project: Arc::clone(&st.project),
            exceptions: Arc::clone(&st.exceptions),
            flagged: Arc::clone(&st.flagged),
            minimum: st.settings.minimum_severity(),
            panic_marker: self.panic_marker.as_deref(),
            delay_marker: self.delay_marker.as_deref(),
            encoding: st.encoding,
            snapshot: self.disk_snapshots.fetch_add(1, Ordering::SeqCst) + 1,
        }
    }

    /// The `code:` exceptions of the workspace's threat models as saved on disk (`threatlens
    /// check` reads the saved model too). Blocking: reads and checks the models.
    fn saved_code_exceptions(&self) -> Vec<CodeExceptions> {
        let roots = self.state().roots.clone();
        let today = crate::model::today();
        let mut all = Vec::new();
        for root in roots {
            let config = {
                let mut st = self.state();
                self.config_for(&mut st, Some(&root))
            };
            let (path, _) = crate::model::configured_path(&config);
            if path.is_file() && !config.is_excluded(&path) {
                let analysis = threatlens_models::analyse_model_file(&path, today);
                all.push(CodeExceptions::granted(&analysis.model, &path, today));
            }
        }
        all
    }

    /// Re-reads the models' `code:` exceptions after a model file changed on disk; when they
    /// grant something else, the code is checked again.
    pub async fn code_exceptions_changed_on_disk(self: Arc<Self>) {
        let started = Instant::now();
        let before = Arc::clone(&self.state().exceptions);
        if !self.refresh_code_exceptions().await {
            return;
        }
        self.recheck_open_code();
        // Only the files that an exception's glob matches, before or after, can change; a scan
        // under way applies the old exceptions to some files and the new ones to others.
        let (enabled, scanning, reached) = {
            let st = self.state();
            let reached: Vec<PathBuf> = st
                .scanned
                .iter()
                .filter(|path| {
                    before
                        .iter()
                        .chain(st.exceptions.iter())
                        .any(|exceptions| exceptions.reaches(path))
                })
                .cloned()
                .collect();
            (st.settings.scan_workspace(), self.scan_under_way(), reached)
        };
        if !enabled {
            return;
        }
        if scanning {
            tokio::spawn(Arc::clone(&self).scan());
            return;
        }
        self.log(
            MessageType::INFO,
            format!(
                "threat-model exceptions changed: checking again the {} file(s) they match",
                reached.len()
            ),
        );
        self.check_again(reached, started).await;
    }

    /// Re-reads the models' `code:` exceptions; whether they grant something else now.
    async fn refresh_code_exceptions(self: &Arc<Self>) -> bool {
        let this = Arc::clone(self);
        let Ok(saved) = tokio::task::spawn_blocking(move || this.saved_code_exceptions()).await
        else {
            return false;
        };
        let mut st = self.state();
        let same = st.exceptions.len() == saved.len()
            && st
                .exceptions
                .iter()
                .zip(&saved)
                .all(|(a, b)| a.grants_as(b));
        if !same {
            st.exceptions = Arc::new(saved);
        }
        !same
    }

    /// Lists the files of every root (`.gitignore` and config excludes respected).
    fn collect(&self) -> Vec<(PathBuf, FileKind, Arc<Config>)> {
        let roots: Vec<(PathBuf, Arc<Config>)> = {
            let mut st = self.state();
            let roots = st.roots.clone();
            roots
                .into_iter()
                .map(|root| {
                    let config = self.config_for(&mut st, Some(&root));
                    (root, config)
                })
                .collect()
        };
        let mut files = Vec::new();
        for (root, config) in roots {
            let (found, errors) = collect_files(std::slice::from_ref(&root), &config);
            for error in errors {
                self.log(MessageType::WARNING, format!("workspace scan: {error}"));
            }
            files.extend(
                found
                    .into_iter()
                    .map(|(path, kind)| (path, kind, Arc::clone(&config))),
            );
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        files
    }

    /// Whether a workspace scan is still analysing files.
    fn scan_under_way(&self) -> bool {
        self.scans_running.load(Ordering::SeqCst) > 0
    }

    /// Analyses every file of the workspace, reporting `$/progress`.
    pub async fn scan(self: Arc<Self>) {
        let running = Running::count(&self.scans_running);
        let generation = self.scan_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let (enabled, has_roots) = {
            let st = self.state();
            (st.settings.scan_workspace(), !st.roots.is_empty())
        };
        if !has_roots {
            return;
        }
        if !enabled {
            // No scan, but open documents still get the threat models' exceptions.
            if self.refresh_code_exceptions().await {
                self.recheck_open_code();
            }
            return;
        }
        // The workspace's threat model is checked alongside (see `model`).
        self.discover_models();
        let started = Instant::now();
        let this = Arc::clone(&self);
        let listing =
            tokio::task::spawn_blocking(move || (this.collect(), this.saved_code_exceptions()));
        let files = match listing.await {
            Ok((files, exceptions)) => {
                self.state().exceptions = Arc::new(exceptions);
                files
            }
            Err(error) => {
                self.log(
                    MessageType::ERROR,
                    format!("workspace scan failed while listing files: {error}"),
                );
                return;
            }
        };
        let listed: HashSet<PathBuf> = files.iter().map(|(p, _, _)| p.clone()).collect();
        let stale: Vec<(PathBuf, Uri)> = {
            let mut st = self.state();
            let stale = st
                .disk
                .iter()
                .filter(|(path, _)| !listed.contains(*path))
                .map(|(p, u)| (p.clone(), u.clone()))
                .collect();
            st.published.retain(|path, _| listed.contains(path));
            st.scanned = listed;
            // A new index of the workspace's modules, with nothing read from them yet.
            let python = files
                .iter()
                .filter(|(_, kind, _)| *kind == FileKind::Python)
                .map(|(path, _, _)| path.clone());
            st.project = Arc::new(Project::new(&st.roots, python));
            stale
        };
        {
            let _publishing = self.publish.lock().await;
            for (path, uri) in stale {
                self.state().disk.remove(&path);
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
        }

        let total = files.len();
        let progress = self
            .begin_progress(
                format!("threatlens/scan/{generation}"),
                "threatlens: scanning the workspace",
                total,
            )
            .await;

        let chunk = batch_size(total);
        let mut done = 0;
        let mut findings = 0;
        let mut problems = 0;
        let mut superseded = false;
        // Artefacts first, so that code loading a flagged one can say so (as `check` does).
        let (artefacts, code): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|(_, kind, _)| *kind == FileKind::Artefact);
        let mut flagged = ArtefactIndex::default();
        let mut code_started = false;
        let batches = artefacts
            .chunks(chunk)
            .map(|batch| (true, batch))
            .chain(code.chunks(chunk).map(|batch| (false, batch)))
            // An empty last batch, so that the index is set even without code files.
            .chain(std::iter::once((false, &[][..])));
        for (of_artefacts, batch) in batches {
            if self.scan_generation.load(Ordering::SeqCst) != generation {
                superseded = true;
                break;
            }
            if !of_artefacts && !code_started {
                code_started = true;
                self.state().flagged = Arc::new(std::mem::take(&mut flagged));
                // Open documents may import constants the new module index finds (or no longer
                // finds), or load an artefact that is now flagged.
                self.recheck_open_code();
            }
            if batch.is_empty() {
                continue;
            }
            let batch = batch.to_vec();
            let batch_len = batch.len();
            let this = Arc::clone(&self);
            let results = tokio::task::spawn_blocking(move || {
                let analysis = this.disk_analysis();
                batch
                    .par_iter()
                    .with_max_len(1)
                    .map(|(path, kind, config)| analysis.run(config, path, *kind))
                    .collect::<Vec<_>>()
            })
            .await;
            let results = match results {
                Ok(results) => results,
                Err(error) => {
                    self.log(MessageType::ERROR, format!("workspace scan: {error}"));
                    Vec::new()
                }
            };
            done += batch_len;
            for result in &results {
                if let Some(flag) = &result.flag {
                    flagged.insert(&result.path, flag.clone());
                }
            }
            findings += results.iter().map(|r| r.diagnostics.len()).sum::<usize>();
            problems += results.iter().filter(|r| !r.errors.is_empty()).count();
            self.publish_disk(results).await;
            report_progress(progress.as_ref(), done, total).await;
        }
        // Every file is analysed (before the progress ends, so a client that saw the end sees
        // no scan under way).
        drop(running);
        let summary = if superseded {
            format!("superseded by a newer scan after {done}/{total} files")
        } else {
            format!(
                "{total} files, {findings} findings{}",
                if problems > 0 {
                    format!(", {problems} files with problems (see the log)")
                } else {
                    String::new()
                }
            )
        };
        if let Some(progress) = progress {
            progress.finish_with_message(summary.clone()).await;
        }
        self.log(
            MessageType::INFO,
            format!(
                "workspace scan: {summary} in {:.0} ms",
                started.elapsed().as_secs_f64() * 1000.0
            ),
        );
    }

    /// Whether an open document or notebook shows `path` (its diagnostics come from the buffer).
    pub fn is_open(&self, path: &Path) -> bool {
        let st = self.state();
        st.docs
            .values()
            .any(|d| d.notebook.is_none() && d.path.as_deref() == Some(path))
            || st
                .notebooks
                .values()
                .any(|n| n.path.as_deref() == Some(path))
    }

    /// Publishes the results of files on disk, unless they are open (the buffer wins).
    /// A result from an earlier snapshot than the last one published for its file is dropped
    /// (two re-checks of a file can finish out of order).
    pub async fn publish_disk(&self, mut results: Vec<DiskResult>) {
        let _publishing = self.publish.lock().await;
        {
            let mut st = self.state();
            results.retain(|result| {
                let last = st.published.entry(result.path.clone()).or_default();
                let newer = result.snapshot >= *last;
                if newer {
                    *last = result.snapshot;
                }
                newer
            });
            for result in &results {
                if result.loads.is_empty() || result.missing {
                    st.loads.remove(&result.path);
                } else {
                    st.loads.insert(result.path.clone(), result.loads.clone());
                }
            }
        }
        for result in results {
            for error in &result.errors {
                let note = if result.missing {
                    " (deleted while being analysed?)"
                } else {
                    ""
                };
                self.log(
                    MessageType::WARNING,
                    format!("{}: {error}{note}", result.path.display()),
                );
            }
            if self.is_open(&result.path) {
                continue;
            }
            let Some(uri) = result.uri.clone() else {
                let removed = self.state().disk.remove(&result.path);
                if let Some(uri) = removed {
                    self.client.publish_diagnostics(uri, Vec::new(), None).await;
                }
                continue;
            };
            let had = {
                let mut st = self.state();
                if result.diagnostics.is_empty() || result.missing {
                    st.disk.remove(&result.path).is_some()
                } else {
                    st.disk.insert(result.path.clone(), uri.clone());
                    true
                }
            };
            if had || !result.diagnostics.is_empty() {
                self.client
                    .publish_diagnostics(uri, result.diagnostics, None)
                    .await;
            }
        }
    }

    /// Files changed on disk: re-analyse them (unless open), clear deleted ones, and on a config
    /// change reload the configuration and re-check everything.
    pub async fn watched_files_changed(self: Arc<Self>, changes: Vec<FileEvent>) {
        let mut config_changed = false;
        let mut changed = Vec::new();
        let mut deleted = Vec::new();
        let mut models_changed = Vec::new();
        let mut models_deleted = Vec::new();
        for event in changes {
            let Some(path) = uri_to_path(&event.uri) else {
                continue;
            };
            if is_config_file(&path) {
                config_changed = true;
            } else if crate::model::is_yaml_path(&path) {
                if event.typ == FileChangeType::DELETED {
                    models_deleted.push(path);
                } else {
                    models_changed.push(path);
                }
            } else if FileKind::of(&path).is_some() {
                if event.typ == FileChangeType::DELETED {
                    deleted.push(path);
                } else {
                    changed.push(path);
                }
            }
        }
        if config_changed {
            self.log(
                MessageType::INFO,
                "configuration changed on disk: reloading and re-checking",
            );
            self.reconfigure();
            return;
        }
        if !models_changed.is_empty() || !models_deleted.is_empty() {
            self.models_changed_on_disk(&models_changed, &models_deleted)
                .await;
            tokio::spawn(Arc::clone(&self).code_exceptions_changed_on_disk());
        }
        if !deleted.is_empty() {
            let _publishing = self.publish.lock().await;
            for path in &deleted {
                let uri = {
                    let mut st = self.state();
                    st.scanned.remove(path);
                    st.loads.remove(path);
                    st.disk.remove(path)
                };
                if let Some(uri) = uri {
                    self.client.publish_diagnostics(uri, Vec::new(), None).await;
                }
            }
        }
        // Other files read the constants of the modules they import. A changed module that some
        // file read is read again, and the files that read it are checked again; a module added
        // or removed changes which file an import names, and the files that looked for a
        // constant under one of its names are checked again. An artefact whose flag changed is
        // named again by the code that loads it. While a scan is under way, any of these starts
        // another: the scan reads with the project and flags it started with.
        let python = |p: &&PathBuf| FileKind::of(p) == Some(FileKind::Python);
        let artefact = |p: &&PathBuf| FileKind::of(p) == Some(FileKind::Artefact);
        let (enabled, everywhere, read, added) = {
            let st = self.state();
            let read: Vec<PathBuf> = changed
                .iter()
                .filter(python)
                .filter(|p| st.project.consulted(p))
                .cloned()
                .collect();
            let added: Vec<PathBuf> = changed
                .iter()
                .filter(python)
                .filter(|p| !st.scanned.contains(*p))
                .cloned()
                .collect();
            let index_changed = !added.is_empty() || deleted.iter().any(|p| python(&p));
            let artefacts = changed.iter().chain(&deleted).any(|p| artefact(&p));
            let scanning = self.scan_under_way();
            (
                st.settings.scan_workspace(),
                scanning && (index_changed || artefacts || !read.is_empty()),
                read,
                added,
            )
        };
        if !enabled {
            return;
        }
        if everywhere {
            tokio::spawn(Arc::clone(&self).scan());
            return;
        }
        let started = Instant::now();
        let artefacts: Vec<PathBuf> = changed.iter().filter(artefact).cloned().collect();
        let gone: Vec<PathBuf> = deleted.iter().filter(artefact).cloned().collect();
        if !artefacts.is_empty() || !gone.is_empty() {
            changed.retain(|p| !artefact(&p));
            let loaders = self.artefacts_changed(artefacts, &gone).await;
            let loaders: Vec<PathBuf> = loaders
                .into_iter()
                .filter(|p| !changed.contains(p))
                .collect();
            changed.extend(loaders);
        }
        let removed: Vec<PathBuf> = deleted.iter().filter(python).cloned().collect();
        if !added.is_empty() || !removed.is_empty() {
            // List the workspace again: a new file may be ignored (.gitignore, excludes).
            let this = Arc::clone(&self);
            let Ok(files) = tokio::task::spawn_blocking(move || this.collect()).await else {
                self.log(MessageType::ERROR, "cannot list the workspace again");
                return;
            };
            let askers = {
                let mut st = self.state();
                st.scanned = files.iter().map(|(p, _, _)| p.clone()).collect();
                let added: Vec<PathBuf> = added
                    .into_iter()
                    .filter(|p| st.scanned.contains(p))
                    .collect();
                let moved: Vec<PathBuf> = added.iter().chain(&removed).cloned().collect();
                let askers = st.project.askers_of_names_of(&moved);
                let modules = files
                    .iter()
                    .filter(|(_, kind, _)| *kind == FileKind::Python)
                    .map(|(path, _, _)| path.clone());
                // A file removed and added again may not say what it said before.
                st.project = Arc::new(st.project.reindexed(modules).after_changes_to(&added));
                askers
                    .into_iter()
                    .filter(|p| st.scanned.contains(p) && !changed.contains(p))
                    .collect::<Vec<_>>()
            };
            self.log(
                MessageType::INFO,
                format!(
                    "modules added or removed: checking again the {} file(s) that looked for them",
                    askers.len()
                ),
            );
            self.recheck_open_code();
            changed.extend(askers);
        }
        // Only the files that looked up a constant whose value changed (came or went) can find
        // something else: none when a module's constants are those read before (an edit inside
        // a function, or a module too large to be read for its constants).
        if !read.is_empty() {
            let (project, catalogue) = (Arc::clone(&self.state().project), self.catalogue);
            let modules = read.clone();
            let changed_constants =
                tokio::task::spawn_blocking(move || project.constants_changed(catalogue, &modules))
                    .await
                    .unwrap_or_else(|_| read.iter().map(|module| (module.clone(), None)).collect());
            let same: Vec<String> = read
                .iter()
                .filter(|module| {
                    changed_constants
                        .iter()
                        .all(|(changed, _)| changed != *module)
                })
                .map(|module| module.display().to_string())
                .collect();
            if !same.is_empty() {
                self.log(
                    MessageType::INFO,
                    format!(
                        "{} changed: the constants other files read from it are as they were, so none is checked again",
                        same.join(", ")
                    ),
                );
            }
            let any_changed = !changed_constants.is_empty();
            for (module, names) in changed_constants {
                let readers = {
                    let mut st = self.state();
                    let readers: Vec<PathBuf> = st
                        .project
                        .readers_of_names(&module, names.as_ref())
                        // Readers deleted since are gone from the workspace (and its diagnostics).
                        .filter(|reader| !changed.contains(reader) && st.scanned.contains(reader))
                        .collect();
                    st.project =
                        Arc::new(st.project.after_changes_to(std::slice::from_ref(&module)));
                    readers
                };
                self.log(
                    MessageType::INFO,
                    format!(
                        "{} changed: checking again the {} file(s) that read the constants that changed",
                        module.display(),
                        readers.len()
                    ),
                );
                changed.extend(readers);
            }
            if any_changed {
                // Open documents that read one are analysed again with the new constants.
                self.recheck_open_code();
            }
        }
        self.check_again(changed, started).await;
    }

    /// Scans changed artefacts again (and forgets deleted ones) first, so that code loading one
    /// says whether it is flagged; returns the code files that name an artefact whose flag
    /// changed (open documents are analysed again if any did).
    async fn artefacts_changed(
        self: &Arc<Self>,
        changed: Vec<PathBuf>,
        gone: &[PathBuf],
    ) -> Vec<PathBuf> {
        let results = match self.analyse_on_disk(changed).await {
            Ok(results) => results,
            Err(error) => {
                self.log(MessageType::ERROR, format!("artefact scan failed: {error}"));
                return Vec::new();
            }
        };
        let (names, loaders) = {
            let mut st = self.state();
            let mut index = (*st.flagged).clone();
            let mut names: Vec<String> = Vec::new();
            let mut name_of = |path: &Path| {
                if let Some(name) = path.file_name() {
                    names.push(name.to_string_lossy().into_owned());
                }
            };
            for result in &results {
                let before = index.remove(&result.path);
                if let Some(flag) = &result.flag {
                    index.insert(&result.path, flag.clone());
                }
                if before != result.flag {
                    name_of(&result.path);
                }
            }
            for path in gone {
                if index.remove(path).is_some() {
                    name_of(path);
                }
            }
            st.flagged = Arc::new(index);
            let loaders: Vec<PathBuf> = st
                .loads
                .iter()
                .filter(|(_, loaded)| loaded.iter().any(|name| names.contains(name)))
                .map(|(path, _)| path.clone())
                .collect();
            (names, loaders)
        };
        self.publish_disk(results).await;
        if !names.is_empty() {
            self.log(
                MessageType::INFO,
                format!(
                    "artefact flags changed ({}): checking again the {} file(s) that load them",
                    names.join(", "),
                    loaders.len()
                ),
            );
            self.recheck_open_code();
        }
        loaders
    }

    /// Analyses `wanted` files on disk again, those the workspace lists: files created since the
    /// last listing make it list the workspace again, to learn whether they are ignored
    /// (.gitignore, excludes).
    async fn analyse_on_disk(
        self: &Arc<Self>,
        wanted: Vec<PathBuf>,
    ) -> Result<Vec<DiskResult>, tokio::task::JoinError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let unknown = {
                let st = this.state();
                wanted.iter().any(|p| !st.scanned.contains(p))
            };
            let files = if unknown {
                let files = this.collect();
                this.state().scanned = files.iter().map(|(p, _, _)| p.clone()).collect();
                files
            } else {
                let mut st = this.state();
                wanted
                    .iter()
                    .filter_map(|p| {
                        let kind = FileKind::of(p)?;
                        let config = this.config_for(&mut st, Some(p));
                        Some((p.clone(), kind, config))
                    })
                    .collect()
            };
            let analysis = this.disk_analysis();
            let wanted: HashSet<&PathBuf> = wanted.iter().collect();
            files
                .par_iter()
                .with_max_len(1)
                .filter(|(p, _, _)| wanted.contains(p))
                .map(|(path, kind, config)| analysis.run(config, path, *kind))
                .collect::<Vec<_>>()
        })
        .await
    }

    /// Analyses `files` on disk again (those not open) and publishes the results, logging how
    /// long it took since `started`. Many files (a module most of the workspace reads) are
    /// checked in batches under a `$/progress`, published batch by batch.
    async fn check_again(self: &Arc<Self>, files: Vec<PathBuf>, started: Instant) {
        let wanted: Vec<PathBuf> = files.into_iter().filter(|p| !self.is_open(p)).collect();
        if wanted.is_empty() || !self.state().settings.scan_workspace() {
            return;
        }
        let total = wanted.len();
        let progress = if total >= PROGRESS_FROM_FILES {
            let number = self.rechecks.fetch_add(1, Ordering::SeqCst) + 1;
            self.begin_progress(
                format!("threatlens/again/{number}"),
                "threatlens: checking files again",
                total,
            )
            .await
        } else {
            None
        };
        let chunk = if progress.is_some() {
            batch_size(total)
        } else {
            total
        };
        let mut done = 0;
        let mut failed = None;
        for batch in wanted.chunks(chunk) {
            match self.analyse_on_disk(batch.to_vec()).await {
                Ok(results) => {
                    done += results.len();
                    self.publish_disk(results).await;
                }
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            }
            report_progress(progress.as_ref(), done, total).await;
        }
        if let Some(progress) = progress {
            progress.finish_with_message(format!("{done} files")).await;
        }
        match failed {
            None => self.log(
                MessageType::INFO,
                format!(
                    "checked {done} file(s) again in {:.0} ms",
                    started.elapsed().as_secs_f64() * 1000.0
                ),
            ),
            Some(error) => self.log(MessageType::ERROR, format!("re-analysis failed: {error}")),
        }
    }

    /// Starts a `$/progress` over `total` files, if the client shows them.
    async fn begin_progress(
        &self,
        token: String,
        title: &str,
        total: usize,
    ) -> Option<OngoingProgress<Bounded, NotCancellable>> {
        let token = NumberOrString::String(token);
        if !self.state().caps.work_done_progress
            || self
                .client
                .create_work_done_progress(token.clone())
                .await
                .is_err()
        {
            return None;
        }
        Some(
            self.client
                .progress(token, title)
                .with_message(format!("0/{total} files"))
                .with_percentage(0)
                .begin()
                .await,
        )
    }

    /// Re-reads the configuration and re-checks open documents and the workspace.
    pub fn reconfigure(self: &Arc<Self>) {
        self.state().configs.clear();
        self.recheck_open_code();
        self.recheck_models();
        tokio::spawn(Arc::clone(self).scan());
    }

    /// Analyses the open code documents and notebooks again.
    fn recheck_open_code(self: &Arc<Self>) {
        let units: Vec<Uri> = {
            let mut st = self.state();
            let mut units = Vec::new();
            for doc in st.docs.values_mut() {
                doc.analysis = None;
                // Model files are re-checked with their model (`recheck_models`).
                if doc.notebook.is_none() && doc.kind != DocKind::Model {
                    units.push(doc.uri.clone());
                }
            }
            for notebook in st.notebooks.values_mut() {
                notebook.analysis = None;
                units.push(notebook.uri.clone());
            }
            units
        };
        for unit in units {
            self.schedule(unit, true);
        }
    }

    /// Analyses a file that was just closed from disk, if it belongs to the workspace.
    pub async fn closed(self: Arc<Self>, path: PathBuf) {
        let known = self.state().scanned.contains(&path);
        if !known || self.is_open(&path) {
            return;
        }
        let Some(kind) = FileKind::of(&path) else {
            return;
        };
        let this = Arc::clone(&self);
        let result = tokio::task::spawn_blocking(move || {
            let config = {
                let mut st = this.state();
                this.config_for(&mut st, Some(&path))
            };
            this.disk_analysis().run(&config, &path, kind)
        })
        .await;
        if let Ok(result) = result {
            self.publish_disk(vec![result]).await;
        }
    }
}

/// From this many files on, checking files again reports its progress (fewer take a moment).
const PROGRESS_FROM_FILES: usize = 64;

/// How many files are analysed between two reports of progress (and publications).
fn batch_size(total: usize) -> usize {
    (total / 20).clamp(8, 256)
}

async fn report_progress(
    progress: Option<&OngoingProgress<Bounded, NotCancellable>>,
    done: usize,
    total: usize,
) {
    if let Some(progress) = progress {
        let percentage = (done * 100 / total.max(1)) as u32;
        progress
            .report_with_message(format!("{done}/{total} files"), percentage)
            .await;
    }
}

//! `threatlens lsp`: the language server, over stdio.
//!
//! # Design
//!
//! * **Threads.** A tokio runtime with two workers runs the protocol (tower-lsp-server). Nothing
//!   CPU-heavy runs there: parsing and analysis run on tokio's blocking pool (`spawn_blocking`),
//!   the workspace scan fans out on rayon from there, whose threads run at a lower priority
//!   (`workspace::start_scan_pool`). tree-sitter parsers are per thread
//!   (`threatlens_rules::lang::parse`).
//! * **State.** One `std::sync::Mutex<State>` holds open documents, notebooks, settings and
//!   configs. It is never held across an `.await`. Notification handlers that change documents
//!   do so before their first `.await`, so changes apply in the order the client sent them
//!   (tower-lsp-server polls handler futures first in arrival order).
//! * **Sync and re-parse.** Text sync is incremental: each change is applied to the text (UTF-16
//!   positions) and to the last syntax tree (`Tree::edit`), and the next parse reuses that tree.
//!   A client sending whole texts gets the same benefit (the change is diffed to one edit), and
//!   so do notebooks, whose code cells are assembled into one module.
//! * **Re-analysis.** Open Python documents are analysed in an editing session
//!   (`threatlens_rules::lang::python::session`, kept on a thread of its own by `sessions`,
//!   since its state is reference-counted): after an edit inside one function only that function
//!   is walked again, after an edit inside a comment or a docstring nothing is, and the whole
//!   file is whenever that could give a different answer. When the document has not changed
//!   for 400 ms after such an edit, the whole file is analysed once more, and its diagnostics
//!   are published if they differ (a safety net for what the session's tests do not know of).
//! * **Same answers as `threatlens check`.** Code is analysed in its project: the workspace
//!   scan indexes the Python modules (for the constants a file imports from another), scans
//!   model artefacts first (code loading a flagged one says so) and reads the `code:` exceptions
//!   of the workspace's threat models as saved on disk. The project records which file read
//!   which module's constants and looked for which module names: a changed module is read again
//!   and the files that read it are checked again; a module added or removed re-indexes the
//!   modules and checks again the files that looked for one of its names; an artefact whose
//!   flag changed checks again the code whose loads name its file; changed exceptions check
//!   again the files their globs match (before or after). Any of these re-scans the workspace
//!   while a scan is under way.
//!   `tests/tests/lsp_agrees.rs` holds the server to the CLI's findings.
//! * **Debounce and versions.** Every change takes a ticket (a global counter) and records it as
//!   the latest for its document; a task sleeps for the debounce (30 ms by default, setting
//!   `debounceMs`), then runs only if its ticket is still the latest. Results are published under
//!   a publish lock after checking the ticket again, so a stale analysis never overwrites a newer
//!   one; diagnostics carry the document version too. Files on disk are ordered the same way:
//!   every batch of analyses starts from a numbered snapshot of the server's state, and a file's
//!   result from an earlier snapshot than the one last published is dropped.
//! * **Requests.** Code actions and hovers use the findings of the document's current version,
//!   analysing it on the spot when the debounced analysis has not run yet. tower-lsp-server
//!   answers `$/cancelRequest` for requests still running.
//! * **Positions.** UTF-8 when the client offers it in `general.positionEncodings`, else UTF-16
//!   (the LSP default). Byte offsets are what the analysis uses; `documents::Encoding` converts.
//! * **Threat-model files.** `threatmodel.yaml`, the files it includes and any YAML file whose
//!   `schema:` is `threatlens/v1` are analysed as one model per root file (`model`): the unit is
//!   the root's URI, a revision counter plays the part of the version, and one analysis gives the
//!   diagnostics of every file. Completion, definition, references, outline and rename exist for
//!   model files only; hovers and code actions for both. `workspace/executeCommand`
//!   `threatlens.diagram` renders a model's diagram (`model::diagram`).
//! * **Faults.** Analysis runs inside `catch_unwind`; a panic becomes a logged error
//!   (`window/logMessage`) and the server carries on. Malformed messages are answered by the
//!   stdio proxy (`stdio`: tower-lsp-server 0.23 would stop reading after one), unknown methods and
//!   requests before `initialize` by tower-lsp-server. Changes to documents that are not open,
//!   and edits outside a document (clamped), are logged.
//! * **Tests.** `tests/tests/lsp.rs` drives the real binary over stdio; the analysis panic path is
//!   reached through `THREATLENS_LSP_TEST_PANIC_MARKER` (see `analysis`).

mod actions;
mod analysis;
mod diagnostics;
mod documents;
mod hover;
mod model;
mod protocol;
mod sessions;
mod settings;
mod stdio;
mod workspace;

use crate::model::CodeExceptions;
use analysis::{Input, Job, Outcome, Place};
use diagnostics::{Single, Views, diagnostic, file_diagnostic, is_shown};
use documents::{Analysed, CellRef, DocKind, Encoding, NotebookDoc, TextDocument, TextView};
use model::actions as model_actions;
use model::units::model_diagnostics;
use protocol::*;
use settings::ClientSettings;
use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use threatlens_rules::artefact::ArtefactIndex;
use threatlens_rules::lang::python::session::Reuse;
use threatlens_rules::project::Project;
use threatlens_rules::{Catalogue, Config, Finding, Language, Span};

/// How long a document stays unchanged before an editing session's findings are checked by
/// a whole analysis (see `Inner::settle_later`).
const SETTLE_AFTER: Duration = Duration::from_millis(400);

/// Runs the server on stdin/stdout until `exit` (or the end of stdin).
pub fn run() -> Result<ExitCode, String> {
    if let Err(error) = workspace::start_scan_pool() {
        // The scan still runs, at the server's own priority.
        eprintln!("threatlens lsp: {error}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let shut_down = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&shut_down);
    runtime.block_on(async move {
        let (service, socket) = LspService::new(move |client| Backend::new(client, flag));
        // See `stdio`: the server reads and writes in-memory pipes behind a framing proxy.
        let (server_in, proxy_in) = tokio::io::duplex(1 << 16);
        let (server_out, proxy_out) = tokio::io::duplex(1 << 16);
        let (queue, queued) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(stdio::forward_input(
            tokio::io::stdin(),
            proxy_in,
            queue.clone(),
        ));
        tokio::spawn(stdio::forward_server_output(proxy_out, queue));
        let writer = tokio::spawn(stdio::write_output(queued, tokio::io::stdout()));
        Server::new(server_in, server_out, socket)
            .serve(service)
            .await;
        // Everything the server wrote reaches stdout before the process ends.
        let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    });
    // The stdin reader is a blocking thread that never returns by itself: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
    // LSP: exit code 0 after `shutdown`, 1 if `exit` came without it.
    Ok(if shut_down.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What the client can do, from `initialize`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Caps {
    pub work_done_progress: bool,
    pub watch_dynamic: bool,
    pub document_changes: bool,
    /// `workspace/configuration` (pulling settings).
    pub configuration: bool,
}

#[derive(Default)]
pub struct State {
    docs: HashMap<Uri, TextDocument>,
    notebooks: HashMap<Uri, NotebookDoc>,
    /// The latest ticket of each analysis unit (document or notebook).
    pending: HashMap<Uri, u64>,
    settings: ClientSettings,
    roots: Vec<PathBuf>,
    /// Effective configuration (file merged with client settings), by root or directory.
    configs: HashMap<PathBuf, Arc<Config>>,
    /// Files not open whose diagnostics were published, and the URI they went to.
    disk: HashMap<PathBuf, Uri>,
    /// The files of the last workspace listing.
    scanned: HashSet<PathBuf>,
    caps: Caps,
    encoding: Encoding,
    /// Warnings from `initialize`, logged once the client can receive them.
    early_warnings: Vec<String>,
    /// Threat models, by the URI of their root file (see `model`).
    models: HashMap<Uri, model::ModelUnit>,
    /// The workspace's Python modules (from the last scan), for the constants a file imports.
    project: Arc<Project>,
    /// The `code:` exceptions of the workspace's threat models, as saved on disk.
    exceptions: Arc<Vec<CodeExceptions>>,
    /// Artefacts the last scan flagged, for code that loads them.
    flagged: Arc<ArtefactIndex>,
    /// Code files on disk → the file names of the artefacts their deserialisation findings name
    /// (what a change to an artefact's flag affects).
    loads: HashMap<PathBuf, Vec<String>>,
    /// Files on disk → the snapshot their published results came from (see
    /// [`workspace::DiskAnalysis::snapshot`]).
    published: HashMap<PathBuf, u64>,
}

pub struct Inner {
    client: Client,
    state: Mutex<State>,
    /// Held while deciding on and sending diagnostics, so they go out in analysis order.
    publish: tokio::sync::Mutex<()>,
    tickets: AtomicU64,
    scan_generation: AtomicU64,
    /// Workspace scans under way (a superseded one may still be finishing a batch).
    scans_running: AtomicU64,
    /// Numbers the progress tokens of re-checks.
    rechecks: AtomicU64,
    /// Numbers the snapshots analyses of files on disk start from.
    disk_snapshots: AtomicU64,
    catalogue: &'static Catalogue,
    /// Where open Python documents are analysed (none if its thread could not start).
    sessions: Option<Arc<sessions::Sessions>>,
    panic_marker: Option<String>,
    delay_marker: Option<String>,
    shut_down: Arc<AtomicBool>,
}

pub struct Backend(Arc<Inner>);

enum Prepared {
    Run(Job),
    /// The findings of the current version are known.
    Ready,
    /// Not analysed (too large, excluded, not a language we check): show nothing.
    Skip(Option<String>),
}

/// The cells of a notebook as views for diagnostics.
struct NotebookViews<'a> {
    docs: &'a HashMap<Uri, TextDocument>,
    cells: &'a [CellRef],
}

impl Views for NotebookViews<'_> {
    fn view(&self, span: &Span) -> Option<TextView<'_>> {
        let cell = self.cells.get(span.cell?)?;
        self.docs.get(&cell.uri).map(TextDocument::view)
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough state: documents are updated
        // whole. Carry on rather than take the server down.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Logs to the client (`window/logMessage`), from sync or async code.
    fn log(&self, typ: MessageType, message: impl Into<String>) {
        let client = self.client.clone();
        let message = message.into();
        tokio::spawn(async move { client.log_message(typ, message).await });
    }

    /// Runs `f`, turning a panic into a logged error.
    fn guard<T>(&self, what: &str, f: impl FnOnce() -> T) -> Option<T> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => Some(value),
            Err(payload) => {
                self.log(
                    MessageType::ERROR,
                    format!(
                        "internal error in {what}: {}; the server carries on",
                        analysis::panic_message(payload.as_ref())
                    ),
                );
                None
            }
        }
    }

    /// The effective configuration for a file (or root directory).
    fn config_for(&self, st: &mut State, path: Option<&Path>) -> Arc<Config> {
        let key = match path {
            Some(path) => st
                .roots
                .iter()
                .filter(|root| path.starts_with(root))
                .max_by_key(|root| root.as_os_str().len())
                .cloned()
                .or_else(|| path.parent().map(Path::to_path_buf)),
            None => None,
        };
        let key = key.unwrap_or_default();
        if let Some(config) = st.configs.get(&key) {
            return Arc::clone(config);
        }
        let base = if key.as_os_str().is_empty() {
            Config::default()
        } else {
            Config::discover(&key).unwrap_or_else(|error| {
                self.log(
                    MessageType::WARNING,
                    format!("{error}; using the default configuration"),
                );
                Config::from_settings(Default::default(), None, key.clone()).unwrap_or_default()
            })
        };
        let config = st.settings.merge(&base).unwrap_or_else(|error| {
            self.log(MessageType::WARNING, format!("editor settings: {error}"));
            base
        });
        if let Err(error) = config.validate_with(self.catalogue, threatlens_models::rule_docs) {
            self.log(MessageType::WARNING, format!("configuration: {error}"));
        }
        let config = Arc::new(config);
        st.configs.insert(key, Arc::clone(&config));
        config
    }

    /// The analysis unit of a document: itself, the notebook of a cell, or the model a model
    /// file belongs to.
    fn unit_of(&self, st: &State, uri: &Uri) -> Option<Uri> {
        if let Some(doc) = st.docs.get(uri) {
            if doc.kind == DocKind::Model {
                return self.model_of(st, uri);
            }
            return Some(doc.notebook.clone().unwrap_or_else(|| uri.clone()));
        }
        (st.notebooks.contains_key(uri) || st.models.contains_key(uri)).then(|| uri.clone())
    }

    /// The model unit an open model file belongs to: the one it is the root of, else one that
    /// includes it.
    fn model_of(&self, st: &State, uri: &Uri) -> Option<Uri> {
        if st.models.contains_key(uri) {
            return Some(uri.clone());
        }
        let canonical = st.docs.get(uri)?.canonical.as_ref()?;
        st.models
            .values()
            .find(|m| m.contains(canonical))
            .map(|m| m.root.clone())
    }

    /// Records a change to an open model file: bumps its model's revision, creating a unit
    /// for it when no model knows it. Returns the unit.
    fn touch_model(&self, st: &mut State, uri: &Uri) -> Option<Uri> {
        let unit = match self.model_of(st, uri) {
            Some(unit) => unit,
            None => {
                let doc = st.docs.get(uri)?;
                let unit = model::ModelUnit::new(uri.clone(), doc.path.clone(), false);
                st.models.insert(uri.clone(), unit);
                uri.clone()
            }
        };
        if let Some(unit) = st.models.get_mut(&unit) {
            unit.revision += 1;
        }
        Some(unit)
    }

    /// Makes a YAML document a model file when it is one (by name or `schema:`) or a known model
    /// includes it. Returns whether it is a model file.
    fn adopt_model_doc(&self, st: &mut State, uri: &Uri) -> bool {
        let Some(doc) = st.docs.get(uri) else {
            return false;
        };
        if doc.kind == DocKind::Model {
            return true;
        }
        if doc.kind != DocKind::Other
            || doc.notebook.is_some()
            || !documents::is_yaml_document(&doc.language_id, doc.path.as_deref())
        {
            return false;
        }
        let included = doc.path.as_deref().is_some_and(|path| {
            let canonical = documents::canonical(path);
            st.models.values().any(|m| m.contains(&canonical))
        });
        let is_model = included
            || documents::is_model_document(&doc.language_id, doc.path.as_deref(), &doc.text);
        if is_model && let Some(doc) = st.docs.get_mut(uri) {
            doc.make_model();
        }
        is_model
    }

    /// What analysing a unit's current version takes. `again`: a Python document's current
    /// version, once more, as a whole (see [`Self::settle_later`]).
    fn prepare(&self, st: &mut State, unit: &Uri, again: bool) -> Option<Prepared> {
        if let Some(model) = st.models.get(unit) {
            if model.is_current() {
                return Some(Prepared::Ready);
            }
            let (root, path, revision) = (model.root.clone(), model.path.clone(), model.revision);
            let mut open = HashMap::new();
            let mut root_text = None;
            for doc in st.docs.values().filter(|d| d.kind == DocKind::Model) {
                match &doc.canonical {
                    Some(canonical) => {
                        open.insert(
                            canonical.clone(),
                            (doc.uri.clone(), doc.version, doc.text.clone()),
                        );
                    }
                    None if doc.uri == root => root_text = Some(doc.text.clone()),
                    None => {}
                }
            }
            let config = self.config_for(st, path.as_deref());
            return Some(Prepared::Run(Job {
                version: revision,
                input: Input::Model(Box::new(model::ModelInput {
                    root,
                    path,
                    root_text,
                    open,
                    today: model::today(),
                    revision,
                })),
                config,
                place: Place::default(),
                catalogue: self.catalogue,
                panic_marker: self.panic_marker.clone(),
                session: None,
                whole: false,
            }));
        }
        if let Some(notebook) = st.notebooks.get(unit) {
            if notebook
                .analysis
                .as_ref()
                .is_some_and(|a| a.version == notebook.version)
            {
                return Some(Prepared::Ready);
            }
            let path = notebook.path.clone();
            let cells: Vec<(usize, String)> = notebook
                .cells
                .iter()
                .enumerate()
                .filter(|(_, cell)| cell.kind == NotebookCellKind::CODE)
                .filter_map(|(index, cell)| {
                    let doc = st.docs.get(&cell.uri)?;
                    (doc.kind == DocKind::Source(Language::Python))
                        .then(|| (index, doc.text.clone()))
                })
                .collect();
            let previous = notebook
                .tree
                .clone()
                .map(|tree| (notebook.python.clone(), tree));
            let version = notebook.version;
            let config = self.config_for(st, path.as_deref());
            if let Some(path) = &path
                && config.is_excluded(path)
            {
                return Some(self.skip(st, unit, None));
            }
            return Some(Prepared::Run(Job {
                version,
                input: Input::Notebook { cells, previous },
                config,
                place: Place {
                    project: Some(Arc::clone(&st.project)),
                    exceptions: Arc::clone(&st.exceptions),
                    flagged: Arc::clone(&st.flagged),
                    path,
                },
                catalogue: self.catalogue,
                panic_marker: self.panic_marker.clone(),
                session: None,
                whole: false,
            }));
        }
        let doc = st.docs.get(unit)?;
        if doc.kind == DocKind::Model {
            // Analysed with its model, whose unit is keyed by the root file.
            return None;
        }
        if doc
            .analysis
            .as_ref()
            .is_some_and(|a| a.version == doc.version)
            && !again
        {
            return Some(Prepared::Ready);
        }
        if doc.kind == DocKind::Other || doc.notebook.is_some() {
            return Some(self.skip(st, unit, None));
        }
        let (path, len) = (doc.path.clone(), doc.text.len());
        let config = self.config_for(st, path.as_deref());
        if let Some(path) = &path
            && config.is_excluded(path)
        {
            return Some(self.skip(st, unit, None));
        }
        if len as u64 > config.max_file_size() {
            let reason = format!(
                "{}: {:.1} MB is over the {:.1} MB limit (max-file-size in threatlens.toml): not analysed",
                unit.as_str(),
                len as f64 / 1_048_576.0,
                config.max_file_size() as f64 / 1_048_576.0
            );
            return Some(self.skip(st, unit, Some(reason)));
        }
        let (project, exceptions, flagged) = (
            Arc::clone(&st.project),
            Arc::clone(&st.exceptions),
            Arc::clone(&st.flagged),
        );
        let doc = st.docs.get_mut(unit)?;
        let (tree, parsed) = match doc.tree_of_this_text() {
            Some(tree) => (Some(tree), true),
            None => (doc.tree.clone(), false),
        };
        Some(Prepared::Run(Job {
            version: doc.version,
            input: Input::Text {
                kind: doc.kind,
                text: doc.text.clone(),
                tree,
                parsed,
            },
            config,
            place: Place {
                project: Some(project),
                exceptions,
                flagged,
                path,
            },
            catalogue: self.catalogue,
            panic_marker: self.panic_marker.clone(),
            session: self
                .sessions
                .clone()
                .map(|sessions| (sessions, unit.as_str().to_owned())),
            whole: again,
        }))
    }

    /// Records that the current version of a unit is not analysed (no findings, no tree).
    fn skip(&self, st: &mut State, unit: &Uri, reason: Option<String>) -> Prepared {
        let empty = |version| Analysed {
            version,
            findings: Arc::new(Vec::new()),
        };
        if let Some(notebook) = st.notebooks.get_mut(unit) {
            notebook.analysis = Some(empty(notebook.version));
        } else if let Some(doc) = st.docs.get_mut(unit) {
            doc.analysis = Some(empty(doc.version));
            doc.forget_parses();
        }
        Prepared::Skip(reason)
    }

    /// Keeps an outcome if the unit is still at `version`. Returns whether it was kept.
    fn store(&self, st: &mut State, unit: &Uri, version: i32, outcome: &mut Outcome) -> bool {
        if st.models.contains_key(unit) {
            return self.store_model(st, unit, version, outcome);
        }
        let findings = Arc::new(std::mem::take(&mut outcome.findings));
        if let Some(notebook) = st.notebooks.get_mut(unit) {
            if notebook.version != version {
                return false;
            }
            if let (Some(tree), Some(python)) = (outcome.tree.take(), outcome.python.take()) {
                notebook.tree = Some(tree);
                notebook.python = python;
            }
            notebook.analysis = Some(Analysed { version, findings });
            return true;
        }
        match st.docs.get_mut(unit) {
            Some(doc) if doc.version == version => {
                if let Some(tree) = outcome.tree.take() {
                    doc.parsed(tree);
                }
                doc.analysis = Some(Analysed { version, findings });
                true
            }
            _ => false,
        }
    }

    /// The diagnostics to publish for a unit: `(uri, diagnostics, version)` per document.
    fn diagnostics_of(
        &self,
        st: &mut State,
        unit: &Uri,
    ) -> Vec<(Uri, Vec<Diagnostic>, Option<i32>)> {
        let minimum = st.settings.minimum_severity();
        let st = &mut *st;
        if let Some(model) = st.models.get_mut(unit) {
            return model_diagnostics(model, minimum, st.encoding);
        }
        if let Some(notebook) = st.notebooks.get_mut(unit) {
            let views = NotebookViews {
                docs: &st.docs,
                cells: &notebook.cells,
            };
            let mut per_cell: Vec<(Uri, Vec<Diagnostic>, Option<i32>)> = notebook
                .cells
                .iter()
                .filter_map(|cell| {
                    let doc = st.docs.get(&cell.uri)?;
                    Some((cell.uri.clone(), Vec::new(), Some(doc.version)))
                })
                .collect();
            if let Some(analysis) = &notebook.analysis {
                for finding in analysis.findings.iter().filter(|f| is_shown(f, minimum)) {
                    if let Some((uri, diag)) = diagnostic(finding, &views)
                        && let Some(entry) = per_cell.iter_mut().find(|(u, _, _)| *u == uri)
                    {
                        entry.1.push(diag);
                    }
                }
            }
            let now: Vec<Uri> = per_cell.iter().map(|(u, _, _)| u.clone()).collect();
            for gone in notebook.published.iter().filter(|u| !now.contains(u)) {
                per_cell.push((gone.clone(), Vec::new(), None));
            }
            notebook.published = now;
            return per_cell;
        }
        let Some(doc) = st.docs.get(unit) else {
            return Vec::new();
        };
        let findings: &[Finding] = doc.analysis.as_ref().map_or(&[], |a| &a.findings);
        let shown = findings.iter().filter(|f| is_shown(f, minimum));
        let diagnostics = if doc.kind == DocKind::NotebookJson {
            shown.map(file_diagnostic).collect()
        } else {
            let views = Single(doc.view());
            shown
                .filter_map(|f| diagnostic(f, &views).map(|(_, d)| d))
                .collect()
        };
        vec![(doc.uri.clone(), diagnostics, Some(doc.version))]
    }

    /// Schedules a (debounced) analysis of a unit.
    fn schedule(self: &Arc<Self>, unit: Uri, immediately: bool) {
        let ticket = self.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let debounce = {
            let mut st = self.state();
            st.pending.insert(unit.clone(), ticket);
            st.settings.debounce()
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            if !immediately && !debounce.is_zero() {
                tokio::time::sleep(debounce).await;
            }
            this.analyse_and_publish(unit, ticket, false).await;
        });
    }

    /// After an editing session re-analysed less than the whole file, analyses the whole file
    /// once more when the document has not changed for [`SETTLE_AFTER`], and publishes its
    /// findings if they differ. A session is exact for everything its tests know of; this
    /// bounds how long a case they do not (an old value kept alive through a parameter) can
    /// show stale diagnostics, and starts the next edits from a fresh analysis.
    fn settle_later(self: &Arc<Self>, unit: Uri, ticket: u64) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(SETTLE_AFTER).await;
            this.analyse_and_publish(unit, ticket, true).await;
        });
    }

    fn is_latest(&self, st: &State, unit: &Uri, ticket: u64) -> bool {
        st.pending.get(unit) == Some(&ticket)
    }

    /// Analyses a unit and publishes its diagnostics, unless a newer change took another ticket;
    /// `again`: see [`Self::settle_later`].
    async fn analyse_and_publish(self: Arc<Self>, unit: Uri, ticket: u64, again: bool) {
        let prepared = {
            let mut st = self.state();
            if !self.is_latest(&st, &unit, ticket) {
                return;
            }
            self.guard("analysis setup", || self.prepare(&mut st, &unit, again))
                .flatten()
        };
        let (version, mut outcome) = match prepared {
            None => return,
            Some(Prepared::Ready) => (None, Outcome::default()),
            Some(Prepared::Skip(reason)) => {
                if let Some(reason) = reason {
                    self.log(MessageType::INFO, reason);
                }
                (None, Outcome::default())
            }
            Some(Prepared::Run(job)) => {
                let version = job.version;
                match tokio::task::spawn_blocking(move || analysis::run(job)).await {
                    Ok(outcome) => (Some(version), outcome),
                    Err(error) => {
                        self.log(MessageType::ERROR, format!("analysis failed: {error}"));
                        return;
                    }
                }
            }
        };
        for error in &outcome.errors {
            self.log(MessageType::ERROR, format!("{}: {error}", unit.as_str()));
        }
        let _publishing = self.publish.lock().await;
        let (batch, timings) = {
            let mut st = self.state();
            if !self.is_latest(&st, &unit, ticket) {
                return;
            }
            if again {
                let published = st.docs.get(&unit).and_then(|d| d.analysis.as_ref());
                if published.is_none_or(|a| *a.findings == outcome.findings) {
                    return;
                }
            }
            if let Some(version) = version
                && !self.store(&mut st, &unit, version, &mut outcome)
            {
                return;
            }
            let batch = self
                .guard("diagnostics", || self.diagnostics_of(&mut st, &unit))
                .unwrap_or_default();
            let timings = (st.settings.log_timings() && version.is_some()).then(|| {
                let reused = match (outcome.reuse, outcome.fallback) {
                    _ if again => {
                        " (the whole file once more after the edits: the diagnostics changed)"
                            .into()
                    }
                    (Some(Reuse::AllButOneFunction), _) => " (one function re-analysed)".into(),
                    (Some(Reuse::FunctionAndItsReaders), _) => {
                        " (one function and those reading what it changed re-analysed)".into()
                    }
                    (Some(Reuse::Import), _) => {
                        " (an import edited: the functions naming what it binds re-analysed)".into()
                    }
                    (Some(Reuse::Renamed), _) => {
                        " (a name renamed: the functions naming it re-analysed)".into()
                    }
                    (Some(Reuse::Everything), _) => " (text unchanged)".into(),
                    (Some(Reuse::EarlierText), _) => " (back to an earlier text)".into(),
                    (Some(Reuse::Comment), _) => " (a comment edited)".into(),
                    (Some(Reuse::Docstring), _) => " (a docstring edited)".into(),
                    (Some(Reuse::BlankLines), _) => " (blank lines edited)".into(),
                    (Some(Reuse::BareNames), _) => " (the start of a statement typed)".into(),
                    (Some(Reuse::Constant), _) => {
                        " (a module constant edited: it and the functions naming it re-analysed)"
                            .into()
                    }
                    (Some(Reuse::Nothing), Some(why)) => {
                        format!(" (the whole file: {})", why.describe())
                    }
                    (Some(Reuse::Nothing) | None, _) => String::new(),
                };
                let reparse = match outcome.reparse {
                    Some(took) => format!("reparse {:.3} ms", took.as_secs_f64() * 1000.0),
                    None => "no reparse (the tree of an earlier parse of this text)".into(),
                };
                format!(
                    "analysed {} v{}: {reparse}, analysis {:.3} ms{reused}, {} diagnostics",
                    unit.as_str(),
                    version.unwrap_or_default(),
                    outcome.analysis.as_secs_f64() * 1000.0,
                    batch.iter().map(|(_, d, _)| d.len()).sum::<usize>()
                )
            });
            (batch, timings)
        };
        for (uri, diagnostics, version) in batch {
            self.client
                .publish_diagnostics(uri, diagnostics, version)
                .await;
        }
        if let Some(timings) = timings {
            self.client.log_message(MessageType::LOG, timings).await;
        }
        let partial = matches!(
            outcome.reuse,
            Some(
                Reuse::AllButOneFunction
                    | Reuse::FunctionAndItsReaders
                    | Reuse::Import
                    | Reuse::Renamed
                    | Reuse::Comment
                    | Reuse::Docstring
                    | Reuse::BlankLines
                    | Reuse::BareNames
                    | Reuse::Constant
                    | Reuse::EarlierText
            )
        );
        if partial && !again {
            self.settle_later(unit, ticket);
        }
    }

    /// The findings of a unit's current version, analysing it now if need be.
    async fn current_findings(self: &Arc<Self>, unit: &Uri) -> Option<(i32, Arc<Vec<Finding>>)> {
        let prepared = {
            let mut st = self.state();
            self.guard("analysis setup", || self.prepare(&mut st, unit, false))
                .flatten()?
        };
        match prepared {
            Prepared::Ready => {
                let st = self.state();
                let analysis = match st.notebooks.get(unit) {
                    Some(notebook) => notebook.analysis.clone(),
                    None => st.docs.get(unit).and_then(|d| d.analysis.clone()),
                }?;
                Some((analysis.version, analysis.findings))
            }
            Prepared::Skip(_) => {
                let st = self.state();
                let version = match st.notebooks.get(unit) {
                    Some(notebook) => notebook.version,
                    None => st.docs.get(unit)?.version,
                };
                Some((version, Arc::new(Vec::new())))
            }
            Prepared::Run(job) => {
                let version = job.version;
                let mut outcome = tokio::task::spawn_blocking(move || analysis::run(job))
                    .await
                    .ok()?;
                let mut st = self.state();
                let findings = outcome.findings.clone();
                self.store(&mut st, unit, version, &mut outcome);
                Some((version, Arc::new(findings)))
            }
        }
    }

    /// Replaces the client settings; re-checks everything if they changed.
    fn apply_settings(self: &Arc<Self>, value: Option<&serde_json::Value>, origin: &str) {
        match ClientSettings::from_value(value) {
            Ok(settings) => {
                let changed = {
                    let mut st = self.state();
                    let changed = st.settings != settings;
                    st.settings = settings;
                    changed
                };
                if changed {
                    self.reconfigure();
                }
            }
            Err(error) => self.log(
                MessageType::WARNING,
                format!("{origin}: {error}; settings unchanged"),
            ),
        }
    }

    /// Asks the client for the `threatlens` settings section (`workspace/configuration`).
    async fn pull_settings(self: Arc<Self>) {
        let items = vec![ConfigurationItem {
            scope_uri: None,
            section: Some("threatlens".into()),
        }];
        match self.client.configuration(items).await {
            Ok(values) => self.apply_settings(values.first(), "workspace/configuration"),
            Err(error) => self.log(
                MessageType::WARNING,
                format!("workspace/configuration failed: {}", error.message),
            ),
        }
    }

    /// Clears the diagnostics of a file that was published from disk under another URI.
    async fn forget_disk(&self, path: Option<PathBuf>, uri: &Uri) {
        let Some(path) = path else {
            return;
        };
        let _publishing = self.publish.lock().await;
        let (previous, notebook) = {
            let mut st = self.state();
            (st.disk.remove(&path), st.notebooks.contains_key(uri))
        };
        // A text document re-publishes to its own URI; a notebook publishes to its cells, never
        // to the notebook's URI, so the file's diagnostics would linger beside the cells'.
        if let Some(previous) = previous
            && (notebook || previous != *uri)
        {
            self.client
                .publish_diagnostics(previous, Vec::new(), None)
                .await;
        }
    }
}

impl Backend {
    fn new(client: Client, shut_down: Arc<AtomicBool>) -> Self {
        Self(Arc::new(Inner {
            client,
            state: Mutex::new(State::default()),
            publish: tokio::sync::Mutex::new(()),
            tickets: AtomicU64::new(0),
            scan_generation: AtomicU64::new(0),
            scans_running: AtomicU64::new(0),
            rechecks: AtomicU64::new(0),
            disk_snapshots: AtomicU64::new(0),
            catalogue: Catalogue::builtin(),
            sessions: sessions::Sessions::start(Catalogue::builtin())
                .ok()
                .map(Arc::new),
            panic_marker: analysis::panic_marker(),
            delay_marker: analysis::delay_marker(),
            shut_down,
        }))
    }

    /// Views over the documents of `unit` for building diagnostics, actions and hovers.
    fn with_views<T>(
        &self,
        unit: &Uri,
        version: i32,
        f: impl FnOnce(&dyn Views, &dyn Fn(&Uri) -> Option<i32>, Language, &State) -> T,
    ) -> Option<T> {
        let st = self.0.state();
        let versions = |uri: &Uri| st.docs.get(uri).map(|d| d.version);
        if let Some(notebook) = st.notebooks.get(unit) {
            if notebook.version != version {
                return None;
            }
            let views = NotebookViews {
                docs: &st.docs,
                cells: &notebook.cells,
            };
            return self
                .0
                .guard("request", || f(&views, &versions, Language::Python, &st));
        }
        let doc = st.docs.get(unit)?;
        if doc.version != version {
            return None;
        }
        let DocKind::Source(language) = doc.kind else {
            return None;
        };
        let views = Single(doc.view());
        self.0
            .guard("request", || f(&views, &versions, language, &st))
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> jsonrpc::Result<InitializeResult> {
        let mut st = self.0.state();
        match ClientSettings::from_value(params.initialization_options.as_ref()) {
            Ok(settings) => st.settings = settings,
            Err(error) => st.early_warnings.push(format!(
                "initializationOptions: {error}; using the defaults"
            )),
        }
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|folder| uri_to_path(&folder.uri))
            .collect();
        #[allow(deprecated)]
        if roots.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(uri_to_path)
        {
            roots.push(root);
        }
        st.roots = roots;
        let caps = &params.capabilities;
        st.caps = Caps {
            work_done_progress: caps
                .window
                .as_ref()
                .and_then(|w| w.work_done_progress)
                .unwrap_or(false),
            watch_dynamic: caps
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|w| w.dynamic_registration)
                .unwrap_or(false),
            document_changes: caps
                .workspace
                .as_ref()
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|w| w.document_changes)
                .unwrap_or(false),
            configuration: caps
                .workspace
                .as_ref()
                .and_then(|w| w.configuration)
                .unwrap_or(false),
        };
        // UTF-8 when the client offers it (columns are byte counts, no conversion), else UTF-16
        // (the default every client supports), else UTF-32.
        let offered = caps
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref());
        let offers = |kind: &PositionEncodingKind| offered.is_some_and(|o| o.contains(kind));
        let (encoding, kind) = if offers(&PositionEncodingKind::UTF8) {
            (Encoding::Utf8, PositionEncodingKind::UTF8)
        } else if offered.is_some_and(|o| !o.is_empty())
            && !offers(&PositionEncodingKind::UTF16)
            && offers(&PositionEncodingKind::UTF32)
        {
            (Encoding::Utf32, PositionEncodingKind::UTF32)
        } else {
            (Encoding::Utf16, PositionEncodingKind::UTF16)
        };
        st.encoding = encoding;
        drop(st);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(kind),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                notebook_document_sync: Some(OneOf::Left(NotebookDocumentSyncOptions {
                    notebook_selector: vec![NotebookSelector::ByCells {
                        notebook: Some(Notebook::String("jupyter-notebook".into())),
                        cells: vec![NotebookCellSelector {
                            language: "python".into(),
                        }],
                    }],
                    save: Some(true),
                })),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                // Model files (see `model`).
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![" ".into(), "[".into(), ",".into()]),
                    ..CompletionOptions::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![model::diagram::COMMAND.to_owned()],
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::new(actions::FIX_ALL),
                        ]),
                        resolve_provider: Some(false),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "threatlens".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let (warnings, caps) = {
            let mut st = self.0.state();
            (std::mem::take(&mut st.early_warnings), st.caps)
        };
        for warning in warnings {
            self.0.log(MessageType::WARNING, warning);
        }
        if caps.watch_dynamic {
            let client = self.0.client.clone();
            let inner = Arc::clone(&self.0);
            tokio::spawn(async move {
                if let Err(error) = client
                    .register_capability(vec![workspace::watch_registration()])
                    .await
                {
                    inner.log(
                        MessageType::WARNING,
                        format!("could not register file watching: {}", error.message),
                    );
                }
            });
        }
        tokio::spawn(Arc::clone(&self.0).scan());
    }

    async fn shutdown(&self) -> jsonrpc::Result<()> {
        self.0.shut_down.store(true, Ordering::SeqCst);
        // Stop a running scan at its next batch.
        self.0.scan_generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let item = params.text_document;
        let uri = item.uri.clone();
        let opened = self
            .0
            .guard("didOpen", || {
                let mut st = self.0.state();
                let doc = TextDocument::new(
                    item.uri,
                    &item.language_id,
                    item.version,
                    item.text,
                    st.encoding,
                );
                let path = doc.path.clone();
                st.docs.insert(uri.clone(), doc);
                let unit = if self.0.adopt_model_doc(&mut st, &uri) {
                    self.0.touch_model(&mut st, &uri)
                } else {
                    Some(uri.clone())
                };
                unit.map(|unit| (path, unit))
            })
            .flatten();
        let Some((path, unit)) = opened else {
            return;
        };
        self.0.schedule(unit, true);
        self.0.forget_disk(path, &uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let outcome = self.0.guard("didChange", || {
            let mut st = self.0.state();
            let Some(doc) = st.docs.get_mut(&uri) else {
                return Err(format!(
                    "didChange for {}, which is not open: ignored",
                    uri.as_str()
                ));
            };
            let mut warnings = Vec::new();
            for change in &params.content_changes {
                if let Some(warning) = doc.apply(change) {
                    warnings.push(warning.0);
                }
            }
            doc.version = params.text_document.version;
            let notebook = doc.notebook.clone();
            // A model file, or a YAML file that just became one: its model is the unit.
            let unit = if self.0.adopt_model_doc(&mut st, &uri) {
                self.0.touch_model(&mut st, &uri)
            } else {
                notebook
            };
            Ok((warnings, unit))
        });
        match outcome {
            Some(Ok((warnings, unit))) => {
                for warning in warnings {
                    self.0
                        .log(MessageType::WARNING, format!("{}: {warning}", uri.as_str()));
                }
                self.0.schedule(unit.unwrap_or(uri), false);
            }
            Some(Err(warning)) => self.0.log(MessageType::WARNING, warning),
            None => {}
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let removed = {
            let mut st = self.0.state();
            let removed = st.docs.remove(&uri);
            st.pending.remove(&uri);
            removed
        };
        let Some(doc) = removed else {
            self.0.log(
                MessageType::WARNING,
                format!("didClose for {}, which is not open: ignored", uri.as_str()),
            );
            return;
        };
        if let Some(sessions) = &self.0.sessions {
            sessions.forget(uri.as_str());
        }
        {
            let _publishing = self.0.publish.lock().await;
            self.0
                .client
                .publish_diagnostics(uri.clone(), Vec::new(), None)
                .await;
        }
        if doc.kind == DocKind::Model {
            self.0.model_doc_closed(doc.canonical, &uri).await;
        } else if let Some(path) = doc.path {
            tokio::spawn(Arc::clone(&self.0).closed(path));
        }
    }

    async fn notebook_did_open(&self, params: DidOpenNotebookDocumentParams) {
        let notebook = params.notebook_document;
        let uri = notebook.uri.clone();
        let path = self
            .0
            .guard("notebookDocument/didOpen", || {
                let mut st = self.0.state();
                for item in params.cell_text_documents {
                    let mut doc = TextDocument::new(
                        item.uri,
                        &item.language_id,
                        item.version,
                        item.text,
                        st.encoding,
                    );
                    doc.notebook = Some(uri.clone());
                    st.docs.insert(doc.uri.clone(), doc);
                }
                let path = uri_to_path(&uri);
                st.notebooks.insert(
                    uri.clone(),
                    NotebookDoc {
                        uri: uri.clone(),
                        path: path.clone(),
                        version: notebook.version,
                        cells: notebook
                            .cells
                            .into_iter()
                            .map(|cell| CellRef {
                                uri: cell.document,
                                kind: cell.kind,
                            })
                            .collect(),
                        python: String::new(),
                        tree: None,
                        analysis: None,
                        published: Vec::new(),
                    },
                );
                path
            })
            .flatten();
        self.0.schedule(uri.clone(), true);
        self.0.forget_disk(path, &uri).await;
    }

    async fn notebook_did_change(&self, params: DidChangeNotebookDocumentParams) {
        let uri = params.notebook_document.uri;
        let outcome = self.0.guard("notebookDocument/didChange", || {
            let mut st = self.0.state();
            let st = &mut *st;
            let Some(notebook) = st.notebooks.get_mut(&uri) else {
                return Err(format!(
                    "notebookDocument/didChange for {}, which is not open: ignored",
                    uri.as_str()
                ));
            };
            notebook.version = params.notebook_document.version;
            let mut warnings = Vec::new();
            let Some(cells) = params.change.cells else {
                return Ok(warnings);
            };
            if let Some(structure) = cells.structure {
                let start = (structure.array.start as usize).min(notebook.cells.len());
                let end = (start + structure.array.delete_count as usize).min(notebook.cells.len());
                if end - start != structure.array.delete_count as usize {
                    warnings.push("cell change deletes past the last cell; clamped".to_string());
                }
                let inserted = structure
                    .array
                    .cells
                    .unwrap_or_default()
                    .into_iter()
                    .map(|cell| CellRef {
                        uri: cell.document,
                        kind: cell.kind,
                    });
                notebook.cells.splice(start..end, inserted);
                for closed in structure.did_close.unwrap_or_default() {
                    st.docs.remove(&closed.uri);
                }
                for item in structure.did_open.unwrap_or_default() {
                    let mut doc = TextDocument::new(
                        item.uri,
                        &item.language_id,
                        item.version,
                        item.text,
                        st.encoding,
                    );
                    doc.notebook = Some(uri.clone());
                    st.docs.insert(doc.uri.clone(), doc);
                }
            }
            for cell in cells.data.unwrap_or_default() {
                if let Some(existing) = notebook.cells.iter_mut().find(|c| c.uri == cell.document) {
                    existing.kind = cell.kind;
                }
            }
            for content in cells.text_content.unwrap_or_default() {
                let Some(doc) = st.docs.get_mut(&content.document.uri) else {
                    warnings.push(format!(
                        "change for cell {}, which is not open: ignored",
                        content.document.uri.as_str()
                    ));
                    continue;
                };
                for change in &content.changes {
                    if let Some(warning) = doc.apply(change) {
                        warnings.push(warning.0);
                    }
                }
                doc.version = content.document.version;
            }
            Ok(warnings)
        });
        match outcome {
            Some(Ok(warnings)) => {
                for warning in warnings {
                    self.0
                        .log(MessageType::WARNING, format!("{}: {warning}", uri.as_str()));
                }
                self.0.schedule(uri, false);
            }
            Some(Err(warning)) => self.0.log(MessageType::WARNING, warning),
            None => {}
        }
    }

    async fn notebook_did_save(&self, _: DidSaveNotebookDocumentParams) {}

    async fn notebook_did_close(&self, params: DidCloseNotebookDocumentParams) {
        let uri = params.notebook_document.uri;
        let removed = {
            let mut st = self.0.state();
            for cell in &params.cell_text_documents {
                st.docs.remove(&cell.uri);
            }
            st.pending.remove(&uri);
            st.notebooks.remove(&uri)
        };
        let Some(notebook) = removed else {
            self.0.log(
                MessageType::WARNING,
                format!(
                    "notebookDocument/didClose for {}, which is not open: ignored",
                    uri.as_str()
                ),
            );
            return;
        };
        {
            let _publishing = self.0.publish.lock().await;
            for cell in notebook.cells {
                self.0
                    .client
                    .publish_diagnostics(cell.uri, Vec::new(), None)
                    .await;
            }
        }
        if let Some(path) = notebook.path {
            tokio::spawn(Arc::clone(&self.0).closed(path));
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Clients that use the pull model send `null` and expect the server to ask.
        if params.settings.is_null() {
            if self.0.state().caps.configuration {
                tokio::spawn(Arc::clone(&self.0).pull_settings());
            }
            return;
        }
        self.0
            .apply_settings(Some(&params.settings), "workspace/didChangeConfiguration");
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        tokio::spawn(Arc::clone(&self.0).watched_files_changed(params.changes));
    }

    async fn hover(&self, params: HoverParams) -> jsonrpc::Result<Option<Hover>> {
        let uri = params.text_document_position_params.text_document.uri;
        let position = params.text_document_position_params.position;
        if let Some((analysed, file, encoding)) = self.0.model_request(&uri).await {
            let minimum = self.0.state().settings.minimum_severity();
            return Ok(self
                .0
                .guard("hover", || {
                    let offset = analysed.offset(file, position, encoding)?;
                    model::hover::hover(&analysed, file, offset, encoding, minimum)
                })
                .flatten());
        }
        let Some(unit) = self.0.unit_of(&self.0.state(), &uri) else {
            return Ok(None);
        };
        let Some((version, findings)) = self.0.current_findings(&unit).await else {
            return Ok(None);
        };
        let catalogue = self.0.catalogue;
        Ok(self
            .with_views(&unit, version, |views, _, _, st| {
                hover::hover(
                    catalogue,
                    &findings,
                    views,
                    &uri,
                    position,
                    st.settings.minimum_severity(),
                )
            })
            .flatten())
    }

    async fn code_action(
        &self,
        params: CodeActionParams,
    ) -> jsonrpc::Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        if let Some((analysed, file, encoding)) = self.0.model_request(&uri).await {
            let (minimum, document_changes) = {
                let st = self.0.state();
                (st.settings.minimum_severity(), st.caps.document_changes)
            };
            let request = model_actions::Request {
                range: params.range,
                only: params.context.only.as_deref(),
                minimum,
                document_changes,
                encoding,
            };
            return Ok(self.0.guard("code actions", || {
                model_actions::actions(&request, &analysed, file)
            }));
        }
        let Some(unit) = self.0.unit_of(&self.0.state(), &uri) else {
            return Ok(None);
        };
        let Some((version, findings)) = self.0.current_findings(&unit).await else {
            return Ok(None);
        };
        let only = params.context.only;
        Ok(
            self.with_views(&unit, version, |views, versions, language, st| {
                let request = actions::Request {
                    uri: &uri,
                    range: params.range,
                    only: only.as_deref(),
                    language,
                    minimum: st.settings.minimum_severity(),
                    document_changes: st.caps.document_changes,
                };
                actions::actions(&request, &findings, views, versions)
            }),
        )
    }

    async fn completion(
        &self,
        params: CompletionParams,
    ) -> jsonrpc::Result<Option<CompletionResponse>> {
        let uri = params.text_document_position.text_document.uri;
        let position = params.text_document_position.position;
        let Some((analysed, file, encoding)) = self.0.model_request(&uri).await else {
            return Ok(None);
        };
        let ids = match self.0.last_good(&uri) {
            Some(good) if !analysed.is_readable() => good,
            _ => Arc::clone(&analysed),
        };
        Ok(self
            .0
            .guard("completion", || {
                let offset = analysed.offset(file, position, encoding)?;
                let items = model::completion::complete(&analysed, &ids, file, offset, encoding);
                Some(CompletionResponse::List(CompletionList {
                    is_incomplete: false,
                    items,
                }))
            })
            .flatten())
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> jsonrpc::Result<Option<GotoDefinitionResponse>> {
        let uri = params.text_document_position_params.text_document.uri;
        let position = params.text_document_position_params.position;
        let Some((analysed, file, encoding)) = self.0.model_request(&uri).await else {
            return Ok(None);
        };
        Ok(self
            .0
            .guard("definition", || {
                let offset = analysed.offset(file, position, encoding)?;
                model::navigation::definition(&analysed, file, offset, encoding)
                    .map(GotoDefinitionResponse::Scalar)
            })
            .flatten())
    }

    async fn references(&self, params: ReferenceParams) -> jsonrpc::Result<Option<Vec<Location>>> {
        let uri = params.text_document_position.text_document.uri;
        let position = params.text_document_position.position;
        let declaration = params.context.include_declaration;
        let Some((analysed, file, encoding)) = self.0.model_request(&uri).await else {
            return Ok(None);
        };
        Ok(self
            .0
            .guard("references", || {
                let offset = analysed.offset(file, position, encoding)?;
                Some(model::navigation::references(
                    &analysed,
                    file,
                    offset,
                    declaration,
                    encoding,
                ))
            })
            .flatten())
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> jsonrpc::Result<Option<DocumentSymbolResponse>> {
        let uri = params.text_document.uri;
        let Some((analysed, file, encoding)) = self.0.model_request(&uri).await else {
            return Ok(None);
        };
        Ok(self
            .0
            .guard("document symbols", || {
                let view = analysed.view(file, encoding)?;
                Some(DocumentSymbolResponse::Nested(model::symbols::symbols(
                    &view,
                )))
            })
            .flatten())
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> jsonrpc::Result<Option<PrepareRenameResponse>> {
        let uri = params.text_document.uri;
        let Some((analysed, file, encoding)) = self.0.model_request(&uri).await else {
            return Ok(None);
        };
        Ok(self
            .0
            .guard("prepareRename", || {
                let offset = analysed.offset(file, params.position, encoding)?;
                let (range, placeholder) =
                    model::navigation::prepare_rename(&analysed, file, offset, encoding)?;
                Some(PrepareRenameResponse::RangeWithPlaceholder { range, placeholder })
            })
            .flatten())
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> jsonrpc::Result<Option<serde_json::Value>> {
        match params.command.as_str() {
            model::diagram::COMMAND => self.0.diagram_command(&params.arguments).await.map(Some),
            other => Err(jsonrpc::Error::invalid_params(format!(
                "unknown command `{other}` (this server offers `{}`)",
                model::diagram::COMMAND
            ))),
        }
    }

    async fn rename(&self, params: RenameParams) -> jsonrpc::Result<Option<WorkspaceEdit>> {
        let uri = params.text_document_position.text_document.uri;
        let position = params.text_document_position.position;
        let Some((analysed, file, encoding)) = self.0.model_request(&uri).await else {
            return Ok(None);
        };
        let document_changes = self.0.state().caps.document_changes;
        let result = self.0.guard("rename", || {
            let offset = analysed
                .offset(file, position, encoding)
                .ok_or_else(|| "the position is outside the document".to_owned())?;
            model::navigation::rename(&analysed, file, offset, &params.new_name, encoding)
        });
        match result {
            Some(Ok(edits)) => {
                let versions: HashMap<Uri, Option<i32>> = edits
                    .iter()
                    .map(|(uri, version, _)| (uri.clone(), *version))
                    .collect();
                let edits = edits
                    .into_iter()
                    .map(|(uri, _, edit)| (uri, edit))
                    .collect();
                Ok(Some(actions::workspace_edit(
                    edits,
                    &|uri: &Uri| versions.get(uri).copied().flatten(),
                    document_changes,
                )))
            }
            Some(Err(message)) => Err(jsonrpc::Error::invalid_params(message)),
            None => Err(jsonrpc::Error::internal_error()),
        }
    }
}

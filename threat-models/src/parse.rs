//! Loading a model: read the root file (or an editor buffer), follow `includes:`, parse each
//! file into a [`Document`] and merge them into one [`Model`].
//!
//! Bounded whatever the input: a file over [`MAX_FILE_BYTES`] is not parsed, at most
//! [`MAX_FILES`] files are loaded, an include may not leave the root model's directory (checked
//! on canonical paths, so symlinks cannot escape either), and a file that includes itself or
//! closes an include cycle is reported at the offending `includes:` entry. A file included twice
//! through different paths (a diamond) is read once.
//!
//! An editor's unsaved buffers take the place of files on disk through [`load_overlaid`]: the
//! overlay maps canonical paths to texts, for the root and for included files.

use crate::de::{Ctx, FileId, Loc, NodeDe};
use crate::diag::{Diag, Problem};
use crate::format::{Document, SCHEMA_TAG, SINGLETON_SECTIONS};
use crate::model::{Model, SourceFile};
use crate::yaml::{self, NodeKind, YamlErrorKind};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use threatlens_rules::source::LineIndex;

/// Largest model file read (a threat model is a few hundred kilobytes at most).
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Most files one model may consist of.
pub const MAX_FILES: usize = 64;

/// A loaded model: its files, the merged model and every model error found while loading.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Vec<SourceFile>,
    pub model: Model,
    pub diags: Vec<Diag>,
}

struct Loader<'o> {
    overlay: &'o HashMap<PathBuf, String>,
    root_dir: PathBuf,
    sources: Vec<SourceFile>,
    canonical: Vec<PathBuf>,
    diags: Vec<Diag>,
    merged: Document,
    /// Which file defined each singleton section, with the key's location.
    singletons: Vec<(&'static str, Loc)>,
    broken_ids: HashSet<String>,
    broken_sections: HashSet<String>,
}

/// Load the model whose root file is `path`; `text` is the root's content when it comes from an
/// editor buffer rather than the disk. Never panics; problems become diagnostics.
pub fn load(path: &Path, text: Option<&str>) -> Loaded {
    load_with(path, text, &HashMap::new())
}

/// Like [`load`], reading any file of the model whose canonical path is a key of `overlay` from
/// there instead of the disk (the open buffers of an editor).
pub fn load_overlaid(path: &Path, overlay: &HashMap<PathBuf, String>) -> Loaded {
    let canonical = absolute(path)
        .canonicalize()
        .unwrap_or_else(|_| absolute(path));
    load_with(path, overlay.get(&canonical).map(String::as_str), overlay)
}

fn load_with(path: &Path, text: Option<&str>, overlay: &HashMap<PathBuf, String>) -> Loaded {
    let absolute = absolute(path);
    let root_dir = absolute
        .parent()
        .map(|dir| dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
        .unwrap_or_default();
    let mut loader = Loader {
        overlay,
        root_dir,
        sources: Vec::new(),
        canonical: Vec::new(),
        diags: Vec::new(),
        merged: Document::default(),
        singletons: Vec::new(),
        broken_ids: HashSet::new(),
        broken_sections: HashSet::new(),
    };
    let canonical = absolute.canonicalize().unwrap_or_else(|_| absolute.clone());
    let content = match text {
        Some(text) => Ok(bounded_copy(text)),
        None => read_bounded(&absolute),
    };
    loader.file(path.to_path_buf(), canonical, content, &mut Vec::new());
    let Loader {
        sources,
        diags,
        merged,
        broken_ids,
        broken_sections,
        ..
    } = loader;
    Loaded {
        sources,
        model: Model::new(merged, broken_ids, broken_sections),
        diags,
    }
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// A buffer's bytes, never more than the limit (plus one byte, so the size check still fails).
fn bounded_copy(text: &str) -> Vec<u8> {
    text.as_bytes()[..text.len().min(MAX_FILE_BYTES + 1)].to_vec()
}

/// Read a file, but not more than [`MAX_FILE_BYTES`] + 1 bytes of it.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(bytes)
}

/// Collapse `.` and `..` without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl Loader<'_> {
    fn loc(&self, file: FileId, start: usize, end: usize) -> Loc {
        let source = &self.sources[file];
        Loc {
            file,
            span: source.index.span(&source.text, start, end),
        }
    }

    /// Load one file (already known to be allowed) and, recursively, its includes. `stack` holds
    /// the canonical paths of the files including this one.
    fn file(
        &mut self,
        path: PathBuf,
        canonical: PathBuf,
        content: Result<Vec<u8>, String>,
        stack: &mut Vec<PathBuf>,
    ) {
        let file = self.sources.len();
        let (text, problem) = match content {
            Err(message) => (String::new(), Some((Problem::Include, 0, message))),
            Ok(bytes) if bytes.len() > MAX_FILE_BYTES => (
                String::new(),
                Some((
                    Problem::InputLimit,
                    0,
                    format!(
                        "the file is larger than {} MiB; a threat model this large is not read \
                         (split it with `includes:`)",
                        MAX_FILE_BYTES / (1024 * 1024)
                    ),
                )),
            ),
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => (text, None),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    (
                        text,
                        Some((
                            Problem::NotUtf8,
                            at,
                            format!(
                                "the file is not UTF-8: invalid byte at offset {at}; save it as UTF-8"
                            ),
                        )),
                    )
                }
            },
        };
        self.sources.push(SourceFile {
            index: LineIndex::new(&text),
            path,
            text,
        });
        self.canonical.push(canonical.clone());
        if let Some((problem, at, message)) = problem {
            let end = self.sources[file].text[at..]
                .chars()
                .next()
                .map_or(at, |c| at + c.len_utf8());
            let loc = self.loc(file, at, end);
            self.diags.push(Diag::new(problem, loc, message));
            return;
        }

        let text = std::mem::take(&mut self.sources[file].text);
        let index = std::mem::replace(&mut self.sources[file].index, LineIndex::new(""));
        let doc = self.parse_document(file, &text, &index);
        self.sources[file].text = text;
        self.sources[file].index = index;
        let Some(doc) = doc else { return };

        stack.push(canonical);
        let dir = self.sources[file]
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let includes = doc.includes.clone();
        self.merge(file, doc);
        for include in &includes {
            self.include(file, &dir, include, stack);
        }
        stack.pop();
    }

    fn include(
        &mut self,
        file: FileId,
        dir: &Path,
        include: &crate::de::Spanned<String>,
        stack: &mut Vec<PathBuf>,
    ) {
        let fail = |this: &mut Self, message: String| {
            this.diags
                .push(Diag::new(Problem::Include, include.loc, message));
        };
        let relative = Path::new(include.as_str());
        if include.is_empty() || relative.is_absolute() {
            return fail(
                self,
                format!("include `{include}` must be a path relative to this file"),
            );
        }
        let joined = normalise(&absolute(dir).join(relative));
        let Ok(canonical) = joined.canonicalize() else {
            return fail(
                self,
                format!(
                    "include `{include}` does not exist (looked for `{}`)",
                    joined.display()
                ),
            );
        };
        if !canonical.starts_with(&self.root_dir) {
            return fail(
                self,
                format!(
                    "include `{include}` points outside the model's directory `{}`; keep every \
                     part of a model under the directory of its root file",
                    self.root_dir.display()
                ),
            );
        }
        if canonical == self.canonical[file] {
            return fail(
                self,
                format!("`{include}` is this file: a file cannot include itself"),
            );
        }
        if let Some(pos) = stack.iter().position(|p| *p == canonical) {
            let names: Vec<String> = stack[pos..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| {
                    p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                })
                .collect();
            return fail(
                self,
                format!(
                    "include cycle: {}; remove one of these includes",
                    names.join(" → ")
                ),
            );
        }
        if self.canonical.contains(&canonical) {
            return; // already loaded through another include
        }
        if self.sources.len() >= MAX_FILES {
            return fail(
                self,
                format!("a model may consist of at most {MAX_FILES} files"),
            );
        }
        let content = match self.overlay.get(&canonical) {
            Some(text) => Ok(bounded_copy(text)),
            None => read_bounded(&canonical),
        };
        let path = dir.join(relative);
        self.file(path, canonical, content, stack);
    }

    fn parse_document(&mut self, file: FileId, text: &str, index: &LineIndex) -> Option<Document> {
        let parsed = yaml::parse(text);
        let ctx = Ctx::new(file, text, index);
        for error in &parsed.errors {
            let problem = match error.kind {
                YamlErrorKind::Syntax => Problem::YamlSyntax,
                YamlErrorKind::DuplicateKey => Problem::DuplicateKey,
                YamlErrorKind::Limit => Problem::InputLimit,
            };
            ctx.report(problem, error.start, error.end, error.message.clone());
        }
        let doc = parsed.root.as_ref().and_then(|root| {
            let doc = Document::deserialize(NodeDe::new(root, &ctx)).ok();
            if let (Some(doc), NodeKind::Map(entries)) = (&doc, &root.kind) {
                for entry in entries {
                    let key = entry.key.text().unwrap_or_default();
                    let read = match key {
                        "metadata" => doc.metadata.is_some(),
                        "scope" => doc.scope.is_some(),
                        "incident_response" => doc.incident_response.is_some(),
                        "monitoring" => doc.monitoring.is_some(),
                        _ => true,
                    };
                    if !read && !entry.value.is_null() {
                        self.broken_sections.insert(key.to_owned());
                    }
                    if let Some(section) = SINGLETON_SECTIONS.iter().find(|s| **s == key) {
                        let loc = ctx.loc(entry.key.start, entry.key.end);
                        match self.singletons.iter().find(|(s, _)| s == section) {
                            Some((_, first)) => ctx.diags.borrow_mut().push(Diag::new(
                                Problem::SectionConflict,
                                loc,
                                format!(
                                    "`{key}` is already defined in {} (line {}); a model has one `{key}` \
                                     section across all its files",
                                    self.sources[first.file].path.display(),
                                    first.span.start.line
                                ),
                            )),
                            None => self.singletons.push((section, loc)),
                        }
                    }
                }
            }
            doc
        });
        if let Some(doc) = &doc {
            match &doc.schema {
                None => ctx.report(
                    Problem::SchemaTag,
                    0,
                    text.find('\n').unwrap_or(text.len()),
                    format!("missing `schema: {SCHEMA_TAG}`: add it as the first line"),
                ),
                Some(tag) if tag.as_str() != SCHEMA_TAG => ctx.report(
                    Problem::SchemaTag,
                    tag.loc.span.start_byte,
                    tag.loc.span.end_byte,
                    format!("unsupported schema `{tag}`: this version reads `{SCHEMA_TAG}`"),
                ),
                Some(_) => {}
            }
        }
        self.broken_ids.extend(ctx.broken_ids.take());
        self.diags.extend(ctx.diags.take());
        doc
    }

    /// Add a file's document to the merged one. Singleton sections keep their first definition
    /// (a second one was reported while parsing).
    fn merge(&mut self, file: FileId, doc: Document) {
        let m = &mut self.merged;
        if file == 0 {
            m.schema = doc.schema;
        }
        m.metadata = m.metadata.take().or(doc.metadata);
        m.scope = m.scope.take().or(doc.scope);
        m.incident_response = m.incident_response.take().or(doc.incident_response);
        m.monitoring = m.monitoring.take().or(doc.monitoring);
        m.includes.extend(doc.includes);
        m.assets.extend(doc.assets);
        m.trust_boundaries.extend(doc.trust_boundaries);
        m.components.extend(doc.components);
        m.flows.extend(doc.flows);
        m.controls.extend(doc.controls);
        m.threats.extend(doc.threats);
        m.exceptions.extend(doc.exceptions);
        m.suppliers.extend(doc.suppliers);
    }
}

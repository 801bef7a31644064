//! What an artefact scan found: issues (which become findings), a listing of what is inside,
//! and notes (why part of the file was not read).

use super::pickle::{PickleReport, ProblemKind};
use super::policy::Verdict;
use super::{Format, rule};
use crate::catalogue::Catalogue;
use crate::finding::{Finding, Position, Severity, Span};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Issues of one rule reported per part before the rest are summed up in one line.
const MAX_ISSUES_PER_RULE: usize = 50;

/// One problem in an artefact; becomes a [`Finding`] on the file's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub rule: &'static str,
    pub severity: Severity,
    /// The archive entry or section the issue is in (empty: the file itself).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub part: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub message: String,
}

/// A tensor named in a header (safetensors, GGUF, NumPy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tensor {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<u64>,
    /// Byte range of the data, relative to the format's data section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<(u64, u64)>,
}

/// One scanned piece of an artefact: the file itself, an archive entry, a header.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub name: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickle: Option<PickleReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tensors: Vec<Tensor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<(String, String)>,
}

impl Part {
    pub fn new(name: &str, kind: &'static str) -> Self {
        Self {
            name: name.to_string(),
            kind,
            pickle: None,
            tensors: Vec::new(),
            metadata: Vec::new(),
        }
    }
}

/// The result of scanning one artefact, and its listing.
#[derive(Debug, Clone, Serialize)]
pub struct ArtefactReport {
    pub path: String,
    pub size: u64,
    pub format: Format,
    /// What kind of zip this is (PyTorch checkpoint, NumPy archive, Keras model), if a zip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<&'static str>,
    pub parts: Vec<Part>,
    pub issues: Vec<Issue>,
    /// Why part of the file was not scanned (size cap, read errors, unknown format).
    pub notes: Vec<String>,
}

/// The listing `threatlens scan-artefact` prints: the same as the scan report.
pub type ArtefactListing = ArtefactReport;

impl ArtefactReport {
    pub fn new(path: &str, size: u64) -> Self {
        Self {
            path: path.to_string(),
            size,
            format: Format::Unknown,
            container: None,
            parts: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn failed(path: &str, note: String) -> Self {
        let mut report = Self::new(path, 0);
        report.notes.push(note);
        report
    }

    pub fn issue(
        &mut self,
        rule: &'static str,
        severity: Severity,
        part: &str,
        offset: Option<u64>,
        message: String,
    ) {
        let same_rule = self
            .issues
            .iter()
            .filter(|i| i.rule == rule && i.part == part)
            .count();
        if same_rule == MAX_ISSUES_PER_RULE {
            self.notes
                .push(format!("{}more {rule} issues not listed", prefix(part)));
        }
        if same_rule >= MAX_ISSUES_PER_RULE {
            return;
        }
        self.issues.push(Issue {
            rule,
            severity,
            part: part.to_string(),
            offset,
            message,
        });
    }

    /// Adds a scanned pickle stream: one issue per distinct non-allowed import and per problem.
    pub fn add_pickle(&mut self, part: &str, scanned: PickleReport) {
        let mut seen: BTreeMap<(String, String), (usize, u64)> = BTreeMap::new();
        let mut order = Vec::new();
        for (index, global) in scanned.globals.iter().enumerate() {
            if global.verdict == Verdict::Allowed {
                continue;
            }
            let key = (global.module.clone(), global.name.clone());
            let entry = seen.entry(key).or_insert_with(|| {
                order.push(index);
                (index, 0)
            });
            entry.1 += 1;
        }
        let at = prefix(part);
        for index in order {
            let global = &scanned.globals[index];
            let count = seen
                .get(&(global.module.clone(), global.name.clone()))
                .map_or(1, |e| e.1);
            let times = if count > 1 {
                format!(", {count} times")
            } else {
                String::new()
            };
            let what = format!(
                "{at}imports `{}` ({} at byte {}{times})",
                global.qualified(),
                global.opcode,
                global.offset
            );
            match &global.verdict {
                Verdict::Dangerous(severity, why) => self.issue(
                    rule::DANGEROUS_IMPORT,
                    *severity,
                    part,
                    Some(global.offset),
                    format!("{what}, which {why}"),
                ),
                Verdict::Unknown => self.issue(
                    rule::UNKNOWN_IMPORT,
                    Severity::Medium,
                    part,
                    Some(global.offset),
                    format!("{what}, which is not on the allow-list of known-safe objects"),
                ),
                Verdict::Allowed => {}
            }
        }
        for problem in &scanned.problems {
            let (rule, severity) = match problem.kind {
                ProblemKind::Malformed => (rule::MALFORMED, Severity::Medium),
                ProblemKind::HiddenImport => (rule::HIDDEN_IMPORT, Severity::High),
                ProblemKind::Uninspected => (rule::NOT_INSPECTABLE, Severity::Medium),
            };
            self.issue(
                rule,
                severity,
                part,
                Some(problem.offset),
                format!("{at}{} (byte {})", problem.message, problem.offset),
            );
        }
        if let Some(why) = &scanned.incomplete {
            self.notes.push(format!("{at}pickle scan {why}"));
        }
        let mut listed = Part::new(part, "pickle");
        listed.pickle = Some(scanned);
        self.parts.push(listed);
    }

    /// Whether any part is a pickle (the file is loaded by unpickling).
    pub fn has_pickle(&self) -> bool {
        self.parts.iter().any(|p| {
            p.pickle
                .as_ref()
                .is_some_and(|s| s.pickles > 0 || !s.globals.is_empty())
        })
    }

    /// Adds the file-level verdict and orders the issues, worst first.
    pub fn finish(&mut self) {
        let imports_flagged = self.issues.iter().any(|i| {
            matches!(
                i.rule,
                rule::DANGEROUS_IMPORT | rule::UNKNOWN_IMPORT | rule::HIDDEN_IMPORT
            )
        });
        if self.has_pickle() && !imports_flagged {
            let what = self.container.unwrap_or_else(|| self.format.name());
            self.issue(
                rule::PICKLE_COMMITTED,
                Severity::Low,
                "",
                None,
                format!(
                    "{what} in the source tree; it imports only allow-listed objects, but loading it still means unpickling"
                ),
            );
        }
        self.issues
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
    }

    /// The worst issue, if any.
    pub fn flag(&self) -> Option<Flag> {
        self.issues
            .iter()
            .max_by_key(|i| i.severity)
            .map(|issue| Flag {
                severity: issue.severity,
                rule: issue.rule.to_string(),
                summary: issue.message.clone(),
            })
    }

    /// The issues as findings on the file's first line (artefacts have no lines: the byte
    /// offset is in the message).
    pub fn findings(&self, catalogue: &Catalogue) -> Vec<Finding> {
        let start = Position { line: 1, column: 1 };
        let span = Span {
            start_byte: 0,
            end_byte: 0,
            start,
            end: start,
            cell: None,
        };
        self.issues
            .iter()
            .filter_map(|issue| {
                let rule = catalogue.rule(issue.rule)?;
                Some(Finding::new(
                    &rule.id,
                    &rule.slug,
                    rule.category,
                    issue.severity,
                    span,
                    format!("{}. {}", issue.message, rule.message.trim()),
                    &issue.message,
                ))
            })
            .collect()
    }
}

fn prefix(part: &str) -> String {
    if part.is_empty() {
        String::new()
    } else {
        format!("{part}: ")
    }
}

/// How badly the scanner flagged an artefact: its worst issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub severity: Severity,
    pub rule: String,
    pub summary: String,
}

/// Flagged artefacts by path, so that code loading one of them can say so.
#[derive(Debug, Clone, Default)]
pub struct ArtefactIndex {
    flags: HashMap<PathBuf, Flag>,
}

/// `a/./b/../c` → `a/c`, made absolute against the current directory.
fn normalise(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl ArtefactIndex {
    pub fn insert(&mut self, path: &Path, flag: Flag) {
        self.flags.insert(normalise(path), flag);
    }

    /// Forgets the artefact at `path`; its flag, if it had one.
    pub fn remove(&mut self, path: &Path) -> Option<Flag> {
        self.flags.remove(&normalise(path))
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The flag of the artefact at `path`.
    pub fn get(&self, path: &Path) -> Option<&Flag> {
        self.flags.get(&normalise(path))
    }

    /// The flagged artefact a path written in code names: `literal` relative to the code
    /// file's directory, to `root` (where the scan started) or to the current directory; else
    /// the one flagged artefact whose path ends with the literal's components.
    pub fn resolve(
        &self,
        literal: &str,
        code_file: &Path,
        root: &Path,
    ) -> Option<(PathBuf, &Flag)> {
        let written = Path::new(literal);
        if written.as_os_str().is_empty() {
            return None;
        }
        let mut candidates = vec![written.to_path_buf()];
        if written.is_relative() {
            if let Some(dir) = code_file.parent() {
                candidates.push(dir.join(written));
            }
            candidates.push(root.join(written));
        }
        for candidate in candidates {
            let normal = normalise(&candidate);
            if let Some(flag) = self.flags.get(&normal) {
                return Some((normal, flag));
            }
        }
        let tail: Vec<Component> = written
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        if tail.is_empty() {
            return None;
        }
        let mut matches = self.flags.iter().filter(|(path, _)| {
            let components: Vec<Component> = path.components().collect();
            components.ends_with(&tail)
        });
        let first = matches.next()?;
        matches.next().is_none().then(|| (first.0.clone(), first.1))
    }
}

impl fmt::Display for ArtefactReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.path)?;
        write!(f, "  format: {}", self.format.name())?;
        if let Some(container) = self.container {
            write!(f, " ({container})")?;
        }
        writeln!(f, ", {} bytes", self.size)?;
        for part in &self.parts {
            let name = if part.name.is_empty() {
                "(file)"
            } else {
                &part.name
            };
            writeln!(f, "  {name}: {}", part.kind)?;
            if let Some(pickle) = &part.pickle {
                write!(f, "    {} pickle(s)", pickle.pickles)?;
                if let Some(protocol) = pickle.protocol {
                    write!(f, ", protocol {protocol}")?;
                }
                if let Some(at) = pickle.trailing_at {
                    write!(f, ", non-pickle data from byte {at}")?;
                }
                if pickle.array_bytes > 0 {
                    write!(f, ", {} bytes of joblib array data", pickle.array_bytes)?;
                }
                writeln!(f)?;
                if !pickle.globals.is_empty() {
                    writeln!(f, "    imports:")?;
                }
                for global in &pickle.globals {
                    let verdict = match &global.verdict {
                        Verdict::Allowed => "allowed".to_string(),
                        Verdict::Unknown => "not allow-listed".to_string(),
                        Verdict::Dangerous(severity, _) => format!("DANGEROUS ({severity})"),
                    };
                    writeln!(
                        f,
                        "      {:>10}  {:<12} {}  {verdict}",
                        global.offset,
                        global.opcode,
                        global.qualified()
                    )?;
                }
                if !pickle.storages.is_empty() {
                    writeln!(f, "    storages: {}", pickle.storages.len())?;
                    for storage in pickle.storages.iter().take(20) {
                        let numel = storage.numel.map_or("?".into(), |n| n.to_string());
                        writeln!(
                            f,
                            "      {} {} on {} ({numel} elements)",
                            storage.key, storage.storage_type, storage.location
                        )?;
                    }
                }
                let opcodes: Vec<String> = pickle
                    .opcodes
                    .iter()
                    .map(|(name, count)| format!("{name}×{count}"))
                    .collect();
                if !opcodes.is_empty() {
                    writeln!(f, "    opcodes: {}", opcodes.join(" "))?;
                }
            }
            if !part.tensors.is_empty() {
                writeln!(f, "    tensors: {}", part.tensors.len())?;
                for tensor in part.tensors.iter().take(50) {
                    write!(
                        f,
                        "      {} {} {:?}",
                        tensor.name, tensor.dtype, tensor.shape
                    )?;
                    if let Some((start, end)) = tensor.data {
                        write!(f, " bytes {start}..{end}")?;
                    }
                    writeln!(f)?;
                }
                if part.tensors.len() > 50 {
                    writeln!(f, "      … {} more", part.tensors.len() - 50)?;
                }
            }
            for (key, value) in &part.metadata {
                let short: String = value.chars().take(120).collect();
                let more = if short.len() < value.len() { "…" } else { "" };
                writeln!(f, "    {key} = {}{more}", short.escape_debug())?;
            }
        }
        if self.issues.is_empty() {
            writeln!(f, "  no issues")?;
        } else {
            writeln!(f, "  issues:")?;
            for issue in &self.issues {
                writeln!(
                    f,
                    "    {} {:<8} {}",
                    issue.rule, issue.severity, issue.message
                )?;
            }
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

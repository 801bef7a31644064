//! Threat-model files in the editor: `threatmodel.yaml`, the files it includes, and any YAML file
//! whose `schema:` is `threatlens/v1`.
//!
//! # Units
//!
//! A model is one analysis unit, keyed by the URI of its root file, whatever file of it is being
//! edited: a change in an included file re-checks the whole model, and the diagnostics of every
//! file come from that one analysis (so they never disagree). A [`ModelUnit`] knows its files
//! (canonical paths, from the last analysis) and has a *revision*, bumped by every change to one
//! of them (an edit, an open or close, a change on disk): an analysis is current when it was made
//! at the unit's revision. The same tickets, debounce and publish lock as code files apply.
//!
//! Units come from two places: the workspace scan (the model the configuration points at,
//! `model =` or `threatmodel.yaml` at the config root: a *workspace* unit, kept while no file of
//! it is open) and opening a model file that no unit knows yet (its own unit, dropped when its
//! last file closes, and folded into a workspace unit that turns out to include it).
//!
//! # Analysis
//!
//! [`analyse`] runs on the blocking pool with a snapshot of the open model buffers (canonical
//! path → text), so an unsaved included file counts as it is on screen
//! ([`threatlens_models::analyse_model_overlaid`]). "Today" comes from the clock, or from
//! `THREATLENS_TODAY` (tests). The result keeps every file's text and line index, so positions
//! in diagnostics, hovers and edits are computed on exactly the text that was analysed.
//!
//! # Features (one module each)
//!
//! `context` (where the cursor is in the YAML, and what the JSON Schema says goes there),
//! `completion`, `hover`, `navigation` (definition, references, rename), `symbols` (outline),
//! `stub` (the "add a missing control" code action), `diagram` (the `threatlens.diagram`
//! command).

pub mod actions;
pub mod completion;
pub mod context;
pub mod diagram;
pub mod hover;
pub mod navigation;
pub mod stub;
pub mod symbols;
pub mod units;
mod yaml_text;

use super::documents::{Encoding, TextView, canonical};
use super::protocol::{Location, Position, Range, Uri, path_to_uri};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use threatlens_models::de::Loc;
use threatlens_models::{Date, ElementKind, Model, ModelAnalysis};
use threatlens_rules::Config;

/// Environment variable fixing "today" for model checks (deterministic tests).
pub const TODAY_VAR: &str = "THREATLENS_TODAY";

/// Today, for governance checks: `THREATLENS_TODAY` when set to a date, else the clock (UTC).
pub fn today() -> Date {
    std::env::var(TODAY_VAR)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(crate::model::today)
}

/// A threat model known to the server.
#[derive(Debug)]
pub struct ModelUnit {
    /// The URI of the root file (the unit's key).
    pub root: Uri,
    /// The root file's path (`None` for an `untitled:` buffer).
    pub path: Option<PathBuf>,
    /// Bumped by every change to a file of the model.
    pub revision: i32,
    pub analysis: Option<Arc<ModelAnalysed>>,
    /// The last analysis of text that was valid YAML: while a line is half typed (an unclosed
    /// `[`), completion still knows the model's ids.
    pub last_good: Option<Arc<ModelAnalysed>>,
    /// Canonical paths of the model's files (root first), from the last analysis.
    pub members: Vec<PathBuf>,
    /// Documents that were last sent diagnostics (to clear the ones no longer in the model).
    pub published: Vec<Uri>,
    /// Found by the workspace scan: kept (and checked from disk) when none of its files is open.
    pub workspace: bool,
}

impl ModelUnit {
    pub fn new(root: Uri, path: Option<PathBuf>, workspace: bool) -> Self {
        let members = path.as_deref().map(canonical).into_iter().collect();
        Self {
            root,
            path,
            revision: 0,
            analysis: None,
            last_good: None,
            members,
            published: Vec::new(),
            workspace,
        }
    }

    pub fn contains(&self, canonical: &std::path::Path) -> bool {
        self.members.iter().any(|m| m == canonical)
    }

    pub fn is_current(&self) -> bool {
        self.analysis
            .as_ref()
            .is_some_and(|a| a.revision == self.revision)
    }

    /// Keeps an analysis (and remembers it as the last good one when its YAML was readable).
    pub fn keep(&mut self, analysed: Arc<ModelAnalysed>) {
        if analysed.is_readable() {
            self.last_good = Some(Arc::clone(&analysed));
        }
        self.analysis = Some(analysed);
    }
}

/// What an analysis of a model needs, snapshot under the state lock.
pub struct ModelInput {
    pub root: Uri,
    pub path: Option<PathBuf>,
    /// The root's text when it is an `untitled:` buffer.
    pub root_text: Option<String>,
    /// Open model buffers: canonical path → (URI, version, text).
    pub open: HashMap<PathBuf, (Uri, i32, String)>,
    pub today: Date,
    pub revision: i32,
}

/// One file of an analysed model, as the client knows it.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub uri: Uri,
    pub canonical: Option<PathBuf>,
    /// The version of the open buffer that was analysed (`None`: read from disk).
    pub version: Option<i32>,
}

/// An analysed model: the analysis, and for each of its files (same order as
/// `analysis.sources`) the document it is.
#[derive(Debug)]
pub struct ModelAnalysed {
    pub revision: i32,
    pub analysis: ModelAnalysis,
    pub files: Vec<ModelFile>,
}

/// Runs on the blocking pool; never panics on any input (the crate guarantees it, and the caller
/// catches panics anyway).
pub fn analyse(input: ModelInput, config: &Config) -> ModelAnalysed {
    let ModelInput {
        root,
        path,
        root_text,
        open,
        today,
        revision,
    } = input;
    let mut analysis = match (&path, &root_text) {
        (Some(path), _) => {
            let overlay: HashMap<PathBuf, String> = open
                .iter()
                .map(|(path, (_, _, text))| (path.clone(), text.clone()))
                .collect();
            threatlens_models::analyse_model_overlaid(path, &overlay, today)
        }
        (None, Some(text)) => threatlens_models::analyse_model_text(
            text,
            std::path::Path::new(threatlens_models::DEFAULT_MODEL_FILE),
            today,
        ),
        (None, None) => ModelAnalysis::default(),
    };
    let docs = threatlens_models::rule_docs();
    for file in &mut analysis.report.files {
        config.apply_documented(&docs, &mut file.findings);
    }
    let files = analysis
        .sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            if path.is_none() && i == 0 {
                return ModelFile {
                    uri: root.clone(),
                    canonical: None,
                    version: None,
                };
            }
            let canonical = canonical(&source.path);
            match open.get(&canonical) {
                Some((uri, version, _)) => ModelFile {
                    uri: uri.clone(),
                    canonical: Some(canonical),
                    version: Some(*version),
                },
                None => ModelFile {
                    uri: path_to_uri(&canonical).unwrap_or_else(|| root.clone()),
                    canonical: Some(canonical),
                    version: None,
                },
            }
        })
        .collect();
    ModelAnalysed {
        revision,
        analysis,
        files,
    }
}

/// An id where it is written: its definition, a reference to it, or an exception's target.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub id: String,
    pub loc: Loc,
    pub what: Occ,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occ {
    Definition(ElementKind),
    /// A reference, with the kinds of element it may name and where it sits (`flows[].from`).
    Reference(&'static [ElementKind], &'static str),
    /// `exceptions[].target` naming an element.
    ExceptionTarget,
}

/// Every id occurrence in the model.
pub fn occurrences(model: &Model) -> Vec<Occurrence> {
    let mut all: Vec<Occurrence> = model
        .definitions()
        .map(|(kind, id, _)| Occurrence {
            id: id.value.0.clone(),
            loc: id.loc,
            what: Occ::Definition(kind),
        })
        .collect();
    all.extend(model.references().into_iter().map(|r| Occurrence {
        id: r.id.value.0.clone(),
        loc: r.id.loc,
        what: Occ::Reference(r.expects, r.role),
    }));
    all.extend(
        model
            .exceptions
            .iter()
            .filter(|e| !e.target.as_str().starts_with("code:"))
            .map(|e| Occurrence {
                id: e.target.value.clone(),
                loc: e.target.loc,
                what: Occ::ExceptionTarget,
            }),
    );
    all
}

impl ModelAnalysed {
    pub fn model(&self) -> &Model {
        &self.analysis.model
    }

    /// Whether every file was valid YAML (the model's ids could all be read).
    pub fn is_readable(&self) -> bool {
        !self
            .analysis
            .report
            .findings()
            .any(|(_, f)| f.slug == "yaml-syntax")
    }

    /// The index of the file that is document `uri`.
    pub fn file_of(&self, uri: &Uri) -> Option<usize> {
        self.files.iter().position(|f| &f.uri == uri)
    }

    /// The text view of file `index`: the text that was analysed.
    pub fn view(&self, index: usize, encoding: Encoding) -> Option<TextView<'_>> {
        let source = self.analysis.sources.get(index)?;
        let file = self.files.get(index)?;
        Some(TextView {
            uri: &file.uri,
            text: &source.text,
            lines: &source.index,
            encoding,
        })
    }

    /// Byte offset of an LSP position in file `index`.
    pub fn offset(&self, index: usize, position: Position, encoding: Encoding) -> Option<usize> {
        let source = self.analysis.sources.get(index)?;
        Some(encoding.offset(
            &source.text,
            &source.index,
            position.line as usize,
            position.character as usize,
        ))
    }

    /// The LSP range of a location, without the quotes of a quoted scalar.
    pub fn range(&self, loc: &Loc, encoding: Encoding) -> Option<Range> {
        let (start, end) = self.unquoted(loc)?;
        Some(self.view(loc.file, encoding)?.range(start, end))
    }

    pub fn location(&self, loc: &Loc, encoding: Encoding) -> Option<Location> {
        Some(Location {
            uri: self.files.get(loc.file)?.uri.clone(),
            range: self.range(loc, encoding)?,
        })
    }

    /// The byte range of a scalar's text, inside its quotes if it is quoted.
    pub fn unquoted(&self, loc: &Loc) -> Option<(usize, usize)> {
        let text = &self.analysis.sources.get(loc.file)?.text;
        let (start, end) = (loc.span.start_byte, loc.span.end_byte);
        let written = text.get(start..end)?;
        let quoted = written.len() >= 2
            && ((written.starts_with('"') && written.ends_with('"'))
                || (written.starts_with('\'') && written.ends_with('\'')));
        Some(if quoted {
            (start + 1, end - 1)
        } else {
            (start, end)
        })
    }

    /// The id occurrence at byte `offset` of file `index`.
    pub fn occurrence_at(&self, index: usize, offset: usize) -> Option<Occurrence> {
        occurrences(self.model()).into_iter().find(|o| {
            o.loc.file == index && o.loc.span.start_byte <= offset && offset <= o.loc.span.end_byte
        })
    }
}

/// `ModelWeights` → `model-weights`: the YAML spelling of a format enum's `Debug` name.
pub fn kebab(value: impl std::fmt::Debug) -> String {
    let name = format!("{value:?}");
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What an element is, in a few words: its name or title, and its main attributes.
#[derive(Debug, Clone)]
pub struct Summary {
    pub kind: ElementKind,
    pub name: Option<String>,
    /// `("kind", "llm")`, `("capability", "authn")`, …
    pub facts: Vec<(&'static str, String)>,
}

pub fn summary(model: &Model, id: &str) -> Option<Summary> {
    let (kind, _) = model.lookup(id)?;
    let mut facts = Vec::new();
    let name = match kind {
        ElementKind::Asset => {
            let a = model.asset(id)?;
            facts.push(("kind", kebab(a.kind)));
            facts.push(("classification", kebab(a.classification)));
            a.name.clone()
        }
        ElementKind::TrustBoundary => {
            let b = model.boundary(id)?;
            facts.push(("trust", kebab(b.trust)));
            if let Some(k) = b.kind {
                facts.push(("kind", kebab(k)));
            }
            b.name.clone()
        }
        ElementKind::Component => {
            let c = model.component(id)?;
            facts.push(("kind", kebab(c.kind)));
            if !c.controls.is_empty() {
                let ids: Vec<&str> = c.controls.iter().map(|r| r.as_str()).collect();
                facts.push(("controls", ids.join(", ")));
            }
            c.name.clone()
        }
        ElementKind::Flow => {
            let f = model.flow(id)?;
            facts.push(("from → to", format!("{} → {}", f.from, f.to)));
            if !f.carries.is_empty() {
                let ids: Vec<&str> = f.carries.iter().map(|r| r.as_str()).collect();
                facts.push(("carries", ids.join(", ")));
            }
            None
        }
        ElementKind::Control => {
            let c = model.control(id)?;
            facts.push(("capability", c.capability.value.0.clone()));
            facts.push(("status", kebab(c.status)));
            let iso: Vec<&str> = c.iso27001.iter().map(|i| i.as_str()).collect();
            if !iso.is_empty() {
                facts.push(("ISO/IEC 27001", iso.join(", ")));
            }
            c.title.clone()
        }
        ElementKind::Threat => {
            let t = model.threat(id)?;
            if let Some(risk) = t.risk() {
                facts.push(("risk", risk.to_string()));
            }
            Some(t.title.clone())
        }
        ElementKind::Supplier => {
            let s = model.supplier(id)?;
            facts.push(("kind", kebab(s.kind)));
            s.name.clone()
        }
        ElementKind::Playbook => model
            .playbooks()
            .iter()
            .find(|p| p.id.as_str() == id)
            .map(|p| p.title.clone()),
        ElementKind::Signal => model
            .signals()
            .iter()
            .find(|s| s.id.as_str() == id)
            .map(|s| s.metric.clone()),
    };
    Some(Summary { kind, name, facts })
}

/// The word for an element kind: `component`, `trust boundary`, …
pub fn kind_word(kind: ElementKind) -> &'static str {
    let noun = kind.noun();
    noun.strip_prefix("an ")
        .or_else(|| noun.strip_prefix("a "))
        .unwrap_or(noun)
}

#[cfg(test)]
pub mod testing {
    //! Analysed models from text, for the unit tests of the feature modules.

    use super::*;
    use std::str::FromStr;

    pub fn today() -> Date {
        Date::new(2026, 11, 28).unwrap_or_else(|| panic!("a valid date"))
    }

    /// A one-file model analysed from `text` (an `untitled:` buffer).
    pub fn analysed(text: &str) -> ModelAnalysed {
        let root = Uri::from_str("untitled:threatmodel.yaml")
            .unwrap_or_else(|e| panic!("a valid URI: {e}"));
        analyse(
            ModelInput {
                root,
                path: None,
                root_text: Some(text.to_owned()),
                open: HashMap::new(),
                today: today(),
                revision: 1,
            },
            &Config::default(),
        )
    }

    /// The text of an example model of the threat-models crate.
    pub fn example(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../threat-models/examples")
            .join(name)
            .join("threatmodel.yaml");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `text` with edits (byte ranges) applied.
    pub fn apply(text: &str, edits: &[(usize, usize, String)]) -> String {
        let mut edits = edits.to_vec();
        edits.sort_by_key(|(start, end, _)| std::cmp::Reverse((*start, *end)));
        let mut out = text.to_owned();
        for (start, end, new) in edits {
            out.replace_range(start..end, &new);
        }
        out
    }
}

//! What a file can know about the project's other modules: their top-level constants.
//!
//! Configuration modules are everywhere in AI projects (`MODEL_ID = "org/model"`,
//! `MIRROR = "http://…"`, `SHARED_DIR = Path("/mnt/shared")`), and the code that uses them lives
//! elsewhere. When a file imports such a name from a module of the scanned project, the module's
//! top-level constants are computed once (its own imports are not followed, so the facts of a
//! module never depend on who asks, or in what order) and cached for every importer.
//!
//! During a scan, a module whose constants are needed before the scan reached it is parsed once
//! for both: its tree waits in [`Project::take_parsed_ahead`] for the scan to analyse it.

use crate::catalogue::{Catalogue, Language};
use crate::engine::Emitter;
use crate::source::LineIndex;
use crate::value::{Const, Shape, Sym};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use tree_sitter::Tree;

/// Largest module read for its constants (configuration modules are small).
const MAX_MODULE_BYTES: u64 = 64 * 1024;

/// A constant that can cross threads (a [`Sym`] holds `Rc`s).
#[derive(Debug, Clone, PartialEq)]
pub enum ConstValue {
    Str(String),
    Template(String),
    Int(i64),
    Bool(bool),
    Seq(Vec<ConstValue>),
    Dict(Vec<(String, ConstValue)>),
    /// Something importable or built at import time (`yaml.FullLoader`, `openai.OpenAI()`).
    Name(String),
}

impl ConstValue {
    pub fn from_sym(sym: &Sym) -> Option<Self> {
        if sym.taint.is_some() {
            return None;
        }
        match (&sym.konst, &sym.shape) {
            (Some(Const::Str(s)), _) => Some(Self::Str(s.to_string())),
            (Some(Const::Int(n)), _) => Some(Self::Int(*n)),
            (Some(Const::Bool(b)), _) => Some(Self::Bool(*b)),
            (_, Shape::Seq(items)) => items
                .iter()
                .map(Self::from_sym)
                .collect::<Option<Vec<_>>>()
                .map(Self::Seq),
            (_, Shape::Dict(entries)) => entries
                .iter()
                .map(|(k, v)| Some((k.to_string(), Self::from_sym(v)?)))
                .collect::<Option<Vec<_>>>()
                .map(Self::Dict),
            _ => sym
                .template
                .as_deref()
                .map(|template| Self::Template(template.to_string()))
                .or_else(|| {
                    sym.qname()
                        .filter(|q| !q.starts_with(['?', '<', '.']))
                        .map(|q| Self::Name(q.to_string()))
                }),
        }
    }

    pub fn to_sym(&self) -> Sym {
        match self {
            Self::Str(s) => Sym::constant(Const::Str(s.as_str().into())),
            Self::Template(t) => Sym {
                template: Some(t.as_str().into()),
                ..Sym::default()
            },
            Self::Int(n) => Sym::constant(Const::Int(*n)),
            Self::Bool(b) => Sym::constant(Const::Bool(*b)),
            Self::Seq(items) => {
                let items: Vec<Sym> = items.iter().map(Self::to_sym).collect();
                let konst = items
                    .iter()
                    .map(|i| i.konst.clone())
                    .collect::<Option<Vec<_>>>()
                    .map(|consts| Const::Tuple(consts.into()));
                Sym {
                    konst,
                    shape: Shape::Seq(Rc::new(items)),
                    ..Sym::default()
                }
            }
            Self::Name(qname) => Sym::named(qname.as_str()),
            Self::Dict(entries) => Sym {
                shape: Shape::Dict(Rc::new(
                    entries
                        .iter()
                        .map(|(k, v)| (Rc::from(k.as_str()), v.to_sym()))
                        .collect(),
                )),
                ..Sym::default()
            },
        }
    }
}

/// The top-level constants of one module.
#[derive(Debug, Default)]
pub struct ModuleFacts {
    pub constants: HashMap<String, ConstValue>,
}

/// The project's Python modules, by dotted name, and their facts (computed on demand).
#[derive(Debug, Default)]
pub struct Project {
    roots: Vec<PathBuf>,
    /// Dotted module name → file; `None` when two files claim the name.
    modules: HashMap<String, Option<PathBuf>>,
    /// File → its full dotted name from its root (for relative imports).
    names: HashMap<PathBuf, String>,
    facts: Mutex<HashMap<PathBuf, Arc<ModuleFacts>>>,
    /// Module file → the files whose analysis read its constants (what a change to it affects),
    /// each with the names it looked up there, found or not.
    readers: Mutex<HashMap<PathBuf, HashMap<PathBuf, HashSet<String>>>>,
    /// Dotted module name → the files whose analysis looked for a constant in it, found or not
    /// (what a file claiming or giving up the name affects).
    askers: Mutex<HashMap<String, HashSet<PathBuf>>>,
    /// Set while a scan runs over the project's files.
    scan: Option<ScanState>,
}

/// What a running scan shares with the constant lookups of the files it analyses.
#[derive(Debug)]
struct ScanState {
    /// The scan's size limit: a larger file is not analysed, so it is not parsed ahead.
    max_file_bytes: u64,
    /// The files the scan analyses (the project may hold more, read for their constants only).
    members: HashSet<PathBuf>,
    /// Files whose analysis has started (or that wait in `parsed_ahead`).
    started: Mutex<HashSet<PathBuf>>,
    parsed_ahead: Mutex<Vec<ParsedModule>>,
}

/// A project module parsed for its constants before the scan reached it.
#[derive(Debug)]
pub struct ParsedModule {
    /// The absolute path, as the project knows it.
    pub path: PathBuf,
    pub text: String,
    pub tree: Tree,
}

impl Project {
    /// Indexes `files` (Python sources) found under `roots`. A file is known by its path from its
    /// root (`pkg/config.py` → `pkg.config`) and by every shorter dotted suffix of at least two
    /// segments, so code under `src/` still resolves `pkg.config`.
    pub fn new(roots: &[PathBuf], files: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut modules: HashMap<String, Option<PathBuf>> = HashMap::new();
        let mut names = HashMap::new();
        for file in files {
            let Some((own, claimed)) = module_names(roots, &file) else {
                continue;
            };
            names.insert(file.clone(), own);
            for name in claimed {
                modules
                    .entry(name)
                    .and_modify(|existing| {
                        if existing.as_ref() != Some(&file) {
                            *existing = None;
                        }
                    })
                    .or_insert_with(|| Some(file.clone()));
            }
        }
        Self {
            roots: roots.to_vec(),
            modules,
            names,
            facts: Mutex::new(HashMap::new()),
            readers: Mutex::new(HashMap::new()),
            askers: Mutex::new(HashMap::new()),
            scan: None,
        }
    }

    /// The same project after `changed` modules changed on disk (none added or removed): their
    /// constants are read again when next asked for, every other module's stay, and so does who
    /// read what (the files that read a changed module are analysed again, and record their
    /// reads again).
    pub fn after_changes_to(&self, changed: &[PathBuf]) -> Self {
        Self {
            roots: self.roots.clone(),
            modules: self.modules.clone(),
            names: self.names.clone(),
            ..self.carried_over(changed)
        }
    }

    /// The project of `files` after files were added or removed: modules indexed again, the
    /// constants read from the modules still there kept (a module's constants come from its own
    /// text), and who read or looked for what carried over.
    pub fn reindexed(&self, files: impl IntoIterator<Item = PathBuf>) -> Self {
        let project = Self::new(&self.roots, files);
        let gone: Vec<PathBuf> = self
            .names
            .keys()
            .filter(|file| !project.names.contains_key(*file))
            .cloned()
            .collect();
        Self {
            roots: project.roots,
            modules: project.modules,
            names: project.names,
            ..self.carried_over(&gone)
        }
    }

    /// What is learnt from analyses, minus the constants of `forgotten` modules.
    fn carried_over(&self, forgotten: &[PathBuf]) -> Self {
        let mut facts = self.facts.lock().map(|f| f.clone()).unwrap_or_default();
        for file in forgotten {
            facts.remove(file);
        }
        Self {
            facts: Mutex::new(facts),
            readers: Mutex::new(self.readers.lock().map(|r| r.clone()).unwrap_or_default()),
            askers: Mutex::new(self.askers.lock().map(|a| a.clone()).unwrap_or_default()),
            ..Self::default()
        }
    }

    /// The files whose analysis looked for a constant in a module that one of `files` (added
    /// or removed) is named as: what adding or removing them can change.
    pub fn askers_of_names_of(&self, files: &[PathBuf]) -> HashSet<PathBuf> {
        let Ok(askers) = self.askers.lock() else {
            return HashSet::new();
        };
        files
            .iter()
            .filter_map(|file| module_names(&self.roots, file))
            .flat_map(|(_, claimed)| claimed)
            .filter_map(|name| askers.get(&name))
            .flatten()
            .cloned()
            .collect()
    }

    /// Prepares the project for a scan of `members` (absolute paths, some or all of its files)
    /// that reads files up to `max_file_bytes`: each member is then analysed by whoever
    /// [`Project::start`]s it first, the scan or a lookup of its constants (which hands its
    /// parse over through [`Project::take_parsed_ahead`]). Other modules are only read.
    pub fn scanning(mut self, max_file_bytes: u64, members: HashSet<PathBuf>) -> Self {
        self.scan = Some(ScanState {
            max_file_bytes,
            members,
            started: Mutex::new(HashSet::new()),
            parsed_ahead: Mutex::new(Vec::new()),
        });
        self
    }

    /// Claims the analysis of `file` (an absolute path) for the caller: false when it has
    /// already started elsewhere. Always true outside a scan.
    pub fn start(&self, file: &Path) -> bool {
        let Some(scan) = &self.scan else {
            return true;
        };
        scan.started
            .lock()
            .map_or(true, |mut started| started.insert(file.to_path_buf()))
    }

    /// A module parsed ahead for its constants, to be analysed from that parse.
    pub fn take_parsed_ahead(&self) -> Option<ParsedModule> {
        self.scan.as_ref()?.parsed_ahead.lock().ok()?.pop()
    }

    /// The absolute dotted name of a relative module (`..utils` from `pkg/sub/a.py` is
    /// `pkg.utils`), from names alone (no file-system access).
    fn absolute_name(&self, module: &str, importer: Option<&Path>) -> Option<String> {
        let own = self.names.get(importer?)?;
        let dots = module.len() - module.trim_start_matches('.').len();
        let rest = &module[dots..];
        let mut package: Vec<&str> = own.split('.').collect();
        for _ in 0..dots {
            package.pop()?;
        }
        if !rest.is_empty() {
            package.push(rest);
        }
        Some(package.join("."))
    }

    fn module_file(&self, module: &str, importer: Option<&Path>) -> Option<PathBuf> {
        if module.starts_with('.') {
            let absolute = self.absolute_name(module, importer)?;
            return self.modules.get(&absolute).cloned().flatten();
        }
        self.modules.get(module).cloned().flatten()
    }

    /// The constant that `qname` (`pkg.config.MODEL_ID`) names, if it is a top-level constant
    /// of a project module.
    pub fn constant(
        &self,
        catalogue: &Catalogue,
        qname: &str,
        importer: Option<&Path>,
    ) -> Option<Sym> {
        let (module, name) = qname.rsplit_once('.')?;
        // Module constants are written in capitals (PEP 8); looking up every imported name
        // would read every imported module.
        let constant_name = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !constant_name {
            return None;
        }
        if let Some(importer) = importer {
            let asked = if module.starts_with('.') {
                self.absolute_name(module, Some(importer))
            } else {
                Some(module.to_string())
            };
            if let (Some(asked), Ok(mut askers)) = (asked, self.askers.lock()) {
                askers
                    .entry(asked)
                    .or_default()
                    .insert(importer.to_path_buf());
            }
        }
        if !module.starts_with('.') && !self.modules.contains_key(module) {
            return None;
        }
        let file = self.module_file(module, importer)?;
        if Some(file.as_path()) == importer {
            return None;
        }
        if let Some(importer) = importer
            && let Ok(mut readers) = self.readers.lock()
        {
            readers
                .entry(file.clone())
                .or_default()
                .entry(importer.to_path_buf())
                .or_default()
                .insert(name.to_string());
        }
        let facts = self.facts_of(catalogue, &file);
        facts.constants.get(name).map(ConstValue::to_sym)
    }

    /// Whether some importer has read `file`'s constants (so a change to it can change the
    /// findings of other files).
    pub fn consulted(&self, file: &Path) -> bool {
        self.facts
            .lock()
            .map_or(true, |cache| cache.contains_key(file))
            || self.readers_of(file).next().is_some()
    }

    /// The files whose analysis read `file`'s constants (with a path: open documents not saved
    /// under one are not counted).
    pub fn readers_of(&self, file: &Path) -> impl Iterator<Item = PathBuf> {
        self.readers_of_names(file, None)
    }

    /// The files whose analysis looked up one of `names` (every name when `None`) among
    /// `file`'s constants.
    pub fn readers_of_names(
        &self,
        file: &Path,
        names: Option<&HashSet<String>>,
    ) -> impl Iterator<Item = PathBuf> {
        let readers: Vec<PathBuf> = self
            .readers
            .lock()
            .ok()
            .and_then(|readers| {
                let of_file = readers.get(file)?;
                Some(
                    of_file
                        .iter()
                        .filter(|(_, read)| names.is_none_or(|names| !read.is_disjoint(names)))
                        .map(|(reader, _)| reader.clone())
                        .collect(),
                )
            })
            .unwrap_or_default();
        readers.into_iter()
    }

    fn facts_of(&self, catalogue: &Catalogue, file: &Path) -> Arc<ModuleFacts> {
        if let Ok(cache) = self.facts.lock()
            && let Some(facts) = cache.get(file)
        {
            return facts.clone();
        }
        // Computed outside the lock; two threads may both compute it, with the same result.
        let facts = Arc::new(self.compute_facts(catalogue, file));
        if let Ok(mut cache) = self.facts.lock() {
            cache
                .entry(file.to_path_buf())
                .or_insert_with(|| facts.clone());
        }
        facts
    }

    /// Of `changed` modules (changed on disk, none added or removed), those that now hold other
    /// constants than the project last read from them, each with the names whose value changed,
    /// came or went, or `None` (any name) when the project has not read them since their last
    /// change: only the files that looked those names up can find something else. Reads the
    /// modules again; what the project holds does not change.
    pub fn constants_changed(
        &self,
        catalogue: &Catalogue,
        changed: &[PathBuf],
    ) -> Vec<(PathBuf, Option<HashSet<String>>)> {
        changed
            .iter()
            .filter_map(|file| {
                let before = self
                    .facts
                    .lock()
                    .ok()
                    .and_then(|cache| cache.get(file).cloned());
                let Some(before) = before else {
                    return Some((file.clone(), None));
                };
                let now = parse_module(file)
                    .map(|(text, _, tree)| facts_from_tree(catalogue, &text, &tree))
                    .unwrap_or_default();
                let names: HashSet<String> = before
                    .constants
                    .keys()
                    .chain(now.constants.keys())
                    .filter(|name| before.constants.get(*name) != now.constants.get(*name))
                    .cloned()
                    .collect();
                (!names.is_empty()).then(|| (file.clone(), Some(names)))
            })
            .collect()
    }

    /// Parses `file` for its constants. During a scan that has not started the file yet, the
    /// parse is kept for the scan's analysis of it (when that analysis would read the same text).
    fn compute_facts(&self, catalogue: &Catalogue, file: &Path) -> ModuleFacts {
        let Some((text, utf8, tree)) = parse_module(file) else {
            return ModuleFacts::default();
        };
        // Only text the scan would analyse exactly as it is (valid UTF-8, not binary, in size).
        let scan = self.scan.as_ref().filter(|scan| {
            utf8 && scan.members.contains(file)
                && text.len() as u64 <= scan.max_file_bytes
                && !crate::analyse::looks_binary(text.as_bytes())
        });
        let facts = facts_from_tree(catalogue, &text, &tree);
        if let Some(scan) = scan
            && self.start(file)
            && let Ok(mut parsed_ahead) = scan.parsed_ahead.lock()
        {
            parsed_ahead.push(ParsedModule {
                path: file.to_path_buf(),
                text,
                tree,
            });
        }
        facts
    }
}

/// A module read for its constants, parsed: its text (invalid UTF-8 replaced), whether the text
/// was valid UTF-8, and its tree. `None` when it cannot be read or is over the size limit.
fn parse_module(file: &Path) -> Option<(String, bool, Tree)> {
    let bytes = crate::scan::read_limited(file, MAX_MODULE_BYTES).ok()?;
    let (text, utf8) = match String::from_utf8(bytes) {
        Ok(text) => (text, true),
        Err(error) => (
            String::from_utf8_lossy(error.as_bytes()).into_owned(),
            false,
        ),
    };
    let tree = crate::lang::parse(Language::Python, &text, None)?;
    Some((text, utf8, tree))
}

fn facts_from_tree(catalogue: &Catalogue, text: &str, tree: &Tree) -> ModuleFacts {
    let lines = LineIndex::new(text);
    let mut emitter = Emitter::new(catalogue, text, &lines, Language::Python);
    let constants = crate::lang::python::module_constants(catalogue, text, tree, &mut emitter);
    ModuleFacts {
        constants: constants
            .into_iter()
            .filter_map(|(name, sym)| Some((name, ConstValue::from_sym(&sym)?)))
            .collect(),
    }
}

/// A file's own dotted name from the first root that holds it (`pkg.config`; a package's
/// `__init__` is `pkg.__init__`, so that relative imports resolve from it like from a module
/// inside the package) and the names it can be imported by: from every root that holds it, the
/// name from that root and every shorter dotted suffix of at least two segments, so code under
/// `src/` still resolves `pkg.config`.
fn module_names(roots: &[PathBuf], file: &Path) -> Option<(String, Vec<String>)> {
    let mut containing = roots.iter().filter(|root| file.starts_with(root));
    let (own, mut claimed) = names_from(containing.next()?, file)?;
    // Nested roots (a checked directory inside the configuration's directory).
    for root in containing {
        for name in names_from(root, file)
            .map(|(_, names)| names)
            .unwrap_or_default()
        {
            if !claimed.contains(&name) {
                claimed.push(name);
            }
        }
    }
    Some((own, claimed))
}

/// `file`'s own dotted name from `root` and the names it can be imported by from there.
fn names_from(root: &Path, file: &Path) -> Option<(String, Vec<String>)> {
    let relative = file.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".py")?;
    if stem != "__init__" {
        parts.push(stem.to_string());
    }
    let own = if stem == "__init__" {
        format!("{}.__init__", parts.join("."))
    } else {
        parts.join(".")
    };
    let mut claimed = Vec::new();
    for start in 0..parts.len() {
        if parts.len() - start < 2 && start > 0 {
            break;
        }
        claimed.push(parts[start..].join("."));
    }
    Some((own, claimed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_under_nested_roots_is_named_from_each() {
        // A checked directory inside the configuration's directory: the first root gives the
        // module its own name, both give it names to be imported by.
        let roots = [PathBuf::from("/p/scripts"), PathBuf::from("/p")];
        let project = Project::new(&roots, vec![PathBuf::from("/p/scripts/settings.py")]);
        for name in ["settings", "scripts.settings"] {
            assert_eq!(
                project.module_file(name, None),
                Some(PathBuf::from("/p/scripts/settings.py")),
                "{name}"
            );
        }
        assert_eq!(
            project.names.get(Path::new("/p/scripts/settings.py")),
            Some(&"settings".to_string())
        );
    }

    #[test]
    fn modules_are_named_from_their_root_and_suffixes() {
        let root = PathBuf::from("/p");
        let project = Project::new(
            std::slice::from_ref(&root),
            vec![
                PathBuf::from("/p/src/pkg/config.py"),
                PathBuf::from("/p/src/pkg/__init__.py"),
                PathBuf::from("/p/other/pkg/config.py"),
                PathBuf::from("/p/tool.py"),
            ],
        );
        assert_eq!(
            project.module_file("src.pkg.config", None),
            Some(PathBuf::from("/p/src/pkg/config.py"))
        );
        // Two files claim `pkg.config`: ambiguous, so unresolved.
        assert_eq!(project.module_file("pkg.config", None), None);
        assert_eq!(
            project.module_file("src.pkg", None),
            Some(PathBuf::from("/p/src/pkg/__init__.py"))
        );
        assert_eq!(
            project.module_file("tool", None),
            Some(PathBuf::from("/p/tool.py"))
        );
        assert_eq!(project.module_file("config", None), None);
        // Relative imports resolve from the importer's own name.
        let importer = PathBuf::from("/p/src/pkg/__init__.py");
        assert_eq!(
            project.module_file(".config", Some(&importer)),
            Some(PathBuf::from("/p/src/pkg/config.py"))
        );
        let importer = PathBuf::from("/p/src/pkg/config.py");
        assert_eq!(
            project.module_file("..pkg", Some(&importer)),
            Some(PathBuf::from("/p/src/pkg/__init__.py"))
        );
    }

    /// A project of `pkg/config.py` (a constant) and `pkg/app.py`, on disk.
    fn config_project(config: &[u8]) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = std::path::absolute(dir.path()).expect("an absolute path");
        let config_file = root.join("pkg/config.py");
        let app = root.join("pkg/app.py");
        std::fs::create_dir_all(root.join("pkg")).expect("create pkg/");
        std::fs::write(&config_file, config).expect("write config.py");
        std::fs::write(&app, "from pkg.config import MODEL_ID\n").expect("write app.py");
        (dir, config_file, app)
    }

    fn model_id(project: &Project, app: &Path) -> Option<String> {
        let sym = project.constant(Catalogue::builtin(), "pkg.config.MODEL_ID", Some(app))?;
        sym.str_value().map(str::to_string)
    }

    const CONFIG: &[u8] = b"MODEL_ID = \"acme/bot\"\n";

    #[test]
    fn a_scan_keeps_the_parse_of_a_module_read_before_its_turn() {
        let (dir, config, app) = config_project(CONFIG);
        let files = [config.clone(), app.clone()];
        let project = Project::new(&[dir.path().to_path_buf()], files.clone())
            .scanning(1 << 20, files.into_iter().collect());
        assert!(project.start(&app));
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        let module = project.take_parsed_ahead().expect("config.py parsed ahead");
        assert_eq!(module.path, config);
        assert_eq!(module.text.as_bytes(), CONFIG);
        assert_eq!(module.tree.root_node().kind(), "module");
        // Its analysis is taken: the scan must not start it again, nor hand it out twice.
        assert!(!project.start(&config));
        assert!(project.take_parsed_ahead().is_none());
        // The next importer reads the cached constants.
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        assert!(project.take_parsed_ahead().is_none());
    }

    #[test]
    fn only_modules_the_scan_would_read_as_they_are_are_parsed_ahead() {
        let not_utf8 = [CONFIG, b"# \xff\n"].concat();
        let cases: [(&str, &[u8], u64, bool); 3] = [
            ("started by the scan", CONFIG, 1 << 20, true),
            // The scan reports it as skipped instead.
            ("over the scan's size limit", CONFIG, 4, false),
            // The scan analyses a repaired copy and says so.
            ("not UTF-8", &not_utf8, 1 << 20, false),
        ];
        for (case, config_text, limit, started) in cases {
            let (dir, config, app) = config_project(config_text);
            let files = [config.clone(), app.clone()];
            let project = Project::new(&[dir.path().to_path_buf()], files.clone())
                .scanning(limit, files.into_iter().collect());
            if started {
                assert!(project.start(&config));
            }
            assert_eq!(
                model_id(&project, &app).as_deref(),
                Some("acme/bot"),
                "{case}"
            );
            assert!(project.take_parsed_ahead().is_none(), "{case}");
        }
        // A module the scan does not analyse (it was not asked for) is only read.
        let (dir, config, app) = config_project(CONFIG);
        let project = Project::new(&[dir.path().to_path_buf()], [config, app.clone()])
            .scanning(1 << 20, HashSet::from([app.clone()]));
        assert!(project.start(&app));
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        assert!(project.take_parsed_ahead().is_none());
        // Outside a scan, nothing is kept and anything may start.
        let (dir, config, app) = config_project(CONFIG);
        let project = Project::new(&[dir.path().to_path_buf()], [config.clone(), app.clone()]);
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        assert!(project.take_parsed_ahead().is_none());
        assert!(project.start(&config) && project.start(&config));
    }

    #[test]
    fn a_module_changed_outside_its_constants_keeps_them() {
        let (dir, config, app) = config_project(CONFIG);
        let project = Project::new(&[dir.path().to_path_buf()], [config.clone(), app.clone()]);
        let catalogue = Catalogue::builtin();
        let changed =
            |project: &Project| project.constants_changed(catalogue, std::slice::from_ref(&config));
        // Not read yet: nothing to compare with, so any name may have changed.
        assert_eq!(changed(&project), [(config.clone(), None)]);
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        let function = [CONFIG, b"\n\ndef load():\n    return 1\n"].concat();
        std::fs::write(&config, &function).expect("write config.py");
        assert!(changed(&project).is_empty());
        std::fs::write(&config, b"MODEL_ID = \"acme/other\"\nCACHE = \"/tmp\"\n")
            .expect("write config.py");
        let names = HashSet::from(["MODEL_ID".to_string(), "CACHE".to_string()]);
        assert_eq!(changed(&project), [(config.clone(), Some(names.clone()))]);
        // It only compares: the project still holds the constants it read.
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        // `app.py` looked up `MODEL_ID`, not `CACHE`.
        let readers = |names: &[&str]| {
            let names = names.iter().map(|n| n.to_string()).collect();
            project
                .readers_of_names(&config, Some(&names))
                .collect::<Vec<_>>()
        };
        assert_eq!(readers(&["CACHE", "MODEL_ID"]), std::slice::from_ref(&app));
        assert!(readers(&["CACHE"]).is_empty());
    }

    #[test]
    fn after_a_change_only_the_changed_module_is_read_again() {
        let (dir, config, app) = config_project(CONFIG);
        let other = config.with_file_name("paths.py");
        std::fs::write(&other, "CACHE = \"/tmp/cache\"\n").expect("write paths.py");
        let files = [config.clone(), app.clone(), other.clone()];
        let project = Project::new(&[dir.path().to_path_buf()], files);
        let cache = |project: &Project| {
            let sym = project.constant(Catalogue::builtin(), "pkg.paths.CACHE", Some(&app))?;
            sym.str_value().map(str::to_string)
        };
        assert!(!project.consulted(&config));
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        assert_eq!(cache(&project).as_deref(), Some("/tmp/cache"));
        assert!(project.consulted(&config));
        assert_eq!(
            project.readers_of(&config).collect::<Vec<_>>(),
            std::slice::from_ref(&app)
        );
        assert_eq!(project.readers_of(&app).count(), 0);

        std::fs::write(&config, "MODEL_ID = \"acme/bot-v2\"\n").expect("rewrite config.py");
        std::fs::write(&other, "CACHE = \"/srv/cache\"\n").expect("rewrite paths.py");
        // What a project read stays what it read.
        assert_eq!(model_id(&project, &app).as_deref(), Some("acme/bot"));
        let after = project.after_changes_to(std::slice::from_ref(&config));
        assert_eq!(model_id(&after, &app).as_deref(), Some("acme/bot-v2"));
        // Only the module said to have changed is read again.
        assert_eq!(cache(&after).as_deref(), Some("/tmp/cache"));
        assert!(after.consulted(&config) && after.consulted(&other));
        assert_eq!(after.readers_of(&config).collect::<Vec<_>>(), [app]);
    }

    #[test]
    fn a_module_that_appears_or_goes_affects_the_files_that_looked_for_it() {
        let (dir, config, app) = config_project(CONFIG);
        let root = dir.path().to_path_buf();
        // Without `config.py`, `app.py` finds nothing, but it looked.
        let project = Project::new(std::slice::from_ref(&root), [app.clone()]);
        assert_eq!(model_id(&project, &app), None);
        let added = std::slice::from_ref(&config);
        assert_eq!(
            project.askers_of_names_of(added),
            HashSet::from([app.clone()])
        );
        // A module named otherwise concerns nobody.
        let unrelated = config.with_file_name("paths.py");
        assert!(project.askers_of_names_of(&[unrelated]).is_empty());

        let with_config = project.reindexed([app.clone(), config.clone()]);
        assert_eq!(model_id(&with_config, &app).as_deref(), Some("acme/bot"));
        // Its removal concerns the same files; the constants of what stays are kept.
        assert_eq!(
            with_config.askers_of_names_of(added),
            HashSet::from([app.clone()])
        );
        std::fs::write(&config, "MODEL_ID = \"acme/other\"\n").expect("rewrite config.py");
        let again = with_config.reindexed([app.clone(), config.clone()]);
        assert_eq!(model_id(&again, &app).as_deref(), Some("acme/bot"));
        let without = with_config.reindexed([app.clone()]);
        assert_eq!(model_id(&without, &app), None);
        assert!(without.consulted(&config), "who read it is kept");
    }

    #[test]
    fn constants_round_trip() {
        let value = ConstValue::Seq(vec![ConstValue::Str("a".into()), ConstValue::Int(3)]);
        assert_eq!(ConstValue::from_sym(&value.to_sym()), Some(value));
    }
}

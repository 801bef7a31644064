//! The rule catalogue: rules are data, in `rules/catalogue/*.toml`, compiled once per process.
//!
//! A rule matches one of three shapes:
//! - **calls** to qualified names (`torch.load`), with predicates on arguments (`when` must all
//!   hold, any `unless` silences, any `opt_out` marks an explicit opt-out of a safety);
//! - **assignments** to qualified targets (`os.environ.[CURL_CA_BUNDLE] = ""`);
//! - **secrets**: string constants matching token patterns, or long random literals bound to
//!   credential-like names;
//! - a tree-sitter **query**, for the odd shapes that are not calls to one name.
//!
//! `semantics.toml` holds what the engine needs to understand code beyond rule matching: module
//! aliases (`cPickle` is `pickle`), taint sources (LLM completions, HTTP requests, downloads) and
//! sanitisers.

use crate::finding::{Category, References, Severity};
use crate::qname::{Pattern, PatternIndex};
use regex::Regex;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The catalogue files compiled into the binary, as JSON converted from `catalogue/*.toml` by
/// the build script (it parses faster). Adding a rule to one of them needs no Rust.
macro_rules! catalogue_file {
    ($name:literal) => {
        (
            concat!($name, ".toml"),
            include_str!(concat!(env!("OUT_DIR"), "/catalogue/", $name, ".json")),
        )
    };
}
const CATALOGUE_FILES: &[(&str, &str)] = &[
    catalogue_file!("deserialisation"),
    catalogue_file!("yaml"),
    catalogue_file!("supply-chain"),
    catalogue_file!("llm-output"),
    catalogue_file!("transport"),
    catalogue_file!("secrets"),
    catalogue_file!("exposure"),
    catalogue_file!("artefacts"),
    catalogue_file!("rust"),
    catalogue_file!("artefact-files"),
    catalogue_file!("meta"),
];
const SEMANTICS_FILE: (&str, &str) = catalogue_file!("semantics");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Rust,
}

/// Whether taint (an untrusted source flowing into the rule's subject) matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaintMode {
    /// Fire regardless; an untrusted subject raises the severity.
    #[default]
    Raises,
    /// Fire only when the subject is untrusted.
    Required,
    /// Provenance does not matter.
    Ignored,
}

/// Where untrusted data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Llm,
    Request,
    Network,
    HubDownload,
    Socket,
    UserInput,
}

impl SourceKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Llm => "an LLM completion",
            Self::Request => "HTTP request data",
            Self::Network => "a network response",
            Self::HubDownload => "a model-hub download",
            Self::Socket => "a network socket",
            Self::UserInput => "user input",
        }
    }
}

/// An argument of a call, by keyword and/or position (0-based, receiver excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    pub keyword: Option<String>,
    pub position: Option<usize>,
}

/// Named value tests implemented by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Is {
    Present,
    Absent,
    True,
    False,
    Constant,
    NonConstant,
    EmptyString,
    /// A string constant that names a model-hub repository (`org/name`, `gpt2`), not a local path.
    HubRepoId,
    /// A string constant that is a commit hash (7 to 40 hex digits).
    PinnedRevision,
    /// A string constant with an `http://` URL to a host other than loopback.
    InsecureUrl,
    /// A string constant path on a shared or world-writable mount (`/mnt`, `/nfs`, `/tmp`, …).
    SharedPath,
    /// A state dict (`x.state_dict()`), or a dict/list of state dicts and plain values.
    StateDict,
    /// A bind address that listens on every interface (`0.0.0.0`, `::`, `*`).
    AllInterfaces,
    /// The value comes from an untrusted source.
    Tainted,
}

/// One test on one argument (or, without `keyword`/`position`, on the rule's subject).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredicateDef {
    pub keyword: Option<String>,
    pub position: Option<usize>,
    pub is: Option<Is>,
    #[serde(default)]
    pub resolves_to: Vec<String>,
    pub matches: Option<String>,
    pub has_key: Option<String>,
    /// Test the entry under this key of a dict argument (`model_kwargs={"trust_remote_code": True}`).
    pub key: Option<String>,
    /// Only for calls whose callee matches one of these patterns.
    #[serde(default)]
    pub callee: Vec<String>,
    /// Holds when any of these holds.
    #[serde(default)]
    pub any: Vec<PredicateDef>,
    /// Holds when all of these hold.
    #[serde(default)]
    pub all: Vec<PredicateDef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchDef {
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub assigns: Vec<String>,
    /// Values returned from functions with one of these decorators (a web route's response).
    #[serde(default)]
    pub returns_from: Vec<String>,
    pub secret: Option<SecretDef>,
    pub query: Option<String>,
    pub subject: Option<ArgSpec>,
    /// The subject is a list of chat messages (`{"role": …, "content": …}` dicts or
    /// `(role, content)` pairs): only the content of the messages with one of these roles is
    /// the subject, and without such a message the rule does not fire.
    #[serde(default)]
    pub subject_roles: Vec<String>,
    #[serde(default)]
    pub when: Vec<PredicateDef>,
    #[serde(default)]
    pub unless: Vec<PredicateDef>,
    #[serde(default)]
    pub opt_out: Vec<PredicateDef>,
    #[serde(default)]
    pub taint: TaintMode,
    #[serde(default)]
    pub taint_kinds: Vec<SourceKind>,
    #[serde(default)]
    pub skip_constant_subject: bool,
    /// An explicit opt-out fires even when an `unless` predicate holds.
    #[serde(default)]
    pub opt_out_overrides_unless: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretDef {
    /// Token shapes recognised anywhere in a string constant.
    #[serde(default)]
    pub tokens: Vec<TokenDef>,
    /// Credential-like names (keyword arguments, assignment targets, dict keys) whose string value
    /// is reported when it looks random enough to be a real credential.
    #[serde(default)]
    pub names: Vec<String>,
    /// Environment variable the fix reads instead, for `names` matches.
    pub env: Option<String>,
    #[serde(default = "default_min_length")]
    pub min_length: usize,
    #[serde(default = "default_min_entropy")]
    pub min_entropy: f64,
}

fn default_min_length() -> usize {
    16
}
fn default_min_entropy() -> f64 {
    3.3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDef {
    pub name: String,
    pub regex: String,
    /// Environment variable the fix reads instead.
    pub env: Option<String>,
    /// Minimum entropy (bits per character) of the regex's `secret` group, for shapes whose
    /// secret part could also be a dictionary word (`postgres://app:postgres@db`).
    pub min_entropy: Option<f64>,
    /// Literal text every match contains (`sk-`): a fast pre-check before the regex.
    #[serde(default)]
    pub anchors: Vec<String>,
}

/// A mechanical fix, described as data.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FixDef {
    /// Set a keyword argument (added when absent; its value replaced when present, also when it
    /// was passed by `position`).
    SetKeyword {
        title: String,
        keyword: String,
        value: String,
        position: Option<usize>,
        /// No fix when one of these keywords is passed (e.g. `pickle_module` for `weights_only`).
        #[serde(default)]
        unless_present: Vec<String>,
        /// Only replace an argument that is there; never add one.
        #[serde(default)]
        replace_only: bool,
    },
    /// Delete a keyword argument.
    RemoveKeyword { title: String, keyword: String },
    /// Rename the called attribute (`yaml.load` → `yaml.safe_load`), keeping the receiver;
    /// `map` goes from the current name to the new one.
    RenameCallee {
        title: String,
        map: HashMap<String, String>,
    },
    /// Rename the last name of an argument (`yaml.Loader` → `yaml.SafeLoader`).
    RenameArgument {
        title: String,
        keyword: Option<String>,
        position: Option<usize>,
        map: HashMap<String, String>,
    },
    /// Turn the `http://` string literal of an argument into `https://`.
    UpgradeToHttps {
        title: String,
        keyword: Option<String>,
        position: Option<usize>,
    },
    /// Wrap the subject in a call, adding `import` when needed (`html.escape(answer)`).
    WrapSubject {
        title: String,
        function: String,
        import: Option<String>,
    },
    /// Replace a secret literal by an environment variable lookup.
    SecretToEnv { title: String },
}

impl FixDef {
    pub fn title(&self) -> &str {
        match self {
            Self::SetKeyword { title, .. }
            | Self::RemoveKeyword { title, .. }
            | Self::RenameCallee { title, .. }
            | Self::RenameArgument { title, .. }
            | Self::UpgradeToHttps { title, .. }
            | Self::WrapSubject { title, .. }
            | Self::SecretToEnv { title } => title,
        }
    }
}

/// Snippets that must fire (`bad`) and must stay silent (`good`); the catalogue test runs them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub bad: Vec<Example>,
    #[serde(default)]
    pub good: Vec<Example>,
}

/// An example snippet: just code, or code with the severity it must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Example {
    Code(String),
    Detailed {
        code: String,
        severity: Option<Severity>,
        /// The example's language, when the rule has several (default: the first).
        language: Option<Language>,
    },
}

impl Example {
    pub fn code(&self) -> &str {
        match self {
            Self::Code(code) | Self::Detailed { code, .. } => code,
        }
    }
    pub fn severity(&self) -> Option<Severity> {
        match self {
            Self::Code(_) => None,
            Self::Detailed { severity, .. } => *severity,
        }
    }
    /// The language to analyse the example as, for a rule whose first language is `default`.
    pub fn language(&self, default: Language) -> Language {
        match self {
            Self::Detailed {
                language: Some(language),
                ..
            } => *language,
            _ => default,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub category: Category,
    /// Severity when nothing raises it (unknown provenance, no explicit opt-out).
    pub severity: Severity,
    /// Severity when the subject comes from an untrusted source (default: high).
    pub tainted_severity: Option<Severity>,
    /// Severity when the code explicitly opts out of a safety (default: high).
    pub opt_out_severity: Option<Severity>,
    pub languages: Vec<Language>,
    /// What is wrong and what to do, in one or two sentences. `{callee}` is the call as written.
    pub message: String,
    /// Why it matters (for `explain`, hovers and SARIF help).
    pub rationale: String,
    /// How to fix it.
    pub mitigation: String,
    pub references: References,
    #[serde(rename = "match")]
    pub matcher: MatchDef,
    pub fix: Option<FixDef>,
    #[serde(default)]
    pub examples: Examples,
    /// Set on rules the engine raises itself (suppression problems, unreadable files).
    #[serde(default)]
    pub builtin: bool,
}

impl Rule {
    pub fn doc(&self) -> crate::finding::RuleDoc {
        crate::finding::RuleDoc {
            id: self.id.clone(),
            slug: self.slug.clone(),
            title: self.title.clone(),
            category: self.category,
            severity: self.severity,
            rationale: self.rationale.trim().to_string(),
            mitigation: self.mitigation.trim().to_string(),
            references: self.references.clone(),
            fix: self.fix.as_ref().map(|f| f.title().to_string()),
        }
    }

    pub fn tainted_severity(&self) -> Severity {
        self.tainted_severity
            .unwrap_or(Severity::High)
            .max(self.severity)
    }
    pub fn opt_out_severity(&self) -> Severity {
        self.opt_out_severity
            .unwrap_or(Severity::High)
            .max(self.severity)
    }
    pub fn applies_to(&self, language: Language) -> bool {
        self.languages.contains(&language)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    rule: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SemanticsFile {
    #[serde(default)]
    aliases: HashMap<String, String>,
    #[serde(default)]
    source: Vec<SourceDef>,
    #[serde(default)]
    sanitisers: Vec<String>,
    #[serde(default)]
    builtins: Vec<String>,
    #[serde(default)]
    credential_param: Vec<CredentialParamDef>,
    #[serde(default)]
    runs_later: Vec<RunsLaterDef>,
    #[serde(default)]
    download: Vec<DownloadDef>,
}

/// Calls that run a function later with arguments they were given (a thread, a process, an
/// executor task): the function is analysed as called with them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsLaterDef {
    pub calls: Vec<String>,
    /// The function.
    pub target: ArgSpec,
    /// A tuple of its positional arguments (`Thread(args=…)`).
    pub args: Option<ArgSpec>,
    /// A dict of its keyword arguments (`Thread(kwargs=…)`).
    pub kwargs: Option<ArgSpec>,
    /// The call's other arguments are the function's (`pool.submit(f, a, b=…)`).
    #[serde(default)]
    pub passes_the_rest: bool,
}

/// Downloads that return the path of the file they saved, ending with the file name given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadDef {
    pub calls: Vec<String>,
    pub file_name: ArgSpec,
}

/// An SDK parameter that holds a credential, for calls that take it by position or under a
/// name that does not say so (`cohere.Client("…")`, `wandb.login(key="…")`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialParamDef {
    pub call: String,
    pub position: Option<usize>,
    pub keyword: Option<String>,
    /// The credential name the value is checked under (`api_key`).
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceDef {
    kind: SourceKind,
    /// Qualified names whose value (or any attribute/call of it) is untrusted.
    #[serde(default)]
    patterns: Vec<String>,
    /// Decorators whose function parameters are filled by an untrusted party (LLM tool calls).
    #[serde(default)]
    decorated_params: Vec<String>,
}

/// A compiled predicate.
#[derive(Debug, Clone)]
pub struct Predicate {
    pub arg: Option<ArgSpec>,
    pub is: Option<Is>,
    pub resolves_to: Vec<Pattern>,
    pub matches: Option<LazyRegex<Regex>>,
    pub has_key: Option<String>,
    pub key: Option<String>,
    pub callee: Vec<Pattern>,
    pub any: Vec<Predicate>,
    pub all: Vec<Predicate>,
}

impl Predicate {
    /// Whether the predicate tests the value itself (rather than only combining others).
    pub fn tests_value(&self) -> bool {
        self.is.is_some()
            || !self.resolves_to.is_empty()
            || self.matches.is_some()
            || self.has_key.is_some()
    }
}

/// A regular expression (or a set of them) compiled on first use. Every command reads the
/// whole catalogue at start-up, and compiling every secret shape was most of a one-file check's
/// time, while a token's regex only runs on strings holding one of its anchors. Nor is the
/// syntax checked at start-up (a sixth of a one-file check): the catalogue is built in, and
/// its tests compile every one (`every_secret_regex_compiles`, `every_predicate_regex_compiles`).
#[derive(Debug, Clone)]
pub struct LazyRegex<T> {
    patterns: Vec<String>,
    compiled: std::sync::OnceLock<Option<T>>,
}

/// What a [`LazyRegex`] compiles to.
pub trait CompileRegex: Sized {
    fn compile(patterns: &[String]) -> Result<Self, regex::Error>;
}

impl CompileRegex for Regex {
    fn compile(patterns: &[String]) -> Result<Self, regex::Error> {
        Regex::new(patterns.first().map_or("", String::as_str))
    }
}

impl CompileRegex for regex::RegexSet {
    fn compile(patterns: &[String]) -> Result<Self, regex::Error> {
        regex::RegexSet::new(patterns)
    }
}

impl<T: CompileRegex> LazyRegex<T> {
    fn new(patterns: Vec<String>) -> Self {
        Self {
            patterns,
            compiled: std::sync::OnceLock::new(),
        }
    }

    /// The compiled regex; `None` only if it does not compile (the catalogue tests compile
    /// every one).
    pub fn get(&self) -> Option<&T> {
        self.compiled
            .get_or_init(|| T::compile(&self.patterns).ok())
            .as_ref()
    }
}

/// A compiled secret token shape.
#[derive(Debug, Clone)]
pub struct Token {
    pub name: String,
    pub regex: LazyRegex<Regex>,
    /// Literal text every match contains (none: no such promise).
    pub anchors: Vec<String>,
    pub env: Option<String>,
    pub min_entropy: Option<f64>,
}

/// A compiled secret rule.
#[derive(Debug, Clone)]
pub struct SecretMatcher {
    pub rule: usize,
    pub tokens: Vec<Token>,
    /// All token shapes at once: one pass over a string rules most of them out.
    pub any_token: LazyRegex<regex::RegexSet>,
    /// The tokens' anchors, when every token has some: strings without one cannot match (all
    /// rules' anchors are searched at once, by [`SecretAnchors`]).
    pub anchors: Vec<String>,
    /// Any of the credential-like names, whole and case-insensitive.
    pub names: Option<LazyRegex<Regex>>,
    pub env: Option<String>,
    pub min_length: usize,
    pub min_entropy: f64,
}

impl SecretMatcher {
    /// The tokens that can be in `text`, in order: those whose anchors it holds, or, for a rule
    /// with unanchored tokens, those that the token set matches.
    pub fn tokens_in<'s>(&'s self, text: &str) -> impl Iterator<Item = &'s Token> {
        let set = if self.anchors.is_empty() && !self.tokens.is_empty() {
            self.any_token.get().map(|set| set.matches(text))
        } else {
            None
        };
        self.tokens
            .iter()
            .enumerate()
            .filter_map(move |(index, token)| {
                let possible = match &set {
                    Some(set) => set.matched(index),
                    None => token
                        .anchors
                        .iter()
                        .any(|anchor| text.contains(anchor.as_str())),
                };
                possible.then_some(token)
            })
    }
}

/// The anchors of every secret rule in one automaton: one pass over a string says which rules'
/// tokens it can hold (most strings hold none).
#[derive(Debug, Clone, Default)]
pub struct SecretAnchors {
    automaton: Option<aho_corasick::AhoCorasick>,
    /// The secret rule (index into [`Catalogue::secrets`]) of each anchor.
    owner: Vec<usize>,
    /// Rules without anchors: any string can hold their tokens.
    unanchored: u64,
}

impl SecretAnchors {
    fn new(secrets: &[SecretMatcher]) -> Result<Self, String> {
        if secrets.len() > 64 {
            return Err("at most 64 secret rules (their anchors are a 64-bit set)".into());
        }
        let mut anchors = Vec::new();
        let mut owner = Vec::new();
        let mut unanchored = 0;
        for (index, secret) in secrets.iter().enumerate() {
            if secret.anchors.is_empty() {
                unanchored |= 1 << index;
            }
            for anchor in &secret.anchors {
                anchors.push(anchor.as_str());
                owner.push(index);
            }
        }
        let automaton = (!anchors.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(anchors).map_err(|e| e.to_string()))
            .transpose()?;
        Ok(Self {
            automaton,
            owner,
            unanchored,
        })
    }

    /// The secret rules whose tokens `text` can hold, as a set of indices into
    /// [`Catalogue::secrets`].
    pub fn candidates(&self, text: &str) -> u64 {
        let mut set = self.unanchored;
        if let Some(automaton) = &self.automaton {
            for found in automaton.find_overlapping_iter(text) {
                set |= 1 << self.owner[found.pattern().as_usize()];
            }
        }
        set
    }
}

/// A compiled tree-sitter query rule.
#[derive(Debug)]
pub struct QueryMatcher {
    pub rule: usize,
    pub language: Language,
    source: String,
    /// Compiled on first use: compiling a query costs as much as parsing a large file, and only
    /// Rust files need them.
    compiled: std::sync::OnceLock<Result<tree_sitter::Query, String>>,
}

impl QueryMatcher {
    /// The compiled query (an invalid query is an error, which the catalogue test rules out).
    pub fn query(&self) -> Result<&tree_sitter::Query, &str> {
        self.compiled
            .get_or_init(|| {
                let query =
                    tree_sitter::Query::new(&crate::lang::grammar(self.language), &self.source)
                        .map_err(|e| e.to_string())?;
                if query.capture_index_for_name("finding").is_none() {
                    return Err("a query needs a @finding capture".into());
                }
                Ok(query)
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Compiled per-rule matching data, parallel to [`Catalogue::rules`].
#[derive(Debug, Clone, Default)]
pub struct CompiledMatch {
    pub when: Vec<Predicate>,
    pub unless: Vec<Predicate>,
    pub opt_out: Vec<Predicate>,
}

/// The loaded, validated, compiled catalogue.
#[derive(Debug)]
pub struct Catalogue {
    pub rules: Vec<Rule>,
    pub compiled: Vec<CompiledMatch>,
    by_id: HashMap<String, usize>,
    /// Call rules, by callee pattern, per language.
    pub calls: HashMap<Language, PatternIndex<usize>>,
    /// Assignment rules, by target pattern.
    pub assigns: PatternIndex<usize>,
    /// Return rules, by decorator pattern.
    pub returns: PatternIndex<usize>,
    pub secrets: Vec<SecretMatcher>,
    pub secret_anchors: SecretAnchors,
    pub queries: Vec<QueryMatcher>,
    /// Module aliases: canonical prefix for a prefix (`cPickle` → `pickle`).
    pub aliases: Vec<(String, String)>,
    pub sources: PatternIndex<SourceKind>,
    pub decorated_sources: PatternIndex<SourceKind>,
    pub sanitisers: PatternIndex<()>,
    pub builtins: rustc_hash::FxHashSet<String>,
    pub credential_params: PatternIndex<CredentialParamDef>,
    pub runs_later: PatternIndex<RunsLaterDef>,
    /// The argument naming the saved file, by download call.
    pub downloads: PatternIndex<ArgSpec>,
}

static BUILTIN: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::load(CATALOGUE_FILES, SEMANTICS_FILE)
        .unwrap_or_else(|error| panic!("the built-in rule catalogue is invalid: {error}"))
});

impl Catalogue {
    /// The catalogue compiled into this binary (validated by the catalogue tests).
    pub fn builtin() -> &'static Catalogue {
        &BUILTIN
    }

    /// Loads catalogue files (name, JSON text) and the semantics file.
    fn load(
        files: &[(&str, &str)],
        (semantics_name, semantics): (&str, &str),
    ) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (name, text) in files {
            let file: CatalogueFile =
                serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            rules.extend(file.rule);
        }
        let semantics: SemanticsFile =
            serde_json::from_str(semantics).map_err(|e| format!("{semantics_name}: {e}"))?;

        let mut catalogue = Catalogue {
            compiled: Vec::with_capacity(rules.len()),
            by_id: HashMap::new(),
            calls: HashMap::new(),
            assigns: PatternIndex::default(),
            returns: PatternIndex::default(),
            secrets: Vec::new(),
            secret_anchors: SecretAnchors::default(),
            queries: Vec::new(),
            aliases: Vec::new(),
            sources: PatternIndex::default(),
            decorated_sources: PatternIndex::default(),
            sanitisers: PatternIndex::default(),
            builtins: semantics.builtins.into_iter().collect(),
            credential_params: PatternIndex::default(),
            runs_later: PatternIndex::default(),
            downloads: PatternIndex::default(),
            rules: Vec::new(),
        };
        let mut slugs = HashSet::new();
        for (index, rule) in rules.iter().enumerate() {
            let context = |e: String| format!("rule {}: {e}", rule.id);
            if !is_rule_id(&rule.id) {
                return Err(context("ids look like `TL` and three digits".into()));
            }
            if catalogue.by_id.insert(rule.id.clone(), index).is_some() {
                return Err(context("duplicate id".into()));
            }
            if !slugs.insert(rule.slug.clone()) {
                return Err(context(format!("duplicate slug `{}`", rule.slug)));
            }
            catalogue
                .compiled
                .push(compile_match(&rule.matcher).map_err(context)?);
            for call in &rule.matcher.calls {
                let pattern = Pattern::parse(call).map_err(context)?;
                for language in &rule.languages {
                    catalogue
                        .calls
                        .entry(*language)
                        .or_default()
                        .insert(pattern.clone(), index);
                }
            }
            for target in &rule.matcher.assigns {
                catalogue
                    .assigns
                    .insert(Pattern::parse(target).map_err(context)?, index);
            }
            for decorator in &rule.matcher.returns_from {
                catalogue
                    .returns
                    .insert(Pattern::parse(decorator).map_err(context)?, index);
            }
            if let Some(secret) = &rule.matcher.secret {
                catalogue.secrets.push(compile_secret(index, secret));
            }
            if let Some(query) = &rule.matcher.query {
                for language in &rule.languages {
                    catalogue.queries.push(QueryMatcher {
                        rule: index,
                        language: *language,
                        source: query.clone(),
                        compiled: std::sync::OnceLock::new(),
                    });
                }
            }
        }
        catalogue.rules = rules;
        catalogue.secret_anchors = SecretAnchors::new(&catalogue.secrets)?;

        let mut aliases: Vec<_> = semantics.aliases.into_iter().collect();
        // Longest prefix first, so `torch.serialization.load` wins over `torch`.
        aliases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        catalogue.aliases = aliases;
        for source in semantics.source {
            for pattern in &source.patterns {
                catalogue
                    .sources
                    .insert(Pattern::parse(pattern)?, source.kind);
            }
            for pattern in &source.decorated_params {
                catalogue
                    .decorated_sources
                    .insert(Pattern::parse(pattern)?, source.kind);
            }
        }
        for param in semantics.credential_param {
            catalogue
                .credential_params
                .insert(Pattern::parse(&param.call)?, param);
        }
        for pattern in &semantics.sanitisers {
            catalogue.sanitisers.insert(Pattern::parse(pattern)?, ());
        }
        for def in semantics.runs_later {
            for pattern in &def.calls {
                catalogue
                    .runs_later
                    .insert(Pattern::parse(pattern)?, def.clone());
            }
        }
        for def in semantics.download {
            for pattern in &def.calls {
                catalogue
                    .downloads
                    .insert(Pattern::parse(pattern)?, def.file_name.clone());
            }
        }
        Ok(catalogue)
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&index| &self.rules[index])
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The canonical spelling of `qname`, or `qname` itself (no copy) when it has none.
    pub fn canonical_or_same<'q>(&self, qname: &'q str) -> std::borrow::Cow<'q, str> {
        self.canonical(qname)
            .map_or(std::borrow::Cow::Borrowed(qname), std::borrow::Cow::Owned)
    }

    /// Rewrites a qualified name to its canonical module (`cPickle.loads` → `pickle.loads`).
    pub fn canonical(&self, qname: &str) -> Option<String> {
        for (from, to) in &self.aliases {
            if let Some(rest) = qname.strip_prefix(from.as_str())
                && (rest.is_empty() || rest.starts_with('.'))
            {
                return Some(format!("{to}{rest}"));
            }
        }
        None
    }
}

fn is_rule_id(id: &str) -> bool {
    id.len() == 5 && id.starts_with("TL") && id[2..].bytes().all(|b| b.is_ascii_digit())
}

fn compile_predicates(defs: &[PredicateDef]) -> Result<Vec<Predicate>, String> {
    defs.iter()
        .map(|def| {
            let arg = (def.keyword.is_some() || def.position.is_some()).then(|| ArgSpec {
                keyword: def.keyword.clone(),
                position: def.position,
            });
            let tests = usize::from(def.is.is_some())
                + usize::from(!def.resolves_to.is_empty())
                + usize::from(def.matches.is_some())
                + usize::from(def.has_key.is_some())
                + usize::from(!def.any.is_empty())
                + usize::from(!def.all.is_empty())
                + usize::from(!def.callee.is_empty());
            if tests == 0 && arg.is_none() {
                return Err("a predicate needs an argument or a test".into());
            }
            Ok(Predicate {
                key: def.key.clone(),
                callee: def
                    .callee
                    .iter()
                    .map(|p| Pattern::parse(p))
                    .collect::<Result<_, _>>()?,
                any: compile_predicates(&def.any)?,
                all: compile_predicates(&def.all)?,
                arg,
                is: def.is,
                resolves_to: def
                    .resolves_to
                    .iter()
                    .map(|p| Pattern::parse(p))
                    .collect::<Result<_, _>>()?,
                matches: def
                    .matches
                    .clone()
                    .map(|pattern| LazyRegex::new(vec![pattern])),
                has_key: def.has_key.clone(),
            })
        })
        .collect()
}

fn compile_match(def: &MatchDef) -> Result<CompiledMatch, String> {
    let shapes = usize::from(!def.calls.is_empty())
        + usize::from(!def.assigns.is_empty())
        + usize::from(!def.returns_from.is_empty())
        + usize::from(def.secret.is_some())
        + usize::from(def.query.is_some());
    if shapes > 1 {
        return Err(
            "a rule matches calls, assignments, returns, secrets or a query, not several".into(),
        );
    }
    Ok(CompiledMatch {
        when: compile_predicates(&def.when)?,
        unless: compile_predicates(&def.unless)?,
        opt_out: compile_predicates(&def.opt_out)?,
    })
}

fn compile_secret(rule: usize, def: &SecretDef) -> SecretMatcher {
    SecretMatcher {
        rule,
        any_token: LazyRegex::new(def.tokens.iter().map(|t| t.regex.clone()).collect()),
        anchors: if !def.tokens.is_empty() && def.tokens.iter().all(|t| !t.anchors.is_empty()) {
            def.tokens.iter().flat_map(|t| t.anchors.clone()).collect()
        } else {
            Vec::new()
        },
        tokens: def
            .tokens
            .iter()
            .map(|token| Token {
                name: token.name.clone(),
                regex: LazyRegex::new(vec![token.regex.clone()]),
                anchors: token.anchors.clone(),
                env: token.env.clone(),
                min_entropy: token.min_entropy,
            })
            .collect(),
        // One alternation: one compilation (on first use) instead of one per name.
        names: (!def.names.is_empty()).then(|| {
            let names: Vec<String> = def.names.iter().map(|n| format!("(?:{n})")).collect();
            LazyRegex::new(vec![format!("(?i)^(?:{})$", names.join("|"))])
        }),
        env: def.env.clone(),
        min_length: def.min_length,
        min_entropy: def.min_entropy,
    }
}

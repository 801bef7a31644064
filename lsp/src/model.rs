//! The threat model in `threatlens check`: which model to check, its findings next to the code
//! findings, and the code-side exceptions it grants.
//!
//! - **Which model.** `model = "…"` in the configuration (relative to the config file), else
//!   `threatmodel.yaml` at the config root, which is the scan root when there is no config
//!   file. It is checked when a directory is scanned, or when one of its files is named on the
//!   command line (pre-commit passes the changed files). A configured model that does not exist
//!   is a configuration error (exit 2); a missing default one is no model. YAML files named on
//!   the command line whose `schema:` is `threatlens/v1` are checked as models of their own,
//!   unless the checked model already includes them.
//! - **Findings.** The model's findings (`TM…`) are ordinary findings of the model's files:
//!   config `select`/`ignore`/`[severity]` apply to them as to code rules, and so does the exit
//!   code. A model that cannot be read is findings of category `model-error`, never a crash.
//! - **Code exceptions.** An `exceptions:` entry whose target is `code:<glob>` suppresses the
//!   findings of its rule (id or slug) in code files matching the glob, relative to the model's
//!   directory, until it expires; the finding stays in the report, marked suppressed with the
//!   justification. An expired one suppresses nothing and is reported (`TM212`) on its `expires`.
//! - **Today** is a parameter (`--today`, for reproducible runs); by default the UTC date.

use globset::{Glob, GlobMatcher};
use std::cell::LazyCell;
use std::path::{Path, PathBuf};
use threatlens_models::format::Exception;
use threatlens_models::{DEFAULT_MODEL_FILE, Date, Model};
use threatlens_rules::finding::Suppressed;
use threatlens_rules::{Category, Config, Finding, RuleDoc};

/// Today's date (UTC) from the system clock.
pub fn today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days_since_epoch((seconds / 86_400) as i64)
}

/// Whether a text is a `threatlens/v1` model: its first top-level `schema:` key says so.
pub fn is_model_text(text: &str) -> bool {
    text.lines()
        .filter(|line| !line.starts_with([' ', '\t', '#']) && !line.trim().is_empty())
        .find_map(|line| line.strip_prefix("schema:"))
        .is_some_and(|value| {
            let value = value.split(" #").next().unwrap_or_default().trim();
            value.trim_matches(|c| c == '"' || c == '\'') == threatlens_models::format::SCHEMA_TAG
        })
}

/// Whether a path names a YAML file.
pub fn is_yaml_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The model the configuration points at: `(path, set explicitly by "model =")`, as users
/// write paths (relative to the current directory when under it).
pub fn configured(config: &Config) -> (PathBuf, bool) {
    let (path, explicit) = configured_path(config);
    (tidy(&path), explicit)
}

/// The model the configuration points at, joined onto the config root.
pub fn configured_path(config: &Config) -> (PathBuf, bool) {
    match &config.settings.model {
        Some(model) => (config.root.join(model), true),
        None => (config.root.join(DEFAULT_MODEL_FILE), false),
    }
}

/// `./a` → `a`; an absolute path under the current directory → relative to it (paths are
/// reported as users write them).
pub fn tidy(path: &Path) -> PathBuf {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(relative) = path.strip_prefix(&cwd)
        && !relative.as_os_str().is_empty()
    {
        return relative.to_path_buf();
    }
    path.strip_prefix(".")
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// One file of a checked model.
#[derive(Debug)]
pub struct ModelFile {
    pub path: PathBuf,
    pub findings: Vec<Finding>,
    /// Problems that are not findings (an exception's glob that does not compile).
    pub errors: Vec<String>,
}

/// A checked model: its files (root first) and the merged model.
#[derive(Debug)]
pub struct CheckedModel {
    pub files: Vec<ModelFile>,
    pub model: Model,
    canonical: Vec<PathBuf>,
}

impl CheckedModel {
    fn check(root: &Path, today: Date, config: &Config, docs: &[RuleDoc]) -> Self {
        let analysis = threatlens_models::analyse_model_file(root, today);
        let canonical = analysis
            .sources
            .iter()
            .map(|s| canonical(&s.path))
            .collect();
        let files = analysis
            .report
            .files
            .into_iter()
            .map(|file| {
                let mut findings = file.findings;
                config.apply_documented(docs, &mut findings);
                ModelFile {
                    path: tidy(&file.path),
                    findings,
                    errors: Vec::new(),
                }
            })
            .collect();
        CheckedModel {
            files,
            model: analysis.model,
            canonical,
        }
    }

    fn contains(&self, path: &Path) -> bool {
        self.canonical.contains(&canonical(path))
    }

    /// The model's `code:<glob>` exceptions in force on `today` (see the module docs), to apply
    /// to each code file's findings; `None` without a model file.
    pub fn code_exceptions(&self, today: Date) -> Option<CodeExceptions> {
        let root = self.files.first()?;
        Some(CodeExceptions::granted(&self.model, &root.path, today))
    }

    /// Reports, in the model's files, the exceptions of `granted` that have expired and those
    /// that are not valid.
    pub fn report_exceptions(&mut self, granted: CodeExceptions) {
        let CodeExceptions {
            expired, errors, ..
        } = granted;
        let expired: Vec<&Exception> = expired
            .iter()
            .filter_map(|&i| self.model.exceptions.get(i))
            .collect();
        let library = threatlens_models::library::library();
        let mut reports = Vec::new();
        if let Some(rule) = library.governance_rule("exception-expired") {
            for exception in expired {
                let vars = [
                    ("target", exception.target.value.clone()),
                    ("rule", exception.rule.value.clone()),
                    ("expires", exception.expires.value.to_string()),
                ];
                let message = threatlens_models::checks::fill(&rule.message, &vars);
                reports.push((
                    exception.expires.loc.file,
                    Finding {
                        target: Some(exception.target.value.clone()),
                        threats: rule.threats.clone(),
                        ..Finding::new(
                            &rule.id,
                            &rule.slug,
                            Category::Governance,
                            rule.severity,
                            exception.expires.loc.span,
                            message,
                            &exception.target.value,
                        )
                    },
                ));
            }
        }
        for (file, finding) in reports {
            if let Some(file) = self.files.get_mut(file) {
                file.findings.push(finding);
                file.findings.sort_by_key(|f| f.span.start_byte);
            }
        }
        if let Some(first) = self.files.first_mut() {
            first.errors.extend(errors);
        }
    }
}

/// A model's `code:<glob>` exceptions in force: which findings of which code files they
/// suppress (see the module docs). The language server applies them as `check` does.
#[derive(Debug, Default)]
pub struct CodeExceptions {
    /// Where the globs are relative to: the model's directory, absolute.
    base: PathBuf,
    granted: Vec<(GlobMatcher, String, Suppressed)>,
    /// Indexes into the model's exceptions of those that have expired.
    expired: Vec<usize>,
    /// Exceptions whose glob is not valid, as messages.
    errors: Vec<String>,
}

impl CodeExceptions {
    /// The exceptions of `model` (whose root file is `root`) in force on `today`.
    pub fn granted(model: &Model, root: &Path, today: Date) -> Self {
        let base = match root.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
            None => std::env::current_dir().unwrap_or_default(),
        };
        let mut exceptions = Self {
            base,
            ..Self::default()
        };
        for (index, exception) in model.exceptions.iter().enumerate() {
            let Some(glob) = exception.target.as_str().strip_prefix("code:") else {
                continue;
            };
            if exception.expires.value < today {
                exceptions.expired.push(index);
                continue;
            }
            match Glob::new(glob.trim()) {
                Ok(glob) => exceptions.granted.push((
                    glob.compile_matcher(),
                    exception.rule.value.clone(),
                    Suppressed {
                        reason: format!(
                            "{} (threat-model exception approved by {}, expires {})",
                            exception.justification.trim(),
                            exception.approved_by.value,
                            exception.expires.value
                        ),
                        span: exception.rule.loc.span,
                    },
                )),
                Err(error) => exceptions.errors.push(format!(
                    "line {}: exception target `{}` is not a valid glob: {error}",
                    exception.target.loc.span.start.line, exception.target.value
                )),
            }
        }
        exceptions
    }

    /// Whether both grant the same suppressions.
    pub fn grants_as(&self, other: &Self) -> bool {
        let key = |e: &Self| -> Vec<(String, String, String)> {
            e.granted
                .iter()
                .map(|(m, rule, s)| (m.glob().to_string(), rule.clone(), s.reason.clone()))
                .collect()
        };
        self.base == other.base && key(self) == key(other)
    }

    /// The path of `path` relative to the model's directory, which the globs match against.
    fn relative<'p>(&self, absolute: &'p Path) -> Option<&'p Path> {
        absolute.strip_prefix(&self.base).ok()
    }

    /// Whether some exception's glob matches `path` (so its findings depend on the exceptions).
    pub fn reaches(&self, path: &Path) -> bool {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.relative(&absolute).is_some_and(|relative| {
            self.granted
                .iter()
                .any(|(matcher, ..)| matcher.is_match(relative))
        })
    }

    /// Marks the findings of `path` that an exception covers as suppressed.
    pub fn apply(&self, path: &Path, findings: &mut [Finding]) {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let Some(relative) = self.relative(&absolute) else {
            return;
        };
        for (matcher, rule, suppressed) in &self.granted {
            if !matcher.is_match(relative) {
                continue;
            }
            for finding in findings.iter_mut() {
                if finding.suppressed.is_none() && (finding.rule == *rule || finding.slug == *rule)
                {
                    finding.suppressed = Some(suppressed.clone());
                }
            }
        }
    }
}

/// The models to check for a scan of `paths` (see the module docs), checked as of `today`.
/// `docs` are loaded only if there is a model to check.
pub fn check(
    config: &Config,
    paths: &[PathBuf],
    today: Date,
    docs: &LazyCell<Vec<RuleDoc>>,
) -> Result<Vec<CheckedModel>, String> {
    let mut models: Vec<CheckedModel> = Vec::new();
    let (path, explicit) = configured(config);
    if explicit && !path.is_file() {
        let origin = config
            .file
            .as_ref()
            .map_or_else(String::new, |f| format!(" in {}", f.display()));
        return Err(format!(
            "the threat model `{}` (`model =`{origin}) does not exist; fix the path, or create \
             one with `threatlens init {}`",
            path.display(),
            path.display()
        ));
    }
    let named_files: Vec<&PathBuf> = paths.iter().filter(|p| p.is_file()).collect();
    if path.is_file() && !config.is_excluded(&path) {
        let model = CheckedModel::check(&path, today, config, docs);
        let scans_a_directory = paths.iter().any(|p| p.is_dir());
        if scans_a_directory || named_files.iter().any(|f| model.contains(f)) {
            models.push(model);
        }
    }
    for file in named_files {
        if !is_yaml_path(file) || models.iter().any(|m| m.contains(file)) {
            continue;
        }
        let is_model = std::fs::read(file)
            .map(|bytes| is_model_text(&String::from_utf8_lossy(&bytes)))
            .unwrap_or(false);
        if is_model {
            models.push(CheckedModel::check(file, today, config, docs));
        }
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_texts_are_recognised_by_their_schema_key() {
        assert!(is_model_text("schema: threatlens/v1\n"));
        assert!(is_model_text(
            "# a comment\n\nschema: \"threatlens/v1\"  # tag\nassets: []\n"
        ));
        assert!(!is_model_text("schema: other/v2\n"));
        assert!(!is_model_text("name: ci\n  schema: threatlens/v1\n"));
        assert!(!is_model_text("jobs:\n  build: {}\n"));
    }

    #[test]
    fn today_is_a_plausible_date() {
        assert!(today() > "2025-01-01".parse().unwrap());
    }
}

//! Configuration: `threatlens.toml`, or `[tool.threatlens]` in `pyproject.toml`.
//!
//! ```toml
//! select = ["TL1", "unsafe-yaml"]      # rule ids, id prefixes, slugs or categories (default: all)
//! ignore = ["TL303"]
//! exclude = ["tests/fixtures/**"]      # globs, relative to the config file's directory
//! max-file-size = "10MB"
//! artefact-max-size = "2GB"            # bytes read or decompressed per model file
//! [severity]
//! TL303 = "high"                       # per-rule override (id or slug)
//! ```

use crate::catalogue::Rule;
use crate::finding::{Category, Finding, RuleDoc, Severity};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "threatlens.toml";
const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The settings as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    pub max_file_size: Option<ByteSize>,
    /// Bytes read or decompressed per model artefact (artefacts stream, so this can be large).
    pub artefact_max_size: Option<ByteSize>,
    /// Path of the threat model, relative to the config file (default `threatmodel.yaml`).
    pub model: Option<String>,
}

/// A size written as `10MB`, `512KB` or a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(text) => parse_size(&text)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 10MB)"))?;
    let factor = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" | "KIB" => 1024,
        "MB" | "M" | "MIB" => 1024 * 1024,
        "GB" | "G" | "GIB" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown size unit `{other}` (use B, KB, MB or GB)")),
    };
    Ok(number.saturating_mul(factor))
}

/// Loaded configuration, ready to filter findings and paths.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    /// The file the settings came from, if any.
    pub file: Option<PathBuf>,
    /// Directory that `exclude` globs and `model` are relative to.
    pub root: PathBuf,
    exclude: GlobSet,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            settings: Settings::default(),
            file: None,
            root: PathBuf::from("."),
            exclude: GlobSet::empty(),
        }
    }
}

impl Config {
    pub fn from_settings(
        settings: Settings,
        file: Option<PathBuf>,
        root: PathBuf,
    ) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &settings.exclude {
            let glob =
                Glob::new(pattern).map_err(|e| format!("exclude pattern `{pattern}`: {e}"))?;
            builder.add(glob);
            // `dir` and `dir/` also exclude what is inside.
            let inside = format!("{}/**", pattern.trim_end_matches('/'));
            if let Ok(glob) = Glob::new(&inside) {
                builder.add(glob);
            }
        }
        let exclude = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            settings,
            file,
            root,
            exclude,
        })
    }

    /// Reads an explicit config file (`threatlens.toml` or a `pyproject.toml`).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
        let settings = parse_settings(&text, is_pyproject)
            .map_err(|e| format!("invalid config {}: {e}", path.display()))?
            .unwrap_or_default();
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Self::from_settings(settings, Some(path.to_path_buf()), root)
            .map_err(|e| format!("invalid config {}: {e}", path.display()))
    }

    /// Finds the config that applies to `start` (a file or directory): the nearest
    /// `threatlens.toml`, or `pyproject.toml` with a `[tool.threatlens]` table, walking up.
    pub fn discover(start: &Path) -> Result<Self, String> {
        let absolute = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        let mut dir = if absolute.is_dir() {
            Some(absolute.as_path())
        } else {
            absolute.parent()
        };
        while let Some(current) = dir {
            let candidate = current.join(CONFIG_FILE);
            if candidate.is_file() {
                return Self::load(&candidate);
            }
            let pyproject = current.join("pyproject.toml");
            if pyproject.is_file()
                && let Ok(text) = std::fs::read_to_string(&pyproject)
                && let Ok(Some(_)) = parse_settings(&text, true)
            {
                return Self::load(&pyproject);
            }
            dir = current.parent();
        }
        Ok(Self {
            root: if start.is_dir() {
                start.to_path_buf()
            } else {
                start
                    .parent()
                    .map(Path::to_path_buf)
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from("."))
            },
            ..Self::default()
        })
    }

    pub fn max_file_size(&self) -> u64 {
        self.settings
            .max_file_size
            .map_or(DEFAULT_MAX_FILE_SIZE, |size| size.0)
    }

    pub fn artefact_max_size(&self) -> u64 {
        self.settings
            .artefact_max_size
            .map_or(crate::artefact::DEFAULT_MAX_BYTES, |size| size.0)
    }

    /// Whether `path` matches an `exclude` glob (relative to the config root).
    pub fn is_excluded(&self, path: &Path) -> bool {
        if self.settings.exclude.is_empty() {
            return false;
        }
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let root = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        let relative = absolute.strip_prefix(&root).unwrap_or(path);
        self.exclude.is_match(relative) || self.exclude.is_match(path)
    }

    fn selector_matches(selector: &str, rule: &Rule) -> bool {
        Self::selects(selector, &rule.id, &rule.slug, rule.category)
    }

    fn selects(selector: &str, id: &str, slug: &str, category: Category) -> bool {
        id.starts_with(selector) || slug == selector || category.as_str() == selector
    }

    fn enabled(&self, id: &str, slug: &str, category: Category) -> bool {
        let selected = self.settings.select.is_empty()
            || self
                .settings
                .select
                .iter()
                .any(|s| Self::selects(s, id, slug, category));
        selected
            && !self
                .settings
                .ignore
                .iter()
                .any(|s| Self::selects(s, id, slug, category))
    }

    pub fn rule_enabled(&self, rule: &Rule) -> bool {
        self.enabled(&rule.id, &rule.slug, rule.category)
    }

    pub fn severity_override(&self, rule: &Rule) -> Option<Severity> {
        self.severity_for(&rule.id, &rule.slug)
    }

    fn severity_for(&self, id: &str, slug: &str) -> Option<Severity> {
        self.settings
            .severity
            .get(id)
            .or_else(|| self.settings.severity.get(slug))
            .copied()
    }

    /// Like [`Config::apply`], for findings of rules that are known by their documentation only
    /// (the threat-model rules `TM…`): drops findings of disabled rules, applies overrides.
    /// Findings of rules not in `docs` are kept as they are.
    pub fn apply_documented(&self, docs: &[RuleDoc], findings: &mut Vec<Finding>) {
        findings.retain_mut(|finding| match docs.iter().find(|d| d.id == finding.rule) {
            Some(doc) if !self.enabled(&doc.id, &doc.slug, doc.category) => false,
            Some(doc) => {
                if let Some(severity) = self.severity_for(&doc.id, &doc.slug) {
                    finding.severity = severity;
                }
                true
            }
            None => true,
        });
    }

    /// Drops findings of disabled rules and applies severity overrides.
    pub fn apply(&self, catalogue: &crate::catalogue::Catalogue, findings: &mut Vec<Finding>) {
        findings.retain_mut(|finding| match catalogue.rule(&finding.rule) {
            Some(rule) if !self.rule_enabled(rule) => false,
            Some(rule) => {
                if let Some(severity) = self.severity_override(rule) {
                    finding.severity = severity;
                }
                true
            }
            None => true,
        });
    }

    /// Checks that every rule named in the settings exists.
    pub fn validate(&self, catalogue: &crate::catalogue::Catalogue) -> Result<(), String> {
        self.validate_with(catalogue, Vec::new)
    }

    /// Like [`Config::validate`], also accepting the rules documented by `extra` (the
    /// threat-model rules), which is only called when a setting names a rule the catalogue
    /// does not have: reading the threat library is a quarter of a one-file check.
    pub fn validate_with(
        &self,
        catalogue: &crate::catalogue::Catalogue,
        extra: impl FnOnce() -> Vec<RuleDoc>,
    ) -> Result<(), String> {
        let extra = std::cell::LazyCell::new(extra);
        let known = |selector: &str| {
            catalogue
                .rules
                .iter()
                .any(|rule| Self::selector_matches(selector, rule))
                || extra
                    .iter()
                    .any(|doc| Self::selects(selector, &doc.id, &doc.slug, doc.category))
        };
        for selector in self.settings.select.iter().chain(&self.settings.ignore) {
            if !known(selector) {
                return Err(format!(
                    "`{selector}` matches no rule id, prefix, slug or category"
                ));
            }
        }
        for key in self.settings.severity.keys() {
            if catalogue.rule(key).is_none()
                && !catalogue.rules.iter().any(|r| &r.slug == key)
                && !extra.iter().any(|d| &d.id == key || &d.slug == key)
            {
                return Err(format!("severity override for unknown rule `{key}`"));
            }
        }
        Ok(())
    }
}

/// The `threatlens` settings of a config file; `None` for a `pyproject.toml` without them.
pub fn parse_settings(text: &str, is_pyproject: bool) -> Result<Option<Settings>, String> {
    if !is_pyproject {
        return toml::from_str(text)
            .map(Some)
            .map_err(|e| e.message().to_string());
    }
    let value: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let Some(section) = value
        .get("tool")
        .and_then(|tool| tool.get("threatlens"))
        .cloned()
    else {
        return Ok(None);
    };
    section
        .try_into()
        .map(Some)
        .map_err(|e: toml::de::Error| format!("[tool.threatlens]: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("512 KB"), Ok(512 * 1024));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn documented_rules_are_selected_ignored_and_overridden() {
        let doc = |id: &str, slug: &str, category| RuleDoc {
            id: id.into(),
            slug: slug.into(),
            title: String::new(),
            category,
            severity: Severity::High,
            rationale: String::new(),
            mitigation: String::new(),
            references: Default::default(),
            fix: None,
        };
        let docs = [
            doc("TM101", "llm-unguarded-input", Category::MissingControl),
            doc("TM201", "scope-missing", Category::Governance),
        ];
        let settings = Settings {
            ignore: vec!["governance".into()],
            severity: [("llm-unguarded-input".to_string(), Severity::Low)].into(),
            ..Settings::default()
        };
        let config = Config::from_settings(settings, None, ".".into()).unwrap();
        let catalogue = crate::Catalogue::builtin();
        assert!(
            config.validate(catalogue).is_err(),
            "TM rules are unknown to the catalogue"
        );
        assert!(config.validate_with(catalogue, || docs.to_vec()).is_ok());
        let span = crate::Span {
            start_byte: 0,
            end_byte: 0,
            start: crate::Position { line: 1, column: 1 },
            end: crate::Position { line: 1, column: 1 },
            cell: None,
        };
        let finding =
            |rule: &str| Finding::new(rule, "", Category::ModelError, Severity::High, span, "", "");
        let mut findings = vec![finding("TM101"), finding("TM201"), finding("TM999")];
        config.apply_documented(&docs, &mut findings);
        let kept: Vec<(&str, Severity)> = findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity))
            .collect();
        assert_eq!(kept, [("TM101", Severity::Low), ("TM999", Severity::High)]);
    }

    #[test]
    fn pyproject_section() {
        let text = "[project]\nname='x'\n[tool.threatlens]\nignore=['TL303']\n";
        let settings = parse_settings(text, true).unwrap().unwrap();
        assert_eq!(settings.ignore, vec!["TL303"]);
        assert!(
            parse_settings("[project]\nname='x'\n", true)
                .unwrap()
                .is_none()
        );
        assert!(
            parse_settings("selec = []", false)
                .unwrap_err()
                .contains("unknown field")
        );
    }
}

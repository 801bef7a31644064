//! The AI threat library as data: `threat-models/library/*.toml`, compiled into the binary.
//!
//! - `threats.toml`: the 47 AITL threats (STRIDE, ATLAS, OWASP, ISO/IEC 27001 / 42001);
//! - `capabilities.toml`: the control capability vocabulary, with a one-line meaning each;
//! - `iso27001.toml`, `iso42001.toml`, `atlas.toml`: the id catalogues ids are validated against;
//! - `rules-missing-control.toml`: the graph rules, in the predicate language of
//!   [`crate::predicate`], each with a model that must fire and one that must stay silent;
//! - `rules-governance.toml`: the governance checks (their logic is named, their text is data);
//! - `rules-model.toml`: documentation of every model-error diagnostic.
//!
//! Adding a missing-control rule needs no Rust: write it in `rules-missing-control.toml` with its
//! examples; the library test runs them.

use crate::diag::Problem;
use crate::predicate::{AssetCond, ComponentCond, FlowCond, Place, Require};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;
use threatlens_rules::{Category, References, RuleDoc, Severity};

/// The library's files, as JSON converted from `library/*.toml` by the build script.
macro_rules! library_file {
    ($name:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/library/", $name, ".json"))
    };
}
const THREATS: &str = library_file!("threats");
const CAPABILITIES: &str = library_file!("capabilities");
const ISO27001: &str = library_file!("iso27001");
const ISO42001: &str = library_file!("iso42001");
const ATLAS: &str = library_file!("atlas");
const RULES_MISSING_CONTROL: &str = library_file!("rules-missing-control");
const RULES_GOVERNANCE: &str = library_file!("rules-governance");
const RULES_MODEL: &str = library_file!("rules-model");

/// One threat of the AI threat library.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threat {
    pub id: String,
    pub group: String,
    pub title: String,
    pub stride: Vec<String>,
    pub atlas: Vec<String>,
    pub owasp: Vec<String>,
    pub iso27001: Vec<String>,
    pub iso42001: Vec<String>,
    /// Library rule names (`R-LLM-UNGUARDED-INPUT`) that detect it, here or in code checks.
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityEntry {
    pub name: String,
    pub meaning: String,
}

/// An id with its title (Annex A controls) or name (ATLAS techniques).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    pub id: String,
    #[serde(alias = "name")]
    pub title: String,
}

/// The example models of a rule: `fires` must raise it on `fires_on`, `silent` must not raise it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    pub fires: String,
    pub fires_on: String,
    pub silent: String,
}

/// A missing-control rule: a condition on one kind of element, and the controls it requires.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingControlRule {
    pub id: String,
    /// The library's name, e.g. `R-LLM-UNGUARDED-INPUT`.
    pub name: String,
    pub slug: String,
    pub title: String,
    pub severity: Severity,
    /// AITL ids; the rule's references are theirs.
    pub threats: Vec<String>,
    pub component: Option<ComponentCond>,
    pub flow: Option<FlowCond>,
    pub asset: Option<AssetCond>,
    #[serde(default)]
    pub require: Vec<Require>,
    /// What is wrong and what to add; `{target}`, `{missing}`, `{source}`, `{assets}`, `{from}`,
    /// `{to}`, `{supplier}` are filled in.
    pub message: String,
    pub rationale: String,
    pub mitigation: String,
    pub examples: Examples,
}

/// What a rule is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Component,
    Flow,
    Asset,
}

impl MissingControlRule {
    pub fn target_kind(&self) -> Option<TargetKind> {
        match (&self.component, &self.flow, &self.asset) {
            (Some(_), None, None) => Some(TargetKind::Component),
            (None, Some(_), None) => Some(TargetKind::Flow),
            (None, None, Some(_)) => Some(TargetKind::Asset),
            _ => None,
        }
    }
}

/// A governance check: its logic is one of the named checks in [`crate::checks`]; everything a
/// user reads is here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceRule {
    pub id: String,
    pub name: Option<String>,
    pub slug: String,
    pub title: String,
    pub severity: Severity,
    /// The built-in check that evaluates it.
    pub check: String,
    #[serde(default)]
    pub threats: Vec<String>,
    #[serde(default)]
    pub references: References,
    /// `{target}` and the check's own variables are filled in.
    pub message: String,
    pub rationale: String,
    pub mitigation: String,
    pub examples: Examples,
}

/// Documentation of one model-error diagnostic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRule {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub severity: Severity,
    pub rationale: String,
    pub mitigation: String,
}

/// The whole library.
#[derive(Debug, Default)]
pub struct Library {
    pub threats: Vec<Threat>,
    pub capabilities: Vec<CapabilityEntry>,
    pub iso27001: Vec<CatalogueEntry>,
    pub iso42001: Vec<CatalogueEntry>,
    pub atlas: Vec<CatalogueEntry>,
    pub atlas_version: String,
    pub rules: Vec<MissingControlRule>,
    pub governance: Vec<GovernanceRule>,
    pub model_rules: Vec<ModelRule>,
    /// Why the embedded library could not be loaded (a build defect: the library test fails).
    pub load_error: Option<String>,
}

/// A rule of any kind, found by id, slug or library name.
#[derive(Debug, Clone, Copy)]
pub enum AnyRule<'l> {
    MissingControl(&'l MissingControlRule),
    Governance(&'l GovernanceRule),
    Model(&'l ModelRule),
    /// A library rule evaluated outside this crate (code and drift checks), by its name.
    External(&'l str),
}

impl AnyRule<'_> {
    /// The stable id a finding carries (`TM128`), or the library name for external rules.
    pub fn id(&self) -> &str {
        match self {
            AnyRule::MissingControl(r) => &r.id,
            AnyRule::Governance(r) => &r.id,
            AnyRule::Model(r) => &r.id,
            AnyRule::External(name) => name,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreatsFile {
    threat: Vec<Threat>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapabilitiesFile {
    capabilities: Vec<CapabilityEntry>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlsFile {
    controls: Vec<CatalogueEntry>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtlasFile {
    version: String,
    techniques: Vec<CatalogueEntry>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<MissingControlRule>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GovernanceFile {
    rule: Vec<GovernanceRule>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelRulesFile {
    rule: Vec<ModelRule>,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("library/{name}: {e}"))
}

static LIBRARY: LazyLock<Library> = LazyLock::new(|| match Library::load() {
    Ok(library) => library,
    Err(error) => Library {
        load_error: Some(error),
        ..Library::default()
    },
});

/// The embedded library, loaded once.
pub fn library() -> &'static Library {
    &LIBRARY
}

impl Library {
    fn load() -> Result<Library, String> {
        let threats: ThreatsFile = parse("threats.toml", THREATS)?;
        let capabilities: CapabilitiesFile = parse("capabilities.toml", CAPABILITIES)?;
        let iso27001: ControlsFile = parse("iso27001.toml", ISO27001)?;
        let iso42001: ControlsFile = parse("iso42001.toml", ISO42001)?;
        let atlas: AtlasFile = parse("atlas.toml", ATLAS)?;
        let rules: RulesFile = parse("rules-missing-control.toml", RULES_MISSING_CONTROL)?;
        let governance: GovernanceFile = parse("rules-governance.toml", RULES_GOVERNANCE)?;
        let model_rules: ModelRulesFile = parse("rules-model.toml", RULES_MODEL)?;
        let library = Library {
            threats: threats.threat,
            capabilities: capabilities.capabilities,
            iso27001: iso27001.controls,
            iso42001: iso42001.controls,
            atlas: atlas.techniques,
            atlas_version: atlas.version,
            rules: rules.rule,
            governance: governance.rule,
            model_rules: model_rules.rule,
            load_error: None,
        };
        library.check()?;
        Ok(library)
    }

    /// Internal consistency: every id a rule or threat cites exists, ids are unique, each rule
    /// has one target kind and places that make sense for it.
    fn check(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut seen = HashMap::new();
        let rule_keys = self
            .rules
            .iter()
            .flat_map(|r| [&r.id, &r.slug, &r.name])
            .chain(self.governance.iter().flat_map(|r| [&r.id, &r.slug]))
            .chain(self.model_rules.iter().flat_map(|r| [&r.id, &r.slug]));
        for key in rule_keys {
            if seen.insert(key.as_str(), ()).is_some() {
                errors.push(format!("rule id/slug/name `{key}` is used twice"));
            }
        }
        for threat in &self.threats {
            errors.extend(self.check_references(
                &threat.id,
                &threat.iso27001,
                &threat.iso42001,
                &threat.atlas,
                &threat.owasp,
            ));
        }
        for rule in &self.rules {
            let Some(target) = rule.target_kind() else {
                errors.push(format!(
                    "{}: give exactly one of `component`, `flow`, `asset`",
                    rule.id
                ));
                continue;
            };
            for threat in &rule.threats {
                if self.threat(threat).is_none() {
                    errors.push(format!("{}: unknown threat `{threat}`", rule.id));
                }
            }
            for require in &rule.require {
                for cap in &require.any {
                    if !self.is_capability(cap) {
                        errors.push(format!("{}: unknown capability `{cap}`", rule.id));
                    }
                }
                for place in &require.at {
                    if !place.applies_to(target) {
                        errors.push(format!(
                            "{}: place `{place:?}` does not apply to a {target:?} rule",
                            rule.id
                        ));
                    }
                }
                if require.any.is_empty() == require.inside_boundary.is_none() {
                    errors.push(format!("{}: a requirement has either `any` capabilities (with `at`) or `inside_boundary`", rule.id));
                }
                if !require.any.is_empty() && require.at.is_empty() {
                    errors.push(format!(
                        "{}: a requirement with capabilities needs `at`",
                        rule.id
                    ));
                }
            }
        }
        for rule in &self.governance {
            errors.extend(self.check_references(
                &rule.id,
                &rule.references.iso27001,
                &rule.references.iso42001,
                &rule.references.atlas,
                &rule.references.owasp,
            ));
            for threat in &rule.threats {
                if self.threat(threat).is_none() {
                    errors.push(format!("{}: unknown threat `{threat}`", rule.id));
                }
            }
        }
        for problem in Problem::ALL {
            if !self.model_rules.iter().any(|r| r.slug == problem.slug()) {
                errors.push(format!(
                    "rules-model.toml: no rule documents `{}`",
                    problem.slug()
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    fn check_references(
        &self,
        owner: &str,
        iso27001: &[String],
        iso42001: &[String],
        atlas: &[String],
        owasp: &[String],
    ) -> Vec<String> {
        let mut errors = Vec::new();
        for id in iso27001 {
            if !self.is_iso27001(id) {
                errors.push(format!(
                    "{owner}: `{id}` is not an ISO/IEC 27001:2022 Annex A control"
                ));
            }
        }
        for id in iso42001 {
            if !self.is_iso42001(id) {
                errors.push(format!(
                    "{owner}: `{id}` is not an ISO/IEC 42001:2023 Annex A control"
                ));
            }
        }
        for id in atlas {
            if self.atlas_title(id).is_none() {
                errors.push(format!(
                    "{owner}: ATLAS id `{id}` is not in library/atlas.toml"
                ));
            }
        }
        for id in owasp {
            if crate::validate::check_owasp(id, None).is_err() {
                errors.push(format!("{owner}: `{id}` is not an OWASP id with its year"));
            }
        }
        errors
    }

    pub fn threat(&self, id: &str) -> Option<&Threat> {
        self.threats.iter().find(|t| t.id == id)
    }

    pub fn is_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c.name == name)
    }

    pub fn capability(&self, name: &str) -> Option<&CapabilityEntry> {
        self.capabilities.iter().find(|c| c.name == name)
    }

    pub fn capability_names(&self) -> Vec<&str> {
        self.capabilities.iter().map(|c| c.name.as_str()).collect()
    }

    pub fn is_iso27001(&self, id: &str) -> bool {
        self.iso27001.iter().any(|c| c.id == id)
    }

    pub fn is_iso42001(&self, id: &str) -> bool {
        self.iso42001.iter().any(|c| c.id == id)
    }

    /// The title of an ISO/IEC 27001:2022 Annex A control (for hovers and reports).
    pub fn iso27001_title(&self, id: &str) -> Option<&str> {
        self.iso27001
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.title.as_str())
    }

    /// The title of an ISO/IEC 42001:2023 Annex A control.
    pub fn iso42001_title(&self, id: &str) -> Option<&str> {
        self.iso42001
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.title.as_str())
    }

    pub fn iso27001_ids(&self) -> Vec<&str> {
        self.iso27001.iter().map(|c| c.id.as_str()).collect()
    }

    pub fn iso42001_ids(&self) -> Vec<&str> {
        self.iso42001.iter().map(|c| c.id.as_str()).collect()
    }

    /// The ATLAS name of a listed technique, or of the parent of a listed sub-technique.
    pub fn atlas_title(&self, id: &str) -> Option<&str> {
        if let Some(entry) = self.atlas.iter().find(|t| t.id == id) {
            return Some(&entry.title);
        }
        self.atlas
            .iter()
            .find(|t| {
                t.id.strip_prefix(id)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
            .and_then(|t| t.title.split(':').next())
    }

    /// A rule by its id (`TM128`), slug (`serve-unverified-model`) or library name
    /// (`R-SERVE-UNVERIFIED-MODEL`), including library rules evaluated by code/drift checks.
    pub fn find_rule(&self, key: &str) -> Option<AnyRule<'_>> {
        if let Some(r) = self
            .rules
            .iter()
            .find(|r| r.id == key || r.slug == key || r.name == key)
        {
            return Some(AnyRule::MissingControl(r));
        }
        if let Some(r) = self
            .governance
            .iter()
            .find(|r| r.id == key || r.slug == key || r.name.as_deref() == Some(key))
        {
            return Some(AnyRule::Governance(r));
        }
        if let Some(r) = self
            .model_rules
            .iter()
            .find(|r| r.id == key || r.slug == key)
        {
            return Some(AnyRule::Model(r));
        }
        self.threats
            .iter()
            .flat_map(|t| &t.rules)
            .find(|name| *name == key)
            .map(|name| AnyRule::External(name))
    }

    /// Every rule name a user may cite in `exceptions[].rule` or `threats[].rule`.
    pub fn rule_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .rules
            .iter()
            .flat_map(|r| [r.id.as_str(), r.slug.as_str(), r.name.as_str()])
            .chain(
                self.governance
                    .iter()
                    .flat_map(|r| [r.id.as_str(), r.slug.as_str()]),
            )
            .chain(
                self.threats
                    .iter()
                    .flat_map(|t| t.rules.iter().map(String::as_str)),
            )
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    pub fn model_rule(&self, problem: Problem) -> Option<&ModelRule> {
        self.model_rules.iter().find(|r| r.slug == problem.slug())
    }

    pub fn governance_rule(&self, check: &str) -> Option<&GovernanceRule> {
        self.governance.iter().find(|r| r.check == check)
    }

    /// The references of a set of library threats, merged in order without duplicates.
    pub fn references_of(&self, threats: &[String]) -> References {
        let mut refs = References::default();
        for threat in threats.iter().filter_map(|id| self.threat(id)) {
            extend_unique(&mut refs.iso27001, &threat.iso27001);
            extend_unique(&mut refs.iso42001, &threat.iso42001);
            extend_unique(&mut refs.atlas, &threat.atlas);
            extend_unique(&mut refs.owasp, &threat.owasp);
        }
        refs
    }

    /// Documentation of every rule this crate raises: model errors, missing controls,
    /// governance.
    pub fn rule_docs(&self) -> Vec<RuleDoc> {
        let model = self.model_rules.iter().map(|r| RuleDoc {
            id: r.id.clone(),
            slug: r.slug.clone(),
            title: r.title.clone(),
            category: Category::ModelError,
            severity: r.severity,
            rationale: r.rationale.clone(),
            mitigation: r.mitigation.clone(),
            references: References::default(),
            fix: None,
        });
        let missing = self.rules.iter().map(|r| RuleDoc {
            id: r.id.clone(),
            slug: r.slug.clone(),
            title: r.title.clone(),
            category: Category::MissingControl,
            severity: r.severity,
            rationale: r.rationale.trim().to_owned(),
            mitigation: r.mitigation.trim().to_owned(),
            references: self.references_of(&r.threats),
            fix: None,
        });
        let governance = self.governance.iter().map(|r| {
            let mut references = r.references.clone();
            let from_threats = self.references_of(&r.threats);
            extend_unique(&mut references.iso27001, &from_threats.iso27001);
            extend_unique(&mut references.iso42001, &from_threats.iso42001);
            RuleDoc {
                id: r.id.clone(),
                slug: r.slug.clone(),
                title: r.title.clone(),
                category: Category::Governance,
                severity: r.severity,
                rationale: r.rationale.trim().to_owned(),
                mitigation: r.mitigation.trim().to_owned(),
                references,
                fix: None,
            }
        });
        model.chain(missing).chain(governance).collect()
    }
}

fn extend_unique(into: &mut Vec<String>, from: &[String]) {
    for id in from {
        if !into.contains(id) {
            into.push(id.clone());
        }
    }
}

impl Place {
    /// Whether the place makes sense on a rule evaluated on `target`.
    pub fn applies_to(self, target: TargetKind) -> bool {
        match self {
            Place::Model => true,
            Place::This | Place::Ingress | Place::Egress | Place::Inbound | Place::Outbound => {
                target == TargetKind::Component
            }
            Place::Flow | Place::From | Place::To | Place::Upstream => target == TargetKind::Flow,
        }
    }
}

//! Which imported Python objects are dangerous, known-safe or unknown: the data in
//! `catalogue/artefact-globals.toml`, compiled once.

use crate::finding::Severity;
use regex::RegexSet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const POLICY_FILE: &str = include_str!("../../catalogue/artefact-globals.toml");

/// What the policy says about one imported object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// In a danger tier: severity and why.
    Dangerous(Severity, &'static str),
    Allowed,
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    aliases: BTreeMap<String, String>,
    tier: Vec<TierDef>,
    allow: Vec<String>,
    keras: KerasDef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierDef {
    severity: Severity,
    why: String,
    globals: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KerasDef {
    modules: Vec<String>,
}

pub struct Policy {
    aliases: Vec<(String, String)>,
    tiers: Vec<(Severity, &'static str, RegexSet)>,
    allow: RegexSet,
    keras: RegexSet,
}

/// `*` matches any run of characters (dots included); everything else is literal.
fn compile(patterns: &[String]) -> Result<RegexSet, String> {
    RegexSet::new(
        patterns
            .iter()
            .map(|p| format!("^{}$", regex::escape(p).replace(r"\*", ".*"))),
    )
    .map_err(|e| e.to_string())
}

impl Policy {
    fn load(text: &str) -> Result<Self, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut aliases: Vec<(String, String)> = file.aliases.into_iter().collect();
        aliases.sort_by_key(|a| std::cmp::Reverse(a.0.len()));
        let tiers = file
            .tier
            .into_iter()
            .map(|tier| {
                let why: &'static str = Box::leak(tier.why.into_boxed_str());
                Ok((tier.severity, why, compile(&tier.globals)?))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            aliases,
            tiers,
            allow: compile(&file.allow)?,
            keras: compile(&file.keras.modules)?,
        })
    }

    /// The built-in policy (validated by the tests).
    pub fn builtin() -> &'static Policy {
        static POLICY: LazyLock<Policy> = LazyLock::new(|| {
            Policy::load(POLICY_FILE)
                .unwrap_or_else(|e| panic!("artefact-globals.toml is invalid: {e}"))
        });
        &POLICY
    }

    /// `module` under its Python 3 name (`__builtin__` → `builtins`).
    pub fn canonical_module<'m>(&self, module: &'m str) -> std::borrow::Cow<'m, str> {
        for (from, to) in &self.aliases {
            if let Some(rest) = module.strip_prefix(from.as_str())
                && (rest.is_empty() || rest.starts_with('.'))
            {
                return format!("{to}{rest}").into();
            }
        }
        module.into()
    }

    /// The verdict on `module.name`.
    pub fn judge(&self, module: &str, name: &str) -> Verdict {
        let full = format!("{}.{name}", self.canonical_module(module));
        for (severity, why, set) in &self.tiers {
            if set.is_match(&full) {
                return Verdict::Dangerous(*severity, why);
            }
        }
        if self.allow.is_match(&full) {
            Verdict::Allowed
        } else {
            Verdict::Unknown
        }
    }

    /// Whether a Keras config `module` is Keras' own.
    pub fn is_keras_module(&self, module: &str) -> bool {
        self.keras.is_match(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_allow_list_and_aliases() {
        let policy = Policy::builtin();
        let critical = |m, n| {
            matches!(
                policy.judge(m, n),
                Verdict::Dangerous(Severity::Critical, _)
            )
        };
        let high = |m, n| matches!(policy.judge(m, n), Verdict::Dangerous(Severity::High, _));
        assert!(critical("os", "system"));
        assert!(critical("posix", "system"));
        assert!(critical("nt", "system"));
        assert!(critical("__builtin__", "eval"));
        assert!(critical("builtins", "getattr"));
        assert!(critical("pip", "main"));
        assert!(critical("subprocess", "Popen"));
        assert!(critical("runpy", "_run_code"));
        assert!(high("functools", "partial"));
        assert!(high("operator", "attrgetter"));
        assert!(high("torch._C", "_load_for_lite_interpreter"));
        assert!(high("collections", "OrderedDict.__init__"));
        assert!(critical("collections", "OrderedDict.__globals__"));
        assert_eq!(
            policy.judge("torch._utils", "_rebuild_tensor_v2"),
            Verdict::Allowed
        );
        assert_eq!(policy.judge("torch", "FloatStorage"), Verdict::Allowed);
        assert_eq!(policy.judge("collections", "OrderedDict"), Verdict::Allowed);
        assert_eq!(
            policy.judge("numpy._core.multiarray", "_reconstruct"),
            Verdict::Allowed
        );
        assert_eq!(policy.judge("copy_reg", "_reconstructor"), Verdict::Allowed);
        assert_eq!(policy.judge("__main__", "Net"), Verdict::Unknown);
        assert_eq!(policy.judge("sklearn.utils", "something"), Verdict::Unknown);
        assert!(policy.is_keras_module("keras.layers"));
        assert!(!policy.is_keras_module("keras_evil"));
    }
}

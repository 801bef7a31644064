//! The finding: what every analysis in threatlens produces, whatever the input (code, notebook,
//! artefact, threat model), and what every output (text, JSON, SARIF, LSP) consumes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected low, medium, high or critical)")
            })
    }
}

/// The finding category: a closed vocabulary that JSON and SARIF consumers can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    UntrustedDeserialisation,
    UnsafeYaml,
    RemoteCodeTrust,
    UnpinnedModel,
    LlmOutputExec,
    LlmOutputXss,
    TlsDisabled,
    InsecureTransport,
    HardcodedSecret,
    UnencryptedArtefact,
    UnsafeFormatWrite,
    DebugExposure,
    UnsafeArtefactFile,
    /// A suppression comment that is itself wrong (no reason, unknown rule).
    Suppression,
    /// The threat model lacks a control the graph shows is needed.
    MissingControl,
    /// Risk governance in the threat model is incomplete (owner, treatment, approval, expiry).
    Governance,
    /// The threat model itself is invalid (syntax, unknown keys, dangling ids).
    ModelError,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UntrustedDeserialisation => "untrusted-deserialisation",
            Self::UnsafeYaml => "unsafe-yaml",
            Self::RemoteCodeTrust => "remote-code-trust",
            Self::UnpinnedModel => "unpinned-model",
            Self::LlmOutputExec => "llm-output-exec",
            Self::LlmOutputXss => "llm-output-xss",
            Self::TlsDisabled => "tls-disabled",
            Self::InsecureTransport => "insecure-transport",
            Self::HardcodedSecret => "hardcoded-secret",
            Self::UnencryptedArtefact => "unencrypted-artefact",
            Self::UnsafeFormatWrite => "unsafe-format-write",
            Self::DebugExposure => "debug-exposure",
            Self::UnsafeArtefactFile => "unsafe-artefact-file",
            Self::Suppression => "suppression",
            Self::MissingControl => "missing-control",
            Self::Governance => "governance",
            Self::ModelError => "model-error",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A position in a file: 1-based line, 1-based column counted in Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A range in a file: byte offsets (end exclusive) plus the matching human positions.
///
/// For notebooks, `cell` is the 0-based index into the notebook's `cells` array (markdown cells
/// counted) and `start`/`end` are counted within that cell's source; the byte offsets refer to
/// the cell's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start_byte: usize,
    pub end_byte: usize,
    pub start: Position,
    pub end: Position,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<usize>,
}

/// One text replacement: bytes `span.start_byte..span.end_byte` become `new_text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub span: Span,
    pub new_text: String,
}

/// A mechanical fix: applying every edit (they never overlap) resolves the finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
}

/// Framework references of a rule. Ids are stored as published (`A.8.28`, `AML.T0011.000`,
/// `LLM03:2025`, `CWE-502`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct References {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwe: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iso27001: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iso42001: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub atlas: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owasp: Vec<String>,
}

impl References {
    /// Every id, in a fixed order: CWE, ISO 27001, ISO 42001, ATLAS, OWASP.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.cwe
            .iter()
            .chain(&self.iso27001)
            .chain(&self.iso42001)
            .chain(&self.atlas)
            .chain(&self.owasp)
            .map(String::as_str)
    }
}

/// Another place that explains the finding, e.g. where an untrusted value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub span: Span,
    pub message: String,
}

/// A suppression that applies to a finding (`# threatlens: ignore[TL101] reason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    pub reason: String,
    pub span: Span,
}

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `TL101`.
    pub rule: String,
    /// Stable human id of the rule, e.g. `torch-load-without-weights-only`.
    pub slug: String,
    pub category: Category,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
    /// For threat-model findings: the id of the model element the finding is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// For missing-control findings: control capabilities, any of which would satisfy the rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// AI threat library ids (`AITL-022`) the finding relates to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threats: Vec<String>,
    /// Identifies the finding across edits that move it: a hash of the rule and the code it
    /// covers (whitespace-normalised), not of its position.
    #[serde(skip)]
    pub fingerprint: u64,
    /// The constant string the rule's subject held (a path, a URL), when it held one: lets the
    /// scan tie `torch.load("model.pt")` to what the artefact scan found in `model.pt`.
    #[serde(skip)]
    pub subject_value: Option<String>,
}

/// 64-bit FNV-1a: a stable hash (unlike `std`'s, which is seeded per process).
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// A fingerprint for `rule` on `code`, ignoring whitespace differences.
pub fn fingerprint(rule: &str, code: &str) -> u64 {
    let normalised: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    stable_hash(&[rule, &normalised])
}

/// What outputs need to know about a rule, whatever produced it (code catalogue, artefact
/// scanner, threat-model checks): for `threatlens rules`/`explain`, hovers and SARIF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleDoc {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub category: Category,
    pub severity: Severity,
    pub rationale: String,
    pub mitigation: String,
    pub references: References,
    /// Title of the mechanical fix, when the rule has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    /// A finding with what every finding has; the optional parts (fix, related places,
    /// model target, …) start empty. The fingerprint hashes the rule and `fingerprint_of`.
    pub fn new(
        rule: impl Into<String>,
        slug: impl Into<String>,
        category: Category,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
        fingerprint_of: &str,
    ) -> Self {
        let rule = rule.into();
        Self {
            fingerprint: fingerprint(&rule, fingerprint_of),
            rule,
            slug: slug.into(),
            category,
            severity,
            span,
            message: message.into(),
            fix: None,
            related: Vec::new(),
            suppressed: None,
            target: None,
            missing: Vec::new(),
            threats: Vec::new(),
            subject_value: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

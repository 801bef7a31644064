//! The `threatlens/v1` threat-model format as Rust types (serde + schemars).
//!
//! One YAML file per system (default `threatmodel.yaml`); `includes:` may split it. Lists are
//! flat and id-keyed (`- id: x`); every reference is an id. The JSON Schema in
//! `threat-models/schema/threatlens-v1.schema.json` is generated from these types.
//!
//! Departures from `spec/threat-model-format.md`, to keep a minimal model short:
//! - only `schema` is required at the top level; a missing `scope` is a governance finding, not
//!   a parse error, and an absent list is empty;
//! - `name` is optional everywhere (the id is shown instead); `protocol`, `authn` and
//!   `encryption` of a flow are optional (unknown, so no rule assumes `none`);
//! - ids may contain upper-case letters (`T-01`, as the worked example writes threat ids);
//! - `monitoring.internal_audit.iso27001_clause` exists because the worked example uses it.

use crate::date::{Date, Duration};
use crate::de::{Spanned, lenient_opt, lenient_vec};
use crate::library;
use schemars::JsonSchema;
use serde::Deserialize;
use std::borrow::Cow;

/// The schema tag every file carries.
pub const SCHEMA_TAG: &str = "threatlens/v1";

/// Sections of a file that may appear in only one file of a model.
pub const SINGLETON_SECTIONS: &[&str] = &["metadata", "scope", "incident_response", "monitoring"];

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident, $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $schema
            }
        }
    };
}

string_newtype!(
    /// An element id: letters, digits and `-`, starting with a letter or digit; unique across
    /// the model (all files).
    Id,
    schemars::json_schema!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]*$"})
);
string_newtype!(
    /// A control capability from the closed vocabulary rules test for.
    Capability,
    schemars::json_schema!({"type": "string", "enum": library::library().capability_names()})
);
string_newtype!(
    /// An ISO/IEC 27001:2022 Annex A control id, e.g. `A.8.24` (one of the 93).
    Iso27001Id,
    schemars::json_schema!({"type": "string", "enum": library::library().iso27001_ids()})
);
string_newtype!(
    /// An ISO/IEC 42001:2023 Annex A control id, e.g. `A.6.2.4` (one of the 38).
    Iso42001Id,
    schemars::json_schema!({"type": "string", "enum": library::library().iso42001_ids()})
);
string_newtype!(
    /// A MITRE ATLAS technique id, e.g. `AML.T0051.000`.
    AtlasId,
    schemars::json_schema!({"type": "string", "pattern": "^AML\\.T[0-9]{4}(\\.[0-9]{3})?$"})
);
string_newtype!(
    /// An OWASP Top 10 for LLM Applications id with its edition year, e.g. `LLM01:2025`.
    OwaspLlmId,
    schemars::json_schema!({"type": "string", "pattern": "^LLM(0[1-9]|10):(2025|2026)$"})
);
string_newtype!(
    /// An OWASP Machine Learning Security Top 10 id with its edition year, e.g. `ML06:2023`.
    OwaspMlId,
    schemars::json_schema!({"type": "string", "pattern": "^ML(0[1-9]|10):2023$"})
);
string_newtype!(
    /// A CWE id, e.g. `CWE-502`.
    CweId,
    schemars::json_schema!({"type": "string", "pattern": "^CWE-[0-9]+$"})
);

/// A reference to another element, by id.
pub type Ref = Spanned<Id>;

/// One `threatlens/v1` file: a whole model, or a part of one brought in by `includes:`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(title = "threatlens/v1 threat model")]
#[schemars(deny_unknown_fields)]
pub struct Document {
    /// Always `threatlens/v1`. (Optional for serde so that a missing tag is reported with a
    /// helpful message; required in the JSON Schema.)
    #[schemars(schema_with = "schema_tag", required)]
    pub schema: Option<Spanned<String>>,
    /// Ownership, reviewers and review cadence (ISO/IEC 27001 cl. 7.5).
    #[serde(default, deserialize_with = "lenient_opt")]
    pub metadata: Option<Metadata>,
    /// Files to merge into this model, relative to this file; they may not leave the root
    /// model's directory.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub includes: Vec<Spanned<String>>,
    /// ISMS scope (ISO/IEC 27001 cl. 4.3) and risk criteria (cl. 6.1.2).
    #[serde(default, deserialize_with = "lenient_opt")]
    pub scope: Option<Scope>,
    /// What must be protected.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub assets: Vec<Asset>,
    /// Where trust changes.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub trust_boundaries: Vec<TrustBoundary>,
    /// The data-flow graph's nodes.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub components: Vec<Component>,
    /// The data-flow graph's edges.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub flows: Vec<Flow>,
    /// The control catalogue; elements reference controls by id.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub controls: Vec<Control>,
    /// Identified threats and their treatment.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub threats: Vec<Threat>,
    /// Time-boxed, approved suppressions of one rule on one target.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub exceptions: Vec<Exception>,
    /// Third parties and their due diligence.
    #[serde(default, deserialize_with = "lenient_vec")]
    pub suppliers: Vec<Supplier>,
    /// Contacts, playbooks and exercises.
    #[serde(default, deserialize_with = "lenient_opt")]
    pub incident_response: Option<IncidentResponse>,
    /// Signals, logging and internal audit.
    #[serde(default, deserialize_with = "lenient_opt")]
    pub monitoring: Option<Monitoring>,
}

fn schema_tag(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"const": SCHEMA_TAG, "description": "Always `threatlens/v1`."})
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Metadata {
    /// The model's own id (not an element id).
    pub id: Option<Spanned<String>>,
    pub title: Option<String>,
    pub version: Option<String>,
    pub owner: Option<Spanned<String>>,
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// When the model was last reviewed.
    pub last_reviewed: Option<Spanned<Date>>,
    /// How often it must be reviewed.
    pub review_every: Option<Spanned<Duration>>,
    pub repository: Option<String>,
    pub doc_classification: Option<Classification>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Scope {
    /// What the ISMS covers, in one paragraph.
    pub statement: String,
    #[serde(default)]
    pub in_scope: InScope,
    #[serde(default)]
    pub out_of_scope: Vec<OutOfScope>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    pub context: Option<Context>,
    pub risk_criteria: Option<RiskCriteria>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct InScope {
    /// Components in scope. When given, components not listed (and not external) are reported.
    #[serde(default)]
    pub systems: Vec<Ref>,
    #[serde(default)]
    pub processes: Vec<String>,
    /// Assets in scope.
    #[serde(default)]
    pub data: Vec<Ref>,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct OutOfScope {
    pub item: Spanned<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Interface {
    /// A supplier id.
    pub with: Ref,
    /// The flow that implements the interface.
    pub via: Option<Ref>,
    pub dependency: Option<Dependency>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Dependency {
    None,
    Degraded,
    Hard,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Context {
    #[serde(default)]
    pub issues: Vec<String>,
    #[serde(default)]
    pub interested_parties: Vec<String>,
    #[serde(default)]
    pub obligations: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RiskCriteria {
    /// Names of likelihood levels 1..5.
    #[serde(default)]
    pub likelihood_scale: Vec<String>,
    /// Names of impact levels 1..5.
    #[serde(default)]
    pub impact_scale: Vec<String>,
    /// Risk (likelihood × impact) above this needs treatment, or acceptance by `accept_authority`.
    pub acceptance_threshold: Spanned<u32>,
    /// Who may accept a risk above the threshold.
    pub accept_authority: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Asset {
    pub id: Spanned<Id>,
    pub name: Option<String>,
    pub kind: AssetKind,
    /// Declared classification; the effective one is the maximum over `derived_from`.
    pub classification: Classification,
    pub cia: Option<Cia>,
    pub owner: Option<String>,
    pub pii: Option<Pii>,
    #[serde(default)]
    pub personal_data: Vec<String>,
    pub lawful_basis: Option<String>,
    pub retention: Option<Spanned<Duration>>,
    #[serde(default)]
    pub derived_from: Vec<Ref>,
    pub provenance: Option<Provenance>,
    /// File format, e.g. `safetensors`, `pickle`, `parquet`.
    pub format: Option<String>,
    pub license: Option<String>,
    pub contains_secrets: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AssetKind {
    Document,
    Record,
    Prompt,
    SystemPrompt,
    ModelOutput,
    InferenceLog,
    TrainingData,
    EvalData,
    FeatureSet,
    Embeddings,
    ModelWeights,
    AdapterWeights,
    Tokenizer,
    DatasetCard,
    ModelCard,
    Secret,
    Code,
    Config,
}

/// `public < internal < confidential < restricted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Restricted,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Cia {
    pub c: CiaLevel,
    pub i: CiaLevel,
    pub a: CiaLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CiaLevel {
    Low,
    Medium,
    High,
    Critical,
}

/// Personal data: `true`, `false`, `pseudonymised` or `anonymised`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pii {
    Yes,
    No,
    Pseudonymised,
    Anonymised,
}

impl Pii {
    /// Whether the asset counts as personal data for the rules (anonymised data does not).
    pub fn is_personal(self) -> bool {
        matches!(self, Pii::Yes | Pii::Pseudonymised)
    }
}

impl<'de> Deserialize<'de> for Pii {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Pii, D::Error> {
        struct PiiVisitor;
        impl serde::de::Visitor<'_> for PiiVisitor {
            type Value = Pii;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false, pseudonymised or anonymised")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Pii, E> {
                Ok(if v { Pii::Yes } else { Pii::No })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Pii, E> {
                match v {
                    "pseudonymised" => Ok(Pii::Pseudonymised),
                    "anonymised" => Ok(Pii::Anonymised),
                    "true" => Ok(Pii::Yes),
                    "false" => Ok(Pii::No),
                    _ => Err(E::unknown_variant(
                        v,
                        &["true", "false", "pseudonymised", "anonymised"],
                    )),
                }
            }
        }
        deserializer.deserialize_any(PiiVisitor)
    }
}

impl JsonSchema for Pii {
    fn schema_name() -> Cow<'static, str> {
        "Pii".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Personal data: true, false, pseudonymised or anonymised.",
            "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["pseudonymised", "anonymised"]}]
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Provenance {
    /// The component or supplier the asset comes from.
    pub source: Option<Ref>,
    /// The component that collected it.
    pub collected_by: Option<Ref>,
    /// The component or supplier that labelled it.
    pub labelled_by: Option<Ref>,
    /// Commit/revision the asset is pinned to.
    pub pinned_revision: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TrustBoundary {
    pub id: Spanned<Id>,
    pub name: Option<String>,
    pub kind: Option<BoundaryKind>,
    pub trust: Trust,
    /// Components inside (a component may also be in the boundaries enclosing this one).
    #[serde(default)]
    pub contains: Vec<Ref>,
    /// The enclosing boundary.
    pub parent: Option<Ref>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BoundaryKind {
    Network,
    ExecutionEnvironment,
    Organisation,
    Tenant,
    Process,
}

/// `untrusted < semi-trusted < trusted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    Untrusted,
    SemiTrusted,
    Trusted,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Component {
    pub id: Spanned<Id>,
    pub name: Option<String>,
    pub kind: ComponentKind,
    #[serde(default)]
    pub tech: Vec<String>,
    pub owner: Option<String>,
    /// The supplier that provides it.
    pub supplier: Option<Ref>,
    /// Outside the ISMS scope: no findings are raised on it.
    #[serde(default)]
    pub out_of_scope: bool,
    /// A person (only meaningful for `external-entity`).
    #[serde(default)]
    pub human: bool,
    #[serde(default)]
    pub processes: Vec<Ref>,
    #[serde(default)]
    pub stores: Vec<Ref>,
    #[serde(default)]
    pub controls: Vec<Ref>,
    pub code: Option<Code>,
    pub ai: Option<Ai>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    ExternalEntity,
    Process,
    DataStore,
    MlModel,
    Llm,
    VectorStore,
    FeatureStore,
    ModelRegistry,
    Pipeline,
    Agent,
    Tool,
    Notebook,
}

/// Where the component lives in the code, for code ↔ model mapping.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Code {
    #[serde(default)]
    pub paths: Vec<String>,
    /// `file::symbol`.
    #[serde(default)]
    pub entrypoints: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Ai {
    pub role: Option<String>,
    pub model: Option<String>,
    pub hosting: Option<Hosting>,
    /// Documents that the component receives untrusted input (the graph decides reachability).
    pub untrusted_input: Option<bool>,
    pub rag: Option<bool>,
    pub fine_tuned: Option<bool>,
    /// The system-prompt asset.
    pub system_prompt: Option<Ref>,
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub human_approval_for: Vec<String>,
    pub executes_code: Option<bool>,
    pub memory: Option<Memory>,
    pub max_output_tokens: Option<u32>,
    pub decision_impact: Option<DecisionImpact>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Hosting {
    SelfHosted,
    ThirdParty,
    OnDevice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Memory {
    None,
    Session,
    Persistent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionImpact {
    Low,
    High,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Flow {
    pub id: Spanned<Id>,
    pub from: Ref,
    pub to: Ref,
    pub protocol: Option<String>,
    pub authn: Option<Authn>,
    pub encryption: Option<Encryption>,
    #[serde(default)]
    pub carries: Vec<Ref>,
    /// The response travels back from `to` to `from` (not followed for reachability).
    #[serde(default)]
    pub bidirectional: bool,
    #[serde(default)]
    pub kind: FlowKind,
    /// Code path that implements the flow.
    pub via: Option<String>,
    #[serde(default)]
    pub controls: Vec<Ref>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Authn {
    None,
    ApiKey,
    Token,
    Oauth2,
    Oidc,
    Mtls,
    Iam,
    PresignedUrl,
    Session,
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encryption {
    None,
    #[serde(rename = "tls1.2")]
    Tls12,
    #[serde(rename = "tls1.3")]
    Tls13,
    Mtls,
    Vpn,
    MessageLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FlowKind {
    #[default]
    Data,
    ToolCall,
    Telemetry,
    Deployment,
}

impl FlowKind {
    /// Runtime flows carry requests; deployment and telemetry flows are not followed when
    /// computing who can reach a component.
    pub fn is_runtime(self) -> bool {
        matches!(self, FlowKind::Data | FlowKind::ToolCall)
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Control {
    pub id: Spanned<Id>,
    /// What the control does, from the closed capability vocabulary.
    pub capability: Spanned<Capability>,
    pub title: Option<String>,
    pub status: ControlStatus,
    #[serde(default)]
    pub iso27001: Vec<Spanned<Iso27001Id>>,
    #[serde(default)]
    pub iso42001: Vec<Spanned<Iso42001Id>>,
    /// Code paths, config files or URLs that show the control exists.
    #[serde(default)]
    pub evidence: Vec<String>,
    pub owner: Option<String>,
    pub kind: Option<ControlKind>,
}

/// Only `implemented` controls satisfy a rule; `partial` ones do, with a low-severity finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    Implemented,
    Partial,
    Planned,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ControlKind {
    Preventive,
    Detective,
    Corrective,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Threat {
    pub id: Spanned<Id>,
    pub title: String,
    /// Components and flows the threat affects.
    #[serde(default)]
    pub affects: Vec<Ref>,
    #[serde(default)]
    pub stride: Vec<Stride>,
    #[serde(default)]
    pub atlas: Vec<Spanned<AtlasId>>,
    #[serde(default)]
    pub owasp_llm: Vec<Spanned<OwaspLlmId>>,
    #[serde(default)]
    pub owasp_ml: Vec<Spanned<OwaspMlId>>,
    #[serde(default)]
    pub cwe: Vec<Spanned<CweId>>,
    /// The AI threat library entry, e.g. `AITL-001`.
    pub library: Option<Spanned<String>>,
    /// The rule that raised it, if generated.
    pub rule: Option<Spanned<String>>,
    /// 1..5
    pub likelihood: Option<Spanned<u8>>,
    /// 1..5
    pub impact: Option<Spanned<u8>>,
    pub treatment: Option<Treatment>,
}

impl Threat {
    /// Likelihood × impact, when both are given.
    pub fn risk(&self) -> Option<u32> {
        Some(u32::from(*self.likelihood.as_deref()?) * u32::from(*self.impact.as_deref()?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stride {
    Spoofing,
    Tampering,
    Repudiation,
    InformationDisclosure,
    DenialOfService,
    ElevationOfPrivilege,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Treatment {
    pub decision: Decision,
    #[serde(default)]
    pub controls: Vec<Ref>,
    /// For `transfer`: the supplier the risk is transferred to.
    pub supplier: Option<Ref>,
    pub residual: Option<Residual>,
    pub owner: Option<Spanned<String>>,
    pub status: Option<ThreatStatus>,
    pub due: Option<Spanned<Date>>,
    pub review_by: Option<Spanned<Date>>,
    /// Required for `accept`; must be `scope.risk_criteria.accept_authority` above the threshold.
    pub approved_by: Option<Spanned<String>>,
    /// Required for `accept` and `avoid`.
    pub justification: Option<String>,
    pub ticket: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Mitigate,
    Accept,
    Transfer,
    Avoid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ThreatStatus {
    Open,
    InProgress,
    Implemented,
    Verified,
    Accepted,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Residual {
    pub likelihood: Spanned<u8>,
    pub impact: Spanned<u8>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Exception {
    /// The rule: `TM128`, its slug, or its library name (`R-FLOW-WEAK-TLS`).
    pub rule: Spanned<String>,
    /// An element id, or `code:<glob>` for code findings.
    pub target: Spanned<String>,
    pub justification: String,
    pub approved_by: Spanned<String>,
    pub expires: Spanned<Date>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Supplier {
    pub id: Spanned<Id>,
    pub name: Option<String>,
    pub kind: SupplierKind,
    /// Components it provides.
    #[serde(default)]
    pub provides: Vec<Ref>,
    /// Assets shared with it.
    #[serde(default)]
    pub data_shared: Vec<Ref>,
    #[serde(default)]
    pub iso27001: Vec<Spanned<Iso27001Id>>,
    #[serde(default)]
    pub iso42001: Vec<Spanned<Iso42001Id>>,
    pub due_diligence: Option<DueDiligence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SupplierKind {
    LlmApi,
    ModelHub,
    DatasetProvider,
    DataLabeling,
    Cloud,
    Saas,
    VectorDbSaas,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DueDiligence {
    pub assessed_on: Option<Spanned<Date>>,
    #[serde(default)]
    pub certifications: Vec<String>,
    pub dpa_signed: Option<bool>,
    pub data_residency: Option<String>,
    pub retention: Option<String>,
    pub trains_on_customer_data: Option<bool>,
    pub subprocessors_reviewed: Option<bool>,
    /// How fast the supplier notifies incidents, e.g. `24h`.
    pub incident_notification: Option<String>,
    pub exit_plan: Option<String>,
    pub artifact_policy: Option<String>,
    pub model_card_reviewed: Option<bool>,
    pub staff_nda: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct IncidentResponse {
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub playbooks: Vec<Playbook>,
    pub exercises: Option<Exercises>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Contact {
    pub role: String,
    pub who: Option<String>,
    pub supplier: Option<Ref>,
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Playbook {
    pub id: Spanned<Id>,
    pub title: String,
    /// Threat or monitoring-signal ids that start the playbook.
    #[serde(default)]
    pub triggers: Vec<Ref>,
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub iso27001: Vec<Spanned<Iso27001Id>>,
    #[serde(default)]
    pub iso42001: Vec<Spanned<Iso42001Id>>,
    pub runbook: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Exercises {
    pub last: Option<Spanned<Date>>,
    pub every: Option<Spanned<Duration>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Monitoring {
    #[serde(default, deserialize_with = "lenient_vec")]
    pub signals: Vec<Signal>,
    pub logging: Option<Logging>,
    pub internal_audit: Option<InternalAudit>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Signal {
    pub id: Spanned<Id>,
    /// The component the signal is measured on.
    pub source: Ref,
    pub metric: String,
    pub alert: Option<String>,
    /// Threats the signal detects.
    #[serde(default)]
    pub covers: Vec<Ref>,
    /// Where alerts go.
    pub sink: Option<Ref>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Logging {
    pub retention: Option<Spanned<Duration>>,
    pub pii_in_logs: Option<PiiInLogs>,
    #[serde(default)]
    pub iso27001: Vec<Spanned<Iso27001Id>>,
    #[serde(default)]
    pub iso42001: Vec<Spanned<Iso42001Id>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PiiInLogs {
    None,
    Masked,
    Raw,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct InternalAudit {
    pub every: Option<Spanned<Duration>>,
    pub last: Option<Spanned<Date>>,
    /// The ISO/IEC 27001 clause the audit answers (usually `9.2`).
    pub iso27001_clause: Option<String>,
}

//! Problems with the threat model itself (category `model-error`), before any check runs.
//!
//! Each [`Problem`] is one documented rule (id, slug, severity, rationale) in
//! `library/rules-model.toml`; this module only names them.

use crate::de::Loc;

/// The kinds of model errors. The slug of each is its rule slug in `library/rules-model.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    YamlSyntax,
    DuplicateKey,
    InputLimit,
    NotUtf8,
    UnknownKey,
    WrongType,
    MissingKey,
    UnknownValue,
    SchemaTag,
    InvalidId,
    DuplicateId,
    DanglingReference,
    WrongReferenceKind,
    InvalidIso27001,
    InvalidIso42001,
    InvalidAtlas,
    UnlistedAtlas,
    InvalidOwasp,
    InvalidCwe,
    UnknownCapability,
    Include,
    InvalidScore,
    Boundary,
    UnknownRule,
    UnknownLibraryThreat,
    SectionConflict,
    NoBoundary,
}

impl Problem {
    pub const ALL: [Problem; 27] = [
        Self::YamlSyntax,
        Self::DuplicateKey,
        Self::InputLimit,
        Self::NotUtf8,
        Self::UnknownKey,
        Self::WrongType,
        Self::MissingKey,
        Self::UnknownValue,
        Self::SchemaTag,
        Self::InvalidId,
        Self::DuplicateId,
        Self::DanglingReference,
        Self::WrongReferenceKind,
        Self::InvalidIso27001,
        Self::InvalidIso42001,
        Self::InvalidAtlas,
        Self::UnlistedAtlas,
        Self::InvalidOwasp,
        Self::InvalidCwe,
        Self::UnknownCapability,
        Self::Include,
        Self::InvalidScore,
        Self::Boundary,
        Self::UnknownRule,
        Self::UnknownLibraryThreat,
        Self::SectionConflict,
        Self::NoBoundary,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::YamlSyntax => "yaml-syntax",
            Self::DuplicateKey => "duplicate-key",
            Self::InputLimit => "input-limit",
            Self::NotUtf8 => "not-utf8",
            Self::UnknownKey => "unknown-key",
            Self::WrongType => "wrong-type",
            Self::MissingKey => "missing-key",
            Self::UnknownValue => "unknown-value",
            Self::SchemaTag => "schema-tag",
            Self::InvalidId => "invalid-id",
            Self::DuplicateId => "duplicate-id",
            Self::DanglingReference => "dangling-reference",
            Self::WrongReferenceKind => "wrong-reference-kind",
            Self::InvalidIso27001 => "invalid-iso27001-control",
            Self::InvalidIso42001 => "invalid-iso42001-control",
            Self::InvalidAtlas => "invalid-atlas-id",
            Self::UnlistedAtlas => "unlisted-atlas-id",
            Self::InvalidOwasp => "invalid-owasp-id",
            Self::InvalidCwe => "invalid-cwe-id",
            Self::UnknownCapability => "unknown-capability",
            Self::Include => "include-error",
            Self::InvalidScore => "invalid-score",
            Self::Boundary => "boundary-error",
            Self::UnknownRule => "unknown-rule",
            Self::UnknownLibraryThreat => "unknown-library-threat",
            Self::SectionConflict => "section-conflict",
            Self::NoBoundary => "component-outside-boundaries",
        }
    }
}

/// One model error at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub problem: Problem,
    pub loc: Loc,
    pub message: String,
}

impl Diag {
    pub fn new(problem: Problem, loc: Loc, message: String) -> Self {
        Diag {
            problem,
            loc,
            message,
        }
    }
}

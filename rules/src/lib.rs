//! threatlens code analysis: language front-ends (Python, Jupyter notebooks, Rust), name
//! resolution, the rule engine with its catalogue of rules as data, intra-file taint, inline
//! suppressions, configuration and the parallel scanner.
//!
//! No async and no LSP types here: the `threatlens` binary (crate `lsp/`) turns [`Finding`]s
//! into text, JSON, SARIF and LSP diagnostics.

pub mod analyse;
pub mod artefact;
pub mod catalogue;
pub mod config;
pub mod engine;
pub mod finding;
pub mod lang;
pub mod project;
pub mod qname;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod value;

pub use analyse::{Analysis, FileKind, analyse_bytes, analyse_notebook_tree, analyse_source};
pub use catalogue::{Catalogue, Language, Rule};
pub use config::Config;
pub use finding::{
    Category, Edit, Finding, Fix, Position, References, Related, RuleDoc, Severity, Span,
};
pub use scan::{FileReport, ScanResult, scan};

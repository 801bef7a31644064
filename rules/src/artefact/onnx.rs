//! ONNX: a protobuf `ModelProto`, read with a minimal streaming protobuf walker (no codegen,
//! no schema crate: only the handful of fields that matter are decoded, everything else is
//! skipped by length). The graph holds no Python, but two things load code or files:
//! - nodes in a custom operator domain need a native custom-op library registered at load
//!   time (`ai.onnx`, `ai.onnx.ml`, `ai.onnx.training`/`preview.training` and ONNX Runtime's
//!   `com.microsoft*` are built in; so are model-local functions);
//! - tensors with `external_data` read `location` relative to the model directory; absolute
//!   paths and `..` escapes read arbitrary files (CVE-2022-25882, CVE-2024-27318,
//!   CVE-2026-27489).

use super::input::{Input, Stop};
use super::{ArtefactReport, Part, rule};
use crate::finding::Severity;
use std::collections::{BTreeMap, BTreeSet};

/// Subgraphs nest (If/Loop/Scan bodies); deeper than this is an attack on the reader.
const MAX_DEPTH: u32 = 64;
const KEEP: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    SparseTensor,
    Function,
    TrainingInfo,
    OpsetId,
    StringEntry,
}

/// The message type of a length-delimited field, for the fields the walker descends into.
fn child(msg: Msg, field: u64) -> Option<Msg> {
    use Msg::*;
    Some(match (msg, field) {
        (Model, 7) => Graph,
        (Model, 8) | (Function, 9) => OpsetId,
        (Model, 20) => TrainingInfo,
        (Model, 25) => Function,
        (TrainingInfo, 1 | 2) => Graph,
        (Graph, 1) | (Function, 7) => Node,
        (Graph, 5) => Tensor,
        (Graph, 15) => SparseTensor,
        (SparseTensor, 1 | 2) => Tensor,
        (Node, 5) | (Function, 11) => Attribute,
        (Attribute, 5 | 10) => Tensor,
        (Attribute, 6 | 11) => Graph,
        (Attribute, 22 | 23) => SparseTensor,
        (Tensor, 13) => StringEntry,
        _ => return None,
    })
}

/// String fields the walker keeps.
fn wanted(msg: Msg, field: u64) -> bool {
    matches!(
        (msg, field),
        (Msg::Model, 2 | 3)
            | (Msg::Node, 4 | 7)
            | (Msg::Function, 1 | 10)
            | (Msg::Tensor, 8)
            | (Msg::OpsetId, 1)
            | (Msg::StringEntry, 1 | 2)
    )
}

/// What one message held, as far as the checks care.
#[derive(Default)]
struct Fields {
    strings: Vec<(u64, String)>,
    varints: Vec<(u64, u64)>,
    /// Key/value entries of the message's `external_data`.
    entries: Vec<(String, String)>,
}

impl Fields {
    fn string(&self, field: u64) -> Option<&str> {
        self.strings
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, s)| s.as_str())
    }
}

#[derive(Default)]
struct Found {
    producer: Option<String>,
    ir_version: Option<u64>,
    /// Custom domain → op types.
    custom: BTreeMap<String, BTreeSet<String>>,
    functions: BTreeSet<(String, String)>,
    nodes: Vec<(String, String)>,
    opsets: BTreeSet<String>,
    /// (tensor, location) of external data that escapes the model directory.
    escapes: Vec<(String, String)>,
    external_without_location: Vec<String>,
    tensors: u64,
}

enum Problem {
    Stop(Stop),
    Bad(u64, String),
}

impl From<Stop> for Problem {
    fn from(stop: Stop) -> Self {
        Self::Stop(stop)
    }
}

pub(super) fn scan(report: &mut ArtefactReport, input: &mut Input<'_>) {
    let mut found = Found::default();
    let end = input.remaining().unwrap_or(u64::MAX);
    let outcome = walk(input, end, Msg::Model, 0, &mut found);
    for (domain, name) in std::mem::take(&mut found.nodes) {
        if !is_builtin_domain(&domain) && !found.functions.contains(&(domain.clone(), name.clone()))
        {
            found.custom.entry(domain).or_default().insert(name);
        }
    }
    let mut part = Part::new("", "ONNX");
    part.metadata.extend(
        found
            .ir_version
            .map(|v| ("ir_version".into(), v.to_string())),
    );
    part.metadata
        .extend(found.producer.clone().map(|p| ("producer".into(), p)));
    part.metadata.push((
        "opsets".into(),
        found.opsets.iter().cloned().collect::<Vec<_>>().join(", "),
    ));
    part.metadata
        .push(("tensors".into(), found.tensors.to_string()));
    report.parts.push(part);
    for (tensor, location) in &found.escapes {
        report.issue(
            rule::ONNX_PATH_ESCAPE,
            Severity::High,
            "",
            None,
            format!("tensor `{tensor}` reads its external data from `{location}`, outside the model directory"),
        );
    }
    for tensor in &found.external_without_location {
        report.issue(
            rule::MALFORMED,
            Severity::Medium,
            "",
            None,
            format!("tensor `{tensor}` has external data without a location"),
        );
    }
    for (domain, ops) in &found.custom {
        let ops: Vec<&str> = ops.iter().take(10).map(String::as_str).collect();
        report.issue(
            rule::ONNX_CUSTOM_DOMAIN,
            Severity::Medium,
            "",
            None,
            format!(
                "operators from custom domain `{domain}` ({}) need a native custom-op library at load time",
                ops.join(", ")
            ),
        );
    }
    match outcome {
        Ok(_) => {}
        Err(Problem::Bad(at, message)) => report.issue(
            rule::MALFORMED,
            Severity::Medium,
            "",
            Some(at),
            format!("not a valid ONNX model: {message} (byte {at})"),
        ),
        Err(Problem::Stop(stop @ Stop::Eof(_))) => report.issue(
            rule::MALFORMED,
            Severity::Medium,
            "",
            None,
            format!("ONNX model {}", stop.describe()),
        ),
        Err(Problem::Stop(stop)) => report.notes.push(stop.describe()),
    }
}

fn is_builtin_domain(domain: &str) -> bool {
    matches!(
        domain,
        "" | "ai.onnx"
            | "ai.onnx.ml"
            | "ai.onnx.training"
            | "ai.onnx.preview.training"
            | "com.microsoft"
    ) || domain.starts_with("com.microsoft.")
}

/// Absolute, drive-letter, UNC or `..`-escaping paths.
pub fn escapes_directory(location: &str) -> bool {
    let bytes = location.as_bytes();
    location.starts_with(['/', '\\'])
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
        || location.split(['/', '\\']).any(|part| part == "..")
}

fn varint(input: &mut Input<'_>) -> Result<u64, Problem> {
    let at = input.pos();
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = input.byte()?;
        if shift == 63 && byte > 1 {
            break;
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Problem::Bad(at, "varint longer than 64 bits".into()))
}

/// Walks one message that ends at `end`.
fn walk(
    input: &mut Input<'_>,
    end: u64,
    msg: Msg,
    depth: u32,
    found: &mut Found,
) -> Result<Fields, Problem> {
    if depth > MAX_DEPTH {
        return Err(Problem::Bad(
            input.pos(),
            format!("messages nested more than {MAX_DEPTH} deep"),
        ));
    }
    let mut fields = Fields::default();
    while input.pos() < end {
        if msg == Msg::Model && input.at_end()? {
            break;
        }
        let at = input.pos();
        let key = varint(input)?;
        let (field, wire) = (key >> 3, key & 7);
        if field == 0 {
            return Err(Problem::Bad(at, "field number 0".into()));
        }
        match wire {
            0 => {
                let value = varint(input)?;
                fields.varints.push((field, value));
            }
            1 => input.skip(8)?,
            5 => input.skip(4)?,
            2 => {
                let len = varint(input)?;
                let left = end.saturating_sub(input.pos());
                if len > left {
                    return Err(Problem::Bad(
                        at,
                        format!("field {field} claims {len} bytes but only {left} remain"),
                    ));
                }
                let stop = input.pos() + len;
                if let Some(kind) = child(msg, field) {
                    let inner = walk(input, stop, kind, depth + 1, found)?;
                    if kind == Msg::StringEntry
                        && let (Some(k), Some(v)) = (inner.string(1), inner.string(2))
                    {
                        fields.entries.push((k.to_string(), v.to_string()));
                    }
                    if kind == Msg::OpsetId {
                        found
                            .opsets
                            .insert(inner.string(1).unwrap_or("ai.onnx").to_string());
                    }
                } else if wanted(msg, field) {
                    let bytes = input.bytes(len, KEEP)?;
                    fields
                        .strings
                        .push((field, String::from_utf8_lossy(&bytes).into_owned()));
                } else {
                    input.skip(len)?;
                }
            }
            other => {
                return Err(Problem::Bad(
                    at,
                    format!("wire type {other} (groups are not used by ONNX)"),
                ));
            }
        }
    }
    if input.pos() > end {
        return Err(Problem::Bad(
            end,
            "a field runs past the end of its message".into(),
        ));
    }
    match msg {
        Msg::Model => {
            found.producer = fields.string(2).map(str::to_string);
            found.ir_version = fields
                .varints
                .iter()
                .find(|(f, _)| *f == 1)
                .map(|(_, v)| *v);
        }
        Msg::Node => {
            let domain = fields.string(7).unwrap_or("").to_string();
            let op = fields.string(4).unwrap_or("?").to_string();
            if !is_builtin_domain(&domain) && found.nodes.len() < 100_000 {
                found.nodes.push((domain, op));
            }
        }
        Msg::Function => {
            let domain = fields.string(10).unwrap_or("").to_string();
            let name = fields.string(1).unwrap_or("").to_string();
            found.functions.insert((domain, name));
        }
        Msg::Tensor => {
            found.tensors += 1;
            let name = fields.string(8).unwrap_or("?").to_string();
            let location = fields
                .entries
                .iter()
                .find(|(k, _)| k == "location")
                .map(|(_, v)| v.clone());
            let external = fields.varints.iter().any(|&(f, v)| f == 14 && v == 1);
            match location {
                Some(location) if escapes_directory(&location) => {
                    found.escapes.push((name, location))
                }
                None if external => found.external_without_location.push(name),
                _ => {}
            }
        }
        _ => {}
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert!(escapes_directory("/etc/passwd"));
        assert!(escapes_directory("../../secret.bin"));
        assert!(escapes_directory("weights/../../x"));
        assert!(escapes_directory("C:\\Windows\\win.ini"));
        assert!(escapes_directory("\\\\server\\share\\x"));
        assert!(!escapes_directory("model.onnx.data"));
        assert!(!escapes_directory("weights/layer0.bin"));
        assert!(!escapes_directory("..weights"));
    }
}

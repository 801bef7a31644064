//! safetensors: an 8-byte little-endian header length, a JSON header, then raw tensor bytes.
//! The format holds no code; what can be wrong is the header: lengths beyond the file,
//! unknown dtypes, byte ranges that do not match shape × dtype, ranges that overlap or leave
//! holes (room for a second, hidden payload: a polyglot file), and `__metadata__` values
//! that are not strings. Only the header is read.

use super::input::Seekable;
use super::{ArtefactReport, Limits, Part, Tensor, rule};
use crate::finding::Severity;
use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::{Read, Seek};

/// Bits per element of each dtype the format defines.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

pub(super) fn scan<R: Read + Seek>(
    report: &mut ArtefactReport,
    source: &mut Seekable<R>,
    len: u64,
    limits: &Limits,
) {
    let mut part = Part::new("", "safetensors");
    let problems = check(source, len, limits, &mut part);
    report.parts.push(part);
    for problem in problems {
        report.issue(rule::MALFORMED, Severity::Medium, "", None, problem);
    }
}

fn check<R: Read + Seek>(
    source: &mut Seekable<R>,
    len: u64,
    limits: &Limits,
    part: &mut Part,
) -> Vec<String> {
    let mut prefix = [0u8; 8];
    if len < 8 || source.read_exact(&mut prefix).is_err() {
        return vec![format!("safetensors file of {len} bytes has no header")];
    }
    let header_len = u64::from_le_bytes(prefix);
    if header_len > len - 8 {
        return vec![format!(
            "header length {header_len} is beyond the end of the {len}-byte file"
        )];
    }
    if header_len > limits.max_json {
        return vec![format!(
            "header length {header_len} is over the format's limit of {} bytes",
            limits.max_json
        )];
    }
    let mut header = Vec::with_capacity(header_len as usize);
    if let Err(error) = (&mut *source).take(header_len).read_to_end(&mut header) {
        return vec![format!("header cannot be read: {error}")];
    }
    let entries = match parse_entries(&header) {
        Ok(entries) => entries,
        Err(error) => return vec![format!("header is not a JSON object: {error}")],
    };
    let data_len = len - 8 - header_len;
    let mut problems = Vec::new();
    let mut ranges = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut bad_tensor = false;
    for (name, value) in entries {
        if !seen.insert(name.clone()) {
            problems.push(format!("tensor `{name}` is declared twice"));
            continue;
        }
        if name == "__metadata__" {
            match value {
                Value::Object(map) => {
                    for (key, value) in map {
                        match value {
                            Value::String(text) => part.metadata.push((key, text)),
                            other => problems.push(format!(
                                "`__metadata__` value `{key}` is {}, not a string",
                                kind(&other)
                            )),
                        }
                    }
                }
                other => {
                    problems.push(format!("`__metadata__` is {}, not an object", kind(&other)))
                }
            }
            continue;
        }
        match tensor(&name, &value, data_len) {
            Ok(tensor) => {
                if let Some(range) = tensor.data {
                    ranges.push((range, name.clone()));
                }
                part.tensors.push(tensor);
            }
            Err(problem) => {
                bad_tensor = true;
                problems.push(problem);
            }
        }
    }
    if bad_tensor {
        return problems;
    }
    // The byte buffer must be covered exactly: sorted, no overlap, no hole, nothing after.
    ranges.sort();
    let mut end = 0u64;
    for ((start, stop), name) in &ranges {
        if *start < end {
            problems.push(format!("tensor `{name}` overlaps the tensor before it"));
        } else if *start > end {
            problems.push(format!(
                "{} unused bytes before tensor `{name}` (data outside any tensor)",
                start - end
            ));
        }
        end = end.max(*stop);
    }
    if end < data_len {
        problems.push(format!(
            "{} bytes after the last tensor (data outside any tensor)",
            data_len - end
        ));
    }
    problems
}

fn tensor(name: &str, value: &Value, data_len: u64) -> Result<Tensor, String> {
    let bad = |what: &str| format!("tensor `{name}`: {what}");
    let dtype = value
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no dtype"))?;
    let bits = dtype_bits(dtype).ok_or_else(|| bad(&format!("unknown dtype `{dtype}`")))?;
    let shape = value
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no shape"))?
        .iter()
        .map(|d| d.as_u64().ok_or_else(|| bad("shape holds a non-integer")))
        .collect::<Result<Vec<u64>, String>>()?;
    let offsets = value
        .get("data_offsets")
        .and_then(Value::as_array)
        .filter(|o| o.len() == 2)
        .ok_or_else(|| bad("no [begin, end] data_offsets"))?;
    let (Some(start), Some(stop)) = (offsets[0].as_u64(), offsets[1].as_u64()) else {
        return Err(bad("data_offsets are not integers"));
    };
    if start > stop {
        return Err(bad(&format!(
            "data_offsets [{start}, {stop}] run backwards"
        )));
    }
    if stop > data_len {
        return Err(bad(&format!(
            "data_offsets end at {stop}, past the {data_len} bytes of data"
        )));
    }
    let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    let bytes = count
        .and_then(|c| c.checked_mul(bits))
        .filter(|b| b % 8 == 0)
        .map(|b| b / 8);
    if bytes != Some(stop - start) {
        return Err(bad(&format!(
            "shape {shape:?} of {dtype} needs {} bytes but data_offsets give {}",
            bytes.map_or("an impossible number of".into(), |b| b.to_string()),
            stop - start
        )));
    }
    Ok(Tensor {
        name: name.to_string(),
        dtype: dtype.to_string(),
        shape,
        data: Some((start, stop)),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The header's top-level entries in file order, duplicates kept (a JSON map would hide them).
fn parse_entries(header: &[u8]) -> Result<Vec<(String, Value)>, serde_json::Error> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, Value)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry::<String, Value>()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(header);
    let entries = (&mut deserializer).deserialize_map(Entries)?;
    deserializer.end()?;
    Ok(entries)
}

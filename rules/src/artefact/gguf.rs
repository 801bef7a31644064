//! GGUF (llama.cpp): magic, version, metadata key/values, tensor infos, then aligned tensor
//! data. Every count and length is checked against what is left of the file before it is
//! used; chat templates (`tokenizer.chat_template`, `tokenizer.chat_template.<name>`) are
//! checked by [`super::jinja`].

use super::input::{Input, Stop};
use super::{ArtefactReport, Part, Tensor, jinja, rule};
use crate::finding::Severity;

/// Longest chat template kept for checking (real ones are a few KB).
const MAX_TEMPLATE: u64 = 4 << 20;
/// Metadata values kept for the listing.
const KEEP_VALUE: usize = 200;
/// Tensors listed.
const MAX_LISTED: usize = 100_000;

enum Problem {
    Stop(Stop),
    Bad(String),
}

impl From<Stop> for Problem {
    fn from(stop: Stop) -> Self {
        Self::Stop(stop)
    }
}

type Step<T> = Result<T, Problem>;

/// `(bytes per block, elements per block)` of the ggml tensor types whose layout is stable.
fn ggml_block(kind: u32) -> Option<(u64, u64)> {
    Some(match kind {
        0 => (4, 1),      // F32
        1 => (2, 1),      // F16
        2 => (18, 32),    // Q4_0
        3 => (20, 32),    // Q4_1
        6 => (22, 32),    // Q5_0
        7 => (24, 32),    // Q5_1
        8 => (34, 32),    // Q8_0
        9 => (36, 32),    // Q8_1
        10 => (84, 256),  // Q2_K
        11 => (110, 256), // Q3_K
        12 => (144, 256), // Q4_K
        13 => (176, 256), // Q5_K
        14 => (210, 256), // Q6_K
        15 => (292, 256), // Q8_K
        24 => (1, 1),     // I8
        25 => (2, 1),     // I16
        26 => (4, 1),     // I32
        27 => (8, 1),     // I64
        28 => (8, 1),     // F64
        30 => (2, 1),     // BF16
        _ => return None,
    })
}

pub(super) fn scan(report: &mut ArtefactReport, input: &mut Input<'_>) {
    let mut part = Part::new("", "GGUF");
    let mut templates = Vec::new();
    let outcome = parse(input, &mut part, &mut templates);
    report.parts.push(part);
    for (key, template) in templates {
        let risky = jinja::risky_constructs(&template);
        if !risky.is_empty() {
            report.issue(
                rule::GGUF_TEMPLATE,
                Severity::High,
                "",
                None,
                format!(
                    "chat template `{key}` reaches beyond plain rendering: {}",
                    risky.join(", ")
                ),
            );
        }
    }
    match outcome {
        Ok(()) => {}
        Err(Problem::Bad(message)) => {
            report.issue(rule::MALFORMED, Severity::Medium, "", None, message)
        }
        Err(Problem::Stop(stop @ Stop::Eof(_))) => report.issue(
            rule::MALFORMED,
            Severity::Medium,
            "",
            None,
            format!("GGUF header {}", stop.describe()),
        ),
        Err(Problem::Stop(stop)) => report.notes.push(stop.describe()),
    }
}

/// Bytes of a fixed-size metadata value type.
fn fixed_size(kind: u32) -> Option<u64> {
    match kind {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

struct Reader<'a, 'i> {
    input: &'a mut Input<'i>,
    /// Version 1 used 32-bit counts and lengths.
    v1: bool,
}

impl Reader<'_, '_> {
    fn count(&mut self) -> Result<u64, Stop> {
        if self.v1 {
            Ok(u64::from(self.input.u32_le()?))
        } else {
            self.input.u64_le()
        }
    }

    /// A length-prefixed string, keeping at most `keep` bytes.
    fn string(&mut self, keep: usize) -> Step<String> {
        let at = self.input.pos();
        let len = self.count()?;
        if let Some(left) = self.input.remaining()
            && len > left
        {
            return Err(Problem::Bad(format!(
                "string at byte {at} claims {len} bytes but only {left} remain"
            )));
        }
        let bytes = self.input.bytes(len, keep)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Skips (or, for strings, reads) one value of `kind`; returns it as text for the listing.
    fn value(&mut self, kind: u32, keep: usize, depth: u8) -> Step<String> {
        if let Some(size) = fixed_size(kind) {
            let bytes = self.input.bytes(size, 8)?;
            let mut buf = [0u8; 8];
            buf[..bytes.len()].copy_from_slice(&bytes);
            let raw = u64::from_le_bytes(buf);
            return Ok(match kind {
                6 => f32::from_bits(raw as u32).to_string(),
                12 => f64::from_bits(raw).to_string(),
                7 => (raw != 0).to_string(),
                _ => raw.to_string(),
            });
        }
        match kind {
            8 => self.string(keep),
            9 => {
                if depth > 2 {
                    return Err(Problem::Bad("arrays nested more than twice".into()));
                }
                let item = self.input.u32_le()?;
                let count = self.count()?;
                // Each item takes at least one byte: a longer count is a lie.
                if let Some(left) = self.input.remaining()
                    && count > left
                {
                    return Err(Problem::Bad(format!(
                        "array of {count} items cannot fit in the {left} bytes left"
                    )));
                }
                if let Some(size) = fixed_size(item) {
                    self.input.skip(count.saturating_mul(size))?;
                } else {
                    for _ in 0..count {
                        self.value(item, 0, depth + 1)?;
                    }
                }
                Ok(format!("[{count} items of type {item}]"))
            }
            other => Err(Problem::Bad(format!(
                "unknown metadata value type {other} at byte {}",
                self.input.pos()
            ))),
        }
    }
}

fn parse(
    input: &mut Input<'_>,
    part: &mut Part,
    templates: &mut Vec<(String, String)>,
) -> Step<()> {
    let magic = input.array::<4>()?;
    if &magic != b"GGUF" {
        return Err(Problem::Bad("not a GGUF file (bad magic)".into()));
    }
    let version = input.u32_le()?;
    if !(1..=3).contains(&version) {
        return Err(Problem::Bad(format!("unknown GGUF version {version}")));
    }
    part.metadata.push(("version".into(), version.to_string()));
    let mut reader = Reader {
        input,
        v1: version == 1,
    };
    let tensors = reader.count()?;
    let kvs = reader.count()?;
    let mut alignment = 32u64;
    for _ in 0..kvs {
        let key = reader.string(1024)?;
        let kind = reader.input.u32_le()?;
        let is_template =
            key == "tokenizer.chat_template" || key.starts_with("tokenizer.chat_template.");
        if is_template && kind == 8 {
            let at = reader.input.pos();
            let len = reader.count()?;
            if len > MAX_TEMPLATE {
                return Err(Problem::Bad(format!(
                    "chat template `{key}` at byte {at} claims {len} bytes"
                )));
            }
            let bytes = reader.input.bytes(len, len as usize)?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            part.metadata.push((key.clone(), text.clone()));
            templates.push((key, text));
            continue;
        }
        let value = reader.value(kind, KEEP_VALUE, 0)?;
        if key == "general.alignment" {
            alignment = value.parse().unwrap_or(0);
            if alignment == 0 || !alignment.is_power_of_two() {
                return Err(Problem::Bad(format!(
                    "general.alignment {value} is not a power of two"
                )));
            }
        }
        if part.metadata.len() < 1000 {
            part.metadata.push((key, value));
        }
    }
    let mut infos = Vec::new();
    for _ in 0..tensors {
        let name = reader.string(256)?;
        let dims = reader.input.u32_le()?;
        if dims > 8 {
            return Err(Problem::Bad(format!(
                "tensor `{name}` has {dims} dimensions"
            )));
        }
        let mut shape = Vec::with_capacity(dims as usize);
        for _ in 0..dims {
            shape.push(reader.input.u64_le()?);
        }
        let kind = reader.input.u32_le()?;
        let offset = reader.input.u64_le()?;
        infos.push((name, shape, kind, offset));
        if infos.len() > MAX_LISTED {
            infos.pop();
        }
    }
    let header_end = reader.input.pos();
    let data_start = header_end.div_ceil(alignment).saturating_mul(alignment);
    let data_len = reader
        .input
        .remaining()
        .map(|left| (header_end + left).saturating_sub(data_start));
    let mut problems = Vec::new();
    for (name, shape, kind, offset) in infos {
        let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        let size = ggml_block(kind).and_then(|(bytes, per)| {
            let count = count?;
            (count % per == 0).then(|| (count / per).checked_mul(bytes))?
        });
        if offset % alignment != 0 {
            problems.push(format!(
                "tensor `{name}` data offset {offset} is not aligned to {alignment}"
            ));
        }
        if let (Some(size), Some(data_len)) = (size, data_len)
            && offset.checked_add(size).is_none_or(|end| end > data_len)
        {
            problems.push(format!(
                "tensor `{name}` ({size} bytes at offset {offset}) runs past the end of the file"
            ));
        }
        part.tensors.push(Tensor {
            name,
            dtype: format!("ggml type {kind}"),
            shape,
            data: size.map(|size| (offset, offset.saturating_add(size))),
        });
    }
    if let Some(first) = problems.first() {
        let more = if problems.len() > 1 {
            format!(" (and {} more tensor problems)", problems.len() - 1)
        } else {
            String::new()
        };
        return Err(Problem::Bad(format!("{first}{more}")));
    }
    Ok(())
}

//! NumPy `.npy`: magic, version, a Python-literal header (`{'descr': '<f4', 'fortran_order':
//! False, 'shape': (3, 4), }`), then the array bytes — or, for object dtypes, a pickle, which
//! `np.load(..., allow_pickle=True)` unpickles.

use super::input::Input;
use super::pickle::{self, Mode};
use super::{ArtefactReport, Limits, Part, Tensor, rule};
use crate::finding::Severity;

/// NumPy itself refuses headers over 10 000 bytes unless told otherwise; far more is a lie.
const MAX_HEADER: u64 = 1 << 20;
/// How deep a header literal may nest (structured dtypes nest a little).
const MAX_NESTING: usize = 32;

/// A Python literal, as far as `.npy` headers use them.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

pub(super) fn scan(
    report: &mut ArtefactReport,
    part: &str,
    input: &mut Input<'_>,
    limits: &Limits,
) {
    let at = |part: &str| {
        if part.is_empty() {
            String::new()
        } else {
            format!("{part}: ")
        }
    };
    let bad = |report: &mut ArtefactReport, message: String| {
        report.issue(
            rule::MALFORMED,
            Severity::Medium,
            part,
            None,
            format!("{}{message}", at(part)),
        )
    };
    let header = match read_header(input) {
        Ok(header) => header,
        Err(message) => return bad(report, message),
    };
    let (descr, shape) = match parse_header(&header) {
        Ok(parsed) => parsed,
        Err(message) => return bad(report, format!("bad .npy header: {message}")),
    };
    let mut listed = Part::new(part, "npy");
    listed.tensors.push(Tensor {
        name: part.to_string(),
        dtype: describe_descr(&descr),
        shape: shape.clone(),
        data: None,
    });
    if has_object(&descr, 0) {
        // The array data is a pickle.
        report.parts.push(listed);
        let scanned = pickle::scan(input, Mode::Strict, &limits.pickle);
        report.add_pickle(part, scanned);
        return;
    }
    let Some(itemsize) = itemsize(&descr, 0) else {
        report.parts.push(listed);
        return bad(report, format!("unknown dtype {}", describe_descr(&descr)));
    };
    let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    let expected = count.and_then(|c| c.checked_mul(itemsize));
    let data_start = input.pos();
    if let Some(tensor) = listed.tensors.first_mut() {
        tensor.data = expected.map(|len| (data_start, data_start.saturating_add(len)));
    }
    report.parts.push(listed);
    match (expected, input.remaining()) {
        (None, _) => bad(report, format!("shape {shape:?} is too large to exist")),
        (Some(expected), Some(left)) if expected > left => bad(
            report,
            format!("array data truncated: the header promises {expected} bytes, {left} follow"),
        ),
        _ => {}
    }
}

fn read_header(input: &mut Input<'_>) -> Result<String, String> {
    let magic = input.array::<6>().map_err(|s| s.describe())?;
    if &magic != b"\x93NUMPY" {
        return Err("not a .npy file (bad magic)".into());
    }
    let [major, _minor] = input.array::<2>().map_err(|s| s.describe())?;
    let len = match major {
        1 => u64::from(input.u16_le().map_err(|s| s.describe())?),
        2 | 3 => u64::from(input.u32_le().map_err(|s| s.describe())?),
        other => return Err(format!("unknown .npy version {other}")),
    };
    if len > MAX_HEADER {
        return Err(format!("header length {len} is implausible"));
    }
    let bytes = input
        .bytes(len, len as usize)
        .map_err(|s| format!("header {}", s.describe()))?;
    // Version 3 headers are UTF-8, older ones Latin-1.
    Ok(match major {
        3 => String::from_utf8_lossy(&bytes).into_owned(),
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    })
}

/// `descr` and `shape` from the header dict.
fn parse_header(text: &str) -> Result<(Lit, Vec<u64>), String> {
    let mut parser = Parser {
        text: text.as_bytes(),
        at: 0,
    };
    let value = parser.value(0)?;
    let Lit::Dict(items) = value else {
        return Err("not a dict".into());
    };
    let get = |key: &str| {
        items
            .iter()
            .find(|(k, _)| *k == Lit::Str(key.into()))
            .map(|(_, v)| v)
    };
    let descr = get("descr").ok_or("no 'descr'")?.clone();
    let shape = match get("shape") {
        Some(Lit::Seq(dims)) => dims
            .iter()
            .map(|d| match d {
                Lit::Int(n) => u64::try_from(*n).map_err(|_| format!("negative dimension {n}")),
                _ => Err("shape holds a non-integer".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("no 'shape' tuple".into()),
    };
    Ok((descr, shape))
}

fn has_object(descr: &Lit, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return true;
    }
    match descr {
        Lit::Str(code) => code
            .trim_start_matches(['<', '>', '|', '='])
            .starts_with('O'),
        Lit::Seq(items) => items.iter().any(|item| has_object(item, depth + 1)),
        _ => false,
    }
}

/// Bytes per element of a dtype description: a type string or a list of fields.
fn itemsize(descr: &Lit, depth: usize) -> Option<u64> {
    if depth > MAX_NESTING {
        return None;
    }
    match descr {
        Lit::Str(code) => code_itemsize(code),
        Lit::Seq(fields) => fields.iter().try_fold(0u64, |total, field| {
            // (name, dtype) or (name, dtype, shape)
            let Lit::Seq(parts) = field else { return None };
            let size = itemsize(parts.get(1)?, depth + 1)?;
            let count = match parts.get(2) {
                Some(Lit::Seq(dims)) => dims.iter().try_fold(1u64, |acc, d| match d {
                    Lit::Int(n) => acc.checked_mul(u64::try_from(*n).ok()?),
                    _ => None,
                })?,
                Some(Lit::Int(n)) => u64::try_from(*n).ok()?,
                _ => 1,
            };
            total.checked_add(size.checked_mul(count)?)
        }),
        _ => None,
    }
}

fn code_itemsize(code: &str) -> Option<u64> {
    let code = code.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = code.chars();
    let kind = chars.next()?;
    let rest = chars.as_str();
    // Datetimes carry a unit: `M8[ns]`.
    let digits = rest.split('[').next().unwrap_or(rest);
    let size: u64 = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    match kind {
        'U' => size.checked_mul(4),
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'a' | 'V' | 'M' | 'm' | '?' => Some(size),
        _ => None,
    }
}

fn describe_descr(descr: &Lit) -> String {
    match descr {
        Lit::Str(code) => code.clone(),
        Lit::Seq(fields) => format!("structured ({} fields)", fields.len()),
        _ => "?".into(),
    }
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.at < self.text.len() && self.text[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        if self.text.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > MAX_NESTING {
            return Err("nested too deeply".into());
        }
        self.skip_space();
        match self.text.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let key = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return Err("expected ':'".into());
                    }
                    items.push((key, self.value(depth + 1)?));
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        break;
                    }
                    return Err("expected ',' or '}'".into());
                }
                Ok(Lit::Dict(items))
            }
            Some(&open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(close) {
                        break;
                    }
                    return Err("expected ',' or a closing bracket".into());
                }
                Ok(Lit::Seq(items))
            }
            Some(&quote @ (b'\'' | b'"')) => {
                self.at += 1;
                let start = self.at;
                while self.at < self.text.len() && self.text[self.at] != quote {
                    self.at += 1;
                }
                if self.at >= self.text.len() {
                    return Err("unterminated string".into());
                }
                let text = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
                self.at += 1;
                Ok(Lit::Str(text))
            }
            Some(_) => {
                let start = self.at;
                while self.at < self.text.len()
                    && (self.text[self.at].is_ascii_alphanumeric() || self.text[self.at] == b'-')
                {
                    self.at += 1;
                }
                let word = std::str::from_utf8(&self.text[start..self.at]).unwrap_or("");
                match word {
                    "True" => Ok(Lit::Bool(true)),
                    "False" => Ok(Lit::Bool(false)),
                    "None" => Ok(Lit::None),
                    // Python 2 headers write longs as `3L`.
                    _ => word
                        .trim_end_matches('L')
                        .parse()
                        .map(Lit::Int)
                        .map_err(|_| format!("unexpected `{word}`")),
                }
            }
            None => Err("header ends early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let (descr, shape) =
            parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }    \n")
                .unwrap();
        assert_eq!(descr, Lit::Str("<f4".into()));
        assert_eq!(shape, vec![3, 4]);
        assert_eq!(itemsize(&descr, 0), Some(4));
        let (descr, shape) =
            parse_header("{'descr': [('a', '<i4'), ('b', '<f8', (2,))], 'fortran_order': False, 'shape': (5,), }")
                .unwrap();
        assert_eq!(itemsize(&descr, 0), Some(20));
        assert_eq!(shape, vec![5]);
        let (descr, shape) =
            parse_header("{'descr': '|O', 'fortran_order': False, 'shape': (), }").unwrap();
        assert!(has_object(&descr, 0));
        assert!(shape.is_empty());
        assert_eq!(code_itemsize("<U3"), Some(12));
        assert_eq!(code_itemsize("<M8[ns]"), Some(8));
        assert!(parse_header("{'descr': '<f4', 'shape': (-1,)}").is_err());
        assert!(parse_header(&"[".repeat(1000)).is_err());
    }
}

//! Legacy Keras `.h5`/`.hdf5`: the model architecture is the JSON text of the root group's
//! `model_config` attribute. Attributes are never compressed, so the JSON sits in the file as
//! plain bytes: rather than pull in a C HDF5 library, the scanner streams through the file for
//! the start of a Keras config (`{"class_name":`) and parses the JSON found there.

use super::input::Seekable;
use super::{ArtefactReport, Limits, Part, keras};
use serde_json::Value;
use std::io::{Read, Seek};

const PATTERN: &[u8] = b"{\"class_name\":";
const CHUNK: usize = 1 << 20;
/// Candidate offsets tried before giving up (the config is normally the first).
const MAX_TRIES: usize = 64;

pub(super) fn scan<R: Read + Seek>(
    report: &mut ArtefactReport,
    source: &mut Seekable<R>,
    limits: &Limits,
) {
    let finder = memchr::memmem::Finder::new(PATTERN);
    let limit = source.len().min(limits.max_bytes);
    let mut buf = vec![0u8; CHUNK];
    let mut base = 0u64; // file offset of buf[0]
    let mut carry = 0usize;
    let mut tries = 0;
    loop {
        let read = match source.read(&mut buf[carry..]) {
            Ok(read) => read,
            Err(error) => {
                report.notes.push(format!("cannot read: {error}"));
                return;
            }
        };
        if read == 0 {
            break;
        }
        let filled = carry + read;
        let hits: Vec<usize> = finder.find_iter(&buf[..filled]).collect();
        for hit in hits {
            tries += 1;
            if tries > MAX_TRIES {
                break;
            }
            if let Some(config) = parse_at(source, base + hit as u64, limits) {
                keras::check_config(report, "model_config", &config);
                return;
            }
        }
        if tries > MAX_TRIES {
            break;
        }
        let keep = (PATTERN.len() - 1).min(filled);
        buf.copy_within(filled - keep..filled, 0);
        base += (filled - keep) as u64;
        carry = keep;
        if let Err(error) = source.seek_to(base + keep as u64) {
            report.notes.push(format!("cannot read: {error}"));
            return;
        }
        if base >= limit {
            report.notes.push(format!(
                "stopped looking for a Keras config at the size limit ({limit} bytes)"
            ));
            break;
        }
    }
    let mut part = Part::new("", "HDF5");
    part.metadata
        .push(("model_config".into(), "none found (weights only?)".into()));
    report.parts.push(part);
}

/// The Keras config whose JSON starts at `at`, if the bytes there are one.
fn parse_at<R: Read + Seek>(source: &mut Seekable<R>, at: u64, limits: &Limits) -> Option<Value> {
    source.seek_to(at).ok()?;
    let reader = (&mut *source).take(limits.max_json);
    let value = serde_json::Deserializer::from_reader(reader)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    value.get("config").is_some().then_some(value)
}

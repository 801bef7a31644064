//! Legacy PyTorch checkpoints (before 1.6 and `_use_new_zipfile_serialization`) could be tar
//! archives: `sys_info`, `pickle`, `tensors` and `storages` entries, each holding one or more
//! pickles (plus raw storage bytes). Only plain ustar/GNU headers are needed for those: name,
//! size, type; PAX and GNU long-name records are skipped like any other entry.

use super::input::Seekable;
use super::pickle::Mode;
use super::{ArtefactReport, Limits, rule, scan_pickle_stream};
use crate::finding::Severity;
use std::io::{Read, Seek};

const BLOCK: u64 = 512;

pub(super) fn scan<R: Read + Seek>(
    report: &mut ArtefactReport,
    source: &mut Seekable<R>,
    len: u64,
    limits: &Limits,
) {
    report.container = Some("legacy PyTorch tar");
    let mut pos = 0u64;
    let mut entries = 0u64;
    while pos + BLOCK <= len {
        if pos >= limits.max_bytes {
            report.notes.push(format!(
                "stopped at the size limit ({} bytes)",
                limits.max_bytes
            ));
            return;
        }
        let mut header = [0u8; BLOCK as usize];
        if source.seek_to(pos).is_err() || source.read_exact(&mut header).is_err() {
            break;
        }
        if header.iter().all(|&b| b == 0) {
            break;
        }
        entries += 1;
        if entries > limits.max_entries {
            report.issue(
                rule::NOT_INSPECTABLE,
                Severity::Medium,
                "",
                None,
                format!(
                    "more than {} tar entries: the rest was not inspected",
                    limits.max_entries
                ),
            );
            return;
        }
        let name = String::from_utf8_lossy(header[..100].split(|&b| b == 0).next().unwrap_or(&[]))
            .into_owned();
        let Some(size) = entry_size(&header[124..136]) else {
            report.issue(
                rule::MALFORMED,
                Severity::Medium,
                "",
                Some(pos),
                format!("tar header at byte {pos} has a bad size field"),
            );
            return;
        };
        let data = pos + BLOCK;
        if size > len.saturating_sub(data) {
            report.issue(
                rule::MALFORMED,
                Severity::Medium,
                &name,
                Some(pos),
                format!(
                    "{name}: tar entry claims {size} bytes but only {} remain",
                    len.saturating_sub(data)
                ),
            );
            return;
        }
        let regular = matches!(header[156], b'0' | 0);
        if regular && size > 0 {
            // `pickle` and `sys_info` are pickles; `tensors` and `storages` mix small pickles
            // with raw bytes, so only what parses as a pickle there counts.
            let mode = if matches!(name.as_str(), "pickle" | "sys_info") {
                Mode::Strict
            } else {
                Mode::Sniff
            };
            let budget = size.min(limits.max_bytes.saturating_sub(data));
            if source.seek_to(data).is_ok() {
                scan_pickle_stream(report, &name, source, Some(size), budget, mode, limits);
            }
        }
        pos = data.saturating_add(size.div_ceil(BLOCK).saturating_mul(BLOCK));
    }
}

/// An octal size, or GNU base-256 for large files.
fn entry_size(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..].iter().try_fold(0u64, |acc, &b| {
            acc.checked_mul(256).map(|v| v + u64::from(b))
        });
    }
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

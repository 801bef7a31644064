//! Zip containers: PyTorch checkpoints (`<any top folder>/data.pkl` plus storages), NumPy
//! `.npz` (a zip of `.npy`), Keras `.keras` (`config.json` + weights) and any other zip that
//! a model file name hides.
//!
//! The entry count is checked from the end-of-central-directory record before the zip crate
//! reads the directory (a forged count would otherwise make it allocate for millions of
//! entries). Entries are read raw and decompressed here (stored or deflate) so that flag-bit
//! tricks that make some readers refuse an entry torch still loads (CVE-2025-1945) do not hide
//! it; every entry is read at most up to its declared size and the file's byte budget.

use super::input::{Input, Streaming};
use super::pickle::Mode;
use super::{ArtefactReport, Limits, keras, numpy, rule, scan_pickle_stream};
use crate::finding::Severity;
use std::io::{Read, Seek, SeekFrom};
use zip::CompressionMethod;

/// Size of the end-of-central-directory search window (record + longest comment).
const EOCD_WINDOW: u64 = 22 + 65_535;

/// What to do with one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pickle,
    Npy,
    KerasConfig,
    /// Look at the first bytes; scan as a pickle if they start one.
    Sniff,
}

pub(super) fn scan<R: Read + Seek>(
    report: &mut ArtefactReport,
    mut reader: R,
    len: u64,
    ext: &str,
    limits: &Limits,
) {
    match declared_entries(&mut reader, len) {
        Ok(Some(entries)) if entries > limits.max_entries => {
            report.issue(
                rule::NOT_INSPECTABLE,
                Severity::Medium,
                "",
                None,
                format!(
                    "zip archive declares {entries} entries, more than the {} the scanner reads",
                    limits.max_entries
                ),
            );
            return;
        }
        Ok(_) => {}
        Err(error) => {
            report.notes.push(format!("cannot read: {error}"));
            return;
        }
    }
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(archive) => archive,
        Err(error) => {
            report.issue(
                rule::MALFORMED,
                Severity::Medium,
                "",
                None,
                format!("not a readable zip archive: {error}"),
            );
            return;
        }
    };
    let names: Vec<String> = (0..archive.len())
        .map(|i| {
            archive
                .name_for_index(i)
                .and_then(Result::ok)
                .map(|n| n.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let is_keras = names.iter().any(|n| n == "config.json")
        && (ext == "keras"
            || names
                .iter()
                .any(|n| n == "metadata.json" || n == "model.weights.h5"));
    let files = || names.iter().filter(|n| !n.ends_with('/'));
    let is_npz = ext == "npz" || (files().count() > 0 && files().all(|n| n.ends_with(".npy")));
    report.container = Some(if is_keras {
        "Keras model"
    } else if is_npz {
        "NumPy archive"
    } else if names.iter().any(|n| n.ends_with(".pkl")) {
        "PyTorch checkpoint"
    } else {
        "zip archive"
    });

    let mut used = 0u64;
    for (index, name) in names.iter().enumerate() {
        if name.ends_with('/') {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let action = if lower.ends_with(".pkl") || lower.ends_with(".pickle") {
            Action::Pickle
        } else if lower.ends_with(".npy") {
            Action::Npy
        } else if is_keras && name == "config.json" {
            Action::KerasConfig
        } else {
            Action::Sniff
        };
        let Ok(entry) = archive.by_index_raw(index) else {
            if action != Action::Sniff {
                report.issue(
                    rule::MALFORMED,
                    Severity::Medium,
                    name,
                    None,
                    format!("{name}: the zip entry cannot be read"),
                );
            }
            continue;
        };
        let (size, compressed, method) =
            (entry.size(), entry.compressed_size(), entry.compression());
        let left = limits.max_bytes.saturating_sub(used);
        if left == 0 {
            report.notes.push(format!(
                "stopped at the size limit ({} bytes, artefact-max-size) before {name}",
                limits.max_bytes
            ));
            break;
        }
        // Deflate cannot expand more than ~1032:1: more output than that is a bomb.
        let budget = size
            .min(left)
            .min(compressed.saturating_mul(1100).saturating_add(1 << 20));
        let reader: Box<dyn Read + '_> = match method {
            CompressionMethod::Stored => Box::new(entry),
            CompressionMethod::Deflated => Box::new(flate2::read::DeflateDecoder::new(entry)),
            other => {
                if action != Action::Sniff {
                    report.issue(
                        rule::NOT_INSPECTABLE,
                        Severity::Medium,
                        name,
                        None,
                        format!("{name}: compression method {other:?} is not supported, so it was not checked"),
                    );
                }
                continue;
            }
        };
        let mut source = Streaming::new(reader);
        used += match action {
            Action::Pickle => scan_pickle_stream(
                report,
                name,
                &mut source,
                Some(size),
                budget,
                Mode::Strict,
                limits,
            ),
            Action::Sniff => {
                let head = match std::io::BufRead::fill_buf(&mut source) {
                    Ok(head) => head,
                    Err(_) => continue,
                };
                if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
                    scan_pickle_stream(
                        report,
                        name,
                        &mut source,
                        Some(size),
                        budget,
                        Mode::Sniff,
                        limits,
                    )
                } else {
                    0
                }
            }
            Action::Npy => {
                let mut input = Input::new(&mut source, Some(size), budget);
                numpy::scan(report, name, &mut input, limits);
                input.pos()
            }
            Action::KerasConfig => {
                let mut text = Vec::new();
                let cap = budget.min(limits.max_json);
                match (&mut source).take(cap + 1).read_to_end(&mut text) {
                    Ok(n) if n as u64 > cap => report.issue(
                        rule::NOT_INSPECTABLE,
                        Severity::Medium,
                        name,
                        None,
                        format!("{name}: larger than {cap} bytes, not checked"),
                    ),
                    Ok(_) => keras::scan_config_bytes(report, name, &text),
                    Err(error) => report.issue(
                        rule::MALFORMED,
                        Severity::Medium,
                        name,
                        None,
                        format!("{name}: cannot be decompressed: {error}"),
                    ),
                }
                text.len() as u64
            }
        };
    }
}

/// The entry count the end-of-central-directory record declares (zip64 aware), or `None`
/// when there is no such record (the zip crate then reports the archive as broken).
fn declared_entries<R: Read + Seek>(reader: &mut R, len: u64) -> std::io::Result<Option<u64>> {
    let window = len.min(EOCD_WINDOW);
    let start = len - window;
    reader.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity(window as usize);
    reader.take(window).read_to_end(&mut tail)?;
    reader.seek(SeekFrom::Start(0))?;
    let Some(at) = memchr::memmem::rfind(&tail, b"PK\x05\x06") else {
        return Ok(None);
    };
    let eocd = &tail[at..];
    if eocd.len() < 22 {
        return Ok(None);
    }
    let entries = u64::from(u16::from_le_bytes([eocd[10], eocd[11]]));
    if entries != 0xffff {
        return Ok(Some(entries));
    }
    // Zip64: the locator sits just before the record and points at the zip64 record.
    let Some(locator) = at.checked_sub(20).map(|l| &tail[l..at]) else {
        return Ok(Some(entries));
    };
    if !locator.starts_with(b"PK\x06\x07") {
        return Ok(Some(entries));
    }
    let record_at = u64::from_le_bytes(locator[8..16].try_into().unwrap_or([0; 8]));
    if record_at.saturating_add(56) > len {
        return Ok(Some(entries));
    }
    reader.seek(SeekFrom::Start(record_at))?;
    let mut record = [0u8; 56];
    reader.read_exact(&mut record)?;
    reader.seek(SeekFrom::Start(0))?;
    if !record.starts_with(b"PK\x06\x06") {
        return Ok(Some(entries));
    }
    Ok(Some(u64::from_le_bytes(
        record[32..40].try_into().unwrap_or([0xff; 8]),
    )))
}

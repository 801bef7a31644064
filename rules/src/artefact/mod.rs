//! Model artefact scanning: pickles (raw, PyTorch zip and legacy tar, joblib, dill), NumPy
//! `.npy`/`.npz`, Keras `.keras`/`.h5`, safetensors, GGUF and ONNX — read as bytes, never
//! unpickled, imported or executed, and never fetched from the network.
//!
//! Everything streams through [`input::Input`] with bounded memory: headers and pickles are
//! parsed as they are read, payloads (tensor data) are skipped by seeking, and every length in
//! the file is checked against what is left before it is believed. Bad input gives a finding or
//! a note, never a panic.
//!
//! The format is told by magic bytes first and the extension second: a `.bin` that is a zip is
//! scanned as a PyTorch zip, a `.pt` that is a safetensors file is a (fine) safetensors file.
//!
//! Entry points: [`scan_path`] (what `threatlens check` runs on each artefact file),
//! [`scan_bytes`] (editor buffers, fuzzing), [`describe_artefact`] (a detailed listing for
//! `threatlens scan-artefact`) and [`ArtefactIndex`] (which artefacts were flagged, so code
//! that loads them can say so).

pub mod gguf;
pub mod hdf5;
pub mod input;
pub mod jinja;
pub mod keras;
pub mod numpy;
pub mod onnx;
pub mod opcodes;
pub mod pickle;
pub mod policy;
mod report;
pub mod safetensors;
mod tar;
mod zip;

pub use report::{ArtefactIndex, ArtefactListing, ArtefactReport, Flag, Issue, Part, Tensor};

use crate::finding::Severity;
use input::{Input, Seekable, Source, Streaming};
use pickle::{Mode, PickleLimits};
use serde::Serialize;
use std::io::{Read, Seek};
use std::path::Path;

/// Rule ids of the artefact findings (`catalogue/artefact-files.toml`).
pub mod rule {
    pub const DANGEROUS_IMPORT: &str = "TL901";
    pub const UNKNOWN_IMPORT: &str = "TL902";
    pub const PICKLE_COMMITTED: &str = "TL903";
    pub const MALFORMED: &str = "TL904";
    pub const NOT_INSPECTABLE: &str = "TL905";
    pub const KERAS_LAMBDA: &str = "TL906";
    pub const GGUF_TEMPLATE: &str = "TL907";
    pub const ONNX_PATH_ESCAPE: &str = "TL908";
    pub const ONNX_CUSTOM_DOMAIN: &str = "TL909";
    pub const HIDDEN_IMPORT: &str = "TL910";
}

/// File extensions scanned as artefacts.
pub const EXTENSIONS: &[&str] = &[
    "pkl",
    "pickle",
    "pt",
    "pth",
    "bin",
    "ckpt",
    "joblib",
    "dill",
    "npy",
    "npz",
    "h5",
    "hdf5",
    "keras",
    "safetensors",
    "gguf",
    "onnx",
];

/// Whether `path` has an artefact extension.
pub fn is_artefact_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Limits of one artefact scan.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes read or decompressed per file (`artefact-max-size`).
    pub max_bytes: u64,
    /// Entries in a zip or tar archive.
    pub max_entries: u64,
    /// Size of a JSON header or config (safetensors header, Keras config).
    pub max_json: u64,
    pub pickle: PickleLimits,
}

pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_entries: 100_000,
            // The safetensors format's own limit.
            max_json: 100_000_000,
            pickle: PickleLimits::default(),
        }
    }
}

impl Limits {
    pub fn with_max_bytes(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            ..Self::default()
        }
    }
}

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Pickle,
    /// A zip archive: PyTorch checkpoint, NumPy `.npz`, Keras `.keras`, or other.
    Zip,
    /// Legacy (pre-1.6) PyTorch tar checkpoint.
    Tar,
    /// A compressed pickle (joblib `compress=`): gzip, zlib, lz4, xz, lzma or bzip2.
    Compressed(Codec),
    Npy,
    Hdf5,
    Safetensors,
    Gguf,
    Onnx,
    /// Recognised, but nothing here can decode it (7z).
    Unsupported(&'static str),
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Codec {
    Gzip,
    Zlib,
    Lz4,
    Xz,
    /// The legacy `.lzma` ("LZMA alone") container.
    Lzma,
    Bzip2,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pickle => "pickle",
            Self::Zip => "zip",
            Self::Tar => "tar (legacy PyTorch)",
            Self::Compressed(Codec::Gzip) => "gzip-compressed pickle",
            Self::Compressed(Codec::Zlib) => "zlib-compressed pickle",
            Self::Compressed(Codec::Lz4) => "lz4-compressed pickle",
            Self::Compressed(Codec::Xz) => "xz-compressed pickle",
            Self::Compressed(Codec::Lzma) => "lzma-compressed pickle",
            Self::Compressed(Codec::Bzip2) => "bzip2-compressed pickle",
            Self::Npy => "NumPy .npy",
            Self::Hdf5 => "HDF5",
            Self::Safetensors => "safetensors",
            Self::Gguf => "GGUF",
            Self::Onnx => "ONNX",
            Self::Unsupported(name) => name,
            Self::Unknown => "unknown",
        }
    }

    /// Formats a loader unpickles.
    fn is_pickle_family(self) -> bool {
        matches!(self, Self::Pickle | Self::Tar | Self::Compressed(_))
    }
}

/// Extensions whose files are expected to be pickles (not `.bin`, which is anything).
fn pickle_extension(ext: &str) -> bool {
    matches!(
        ext,
        "pkl" | "pickle" | "pt" | "pth" | "ckpt" | "joblib" | "dill"
    )
}

/// Extensions of formats that promise no code.
fn safe_extension(ext: &str) -> bool {
    matches!(ext, "safetensors" | "gguf" | "onnx" | "npy" | "npz")
}

/// Tells the format from the first bytes (`head`, up to 512), the file length and extension.
pub fn detect(head: &[u8], len: u64, ext: &str) -> Format {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return Format::Zip;
    }
    if starts(b"\x93NUMPY") {
        return Format::Npy;
    }
    if starts(b"\x89HDF\r\n\x1a\n") {
        return Format::Hdf5;
    }
    if starts(b"GGUF") {
        return Format::Gguf;
    }
    if head.len() >= 10 && head[8] == b'{' {
        let header = u64::from_le_bytes(head[..8].try_into().unwrap_or([0xff; 8]));
        if header <= len.saturating_sub(8) {
            return Format::Safetensors;
        }
    }
    if head.get(257..262) == Some(b"ustar") {
        return Format::Tar;
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Format::Pickle;
    }
    // Weaker magics only count for files that are meant to hold a (compressed) pickle.
    if pickle_extension(ext) {
        if starts(b"\x1f\x8b") {
            return Format::Compressed(Codec::Gzip);
        }
        if starts(b"\x04\x22\x4d\x18") {
            return Format::Compressed(Codec::Lz4);
        }
        if head.len() >= 2
            && head[0] == 0x78
            && u16::from_be_bytes([head[0], head[1]]).is_multiple_of(31)
        {
            return Format::Compressed(Codec::Zlib);
        }
        if starts(b"\xfd7zXZ\x00") {
            return Format::Compressed(Codec::Xz);
        }
        if starts(b"BZh") {
            return Format::Compressed(Codec::Bzip2);
        }
        if starts(b"7z\xbc\xaf\x27\x1c") {
            return Format::Unsupported("7z");
        }
        if starts(b"\x5d\x00\x00") {
            return Format::Compressed(Codec::Lzma);
        }
        if head.first().is_some_and(|&b| opcodes::lookup(b).is_some()) {
            return Format::Pickle;
        }
    }
    match ext {
        "onnx" => Format::Onnx,
        "safetensors" => Format::Safetensors,
        "gguf" => Format::Gguf,
        "npy" => Format::Npy,
        _ => Format::Unknown,
    }
}

fn extension_of(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Scans a file on disk. Never fails: problems become notes in the report.
pub fn scan_path(path: &Path, limits: &Limits) -> ArtefactReport {
    let name = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) => return ArtefactReport::failed(&name, format!("cannot read: {error}")),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(error) => return ArtefactReport::failed(&name, format!("cannot read: {error}")),
    };
    if !meta.is_file() {
        // FIFOs and devices would block or never end.
        return ArtefactReport::failed(&name, "not a regular file: skipped".into());
    }
    scan_reader(&name, file, meta.len(), limits)
}

/// Scans an in-memory artefact (an editor buffer, a fuzz input). `name` gives the extension.
pub fn scan_bytes(name: &str, bytes: &[u8], limits: &Limits) -> ArtefactReport {
    scan_reader(
        name,
        std::io::Cursor::new(bytes),
        bytes.len() as u64,
        limits,
    )
}

/// The detailed listing of one artefact (imports, opcodes, tensors, metadata) for
/// `threatlens scan-artefact`.
pub fn describe_artefact(path: &Path) -> Result<ArtefactListing, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    Ok(scan_path(path, &Limits::default()))
}

/// Whether the scanner flags the artefact at `path`, and how badly (its worst issue).
pub fn artefact_flag(path: &Path, limits: &Limits) -> Option<Flag> {
    scan_path(path, limits).flag()
}

/// Scans `len` bytes from a seekable reader.
pub fn scan_reader<R: Read + Seek>(
    name: &str,
    reader: R,
    len: u64,
    limits: &Limits,
) -> ArtefactReport {
    let ext = extension_of(name);
    let mut source = Seekable::new(reader, len);
    let mut head = Vec::with_capacity(512);
    let mut report = ArtefactReport::new(name, len);
    if let Err(error) = (&mut source).take(512).read_to_end(&mut head) {
        report.notes.push(format!("cannot read: {error}"));
        return report;
    }
    if let Err(error) = source.seek_to(0) {
        report.notes.push(format!("cannot read: {error}"));
        return report;
    }
    let format = detect(&head, len, &ext);
    report.format = format;
    match format {
        Format::Pickle => {
            let mode = if pickle_extension(&ext) { Mode::Strict } else { Mode::Sniff };
            let mut input = Input::new(&mut source, Some(len), limits.max_bytes);
            let scanned = pickle::scan(&mut input, mode, &limits.pickle);
            if scanned.is_pickle() {
                report.add_pickle("", scanned);
            } else {
                report.format = Format::Unknown;
            }
        }
        Format::Zip => zip::scan(&mut report, source.into_inner(), len, &ext, limits),
        Format::Tar => tar::scan(&mut report, &mut source, len, limits),
        Format::Compressed(codec) => scan_compressed(&mut report, &mut source, codec, len, limits),
        Format::Npy => {
            let mut input = Input::new(&mut source, Some(len), limits.max_bytes);
            numpy::scan(&mut report, "", &mut input, limits);
        }
        Format::Hdf5 => hdf5::scan(&mut report, &mut source, limits),
        Format::Safetensors => safetensors::scan(&mut report, &mut source, len, limits),
        Format::Gguf => {
            let mut input = Input::new(&mut source, Some(len), limits.max_bytes);
            gguf::scan(&mut report, &mut input);
        }
        Format::Onnx => {
            let mut input = Input::new(&mut source, Some(len), limits.max_bytes);
            onnx::scan(&mut report, &mut input);
        }
        Format::Unsupported(codec) => report.issue(
            rule::NOT_INSPECTABLE,
            Severity::Medium,
            "",
            None,
            format!("{codec}-compressed data: threatlens has no decoder for it, so a pickle inside was not checked"),
        ),
        Format::Unknown => {
            if ext != "bin" {
                report.notes.push(format!("not a recognised model format (.{ext}): skipped"));
            }
        }
    }
    // A pickle under the name of a code-free format (`.npz` archives may hold object arrays).
    let hides_pickle =
        format.is_pickle_family() || (format == Format::Zip && ext != "npz" && report.has_pickle());
    if hides_pickle && safe_extension(&ext) {
        report.issue(
            rule::MALFORMED,
            Severity::Medium,
            "",
            None,
            format!(
                "named `.{ext}`, a format without code, but the content is {}: a loader that sniffs the content (torch.load, joblib.load) will unpickle it",
                report.container.unwrap_or_else(|| report.format.name())
            ),
        );
    }
    report.finish();
    report
}

/// Memory the LZMA decoders may take (the dictionary a file asks for): enough for `xz -9`
/// (64 MiB); a file asking for more is not decoded.
const LZMA_MEMORY_KB: u32 = 96 * 1024;

/// joblib's `compress=` files: the whole pickle (arrays included) is one compressed stream.
fn scan_compressed(
    report: &mut ArtefactReport,
    source: &mut Seekable<impl Read + Seek>,
    codec: Codec,
    len: u64,
    limits: &Limits,
) {
    // Deflate cannot expand more than ~1032:1 and lz4 ~255:1: more output than that is a bomb.
    // LZMA and bzip2 have no such bound; their output is capped by the size limit alone.
    let ratio = match codec {
        Codec::Gzip | Codec::Zlib | Codec::Lz4 => 1100,
        Codec::Xz | Codec::Lzma | Codec::Bzip2 => u64::MAX,
    };
    let budget = limits
        .max_bytes
        .min(len.saturating_mul(ratio).saturating_add(1 << 20));
    let reader: Box<dyn Read + '_> = match codec {
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(source)),
        Codec::Zlib => Box::new(flate2::read::ZlibDecoder::new(source)),
        Codec::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(source)),
        Codec::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            source,
            true,
            LZMA_MEMORY_KB,
        )),
        Codec::Lzma => match lzma_rust2::LzmaReader::new_mem_limit(source, LZMA_MEMORY_KB, None) {
            Ok(reader) => Box::new(reader),
            Err(error) => {
                report.issue(
                    rule::NOT_INSPECTABLE,
                    Severity::Medium,
                    "",
                    None,
                    format!("lzma-compressed data that cannot be decoded ({error}), so a pickle inside was not checked"),
                );
                return;
            }
        },
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(source)),
    };
    let mut stream = Streaming::new(reader);
    scan_pickle_stream(report, "", &mut stream, None, budget, Mode::Strict, limits);
}

/// Scans a pickle stream and adds what it found to `report`.
fn scan_pickle_stream(
    report: &mut ArtefactReport,
    part: &str,
    source: &mut dyn Source,
    end: Option<u64>,
    budget: u64,
    mode: Mode,
    limits: &Limits,
) -> u64 {
    let mut input = Input::new(source, end, budget);
    let scanned = pickle::scan(&mut input, mode, &limits.pickle);
    let used = input.pos();
    if scanned.is_pickle() {
        report.add_pickle(part, scanned);
    }
    used
}

//! Artefact scanning throughput on large benign checkpoints, against plain reads and `cat`.
//!
//!     cargo bench -p threatlens-rules --bench artefact_scan
//!
//! Generates (once) a 1 GiB safetensors file, a 1 GiB PyTorch zip checkpoint, a 1 GiB raw
//! pickle whose tensors are inline `BINBYTES8` payloads and a 256 MiB zlib-compressed joblib
//! file under `$THREATLENS_BENCH_DIR` (default `$HOME/.cache/threatlens-bench`), then reports
//! MB/s for: reading the whole file, `cat file > /dev/null`, and `scan_path` — each the best of
//! three runs with a warm page cache — plus the scanner's peak RSS (measured in a child
//! process that only scans).

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use fixtures::Pickle;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use threatlens_rules::artefact::{Limits, scan_path};

const MIB: u64 = 1 << 20;
const TENSORS: usize = 256;
const TENSOR_BYTES: usize = 4 << 20;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--scan-one") {
        // Child mode: scan one file, print the peak RSS.
        let path = PathBuf::from(&args[at + 1]);
        let report = scan_path(&path, &Limits::default());
        assert!(report.issues.iter().all(|i| i.rule == "TL903"), "{report}");
        println!("{}", peak_rss_kib());
        return;
    }
    let dir = std::env::var_os("THREATLENS_BENCH_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/threatlens-bench")
        },
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("bench cache dir");
    let files = [
        ensure(&dir.join("bench-1g.safetensors"), write_safetensors),
        ensure(&dir.join("bench-1g.pt"), write_torch_zip),
        ensure(&dir.join("bench-1g-inline.pkl"), write_inline_pickle),
        ensure(&dir.join("bench-256m.zlib.joblib"), write_zlib_joblib),
        ensure(&dir.join("bench-1g.h5"), write_h5),
    ];
    println!(
        "| file | size | cold cat (MB/s) | cold scan | warm read (MB/s) | warm cat (MB/s) | warm scan | scan (MB/s of file) | scan peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for path in &files {
        let size = std::fs::metadata(path).expect("bench file").len();
        let cold_cat = cold(path, || cat(path));
        let cold_scan = cold(path, || {
            scan_path(path, &Limits::default());
        });
        let read = best_of(3, || read_all(path));
        let cat = best_of(3, || cat(path));
        let scan = best_of(3, || {
            let report = scan_path(path, &Limits::default());
            assert!(report.notes.is_empty(), "{report}");
        });
        let child = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg("--scan-one")
            .arg(path)
            .output()
            .expect("child scan");
        let rss = String::from_utf8_lossy(&child.stdout).trim().to_string();
        let mbps = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {} | {} MiB | {:.0} | {} | {:.0} | {:.0} | {} | {:.0} | {} MiB |",
            path.file_name().unwrap_or_default().to_string_lossy(),
            size / MIB,
            mbps(cold_cat),
            ms(cold_scan),
            mbps(read),
            mbps(cat),
            ms(scan),
            mbps(scan),
            rss.parse::<u64>()
                .map_or(rss.clone(), |kib| (kib / 1024).to_string()),
        );
    }
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn cat(path: &Path) {
    let status = std::process::Command::new("cat")
        .arg(path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("cat");
    assert!(status.success());
}

/// Times `f` after evicting `path` from the page cache (GNU dd: `iflag=nocache count=0`
/// drops the file's cached pages only; nothing else on the machine is touched).
fn cold(path: &Path, f: impl FnOnce()) -> Duration {
    let _ = std::process::Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["iflag=nocache", "count=0", "status=none"])
        .status();
    let start = Instant::now();
    f();
    start.elapsed()
}

fn read_all(path: &Path) {
    let mut file = std::fs::File::open(path).expect("open");
    let mut buf = vec![0u8; MIB as usize];
    while file.read(&mut buf).expect("read") > 0 {}
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn ensure(path: &Path, write: fn(&mut dyn Write)) -> PathBuf {
    if !path.exists() {
        eprintln!("generating {}", path.display());
        let tmp = path.with_extension("partial");
        let mut out = BufWriter::new(std::fs::File::create(&tmp).expect("create"));
        write(&mut out);
        out.flush().expect("flush");
        drop(out);
        std::fs::rename(&tmp, path).expect("rename");
    }
    path.to_path_buf()
}

/// Tensor bytes: pseudo-random (xorshift), so they neither compress nor read as sparse.
fn tensor(i: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1);
    let mut out = Vec::with_capacity(TENSOR_BYTES);
    while out.len() < TENSOR_BYTES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out
}

fn write_safetensors(out: &mut dyn Write) {
    let entries: Vec<String> = (0..TENSORS)
        .map(|i| {
            let start = i * TENSOR_BYTES;
            format!(
                r#""layers.{i}.weight":{{"dtype":"F32","shape":[1024,1024],"data_offsets":[{start},{}]}}"#,
                start + TENSOR_BYTES
            )
        })
        .collect();
    let header = format!(
        "{{\"__metadata__\":{{\"format\":\"pt\"}},{}}}",
        entries.join(",")
    );
    out.write_all(&(header.len() as u64).to_le_bytes()).unwrap();
    out.write_all(header.as_bytes()).unwrap();
    for i in 0..TENSORS {
        out.write_all(&tensor(i)).unwrap();
    }
}

/// A zip laid out like `torch.save`: `archive/data.pkl`, one stored entry per storage.
fn write_torch_zip(out: &mut dyn Write) {
    let pickle = fixtures::state_dict(TENSORS).bytes();
    let mut entries: Vec<(String, Vec<u8>)> = vec![("archive/data.pkl".into(), pickle)];
    entries.push(("archive/byteorder".into(), b"little".to_vec()));
    let mut offset = 0u64;
    let mut central = Vec::new();
    let mut write_entry = |name: &str, data: &[u8], out: &mut dyn Write| {
        let crc = 0u32;
        let local = header(b"PK\x03\x04", name, data.len() as u32, crc, None);
        out.write_all(&local).unwrap();
        out.write_all(data).unwrap();
        central.extend(header(
            b"PK\x01\x02",
            name,
            data.len() as u32,
            crc,
            Some(offset as u32),
        ));
        offset += (local.len() + data.len()) as u64;
    };
    for (name, data) in &entries {
        write_entry(name, data, out);
    }
    for i in 0..TENSORS {
        write_entry(&format!("archive/data/{i}"), &tensor(i), out);
    }
    write_entry("archive/version", b"3\n", out);
    let count = (entries.len() + TENSORS + 1) as u16;
    out.write_all(&central).unwrap();
    let mut end = b"PK\x05\x06\0\0\0\0".to_vec();
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(offset as u32).to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    out.write_all(&end).unwrap();
}

fn header(sig: &[u8], name: &str, size: u32, crc: u32, central: Option<u32>) -> Vec<u8> {
    let mut h = sig.to_vec();
    if central.is_some() {
        h.extend_from_slice(&20u16.to_le_bytes());
    }
    h.extend_from_slice(&20u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]); // flags, method (stored), time, date
    h.extend_from_slice(&crc.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    if let Some(offset) = central {
        h.extend_from_slice(&[0; 10]);
        h.extend_from_slice(&offset.to_le_bytes());
    }
    h.extend_from_slice(name.as_bytes());
    h
}

/// A legacy Keras `.h5` whose `model_config` JSON sits after 1 GiB of weights: the scanner
/// streams through the whole file looking for it.
fn write_h5(out: &mut dyn Write) {
    out.write_all(b"\x89HDF\r\n\x1a\n").unwrap();
    for i in 0..TENSORS {
        out.write_all(&tensor(i)).unwrap();
    }
    out.write_all(br#"{"class_name": "Sequential", "config": {"name": "s", "layers": []}}"#)
        .unwrap();
}

/// A protocol-4 pickle of a list of `bytes` tensors, as `pickle.dump(list_of_arrays)` writes.
fn write_inline_pickle(out: &mut dyn Write) {
    out.write_all(&Pickle::proto(4).empty_list().mark().bytes())
        .unwrap();
    for i in 0..TENSORS {
        out.write_all(&Pickle::new().binbytes8_header(TENSOR_BYTES as u64).bytes())
            .unwrap();
        out.write_all(&tensor(i)).unwrap();
    }
    out.write_all(&Pickle::new().op(b'e').stop().bytes())
        .unwrap();
}

/// joblib `compress=3`-style: one zlib stream over a pickle of 64 wrapped 4 MiB arrays.
fn write_zlib_joblib(out: &mut dyn Write) {
    let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::fast());
    z.write_all(&Pickle::proto(4).empty_list().mark().bytes())
        .unwrap();
    for i in 0..64 {
        // The wrapper for one float64 array of 4 MiB, then its bytes.
        z.write_all(&fixtures::joblib_wrapper(TENSOR_BYTES / 8).bytes())
            .unwrap();
        z.write_all(&tensor(i)).unwrap();
    }
    z.write_all(&Pickle::new().op(b'e').stop().bytes()).unwrap();
    z.finish().unwrap();
}

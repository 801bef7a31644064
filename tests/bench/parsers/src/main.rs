//! How long tree-sitter's Python parse takes, as `threatlens check` runs it (the same function,
//! one parser per thread, trees allocated by mimalloc), against ruff's parser on the same text.
//!
//! `cargo run --release --manifest-path tests/bench/parsers/Cargo.toml -- [--rounds N] DIR…`
//!
//! The files are read first; only the parses are timed. For each directory: both parsers over
//! all its files on rayon's threads (`RAYON_NUM_THREADS`, both cores by default), alternately,
//! `--rounds` times; then, one after the other, 50 parses of its largest file on one thread.
//! Medians, minimum in brackets.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use threatlens_rules::{Language, lang};

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|entry| entry.path()) {
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Parses a text; says whether it parsed without a syntax error.
type Parse = fn(&str) -> bool;

fn tree_sitter(text: &str) -> bool {
    lang::parse(Language::Python, text, None).is_some_and(|tree| !tree.root_node().has_error())
}

fn ruff(text: &str) -> bool {
    ruff_python_parser::parse_module(text).is_ok()
}

/// The median and the minimum of at least one time.
fn median_and_min(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[0])
}

/// Median and minimum, in milliseconds.
fn summary((median, min): (Duration, Duration)) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("{:.2} ms [{:.2}]", ms(median), ms(min))
}

fn main() {
    // SAFETY: first thing in `main`, before any tree-sitter object exists.
    unsafe { lang::use_mimalloc_for_trees() };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut rounds = 5;
    if let Some(at) = args.iter().position(|a| a == "--rounds") {
        rounds = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(rounds)
            .max(1);
        args.drain(at..(at + 2).min(args.len()));
    }
    let parsers: [(&str, Parse); 2] = [("tree-sitter", tree_sitter), ("ruff", ruff)];
    println!(
        "| corpus | files | MB | parser | all files, {} threads | MB/s | files parsed without an error | largest file alone |",
        rayon::current_num_threads()
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for dir in &args {
        let mut paths = Vec::new();
        python_files(Path::new(dir), &mut paths);
        let texts: Vec<String> = paths
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        let Some(largest) = texts.iter().max_by_key(|text| text.len()) else {
            eprintln!("{dir}: no Python files");
            continue;
        };
        let mut all = vec![Vec::new(); parsers.len()];
        let mut clean = vec![0; parsers.len()];
        for _ in 0..rounds {
            for (times, (count, (_, parse))) in all.iter_mut().zip(clean.iter_mut().zip(parsers)) {
                let start = Instant::now();
                *count = texts.par_iter().filter(|text| parse(text)).count();
                times.push(start.elapsed());
            }
        }
        for ((mut times, count), (name, parse)) in all.into_iter().zip(clean).zip(parsers) {
            let mut alone: Vec<Duration> = (0..50)
                .map(|_| {
                    let start = Instant::now();
                    std::hint::black_box(parse(largest));
                    start.elapsed()
                })
                .collect();
            let all_files = median_and_min(&mut times);
            let rate = bytes as f64 / 1e6 / all_files.0.as_secs_f64();
            println!(
                "| {} | {} | {:.1} | {name} | {} | {rate:.0} | {count} | {} |",
                Path::new(dir)
                    .file_name()
                    .map_or(dir.as_str(), |n| n.to_str().unwrap_or(dir)),
                texts.len(),
                bytes as f64 / 1e6,
                summary(all_files),
                summary(median_and_min(&mut alone)),
            );
        }
    }
}

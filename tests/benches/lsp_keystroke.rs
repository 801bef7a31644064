//! Keystroke latency of the language server: from a one-character `didChange` to the
//! `publishDiagnostics` for that version, on a large Python file.
//!
//! `cargo bench -p threatlens-tests --bench lsp_keystroke`
//!
//! Four measurements:
//! 1. **In process**, the server's pipeline without the protocol: apply the edit to the text and
//!    `Tree::edit`, incremental re-parse with the old tree, rule analysis of the new tree. Reported
//!    separately, with a full parse for comparison.
//! 2. **End to end** through the real `threatlens lsp` binary (release) over stdio, with the
//!    debounce set to 0 (`debounceMs`), so the time is re-parse + analysis + protocol; the server
//!    also reports its own re-parse and analysis times (`logTimings`), or that it took back
//!    the tree of an earlier parse of the same text.
//! 3. **A statement typed** in process: `self.cache_key = compute(value)` on a new line in 10
//!    methods of the file, and `from hashlib import sha256` before its first import and after
//!    its last import line, with how many keystrokes analysed the whole file.
//! 4. **`ruff server`** (`--select S`), the peer the issue measures against, given the same
//!    keystrokes end to end, when the harness's pinned peers are installed
//!    (`python3 tests/bench/run.py --install-peers`) or `$THREATLENS_BENCH_RUFF` names a ruff
//!    binary.
//!
//! The file: `$THREATLENS_BENCH_FILE`, else the largest `modeling_*.py` under
//! `$HOME/.cache/threatlens-bench` (the corpus the CLI benchmarks unpack), else a generated
//! ~5 000-line model file. No timing is asserted anywhere. With `THREATLENS_BENCH_FALLBACKS`
//! set, each keystroke the session analysed as a whole file is printed with why and its line.
//!
//! In process, tree-sitter allocates with mimalloc, as in the `threatlens` binary.

use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use threatlens_rules::analyse::{FileContext, analyse_python_in_session, analyse_tree};
use threatlens_rules::lang;
use threatlens_rules::lang::python::session::{Fallback, Reuse, Session};
use threatlens_rules::{Catalogue, Language};
use threatlens_tests::bench_file::large_python_file;
use threatlens_tests::lsp_client::{TempDir, TestServer, file_uri};
use threatlens_tests::typing::{Stats, keystroke, row_and_column, type_one};
use tree_sitter::{InputEdit, Point};

fn point(text: &str, offset: usize) -> Point {
    let (row, column) = row_and_column(text, offset);
    Point { row, column }
}

/// The edit that replaces `removed` bytes of `text` at `at` by `inserted`, for `Tree::edit`.
fn input_edit(text: &str, at: usize, removed: usize, inserted: &str) -> InputEdit {
    let start = point(text, at);
    let new_end_position = match inserted.rfind('\n') {
        Some(last) => Point {
            row: start.row + inserted.matches('\n').count(),
            column: inserted.len() - last - 1,
        },
        None => Point {
            row: start.row,
            column: start.column + inserted.len(),
        },
    };
    InputEdit {
        start_byte: at,
        old_end_byte: at + removed,
        new_end_byte: at + inserted.len(),
        start_position: start,
        old_end_position: point(text, at + removed),
        new_end_position,
    }
}

fn in_process(text: &str, iterations: usize) -> Vec<String> {
    let catalogue = Catalogue::builtin();
    let mut text = text.to_string();
    let mut tree = lang::parse(Language::Python, &text, None).expect("parse");
    let (mut full, mut reparse, mut analysis) = (Vec::new(), Vec::new(), Vec::new());
    let (mut session, mut in_session) = (Session::new(), Vec::new());
    let (mut one_function, mut with_readers, mut comment, mut earlier, mut fell_back) =
        (Vec::new(), Vec::new(), 0, 0, Vec::new());
    let (mut imports, mut renamed) = (Vec::new(), Vec::new());
    let mut whole: BTreeMap<String, usize> = BTreeMap::new();
    let show_fallbacks = std::env::var_os("THREATLENS_BENCH_FALLBACKS").is_some();
    analyse_python_in_session(
        &mut session,
        catalogue,
        &text,
        &tree,
        &FileContext::default(),
    );
    for i in 0..iterations {
        let (at, removed, inserted) = keystroke(&text, i, iterations);
        let started = Instant::now();
        let edit = input_edit(&text, at, removed, inserted);
        text.replace_range(at..at + removed, inserted);
        tree.edit(&edit);
        tree = lang::parse(Language::Python, &text, Some(&tree)).expect("reparse");
        reparse.push(started.elapsed());
        let started = Instant::now();
        let findings = analyse_tree(catalogue, Language::Python, &text, &tree);
        analysis.push(started.elapsed());
        let started = Instant::now();
        let incremental = analyse_python_in_session(
            &mut session,
            catalogue,
            &text,
            &tree,
            &FileContext::default(),
        );
        let took = started.elapsed();
        in_session.push(took);
        match session.last_reuse() {
            Some(Reuse::AllButOneFunction) => one_function.push(took),
            Some(Reuse::FunctionAndItsReaders) => with_readers.push(took),
            Some(Reuse::Import | Reuse::Constant) => imports.push(took),
            Some(Reuse::Renamed) => renamed.push(took),
            Some(Reuse::Comment | Reuse::Docstring | Reuse::BlankLines | Reuse::BareNames) => {
                comment += 1
            }
            Some(Reuse::EarlierText) => earlier += 1,
            Some(Reuse::Nothing) => {
                let why = session
                    .last_fallback()
                    .unwrap_or(Fallback::NoSettledAnalysis);
                *whole.entry(format!("{why:?}")).or_default() += 1;
                if show_fallbacks {
                    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                    let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                    eprintln!(
                        "keystroke {i}: the whole file ({}, {:.1} ms): {}",
                        why.describe(),
                        took.as_secs_f64() * 1000.0,
                        text[line_start..line_end].trim()
                    );
                }
                fell_back.push(took);
            }
            Some(Reuse::Everything) | None => {}
        }
        assert_eq!(
            incremental, findings,
            "the session must find what the whole analysis does"
        );
        std::hint::black_box(findings);
        let started = Instant::now();
        std::hint::black_box(lang::parse(Language::Python, &text, None));
        full.push(started.elapsed());
    }
    let whole = whole
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        Stats(reparse).row("in process: edit + incremental re-parse"),
        Stats(analysis).row("in process: analysis of the whole file"),
        Stats(in_session).row(&format!(
            "in process: analysis in an editing session (of {iterations}: {} re-walked one function, {} one function and its readers, {} an import or a module constant and the functions naming what it binds, {} a function's or a class attribute's name and the functions naming it, {comment} only moved findings, {earlier} were back at an earlier text; the whole file: {whole})",
            one_function.len(),
            with_readers.len(),
            imports.len(),
            renamed.len()
        )),
        Stats(one_function).row("in process: … the keystrokes that re-walked one function"),
        Stats(with_readers).row("in process: … the keystrokes that re-walked one function and its readers"),
        Stats(imports).row("in process: … the keystrokes in an import or a module constant"),
        Stats(renamed).row("in process: … the keystrokes in a function's or a class attribute's name"),
        Stats(fell_back).row("in process: … the keystrokes that analysed the whole file"),
        Stats(full).row("in process: full parse, for comparison"),
    ]
}

fn end_to_end(text: &str, iterations: usize) -> Vec<String> {
    let mut server = TestServer::spawn();
    server.initialize(json!({
        "processId": null,
        "rootUri": null,
        "capabilities": TestServer::client_capabilities(),
        "initializationOptions": {"debounceMs": 0, "logTimings": true},
    }));
    let uri = "untitled:bench.py";
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    server.await_diagnostics(uri);
    let mut text = text.to_string();
    let (mut wall, mut reparse, mut analysis) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..iterations {
        let version = i + 2;
        wall.push(type_one(
            &mut server,
            uri,
            &mut text,
            version,
            (i, iterations),
        ));
        let log = server.await_log(&format!("{uri} v{version}:"));
        let message = log["message"].as_str().unwrap_or("");
        let number = |label: &str| -> Duration {
            message
                .split(label)
                .nth(1)
                .and_then(|rest| rest.trim().split(' ').next())
                .and_then(|n| n.parse::<f64>().ok())
                .map_or(Duration::ZERO, |ms| Duration::from_secs_f64(ms / 1000.0))
        };
        reparse.push(number("reparse"));
        analysis.push(number("analysis"));
    }
    let _ = server.shutdown();
    vec![
        Stats(wall).row("end to end: didChange → publishDiagnostics (debounce 0)"),
        Stats(reparse).row("end to end: server's incremental re-parse"),
        Stats(analysis).row("end to end: server's analysis"),
    ]
}

/// Typing a new statement, `self.cache_key = compute(value)`, on a new line (Enter with the
/// indentation first, the closing parenthesis put in by the editor) in `methods` methods spread
/// over the file, before one of their `self.… = …` lines.
fn typing_a_statement(original: &str, methods: usize) -> Vec<String> {
    let mut places = Vec::new();
    let mut offset = 0;
    for line in original.split_inclusive('\n') {
        if line.starts_with("        self.") && line.contains(" = ") {
            places.push(offset);
        }
        offset += line.len();
    }
    let places: Vec<usize> = places
        .iter()
        .copied()
        .step_by((places.len() / methods).max(1))
        .take(methods)
        .collect();
    let label = format!("into {methods} methods");
    typing(
        original,
        &places,
        "        ",
        "self.cache_key = compute(value)",
        &label,
    )
}

/// Typing an import, `from hashlib import sha256`, on a new line before the file's first
/// `import` line, and after the last import line at the first column before the first
/// definition.
fn typing_an_import(original: &str) -> Vec<String> {
    let lines: Vec<(usize, &str)> = original
        .split_inclusive('\n')
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line))
        })
        .collect();
    let first_import = lines
        .iter()
        .find(|(_, line)| line.starts_with("import "))
        .map_or(0, |(start, _)| *start);
    // The end of the last import statement (a parenthesised one ends on the line of its `)`).
    let definitions = lines
        .iter()
        .position(|(_, line)| line.starts_with("def ") || line.starts_with("class "))
        .unwrap_or(lines.len());
    let after_the_last = lines[..definitions]
        .iter()
        .enumerate()
        .rfind(|(_, (_, line))| line.starts_with("import ") || line.starts_with("from "))
        .map_or(0, |(index, (_, line))| {
            let closing = if line.contains('(') && !line.contains(')') {
                lines[index..]
                    .iter()
                    .find(|(_, line)| line.starts_with(')'))
            } else {
                None
            };
            let (start, line) = closing.unwrap_or(&lines[index]);
            start + line.len()
        });
    [
        (first_import, "before the first import"),
        (after_the_last, "after the last import"),
    ]
    .into_iter()
    .flat_map(|(at, where_typed)| {
        typing(
            original,
            &[at],
            "",
            "from hashlib import sha256",
            where_typed,
        )
    })
    .collect()
}

/// Types `statement` on a new line at each of `places` (line starts) in turn, each time in a
/// fresh session of `original`: Enter with `indent` first, then the statement a character at a
/// time, the editor closing the parenthesis it opens. In process: the session's analysis of each
/// keystroke after the incremental re-parse, and how many analysed the whole file.
fn typing(
    original: &str,
    places: &[usize],
    indent: &str,
    statement: &str,
    where_typed: &str,
) -> Vec<String> {
    let catalogue = Catalogue::builtin();
    let context = FileContext::default();
    let (mut times, mut whole) = (Vec::new(), 0);
    for &at in places {
        let mut text = original.to_string();
        let mut tree = lang::parse(Language::Python, &text, None).expect("parse");
        let mut session = Session::new();
        analyse_python_in_session(&mut session, catalogue, &text, &tree, &context);
        let mut edits = vec![(at, 0, format!("{indent}\n"))];
        // The editor closes the parenthesis it opens, and typing `)` steps over it.
        for end in 1..statement.len() {
            let prefix = &statement[..end];
            let closing = if prefix.ends_with('(') { ")" } else { "" };
            edits.push((
                at + indent.len() + end - 1,
                0,
                format!("{}{closing}", &prefix[end - 1..]),
            ));
        }
        for (start, removed, inserted) in edits {
            let edit = input_edit(&text, start, removed, &inserted);
            text.replace_range(start..start + removed, &inserted);
            tree.edit(&edit);
            tree = lang::parse(Language::Python, &text, Some(&tree)).expect("reparse");
            let started = Instant::now();
            let incremental =
                analyse_python_in_session(&mut session, catalogue, &text, &tree, &context);
            times.push(started.elapsed());
            if session.last_reuse() == Some(Reuse::Nothing) {
                whole += 1;
                if std::env::var_os("THREATLENS_BENCH_FALLBACKS").is_some() {
                    let line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
                    let why = session.last_fallback().map_or("", Fallback::describe);
                    eprintln!(
                        "typing: the whole file ({why}): {}",
                        text[at..line_end].trim()
                    );
                }
            }
            assert_eq!(
                incremental,
                analyse_tree(catalogue, Language::Python, &text, &tree),
                "the session must find what the whole analysis does"
            );
        }
    }
    let keystrokes = times.len();
    vec![Stats(times).row(&format!(
        "in process: typing `{statement}` {where_typed}, the session's analysis ({keystrokes} keystrokes, {whole} analysed the whole file)"
    ))]
}

/// The ruff the harness installs (`run.py --install-peers`), or `$THREATLENS_BENCH_RUFF`.
fn ruff_binary() -> Option<PathBuf> {
    let ruff = match std::env::var_os("THREATLENS_BENCH_RUFF") {
        Some(ruff) => PathBuf::from(ruff),
        None => {
            PathBuf::from(std::env::var_os("HOME")?).join(".cache/threatlens-bench/venv/bin/ruff")
        }
    };
    ruff.is_file().then_some(ruff)
}

/// The same keystrokes given to `ruff server` with the bandit-derived rules (`S`) selected, in
/// a file on disk (ruff lints files; diagnostics are pushed, with their version, to a client
/// that does not ask for them).
fn ruff_end_to_end(text: &str, iterations: usize) -> Vec<String> {
    let Some(ruff) = ruff_binary() else {
        return vec![
            Stats(Vec::new())
                .row("ruff server: not installed (`python3 tests/bench/run.py --install-peers`)"),
        ];
    };
    let version = Command::new(&ruff)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    let dir = TempDir::new("ruff-keystroke");
    let uri = file_uri(&dir.write("bench.py", text));
    let mut command = Command::new(&ruff);
    command.arg("server");
    let mut server = TestServer::spawn_command(command);
    server.initialize(json!({
        "processId": null,
        "rootUri": file_uri(dir.path()),
        "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": true}}},
        "initializationOptions": {"settings": {"lint": {"select": ["S"]}}},
    }));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    server.await_diagnostics(&uri);
    let mut text = text.to_string();
    let wall = (0..iterations)
        .map(|i| type_one(&mut server, &uri, &mut text, i + 2, (i, iterations)))
        .collect();
    let _ = server.shutdown();
    vec![Stats(wall).row(&format!(
        "`ruff server` ({version}, `--select S`): didChange → publishDiagnostics"
    ))]
}

fn main() {
    // The in-process pipeline allocates its trees as the server does.
    // SAFETY: the first thing the bench does: no tree-sitter object exists yet.
    unsafe { lang::use_mimalloc_for_trees() };
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` this is a smoke run.
    let iterations = if std::env::args().any(|a| a == "--bench") {
        200
    } else {
        4
    };
    let (name, text) = large_python_file();
    println!(
        "file: {name}: {} lines, {:.0} KB; {iterations} keystrokes",
        text.lines().count(),
        text.len() as f64 / 1024.0
    );
    println!("| step | median ms | p90 ms | p99 ms | min ms |\n| --- | --- | --- | --- | --- |");
    for row in in_process(&text, iterations)
        .into_iter()
        .chain(typing_a_statement(
            &text,
            if iterations > 4 { 10 } else { 1 },
        ))
        .chain(typing_an_import(&text))
        .chain(end_to_end(&text, iterations))
        .chain(ruff_end_to_end(&text, iterations))
    {
        println!("{row}");
    }
}

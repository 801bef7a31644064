//! Typing into a document open in the language server, for the benches: keystrokes spread over
//! a file, each sent as an incremental `didChange` and timed to the `publishDiagnostics` for its
//! version.

use crate::lsp_client::TestServer;
use serde_json::json;
use std::time::{Duration, Instant};

/// Keystroke `i` of `iterations`: pairs of typing `x` into an identifier (the code stays valid,
/// as while typing a name) and deleting it again, at places spread evenly over the file. Returns
/// (byte offset, removed length, inserted text).
///
/// A pair's place is found in the text as it was before the pair's `x` was typed (which is
/// after the place, so the text up to it is the same), so the deletion removes exactly that
/// `x` and every pair leaves the text as it found it.
pub fn keystroke(text: &str, i: usize, iterations: usize) -> (usize, usize, &'static str) {
    let places = iterations.div_ceil(2);
    let typed = i % 2 == 1;
    let length = text.len() - usize::from(typed);
    let mut middle = length * (2 * (i / 2) + 1) / (2 * places);
    while !text.is_char_boundary(middle) {
        middle += 1;
    }
    let at = text[middle..]
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or(middle, |i| middle + i + 1);
    if typed {
        assert_eq!(
            text.as_bytes().get(at),
            Some(&b'x'),
            "keystroke {i} deletes the `x` its pair typed"
        );
        (at, 1, "")
    } else {
        (at, 0, "x")
    }
}

/// The (row, byte column) of a byte offset.
pub fn row_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let row = before.matches('\n').count();
    let column = offset - before.rfind('\n').map_or(0, |nl| nl + 1);
    (row, column)
}

/// Sends keystroke `i` of `iterations` to the open document `uri` (its text is `text`, which is
/// updated) as its version `version`, and waits for that version's diagnostics: the time from
/// the `didChange` to them.
pub fn type_one(
    server: &mut TestServer,
    uri: &str,
    text: &mut String,
    version: usize,
    (i, iterations): (usize, usize),
) -> Duration {
    let (at, removed, inserted) = keystroke(text, i, iterations);
    let (row, column) = row_and_column(text, at);
    // LSP columns count UTF-16 units; the keystroke itself is ASCII.
    let character = text[at - column..at].encode_utf16().count();
    let range = json!({
        "start": {"line": row, "character": character},
        "end": {"line": row, "character": character + removed},
    });
    text.replace_range(at..at + removed, inserted);
    let started = Instant::now();
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": range, "text": inserted}]}),
    );
    server.await_notification_where("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri && p["version"] == version
    });
    started.elapsed()
}

/// Durations, summarised as one row of a Markdown table: median, p90, p99 and min in ms.
pub struct Stats(pub Vec<Duration>);

impl Stats {
    pub fn ms(&mut self, q: f64) -> f64 {
        self.0.sort();
        let index = ((self.0.len() - 1) as f64 * q).round() as usize;
        self.0[index].as_secs_f64() * 1000.0
    }

    pub fn row(&mut self, name: &str) -> String {
        if self.0.is_empty() {
            return format!("| {name} | – | – | – | – |");
        }
        format!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |",
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.ms(0.0)
        )
    }
}

//! Micro-benchmarks of the analysis, one part at a time, with divan's statistics:
//!
//!     cargo bench -p threatlens-tests --bench analysis
//!
//! `large_file` works on the benches' large Python file (`threatlens_tests::bench_file`:
//! `transformers/modeling_utils.py` when the CLI harness has unpacked its corpora), `corpus` on
//! every Python file of the bundled corpora (`tests/corpus`), one file after another:
//! - `parse`: tree-sitter's full parse, the floor of `threatlens check`;
//! - `check`: parse and analysis, what `threatlens check` does with a file;
//! - `analyse`: the analysis of a tree already parsed;
//! - `keystroke` (large file only): an editing session's re-analysis after a one-character edit
//!   in a function body (typing `x` into a name, then deleting it, alternately).
//!
//! `lookups` times the two lookups the walk makes most, on what the large file holds: taint
//! sources by qualified name (one per call) and secrets in string literals.
//!
//! tree-sitter allocates with mimalloc, as in the `threatlens` binary. `cargo test` runs each
//! benchmark once (the target sets `test = true`). No timing is asserted anywhere.

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use std::path::Path;
use std::sync::LazyLock;
use threatlens_rules::analyse::{FileContext, analyse_python_in_session, analyse_tree};
use threatlens_rules::engine::Emitter;
use threatlens_rules::lang::python::session::{Reuse, Session};
use threatlens_rules::source::LineIndex;
use threatlens_rules::{Catalogue, Language, analyse_source, lang};
use threatlens_tests::bench_file::large_python_file;
use threatlens_tests::repo_root;
use tree_sitter::{Node, Tree};

fn main() {
    // SAFETY: the first thing the bench does: no tree-sitter object exists yet.
    unsafe { lang::use_mimalloc_for_trees() };
    let (name, text) = &*LARGE_FILE;
    println!(
        "large file: {name} ({} lines); corpus: {} files of tests/corpus ({} lines)",
        text.lines().count(),
        CORPUS.len(),
        CORPUS
            .iter()
            .map(|text| text.lines().count())
            .sum::<usize>()
    );
    divan::main();
}

static LARGE_FILE: LazyLock<(String, String)> = LazyLock::new(large_python_file);

static CORPUS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut files = Vec::new();
    python_files(&repo_root().join("tests/corpus"), &mut files);
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect()
});

fn python_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

fn parse(text: &str) -> Tree {
    lang::parse(Language::Python, text, None).expect("tree-sitter parses any text")
}

/// The tree is dropped inside the timed part, as in a check.
fn parse_and_drop(text: &str) -> usize {
    parse(text).root_node().end_byte()
}

fn check(text: &str) -> usize {
    analyse_source(
        Catalogue::builtin(),
        Language::Python,
        text,
        &FileContext::default(),
    )
    .findings
    .len()
}

mod large_file {
    use super::*;

    #[divan::bench]
    fn parse(bencher: Bencher) {
        let text = &LARGE_FILE.1;
        bencher
            .counter(BytesCount::of_str(text))
            .bench_local(|| parse_and_drop(black_box(text)));
    }

    #[divan::bench]
    fn check(bencher: Bencher) {
        let text = &LARGE_FILE.1;
        bencher
            .counter(BytesCount::of_str(text))
            .bench_local(|| super::check(black_box(text)));
    }

    #[divan::bench]
    fn analyse(bencher: Bencher) {
        let text = &LARGE_FILE.1;
        let tree = super::parse(text);
        let catalogue = Catalogue::builtin();
        bencher
            .counter(BytesCount::of_str(text))
            .bench_local(|| analyse_tree(catalogue, Language::Python, text, black_box(&tree)));
    }

    #[divan::bench]
    fn keystroke(bencher: Bencher) {
        let catalogue = Catalogue::builtin();
        let context = FileContext::default();
        let original = LARGE_FILE.1.as_str();
        let (mut session, edited) = session_at_a_function_edit(original);
        let versions = [original, edited.as_str()].map(|text| (text, super::parse(text)));
        // The session last saw the edited text: start with the original.
        let mut next = 1;
        let mut each_one_function = true;
        bencher.bench_local(|| {
            next = 1 - next;
            let (text, tree) = &versions[next];
            let findings = analyse_python_in_session(&mut session, catalogue, text, tree, &context);
            each_one_function &= session.last_reuse() == Some(Reuse::AllButOneFunction);
            findings
        });
        assert!(each_one_function, "every keystroke re-walked one function");
    }

    /// A session that analysed `text` and then `text` with an `x` typed into a name in a
    /// function body (the first of the keystroke bench's places, from the middle of the file on,
    /// where the session re-walks one function both ways), with that edited text.
    fn session_at_a_function_edit(text: &str) -> (Session, String) {
        let catalogue = Catalogue::builtin();
        let context = FileContext::default();
        for pair in (100..200).chain(0..100).step_by(2) {
            let (at, _, typed) = threatlens_tests::typing::keystroke(text, pair, 200);
            let mut edited = text.to_string();
            edited.insert_str(at, typed);
            let mut session = Session::new();
            let mut reuses = Vec::new();
            for version in [text, &edited, text, &edited] {
                let tree = super::parse(version);
                analyse_python_in_session(&mut session, catalogue, version, &tree, &context);
                reuses.push(session.last_reuse());
            }
            if reuses[1..]
                .iter()
                .all(|reuse| *reuse == Some(Reuse::AllButOneFunction))
            {
                return (session, edited);
            }
        }
        panic!("no keystroke of the file re-walks a single function");
    }
}

mod corpus {
    use super::*;

    fn corpus_bytes() -> BytesCount {
        BytesCount::new(CORPUS.iter().map(String::len).sum::<usize>())
    }

    #[divan::bench]
    fn parse(bencher: Bencher) {
        bencher.counter(corpus_bytes()).bench_local(|| {
            CORPUS
                .iter()
                .map(|text| parse_and_drop(text))
                .sum::<usize>()
        });
    }

    #[divan::bench]
    fn check(bencher: Bencher) {
        bencher
            .counter(corpus_bytes())
            .bench_local(|| CORPUS.iter().map(|text| super::check(text)).sum::<usize>());
    }

    #[divan::bench]
    fn analyse(bencher: Bencher) {
        let trees: Vec<Tree> = CORPUS.iter().map(|text| super::parse(text)).collect();
        let catalogue = Catalogue::builtin();
        bencher.counter(corpus_bytes()).bench_local(|| {
            CORPUS
                .iter()
                .zip(&trees)
                .map(|(text, tree)| analyse_tree(catalogue, Language::Python, text, tree).len())
                .sum::<usize>()
        });
    }
}

mod lookups {
    use super::*;

    /// `catalogue.sources` asked for every call of the large file, named as written
    /// (`torch.matmul()`, `self.q_proj()`): nearly all are misses, as in real code.
    #[divan::bench]
    fn taint_sources(bencher: Bencher) {
        let text = &LARGE_FILE.1;
        let tree = parse(text);
        let mut names = Vec::new();
        each_node(tree.root_node(), &mut |node| {
            if node.kind() == "call"
                && let Some(function) = node.child_by_field_name("function")
                && matches!(function.kind(), "identifier" | "attribute")
            {
                names.push(format!("{}()", &text[function.byte_range()]));
            }
        });
        let sources = &Catalogue::builtin().sources;
        bencher
            .counter(ItemsCount::new(names.len()))
            .bench_local(|| {
                names
                    .iter()
                    .filter(|name| sources.matching(black_box(name)).next().is_some())
                    .count()
            });
    }

    /// Every string literal of the large file, docstrings included, checked for secrets.
    #[divan::bench]
    fn secrets_in_strings(bencher: Bencher) {
        let text = &LARGE_FILE.1;
        let tree = parse(text);
        let mut strings = Vec::new();
        each_node(tree.root_node(), &mut |node| {
            if node.kind() == "string" {
                strings.push((node.byte_range(), &text[node.byte_range()]));
            }
        });
        let catalogue = Catalogue::builtin();
        let lines = LineIndex::new(text);
        bencher
            .counter(ItemsCount::new(strings.len()))
            .bench_local(|| {
                let mut emitter = Emitter::new(catalogue, text, &lines, Language::Python);
                for (range, string) in &strings {
                    emitter.on_string(black_box(string), (range.start, range.end), None);
                }
                emitter.findings.len()
            });
    }

    fn each_node<'t>(node: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
        f(node);
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            each_node(child, f);
        }
    }
}

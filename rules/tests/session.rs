//! The editing session against the whole analysis: after every edit of a long series (typed
//! characters, deletions, new statements that bring untrusted data and sinks, an edit undone),
//! the findings a session gives must be exactly those of analysing the new text from scratch.
//!
//! The files are the repository's Python corpora; `THREATLENS_SESSION_CORPUS` adds a directory
//! (e.g. an unpacked `transformers` wheel) for a longer run, and `THREATLENS_SESSION_SEED`
//! (a number) draws other edits.

use std::path::{Path, PathBuf};
use threatlens_rules::analyse::{FileContext, analyse_python_in_session, analyse_tree_in};
use threatlens_rules::lang::python::session::{Fallback, Reuse, Session};
use threatlens_rules::{Catalogue, Language, Severity, lang};

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// The byte offsets of the starts of lines that are inside an indented block (where a
/// statement can go), with their indentation.
fn indented_lines(text: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    let mut found = Vec::new();
    for line in text.split_inclusive('\n') {
        let indent = &line[..line.len() - line.trim_start_matches(' ').len()];
        if !indent.is_empty() && !line.trim().is_empty() {
            found.push((at, indent));
        }
        at += line.len();
    }
    found
}

const STATEMENTS: &[&str] = &[
    "q = input()",
    "eval(q)",
    "yaml.load(q)",
    "torch.load(q)",
    "self.loaded = pickle.loads(q)",
    "return input()",
    "return q",
    "requests.get(q, verify=False)",
    "token = \"hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345\"",
    "x = helper(q)",
    "self.cache = self.cache or input()",
    "q = self.run(q)",
    "q = self.cache",
    "return self.loaded",
];

/// Byte offsets just after a `#` (inside a comment, or a string that holds one).
fn after_hashes(text: &str) -> Vec<usize> {
    text.match_indices('#').map(|(at, _)| at + 1).collect()
}

/// The identifiers of `text` (in strings and comments too), with their byte offsets.
fn identifiers(text: &str) -> Vec<(usize, &str)> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = bytes[at..].iter().take_while(|&&b| word(b)).count();
        if len > 0 && !bytes[at].is_ascii_digit() {
            found.push((at, &text[at..at + len]));
        }
        at += len.max(1);
    }
    found
}

/// Each line of `text` with the offset it starts at.
fn line_starts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// One random edit of `text`.
fn edit(text: &str, random: &mut Random) -> String {
    let mut at = random.below(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    match random.below(13) {
        // The start of a statement typed on a line of its own at module level (or inside a
        // body, where the line starts): a name or a keyword, or two.
        12 => {
            let lines: Vec<(usize, &str)> = line_starts(text).collect();
            let Some(&(start, _)) = lines.get(random.below(lines.len())) else {
                return edit(text, random);
            };
            let words = [
                "f",
                "fro",
                "from",
                "import ",
                "def",
                "x y",
                "if",
                "print",
                "class C",
                "from os import",
                "from pickle import ",
            ];
            let word = words[random.below(words.len())];
            format!("{}{word}\n{}", &text[..start], &text[start..])
        }
        // Enter pressed at the start of a line (a blank line, maybe indented), or a blank line
        // deleted.
        11 => {
            let lines: Vec<(usize, &str)> = line_starts(text).collect();
            let blank: Vec<(usize, &str)> = lines
                .iter()
                .copied()
                .filter(|(_, line)| line.trim().is_empty())
                .collect();
            if !blank.is_empty() && random.below(3) == 0 {
                let (start, line) = blank[random.below(blank.len())];
                return format!("{}{}", &text[..start], &text[start + line.len()..]);
            }
            let Some(&(start, _)) = lines.get(random.below(lines.len())) else {
                return edit(text, random);
            };
            let indent = ["", "    ", "        ", "  \t"][random.below(4)];
            format!("{}{indent}\n{}", &text[..start], &text[start..])
        }
        // A character typed into or deleted from a function's name, or the name of an
        // attribute a class body sets (`    name = …` or `    name: … = …`).
        10 => {
            let defs = text.match_indices("def ").map(|(at, _)| at + "def ".len());
            let attributes = line_starts(text)
                .filter(|(_, line)| {
                    line.starts_with("    ")
                        && line[4..].starts_with(|c: char| c.is_ascii_alphabetic())
                        && line.contains(" = ")
                })
                .map(|(start, _)| start + 4);
            let names: Vec<usize> = defs
                .chain(attributes)
                .filter(|&at| text[at..].starts_with(|c: char| c.is_ascii_alphabetic()))
                .collect();
            if names.is_empty() {
                return edit(text, random);
            }
            let at = names[random.below(names.len())] + 1;
            if random.below(2) == 0 {
                format!("{}x{}", &text[..at], &text[at..])
            } else {
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                format!("{}{}", &text[..at], &text[end..])
            }
        }
        // A name typed into or deleted from an import at module level (what it binds changes),
        // or typed after an `import` that has none yet.
        9 => {
            let imports: Vec<(usize, usize)> = line_starts(text)
                .filter(|&(_, line)| line.starts_with("import ") || line.starts_with("from "))
                .filter_map(|(start, line)| {
                    let names = line.find("import")? + "import".len();
                    Some((start + names, start + line.trim_end().len()))
                })
                .filter(|(from, to)| from <= to)
                .collect();
            if imports.is_empty() {
                return edit(text, random);
            }
            let (from, to) = imports[random.below(imports.len())];
            if from == to {
                let name = [" l", " p", " os", "x"][random.below(4)];
                return format!("{}{name}{}", &text[..to], &text[to..]);
            }
            let at = from + random.below(to - from);
            if !text.is_char_boundary(at) {
                return edit(text, random);
            }
            match random.below(3) {
                0 => format!("{}x{}", &text[..at], &text[at..]),
                1 => format!("{} as alias{}", &text[..to], &text[to..]),
                _ => {
                    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                    format!("{}{}", &text[..at], &text[end..])
                }
            }
        }
        // An identifier replaced by another of the file's (what names resolve to changes).
        8 => {
            let names = identifiers(text);
            if names.len() < 2 {
                return edit(text, random);
            }
            let (at, name) = names[random.below(names.len())];
            let (_, other) = names[random.below(names.len())];
            format!("{}{other}{}", &text[..at], &text[at + name.len()..])
        }
        // A source taken away (a statement above may have put it there): what it tainted must
        // go too, also where the taint went around through other functions.
        7 => {
            let sources: Vec<usize> = text.match_indices("input()").map(|(at, _)| at).collect();
            if sources.is_empty() {
                return edit(text, random);
            }
            let at = sources[random.below(sources.len())];
            format!("{}'c'{}", &text[..at], &text[at + "input()".len()..])
        }
        // A statement deleted.
        6 => {
            let lines = indented_lines(text);
            if lines.is_empty() {
                return edit(text, random);
            }
            let (start, _) = lines[random.below(lines.len())];
            let end = text[start..]
                .find('\n')
                .map_or(text.len(), |n| start + n + 1);
            format!("{}{}", &text[..start], &text[end..])
        }
        // A provider token pasted anywhere (in a docstring it is a finding).
        5 => format!(
            "{} hf_abcdefghijklmnopqrstuvwxyzABCDEFGH{}",
            &text[..at],
            &text[at..]
        ),
        // Typing in a comment (sometimes a suppression, which must not be taken for prose).
        4 => {
            let hashes = after_hashes(text);
            if hashes.is_empty() {
                return format!("{text}# a comment\n");
            }
            let at = hashes[random.below(hashes.len())];
            let typed = [" a", "x", " threatlens: ignore[TL110] checked", "#", "("];
            format!(
                "{}{}{}",
                &text[..at],
                typed[random.below(typed.len())],
                &text[at..]
            )
        }
        0 => {
            let chars = ['a', 'q', '_', '1', ' ', '(', ')', '.', '"', '\n', '#', ':'];
            let ch = chars[random.below(chars.len())];
            format!("{}{ch}{}", &text[..at], &text[at..])
        }
        1 => {
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            format!("{}{}", &text[..at], &text[end..])
        }
        _ => {
            let lines = indented_lines(text);
            if lines.is_empty() {
                return format!("{text}\n{}\n", STATEMENTS[0]);
            }
            let (start, indent) = lines[random.below(lines.len())];
            let statement = STATEMENTS[random.below(STATEMENTS.len())];
            format!("{}{indent}{statement}\n{}", &text[..start], &text[start..])
        }
    }
}

#[test]
fn a_session_gives_the_findings_of_a_whole_analysis_after_every_edit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for corpus in [
        "tests/corpus/labelled",
        "tests/corpus/holdout",
        "tests/corpus/dev",
    ] {
        python_files(&root.join(corpus), &mut files);
    }
    assert!(files.len() > 50, "the corpora moved: {} files", files.len());
    // The rates below are the bundled corpora's; an extra corpus is only checked for differences.
    let bundled = files.len();
    if let Some(extra) = std::env::var_os("THREATLENS_SESSION_CORPUS") {
        python_files(Path::new(&extra), &mut files);
    }
    let catalogue = Catalogue::builtin();
    let context = FileContext::default();
    let seed = std::env::var("THREATLENS_SESSION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7e57_ab1e);
    let mut random = Random(seed);
    let (mut edits, mut partial, mut comments, mut docstrings, mut back) = (0, 0, 0, 0, 0);
    let (mut imports, mut renamed, mut blank, mut constants) = (0, 0, 0, 0);
    let (mut readers, mut bare) = (0, 0);
    for (index, path) in files.iter().enumerate() {
        let Ok(mut text) = std::fs::read_to_string(path) else {
            continue;
        };
        let mut session = Session::new();
        let mut tree = lang::parse(Language::Python, &text, None).expect("parse");
        analyse_python_in_session(&mut session, catalogue, &text, &tree, &context);
        let mut undone = None;
        for step in 0..12 {
            let before = std::mem::take(&mut text);
            // Sometimes the last edit is undone (a typo deleted): back to an earlier text.
            text = match undone.take() {
                Some(earlier) if random.below(8) == 0 => earlier,
                _ => edit(&before, &mut random),
            };
            undone = Some(before.clone());
            tree = lang::parse(Language::Python, &text, None).expect("parse");
            let incremental =
                analyse_python_in_session(&mut session, catalogue, &text, &tree, &context);
            let whole = analyse_tree_in(catalogue, Language::Python, &text, &tree, &context);
            if index < bundled {
                edits += 1;
                partial += usize::from(session.last_reuse() == Some(Reuse::AllButOneFunction));
                readers += usize::from(session.last_reuse() == Some(Reuse::FunctionAndItsReaders));
                comments += usize::from(matches!(
                    session.last_reuse(),
                    Some(Reuse::Comment | Reuse::Docstring)
                ));
                docstrings += usize::from(session.last_reuse() == Some(Reuse::Docstring));
                back += usize::from(session.last_reuse() == Some(Reuse::EarlierText));
                imports += usize::from(session.last_reuse() == Some(Reuse::Import));
                renamed += usize::from(session.last_reuse() == Some(Reuse::Renamed));
                blank += usize::from(session.last_reuse() == Some(Reuse::BlankLines));
                bare += usize::from(session.last_reuse() == Some(Reuse::BareNames));
                constants += usize::from(session.last_reuse() == Some(Reuse::Constant));
            }
            if incremental != whole {
                // The summaries below leave out some fields (the fingerprint, the fix).
                if let Some((a, b)) = incremental.iter().zip(&whole).find(|(a, b)| a != b) {
                    eprintln!("the first finding that differs:\n{a:#?}\n{b:#?}");
                }
                let summary = |findings: &[threatlens_rules::Finding]| {
                    findings
                        .iter()
                        .map(|f| {
                            format!(
                                "{}:{}-{}:{} {} {:?} {}",
                                f.span.start.line,
                                f.span.start.column,
                                f.span.end.line,
                                f.span.end.column,
                                f.rule,
                                f.severity,
                                f.message
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n  ")
                };
                panic!(
                    "{} after edit {step} ({:?}): the session found\n  {}\nthe whole analysis\n  {}\n--- text ---\n{text}\n--- before the edit ---\n{before}",
                    path.display(),
                    session.last_reuse(),
                    summary(&incremental),
                    summary(&whole),
                );
            }
        }
    }
    // The point of a session: most edits inside functions re-walk only that function.
    eprintln!(
        "bundled corpora: {partial} of {edits} edits re-analysed one function, {readers} one function and its readers, {comments} only moved findings ({docstrings} in a docstring), {back} went back to the earlier text kept, {imports} edited an import, {renamed} renamed a function or a class attribute, {blank} only edited blank lines, {bare} only lines of bare names, {constants} edited a module constant"
    );
    assert!(docstrings > 0, "no edit was only in a docstring");
    assert!(bare > 0, "no edit only typed the start of a statement");
    assert!(
        imports > 0,
        "no edit of an import was taken without the whole file"
    );
    assert!(
        back > 0,
        "no undone edit went back to the earlier text kept"
    );
    // With room for other seeds (`THREATLENS_SESSION_SEED`): the default seed draws 3% of such
    // edits, seed 1259 1.8%.
    assert!(
        comments * 100 > edits,
        "{comments} of {edits} edits were only in a comment"
    );
    assert!(
        partial * 4 > edits,
        "{partial} of {edits} edits re-analysed one function"
    );
}

/// A class whose two methods load and save pickles.
const STORE: &str = "\
import pickle

class Store:
    def load(self, path):
        data = open(path, 'rb').read()
        return pickle.loads(data)

    def save(self, path, value):
        with open(path, 'wb') as f:
            f.write(pickle.dumps(value))
";

/// Each kind of edit the session cannot take on its own says why it analysed the whole file.
#[test]
fn a_session_says_why_it_analysed_the_whole_file() {
    let catalogue = Catalogue::builtin();
    let context = FileContext::default();
    let original = STORE;
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let tree = lang::parse(Language::Python, text, None).expect("parse");
        analyse_python_in_session(&mut session, catalogue, text, &tree, &context);
        outcome(&session)
    };
    assert_eq!(
        analyse(original),
        (Some(Reuse::Nothing), Some(Fallback::NoSettledAnalysis))
    );
    let in_a_body = original.replace("data = open", "blob = 1\n        data = open");
    assert_eq!(analyse(&in_a_body), (Some(Reuse::AllButOneFunction), None));
    let module_level = in_a_body.replace("import pickle", "import pickle\nLIMIT = 1");
    assert_eq!(
        analyse(&module_level),
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
    // Typing in a docstring only moves the findings, unless a provider token may be in it.
    let documented =
        module_level.replace("class Store:\n", "class Store:\n    \"\"\"Pickles.\"\"\"\n");
    analyse(&documented);
    let reworded = documented.replace("Pickles.", "Pickled values.");
    assert_eq!(analyse(&reworded), (Some(Reuse::Docstring), None));
    let leaked = reworded.replace(
        "Pickled values.",
        "Pickled values. hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
    );
    assert_eq!(
        analyse(&leaked),
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
    // Nor in an f-string, which evaluates code (an edit may remove an interpolation).
    let formatted = leaked.replace(
        "\"\"\"Pickled values. hf_abcdefghijklmnopqrstuvwxyzABCDEFGH\"\"\"",
        "f\"\"\"Pickled values.\"\"\"",
    );
    analyse(&formatted);
    let edited = formatted.replace("Pickled values.", "Pickled value.");
    assert_ne!(analyse(&edited).0, Some(Reuse::Docstring));
    // A keyword mistyped: tree-sitter's recovery reshapes the rest of the class.
    let broken = edited.replace("with open", "wixth open");
    assert_eq!(
        analyse(&broken),
        (Some(Reuse::Nothing), Some(Fallback::Reshaped))
    );
    // Deleting the typo gives back a text the session analysed before.
    assert_eq!(analyse(&edited), (Some(Reuse::EarlierText), None));
}

/// A typo that changes what a function passes on to module-level code (what it returns) costs
/// a whole analysis; deleting it gives back the text from before, whose analysis the failed
/// re-walk had started to change: the session kept a copy, and the next edit starts from it.
#[test]
fn an_undone_edit_that_changed_what_a_function_passes_on_is_back_at_the_earlier_text() {
    let original = "\
import yaml

def loader():
    return yaml.Loader

LOADER = loader()

def parse(text):
    return yaml.load(text, Loader=LOADER)
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let findings = next_version(&mut session, text);
        (
            findings.len(),
            session.last_reuse(),
            session.last_fallback(),
        )
    };
    let (unsafe_loader, _, _) = analyse(original);
    assert_eq!(unsafe_loader, 1, "yaml.load with yaml.Loader");
    let typo = original.replace("yaml.Loader", "yaml.Loxader");
    let (_, reuse, why) = analyse(&typo);
    assert_eq!(
        (reuse, why),
        (Some(Reuse::Nothing), Some(Fallback::PassesOnSomethingElse))
    );
    assert_eq!(analyse(original), (1, Some(Reuse::EarlierText), None));
    // The copy is whole: an edit in the other method is taken alone from it.
    let edited = original.replace(
        "    return yaml.load",
        "    text = text.strip()\n    return yaml.load",
    );
    assert_eq!(analyse(&edited), (1, Some(Reuse::AllButOneFunction), None));
}

/// A statement typed one character at a time into a method passes through texts that
/// tree-sitter's recovery reads as a broken class, each analysed whole. Once the text parses
/// cleanly again it is one function's edit away from the last clean text before the typing,
/// and the session starts from there.
#[test]
fn a_statement_typed_through_broken_texts_is_taken_from_the_last_clean_one() {
    let original = STORE;
    // Typed at the end of the `def` line, with Enter and the editor's indentation one keystroke.
    let at = original.find("path):").expect("the method's signature") + "path):".len();
    let statement = "\n        if not path:\n            raise ValueError(path)";
    let indenting = |end: usize| statement[..end].trim_end_matches(' ').ends_with('\n');
    let keystrokes =
        (1..=statement.len()).filter(|&end| !(statement[end..].starts_with(' ') && indenting(end)));
    let mut session = Session::new();
    next_version(&mut session, original);
    let mut steps = Vec::new();
    for typed in keystrokes {
        let text = typed_in(original, at, &statement[..typed]);
        next_version(&mut session, &text);
        let clean = !lang::parse(Language::Python, &text, None)
            .expect("parse")
            .root_node()
            .has_error();
        steps.push((session.last_reuse(), session.last_fallback(), clean));
    }
    // Some texts on the way were read as a broken class …
    let reshaped = steps
        .iter()
        .position(|&(_, why, _)| why == Some(Fallback::Reshaped))
        .expect("no keystroke reshaped the tree");
    // … and the first clean text after one re-walked only the method.
    let (reuse, _, _) = steps[reshaped..]
        .iter()
        .find(|&&(_, _, clean)| clean)
        .expect("the text never parsed cleanly again");
    assert_eq!(*reuse, Some(Reuse::AllButOneFunction), "{steps:?}");
}

/// `original` with `typed` inserted at `at`.
fn typed_in(original: &str, at: usize, typed: &str) -> String {
    format!("{}{typed}{}", &original[..at], &original[at..])
}

/// Analyses `text`, the document's next version, in `session`; the findings must be those of a
/// whole analysis.
fn next_version(session: &mut Session, text: &str) -> Vec<threatlens_rules::Finding> {
    let (catalogue, context) = (Catalogue::builtin(), FileContext::default());
    let tree = lang::parse(Language::Python, text, None).expect("parse");
    let incremental = analyse_python_in_session(session, catalogue, text, &tree, &context);
    let whole = analyse_tree_in(catalogue, Language::Python, text, &tree, &context);
    assert_eq!(incremental, whole, "{text}");
    whole
}

/// What the session's last analysis reused, and why it analysed the whole file if it did.
fn outcome(session: &Session) -> (Option<Reuse>, Option<Fallback>) {
    (session.last_reuse(), session.last_fallback())
}

/// How many of `findings` are of `rule`.
fn count(rule: &str, findings: &[threatlens_rules::Finding]) -> usize {
    findings.iter().filter(|f| f.rule == rule).count()
}

/// The severities of the `eval`/`exec` findings (TL401), in order.
fn eval_severities(findings: &[threatlens_rules::Finding]) -> Vec<Severity> {
    findings
        .iter()
        .filter(|f| f.rule == "TL401")
        .map(|f| f.severity)
        .collect()
}

/// An old output can sustain itself: a method that reads an attribute it sets from that
/// attribute, or two functions that return each other's result, keep the taint of a source
/// that an edit removed if the re-walked function reads its own output from before the edit.
/// A whole analysis starts from nothing and finds no taint; so must the session.
#[test]
fn a_session_does_not_keep_what_only_the_old_output_sustains() {
    let self_attribute = "\
class Cache:
    def value(self):
        self.x = self.x or input()
        eval(self.x)
";
    let recursion = "\
def f(x):
    if x:
        return input()
    return g(x)


def g(x):
    return f(x)


eval(f(1))
";
    for (original, instead) in [(self_attribute, "'constant'"), (recursion, "x")] {
        let edited = original.replace("input()", instead);
        let mut session = Session::new();
        let mut analyse = |text: &str| {
            let findings = next_version(&mut session, text);
            let severities: Vec<_> = findings
                .iter()
                .map(|f| (f.rule.clone(), f.severity))
                .collect();
            (severities, session.last_reuse(), session.last_fallback())
        };
        let (before, _, _) = analyse(original);
        assert_eq!(
            before,
            [("TL401".to_string(), Severity::High)],
            "{original}"
        );
        let (after, _, why) = analyse(&edited);
        assert_eq!(after, [("TL401".to_string(), Severity::Medium)], "{edited}");
        assert_eq!(why, Some(Fallback::ReadsBackItsOwnOutput), "{edited}");
        // An edit that leaves the source in place is still taken alone.
        analyse(original);
        let renamed = original.replace("input()", "input('> ')");
        let (_, reuse, _) = analyse(&renamed);
        assert_eq!(reuse, Some(Reuse::AllButOneFunction), "{renamed}");
    }
}

/// tree-sitter's recovery from a syntax error can depend on text far from it: here a second
/// error, typed into `feature_groups`, makes it read the broken `returan` line in
/// `report_config` differently, and a finding appears there. The session must see that the
/// rest of the tree changed.
#[test]
fn an_edit_that_changes_how_an_error_elsewhere_is_read_analyses_the_whole_file() {
    let original = "\
import ruamel.yaml
import yaml


def report_config():
    return q
    with open('r.yaml') as fh:
        q = input()
        returan ruamel.yaml.load(fh, Loader=ruamel.yaml.Loader)


def feature_groups():
    with open('g.yaml') as fh:
        return yaml.load(fh, yaml.CSafeLoader)

def dump_params(p: dict[st, Any]) -> None:
    pass
";
    let edited = original.replace("    with open('g.yaml')", "    :with open('g.yaml')");
    let mut session = Session::new();
    let rules: Vec<Vec<String>> = [original, edited.as_str()]
        .iter()
        .map(|text| {
            next_version(&mut session, text)
                .into_iter()
                .map(|f| f.rule)
                .collect()
        })
        .collect();
    assert_eq!(rules, [vec![], vec!["TL207".to_string()]]);
    assert_eq!(session.last_fallback(), Some(Fallback::Reshaped));
}

/// A finding's fingerprint hashes the code it covers, comments included: an edit inside a
/// comment within a multi-line call moves the finding and must give it the new text's
/// fingerprint, as a whole analysis does.
#[test]
fn a_finding_moved_by_an_edit_in_a_comment_inside_it_gets_a_new_fingerprint() {
    let original = "\
import yaml

config = yaml.load(  # parse the settings
    text,
)
";
    let edited = original.replace("parse the settings", "parse the settings file");
    let mut session = Session::new();
    let fingerprints: Vec<u64> = [original, edited.as_str()]
        .iter()
        .flat_map(|text| next_version(&mut session, text))
        .map(|f| f.fingerprint)
        .collect();
    assert_eq!(session.last_reuse(), Some(Reuse::Comment));
    assert_eq!(fingerprints.len(), 2, "one finding in each version");
    assert_ne!(fingerprints[0], fingerprints[1]);
}

/// An agent's plan-and-execute loop passes what the model answered back as the next prompt:
/// the taint `_ask`'s `prompt` parameter holds comes from `_ask`'s own LLM call. When an edit
/// removes that call, only `_ask`'s old output keeps the parameter tainted; a whole analysis,
/// starting from nothing, finds no taint, and neither must the session. The texts are those of
/// seed 564 of the differential test (before it drew another kind of edit), which had pasted a
/// token into the import of `anthropic` and into the client's constructor first.
#[test]
fn a_parameter_tainted_by_the_function_s_own_output_is_not_kept() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let original =
        std::fs::read_to_string(root.join("tests/corpus/labelled/agentsmith/planner.py"))
            .expect("the bundled agent");
    let token = "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH";
    let original = original
        .replacen("import anthropic", &format!("import {token} anthropic"), 1)
        .replacen("Anthropic(", &format!("Ant {token}hropic("), 1);
    let mut session = Session::new();
    let found = next_version(&mut session, &original);
    let llm_eval = |findings: &[threatlens_rules::Finding]| {
        findings
            .iter()
            .any(|f| f.rule == "TL401" && f.message.contains("LLM completion"))
    };
    assert!(llm_eval(&found), "{found:?}");
    // A token pasted into the call's name: the call is broken, the model no longer called.
    let edited = original.replacen("messages.create(", &format!("messages.crea {token}te("), 1);
    assert!(!llm_eval(&next_version(&mut session, &edited)));
}

/// `__init__` sets an attribute, calls a method that reads it (walked ahead, in the middle of
/// `__init__`), then sets it again: the second write makes that read out of date, and the
/// method is marked stale (its findings are the walk's order). It still read the attribute, so
/// when an edit changes the first write, the session must not take the method for one that
/// does not read it (seed 150 on langchain-community of the differential test found a reader
/// dropped this way; a read that walked `__init__` ahead is no longer made stale by it).
#[test]
fn a_stale_reader_of_a_changed_attribute_is_not_forgotten() {
    let original = "\
import httpx


class Client:
    def __init__(self, host):
        self._h2c = httpx.Client()
        self._default_node = \"http://\" + host
        self.ping()
        self._default_node = \"https://\" + host

    def ping(self):
        url = self._default_node + \"/ping\"
        return self._h2c.get(url)
";
    let mut session = Session::new();
    assert_eq!(count("TL508", &next_version(&mut session, original)), 1);
    let edited = original.replace("\"http://\"", "\"htp://\"");
    assert_eq!(count("TL508", &next_version(&mut session, &edited)), 0);
    assert_eq!(session.last_fallback(), Some(Fallback::StaleFunction));
}

/// A method that reads an attribute nothing has set yet walks the methods that set it first
/// (here `__init__`, from another class's call): their writes are what the read sees, so they
/// do not make it out of date, and an edit to the attribute walks the method again with the
/// other readers (it used to be marked stale, and the whole file analysed).
#[test]
fn a_read_that_walks_its_setter_ahead_is_not_out_of_date() {
    let original = "\
import httpx


class Store:
    def __init__(self):
        self.client = Client()

    def create(self):
        return self.client.schema_post(\"x\")


class Client:
    def __init__(self, schema: str = \"http\"):
        self._schema = schema
        self._default_node = self._schema + \"://host\"
        self._h2c = httpx.Client()

    def schema_post(self, name):
        api_url = self._default_node + \"/\" + name
        return self._h2c.post(api_url)

    def post(self, key):
        return self._h2c.post(self._default_node + \"/\" + key)
";
    let mut session = Session::new();
    assert_eq!(count("TL508", &next_version(&mut session, original)), 2);
    let edited = original.replace("self._schema + ", "self.scheme + ");
    assert_eq!(count("TL508", &next_version(&mut session, &edited)), 0);
    assert_eq!(session.last_reuse(), Some(Reuse::FunctionAndItsReaders));
}

/// A message quotes the code a finding starts with (here the target of an assignment that
/// tree-sitter's recovery carried over a line): a comment inside that code is quoted too, so an
/// edit in it changes the message (seed 598 of the differential test).
#[test]
fn a_comment_quoted_in_a_message_is_not_only_moved() {
    let original = "\
import ssl


def insecure():
    ctx = ssl.#create_default_context()
    ctx.check_hostname = False
    return ctx
";
    let mut session = Session::new();
    let found = next_version(&mut session, original);
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("#create_default_context")),
        "{found:?}"
    );
    next_version(&mut session, &original.replace("#create", "##create"));
    assert_ne!(session.last_reuse(), Some(Reuse::Comment));
}

/// What a function returns matters only where other code read it. A function defined inside
/// the edited one can be read from outside through its parent's return (`outer()()`, no
/// arguments, so nothing was passed into it): when what it returns changes, the reader must
/// be walked again. When what a function returns changes and nothing outside it read that,
/// it is still walked alone; when a function read it, that function is walked again too, and
/// when module-level code read it, the whole file is analysed.
#[test]
fn what_a_function_returns_is_compared_where_code_outside_read_it() {
    let handed_out = "\
import pickle


def outer():
    def inner():
        return input()
    return inner


def user():
    data = outer()()
    pickle.loads(data)
";
    // The same through a method of a class defined inside the function.
    let method = "\
import pickle


def outer():
    class Local:
        def get(self):
            return input()
    return Local()


def user():
    pickle.loads(outer().get())
";
    let severities = |findings: &[threatlens_rules::Finding]| -> Vec<_> {
        findings
            .iter()
            .map(|f| (f.rule.clone(), f.severity))
            .collect()
    };
    for original in [handed_out, method] {
        let mut session = Session::new();
        let before = next_version(&mut session, original);
        assert_eq!(severities(&before), [("TL101".to_string(), Severity::High)]);
        let edited = original.replace("return input()", "return 'x'");
        let after = next_version(&mut session, &edited);
        assert_eq!(
            severities(&after),
            [("TL101".to_string(), Severity::Medium)]
        );
        assert_eq!(
            session.last_reuse(),
            Some(Reuse::FunctionAndItsReaders),
            "{edited}"
        );
    }

    // Nothing outside reads what `handler` returns (an entry point the framework calls).
    let unread = "\
import pickle


def handler(path):
    data = open(path, 'rb').read()
    return pickle.loads(data)
";
    let mut session = Session::new();
    next_version(&mut session, unread);
    let edited = unread.replace("return pickle.loads(data)", "return data");
    assert!(next_version(&mut session, &edited).is_empty());
    assert_eq!(session.last_reuse(), Some(Reuse::AllButOneFunction));
    // Once a caller reads it, a change to what it returns walks the caller again.
    let called = format!("{edited}\n\ndef caller(path):\n    eval(handler(path))\n");
    assert_eq!(
        eval_severities(&next_version(&mut session, &called)),
        [Severity::Medium]
    );
    let tainted = called.replace("return data", "return input()");
    assert_eq!(
        eval_severities(&next_version(&mut session, &tainted)),
        [Severity::High]
    );
    assert_eq!(session.last_reuse(), Some(Reuse::FunctionAndItsReaders));
    // Module-level code reading it is not walked on its own: the whole file is analysed.
    let at_module_level = format!("{called}\neval(handler('x'))\n");
    next_version(&mut session, &at_module_level);
    next_version(
        &mut session,
        &at_module_level.replace("return data", "return input()"),
    );
    assert_eq!(
        session.last_fallback(),
        Some(Fallback::PassesOnSomethingElse)
    );
}

/// A module that tree-sitter reads as one `ERROR` holds the function an edit is in, and the
/// error only grows with the edit; but inside it, the edit changes how the rest is read, and
/// with it the findings of `_run` (found by the differential test, seed 53). The function
/// must hold its errors or be clear of them.
#[test]
fn an_edit_inside_an_error_around_the_function_analyses_the_whole_file() {
    let original = "\
def time_limit(seconds: float):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
def _run(program: str, result: list) -> None:
    ty:
            exec(program, globs)
    except BaseException as e:  ### noqa: BLE001
        q = 'c'
";
    let edited = original.replace(
        "    try:\n",
        "    try:\n    self.loaded = pickle.loads(q)\n",
    );
    let mut session = Session::new();
    let rules = |findings: Vec<threatlens_rules::Finding>| -> Vec<String> {
        findings.into_iter().map(|f| f.rule).collect()
    };
    assert!(rules(next_version(&mut session, original)).is_empty());
    // `exec` in `_run`, not read as a call before the edit.
    assert_eq!(rules(next_version(&mut session, &edited)), ["TL401"]);
    assert_eq!(session.last_fallback(), Some(Fallback::Reshaped));
    // Nor is an edit in a comment inside the error taken as only moving the findings: a
    // longer or shorter skipped text can change how the rest of the error is read.
    next_version(&mut session, &edited.replace("### noqa", "#### noqa"));
    assert_eq!(session.last_reuse(), Some(Reuse::Nothing));
}

/// Values a function hands to code outside it in other ways than its return: class attributes
/// set through the class or an instance, containers and the environment, a default value, a
/// generator, a decorator, an alias, a module-level result, a lambda, a closure and a
/// `partial`. After the source is taken away, the session must find what a whole analysis
/// finds (`next_version` compares them).
#[test]
fn edits_to_what_a_function_hands_out_in_other_ways() {
    let cases = [
        "class Config:\n    key = None\n\n\ndef setup():\n    Config.key = input()\n\n\ndef run():\n    eval(Config.key)\n",
        "class Config:\n    key = None\n\n    @classmethod\n    def setup(cls):\n        cls.key = input()\n\n    def run(self):\n        eval(self.key)\n",
        "CACHE = {}\n\n\ndef setup():\n    CACHE['k'] = input()\n\n\ndef run():\n    eval(CACHE['k'])\n",
        "ITEMS = []\n\n\ndef setup():\n    ITEMS.append(input())\n\n\ndef run():\n    eval(ITEMS[0])\n",
        "import os\n\n\ndef setup():\n    os.environ['X'] = input()\n\n\ndef run():\n    eval(os.environ['X'])\n",
        "class A:\n    def __init__(self):\n        self.x = input()\n\n\ndef run(a: A):\n    eval(a.x)\n\n\ndef make():\n    return A()\n\n\ndef go():\n    eval(make().x)\n",
        "def outer():\n    def inner(v=input()):\n        return v\n    return inner\n\n\ndef user():\n    eval(outer()())\n",
        "def gen():\n    yield input()\n\n\ndef user():\n    for v in gen():\n        eval(v)\n",
        "def deco(f):\n    return input()\n\n\n@deco\ndef g():\n    pass\n\n\ndef user():\n    eval(g)\n",
        "def f():\n    return input()\n\n\nh = f\n\n\ndef user():\n    eval(h())\n",
        "def f():\n    return input()\n\n\nRESULT = f()\n\n\ndef user():\n    eval(RESULT)\n",
        "def outer():\n    return lambda: input()\n\n\ndef user():\n    eval(outer()())\n",
        "def outer():\n    x = input()\n\n    def inner():\n        return x\n\n    return inner\n\n\ndef user():\n    eval(outer()())\n",
        "import functools\n\n\ndef outer():\n    return functools.partial(eval, input())\n\n\ndef user():\n    outer()()\n",
        "def stream():\n    yield input()\n\n\ndef user():\n    exec(''.join(stream()))\n",
    ];
    for original in cases {
        let edited = original.replacen("input()", "'c'", 1);
        let mut session = Session::new();
        next_version(&mut session, original);
        next_version(&mut session, &edited);
        next_version(&mut session, original);
    }
}

/// A call that passes another unresolved name to a local function changes nothing the callee
/// can learn (only imports and instances reach its summary): the caller is re-walked alone.
/// Passing a resolved one instead changes what the callee knows.
#[test]
fn passing_another_unresolved_name_is_taken_alone() {
    let original = "\
import torch


def load(path, device):
    return torch.load(path, map_location=device)


def main():
    return load('model.pt', target)
";
    let mut session = Session::new();
    next_version(&mut session, original);
    next_version(&mut session, &original.replace("target)", "targetx)"));
    assert_eq!(session.last_reuse(), Some(Reuse::AllButOneFunction));
    next_version(&mut session, &original.replace("target)", "torch)"));
    assert_eq!(
        session.last_fallback(),
        Some(Fallback::PassesOnSomethingElse)
    );
}

/// A call that passes a local function's parameter request data, then an unresolved name,
/// changes the taint the parameter holds: the function is walked again after the caller, with
/// the taint every call passes merged again (the one that starts first). What the walk merges
/// in its own order (whether every call passes something safe, the name one passes) must stay
/// as it was, unless no call passes the parameter anything safe or named.
#[test]
fn a_changed_argument_taint_re_walks_the_function_it_is_passed_to() {
    let original = "\
import subprocess
from flask import request


def run(command):
    return subprocess.run(command, shell=True)


def handler():
    command = \"ls \" + request.args[\"dir\"]
    run(command)
";
    let shell_severities = |findings: &[threatlens_rules::Finding]| {
        findings
            .iter()
            .filter(|f| f.span.start_byte < original.find("def handler").unwrap_or(0))
            .map(|f| (f.rule.clone(), f.severity))
            .collect::<Vec<_>>()
    };
    let mut session = Session::new();
    let tainted = shell_severities(&next_version(&mut session, original));
    // Typing into the argument: an unresolved name carries no taint, and `run`'s finding says
    // so (it is walked again, not the whole file).
    let unresolved = original.replace("    run(command)", "    run(comman)");
    let untainted = shell_severities(&next_version(&mut session, &unresolved));
    assert_eq!(
        outcome(&session),
        (Some(Reuse::FunctionAndItsReaders), None)
    );
    assert_ne!(
        tainted, untainted,
        "the parameter's taint reaches the finding"
    );
    next_version(&mut session, original);
    assert_eq!(
        outcome(&session),
        (Some(Reuse::FunctionAndItsReaders), None)
    );

    // Another caller passing a constant: the edited call still passes something neither safe
    // nor named, so what the walk merged in its order is the same.
    let two_callers = format!("{original}\n\ndef main():\n    run(\"ls\")\n");
    let mut session = Session::new();
    next_version(&mut session, &two_callers);
    next_version(
        &mut session,
        &two_callers.replace("    run(command)", "    run(comman)"),
    );
    assert_eq!(
        outcome(&session),
        (Some(Reuse::FunctionAndItsReaders), None)
    );
    // One call fewer while another passes something safe: whether every call passes
    // something safe is merged in the walk's order.
    next_version(&mut session, &two_callers);
    next_version(
        &mut session,
        &two_callers.replace("    run(command)", "    print(command)"),
    );
    assert_eq!(
        outcome(&session),
        (Some(Reuse::Nothing), Some(Fallback::PassesOnSomethingElse))
    );
    // Without the other caller, one call fewer only takes the taint away.
    let mut session = Session::new();
    next_version(&mut session, original);
    next_version(
        &mut session,
        &original.replace("    run(command)", "    print(command)"),
    );
    assert_eq!(
        outcome(&session),
        (Some(Reuse::FunctionAndItsReaders), None)
    );
    // Passing a constant instead passes something safe: the whole file.
    next_version(&mut session, original);
    next_version(
        &mut session,
        &original.replace("    run(command)", "    run(\"ls\")"),
    );
    assert_eq!(
        outcome(&session),
        (Some(Reuse::Nothing), Some(Fallback::PassesOnSomethingElse))
    );
}

/// Typing `self.cache = data` into a method changes, with every letter of the value, what the
/// method sets. When no code reads an attribute of that name and nothing else sets one, those
/// keystrokes re-walk the method alone; when another method reads it, that method is walked
/// again too; when it then passes on something else (here, what it returns, read at module
/// level), the whole file is analysed.
#[test]
fn typing_an_attribute_that_nothing_else_reads_re_walks_one_function() {
    // The reuse after each letter of the value but the first, typed on a new line (Enter with
    // the editor's indentation first) before the method's return.
    let typing_the_value = |original: &str| {
        let at = original
            .find("        return pickle.loads")
            .expect("the load method's return");
        let original = format!("{}        \n{}", &original[..at], &original[at..]);
        let at = at + "        ".len();
        let statement = "self.cache = data";
        let mut session = Session::new();
        next_version(&mut session, &original);
        let mut steps = Vec::new();
        for typed in 1..=statement.len() {
            let text = typed_in(&original, at, &statement[..typed]);
            next_version(&mut session, &text);
            if typed >= "self.cache = d".len() {
                steps.push(outcome(&session));
            }
        }
        steps
    };
    assert_eq!(
        typing_the_value(STORE),
        [(Some(Reuse::AllButOneFunction), None); 4]
    );
    let read_elsewhere = STORE.replace("pickle.dumps(value)", "pickle.dumps(self.cache)");
    assert_eq!(
        typing_the_value(&read_elsewhere),
        [(Some(Reuse::FunctionAndItsReaders), None); 4]
    );
    let passed_on = format!(
        "{}\n    def cached(self):\n        return self.cache\n\nprint(Store().cached())\n",
        STORE.trim_end()
    );
    // `data` (the file's bytes) is the first value `cached` returns something about.
    assert_eq!(
        typing_the_value(&passed_on).last(),
        Some(&(Some(Reuse::Nothing), Some(Fallback::PassesOnSomethingElse)))
    );
}

/// The method's own reads are those of its new walk: an attribute it read before the edit (the
/// half-typed `self.cache` on its own) may be written after it, if nothing else reads it.
#[test]
fn an_attribute_the_method_read_before_the_edit_may_be_written_after_it() {
    let reading = STORE.replace(
        "        return pickle.loads",
        "        self.cache\n        return pickle.loads",
    );
    let writing = reading.replace("self.cache\n", "self.cache = data\n");
    let mut session = Session::new();
    next_version(&mut session, &reading);
    next_version(&mut session, &writing);
    assert_eq!(outcome(&session), (Some(Reuse::AllButOneFunction), None));
}

/// When what a function returns changes, the functions that read it are walked again; but
/// one that passes that output back to the function's own parameters (`ask(ask(topic))`)
/// passed its old output, which a whole analysis, starting from nothing, would not find once
/// the edit removed its source (found by the differential test, seed 785).
#[test]
fn readers_that_feed_a_function_its_own_output_are_not_walked_alone() {
    let original = "\
import anthropic

client = anthropic.Anthropic()


def ask(prompt):
    return client.messages.create(model='m', messages=prompt).content[0].text


def refine(topic):
    draft = ask(topic)
    eval(ask(draft))
";
    let mut session = Session::new();
    assert_eq!(
        eval_severities(&next_version(&mut session, original)),
        [Severity::High]
    );
    let no_source = original.replace("messages.create", "messages.crxeate");
    assert_eq!(
        eval_severities(&next_version(&mut session, &no_source)),
        [Severity::Medium]
    );
    assert_eq!(
        session.last_fallback(),
        Some(Fallback::ReadsBackItsOwnOutput)
    );
    // Without the loop, the reader is walked again with the function.
    let mut session = Session::new();
    let once = original.replace("eval(ask(draft))", "eval(draft)");
    assert_eq!(
        eval_severities(&next_version(&mut session, &once)),
        [Severity::High]
    );
    let no_source = once.replace("messages.create", "messages.crxeate");
    assert_eq!(
        eval_severities(&next_version(&mut session, &no_source)),
        [Severity::Medium]
    );
    assert_eq!(
        outcome(&session),
        (Some(Reuse::FunctionAndItsReaders), None)
    );
}

/// Typing in a parameter's annotation changes what the body's walk makes of the parameter
/// (here, what `unpickler.load` is), and nothing callers see: the function is walked again
/// alone. So does renaming a parameter that no call passes by keyword; one that a call could
/// pass by keyword changes what callers bind, and the whole file is analysed.
#[test]
fn typing_in_a_parameter_annotation_re_walks_one_function() {
    let original = "\
import pickle


class Store:
    def load(self, unpickler: pickle.Unpickler, path: str = 'data.pkl') -> bytes:
        return unpickler.load()
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let findings = next_version(&mut session, text);
        (
            findings.len(),
            session.last_reuse(),
            session.last_fallback(),
        )
    };
    assert_eq!(analyse(original).0, 1, "pickle.Unpickler().load");
    let one_function = Some(Reuse::AllButOneFunction);
    let deleted = original.replace("Unpickler,", "Unpickle,");
    assert_eq!(analyse(&deleted), (0, one_function, None));
    assert_eq!(analyse(original), (1, one_function, None));
    let returns = original.replace("-> bytes", "-> bytesx");
    assert_eq!(analyse(&returns), (1, one_function, None));
    // The body's `unpickler` is no longer the parameter.
    let renamed = returns.replace("self, unpickler", "self, unpicklerx");
    assert_eq!(analyse(&renamed), (0, one_function, None));
    assert_eq!(analyse(&returns), (1, one_function, None));
    // A default given (not name characters): the callers' view changes.
    let defaulted = renamed.replace(
        "unpicklerx: pickle.Unpickler,",
        "unpicklerx: pickle.Unpickler=1,",
    );
    assert_eq!(analyse(&defaulted).2, Some(Fallback::OutsideFunctionBodies));
    // A call that passes `path` by keyword binds to the parameter only while it has that name.
    let called =
        format!("{original}\n\ndef run(f):\n    Store().load(pickle.Unpickler(f), path=input())\n");
    analyse(&called);
    let renamed = called.replace(", path: str", ", pathx: str");
    assert_eq!(analyse(&renamed).2, Some(Fallback::OutsideFunctionBodies));
}

/// A call that is a statement of its own drops what the function returns: its caller read
/// nothing of it, so a change to the return walks the function alone.
#[test]
fn a_caller_that_drops_the_result_did_not_read_it() {
    let original = "\
def fetch():
    return input()


def warm_up():
    fetch()


def run():
    eval(fetch())
";
    let mut session = Session::new();
    next_version(&mut session, original);
    let edited = original.replace("return input()", "return 'x'");
    next_version(&mut session, &edited);
    assert_eq!(
        session.last_reuse(),
        Some(Reuse::FunctionAndItsReaders),
        "`run` reads it"
    );
    let dropped = original.replace("eval(fetch())", "fetch()");
    let mut session = Session::new();
    next_version(&mut session, &dropped);
    next_version(
        &mut session,
        &dropped.replace("return input()", "return 'x'"),
    );
    assert_eq!(session.last_reuse(), Some(Reuse::AllButOneFunction));
}

/// A value built from a parameter and a source in the body carries the taint that starts
/// first in the file, whichever part the walk knew to be tainted first: a whole analysis walks
/// `summarise` before `page` tells it what `transcript` is, while a re-walk after an edit
/// knows it from the start, and both must cite the same source (found by the differential
/// test, seed 2243).
#[test]
fn a_value_built_from_two_sources_cites_the_same_one_in_every_walk() {
    let original = "\
from flask import request


def summarise(transcript):
    notes = ' '.join([transcript, input()])
    return notes


def page():
    eval(summarise(request.args['q']))
";
    let mut session = Session::new();
    let cited = |findings: Vec<threatlens_rules::Finding>| -> Vec<String> {
        findings.into_iter().map(|f| f.message).collect()
    };
    let before = cited(next_version(&mut session, original));
    assert!(before[0].ends_with("user input (line 5)."), "{before:?}");
    let edited = original.replace("' '.join", "', '.join");
    assert_eq!(cited(next_version(&mut session, &edited)), before);
    assert_eq!(outcome(&session), (Some(Reuse::AllButOneFunction), None));
}

/// The parser reads a name typed straight after a digit (`1marshal`, a typo) as a number and
/// the name: a function that names it so reads what an import binds to it, and is walked again
/// when the import changes (seed 411 of the differential test found it was not).
#[test]
fn a_name_typed_after_a_digit_still_reads_the_import() {
    let original = "\
import marshal


def load(path):
    with open(path, \"rb\") as fh:
        code = 1marshal.loads(fh.read())
    return code
";
    let mut session = Session::new();
    let found = next_version(&mut session, original);
    assert!(found.iter().any(|f| f.rule == "TL105"), "{found:?}");
    let aliased = next_version(
        &mut session,
        &original.replace("import marshal", "import marshal as m"),
    );
    assert_eq!(session.last_reuse(), Some(Reuse::Import));
    assert!(!aliased.iter().any(|f| f.rule == "TL105"), "{aliased:?}");
}

/// Typing in an import at module level binds other names: the functions that name what it
/// bound before or binds now are walked again (and only they), unless code outside a function
/// body names one of them, or a fix would import differently.
#[test]
fn editing_an_import_re_walks_the_functions_that_name_what_it_binds() {
    let original = "\
import pickle
import yaml
from json import loads


def restore(path):
    # pickle, in a comment, is not a use
    return pickle.loads(open(path, 'rb').read())


def settings(text):
    return yaml.load(text)


def parsed(text):
    return loads(text)
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let findings = next_version(&mut session, text);
        let rules: Vec<String> = findings.iter().map(|f| f.rule.clone()).collect();
        (rules, outcome(&session))
    };
    let (both, _) = analyse(original);
    assert_eq!(both.len(), 2, "{both:?}");
    let import = (Some(Reuse::Import), None);
    // A typo in the module's name: `pickle` is no longer bound, and the body that names it is
    // walked again.
    let typo = original.replace("import pickle", "import pickl");
    let (rules, how) = analyse(&typo);
    assert_eq!((rules.len(), how), (1, import));
    assert_eq!(analyse(original), (both.clone(), import));
    // An alias binds another name; a name imported from a module that was not used.
    let aliased = original.replace("import yaml", "import yaml as yml");
    assert_eq!(analyse(&aliased).1, import);
    let from = aliased.replace("from json import loads", "from json import loads, dumps");
    assert_eq!(analyse(&from).1, import);
    // The name is used at module level: that code would have to be walked again.
    let used = format!("{original}\nLOADER = yaml.load\n");
    analyse(&used);
    let edited = used.replace("import yaml", "import yaml as yml");
    assert_eq!(
        analyse(&edited).1,
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
    // A default value is evaluated where the function is defined, not in its body.
    let default = original.replace("def parsed(text)", "def parsed(text, parse=loads)");
    analyse(&default);
    let renamed = default.replace("from json import loads", "from json import loadsx");
    assert_eq!(analyse(&renamed).1.1, Some(Fallback::OutsideFunctionBodies));
    // What a reader returns changes where module-level code reads it.
    let read = format!("{original}\nLOADED = restore('x')\n");
    analyse(&read);
    let typo = read.replace("import pickle", "import pickl");
    assert_eq!(
        analyse(&typo).1,
        (Some(Reuse::Nothing), Some(Fallback::PassesOnSomethingElse))
    );
    // What a reader returns changes where another function reads it: that one is walked
    // again too.
    let flask = "\
from flask import request


def query():
    return request.args.get('q')


def run():
    eval(query())
";
    let mut session = Session::new();
    let findings = next_version(&mut session, flask);
    assert_eq!(
        eval_severities(&findings),
        vec![Severity::High],
        "request data"
    );
    let findings = next_version(
        &mut session,
        &flask.replace("import request", "import requestx"),
    );
    assert_eq!(
        (eval_severities(&findings), outcome(&session)),
        (vec![Severity::Medium], import),
        "an unknown value"
    );
    // A fix that reads a secret from the environment imports `os` unless the file does.
    let secret = format!(
        "{original}\n\ndef connect():\n    return Client(api_key='sk-live-0123456789abcdef0123')\n"
    );
    analyse(&secret);
    let with_os = secret.replace("import yaml\n", "import yaml\nimport o\n");
    analyse(&with_os);
    let os = with_os.replace("import o\n", "import os\n");
    assert_eq!(
        analyse(&os).1,
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
}

/// Typing the name after `import` turns a line of names and keywords (a syntax error, which
/// binds nothing) into an import, and deleting it turns it back: the functions naming what it
/// binds are walked again, even where the new import line of a fix moves, unless a finding kept
/// has such a fix.
#[test]
fn an_import_typed_or_deleted_re_walks_the_functions_naming_what_it_binds() {
    let original = "\
import json


class Store:
    path = 'store.pkl'

    def restore(self):
        return loads(open(self.path, 'rb').read())
";
    let at = "import json\n".len();
    let with = |typed: &str| format!("{}{typed}\n{}", &original[..at], &original[at..]);
    let mut session = Session::new();
    next_version(&mut session, &with("from pickle import"));
    let (import, earlier) = (Some(Reuse::Import), Some(Reuse::EarlierText));
    // The name typed, then deleted again, a character at a time.
    for typed in [" ", " l", " lo", " loa", " loads", " loa", " lo", " l", " "] {
        let found = next_version(&mut session, &with(&format!("from pickle import{typed}")));
        let reuse = session.last_reuse();
        assert!(
            reuse == import || (reuse == earlier && typed.len() > 1) || typed == " ",
            "{typed:?}: {reuse:?}"
        );
        assert_eq!(
            count("TL101", &found),
            usize::from(typed == " loads"),
            "{found:?}"
        );
        if typed == " l" {
            assert_eq!(reuse, import, "a line of names became an import");
        }
    }
    assert_eq!(
        session.last_reuse(),
        import,
        "an import became a line of names"
    );

    // Typed above another import, the unfinished line is read with it as one import (`from p`
    // and `import json` are `from p import json`), which binds `json` to something else.
    let statement = "from pickle import loads";
    let above = |typed: &str| format!("{typed}\n{original}");
    let mut session = Session::new();
    next_version(&mut session, &above(""));
    let typed = (1..=statement.len()).chain((0..statement.len()).rev());
    let whole: Vec<&str> = typed
        .filter_map(|end| {
            next_version(&mut session, &above(&statement[..end]));
            (session.last_reuse() == Some(Reuse::Nothing)).then_some(&statement[..end])
        })
        .collect();
    assert!(whole.is_empty(), "analysed the whole file: {whole:?}");

    // A kept finding has a fix adding an import line where the typed import now goes.
    let secret = format!("{original}\n\nTOKEN = \"hf_abcdefghijklmnopqrstuvwxyzABCDEFGH\"\n");
    let with = |typed: &str| format!("{}{typed}\n{}", &secret[..at], &secret[at..]);
    let mut session = Session::new();
    let found = next_version(&mut session, &with("from pickle import "));
    assert!(
        found.iter().any(|f| f
            .fix
            .iter()
            .flat_map(|fix| &fix.edits)
            .any(|e| e.new_text == "import os\n")),
        "{found:?}"
    );
    next_version(&mut session, &with("from pickle import l"));
    assert_eq!(
        outcome(&session),
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
}

/// Seed 282: a line typed at the first column inside a function, `from pickle import `, was read
/// with the indented line after it as one import (`from pickle import pickle.dump`). Typing a
/// name after `import` ends the import there and makes the next line a call again: the line,
/// read on its own, was no statement of its own in the old tree.
#[test]
fn a_line_that_read_on_into_the_next_is_not_taken_for_a_statement_of_its_own() {
    let before = "\
import pickle


def save(items, path):
    with open(path, \"wb\") as fh:
from pickle import 
        pickle.dump(items, fh)
    torch.save(items, path)
";
    let mut session = Session::new();
    next_version(&mut session, before);
    let after = before.replace("import \n", "import os \n");
    next_version(&mut session, &after);
    assert_ne!(session.last_reuse(), Some(Reuse::Import));
}

/// A module's name in another import statement (`from yaml import CLoader`) neither reads nor
/// binds the name `yaml`: an import that rebinds `yaml` still re-walks only the functions naming
/// it. A plain `import yaml.constructor` binds `yaml` again, so there the whole file is analysed.
#[test]
fn a_module_named_in_another_import_is_not_a_use_of_the_name() {
    let original = "\
import yaml
from yaml import CLoader
from .yaml import helpers
import config.yaml
import yaml.constructor as constructor
from loaders import yaml as other_yaml


def settings(text):
    return yaml.load(text)
";
    let mut session = Session::new();
    let found = next_version(&mut session, original);
    assert_eq!(count("TL205", &found), 1, "{found:?}");
    let typo = next_version(
        &mut session,
        &original.replacen("import yaml\n", "import yamlx\n", 1),
    );
    assert_eq!(outcome(&session), (Some(Reuse::Import), None));
    assert_eq!(count("TL205", &typo), 0, "{typo:?}");
    let back = next_version(&mut session, original);
    assert_eq!(count("TL205", &back), 1, "{back:?}");
    // `import yaml.constructor` binds `yaml`: which binding a function reads depends on the
    // order of the two imports.
    let rebinding = original.replace(" as constructor", "");
    let mut session = Session::new();
    next_version(&mut session, &rebinding);
    next_version(
        &mut session,
        &rebinding.replacen("import yaml\n", "import yamlx\n", 1),
    );
    assert_eq!(
        outcome(&session),
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
}

/// Renaming a function (at module level or in a class body) changes what the code that names
/// it calls: those functions are walked again, and only they.
#[test]
fn renaming_a_function_re_walks_the_functions_that_name_it() {
    let original = "\
import pickle


class Store:
    def raw(self):
        return open(self.path, 'rb').read()

    def load(self):
        return pickle.loads(self.raw())

    def __init__(self, path):
        self.path = path


def restore(path):
    return Store(path).load()


def helper(text):
    return eval(text)


def run():
    helper(input())
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        next_version(&mut session, text);
        outcome(&session)
    };
    analyse(original);
    let renamed = (Some(Reuse::Renamed), None);
    let method = original.replace("def raw(", "def rawx(");
    assert_eq!(analyse(&method), renamed);
    assert_eq!(analyse(original), renamed);
    // A method whose result the function that names it returns (nothing reads that).
    let returned = original.replace("def load(", "def lo(");
    assert_eq!(analyse(&returned), renamed);
    analyse(original);
    // The caller no longer passes request data to it: what the function's parameter holds
    // changes, which is more than walking the caller again can tell (as for any function that
    // a call passes arguments to).
    let called = original.replace("def helper(", "def helpe(");
    assert_eq!(
        analyse(&called),
        (Some(Reuse::Nothing), Some(Fallback::PassesOnSomethingElse))
    );
    // Special methods are called without being named.
    let init = original.replace("def __init__(", "def __initx__(");
    assert_eq!(
        analyse(&init),
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
    // Code outside function bodies names it.
    let named = format!("{original}\nLOADER = Store.load\n");
    analyse(&named);
    let edited = named.replace("def load(", "def loads(");
    assert_eq!(
        analyse(&edited),
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
}

/// Enter pressed between two statements, or a blank line deleted, only moves the findings:
/// Python reads no token from a blank line. Inside a string, or after a backslash, a line
/// break is read.
#[test]
fn blank_lines_only_move_the_findings() {
    let original = "\
import pickle


def load(path):
    data = open(path, 'rb').read()
    return pickle.loads(data)


PROMPT = \"\"\"Answer briefly.
Use the context.\"\"\"
TOTAL = 1 + \\
    2
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let findings = next_version(&mut session, text);
        (findings.len(), outcome(&session))
    };
    let (found, _) = analyse(original);
    assert_eq!(found, 1);
    let moved = (1, (Some(Reuse::BlankLines), None));
    let between = original.replace("\n\ndef load", "\n\n\ndef load");
    assert_eq!(analyse(&between), moved);
    let indented = between.replace("read()\n", "read()\n        \n");
    assert_eq!(analyse(&indented), moved);
    let deleted = indented.replace("import pickle\n\n", "import pickle\n");
    assert_eq!(analyse(&deleted), moved);
    let in_a_string = deleted.replace("briefly.\n", "briefly.\n\n");
    assert_ne!(analyse(&in_a_string).1.0, Some(Reuse::BlankLines));
    let continued = in_a_string.replace("\\\n    2", "\\\n\n    2");
    assert_ne!(analyse(&continued).1.0, Some(Reuse::BlankLines));
}

/// Typing the start of a statement at module level leaves a line of names and keywords (`f`,
/// `fro`, `from`, `import `): the module's walk finds nothing in it and it binds nothing, so
/// each keystroke only moves the findings. Not where the line is read on from the line before
/// (a decorator), inside a class body, or once the line binds a name.
#[test]
fn typing_the_start_of_a_statement_only_moves_the_findings() {
    let original = "\
import pickle


def load(path):
    return pickle.loads(open(path, 'rb').read())


@app.route('/')
def index():
    return 'ok'


class Store:
    path = 'store.pkl'
";
    // The reuse after each keystroke typing `statement` on a new line before `before`.
    let typing = |original: &str, before: &str, statement: &str| {
        let at = original.find(before).expect("where to type");
        let original = typed_in(original, at, "\n");
        let mut session = Session::new();
        next_version(&mut session, &original);
        (1..=statement.len())
            .map(|typed| {
                let found =
                    next_version(&mut session, &typed_in(&original, at, &statement[..typed]));
                assert_eq!(found.len(), 1, "the pickle finding, moved");
                session.last_reuse()
            })
            .collect::<Vec<_>>()
    };
    let bare = Some(Reuse::BareNames);
    assert_eq!(typing(original, "import pickle", "from"), [bare; 4]);
    assert_eq!(typing(original, "import pickle", "import "), [bare; 7]);
    // Two names, and a keyword at the end of the file.
    assert_eq!(typing(original, "\nclass Store", "fro pick"), [bare; 8]);
    // A module's name after `from`, which the parser can keep as a dotted name in an error.
    let guarded = original.replace(
        "\n\ndef load",
        "\n\nif ready():\n    import os\n\n\ndef load",
    );
    assert_eq!(typing(&guarded, "\nif ready", "from hashlib "), [bare; 13]);
    let at_the_end = format!("{original}\nimport");
    let mut session = Session::new();
    next_version(&mut session, &at_the_end);
    next_version(&mut session, &format!("{at_the_end} "));
    assert_eq!(session.last_reuse(), bare);
    // Once the line imports a name, it binds it: the import path takes it, or the whole file.
    assert_ne!(
        typing(original, "import pickle", "import o").last(),
        Some(&bare)
    );
    // After a decorator, the line is read on from the one before.
    assert!(!typing(original, "def index", "f").contains(&bare));
    // Inside a class body.
    assert!(!typing(original, "    path =", "    f").contains(&bare));

    // In a file that imports nothing, a fix's new import line goes before the first statement:
    // a line typed there moves it.
    let secret = "TOKEN = \"hf_abcdefghijklmnopqrstuvwxyzABCDEFGH\"\n";
    let mut session = Session::new();
    let found = next_version(&mut session, secret);
    let fix = found.first().and_then(|f| f.fix.as_ref());
    assert!(
        fix.is_some_and(|fix| fix.edits.iter().any(|e| e.new_text == "import os\n")),
        "{found:?}"
    );
    next_version(&mut session, &format!("\n{secret}"));
    next_version(&mut session, &format!("f\n{secret}"));
    assert_ne!(session.last_reuse(), bare);
}

/// Renaming an attribute that a class body sets re-walks the functions that name it.
#[test]
fn renaming_a_class_attribute_re_walks_the_functions_that_name_it() {
    let original = "\
import subprocess


class Runner:
    shell = True
    timeout: int = 30
    token = 'abc'

    def run(self, command):
        return subprocess.run(command, shell=self.shell, timeout=self.timeout)

    def close(self):
        self.closed = True
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let findings = next_version(&mut session, text);
        (findings.len(), outcome(&session))
    };
    let (found, _) = analyse(original);
    assert_eq!(found, 1, "shell=True");
    let renamed = Some(Reuse::Renamed);
    // `self.shell` is no longer known to be `True`.
    let shell = original.replace("    shell = True", "    shellx = True");
    assert_eq!(analyse(&shell).1.0, renamed);
    assert_eq!(analyse(original).1.0, renamed);
    let annotated = original.replace("timeout: int = 30", "timeoutx: int = 30");
    assert_eq!(analyse(&annotated).1.0, renamed);
    analyse(original);
    // A string bound to a name may be a credential by that name.
    let secret = original.replace("token = 'abc'", "token = 'a1b2c3d4e5f6g7h8'");
    assert_eq!(analyse(&secret).0, 2, "a hard-coded token");
    let not_a_secret = secret.replace("token = 'a1", "tokens = 'a1");
    assert_eq!(
        analyse(&not_a_secret).1,
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
    analyse(original);
    let string = original.replace("token = 'abc'", "tokex = 'abc'");
    assert_eq!(
        analyse(&string).1,
        (renamed, None),
        "too short to be a secret"
    );
    analyse(original);
    // A method sets an attribute of the new name: the class's value merges its writes.
    let closed = original.replace("    shell = True", "    closed = True");
    assert_eq!(
        analyse(&closed).1,
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
}

/// Typing inside a module-level constant (a prompt, a model id) walks that statement again
/// (a string may become a secret) and the functions that name the constant.
#[test]
fn editing_a_module_constant_re_walks_it_and_the_functions_that_name_it() {
    let original = "\
from transformers import AutoModel

MODEL_ID = \"org/model\"
SYSTEM_PROMPT = \"\"\"You are a careful assistant.
Answer briefly.\"\"\"
API_KEY = None


def load():
    return AutoModel.from_pretrained(MODEL_ID)


def ask(client, question):
    return client.complete(SYSTEM_PROMPT + question)
";
    let mut session = Session::new();
    let mut analyse = |text: &str| {
        let findings = next_version(&mut session, text);
        let rules: Vec<String> = findings.iter().map(|f| f.rule.clone()).collect();
        (rules, outcome(&session))
    };
    let (before, _) = analyse(original);
    let constant = (Some(Reuse::Constant), None);
    let prompt = original.replace("Answer briefly.", "Answer briefly and cite.");
    assert_eq!(analyse(&prompt), (before.clone(), constant));
    let model = prompt.replace("org/model", "org/other-model");
    assert_eq!(analyse(&model).1, constant);
    // A secret typed into a constant is found in the statement walked again.
    let secret = model.replace(
        "API_KEY = None",
        "API_KEY = \"sk-live-0123456789abcdef0123\"",
    );
    analyse(&secret);
    let typed = secret.replace("0123\"", "01234\"");
    let (rules, how) = analyse(&typed);
    assert_eq!(how, constant);
    assert_eq!(rules.len(), before.len() + 1, "{rules:?}");
    // Code outside function bodies names it.
    let named = format!("{original}\nPROMPTS = [SYSTEM_PROMPT]\n");
    analyse(&named);
    let edited = named.replace("Answer briefly.", "Answer.");
    assert_eq!(
        analyse(&edited).1,
        (Some(Reuse::Nothing), Some(Fallback::OutsideFunctionBodies))
    );
}

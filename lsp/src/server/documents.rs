//! Open documents: text kept in sync with the editor (incremental changes in UTF-16 positions),
//! the syntax tree of the last parse with every later edit applied (`Tree::edit`), so the next
//! parse is incremental, and notebooks with their cells.

use super::protocol::{NotebookCellKind, Position, Range, TextDocumentContentChangeEvent, Uri};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use threatlens_rules::source::{LineIndex, offset_of_utf16, utf16_column};
use threatlens_rules::{FileKind, Finding, Language};
use tree_sitter::{InputEdit, Point, Tree};

/// The unit of LSP `Position.character`, negotiated in `initialize` (`positionEncoding`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// The default, and the only one every client supports.
    #[default]
    Utf16,
    Utf32,
}

impl Encoding {
    fn units(self, ch: char) -> usize {
        match self {
            Self::Utf8 => ch.len_utf8(),
            Self::Utf16 => ch.len_utf16(),
            Self::Utf32 => 1,
        }
    }

    /// Byte offset of 0-based `line` and `character` (in this encoding), clamped to the line.
    pub fn offset(self, text: &str, lines: &LineIndex, line: usize, character: usize) -> usize {
        if self == Self::Utf16 {
            return offset_of_utf16(text, lines, line, character);
        }
        if line >= lines.line_count() {
            return text.len();
        }
        let start = lines.line_start(line);
        let end = lines.line_start(line + 1).min(text.len());
        let line_text = text.get(start..end).unwrap_or("");
        let mut units = 0;
        for (i, ch) in line_text.char_indices() {
            if units >= character || ch == '\n' || ch == '\r' {
                return start + i;
            }
            units += self.units(ch);
        }
        start + line_text.trim_end_matches(['\n', '\r']).len()
    }

    /// Column (in this encoding) of byte `offset` within its line.
    pub fn column(self, text: &str, lines: &LineIndex, offset: usize) -> usize {
        if self == Self::Utf16 {
            return utf16_column(text, lines, offset);
        }
        let offset = offset.min(text.len());
        let start = lines.line_start(lines.line_of(offset));
        text.get(start..offset)
            .map_or(0, |prefix| prefix.chars().map(|ch| self.units(ch)).sum())
    }
}

/// How a text document is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// Python or Rust source.
    Source(Language),
    /// A notebook opened as JSON text (an editor without notebook support): analysed like a
    /// notebook on disk.
    NotebookJson,
    /// A file of a `threatlens/v1` threat model (`threatmodel.yaml`, an included file, or any
    /// YAML file whose `schema:` is `threatlens/v1`): analysed with the whole model.
    Model,
    /// Not analysed on its own (a notebook cell, a markdown file, …).
    Other,
}

impl DocKind {
    pub fn of(language_id: &str, path: Option<&Path>) -> Self {
        let by_path = path.and_then(FileKind::of);
        match language_id {
            "python" => Self::Source(Language::Python),
            "rust" => Self::Source(Language::Rust),
            _ => match by_path {
                Some(FileKind::Notebook) => Self::NotebookJson,
                Some(kind) => Self::Source(kind.language()),
                None => Self::Other,
            },
        }
    }
}

/// Whether a YAML document is a threat-model file by its name or content.
pub fn is_model_document(language_id: &str, path: Option<&Path>, text: &str) -> bool {
    let named = path
        .and_then(Path::file_name)
        .is_some_and(|name| name == threatlens_models::DEFAULT_MODEL_FILE);
    let yaml = language_id == "yaml" || path.is_some_and(crate::model::is_yaml_path);
    named || (yaml && crate::model::is_model_text(text))
}

/// Whether a document is YAML (by language or extension).
pub fn is_yaml_document(language_id: &str, path: Option<&Path>) -> bool {
    language_id == "yaml" || path.is_some_and(crate::model::is_yaml_path)
}

/// The canonical path of a file (its absolute path when it does not exist on disk yet).
pub fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// The findings of one analysis, for one version of a document or notebook.
#[derive(Debug, Clone)]
pub struct Analysed {
    pub version: i32,
    pub findings: Arc<Vec<Finding>>,
}

/// How many parses a document keeps as they were: two, the text before the last edit and the
/// one before that, which typing a character and deleting it again returns to.
const PARSES_KEPT: usize = 2;

#[derive(Debug)]
pub struct TextDocument {
    pub uri: Uri,
    pub path: Option<PathBuf>,
    pub kind: DocKind,
    pub version: i32,
    pub text: String,
    pub lines: LineIndex,
    /// The last parse, edited to match `text` (`None` before the first parse or when it was
    /// thrown away).
    pub tree: Option<Tree>,
    /// The texts of the last parses with their trees as parsed (no edit applied), oldest first:
    /// deleting a character just typed gives back the text before it, whose tree needs no
    /// re-parse (which, after a mistyped keyword, can take as long as half a full parse).
    parses: Vec<(String, Tree)>,
    /// For a notebook cell: the notebook it belongs to.
    pub notebook: Option<Uri>,
    pub analysis: Option<Analysed>,
    pub encoding: Encoding,
    /// The language the client gave.
    pub language_id: String,
    /// For threat-model files: the canonical path (how model files are matched).
    pub canonical: Option<PathBuf>,
}

/// Something wrong with a change the client sent; the change was still applied, clamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeWarning(pub String);

impl TextDocument {
    pub fn new(
        uri: Uri,
        language_id: &str,
        version: i32,
        text: String,
        encoding: Encoding,
    ) -> Self {
        let path = super::protocol::uri_to_path(&uri);
        let mut kind = DocKind::of(language_id, path.as_deref());
        if kind == DocKind::Other && is_model_document(language_id, path.as_deref(), &text) {
            kind = DocKind::Model;
        }
        let canonical = (kind == DocKind::Model)
            .then(|| path.as_deref().map(canonical))
            .flatten();
        Self {
            language_id: language_id.to_owned(),
            canonical,
            lines: LineIndex::new(&text),
            uri,
            path,
            kind,
            version,
            text,
            tree: None,
            parses: Vec::new(),
            notebook: None,
            analysis: None,
            encoding,
        }
    }

    /// Makes this document a threat-model file (it became one while being edited, or a model
    /// includes it).
    pub fn make_model(&mut self) {
        self.kind = DocKind::Model;
        self.forget_parses();
        self.analysis = None;
        self.canonical = self.path.as_deref().map(canonical);
    }

    /// A tree parsed for exactly the current text, if one of the last parses was of it.
    pub fn tree_of_this_text(&self) -> Option<Tree> {
        self.parses
            .iter()
            .rev()
            .find(|(text, _)| *text == self.text)
            .map(|(_, tree)| tree.clone())
    }

    /// Keeps the tree of a parse of the current text, for the next re-parse and as one of the
    /// last parses.
    pub fn parsed(&mut self, tree: Tree) {
        self.parses.retain(|(text, _)| *text != self.text);
        if self.parses.len() == PARSES_KEPT {
            self.parses.remove(0);
        }
        self.parses.push((self.text.clone(), tree.clone()));
        self.tree = Some(tree);
    }

    /// Throws the trees away (the document is no longer parsed).
    pub fn forget_parses(&mut self) {
        self.tree = None;
        self.parses.clear();
    }

    /// Applies one change event, editing the tree to match.
    pub fn apply(&mut self, change: &TextDocumentContentChangeEvent) -> Option<ChangeWarning> {
        let Some(range) = change.range else {
            let edit = diff_edit(&self.text, &change.text);
            self.text.clone_from(&change.text);
            self.lines = LineIndex::new(&self.text);
            if let (Some(tree), Some(edit)) = (&mut self.tree, edit) {
                tree.edit(&edit);
            }
            return None;
        };
        let mut warning = None;
        let line_count = self.lines.line_count();
        if range.start.line as usize >= line_count || range.end.line as usize >= line_count {
            warning = Some(ChangeWarning(format!(
                "edit range {}:{}-{}:{} is outside the document ({} lines); clamped to its end",
                range.start.line,
                range.start.character,
                range.end.line,
                range.end.character,
                line_count
            )));
        }
        let mut start = self.offset(range.start);
        let mut end = self.offset(range.end);
        if start > end {
            warning.get_or_insert_with(|| {
                ChangeWarning("edit range ends before it starts; swapped".into())
            });
            std::mem::swap(&mut start, &mut end);
        }
        let start_position = self.point(start);
        let old_end_position = self.point(end);
        self.text.replace_range(start..end, &change.text);
        let new_end_byte = start + change.text.len();
        let new_end_position = advance(start_position, &change.text);
        self.lines = LineIndex::new(&self.text);
        if let Some(tree) = &mut self.tree {
            tree.edit(&InputEdit {
                start_byte: start,
                old_end_byte: end,
                new_end_byte,
                start_position,
                old_end_position,
                new_end_position,
            });
        }
        warning
    }

    /// Byte offset of an LSP position, clamped to the text.
    pub fn offset(&self, position: Position) -> usize {
        self.encoding.offset(
            &self.text,
            &self.lines,
            position.line as usize,
            position.character as usize,
        )
    }

    fn point(&self, offset: usize) -> Point {
        let row = self.lines.line_of(offset);
        Point {
            row,
            column: offset - self.lines.line_start(row),
        }
    }

    pub fn view(&self) -> TextView<'_> {
        TextView {
            uri: &self.uri,
            text: &self.text,
            lines: &self.lines,
            encoding: self.encoding,
        }
    }
}

/// Where `start` ends up after inserting `text` at it.
fn advance(start: Point, text: &str) -> Point {
    match text.rfind('\n') {
        Some(last) => Point {
            row: start.row + memchr_count(text),
            column: text.len() - last - 1,
        },
        None => Point {
            row: start.row,
            column: start.column + text.len(),
        },
    }
}

fn memchr_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

fn point_of(text: &str, offset: usize) -> Point {
    let before = &text.as_bytes()[..offset];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let column = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(offset, |nl| offset - nl - 1);
    Point { row, column }
}

/// The single edit that turns `old` into `new` (common prefix and suffix kept), for an
/// incremental re-parse when a client replaces the whole text or a notebook is re-assembled.
/// `None` when nothing changed.
pub fn diff_edit(old: &str, new: &str) -> Option<InputEdit> {
    if old == new {
        return None;
    }
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = a.len().min(b.len()) - prefix;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    while !old.is_char_boundary(a.len() - suffix) || !new.is_char_boundary(b.len() - suffix) {
        suffix -= 1;
    }
    let old_end = a.len() - suffix;
    let new_end = b.len() - suffix;
    Some(InputEdit {
        start_byte: prefix,
        old_end_byte: old_end,
        new_end_byte: new_end,
        start_position: point_of(old, prefix),
        old_end_position: point_of(old, old_end),
        new_end_position: point_of(new, new_end),
    })
}

/// A text as the client sees it: what diagnostics and edits are expressed against.
#[derive(Clone, Copy)]
pub struct TextView<'a> {
    pub uri: &'a Uri,
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub encoding: Encoding,
}

impl TextView<'_> {
    /// LSP position of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        Position {
            line: self.lines.line_of(offset) as u32,
            character: self.encoding.column(self.text, self.lines, offset) as u32,
        }
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range {
            start: self.position(start),
            end: self.position(end.max(start)),
        }
    }
}

/// One cell of an open notebook.
#[derive(Debug, Clone)]
pub struct CellRef {
    pub uri: Uri,
    pub kind: NotebookCellKind,
}

/// An open notebook (LSP 3.17 notebook document); the text of each cell is a [`TextDocument`].
#[derive(Debug)]
pub struct NotebookDoc {
    pub uri: Uri,
    pub path: Option<PathBuf>,
    pub version: i32,
    pub cells: Vec<CellRef>,
    /// The module text of the last parse and its tree, for an incremental re-parse.
    pub python: String,
    pub tree: Option<Tree>,
    pub analysis: Option<Analysed>,
    /// Cells that were last sent diagnostics (to clear them when they are gone).
    pub published: Vec<Uri>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use threatlens_rules::lang;

    fn doc(text: &str) -> TextDocument {
        let uri = Uri::from_str("file:///tmp/t.py").unwrap();
        TextDocument::new(uri, "python", 1, text.to_string(), Encoding::Utf16)
    }

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(sl, sc), Position::new(el, ec))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_use_utf16_and_keep_the_tree_in_sync() {
        let mut d = doc("s = '😀'; x = 1\nimport torch\n");
        d.tree = lang::parse(Language::Python, &d.text, None);
        // `x` is after an emoji (2 UTF-16 units, 4 bytes).
        assert!(d.apply(&change(0, 10, 0, 11, "yy")).is_none());
        assert_eq!(d.text, "s = '😀'; yy = 1\nimport torch\n");
        d.apply(&change(1, 0, 1, 0, "import os\n"));
        assert_eq!(d.text, "s = '😀'; yy = 1\nimport os\nimport torch\n");
        let incremental = lang::parse(Language::Python, &d.text, d.tree.as_ref()).unwrap();
        let fresh = lang::parse(Language::Python, &d.text, None).unwrap();
        assert_eq!(
            incremental.root_node().to_sexp(),
            fresh.root_node().to_sexp()
        );
    }

    /// Typing a character and deleting it gives back the tree parsed before it, unedited; a
    /// text three parses back is no longer kept.
    #[test]
    fn an_earlier_text_comes_back_with_its_tree() {
        let mut d = doc("if ready:\n    run()\n");
        let parse = |d: &mut TextDocument| {
            let tree = lang::parse(Language::Python, &d.text, d.tree.as_ref()).unwrap();
            d.parsed(tree);
        };
        parse(&mut d);
        let first = d.tree_of_this_text().unwrap();
        d.apply(&change(0, 1, 0, 1, "x"));
        assert!(d.tree_of_this_text().is_none());
        parse(&mut d);
        assert!(d.tree.as_ref().unwrap().root_node().has_error());
        d.apply(&change(0, 1, 0, 2, ""));
        let tree = d
            .tree_of_this_text()
            .expect("the text before `x` was typed");
        assert!(!tree.root_node().has_changes() && !tree.root_node().has_error());
        assert_eq!(tree.root_node().to_sexp(), first.root_node().to_sexp());
        // Once more, and a third text: the first is two parses back, then three.
        parse(&mut d);
        d.apply(&change(1, 4, 1, 4, "y"));
        parse(&mut d);
        d.apply(&change(1, 4, 1, 4, "z"));
        parse(&mut d);
        d.apply(&change(1, 4, 1, 6, ""));
        assert!(d.tree_of_this_text().is_none());
        d.apply(&change(1, 4, 1, 4, "y"));
        assert!(d.tree_of_this_text().is_some());
        d.forget_parses();
        assert!(d.tree_of_this_text().is_none() && d.tree.is_none());
    }

    #[test]
    fn out_of_range_changes_are_clamped_with_a_warning() {
        let mut d = doc("a = 1\n");
        let warning = d.apply(&change(7, 0, 9, 4, "b = 2\n"));
        assert!(warning.is_some());
        assert_eq!(d.text, "a = 1\nb = 2\n");
        let warning = d.apply(&change(0, 4, 0, 0, "")).unwrap();
        assert!(warning.0.contains("swapped"));
        assert_eq!(d.text, "1\nb = 2\n");
    }

    #[test]
    fn encodings() {
        let text = "é😀x\nz";
        let lines = LineIndex::new(text);
        let x = text.find('x').unwrap();
        for (encoding, column) in [
            (Encoding::Utf8, 6),
            (Encoding::Utf16, 3),
            (Encoding::Utf32, 2),
        ] {
            assert_eq!(encoding.column(text, &lines, x), column);
            assert_eq!(encoding.offset(text, &lines, 0, column), x);
            assert_eq!(
                encoding.offset(text, &lines, 0, 99),
                text.find('\n').unwrap()
            );
        }
        // Inside a multi-byte character: the next boundary.
        assert_eq!(Encoding::Utf8.offset(text, &lines, 0, 1), 2);
    }

    #[test]
    fn full_replacement_is_diffed() {
        let edit = diff_edit("abc😀def", "abc😀xdef").unwrap();
        assert_eq!(
            (edit.start_byte, edit.old_end_byte, edit.new_end_byte),
            (7, 7, 8)
        );
        let edit = diff_edit("a\nb\nc", "a\nc").unwrap();
        assert_eq!(edit.start_position, Point { row: 1, column: 0 });
        assert!(diff_edit("same", "same").is_none());
        // Multi-byte characters sharing leading bytes are not split.
        let edit = diff_edit("é", "è").unwrap();
        assert_eq!((edit.start_byte, edit.old_end_byte), (0, 2));
    }
}

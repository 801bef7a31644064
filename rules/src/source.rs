//! Source text with a line index, to turn byte offsets into human positions.

use crate::finding::{Position, Span};

/// The text of one analysed unit (a file, or one notebook cell) and where its lines start.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Self {
            line_starts,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where 0-based `line` starts (clamped to the end of the text).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.len)
    }

    /// 0-based line that contains byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        }
    }

    /// 1-based line and column (in Unicode scalar values) of byte `offset`.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let column = text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        Position {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    pub fn span(&self, text: &str, start_byte: usize, end_byte: usize) -> Span {
        Span {
            start_byte,
            end_byte,
            start: self.position(text, start_byte),
            end: self.position(text, end_byte),
            cell: None,
        }
    }
}

/// Byte offset of 0-based `line` and UTF-16 `character` in `text` (clamped to the line's end),
/// the position encoding LSP clients use by default.
pub fn offset_of_utf16(text: &str, index: &LineIndex, line: usize, character: usize) -> usize {
    if line >= index.line_count() {
        return text.len();
    }
    let start = index.line_start(line);
    let end = index.line_start(line + 1).min(text.len());
    let line_text = text.get(start..end).unwrap_or("");
    let mut units = 0;
    for (i, ch) in line_text.char_indices() {
        if units >= character || ch == '\n' || ch == '\r' {
            return start + i;
        }
        units += ch.len_utf16();
    }
    start + line_text.trim_end_matches(['\n', '\r']).len()
}

/// UTF-16 column of byte `offset` within its line.
pub fn utf16_column(text: &str, index: &LineIndex, offset: usize) -> usize {
    let offset = offset.min(text.len());
    let start = index.line_start(index.line_of(offset));
    text.get(start..offset)
        .map_or(0, |prefix| prefix.chars().map(char::len_utf16).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "a = 1\nπ = torch.load(p)\n";
        let index = LineIndex::new(text);
        let offset = text.find("torch").unwrap();
        assert_eq!(
            index.position(text, offset),
            Position { line: 2, column: 5 }
        );
        assert_eq!(index.position(text, 0), Position { line: 1, column: 1 });
    }

    #[test]
    fn utf16_round_trip() {
        let text = "x = '😀'; torch.load(p)\nnext";
        let index = LineIndex::new(text);
        let offset = text.find("torch").unwrap();
        let col = utf16_column(text, &index, offset);
        assert_eq!(col, 10); // the emoji is two UTF-16 units
        assert_eq!(offset_of_utf16(text, &index, 0, col), offset);
        // Past the end of a line clamps to the line end, never into the next line.
        assert_eq!(
            offset_of_utf16(text, &index, 0, 999),
            text.find('\n').unwrap()
        );
        assert_eq!(offset_of_utf16(text, &index, 9, 0), text.len());
    }
}

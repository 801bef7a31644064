//! Jupyter notebooks: the code cells are analysed as one Python module (later cells see the
//! imports of earlier ones, as the kernel does), and positions are mapped back to cell and line.
//!
//! Shell escapes (`!pip …`) and line magics (`%time …`) become blank lines of the same length, so
//! byte offsets inside a cell are unchanged; cells run by another interpreter (`%%bash`,
//! `%%html`, …) are skipped.

use crate::finding::{Finding, Span};
use crate::source::LineIndex;
use serde_json::Value;

/// Cell magics whose body is still Python.
const PYTHON_CELL_MAGICS: &[&str] = &["time", "timeit", "capture", "prun", "debug"];

/// One code cell inside the notebook's virtual Python module.
#[derive(Debug)]
struct Cell {
    index: usize,
    start: usize,
    source: String,
    lines: LineIndex,
}

/// A notebook turned into one Python module.
#[derive(Debug)]
pub struct Notebook {
    /// The code cells concatenated, magics blanked.
    pub python: String,
    /// The blanked shell and magic lines: where they start in `python`, and their text.
    pub magic_lines: Vec<(usize, String)>,
    cells: Vec<Cell>,
}

impl Notebook {
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let json: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not a valid notebook: {e}"))?;
        let cells = json
            .get("cells")
            .and_then(Value::as_array)
            .ok_or("not a valid notebook: no `cells` array")?;
        let code_cells = cells.iter().enumerate().filter_map(|(index, cell)| {
            if cell.get("cell_type").and_then(Value::as_str) != Some("code") {
                return None;
            }
            let source = match cell.get("source") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
                _ => return None,
            };
            Some((index, source))
        });
        Ok(Self::from_cells(code_cells))
    }

    /// The module of code cells given as (index in the notebook, source), in order: what an
    /// editor's notebook document holds.
    pub fn from_cells(cells: impl IntoIterator<Item = (usize, String)>) -> Self {
        let mut python = String::new();
        let mut magic_lines = Vec::new();
        let mut mapped = Vec::new();
        for (index, source) in cells {
            let start = python.len();
            let blanked = blank_magics(&source);
            let mut offset = 0;
            for (original, kept) in source
                .split_inclusive('\n')
                .zip(blanked.split_inclusive('\n'))
            {
                if original != kept && !original.trim().is_empty() {
                    magic_lines.push((start + offset, original.to_string()));
                }
                offset += original.len();
            }
            python.push_str(&blanked);
            if !python.ends_with('\n') {
                python.push('\n');
            }
            mapped.push(Cell {
                index,
                start,
                lines: LineIndex::new(&source),
                source,
            });
        }
        Self {
            python,
            magic_lines,
            cells: mapped,
        }
    }

    /// Re-expresses a span of [`Notebook::python`] in cell coordinates.
    fn map_span(&self, span: Span) -> Span {
        let Some(cell) = self
            .cells
            .iter()
            .rev()
            .find(|cell| cell.start <= span.start_byte)
        else {
            return span;
        };
        let clamp = |offset: usize| offset.saturating_sub(cell.start).min(cell.source.len());
        let mut mapped =
            cell.lines
                .span(&cell.source, clamp(span.start_byte), clamp(span.end_byte));
        mapped.cell = Some(cell.index);
        mapped
    }

    /// Maps every position in the findings (ranges, fix edits, related places) to cells.
    pub fn map_findings(&self, findings: &mut [Finding]) {
        for finding in findings {
            finding.span = self.map_span(finding.span);
            for related in &mut finding.related {
                related.span = self.map_span(related.span);
            }
            if let Some(fix) = &mut finding.fix {
                for edit in &mut fix.edits {
                    edit.span = self.map_span(edit.span);
                }
            }
        }
    }
}

fn blank_magics(source: &str) -> String {
    let first = source.lines().next().unwrap_or("").trim_start();
    if let Some(magic) = first.strip_prefix("%%") {
        let name = magic.split_whitespace().next().unwrap_or("");
        if !PYTHON_CELL_MAGICS.contains(&name) {
            return blank(source);
        }
    }
    source
        .split_inclusive('\n')
        .map(|line| {
            let code = line.trim_start();
            if code.starts_with('!') || code.starts_with('%') {
                blank(line)
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// The same number of bytes, as spaces, keeping line breaks.
fn blank(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b == b'\n' || b == b'\r' {
                b as char
            } else {
                ' '
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_are_blanked_with_offsets_kept() {
        let source = "!pip install torch\nimport torch\n%time x = 1\n";
        let blanked = blank_magics(source);
        assert_eq!(blanked.len(), source.len());
        assert_eq!(blanked.lines().nth(1), Some("import torch"));
        assert!(blanked.lines().next().unwrap().trim().is_empty());
        assert!(blank_magics("%%bash\nrm -rf /\n").trim().is_empty());
        assert_eq!(
            blank_magics("%%time\nx = 1\n").lines().nth(1),
            Some("x = 1")
        );
    }

    #[test]
    fn cells_are_mapped() {
        let nb = br##"{"cells": [
            {"cell_type": "markdown", "source": ["# title"]},
            {"cell_type": "code", "source": ["import torch\n", "m = 1"]},
            {"cell_type": "code", "source": "x = torch.load(p)"}
        
        ]}"##;
        let notebook = Notebook::parse(nb).unwrap();
        let offset = notebook.python.find("torch.load").unwrap();
        let lines = LineIndex::new(&notebook.python);
        let span = notebook.map_span(lines.span(&notebook.python, offset, offset + 10));
        assert_eq!(span.cell, Some(2));
        assert_eq!((span.start.line, span.start.column), (1, 5));
    }

    #[test]
    fn broken_json_is_an_error() {
        assert!(Notebook::parse(b"{not json").is_err());
        assert!(Notebook::parse(b"{}").is_err());
    }
}

//! Language front-ends: parsing (one parser per thread, reused) and the per-language analyses.

pub mod notebook;
pub mod python;
pub mod rust;

use crate::catalogue::Language;
use std::cell::RefCell;
use tree_sitter::{Parser, Tree};

pub fn grammar(language: Language) -> tree_sitter::Language {
    match language {
        Language::Python => tree_sitter_python::LANGUAGE.into(),
        Language::Rust => tree_sitter_rust::LANGUAGE.into(),
    }
}

/// Gives tree-sitter's C core mimalloc. Its parser allocates and frees many small nodes on every
/// thread, where glibc's malloc took a tenth of a check (measured: ~9% fewer instructions with
/// mimalloc; Rust's own allocations stay with the system allocator, which keeps the language
/// server's memory low).
///
/// # Safety
///
/// No tree-sitter object may exist yet (call it first thing in `main`): each must be freed by
/// the allocator that made it.
pub unsafe fn use_mimalloc_for_trees() {
    use libmimalloc_sys::{mi_calloc, mi_free, mi_malloc, mi_realloc};
    // SAFETY: one allocator family; the caller guarantees that no tree-sitter object exists.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: mi_malloc,
            calloc: mi_calloc,
            realloc: mi_realloc,
            free: mi_free,
        }));
    }
}

thread_local! {
    static PARSERS: RefCell<Vec<(Language, Parser)>> = const { RefCell::new(Vec::new()) };
}

/// Parses `text`, reusing this thread's parser for the language. `old` is the previous tree of an
/// edited document (already `edit`ed), for an incremental re-parse.
pub fn parse(language: Language, text: &str, old: Option<&Tree>) -> Option<Tree> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let position = match parsers.iter().position(|(l, _)| *l == language) {
            Some(position) => position,
            None => {
                let mut parser = Parser::new();
                parser.set_language(&grammar(language)).ok()?;
                parsers.push((language, parser));
                parsers.len() - 1
            }
        };
        parsers[position].1.parse(text, old)
    })
}

/// Node kind names by id, read from the grammar once: `Node::kind` converts (and validates) a C
/// string on every call, and the walkers ask for kinds constantly.
pub(crate) fn kind_names(language: Language) -> Vec<String> {
    let grammar = grammar(language);
    (0..grammar.node_kind_count())
        .map(|id| {
            u16::try_from(id)
                .ok()
                .and_then(|id| grammar.node_kind_for_id(id))
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// The UTF-8 text of a node (empty if the range is not on character boundaries).
pub(crate) fn node_text<'a>(node: tree_sitter::Node<'_>, text: &'a str) -> &'a str {
    text.get(node.start_byte()..node.end_byte()).unwrap_or("")
}

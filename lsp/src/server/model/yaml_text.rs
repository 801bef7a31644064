//! Byte positions in YAML text that the node tree does not give directly.

use threatlens_models::yaml::{Node, NodeKind};

/// Whether a collection node is written in flow style (`[…]`, `{…}`).
pub fn starts_flow(text: &str, node: &Node) -> bool {
    matches!(text.as_bytes().get(node.start), Some(b'[' | b'{'))
}

/// Where a node's content ends. A block collection's node runs on to the next token (over
/// blank lines and comments); this stops at its last child's content instead.
pub fn content_end(text: &str, node: &Node) -> usize {
    let end = match &node.kind {
        NodeKind::Map(entries) if !starts_flow(text, node) => entries
            .last()
            .map_or(node.end, |e| content_end(text, &e.value).max(e.key.end)),
        NodeKind::Seq(items) if !starts_flow(text, node) => items
            .last()
            .map_or(node.end, |item| content_end(text, item)),
        _ => node.end,
    };
    end.max(node.start)
}

/// The end of the line `offset` is on (the position of its `\n`, or the end of the text).
pub fn line_end(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[offset..]
        .find('\n')
        .map_or(text.len(), |nl| offset + nl)
}

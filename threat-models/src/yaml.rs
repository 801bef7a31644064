//! YAML text → a small tree of nodes with byte ranges, built from the event stream of
//! serde-saphyr's parser (`granit-parser`, re-exported by serde-saphyr).
//!
//! Why a tree and not serde-saphyr's deserializer directly: a threat model needs *every* problem
//! reported at once with its exact range (an editor shows them all), and the typed
//! deserialisation in [`crate::de`] must be able to skip one broken element and go on. The tree
//! keeps each scalar's source text and whether it was quoted, each key's range, and nothing else.
//!
//! Bounded by construction, whatever the input:
//! - nesting deeper than [`MAX_DEPTH`] stops the parse with a diagnostic (the parser itself stops
//!   at 255 levels; the format needs fewer than ten);
//! - aliases share the anchored node (no copy) and add its *expanded* size to a budget of
//!   [`MAX_EXPANDED_NODES`], so a "billion laughs" document is rejected at the alias that
//!   crosses the budget instead of being expanded;
//! - duplicate keys are reported on the second key and its value is dropped;
//! - tags other than `!!str` are rejected (no tag-driven construction of anything);
//! - only the first YAML document is read; more are an error.

use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle};
use std::collections::HashMap;
use std::rc::Rc;

/// Deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 64;
/// Largest number of nodes the document may expand to once aliases are followed.
pub const MAX_EXPANDED_NODES: u64 = 1_000_000;

/// One YAML node: a scalar, a sequence or a mapping, with its byte range in the text.
#[derive(Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub start: usize,
    pub end: usize,
    /// Number of nodes in this subtree, aliases expanded (saturating).
    size: u64,
}

#[derive(Debug)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Rc<Node>>),
    Map(Vec<Entry>),
}

/// A scalar's text after YAML escape processing, and whether it was written plain (unquoted,
/// not a block scalar): only plain scalars can be null, booleans or numbers.
#[derive(Debug)]
pub struct Scalar {
    pub text: String,
    pub plain: bool,
}

/// One `key: value` pair. Keys are always scalars (anything else is reported and dropped).
#[derive(Debug)]
pub struct Entry {
    pub key: Rc<Node>,
    pub value: Rc<Node>,
}

impl Node {
    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar key or value.
    pub fn text(&self) -> Option<&str> {
        self.scalar().map(|s| s.text.as_str())
    }

    /// True for `~`, `null` and empty plain scalars.
    pub fn is_null(&self) -> bool {
        self.scalar().is_some_and(|s| {
            s.plain && matches!(s.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
        })
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Rc<Node>> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|e| e.key.text() == Some(key))
                .map(|e| &e.value),
            _ => None,
        }
    }

    /// A short description for messages: "a list", "a mapping", "the text `abc`".
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Seq(_) => "a list".to_owned(),
            NodeKind::Map(_) => "a mapping".to_owned(),
            NodeKind::Scalar(_) if self.is_null() => "nothing (an empty value)".to_owned(),
            NodeKind::Scalar(s) => {
                let mut shown: String = s.text.chars().take(40).collect();
                if shown.len() < s.text.len() {
                    shown.push('…');
                }
                format!("`{shown}`")
            }
        }
    }
}

/// What went wrong while reading the YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    Syntax,
    DuplicateKey,
    Limit,
}

#[derive(Debug, Clone)]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub start: usize,
    pub end: usize,
    pub message: String,
}

/// The document's root node (when the text could be read) and every problem found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub root: Option<Rc<Node>>,
    pub errors: Vec<YamlError>,
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Rc<Node>>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<Entry>,
        /// The key waiting for its value, and whether to keep the pair.
        pending: Option<(Rc<Node>, bool)>,
        seen: HashMap<String, usize>,
    },
}

/// Read `text` as one YAML document.
pub fn parse(text: &str) -> Parsed {
    let mut builder = Builder {
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
        root: None,
        errors: Vec::new(),
        documents: 0,
    };
    let options = serde_saphyr::granit_parser::options! {
        emit_comments: false,
        block_nesting_limit: MAX_DEPTH + 1,
        flow_nesting_limit: MAX_DEPTH + 1,
    };
    for next in Parser::new_from_str_with_options(text, options) {
        let step = match next {
            Ok((event, span)) => {
                let start = builder.offset(&span.start);
                let end = builder.offset(&span.end).max(start);
                builder.event(event, start, end)
            }
            Err(error) => {
                let at = builder.offset(error.marker());
                let info = error.info();
                let (kind, message) = if info.contains("recursion") || info.contains("nesting") {
                    (
                        YamlErrorKind::Limit,
                        format!(
                            "nesting deeper than {MAX_DEPTH} levels ({info}); a threat model needs far fewer"
                        ),
                    )
                } else {
                    (YamlErrorKind::Syntax, format!("invalid YAML: {info}"))
                };
                Err(YamlError {
                    kind,
                    start: at,
                    end: next_char_end(text, at),
                    message,
                })
            }
        };
        if let Err(error) = step {
            builder.errors.push(error);
            return Parsed {
                root: None,
                errors: builder.errors,
            };
        }
    }
    if builder.root.is_none() && builder.errors.is_empty() {
        builder.errors.push(YamlError {
            kind: YamlErrorKind::Syntax,
            start: 0,
            end: 0,
            message: "the file is empty: a threat model starts with `schema: threatlens/v1`"
                .to_owned(),
        });
    }
    Parsed {
        root: builder.root,
        errors: builder.errors,
    }
}

/// End of the character starting at byte `at` (for one-character error ranges).
fn next_char_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at, |c| at + c.len_utf8())
}

struct Builder<'t> {
    text: &'t str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Rc<Node>>,
    expanded: u64,
    root: Option<Rc<Node>>,
    errors: Vec<YamlError>,
    documents: usize,
}

impl Builder<'_> {
    /// Byte offset of a parser marker (the parser gives byte offsets for string input; fall back
    /// to counting characters).
    fn offset(&self, marker: &Marker) -> usize {
        marker.byte_offset().unwrap_or_else(|| {
            self.text
                .char_indices()
                .nth(marker.index())
                .map_or(self.text.len(), |(i, _)| i)
        })
    }

    fn count(&mut self, nodes: u64, start: usize, end: usize) -> Result<(), YamlError> {
        self.expanded = self.expanded.saturating_add(nodes);
        if self.expanded > MAX_EXPANDED_NODES {
            return Err(YamlError {
                kind: YamlErrorKind::Limit,
                start,
                end,
                message: format!(
                    "the document expands to more than {MAX_EXPANDED_NODES} nodes once aliases \
                     are followed (an alias bomb?); a threat model needs no aliases this large"
                ),
            });
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) -> Result<(), YamlError> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        kind: YamlErrorKind::Syntax,
                        start,
                        end: end.max(start + 3).min(self.text.len()),
                        message: "a threat model is one YAML document; split it with `includes:` \
                                  instead of `---`"
                            .to_owned(),
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain;
                let plain = match tag.as_deref() {
                    None => plain,
                    Some(tag) if tag.core_suffix() == Some("str") => false,
                    Some(tag) => return Err(unsupported_tag(tag.suffix(), start, end)),
                };
                self.count(1, start, end)?;
                let node = Rc::new(Node {
                    kind: NodeKind::Scalar(Scalar {
                        text: value.into_owned(),
                        plain,
                    }),
                    start,
                    end,
                    size: 1,
                });
                if anchor != 0 {
                    self.anchors.insert(anchor, Rc::clone(&node));
                }
                self.push_value(node, start, end)?;
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                if let Some(tag) = tag
                    && !matches!(tag.core_suffix(), Some("seq" | "map"))
                {
                    return Err(unsupported_tag(tag.suffix(), start, end));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        kind: YamlErrorKind::Limit,
                        start,
                        end: next_char_end(self.text, start),
                        message: format!(
                            "nesting deeper than {MAX_DEPTH} levels; a threat model needs far fewer"
                        ),
                    });
                }
                self.count(1, start, end)?;
                let is_seq = matches!(event, Event::SequenceStart(..));
                self.stack.push(if is_seq {
                    Frame::Seq {
                        start,
                        anchor,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        start,
                        anchor,
                        entries: Vec::new(),
                        pending: None,
                        seen: HashMap::new(),
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        start: s,
                        anchor,
                        items,
                    }) => {
                        let size = items.iter().fold(1u64, |n, i| n.saturating_add(i.size));
                        let node = Node {
                            kind: NodeKind::Seq(items),
                            start: s,
                            end,
                            size,
                        };
                        (node, anchor)
                    }
                    Some(Frame::Map {
                        start: s,
                        anchor,
                        entries,
                        ..
                    }) => {
                        let size = entries.iter().fold(1u64, |n, e| {
                            n.saturating_add(e.key.size).saturating_add(e.value.size)
                        });
                        let node = Node {
                            kind: NodeKind::Map(entries),
                            start: s,
                            end,
                            size,
                        };
                        (node, anchor)
                    }
                    None => return Ok(()),
                };
                let (s, e) = (node.start, node.end);
                let node = Rc::new(node);
                if anchor != 0 {
                    self.anchors.insert(anchor, Rc::clone(&node));
                }
                self.push_value(node, s, e)?;
            }
            Event::Alias(anchor) => {
                let Some(target) = self.anchors.get(&anchor).cloned() else {
                    return Err(YamlError {
                        kind: YamlErrorKind::Syntax,
                        start,
                        end,
                        message: "this alias refers to a node that contains it (a recursive \
                                  alias) or to no anchor"
                            .to_owned(),
                    });
                };
                self.count(target.size, start, end)?;
                self.push_value(target, start, end)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn push_value(&mut self, node: Rc<Node>, start: usize, end: usize) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return Ok(());
        };
        match frame {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map {
                entries,
                pending,
                seen,
                ..
            } => match pending.take() {
                Some((key, keep)) => {
                    if keep {
                        entries.push(Entry { key, value: node });
                    }
                }
                None => {
                    let keep = match node.scalar() {
                        Some(key) => {
                            if let Some(&first) = seen.get(&key.text) {
                                let line = 1 + self.text[..first.min(self.text.len())]
                                    .bytes()
                                    .filter(|&b| b == b'\n')
                                    .count();
                                self.errors.push(YamlError {
                                    kind: YamlErrorKind::DuplicateKey,
                                    start,
                                    end,
                                    message: format!(
                                        "duplicate key `{}` (first on line {line}); this one is ignored",
                                        key.text
                                    ),
                                });
                                false
                            } else {
                                seen.insert(key.text.clone(), start);
                                true
                            }
                        }
                        None => {
                            self.errors.push(YamlError {
                                kind: YamlErrorKind::Syntax,
                                start,
                                end,
                                message: "mapping keys must be plain text, not lists or mappings"
                                    .to_owned(),
                            });
                            false
                        }
                    };
                    *pending = Some((node, keep));
                }
            },
        }
        Ok(())
    }
}

fn unsupported_tag(suffix: &str, start: usize, end: usize) -> YamlError {
    YamlError {
        kind: YamlErrorKind::Syntax,
        start,
        end,
        message: format!(
            "YAML tags are not supported in a threat model (`{suffix}`); remove the tag"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Rc<Node> {
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.root.unwrap()
    }

    #[test]
    fn keys_and_values_carry_byte_ranges() {
        let text = "schema: threatlens/v1\ncomponents:\n  - {id: bot, kind: llm}\n";
        let root = root(text);
        let components = root.get("components").unwrap();
        let NodeKind::Seq(items) = &components.kind else {
            panic!()
        };
        let id = items[0].get("id").unwrap();
        assert_eq!(&text[id.start..id.end], "bot");
        assert!(id.scalar().unwrap().plain);
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let root = root("a: '8'\nb: 8\nc: !!str 9\n");
        assert!(!root.get("a").unwrap().scalar().unwrap().plain);
        assert!(root.get("b").unwrap().scalar().unwrap().plain);
        assert!(!root.get("c").unwrap().scalar().unwrap().plain);
    }

    #[test]
    fn duplicate_keys_keep_the_first_and_point_at_the_second() {
        let text = "a: 1\nb: 2\na: 3\n";
        let parsed = parse(text);
        assert_eq!(parsed.errors.len(), 1);
        let e = &parsed.errors[0];
        assert_eq!(e.kind, YamlErrorKind::DuplicateKey);
        assert_eq!(e.start, text.rfind("a:").unwrap());
        assert!(e.message.contains("line 1"), "{}", e.message);
        let root = parsed.root.unwrap();
        assert_eq!(root.get("a").unwrap().text(), Some("1"));
    }

    #[test]
    fn aliases_share_and_count_their_expansion() {
        let root = root("a: &x [1, 2]\nb: *x\n");
        assert!(Rc::ptr_eq(root.get("a").unwrap(), root.get("b").unwrap()));
    }

    #[test]
    fn tags_and_second_documents_are_rejected() {
        assert!(
            parse("a: !python/object x\n").errors[0]
                .message
                .contains("tags")
        );
        assert!(
            parse("a: 1\n---\nb: 2\n").errors[0]
                .message
                .contains("one YAML document")
        );
    }
}

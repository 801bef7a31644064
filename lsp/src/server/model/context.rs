//! Where the cursor is in a YAML model file, and what goes there.
//!
//! Completion runs on text that is being typed and often does not parse (`from: ` with nothing
//! after it yet, an unclosed `[`), so the cursor's place is read from the text itself, the way
//! YAML nests: a scan from the top tracks flow collections (`[…]`, `{…}`, quoted scalars, comments
//! and block scalars skipped) to find the line the cursor's construct starts on; the keys of the
//! enclosing block mappings come from the lines above with less indentation; the keys of the
//! enclosing flow mappings from that construct's own tokens. List indices are not part of the
//! path: `flows[3].from` is `["flows", "from"]`.
//!
//! What may go at a path comes from the format's JSON Schema
//! ([`threatlens_models::json_schema`], generated from the Rust types, so it cannot drift from
//! the parser): keys with their descriptions, enum values, whether a value is an id. Which kinds
//! of element an id reference may name is [`REFERENCES`], checked against the crate's own list of
//! references by the tests below.

use serde_json::Value;
use std::sync::LazyLock;
use threatlens_models::ElementKind;

/// Where in a mapping the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Where a key of the mapping at `path` goes.
    Key,
    /// The value of the key `path` ends with.
    Value,
    /// An item of the list that is the value of the key `path` ends with.
    Item,
}

/// The cursor's place: the path of keys from the top, the place, and the token being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub path: Vec<String>,
    pub place: Place,
    /// Start of the token being typed (it ends at the cursor).
    pub start: usize,
    pub prefix: String,
}

/// Characters of the scalars completion and hover deal with: ids, Annex A ids (`A.8.5`),
/// ATLAS ids, OWASP ids (`LLM01:2025`), `code:` globs.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '*')
}

/// The token around `offset`: its byte range.
pub fn token_at(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_token_char(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_token_char(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    // `key:` is a key, not a token with a colon.
    let end = if text[start..end].ends_with(':') {
        end - 1
    } else {
        end
    };
    (start, end.max(start))
}

/// One thing the tokenizer saw.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Dash,
    Key(String),
    Scalar,
    Open(char),
    Close,
    Comma,
}

/// A minimal YAML tokenizer over `text[from..to]`: enough structure to place a cursor.
/// Returns the tokens and, at `to`, the start of each unclosed flow collection.
fn tokenize(text: &str, from: usize, to: usize) -> (Vec<(usize, Token)>, Vec<usize>) {
    let bytes = text.as_bytes();
    let to = to.min(bytes.len());
    let mut tokens = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = from;
    let mut value_start = true;
    let mut line_indent = 0usize;
    let mut at_line_start = true;
    // Inside a block scalar: lines more indented than this are its content.
    let mut block_scalar: Option<usize> = None;
    let is_space = |b: u8| b == b' ' || b == b'\t';
    let ends_plain = |j: usize, flow: bool| -> bool {
        j >= to
            || bytes[j] == b'\n'
            || bytes[j] == b'\r'
            || (flow && matches!(bytes[j], b',' | b']' | b'}'))
    };
    while i < to {
        let b = bytes[i];
        if b == b'\n' {
            i += 1;
            at_line_start = true;
            if open.is_empty() {
                value_start = true;
            }
            continue;
        }
        if at_line_start {
            let indent_end = (i..to).find(|&j| !is_space(bytes[j])).unwrap_or(to);
            line_indent = indent_end - i;
            at_line_start = false;
            if let Some(parent) = block_scalar {
                let blank = indent_end >= to || matches!(bytes[indent_end], b'\n' | b'\r');
                if blank || line_indent > parent {
                    // Content of a block scalar: skip the line.
                    i = (indent_end..to).find(|&j| bytes[j] == b'\n').unwrap_or(to);
                    continue;
                }
                block_scalar = None;
            }
            i = indent_end;
            continue;
        }
        if is_space(b) || b == b'\r' {
            i += 1;
            continue;
        }
        if b == b'#' && (i == 0 || is_space(bytes[i - 1]) || bytes[i - 1] == b'\n') {
            i = (i..to).find(|&j| bytes[j] == b'\n').unwrap_or(to);
            continue;
        }
        let flow = !open.is_empty();
        if value_start && (b == b'"' || b == b'\'') {
            let start = i;
            i += 1;
            while i < to {
                if bytes[i] == b && b == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                if b == b'"' && bytes[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if bytes[i] == b {
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(to);
            let after = (i..to).find(|&j| !is_space(bytes[j]));
            if let Some(j) = after
                && bytes[j] == b':'
                && (j + 1 >= to || is_space(bytes[j + 1]) || bytes[j + 1] == b'\n')
            {
                let key = text
                    .get(start + 1..i.saturating_sub(1).max(start + 1))
                    .unwrap_or_default();
                tokens.push((start, Token::Key(key.to_owned())));
                i = j + 1;
                value_start = true;
            } else {
                tokens.push((start, Token::Scalar));
                value_start = false;
            }
            continue;
        }
        if value_start && (b == b'[' || b == b'{') {
            tokens.push((i, Token::Open(b as char)));
            open.push(i);
            i += 1;
            value_start = true;
            continue;
        }
        if flow && (b == b']' || b == b'}') {
            tokens.push((i, Token::Close));
            open.pop();
            i += 1;
            value_start = false;
            continue;
        }
        if flow && b == b',' {
            tokens.push((i, Token::Comma));
            i += 1;
            value_start = true;
            continue;
        }
        if !flow
            && value_start
            && b == b'-'
            && (i + 1 >= to || matches!(bytes[i + 1], b' ' | b'\n' | b'\r'))
        {
            tokens.push((i, Token::Dash));
            i += 1;
            continue;
        }
        if !flow && value_start && (b == b'|' || b == b'>') {
            // A block scalar: the rest of this line is its header, the lines below its content.
            block_scalar = Some(line_indent);
            i = (i..to).find(|&j| bytes[j] == b'\n').unwrap_or(to);
            tokens.push((i, Token::Scalar));
            continue;
        }
        // A plain scalar, maybe a key.
        let start = i;
        let mut key = None;
        while i < to {
            if ends_plain(i, flow) {
                break;
            }
            if bytes[i] == b':'
                && (i + 1 >= to || ends_plain(i + 1, flow) || is_space(bytes[i + 1]))
            {
                key = Some(i);
                break;
            }
            if bytes[i] == b'#' && is_space(bytes[i - 1]) {
                break;
            }
            i += 1;
        }
        match key {
            Some(colon) => {
                let name = text.get(start..colon).unwrap_or_default().trim_end();
                tokens.push((start, Token::Key(name.to_owned())));
                i = colon + 1;
                value_start = true;
            }
            None => {
                tokens.push((start, Token::Scalar));
                value_start = false;
            }
        }
    }
    (tokens, open)
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |nl| nl + 1)
}

/// The indentation of the line starting at `start`, and whether it holds anything.
fn indentation(line: &str) -> Option<usize> {
    let trimmed = line.trim_start_matches(' ');
    if trimmed.trim().is_empty() || trimmed.starts_with('#') {
        None
    } else {
        Some(line.len() - trimmed.len())
    }
}

/// The keys of the block mappings enclosing a construct that starts at column `column` of the
/// line starting at `start`.
fn block_parents(text: &str, start: usize, mut column: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut end = start;
    while end > 0 && column > 0 {
        let line_begin = line_start(text, end - 1);
        let line = &text[line_begin..end - 1];
        end = line_begin;
        let Some(indent) = indentation(line) else {
            continue;
        };
        if indent >= column {
            continue;
        }
        // Dashes of (nested) list items, then maybe a key.
        let mut rest = &line[indent..];
        let mut key_column = indent;
        while let Some(after) = rest
            .strip_prefix('-')
            .filter(|a| a.is_empty() || a.starts_with(' '))
        {
            let trimmed = after.trim_start_matches(' ');
            key_column += rest.len() - trimmed.len();
            rest = trimmed;
        }
        let (tokens, _) = tokenize(rest, 0, rest.len());
        if let Some((0, Token::Key(key))) = tokens.first()
            && key_column < column
        {
            keys.push(key.clone());
        }
        column = indent;
    }
    keys.reverse();
    keys
}

/// The cursor's place at byte `offset` of `text`.
pub fn cursor_at(text: &str, offset: usize) -> Cursor {
    let offset = offset.min(text.len());
    let (token_start, _) = token_at(text, offset);
    let start = token_start.min(offset);
    let prefix = text[start..offset].to_owned();
    // The construct the cursor is in starts on the line of the outermost unclosed bracket.
    let (_, open) = tokenize(text, 0, start);
    let anchor = line_start(text, open.first().copied().unwrap_or(start));
    let anchor_line_end = text[anchor..].find('\n').map_or(text.len(), |n| anchor + n);
    let column = indentation(&text[anchor..anchor_line_end]).unwrap_or_else(|| {
        // An empty line: the cursor's column is the indentation.
        start - anchor
    });
    let mut path = block_parents(text, anchor, column);
    let (tokens, _) = tokenize(text, anchor, start);

    // Frames: the block mapping of the line, then each flow collection opened on it.
    struct Frame {
        seq: bool,
        key: Option<String>,
    }
    let mut frames = vec![Frame {
        seq: false,
        key: None,
    }];
    let mut dash = false;
    for (_, token) in tokens {
        match token {
            Token::Dash => dash = true,
            Token::Key(key) => {
                if let Some(top) = frames.last_mut() {
                    top.key = Some(key);
                }
            }
            Token::Open(c) => frames.push(Frame {
                seq: c == '[',
                key: None,
            }),
            Token::Close => {
                if frames.len() > 1 {
                    frames.pop();
                }
            }
            Token::Comma => {
                if let Some(top) = frames.last_mut() {
                    top.key = None;
                }
            }
            Token::Scalar => {}
        }
    }
    let depth = frames.len();
    let mut place = Place::Key;
    for (i, frame) in frames.into_iter().enumerate() {
        let last = i + 1 == depth;
        if let Some(key) = frame.key {
            path.push(key);
            if last {
                place = Place::Value;
            }
        } else if last {
            place = if frame.seq || (i == 0 && dash) {
                Place::Item
            } else {
                Place::Key
            };
        }
    }
    Cursor {
        path,
        place,
        start,
        prefix,
    }
}

// ----- the JSON Schema ----------------------------------------------------------------------

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(&threatlens_models::json_schema()).unwrap_or(Value::Null)
});

/// A schema node, with the name of the last definition (`$defs`) reached on the way.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'s> {
    pub node: &'s Value,
    pub def: Option<&'s str>,
}

impl<'s> Schema<'s> {
    pub fn root() -> Schema<'static> {
        Schema {
            node: &SCHEMA,
            def: None,
        }
    }

    /// Follows `$ref`s and optional wrappers (`anyOf: [X, null]`).
    pub fn resolve(self) -> Self {
        let mut current = self;
        for _ in 0..8 {
            if let Some(name) = current
                .node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                match SCHEMA.get("$defs").and_then(|d| d.get(name)) {
                    Some(node) => {
                        current = Schema {
                            node,
                            def: Some(name),
                        }
                    }
                    None => break,
                }
                continue;
            }
            let variants = current.node.get("anyOf").and_then(Value::as_array);
            let non_null: Vec<&Value> = variants
                .into_iter()
                .flatten()
                .filter(|v| v.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [only] = non_null[..] {
                current.node = only;
                continue;
            }
            break;
        }
        current
    }

    pub fn is_array(self) -> bool {
        let ty = self.node.get("type");
        ty.and_then(Value::as_str) == Some("array")
            || ty
                .and_then(Value::as_array)
                .is_some_and(|types| types.iter().any(|t| t == "array"))
    }

    /// The items of an array (the node itself otherwise).
    pub fn item(self) -> Self {
        let resolved = self.resolve();
        match resolved.node.get("items") {
            Some(items) if resolved.is_array() => Schema {
                node: items,
                def: resolved.def,
            }
            .resolve(),
            _ => resolved,
        }
    }

    /// The schema of `key` in this mapping (or in the items of this list).
    pub fn child(self, key: &str) -> Option<Self> {
        let parent = self.item();
        let node = parent.node.get("properties")?.get(key)?;
        Some(Schema { node, def: None })
    }

    /// The schema at a path of keys from the top.
    pub fn at(path: &[String]) -> Option<Schema<'static>> {
        path.iter()
            .try_fold(Schema::root(), |node, key| node.child(key))
    }

    pub fn description(self) -> Option<&'s str> {
        self.node
            .get("description")
            .or_else(|| self.resolve().node.get("description"))
            .and_then(Value::as_str)
    }

    /// The keys of this mapping (or of this list's items), with their descriptions.
    pub fn keys(self) -> Vec<(&'s str, Option<&'s str>)> {
        let parent = self.item();
        parent
            .node
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(key, node)| (key.as_str(), Schema { node, def: None }.description()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The values an enum (or boolean) value may take.
    pub fn values(self) -> Vec<String> {
        fn collect(node: &Value, out: &mut Vec<String>) {
            let resolved = Schema { node, def: None }.resolve().node;
            if let Some(values) = resolved.get("enum").and_then(Value::as_array) {
                out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            if resolved.get("type").and_then(Value::as_str) == Some("boolean") {
                out.extend(["true".to_owned(), "false".to_owned()]);
            }
            for key in ["oneOf", "anyOf"] {
                for variant in resolved
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    collect(variant, out);
                }
            }
        }
        let mut out = Vec::new();
        collect(self.item().node, &mut out);
        out
    }
}

// ----- references ---------------------------------------------------------------------------

use ElementKind as K;

/// Every place a value names another element, and the kinds it may name (the crate's
/// `Model::references` roles, without `[]`).
pub const REFERENCES: &[(&str, &[ElementKind])] = &[
    ("scope.in_scope.systems", &[K::Component]),
    ("scope.in_scope.data", &[K::Asset]),
    ("scope.interfaces.with", &[K::Supplier]),
    ("scope.interfaces.via", &[K::Flow]),
    ("assets.derived_from", &[K::Asset]),
    ("assets.provenance.source", &[K::Component, K::Supplier]),
    ("assets.provenance.collected_by", &[K::Component]),
    (
        "assets.provenance.labelled_by",
        &[K::Component, K::Supplier],
    ),
    ("trust_boundaries.contains", &[K::Component]),
    ("trust_boundaries.parent", &[K::TrustBoundary]),
    ("components.supplier", &[K::Supplier]),
    ("components.processes", &[K::Asset]),
    ("components.stores", &[K::Asset]),
    ("components.controls", &[K::Control]),
    ("components.ai.system_prompt", &[K::Asset]),
    ("flows.from", &[K::Component]),
    ("flows.to", &[K::Component]),
    ("flows.carries", &[K::Asset]),
    ("flows.controls", &[K::Control]),
    ("threats.affects", &[K::Component, K::Flow]),
    ("threats.treatment.controls", &[K::Control]),
    ("threats.treatment.supplier", &[K::Supplier]),
    ("suppliers.provides", &[K::Component]),
    ("suppliers.data_shared", &[K::Asset]),
    ("incident_response.contacts.supplier", &[K::Supplier]),
    (
        "incident_response.playbooks.triggers",
        &[K::Threat, K::Signal],
    ),
    ("monitoring.signals.source", &[K::Component]),
    ("monitoring.signals.sink", &[K::Component]),
    ("monitoring.signals.covers", &[K::Threat]),
];

/// The kinds of element a value at `dotted` may name, if it is a reference.
pub fn reference_kinds(dotted: &str) -> Option<&'static [ElementKind]> {
    REFERENCES
        .iter()
        .find(|(path, _)| *path == dotted)
        .map(|(_, kinds)| *kinds)
}

/// What a value at a path is, for completion and hover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// An id of one of these kinds of element.
    Reference(&'static [ElementKind]),
    /// Any element id, or `code:<glob>` (`exceptions[].target`).
    ExceptionTarget,
    Capability,
    Iso27001,
    Iso42001,
    Atlas,
    OwaspLlm,
    OwaspMl,
    /// An AI threat library id (`AITL-001`).
    LibraryThreat,
    /// A rule id, slug or library name.
    Rule,
    /// One of these values.
    Enum(Vec<String>),
    /// Free text, numbers, dates, the element's own `id`.
    Other,
}

/// What the value of the key at the end of `path` is.
pub fn value_kind(path: &[String]) -> ValueKind {
    let dotted = path.join(".");
    if let Some(kinds) = reference_kinds(&dotted) {
        return ValueKind::Reference(kinds);
    }
    match dotted.as_str() {
        "exceptions.target" => return ValueKind::ExceptionTarget,
        "threats.library" => return ValueKind::LibraryThreat,
        "threats.rule" | "exceptions.rule" => return ValueKind::Rule,
        _ => {}
    }
    let Some(schema) = Schema::at(path) else {
        return ValueKind::Other;
    };
    match schema.item().def {
        Some("Capability") => ValueKind::Capability,
        Some("Iso27001Id") => ValueKind::Iso27001,
        Some("Iso42001Id") => ValueKind::Iso42001,
        Some("AtlasId") => ValueKind::Atlas,
        Some("OwaspLlmId") => ValueKind::OwaspLlm,
        Some("OwaspMlId") => ValueKind::OwaspMl,
        _ => {
            let values = schema.values();
            if values.is_empty() {
                ValueKind::Other
            } else {
                ValueKind::Enum(values)
            }
        }
    }
}

/// The OWASP Top 10 for LLM Applications (2025) and Machine Learning Security Top 10 (2023),
/// as `spec/ai-threat-library.md` lists them.
pub const OWASP: &[(&str, &str)] = &[
    ("LLM01:2025", "Prompt Injection"),
    ("LLM02:2025", "Sensitive Information Disclosure"),
    ("LLM03:2025", "Supply Chain"),
    ("LLM04:2025", "Data and Model Poisoning"),
    ("LLM05:2025", "Improper Output Handling"),
    ("LLM06:2025", "Excessive Agency"),
    ("LLM07:2025", "System Prompt Leakage"),
    ("LLM08:2025", "Vector and Embedding Weaknesses"),
    ("LLM09:2025", "Misinformation"),
    ("LLM10:2025", "Unbounded Consumption"),
    ("ML01:2023", "Input Manipulation Attack"),
    ("ML02:2023", "Data Poisoning Attack"),
    ("ML03:2023", "Model Inversion Attack"),
    ("ML04:2023", "Membership Inference Attack"),
    ("ML05:2023", "Model Theft"),
    ("ML06:2023", "AI Supply Chain Attacks"),
    ("ML07:2023", "Transfer Learning Attack"),
    ("ML08:2023", "Model Skewing"),
    ("ML09:2023", "Output Integrity Attack"),
    ("ML10:2023", "Model Poisoning"),
];

pub fn owasp_title(id: &str) -> Option<&'static str> {
    OWASP.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text_with_cursor: &str) -> Cursor {
        let offset = text_with_cursor.find('|').unwrap_or(text_with_cursor.len());
        let text = text_with_cursor.replacen('|', "", 1);
        cursor_at(&text, offset)
    }

    fn path(cursor: &Cursor) -> (String, Place, &str) {
        (cursor.path.join("."), cursor.place, cursor.prefix.as_str())
    }

    #[test]
    fn block_values_keys_and_items() {
        let doc = "schema: threatlens/v1\ncomponents:\n  - id: chat\n    kind: pro|\n";
        assert_eq!(
            path(&at(doc)),
            ("components.kind".into(), Place::Value, "pro")
        );
        let doc = "components:\n  - id: chat\n    controls:\n      - ctl-a\n      - |\n";
        assert_eq!(
            path(&at(doc)),
            ("components.controls".into(), Place::Item, "")
        );
        let doc = "components:\n  - id: llm\n    ai:\n      hosting: |\n";
        assert_eq!(
            path(&at(doc)),
            ("components.ai.hosting".into(), Place::Value, "")
        );
        let doc = "components:\n  - id: llm\n    ki|\n";
        assert_eq!(path(&at(doc)), ("components".into(), Place::Key, "ki"));
        let doc = "components:\n  - id: llm\n  - |\n";
        assert_eq!(path(&at(doc)), ("components".into(), Place::Item, ""));
        let doc = "schema: threatlens/v1\n|";
        assert_eq!(path(&at(doc)), ("".into(), Place::Key, ""));
        let doc = "metadata:\n  owner: me\n\nscope:\n  in_scope:\n    systems: [a, |]\n";
        assert_eq!(
            path(&at(doc)),
            ("scope.in_scope.systems".into(), Place::Item, "")
        );
    }

    #[test]
    fn flow_collections_across_lines() {
        let doc = "flows:\n  - {id: ask, from: us|\n";
        assert_eq!(path(&at(doc)), ("flows.from".into(), Place::Value, "us"));
        let doc = "flows:\n  - {id: user-chat, from: user, to: chat-api, protocol: https,\n     carries: [prompts, an|";
        assert_eq!(path(&at(doc)), ("flows.carries".into(), Place::Item, "an"));
        let doc = "flows:\n  - {id: a, from: b, to: c}\n  - {id: d, |}\n";
        assert_eq!(path(&at(doc)), ("flows".into(), Place::Key, ""));
        let doc = "components:\n  - {id: x, ai: {hosting: self-hosted, memory: |}}\n";
        assert_eq!(
            path(&at(doc)),
            ("components.ai.memory".into(), Place::Value, "")
        );
        let doc = "controls:\n  - {id: c, capability: authn, status: implemented, iso27001: [A.8.|";
        assert_eq!(
            path(&at(doc)),
            ("controls.iso27001".into(), Place::Item, "A.8.")
        );
        let doc = "threats:\n  - id: t\n    owasp_llm: [LLM01:20|";
        assert_eq!(
            path(&at(doc)),
            ("threats.owasp_llm".into(), Place::Item, "LLM01:20")
        );
    }

    #[test]
    fn quotes_comments_and_block_scalars_do_not_confuse_it() {
        let doc = "scope:\n  statement: >\n    Brackets [ and { in text,\n    and a key: value.\n  in_scope:\n    systems: [|";
        assert_eq!(
            path(&at(doc)),
            ("scope.in_scope.systems".into(), Place::Item, "")
        );
        let doc = "assets:\n  - {id: a, name: \"x [y\", kind: |}  # [ comment\n";
        assert_eq!(path(&at(doc)), ("assets.kind".into(), Place::Value, ""));
        let doc = "assets:  # the assets {\n  - id: a\n    name: It's [fine]\n    kind: |\n";
        assert_eq!(path(&at(doc)), ("assets.kind".into(), Place::Value, ""));
    }

    #[test]
    fn tokens() {
        let text = "iso27001: [A.8.5, A.8.24]  code: \"code:src/**\"";
        let at = text.find("8.24").unwrap();
        let (s, e) = token_at(text, at);
        assert_eq!(&text[s..e], "A.8.24");
        let at = text.find("iso").unwrap() + 2;
        let (s, e) = token_at(text, at);
        assert_eq!(&text[s..e], "iso27001");
    }

    #[test]
    fn the_schema_knows_values_and_keys() {
        let kinds = |p: &str| value_kind(&p.split('.').map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(kinds("flows.from"), ValueKind::Reference(&[K::Component]));
        assert_eq!(kinds("controls.capability"), ValueKind::Capability);
        assert_eq!(kinds("controls.iso27001"), ValueKind::Iso27001);
        assert_eq!(kinds("playbooks.iso42001"), ValueKind::Other);
        assert_eq!(
            kinds("incident_response.playbooks.iso42001"),
            ValueKind::Iso42001
        );
        assert_eq!(kinds("threats.atlas"), ValueKind::Atlas);
        assert_eq!(kinds("threats.owasp_llm"), ValueKind::OwaspLlm);
        match kinds("flows.encryption") {
            ValueKind::Enum(values) => assert!(values.contains(&"tls1.3".to_owned())),
            other => panic!("{other:?}"),
        }
        match kinds("assets.pii") {
            ValueKind::Enum(values) => {
                assert_eq!(values, ["true", "false", "pseudonymised", "anonymised"])
            }
            other => panic!("{other:?}"),
        }
        match kinds("components.out_of_scope") {
            ValueKind::Enum(values) => assert_eq!(values, ["true", "false"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(kinds("assets.name"), ValueKind::Other);
        let keys: Vec<&str> = Schema::at(&["flows".to_owned()])
            .map(|s| s.keys().into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        assert!(
            keys.contains(&"from") && keys.contains(&"carries"),
            "{keys:?}"
        );
        let top: Vec<&str> = Schema::root().keys().into_iter().map(|(k, _)| k).collect();
        assert!(top.contains(&"trust_boundaries") && top.contains(&"schema"));
    }

    fn example(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../threat-models/examples")
            .join(name)
            .join("threatmodel.yaml")
    }

    /// Every reference in the example models sits where the cursor logic finds the path the crate
    /// names it by, and [`REFERENCES`] gives the kinds the crate expects.
    #[test]
    fn references_match_the_crate_on_the_examples() {
        let today: threatlens_models::Date = "2026-11-28"
            .parse()
            .unwrap_or_else(|e: String| panic!("{e}"));
        let mut seen = std::collections::BTreeSet::new();
        for name in ["rag-chatbot", "cv-inspection", "agent-tools"] {
            let analysis = threatlens_models::analyse_model_file(&example(name), today);
            for reference in analysis.model.references() {
                let role = reference.role.replace("[]", "");
                assert_eq!(
                    reference_kinds(&role),
                    Some(reference.expects),
                    "{role} in REFERENCES"
                );
                let text = &analysis.sources[reference.id.loc.file].text;
                let cursor = cursor_at(text, reference.id.loc.span.start_byte);
                let at = reference.id.loc.span.start.line;
                assert_eq!(cursor.path.join("."), role, "{name} line {at}");
                assert!(
                    matches!(cursor.place, Place::Value | Place::Item),
                    "{name} line {at}"
                );
                seen.insert(role);
            }
        }
        assert!(seen.len() >= 15, "{seen:?}");
    }

    /// Every id-valued key of the schema (except `id`) is a known reference.
    #[test]
    fn every_id_valued_key_of_the_schema_is_a_reference() {
        fn walk(schema: Schema<'_>, path: &mut Vec<String>, depth: usize, out: &mut Vec<String>) {
            if depth > 6 {
                return;
            }
            for (key, _) in schema.keys() {
                let Some(child) = schema.child(key) else {
                    continue;
                };
                path.push(key.to_owned());
                if child.item().def == Some("Id") && key != "id" {
                    out.push(path.join("."));
                }
                walk(child, path, depth + 1, out);
                path.pop();
            }
        }
        let mut found = Vec::new();
        walk(Schema::root(), &mut Vec::new(), 0, &mut found);
        for path in &found {
            assert!(
                reference_kinds(path).is_some(),
                "{path} is not in REFERENCES"
            );
        }
        assert_eq!(found.len(), REFERENCES.len(), "{found:?}");
    }
}

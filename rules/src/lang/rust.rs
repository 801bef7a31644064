//! The Rust front-end: resolves paths through `use` declarations and `let` bindings, follows
//! method chains (`Api::new()?.model(id)`), and hands calls and string literals to the engine.
//! Odd shapes (`Command::new("sh").arg("-c")…`) are tree-sitter queries in the catalogue.

use crate::catalogue::{Catalogue, Language};
use crate::engine::Emitter;
use crate::finding::Finding;
use crate::lang::node_text;
use crate::source::LineIndex;
use crate::value::{Arg, CallEvent, Const, Range, Sym};
use std::collections::HashMap;
use std::rc::Rc;
use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

/// The kind of a node, by id (see [`crate::lang::kind_names`]).
fn kind_of(node: Node) -> &'static str {
    static NAMES: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| crate::lang::kind_names(Language::Rust));
    NAMES
        .get(usize::from(node.kind_id()))
        .map_or("", String::as_str)
}

/// Field ids of the grammar, looked up once (by-name lookups compare strings on every call).
struct Fields {
    alias: std::num::NonZeroU16,
    argument: std::num::NonZeroU16,
    arguments: std::num::NonZeroU16,
    field: std::num::NonZeroU16,
    function: std::num::NonZeroU16,
    list: std::num::NonZeroU16,
    r#macro: std::num::NonZeroU16,
    name: std::num::NonZeroU16,
    path: std::num::NonZeroU16,
    pattern: std::num::NonZeroU16,
    value: std::num::NonZeroU16,
}

static FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| {
    let language = crate::lang::grammar(Language::Rust);
    // A name the grammar lacks maps to an id no node has.
    let id = |name: &str| {
        language
            .field_id_for_name(name)
            .unwrap_or(std::num::NonZeroU16::MAX)
    };
    Fields {
        alias: id("alias"),
        argument: id("argument"),
        arguments: id("arguments"),
        field: id("field"),
        function: id("function"),
        list: id("list"),
        r#macro: id("macro"),
        name: id("name"),
        path: id("path"),
        pattern: id("pattern"),
        value: id("value"),
    }
});

const MAX_DEPTH: usize = 150;

/// Methods that return (a view of) their receiver, for resolution purposes.
const TRANSPARENT_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_default",
    "unwrap_or",
    "unwrap_or_else",
    "to_string",
    "to_owned",
    "into",
    "as_str",
    "as_ref",
    "clone",
    "borrow",
    "as_slice",
    "as_bytes",
];

pub fn analyse(catalogue: &Catalogue, text: &str, tree: &Tree, lines: &LineIndex) -> Vec<Finding> {
    let mut emitter = Emitter::new(catalogue, text, lines, Language::Rust);
    let mut walker = Walker {
        text,
        emitter: &mut emitter,
        uses: HashMap::new(),
        locals: vec![HashMap::new()],
        depth: 0,
    };
    let root = tree.root_node();
    walker.collect_uses(root);
    walker.visit(root);
    run_queries(catalogue, text, tree, &mut emitter);
    let mut findings = emitter.findings;
    findings.sort_by_key(|f| (f.span.start_byte, f.rule.clone()));
    findings
}

fn run_queries(catalogue: &Catalogue, text: &str, tree: &Tree, emitter: &mut Emitter) {
    for matcher in catalogue
        .queries
        .iter()
        .filter(|q| q.language == Language::Rust)
    {
        let Ok(query) = matcher.query() else {
            continue;
        };
        let Some(finding) = query.capture_index_for_name("finding") else {
            continue;
        };
        // A `@subject` capture must not be a literal: constant commands are not injectable.
        let subject = query.capture_index_for_name("subject");
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(query, tree.root_node(), text.as_bytes());
        while let Some(m) = matches.next() {
            let constant_subject = m
                .captures()
                .iter()
                .any(|c| Some(c.index) == subject && kind_of(c.node).ends_with("_literal"));
            if constant_subject {
                continue;
            }
            if let Some(capture) = m.captures().iter().find(|c| c.index == finding) {
                emitter.on_query_match(matcher.rule, range(capture.node), None);
            }
        }
    }
}

fn range(node: Node) -> Range {
    (node.start_byte(), node.end_byte())
}

struct Walker<'a, 'e> {
    text: &'a str,
    emitter: &'e mut Emitter<'a>,
    /// `use` bindings: local name → full path (segments joined with `.`).
    uses: HashMap<String, String>,
    locals: Vec<HashMap<String, Sym>>,
    depth: usize,
}

impl<'a> Walker<'a, '_> {
    fn text(&self, node: Node) -> &'a str {
        node_text(node, self.text)
    }

    fn collect_uses(&mut self, root: Node) {
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if kind_of(node) == "use_declaration" {
                if let Some(argument) = node.child_by_field_id(FIELDS.argument.get()) {
                    self.use_tree(argument, "");
                }
                continue;
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
    }

    fn use_tree(&mut self, node: Node, prefix: &str) {
        let path = |text: &str| {
            let text = text.replace("::", ".").replace(char::is_whitespace, "");
            if prefix.is_empty() {
                text
            } else {
                format!("{prefix}.{text}")
            }
        };
        match kind_of(node) {
            "identifier" | "scoped_identifier" => {
                let full = path(self.text(node));
                let name = full.rsplit('.').next().unwrap_or(&full).to_string();
                if name != "self" {
                    self.uses.insert(name, full);
                } else if let Some(parent) = full.strip_suffix(".self") {
                    let name = parent.rsplit('.').next().unwrap_or(parent).to_string();
                    self.uses.insert(name, parent.to_string());
                }
            }
            "use_as_clause" => {
                if let (Some(target), Some(alias)) = (
                    node.child_by_field_id(FIELDS.path.get()),
                    node.child_by_field_id(FIELDS.alias.get()),
                ) {
                    self.uses
                        .insert(self.text(alias).to_string(), path(self.text(target)));
                }
            }
            "scoped_use_list" => {
                let base = node
                    .child_by_field_id(FIELDS.path.get())
                    .map(|p| path(self.text(p)))
                    .unwrap_or_else(|| prefix.to_string());
                if let Some(list) = node.child_by_field_id(FIELDS.list.get()) {
                    self.use_tree(list, &base);
                }
            }
            "use_list" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.use_tree(child, prefix);
                }
            }
            _ => {}
        }
    }

    fn resolve_path(&self, path: &str) -> Rc<str> {
        let path = path.replace("::", ".").replace(char::is_whitespace, "");
        let (first, rest) = path.split_once('.').unwrap_or((&path, ""));
        let base = match first {
            "crate" | "self" | "super" | "Self" => "<local>".to_string(),
            _ => self
                .uses
                .get(first)
                .cloned()
                .unwrap_or_else(|| first.to_string()),
        };
        if rest.is_empty() {
            base.into()
        } else {
            format!("{base}.{rest}").into()
        }
    }

    fn visit(&mut self, node: Node) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        match kind_of(node) {
            "function_item" | "closure_expression" => {
                self.locals.push(HashMap::new());
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.visit(child);
                }
                self.locals.pop();
            }
            "let_declaration" => {
                let value = node
                    .child_by_field_id(FIELDS.value.get())
                    .map(|v| self.eval(v));
                if let (Some(pattern), Some(value)) =
                    (node.child_by_field_id(FIELDS.pattern.get()), value)
                {
                    let name_node = if kind_of(pattern) == "mut_pattern" {
                        pattern.named_child(0)
                    } else {
                        Some(pattern)
                    };
                    if let Some(name_node) = name_node.filter(|n| kind_of(*n) == "identifier") {
                        let name = self.text(name_node).to_string();
                        self.check_named_secret(&value, &name);
                        if let Some(scope) = self.locals.last_mut() {
                            scope.insert(name, value);
                        }
                    }
                }
            }
            "const_item" | "static_item" => {
                let value = node
                    .child_by_field_id(FIELDS.value.get())
                    .map(|v| self.eval(v));
                if let (Some(name), Some(value)) =
                    (node.child_by_field_id(FIELDS.name.get()), value)
                {
                    let name = self.text(name).to_string();
                    self.check_named_secret(&value, &name);
                    if let Some(scope) = self.locals.first_mut() {
                        scope.insert(name, value);
                    }
                }
            }
            "use_declaration" | "line_comment" | "block_comment" | "attribute_item" => {}
            kind if is_expression(kind) => {
                self.eval(node);
            }
            _ => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.visit(child);
                }
            }
        }
        self.depth -= 1;
    }

    fn check_named_secret(&mut self, value: &Sym, name: &str) {
        if let (Some(text), Some(literal)) = (value.str_value(), value.literal) {
            self.emitter.on_string(text, literal, Some(name));
        }
    }

    fn lookup(&self, name: &str) -> Option<Sym> {
        self.locals.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn eval(&mut self, node: Node) -> Sym {
        if self.depth >= MAX_DEPTH {
            return Sym::default();
        }
        self.depth += 1;
        let sym = self.eval_inner(node);
        self.depth -= 1;
        sym
    }

    fn eval_inner(&mut self, node: Node) -> Sym {
        match kind_of(node) {
            "identifier" => {
                let name = self.text(node);
                self.lookup(name)
                    .unwrap_or_else(|| match self.uses.get(name) {
                        Some(path) => Sym::named(path.as_str()),
                        None => Sym::named(format!("?{name}")),
                    })
            }
            "scoped_identifier" => Sym::named(self.resolve_path(self.text(node))),
            "generic_function" => node
                .child_by_field_id(FIELDS.function.get())
                .map(|f| self.eval(f))
                .unwrap_or_default(),
            "string_literal" | "raw_string_literal" => {
                let mut value = String::new();
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if matches!(kind_of(child), "string_content" | "escape_sequence") {
                        value.push_str(self.text(child));
                    }
                }
                self.emitter.on_string(&value, range(node), None);
                Sym {
                    konst: Some(Const::Str(value.into())),
                    literal: Some(range(node)),
                    ..Sym::default()
                }
            }
            "boolean_literal" => Sym::constant(Const::Bool(self.text(node) == "true")),
            "integer_literal" => {
                Sym::constant(self.text(node).parse().map_or(Const::Float, Const::Int))
            }
            "try_expression"
            | "await_expression"
            | "reference_expression"
            | "parenthesized_expression" => node
                .named_child(node.named_child_count().saturating_sub(1) as u32)
                .map(|inner| self.eval(inner))
                .unwrap_or_default(),
            "field_expression" => {
                let object = node
                    .child_by_field_id(FIELDS.value.get())
                    .map(|v| self.eval(v))
                    .unwrap_or_default();
                let field = node
                    .child_by_field_id(FIELDS.field.get())
                    .map_or("", |f| self.text(f));
                Sym {
                    qname: object.qname().map(|q| format!("{q}.{field}").into()),
                    ..Sym::default()
                }
            }
            "call_expression" => self.eval_call(node),
            "macro_invocation" => self.eval_macro(node),
            _ => {
                let mut cursor = node.walk();
                let children: Vec<Node> = node.named_children(&mut cursor).collect();
                for child in children {
                    self.visit(child);
                }
                Sym::default()
            }
        }
    }

    /// `format!("http://{host}/x", …)`: the format string is what is known of the result.
    /// Other macros are opaque, but string literals in them are still checked for secrets.
    fn eval_macro(&mut self, node: Node) -> Sym {
        let name = node
            .child_by_field_id(FIELDS.r#macro.get())
            .map_or("", |m| self.text(m));
        let mut cursor = node.walk();
        let Some(tokens) = node
            .named_children(&mut cursor)
            .find(|c| kind_of(*c) == "token_tree")
        else {
            return Sym::default();
        };
        let mut first = None;
        let mut cursor = tokens.walk();
        let literals: Vec<Node> = tokens
            .named_children(&mut cursor)
            .filter(|c| matches!(kind_of(*c), "string_literal" | "raw_string_literal"))
            .collect();
        for literal in literals {
            let sym = self.eval(literal);
            first.get_or_insert(sym);
        }
        match (name.rsplit("::").next(), first) {
            (Some("format"), Some(format)) => {
                let text = format.str_value().unwrap_or("").to_string();
                if text.contains('{') {
                    Sym {
                        template: Some(text.into()),
                        ..Sym::default()
                    }
                } else {
                    format
                }
            }
            _ => Sym::default(),
        }
    }

    fn eval_call(&mut self, node: Node) -> Sym {
        let Some(function) = node.child_by_field_id(FIELDS.function.get()) else {
            return Sym::default();
        };
        let mut receiver = None;
        // In a method chain the finding starts at the method that matters, not the chain's head.
        let chained = kind_of(function) == "field_expression"
            && function
                .child_by_field_id(FIELDS.value.get())
                .is_some_and(|v| kind_of(v) == "call_expression");
        let (callee, callee_name) = if kind_of(function) == "field_expression" {
            let object = function
                .child_by_field_id(FIELDS.value.get())
                .map(|v| self.eval(v))
                .unwrap_or_default();
            let field = function.child_by_field_id(FIELDS.field.get());
            let method = field.map_or("", |f| self.text(f));
            let qname = object.qname().map(|q| format!("{q}.{method}").into());
            receiver = Some((object, method));
            (
                Sym {
                    qname,
                    ..Sym::default()
                },
                field.map(range),
            )
        } else {
            let callee = self.eval(function);
            let name = match kind_of(function) {
                "scoped_identifier" => function.child_by_field_id(FIELDS.name.get()).map(range),
                "identifier" => Some(range(function)),
                _ => None,
            };
            (callee, name)
        };
        let mut args = Vec::new();
        let mut parens = None;
        if let Some(arguments) = node.child_by_field_id(FIELDS.arguments.get()) {
            parens = Some((
                arguments.start_byte() + 1,
                arguments.end_byte().saturating_sub(1),
            ));
            let mut cursor = arguments.walk();
            let children: Vec<Node> = arguments.named_children(&mut cursor).collect();
            for child in children {
                if matches!(
                    kind_of(child),
                    "line_comment" | "block_comment" | "attribute_item"
                ) {
                    continue;
                }
                let sym = self.eval(child);
                args.push(Arg::positional(sym, range(child)));
            }
        }
        let start = match (chained, callee_name) {
            (true, Some(name)) => name.0,
            _ => node.start_byte(),
        };
        if let Some(qname) = callee.qname() {
            self.emitter.on_call(&CallEvent {
                qname,
                range: (start, node.end_byte()),
                callee: (start, function.end_byte()),
                callee_name,
                args: &args,
                parens,
                callee_taint: None,
                star_args: false,
                star_kwargs: false,
            });
        }
        if let Some((object, method)) = receiver
            && TRANSPARENT_METHODS.contains(&method)
        {
            return object;
        }
        Sym {
            qname: callee.qname().map(|q| format!("{q}()").into()),
            ..Sym::default()
        }
    }
}

fn is_expression(kind: &str) -> bool {
    kind.ends_with("_expression") || kind.ends_with("_literal")
}

//! Mermaid `flowchart LR`: boundaries are nested `subgraph`s, components are nodes shaped by
//! kind, flows are labelled edges.
//!
//! Node and subgraph ids are made up (`c_…`, `b_…`: ASCII letters, digits and `_`, unique), so
//! no model id can clash with Mermaid's syntax or keywords (`end`); the real ids and names are
//! in quoted labels where `"`, `<`, `>`, `&`, `#`, `|`, `;` and backquotes are written as
//! Mermaid entity codes. Problem edges (weak crossings, findings) are coloured by `linkStyle`
//! with their edge numbers, components with findings get the class `finding`.

use super::{ALERT, Diagram, Item, Shape, indent, one_line, trust_fill, trust_stroke};
use std::collections::HashSet;
use std::fmt::Write;

pub fn render(diagram: &Diagram) -> String {
    let mut ids = Ids::default();
    let boundary_ids: Vec<String> = diagram
        .boundaries
        .iter()
        .map(|b| ids.make("b", &b.key))
        .collect();
    let node_ids: Vec<String> = diagram
        .nodes
        .iter()
        .map(|n| ids.make("c", &n.key))
        .collect();

    let mut out = String::new();
    if let Some(title) = &diagram.title {
        // A comment: a front-matter title would need YAML escaping.
        let _ = writeln!(out, "%% {}", one_line(title));
    }
    out.push_str("flowchart LR\n");
    let mut depth = 1;
    for item in diagram.nesting() {
        match item {
            Item::Enter(b) => {
                let boundary = &diagram.boundaries[b];
                let _ = writeln!(
                    out,
                    "{}subgraph {}[\"{}\"]",
                    indent(depth),
                    boundary_ids[b],
                    escape(&boundary.title())
                );
                depth += 1;
            }
            Item::Leave(_) => {
                depth -= 1;
                let _ = writeln!(out, "{}end", indent(depth));
            }
            Item::Node(n) => {
                let node = &diagram.nodes[n];
                let label = label(&node.label_lines());
                let (open, close) = match node.shape {
                    Shape::Entity => ("[", "]"),
                    Shape::Process => ("(", ")"),
                    Shape::Store => ("[(", ")]"),
                    Shape::Model => ("{{", "}}"),
                    Shape::Agent => ("[[", "]]"),
                    Shape::Tool => ("[/", "/]"),
                };
                let _ = writeln!(
                    out,
                    "{}{}{open}\"{label}\"{close}",
                    indent(depth),
                    node_ids[n]
                );
            }
        }
    }

    // `linkStyle` numbers edges in the order they are written.
    let mut alerts = Vec::new();
    let mut written = 0;
    for edge in &diagram.edges {
        let (Some(from), Some(to)) = (node_ids.get(edge.from), node_ids.get(edge.to)) else {
            continue;
        };
        let arrow = match (edge.is_runtime(), edge.bidirectional) {
            (true, false) => "-->",
            (true, true) => "<-->",
            (false, false) => "-.->",
            (false, true) => "<-.->",
        };
        let _ = writeln!(
            out,
            "  {from} {arrow}|\"{}\"| {to}",
            label(&edge.label_lines())
        );
        if edge.alert() {
            alerts.push(written.to_string());
        }
        written += 1;
    }

    for (b, boundary) in diagram.boundaries.iter().enumerate() {
        let _ = writeln!(
            out,
            "  style {} fill:{},stroke:{}",
            boundary_ids[b],
            trust_fill(boundary.trust),
            trust_stroke(boundary.trust)
        );
    }
    out.push_str("  classDef entity fill:#eeeeee,stroke:#555555\n");
    out.push_str("  classDef outOfScope stroke-dasharray:4 3,color:#777777\n");
    let _ = writeln!(out, "  classDef finding stroke:{ALERT},stroke-width:3px");
    let class = |out: &mut String, name: &str, which: &dyn Fn(usize) -> bool| {
        let members: Vec<&str> = (0..diagram.nodes.len())
            .filter(|&n| which(n))
            .map(|n| node_ids[n].as_str())
            .collect();
        if !members.is_empty() {
            let _ = writeln!(out, "  class {} {name}", members.join(","));
        }
    };
    class(&mut out, "entity", &|n| {
        diagram.nodes[n].shape == Shape::Entity
    });
    class(&mut out, "outOfScope", &|n| diagram.nodes[n].out_of_scope);
    class(&mut out, "finding", &|n| {
        !diagram.nodes[n].findings.is_empty()
    });
    if !alerts.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:{ALERT},stroke-width:2px,color:{ALERT}",
            alerts.join(",")
        );
    }
    out
}

/// Label lines, escaped, joined by `<br/>`.
fn label(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| escape(line))
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// Text for a quoted Mermaid label: the characters Mermaid or its HTML labels would read as
/// syntax become entity codes (`#quot;`, `#lt;`, `#35;`, …); control characters become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '|' => out.push_str("#124;"),
            ';' => out.push_str("#59;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Made-up Mermaid ids: `prefix_` + the key's ASCII letters and digits (others become `_`),
/// with a numeric suffix when two keys would give the same id.
#[derive(Default)]
struct Ids(HashSet<String>);

impl Ids {
    fn make(&mut self, prefix: &str, key: &str) -> String {
        let base: String = std::iter::once(format!("{prefix}_"))
            .chain(key.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    "_".to_owned()
                }
            }))
            .collect();
        let mut id = base.clone();
        let mut n = 1;
        while !self.0.insert(id.clone()) {
            n += 1;
            id = format!("{base}_{n}");
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_mermaid_reads_as_syntax() {
        assert_eq!(
            escape("a \"b\" <c> & #d | e; `f`\n"),
            "a #quot;b#quot; #lt;c#gt; #amp; #35;d #124; e#59; #96;f#96; "
        );
    }

    #[test]
    fn ids_are_plain_and_unique() {
        let mut ids = Ids::default();
        assert_eq!(ids.make("c", "chat-api"), "c_chat_api");
        assert_eq!(ids.make("c", "chat_api"), "c_chat_api_2");
        assert_eq!(ids.make("c", "end"), "c_end");
        assert_eq!(ids.make("c", "ü\"x"), "c___x");
    }
}

//! Graphviz DOT: boundaries are nested `cluster_…` subgraphs, components are nodes shaped by
//! kind, flows are labelled edges.
//!
//! petgraph's `Dot` writes one flat graph; clusters need the nesting, so this is written by
//! hand from the same [`Diagram`] as Mermaid. Every id and label is a quoted string (`"` and
//! `\` escaped, so `\N`-style label escapes cannot appear by accident); line breaks in labels
//! are DOT's `\n`.

use super::{ALERT, Diagram, Item, Shape, indent, trust_fill, trust_stroke};
use std::fmt::Write;

pub fn render(diagram: &Diagram) -> String {
    let mut out = String::from("digraph \"threat model\" {\n");
    let mut graph_attrs = vec!["rankdir=LR".to_owned(), "fontname=\"Helvetica\"".to_owned()];
    if let Some(title) = &diagram.title {
        graph_attrs.push(format!("label={}", quote(title)));
        graph_attrs.push("labelloc=t".to_owned());
    }
    let _ = writeln!(out, "  graph [{}];", graph_attrs.join(", "));
    out.push_str(
        "  node [fontname=\"Helvetica\", fontsize=11, style=filled, fillcolor=\"#ffffff\"];\n",
    );
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");

    let mut depth = 1;
    for item in diagram.nesting() {
        match item {
            Item::Enter(b) => {
                let boundary = &diagram.boundaries[b];
                let at = indent(depth);
                let _ = writeln!(
                    out,
                    "{at}subgraph {} {{",
                    quote(&format!("cluster_{}", boundary.key))
                );
                let inner = indent(depth + 1);
                let _ = writeln!(out, "{inner}label={};", quote(&boundary.title()));
                let _ = writeln!(out, "{inner}style=\"rounded,filled\";");
                let _ = writeln!(
                    out,
                    "{inner}fillcolor={};",
                    quote(trust_fill(boundary.trust))
                );
                let _ = writeln!(out, "{inner}color={};", quote(trust_stroke(boundary.trust)));
                depth += 1;
            }
            Item::Leave(_) => {
                depth -= 1;
                let _ = writeln!(out, "{}}}", indent(depth));
            }
            Item::Node(n) => {
                let node = &diagram.nodes[n];
                let mut attrs = vec![format!("label={}", label(&node.label_lines()))];
                let mut style = vec!["filled"];
                match node.shape {
                    Shape::Entity => {
                        attrs.push("shape=box".to_owned());
                        attrs.push("fillcolor=\"#eeeeee\"".to_owned());
                    }
                    Shape::Process => {
                        attrs.push("shape=box".to_owned());
                        style.insert(0, "rounded");
                    }
                    Shape::Store => attrs.push("shape=cylinder".to_owned()),
                    Shape::Model => attrs.push("shape=hexagon".to_owned()),
                    Shape::Agent => {
                        attrs.push("shape=box".to_owned());
                        attrs.push("peripheries=2".to_owned());
                    }
                    Shape::Tool => attrs.push("shape=parallelogram".to_owned()),
                }
                if node.out_of_scope {
                    style.push("dashed");
                }
                if style != ["filled"] {
                    attrs.push(format!("style={}", quote(&style.join(","))));
                }
                if !node.findings.is_empty() {
                    attrs.push(format!("color={}", quote(ALERT)));
                    attrs.push("penwidth=2".to_owned());
                }
                let _ = writeln!(
                    out,
                    "{}{} [{}];",
                    indent(depth),
                    quote(&node.key),
                    attrs.join(", ")
                );
            }
        }
    }

    for edge in &diagram.edges {
        let (Some(from), Some(to)) = (diagram.nodes.get(edge.from), diagram.nodes.get(edge.to))
        else {
            continue;
        };
        let mut attrs = vec![format!("label={}", label(&edge.label_lines()))];
        if edge.bidirectional {
            attrs.push("dir=both".to_owned());
        }
        if !edge.is_runtime() {
            attrs.push("style=dashed".to_owned());
        }
        if edge.alert() {
            attrs.push(format!("color={}", quote(ALERT)));
            attrs.push(format!("fontcolor={}", quote(ALERT)));
            attrs.push("penwidth=2".to_owned());
        }
        let _ = writeln!(
            out,
            "  {} -> {} [{}];",
            quote(&from.key),
            quote(&to.key),
            attrs.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

/// Label lines, each escaped, joined by DOT's `\n`.
fn label(lines: &[String]) -> String {
    let escaped: Vec<String> = lines.iter().map(|line| escape(line)).collect();
    format!("\"{}\"", escaped.join("\\n"))
}

/// A DOT quoted string.
fn quote(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

/// The inside of a DOT quoted string: `"` and `\` escaped, control characters as spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escape_quotes_and_backslashes() {
        assert_eq!(quote(r#"a "b" \N"#), r#""a \"b\" \\N""#);
        assert_eq!(quote("x\ny"), "\"x y\"");
        assert_eq!(label(&["a".into(), "b\"".into()]), r#""a\nb\"""#);
    }
}

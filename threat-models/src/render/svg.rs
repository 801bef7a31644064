//! SVG, laid out and drawn by layout-rs (pure Rust; no Graphviz needed).
//!
//! The [`Diagram`] is handed to layout-rs's `VisualGraph` directly (not through DOT text).
//! layout-rs has no clusters, so each component's label names its innermost boundary and its
//! fill is the boundary's trust colour. Shapes follow the other formats as far as layout-rs
//! can draw them: entities and processes are boxes (processes rounded), stores are records
//! (one field a line), models ellipses, agents double circles.
//!
//! One font size throughout: layout-rs keeps its CSS font classes in a `HashMap`, so several
//! sizes would come out in a different order on each run.

use super::{ALERT, Diagram, Shape, trust_fill, trust_word};
use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, RecordDef, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::panic::{AssertUnwindSafe, catch_unwind};

const FONT_SIZE: usize = 12;
const ORIENTATION: Orientation = Orientation::LeftToRight;

pub fn render(diagram: &Diagram) -> Result<String, String> {
    let mut graph = VisualGraph::new(ORIENTATION);
    let handles: Vec<_> = diagram
        .nodes
        .iter()
        .map(|node| {
            let mut lines = node.label_lines();
            if let Some(b) = node.boundary.and_then(|b| diagram.boundaries.get(b)) {
                lines.push(format!("in {} ({})", b.id, trust_word(b.trust)));
            }
            let (line, width) = if node.findings.is_empty() {
                ("black", 1)
            } else {
                (ALERT, 3)
            };
            let fill = match node.shape {
                Shape::Entity => "#eeeeee",
                _ => trust_fill(node.trust),
            };
            let rounded = if node.shape == Shape::Process { 12 } else { 0 };
            let style = StyleAttr::new(
                Color::fast(line),
                width,
                Some(Color::fast(fill)),
                rounded,
                FONT_SIZE,
            );
            graph.add_node(element(node.shape, &lines, style))
        })
        .collect();
    if handles.is_empty() {
        let note = StyleAttr::new(Color::fast("black"), 1, None, 0, FONT_SIZE);
        graph.add_node(element(
            Shape::Entity,
            &["no components in the model".to_owned()],
            note,
        ));
    }
    for edge in &diagram.edges {
        let (Some(&from), Some(&to)) = (handles.get(edge.from), handles.get(edge.to)) else {
            continue;
        };
        let (color, width) = if edge.alert() {
            (ALERT, 2)
        } else {
            ("black", 1)
        };
        let line = if edge.is_runtime() {
            LineStyleKind::Normal
        } else {
            LineStyleKind::Dashed
        };
        let start = if edge.bidirectional {
            LineEndKind::Arrow
        } else {
            LineEndKind::None
        };
        let style = StyleAttr::new(Color::fast(color), width, None, 0, FONT_SIZE);
        let arrow = Arrow::new(
            start,
            LineEndKind::Arrow,
            line,
            &edge.label_lines().join("\n"),
            &style,
            &None,
            &None,
        );
        graph.add_edge(arrow, from, to);
    }

    // layout-rs asserts its own invariants as it lays out; a graph shape it cannot handle must
    // be an error for this diagram, not the end of the process (or of the language server).
    let mut writer = SVGWriter::new();
    catch_unwind(AssertUnwindSafe(|| {
        graph.do_it(false, false, false, &mut writer);
        writer.finalize()
    }))
    .map_err(|_| "the SVG layout failed on this model; use --format dot or mermaid".to_owned())
}

fn element(shape: Shape, lines: &[String], style: StyleAttr) -> Element {
    let text = lines.join("\n");
    // As layout-rs's own DOT front-end does: shapes are created in the flipped orientation.
    let orientation = ORIENTATION.flip();
    let (kind, size) = match shape {
        Shape::Entity | Shape::Process | Shape::Tool => (
            ShapeKind::new_box(&text),
            padded(text_size(lines), 1.0, 16.0),
        ),
        // Fields are drawn at layout-rs's own sizes: measure them its way.
        Shape::Store => {
            let record = ShapeKind::new_record(&RecordDef::Array(
                lines.iter().map(|l| RecordDef::new_text(l)).collect(),
            ));
            let size = get_shape_size(orientation, &record, FONT_SIZE, false);
            (record, size)
        }
        // An ellipse holds a w×h text box when its axes are √2 times longer.
        Shape::Model => (
            ShapeKind::new_circle(&text),
            padded(text_size(lines), 1.42, 8.0),
        ),
        Shape::Agent => {
            let size = padded(text_size(lines), 1.42, 8.0);
            let side = size.x.max(size.y);
            (ShapeKind::new_double_circle(&text), Point::new(side, side))
        }
    };
    Element::create(kind, style, orientation, size)
}

/// The size of text in SVG's default serif font: about 0.6 em a character (layout-rs's
/// measure, 1 em, draws boxes twice as wide as their text), a line and a half of margin for
/// the way layout-rs places lines.
fn text_size(lines: &[String]) -> Point {
    let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let em = FONT_SIZE as f64;
    Point::new(
        widest.max(1) as f64 * em * 0.6,
        (lines.len() + 1) as f64 * em,
    )
}

fn padded(size: Point, scale: f64, padding: f64) -> Point {
    Point::new(size.x * scale + padding, size.y * scale + padding)
}

//! Diagrams of a model's data flows: Mermaid, Graphviz DOT and SVG.
//!
//! ```text
//! Model + Graph (+ findings) ──Diagram::new / Diagram::of──► Diagram ──► mermaid · dot · svg
//! ```
//!
//! A [`Diagram`] is what every format draws, computed once: trust boundaries (nested through
//! `parent:`, with their trust level), components (a [`Shape`] by kind, placed in their
//! innermost boundary), flows between components that exist (protocol, kind, direction, and a
//! warning when a flow crosses a boundary unencrypted or unauthenticated), and — from
//! [`Diagram::of`] — the rule ids of active missing-control findings on each element.
//!
//! - **Deterministic.** Everything is in declaration order (boundaries, components, flows), so
//!   the same model always gives the same text (golden tests compare it byte for byte).
//! - **Any id renders.** Mermaid gets sanitised, unique node ids with the real id in a quoted,
//!   escaped label; DOT quotes and escapes every id and label.
//! - **Partial models.** A model with errors draws what was read: flows whose ends do not
//!   resolve are left out, parent cycles are already cut by the graph, and boundaries with no
//!   component inside (at any depth) are not drawn.
//! - **SVG** is laid out by layout-rs (pure Rust, no Graphviz). It has no clusters, so a
//!   component's boundary is in its label and its trust level is its fill colour.

mod dot;
mod mermaid;
mod svg;

use crate::ModelAnalysis;
use crate::format::{Authn, BoundaryKind, ComponentKind, Encryption, FlowKind, Trust};
use crate::graph::Graph;
use crate::model::Model;
use std::collections::{BTreeMap, HashSet};
use threatlens_rules::Category;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Mermaid,
    Dot,
    Svg,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Mermaid, Format::Dot, Format::Svg];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
            Format::Svg => "svg",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                format!("unknown diagram format `{text}` (expected mermaid, dot or svg)")
            })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a component is drawn, by kind (the same in every format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// External entities: a plain rectangle.
    Entity,
    /// Processes, pipelines, notebooks: a rounded rectangle.
    Process,
    /// Data, vector and feature stores, model registries: a cylinder.
    Store,
    /// LLMs and ML models: a hexagon.
    Model,
    /// Agents: a double-bordered box.
    Agent,
    /// Tools: a parallelogram.
    Tool,
}

impl Shape {
    fn of(kind: ComponentKind) -> Shape {
        match kind {
            ComponentKind::ExternalEntity => Shape::Entity,
            ComponentKind::Process | ComponentKind::Pipeline | ComponentKind::Notebook => {
                Shape::Process
            }
            ComponentKind::DataStore
            | ComponentKind::VectorStore
            | ComponentKind::FeatureStore
            | ComponentKind::ModelRegistry => Shape::Store,
            ComponentKind::MlModel | ComponentKind::Llm => Shape::Model,
            ComponentKind::Agent => Shape::Agent,
            ComponentKind::Tool => Shape::Tool,
        }
    }
}

/// A trust boundary that is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary {
    /// Unique among the diagram's boundaries (the model id; a duplicate gets a `~N` suffix).
    pub key: String,
    pub id: String,
    pub name: Option<String>,
    pub kind: Option<BoundaryKind>,
    pub trust: Trust,
    /// The enclosing boundary (index into [`Diagram::boundaries`]).
    pub parent: Option<usize>,
}

impl Boundary {
    /// `Name · id (trusted network)`, or `id (trusted network)` without a name.
    pub fn title(&self) -> String {
        let what = match self.kind {
            Some(kind) => format!("{} {}", trust_word(self.trust), boundary_kind_word(kind)),
            None => trust_word(self.trust).to_owned(),
        };
        match &self.name {
            Some(name) if name != &self.id => format!("{name} · {} ({what})", self.id),
            _ => format!("{} ({what})", self.id),
        }
    }
}

/// A component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Unique among the diagram's nodes (the model id; a duplicate gets a `~N` suffix).
    pub key: String,
    pub id: String,
    pub name: Option<String>,
    pub kind: ComponentKind,
    pub shape: Shape,
    /// Innermost boundary (index into [`Diagram::boundaries`]).
    pub boundary: Option<usize>,
    /// The trust of its innermost boundary (or the default for components in none).
    pub trust: Trust,
    pub out_of_scope: bool,
    /// Rule ids of active missing-control findings on it.
    pub findings: Vec<String>,
}

impl Node {
    /// The lines of its label: the name (or id); the id and kind; the findings.
    pub fn label_lines(&self) -> Vec<String> {
        let kind = component_kind_word(self.kind);
        let mut lines = match &self.name {
            Some(name) if name != &self.id => vec![name.clone(), format!("{} · {kind}", self.id)],
            _ => vec![self.id.clone(), kind.to_owned()],
        };
        if self.out_of_scope {
            lines.push("out of scope".to_owned());
        }
        if !self.findings.is_empty() {
            lines.push(format!("⚠ {}", self.findings.join(", ")));
        }
        lines
    }
}

/// A flow between two components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub id: String,
    /// Ends (indices into [`Diagram::nodes`]).
    pub from: usize,
    pub to: usize,
    pub protocol: Option<String>,
    pub kind: FlowKind,
    pub bidirectional: bool,
    /// Crosses a trust boundary with `encryption: none`.
    pub unencrypted_crossing: bool,
    /// Crosses a trust boundary with `authn: none`.
    pub unauthenticated_crossing: bool,
    /// Rule ids of active missing-control findings on it.
    pub findings: Vec<String>,
}

impl Edge {
    /// Whether the edge is drawn as a problem: a weak crossing or a finding.
    pub fn alert(&self) -> bool {
        self.unencrypted_crossing || self.unauthenticated_crossing || !self.findings.is_empty()
    }

    /// Deployment and telemetry flows carry no requests: drawn dashed.
    pub fn is_runtime(&self) -> bool {
        self.kind.is_runtime()
    }

    /// The lines of its label: the flow id; protocol and kind; warnings.
    pub fn label_lines(&self) -> Vec<String> {
        let mut lines = vec![self.id.clone()];
        let kind = match self.kind {
            FlowKind::Data => None,
            FlowKind::ToolCall => Some("tool call"),
            FlowKind::Telemetry => Some("telemetry"),
            FlowKind::Deployment => Some("deployment"),
        };
        let how: Vec<&str> = self.protocol.as_deref().into_iter().chain(kind).collect();
        if !how.is_empty() {
            lines.push(how.join(" · "));
        }
        let mut warnings: Vec<String> = Vec::new();
        if self.unencrypted_crossing {
            warnings.push("unencrypted".to_owned());
        }
        if self.unauthenticated_crossing {
            warnings.push("unauthenticated".to_owned());
        }
        warnings.extend(self.findings.iter().cloned());
        if !warnings.is_empty() {
            lines.push(format!("⚠ {}", warnings.join(", ")));
        }
        lines
    }
}

/// One step of the nesting walk: boundaries open and close around their components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Enter(usize),
    Node(usize),
    Leave(usize),
}

/// What every format draws (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagram {
    /// `metadata.title`, else `metadata.id`.
    pub title: Option<String>,
    pub boundaries: Vec<Boundary>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// Nesting deeper than this is drawn with the same indentation (output stays linear in size).
const MAX_INDENT: usize = 16;

impl Diagram {
    /// The diagram of an analysed model, marking the elements that have active (not suppressed)
    /// missing-control findings.
    pub fn of(analysis: &ModelAnalysis) -> Diagram {
        let mut findings: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (_, finding) in analysis.report.findings() {
            if finding.category != Category::MissingControl || finding.suppressed.is_some() {
                continue;
            }
            if let Some(target) = finding.target.as_deref() {
                let rules = findings.entry(target).or_default();
                if !rules.contains(&finding.rule) {
                    rules.push(finding.rule.clone());
                }
            }
        }
        let mut diagram = Diagram::new(&analysis.model, &analysis.graph);
        for node in &mut diagram.nodes {
            node.findings = findings.get(node.id.as_str()).cloned().unwrap_or_default();
            node.findings.sort();
        }
        for edge in &mut diagram.edges {
            edge.findings = findings.get(edge.id.as_str()).cloned().unwrap_or_default();
            edge.findings.sort();
        }
        diagram
    }

    /// The diagram of a model and its graph (no findings marked).
    pub fn new(model: &Model, graph: &Graph) -> Diagram {
        let title = model.metadata.as_ref().and_then(|m| {
            m.title
                .clone()
                .or_else(|| m.id.as_ref().map(|id| id.value.clone()))
        });

        // Boundaries with a component inside, at any depth.
        let mut populated = vec![false; model.trust_boundaries.len()];
        for c in 0..model.components.len() {
            for b in graph.boundary_chain(c) {
                populated[b] = true;
            }
        }
        let mut boundary_keys = Keys::default();
        let mut drawn: Vec<Option<usize>> = vec![None; model.trust_boundaries.len()];
        let mut boundaries = Vec::new();
        for (b, boundary) in model.trust_boundaries.iter().enumerate() {
            if !populated[b] {
                continue;
            }
            drawn[b] = Some(boundaries.len());
            boundaries.push(Boundary {
                key: boundary_keys.unique(boundary.id.as_str()),
                id: boundary.id.value.0.clone(),
                name: boundary.name.clone(),
                kind: boundary.kind,
                trust: boundary.trust,
                parent: None,
            });
        }
        for (b, index) in drawn.iter().enumerate() {
            if let Some(index) = *index {
                // A populated boundary's parent is populated too (it encloses the same component).
                boundaries[index].parent = graph.parent_boundary(b).and_then(|p| drawn[p]);
            }
        }

        let mut node_keys = Keys::default();
        let nodes = model
            .components
            .iter()
            .enumerate()
            .map(|(c, component)| Node {
                key: node_keys.unique(component.id.as_str()),
                id: component.id.value.0.clone(),
                name: component.name.clone(),
                kind: component.kind,
                shape: Shape::of(component.kind),
                boundary: graph.boundary_of(c).and_then(|b| drawn[b]),
                trust: graph.trust(c),
                out_of_scope: component.out_of_scope,
                findings: Vec::new(),
            })
            .collect();

        let edges = model
            .flows
            .iter()
            .enumerate()
            .filter_map(|(f, flow)| {
                let (from, to) = graph.ends(f)?;
                let crosses = graph.crosses(f);
                Some(Edge {
                    id: flow.id.value.0.clone(),
                    from,
                    to,
                    protocol: flow.protocol.clone(),
                    kind: flow.kind,
                    bidirectional: flow.bidirectional,
                    unencrypted_crossing: crosses && flow.encryption == Some(Encryption::None),
                    unauthenticated_crossing: crosses && flow.authn == Some(Authn::None),
                    findings: Vec::new(),
                })
            })
            .collect();

        Diagram {
            title,
            boundaries,
            nodes,
            edges,
        }
    }

    /// Components outside every boundary first, then each top-level boundary with its
    /// components and, inside them, its child boundaries — all in declaration order. Iterative,
    /// so any nesting depth is fine.
    pub fn nesting(&self) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::with_capacity(self.nodes.len() + 2 * self.boundaries.len());
        let members =
            |b: Option<usize>| (0..self.nodes.len()).filter(move |&n| self.nodes[n].boundary == b);
        let children = |b: Option<usize>| {
            (0..self.boundaries.len()).filter(move |&c| self.boundaries[c].parent == b)
        };
        items.extend(members(None).map(Item::Node));
        let mut stack: Vec<Item> = children(None).rev().map(Item::Enter).collect();
        let mut seen: HashSet<usize> = HashSet::new();
        while let Some(item) = stack.pop() {
            match item {
                Item::Enter(b) if seen.insert(b) => {
                    items.push(Item::Enter(b));
                    items.extend(members(Some(b)).map(Item::Node));
                    stack.push(Item::Leave(b));
                    stack.extend(children(Some(b)).rev().map(Item::Enter));
                }
                Item::Enter(_) => {}
                other => items.push(other),
            }
        }
        items
    }

    /// Render in `format`. Only SVG can fail (the layout engine); text formats always succeed.
    pub fn render(&self, format: Format) -> Result<String, String> {
        match format {
            Format::Mermaid => Ok(self.mermaid()),
            Format::Dot => Ok(self.dot()),
            Format::Svg => self.svg(),
        }
    }

    /// Mermaid `flowchart LR`.
    pub fn mermaid(&self) -> String {
        mermaid::render(self)
    }

    /// Graphviz DOT, trust boundaries as nested clusters.
    pub fn dot(&self) -> String {
        dot::render(self)
    }

    /// SVG, laid out by layout-rs.
    pub fn svg(&self) -> Result<String, String> {
        svg::render(self)
    }
}

/// Indentation for nesting `depth` (capped, see [`MAX_INDENT`]).
fn indent(depth: usize) -> String {
    "  ".repeat(depth.min(MAX_INDENT))
}

/// Hands out unique keys: the id itself, then `id~2`, `id~3`, … for duplicates.
#[derive(Default)]
struct Keys(HashSet<String>);

impl Keys {
    fn unique(&mut self, id: &str) -> String {
        let mut key = id.to_owned();
        let mut n = 1;
        while !self.0.insert(key.clone()) {
            n += 1;
            key = format!("{id}~{n}");
        }
        key
    }
}

/// Fill colours by trust level (light, so black text stays readable).
fn trust_fill(trust: Trust) -> &'static str {
    match trust {
        Trust::Untrusted => "#fdecea",
        Trust::SemiTrusted => "#fff4d6",
        Trust::Trusted => "#e8f5e9",
    }
}

/// Border colours by trust level.
fn trust_stroke(trust: Trust) -> &'static str {
    match trust {
        Trust::Untrusted => "#c0392b",
        Trust::SemiTrusted => "#b9770e",
        Trust::Trusted => "#2e7d32",
    }
}

/// The colour of problems: weak crossings and elements with findings.
const ALERT: &str = "#c0392b";

fn trust_word(trust: Trust) -> &'static str {
    match trust {
        Trust::Untrusted => "untrusted",
        Trust::SemiTrusted => "semi-trusted",
        Trust::Trusted => "trusted",
    }
}

fn boundary_kind_word(kind: BoundaryKind) -> &'static str {
    match kind {
        BoundaryKind::Network => "network",
        BoundaryKind::ExecutionEnvironment => "execution environment",
        BoundaryKind::Organisation => "organisation",
        BoundaryKind::Tenant => "tenant",
        BoundaryKind::Process => "process",
    }
}

fn component_kind_word(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::ExternalEntity => "external entity",
        ComponentKind::Process => "process",
        ComponentKind::DataStore => "data store",
        ComponentKind::MlModel => "ML model",
        ComponentKind::Llm => "LLM",
        ComponentKind::VectorStore => "vector store",
        ComponentKind::FeatureStore => "feature store",
        ComponentKind::ModelRegistry => "model registry",
        ComponentKind::Pipeline => "pipeline",
        ComponentKind::Agent => "agent",
        ComponentKind::Tool => "tool",
        ComponentKind::Notebook => "notebook",
    }
}

/// Text made single-line: control characters (newlines, tabs) become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert_eq!("SVG".parse::<Format>(), Ok(Format::Svg));
        assert!("png".parse::<Format>().is_err());
    }

    #[test]
    fn edges_between_missing_nodes_are_skipped_not_a_panic() {
        let diagram = Diagram {
            edges: vec![Edge {
                id: "f".into(),
                from: 3,
                to: 4,
                protocol: None,
                kind: FlowKind::Data,
                bidirectional: false,
                unencrypted_crossing: true,
                unauthenticated_crossing: false,
                findings: Vec::new(),
            }],
            ..Diagram::default()
        };
        assert!(!diagram.mermaid().contains("linkStyle"));
        assert!(!diagram.dot().contains("->"));
        assert!(diagram.svg().is_ok_and(|svg| svg.contains("no components")));
    }

    #[test]
    fn duplicate_ids_get_unique_keys() {
        let mut keys = Keys::default();
        assert_eq!(keys.unique("a"), "a");
        assert_eq!(keys.unique("a"), "a~2");
        assert_eq!(keys.unique("a~2"), "a~2~2");
        assert_eq!(keys.unique("a"), "a~3");
    }
}

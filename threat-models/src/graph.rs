//! The data-flow graph (petgraph): components are nodes, flows are edges.
//!
//! Computed once per model, per `spec/ai-threat-library.md` §1:
//! - **trust**: each component's innermost trust boundary (boundaries nest through `parent`);
//!   a component in no boundary is `untrusted` if it is an external entity, else `trusted`;
//! - **crosses(f)**: the innermost boundaries of a flow's ends differ;
//! - **effective classification**: `cls(a) = max(a.classification, cls(derived_from))`, and
//!   personal data likewise, both as a fixpoint (cycle-safe);
//! - **untrusted_src(x)**: a path of runtime flows (not `deployment`/`telemetry`), followed
//!   `from → to` only, of length ≥ 1 reaches x from a human external entity or a component in an
//!   `untrusted` boundary;
//! - guarded paths for the rules' `ingress`, `egress` and `upstream` places ([`Graph::unguarded`]).
//!
//! Two edge sets are used. *Requests* (runtime flows, declared direction) decide who can reach a
//! component. *Data movement* adds the response direction of `bidirectional` runtime flows: it
//! decides where a model's output or a document's content can travel (an answer returns along
//! the request path; retrieved chunks return from the vector store).

use crate::de::Loc;
use crate::diag::{Diag, Problem};
use crate::format::{BoundaryKind, Classification, ComponentKind, Trust};
use crate::model::Model;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{HashMap, VecDeque};

/// Which edges a traversal follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edges {
    /// Runtime flows in their declared direction.
    Requests,
    /// Runtime flows in their declared direction, plus the response direction of bidirectional
    /// ones.
    Data,
}

/// The graph of one model. Node weights are indices into `model.components`, edge weights
/// indices into `model.flows`.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub graph: DiGraph<usize, usize>,
    /// Node of each component (by component index).
    nodes: Vec<NodeIndex>,
    /// Edge of each flow whose ends resolve (by flow index).
    edges: Vec<Option<EdgeIndex>>,
    /// Innermost boundary (index into `model.trust_boundaries`) of each component.
    innermost: Vec<Option<usize>>,
    /// Parent of each boundary, cycles cut.
    parent: Vec<Option<usize>>,
    trust: Vec<Trust>,
    /// Effective classification of each asset, by id.
    class: HashMap<String, Classification>,
    /// Whether an asset is, or derives from, personal data.
    personal: HashMap<String, bool>,
    untrusted_source: Vec<bool>,
    /// For each component reachable from an untrusted source: one such source.
    reached_from: Vec<Option<usize>>,
}

impl Graph {
    /// Build the graph; boundary problems (a parent cycle, a component in two boundaries neither
    /// inside the other, a component in none) are returned as diagnostics.
    pub fn build(model: &Model) -> (Graph, Vec<Diag>) {
        let mut diags = Vec::new();
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..model.components.len())
            .map(|i| graph.add_node(i))
            .collect();
        let edges = model
            .flows
            .iter()
            .enumerate()
            .map(|(i, flow)| {
                let from = model.component_index(&flow.from)?;
                let to = model.component_index(&flow.to)?;
                Some(graph.add_edge(nodes[from], nodes[to], i))
            })
            .collect();

        let parent = boundary_parents(model, &mut diags);
        let innermost = innermost_boundaries(model, &parent, &mut diags);
        let trust: Vec<Trust> = model
            .components
            .iter()
            .zip(&innermost)
            .map(|(c, b)| match b {
                Some(b) => model.trust_boundaries[*b].trust,
                None if c.kind == ComponentKind::ExternalEntity => Trust::Untrusted,
                None => Trust::Trusted,
            })
            .collect();
        let untrusted_source: Vec<bool> = model
            .components
            .iter()
            .zip(&trust)
            .map(|(c, t)| {
                (c.human && c.kind == ComponentKind::ExternalEntity) || *t == Trust::Untrusted
            })
            .collect();

        let (class, personal) = effective_assets(model);
        let mut g = Graph {
            graph,
            nodes,
            edges,
            innermost,
            parent,
            trust,
            class,
            personal,
            untrusted_source,
            reached_from: Vec::new(),
        };
        g.reached_from = g.unguarded_reach(
            model,
            &g.untrusted_sources(),
            Edges::Requests,
            |_| false,
            |_| false,
        );
        (g, diags)
    }

    /// Steps out of component `c` along runtime flows: (flow index, next component).
    pub fn next<'a>(
        &'a self,
        model: &'a Model,
        c: usize,
        edges: Edges,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        self.steps(model, c, edges, petgraph::Direction::Outgoing)
    }

    /// Steps into component `c`, walked backwards: (flow index, previous component).
    fn prev<'a>(
        &'a self,
        model: &'a Model,
        c: usize,
        edges: Edges,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        self.steps(model, c, edges, petgraph::Direction::Incoming)
    }

    /// Runtime flows at `c` in the declared `direction`, plus (for [`Edges::Data`]) the
    /// response direction of bidirectional ones: (flow index, component at the other end).
    fn steps<'a>(
        &'a self,
        model: &'a Model,
        c: usize,
        edges: Edges,
        direction: petgraph::Direction,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        let node = self.nodes.get(c).copied();
        let declared = node
            .into_iter()
            .flat_map(move |n| self.graph.edges_directed(n, direction));
        let responses = node
            .into_iter()
            .filter(move |_| edges == Edges::Data)
            .flat_map(move |n| self.graph.edges_directed(n, direction.opposite()))
            .filter(|e| model.flows[*e.weight()].bidirectional);
        declared
            .chain(responses)
            .filter(move |e| model.flows[*e.weight()].kind.is_runtime())
            .map(move |e| {
                let other = if Some(e.source()) == node {
                    e.target()
                } else {
                    e.source()
                };
                (*e.weight(), self.graph[other])
            })
    }

    /// For every component, whether a path (length at least 1) leads from it to one of `goals`
    /// passing no guarded component (itself and the goal excepted) and no guarded flow. One
    /// backward traversal answers it for every component.
    pub fn reaching(
        &self,
        model: &Model,
        goals: &[usize],
        edges: Edges,
        guarded_component: impl Fn(usize) -> bool,
        guarded_flow: impl Fn(usize) -> bool,
    ) -> Vec<bool> {
        let mut reaches = vec![false; self.nodes.len()];
        let mut expanded = vec![false; self.nodes.len()];
        let mut queue: VecDeque<usize> = goals
            .iter()
            .copied()
            .filter(|&g| g < self.nodes.len())
            .collect();
        while let Some(c) = queue.pop_front() {
            if std::mem::replace(&mut expanded[c], true) {
                continue;
            }
            for (flow, previous) in self.prev(model, c, edges) {
                if guarded_flow(flow) || reaches[previous] {
                    continue;
                }
                reaches[previous] = true;
                if !guarded_component(previous) {
                    queue.push_back(previous);
                }
            }
        }
        reaches
    }

    /// Flows (any kind) into component `c`, in declaration order.
    pub fn flows_into(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        self.flows_at(c, petgraph::Direction::Incoming)
    }

    /// Flows (any kind) out of component `c`, in declaration order.
    pub fn flows_out_of(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        self.flows_at(c, petgraph::Direction::Outgoing)
    }

    fn flows_at(
        &self,
        c: usize,
        direction: petgraph::Direction,
    ) -> impl Iterator<Item = usize> + '_ {
        let mut flows: Vec<usize> = self
            .nodes
            .get(c)
            .into_iter()
            .flat_map(|n| self.graph.edges_directed(*n, direction))
            .map(|e| *e.weight())
            .collect();
        flows.sort_unstable();
        flows.into_iter()
    }

    /// Look for a path from one of `starts` to a component satisfying `goal` that passes no
    /// guarded component (starts excepted) and no guarded flow. Returns (start, goal) of the
    /// first such path, or `None` when every path is guarded or none exists.
    pub fn unguarded(
        &self,
        model: &Model,
        starts: &[usize],
        goal: impl Fn(usize) -> bool,
        edges: Edges,
        guarded_component: impl Fn(usize) -> bool,
        guarded_flow: impl Fn(usize) -> bool,
    ) -> Option<(usize, usize)> {
        let mut origin: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut queue = VecDeque::new();
        for &s in starts {
            if s < origin.len() && origin[s].is_none() {
                origin[s] = Some(s);
                queue.push_back(s);
            }
        }
        while let Some(c) = queue.pop_front() {
            let from = origin[c]?;
            for (flow, next) in self.next(model, c, edges) {
                if guarded_flow(flow) {
                    continue;
                }
                if goal(next) {
                    return Some((from, next));
                }
                if origin[next].is_some() || guarded_component(next) {
                    continue;
                }
                origin[next] = Some(from);
                queue.push_back(next);
            }
        }
        None
    }

    /// For every component, the start from which a path reaches it (length at least 1) passing
    /// no guarded component (starts and the reached component itself excepted) and no guarded
    /// flow; `None` when every path is guarded or none exists. One traversal answers
    /// [`Graph::unguarded`] for every goal at once.
    pub fn unguarded_reach(
        &self,
        model: &Model,
        starts: &[usize],
        edges: Edges,
        guarded_component: impl Fn(usize) -> bool,
        guarded_flow: impl Fn(usize) -> bool,
    ) -> Vec<Option<usize>> {
        let mut reached: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut expanded = vec![false; self.nodes.len()];
        let mut queue: VecDeque<(usize, usize)> = starts
            .iter()
            .filter(|&&s| s < self.nodes.len())
            .map(|&s| (s, s))
            .collect();
        while let Some((c, start)) = queue.pop_front() {
            if std::mem::replace(&mut expanded[c], true) {
                continue;
            }
            for (flow, next) in self.next(model, c, edges) {
                if guarded_flow(flow) || reached[next].is_some() {
                    continue;
                }
                reached[next] = Some(start);
                if !guarded_component(next) {
                    queue.push_back((next, start));
                }
            }
        }
        reached
    }

    /// Whether any path (guards ignored) leads from one of `starts` to a `goal`.
    pub fn connected(
        &self,
        model: &Model,
        starts: &[usize],
        goal: impl Fn(usize) -> bool,
        edges: Edges,
    ) -> bool {
        self.unguarded(model, starts, goal, edges, |_| false, |_| false)
            .is_some()
    }

    /// Whether `c` is an untrusted source: a human external entity or in an `untrusted` boundary.
    pub fn is_untrusted_source(&self, c: usize) -> bool {
        self.untrusted_source.get(c).copied().unwrap_or(false)
    }

    pub fn untrusted_sources(&self) -> Vec<usize> {
        (0..self.untrusted_source.len())
            .filter(|&c| self.untrusted_source[c])
            .collect()
    }

    /// `untrusted_src(c)`: reachable from an untrusted source by runtime requests.
    pub fn untrusted_src(&self, c: usize) -> bool {
        self.reached_from(c).is_some()
    }

    /// An untrusted source that reaches `c`, if any.
    pub fn reached_from(&self, c: usize) -> Option<usize> {
        self.reached_from.get(c).copied().flatten()
    }

    pub fn trust(&self, c: usize) -> Trust {
        self.trust.get(c).copied().unwrap_or(Trust::Trusted)
    }

    /// The innermost boundary of a component.
    pub fn boundary_of(&self, c: usize) -> Option<usize> {
        self.innermost.get(c).copied().flatten()
    }

    /// The innermost boundary of a component and every enclosing one, innermost first.
    pub fn boundary_chain(&self, c: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut at = self.boundary_of(c);
        while let Some(b) = at {
            if chain.contains(&b) {
                break;
            }
            chain.push(b);
            at = self.parent.get(b).copied().flatten();
        }
        chain
    }

    /// The boundary enclosing boundary `b` (`parent:`), with parent cycles cut.
    pub fn parent_boundary(&self, b: usize) -> Option<usize> {
        self.parent.get(b).copied().flatten()
    }

    /// Whether a component sits inside a boundary of `kind` (at any nesting level).
    pub fn inside(&self, model: &Model, c: usize, kind: BoundaryKind) -> bool {
        self.boundary_chain(c)
            .into_iter()
            .any(|b| model.trust_boundaries[b].kind == Some(kind))
    }

    /// The component indices at the ends of a flow.
    pub fn ends(&self, flow: usize) -> Option<(usize, usize)> {
        let edge = self.edges.get(flow).copied().flatten()?;
        let (a, b) = self.graph.edge_endpoints(edge)?;
        Some((self.graph[a], self.graph[b]))
    }

    /// `crosses(f)`: the ends' innermost boundaries differ.
    pub fn crosses(&self, flow: usize) -> bool {
        self.ends(flow)
            .is_some_and(|(a, b)| self.boundary_of(a) != self.boundary_of(b))
    }

    /// Effective classification of an asset (its own when unknown).
    pub fn classification(&self, asset: &str) -> Option<Classification> {
        self.class.get(asset).copied()
    }

    /// Whether an asset is personal data or derives from personal data.
    pub fn derived_personal(&self, asset: &str) -> bool {
        self.personal.get(asset).copied().unwrap_or(false)
    }
}

fn boundary_parents(model: &Model, diags: &mut Vec<Diag>) -> Vec<Option<usize>> {
    let index: std::collections::HashMap<&str, usize> = model
        .trust_boundaries
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.as_str(), i))
        .collect();
    let mut parent: Vec<Option<usize>> = model
        .trust_boundaries
        .iter()
        .map(|b| {
            b.parent
                .as_ref()
                .and_then(|p| index.get(p.as_str()).copied())
        })
        .collect();
    // Follow each chain of parents once (linear in the number of boundaries): a chain that
    // comes back to a boundary on the current path is a cycle, cut at that boundary.
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        No,
        OnPath,
        Done,
    }
    let mut seen = vec![Seen::No; parent.len()];
    for start in 0..parent.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(b) = at {
            match seen[b] {
                Seen::Done => break,
                Seen::OnPath => {
                    let boundary = &model.trust_boundaries[b];
                    let loc = boundary.parent.as_ref().map_or(boundary.id.loc, |p| p.loc);
                    diags.push(Diag::new(
                        Problem::Boundary,
                        loc,
                        format!(
                            "trust boundary `{}` is inside itself through `parent`; remove one \
                             parent link of the cycle",
                            boundary.id
                        ),
                    ));
                    parent[b] = None;
                    break;
                }
                Seen::No => {
                    seen[b] = Seen::OnPath;
                    path.push(b);
                    at = parent[b];
                }
            }
        }
        for b in path {
            seen[b] = Seen::Done;
        }
    }
    parent
}

/// The boundaries enclosing `b`, innermost first (`parent` has no cycles).
fn ancestors(parent: &[Option<usize>], b: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = parent.get(b).copied().flatten();
    while let Some(p) = at
        && out.len() < parent.len()
    {
        out.push(p);
        at = parent.get(p).copied().flatten();
    }
    out
}

fn innermost_boundaries(
    model: &Model,
    parent: &[Option<usize>],
    diags: &mut Vec<Diag>,
) -> Vec<Option<usize>> {
    let mut containing: Vec<Vec<(usize, Loc)>> = vec![Vec::new(); model.components.len()];
    for (b, boundary) in model.trust_boundaries.iter().enumerate() {
        for member in &boundary.contains {
            if let Some(c) = model.component_index(member)
                && !containing[c].iter().any(|(x, _)| *x == b)
            {
                containing[c].push((b, member.loc));
            }
        }
    }
    let declared = !model.trust_boundaries.is_empty();
    containing
        .iter()
        .enumerate()
        .map(|(c, boundaries)| {
            let component = &model.components[c];
            // The innermost is the one every other containing boundary encloses.
            let innermost = boundaries.iter().find(|(b, _)| {
                let outer = ancestors(parent, *b);
                boundaries
                    .iter()
                    .all(|(other, _)| other == b || outer.contains(other))
            });
            match (innermost, boundaries.first()) {
                (Some((b, _)), _) => Some(*b),
                (None, Some(_)) => {
                    let (_, loc) = boundaries[boundaries.len() - 1];
                    let names: Vec<String> = boundaries
                        .iter()
                        .map(|(b, _)| format!("`{}`", model.trust_boundaries[*b].id))
                        .collect();
                    diags.push(Diag::new(
                        Problem::Boundary,
                        loc,
                        format!(
                            "component `{}` is in trust boundaries {} and none of them is inside \
                             the others; a component belongs to exactly one innermost boundary \
                             (nest them with `parent:`)",
                            component.id,
                            names.join(", ")
                        ),
                    ));
                    Some(boundaries[0].0)
                }
                (None, None) => {
                    // External entities outside every boundary are the untrusted outside world.
                    if declared
                        && !component.out_of_scope
                        && component.kind != ComponentKind::ExternalEntity
                    {
                        diags.push(Diag::new(
                            Problem::NoBoundary,
                            component.id.loc,
                            format!(
                                "component `{}` is in no trust boundary; add it to the `contains:` \
                                 of the boundary it runs in (it is treated as {})",
                                component.id,
                                if component.kind == ComponentKind::ExternalEntity {
                                    "untrusted"
                                } else {
                                    "trusted"
                                }
                            ),
                        ));
                    }
                    None
                }
            }
        })
        .collect()
}

/// Effective classification and personal-data flag of every asset, as a fixpoint over
/// `derived_from` (at most one pass per asset, so cycles terminate).
fn effective_assets(model: &Model) -> (HashMap<String, Classification>, HashMap<String, bool>) {
    let mut class: HashMap<String, Classification> = model
        .assets
        .iter()
        .map(|a| (a.id.as_str().to_owned(), a.classification))
        .collect();
    let mut personal: HashMap<String, bool> = model
        .assets
        .iter()
        .map(|a| {
            (
                a.id.as_str().to_owned(),
                a.pii.is_some_and(|p| p.is_personal()),
            )
        })
        .collect();
    for _ in 0..=model.assets.len() {
        let mut changed = false;
        for asset in model.assets.iter() {
            let id = asset.id.as_str();
            for source in &asset.derived_from {
                let (Some(&sc), Some(&sp)) =
                    (class.get(source.as_str()), personal.get(source.as_str()))
                else {
                    continue;
                };
                if let Some(c) = class.get_mut(id)
                    && sc > *c
                {
                    *c = sc;
                    changed = true;
                }
                if let Some(p) = personal.get_mut(id)
                    && sp
                    && !*p
                {
                    *p = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    (class, personal)
}

//! The merged model: every file of a model (root + includes) in one [`Document`], with an index
//! from ids to elements and the id definitions and references an editor needs (go to
//! definition, find references, rename, completion).

use crate::de::{FileId, Loc, Spanned};
use crate::format::{
    Asset, Component, Control, Document, Flow, Id, Playbook, Ref, Signal, Supplier, Threat,
    TrustBoundary,
};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use threatlens_rules::source::LineIndex;

/// The kinds of elements that have ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementKind {
    Asset,
    TrustBoundary,
    Component,
    Flow,
    Control,
    Threat,
    Supplier,
    Playbook,
    Signal,
}

impl ElementKind {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Asset => "an asset",
            Self::TrustBoundary => "a trust boundary",
            Self::Component => "a component",
            Self::Flow => "a flow",
            Self::Control => "a control",
            Self::Threat => "a threat",
            Self::Supplier => "a supplier",
            Self::Playbook => "a playbook",
            Self::Signal => "a monitoring signal",
        }
    }
}

/// One file of a loaded model.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    pub index: LineIndex,
}

/// A reference from one element to another, with the kinds of element it may name.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'m> {
    pub id: &'m Ref,
    pub expects: &'static [ElementKind],
    /// Where the reference sits, for messages: `flows[].from`.
    pub role: &'static str,
}

/// The whole model, all files merged.
#[derive(Debug, Clone, Default)]
pub struct Model {
    doc: Document,
    index: HashMap<String, (ElementKind, usize)>,
    /// Ids of elements that could not be read (model errors); references to them are not
    /// reported again and no check looks at them.
    pub broken_ids: HashSet<String>,
    /// Top-level sections that are present but could not be read.
    pub broken_sections: HashSet<String>,
}

impl std::ops::Deref for Model {
    type Target = Document;
    fn deref(&self) -> &Document {
        &self.doc
    }
}

impl Model {
    /// Index a merged document. The first definition of an id wins (duplicates are reported by
    /// validation).
    pub fn new(
        doc: Document,
        broken_ids: HashSet<String>,
        broken_sections: HashSet<String>,
    ) -> Self {
        let mut model = Model {
            doc,
            index: HashMap::new(),
            broken_ids,
            broken_sections,
        };
        let mut defs: Vec<(ElementKind, String, usize, (FileId, usize))> = model
            .definitions()
            .map(|(kind, id, i)| {
                (
                    kind,
                    id.value.0.clone(),
                    i,
                    (id.loc.file, id.loc.span.start_byte),
                )
            })
            .collect();
        defs.sort_by_key(|d| d.3);
        for (kind, id, i, _) in defs {
            model.index.entry(id).or_insert((kind, i));
        }
        model
    }

    /// Every id definition: kind, id (with its location) and index in its list.
    pub fn definitions(&self) -> impl Iterator<Item = (ElementKind, &Spanned<Id>, usize)> {
        fn each<T>(
            kind: ElementKind,
            items: &[T],
            id: fn(&T) -> &Spanned<Id>,
        ) -> impl Iterator<Item = (ElementKind, &Spanned<Id>, usize)> {
            items
                .iter()
                .enumerate()
                .map(move |(i, item)| (kind, id(item), i))
        }
        let d = &self.doc;
        let playbooks = d
            .incident_response
            .as_ref()
            .map_or(&[][..], |ir| &ir.playbooks[..]);
        let signals = d.monitoring.as_ref().map_or(&[][..], |m| &m.signals[..]);
        each(ElementKind::Asset, &d.assets, |a| &a.id)
            .chain(each(ElementKind::TrustBoundary, &d.trust_boundaries, |b| {
                &b.id
            }))
            .chain(each(ElementKind::Component, &d.components, |c| &c.id))
            .chain(each(ElementKind::Flow, &d.flows, |f| &f.id))
            .chain(each(ElementKind::Control, &d.controls, |c| &c.id))
            .chain(each(ElementKind::Threat, &d.threats, |t| &t.id))
            .chain(each(ElementKind::Supplier, &d.suppliers, |s| &s.id))
            .chain(each(ElementKind::Playbook, playbooks, |p| &p.id))
            .chain(each(ElementKind::Signal, signals, |s| &s.id))
    }

    /// Every reference between elements (exception targets, which may also be code globs, are
    /// not included).
    pub fn references(&self) -> Vec<Reference<'_>> {
        use ElementKind as K;
        let mut refs: Vec<Reference<'_>> = Vec::new();
        fn push<'m>(
            refs: &mut Vec<Reference<'m>>,
            id: &'m Ref,
            expects: &'static [ElementKind],
            role: &'static str,
        ) {
            refs.push(Reference { id, expects, role });
        }
        macro_rules! add {
            ($id:expr, $expects:expr, $role:expr) => {
                push(&mut refs, $id, $expects, $role)
            };
        }
        let d = &self.doc;
        if let Some(scope) = &d.scope {
            scope
                .in_scope
                .systems
                .iter()
                .for_each(|r| add!(r, &[K::Component], "scope.in_scope.systems"));
            scope
                .in_scope
                .data
                .iter()
                .for_each(|r| add!(r, &[K::Asset], "scope.in_scope.data"));
            for interface in &scope.interfaces {
                add!(&interface.with, &[K::Supplier], "scope.interfaces[].with");
                if let Some(via) = &interface.via {
                    add!(via, &[K::Flow], "scope.interfaces[].via");
                }
            }
        }
        for asset in &d.assets {
            asset
                .derived_from
                .iter()
                .for_each(|r| add!(r, &[K::Asset], "assets[].derived_from"));
            if let Some(p) = &asset.provenance {
                if let Some(r) = &p.source {
                    add!(
                        r,
                        &[K::Component, K::Supplier],
                        "assets[].provenance.source"
                    );
                }
                if let Some(r) = &p.collected_by {
                    add!(r, &[K::Component], "assets[].provenance.collected_by");
                }
                if let Some(r) = &p.labelled_by {
                    add!(
                        r,
                        &[K::Component, K::Supplier],
                        "assets[].provenance.labelled_by"
                    );
                }
            }
        }
        for b in &d.trust_boundaries {
            b.contains
                .iter()
                .for_each(|r| add!(r, &[K::Component], "trust_boundaries[].contains"));
            if let Some(p) = &b.parent {
                add!(p, &[K::TrustBoundary], "trust_boundaries[].parent");
            }
        }
        for c in &d.components {
            if let Some(s) = &c.supplier {
                add!(s, &[K::Supplier], "components[].supplier");
            }
            c.processes
                .iter()
                .for_each(|r| add!(r, &[K::Asset], "components[].processes"));
            c.stores
                .iter()
                .for_each(|r| add!(r, &[K::Asset], "components[].stores"));
            c.controls
                .iter()
                .for_each(|r| add!(r, &[K::Control], "components[].controls"));
            if let Some(sp) = c.ai.as_ref().and_then(|ai| ai.system_prompt.as_ref()) {
                add!(sp, &[K::Asset], "components[].ai.system_prompt");
            }
        }
        for f in &d.flows {
            add!(&f.from, &[K::Component], "flows[].from");
            add!(&f.to, &[K::Component], "flows[].to");
            f.carries
                .iter()
                .for_each(|r| add!(r, &[K::Asset], "flows[].carries"));
            f.controls
                .iter()
                .for_each(|r| add!(r, &[K::Control], "flows[].controls"));
        }
        for t in &d.threats {
            t.affects
                .iter()
                .for_each(|r| add!(r, &[K::Component, K::Flow], "threats[].affects"));
            if let Some(tr) = &t.treatment {
                tr.controls
                    .iter()
                    .for_each(|r| add!(r, &[K::Control], "threats[].treatment.controls"));
                if let Some(s) = &tr.supplier {
                    add!(s, &[K::Supplier], "threats[].treatment.supplier");
                }
            }
        }
        for s in &d.suppliers {
            s.provides
                .iter()
                .for_each(|r| add!(r, &[K::Component], "suppliers[].provides"));
            s.data_shared
                .iter()
                .for_each(|r| add!(r, &[K::Asset], "suppliers[].data_shared"));
        }
        if let Some(ir) = &d.incident_response {
            for contact in &ir.contacts {
                if let Some(s) = &contact.supplier {
                    add!(s, &[K::Supplier], "incident_response.contacts[].supplier");
                }
            }
            for p in &ir.playbooks {
                p.triggers.iter().for_each(|r| {
                    add!(
                        r,
                        &[K::Threat, K::Signal],
                        "incident_response.playbooks[].triggers"
                    )
                });
            }
        }
        if let Some(m) = &d.monitoring {
            for s in &m.signals {
                add!(&s.source, &[K::Component], "monitoring.signals[].source");
                if let Some(sink) = &s.sink {
                    add!(sink, &[K::Component], "monitoring.signals[].sink");
                }
                s.covers
                    .iter()
                    .for_each(|r| add!(r, &[K::Threat], "monitoring.signals[].covers"));
            }
        }
        refs
    }

    /// Every reference to `id` (for "find references" and rename).
    pub fn references_to(&self, id: &str) -> Vec<Reference<'_>> {
        self.references()
            .into_iter()
            .filter(|r| r.id.as_str() == id)
            .collect()
    }

    /// The element with this id.
    pub fn lookup(&self, id: &str) -> Option<(ElementKind, usize)> {
        self.index.get(id).copied()
    }

    /// The location of an id's definition.
    pub fn definition_loc(&self, id: &str) -> Option<Loc> {
        let (kind, i) = self.lookup(id)?;
        self.definitions()
            .find(|(k, _, j)| *k == kind && *j == i)
            .map(|(_, id, _)| id.loc)
    }

    /// The element of `kind` with this id, from its list.
    fn get<'a, T>(&'a self, id: &str, kind: ElementKind, items: &'a [T]) -> Option<&'a T> {
        match self.lookup(id)? {
            (k, i) if k == kind => items.get(i),
            _ => None,
        }
    }

    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.get(id, ElementKind::Asset, &self.doc.assets)
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.get(id, ElementKind::Component, &self.doc.components)
    }

    /// The index of a component in `components` (its node weight in the graph).
    pub fn component_index(&self, id: &str) -> Option<usize> {
        match self.lookup(id)? {
            (ElementKind::Component, i) => Some(i),
            _ => None,
        }
    }

    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.get(id, ElementKind::Flow, &self.doc.flows)
    }

    pub fn control(&self, id: &str) -> Option<&Control> {
        self.get(id, ElementKind::Control, &self.doc.controls)
    }

    pub fn supplier(&self, id: &str) -> Option<&Supplier> {
        self.get(id, ElementKind::Supplier, &self.doc.suppliers)
    }

    pub fn threat(&self, id: &str) -> Option<&Threat> {
        self.get(id, ElementKind::Threat, &self.doc.threats)
    }

    pub fn boundary(&self, id: &str) -> Option<&TrustBoundary> {
        self.get(id, ElementKind::TrustBoundary, &self.doc.trust_boundaries)
    }

    pub fn playbooks(&self) -> &[Playbook] {
        self.doc
            .incident_response
            .as_ref()
            .map_or(&[], |ir| &ir.playbooks)
    }

    pub fn signals(&self) -> &[Signal] {
        self.doc.monitoring.as_ref().map_or(&[], |m| &m.signals)
    }

    /// The supplier that provides a component: its `supplier:`, or a supplier listing it in
    /// `provides:`.
    pub fn supplier_of(&self, component: &Component) -> Option<&Supplier> {
        component
            .supplier
            .as_ref()
            .and_then(|s| self.supplier(s))
            .or_else(|| {
                self.doc.suppliers.iter().find(|s| {
                    s.provides
                        .iter()
                        .any(|p| p.as_str() == component.id.as_str())
                })
            })
    }

    /// Whether `scope.in_scope.systems` lists components (then only those are in scope).
    fn systems_listed(&self) -> bool {
        self.doc
            .scope
            .as_ref()
            .is_some_and(|s| !s.in_scope.systems.is_empty())
    }

    /// Whether findings may be raised on a component: not `out_of_scope`, and listed in
    /// `scope.in_scope.systems` when that list is given. Components outside the scope are
    /// interfaces: flows between them and in-scope components are still checked.
    pub fn component_in_scope(&self, component: &Component) -> bool {
        !component.out_of_scope
            && (!self.systems_listed()
                || self.doc.scope.iter().any(|s| {
                    s.in_scope
                        .systems
                        .iter()
                        .any(|r| r.as_str() == component.id.as_str())
                }))
    }

    /// A flow is in scope when one of its ends is.
    pub fn flow_in_scope(&self, flow: &Flow) -> bool {
        [&flow.from, &flow.to].into_iter().any(|end| {
            self.component(end)
                .is_some_and(|c| self.component_in_scope(c))
        })
    }

    /// An asset is in scope unless `scope.in_scope.data` lists assets and not this one.
    pub fn asset_in_scope(&self, asset: &Asset) -> bool {
        match &self.doc.scope {
            Some(scope) if !scope.in_scope.data.is_empty() => scope
                .in_scope
                .data
                .iter()
                .any(|r| r.as_str() == asset.id.as_str()),
            _ => true,
        }
    }

    /// Whether any element is in scope (the id may be a component, flow or asset; other
    /// elements are always in scope).
    pub fn id_in_scope(&self, id: &str) -> bool {
        if let Some(c) = self.component(id) {
            self.component_in_scope(c)
        } else if let Some(f) = self.flow(id) {
            self.flow_in_scope(f)
        } else if let Some(a) = self.asset(id) {
            self.asset_in_scope(a)
        } else {
            true
        }
    }
}

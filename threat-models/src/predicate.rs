//! The predicate language of missing-control rules, and its evaluation over the graph.
//!
//! A rule (in `library/rules-missing-control.toml`) is evaluated on every component, flow or
//! asset in scope. It has a **condition** (`[rule.component]`, `[rule.flow]` or `[rule.asset]`:
//! every key given must hold) and **requirements** (`[[rule.require]]`): it fires when the
//! condition holds and a requirement is not met. A requirement is met when one of its `any`
//! capabilities is carried by an implemented control at one of its `at` places:
//!
//! | place      | on      | meaning |
//! |------------|---------|---------|
//! | `self`     | component | the component's own controls |
//! | `ingress`  | component | every runtime path from an untrusted source into it passes a component or flow with the capability (and such a path exists) |
//! | `egress`   | component | every data path from it to a human passes one (and such a path exists) |
//! | `inbound`  | component | a flow into it, or that flow's source |
//! | `outbound` | component | a flow out of it, or that flow's target |
//! | `flow`     | flow    | the flow's own controls |
//! | `from`/`to`| flow    | the flow's source / target component |
//! | `upstream` | flow    | every data path from a carried asset's provenance source to the flow's target passes one (and one exists) |
//! | `model`    | any     | any control of the model |
//!
//! A requirement may instead be structural: `inside_boundary = "execution-environment"`.
//!
//! Conditions (all optional, all must hold; `any = [..]` and `not = {..}` combine them):
//! see the fields of [`ComponentCond`], [`FlowCond`] and [`AssetCond`].

use crate::date::Date;
use crate::format::{
    Asset, AssetKind, Authn, BoundaryKind, Classification, Component, ComponentKind, ControlStatus,
    DecisionImpact, Encryption, Flow, FlowKind, Hosting, Memory, Pii, Ref, Trust,
};
use crate::graph::{Edges, Graph};
use crate::model::Model;
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A condition on a component.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentCond {
    /// The component's kind is one of these.
    pub kind: Option<Vec<ComponentKind>>,
    /// `untrusted_src`: runtime requests from an untrusted source reach it.
    pub untrusted_src: Option<bool>,
    /// It is a person (`human: true`).
    pub human: Option<bool>,
    /// An external entity, or provided by a supplier.
    pub external: Option<bool>,
    /// Provided by a supplier (`supplier:` or a supplier's `provides:`).
    pub has_supplier: Option<bool>,
    /// Its supplier has no `due_diligence` record.
    pub supplier_dd_missing: Option<bool>,
    /// Its supplier's due diligence is weak: no signed DPA, may train on customer data, or
    /// assessed more than this many days ago (or never).
    pub supplier_dd_weak: Option<i64>,
    /// The trust of its innermost boundary is one of these.
    pub trust: Option<Vec<Trust>>,
    /// One of its `tech` entries is one of these (case-insensitive).
    pub tech_any: Option<Vec<String>>,
    pub hosting: Option<Vec<Hosting>>,
    pub executes_code: Option<bool>,
    pub memory: Option<Vec<Memory>>,
    pub decision_impact: Option<Vec<DecisionImpact>>,
    /// A `monitoring.signals` entry is measured on it.
    pub monitored: Option<bool>,
    /// An asset it processes, stores, uses as system prompt or receives on any flow.
    pub uses: Option<AssetCond>,
    /// An asset it processes or receives on any flow.
    pub consumes: Option<AssetCond>,
    /// An asset it stores.
    pub stores: Option<AssetCond>,
    /// An asset that arrives at it: carried by a flow into it, or by the response of a
    /// bidirectional flow out of it.
    pub receives: Option<AssetCond>,
    /// It stores assets of more than one classification or more than one owner.
    pub stores_mixed: Option<bool>,
    /// A flow out of it matches.
    pub outbound: Option<Box<FlowCond>>,
    /// A flow into it matches.
    pub inbound: Option<Box<FlowCond>>,
    /// A data path (requests and responses) leads from it to a human external entity.
    pub reaches_human: Option<bool>,
    /// It is inside a boundary of this kind.
    pub inside_boundary: Option<BoundaryKind>,
    pub any: Option<Vec<ComponentCond>>,
    pub not: Option<Box<ComponentCond>>,
}

/// A condition on a flow.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowCond {
    pub kind: Option<Vec<FlowKind>>,
    pub from: Option<ComponentCond>,
    pub to: Option<ComponentCond>,
    /// `crosses(f)`: its ends are in different innermost boundaries.
    pub crosses: Option<bool>,
    /// `trust(from) < trust(to)`.
    pub enters_higher_trust: Option<bool>,
    /// It carries an asset that matches.
    pub carries: Option<AssetCond>,
    pub authn: Option<Vec<Authn>>,
    pub encryption: Option<Vec<Encryption>>,
    pub bidirectional: Option<bool>,
    /// It carries an asset (among those matching `carries`, when given) whose provenance source
    /// is less trusted than the flow's target.
    pub provenance_below_target: Option<bool>,
    pub any: Option<Vec<FlowCond>>,
    pub not: Option<Box<FlowCond>>,
}

/// A condition on an asset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetCond {
    pub kind: Option<Vec<AssetKind>>,
    /// Effective classification at least this.
    pub min_class: Option<Classification>,
    /// `pii(a)`: `pii` is `true` or `pseudonymised`.
    pub personal: Option<bool>,
    /// `pii: true` exactly (not pseudonymised or anonymised).
    pub raw_pii: Option<bool>,
    /// The asset or one it derives from (transitively) is personal data.
    pub derived_personal: Option<bool>,
    pub contains_secrets: Option<bool>,
    /// Its provenance source is a supplier, an external entity, a supplier's component or a
    /// component in an untrusted boundary.
    pub external_provenance: Option<bool>,
    /// `provenance.pinned_revision` is set.
    pub pinned: Option<bool>,
    pub licensed: Option<bool>,
    pub lawful_basis: Option<bool>,
    /// Its `format` is one of these (case-insensitive).
    pub format: Option<Vec<String>>,
    /// Declared classification below the effective one (`derived_from`).
    pub below_sources: Option<bool>,
    pub any: Option<Vec<AssetCond>>,
    pub not: Option<Box<AssetCond>>,
}

/// Where a requirement looks for a capability (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Place {
    #[serde(rename = "self")]
    This,
    Ingress,
    Egress,
    Inbound,
    Outbound,
    Flow,
    From,
    To,
    Upstream,
    Model,
}

/// One requirement of a rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Require {
    /// Capabilities, any of which satisfies the requirement.
    #[serde(default)]
    pub any: Vec<String>,
    /// Places where one of them must be.
    #[serde(default)]
    pub at: Vec<Place>,
    /// Structural requirement: the component must be inside a boundary of this kind.
    pub inside_boundary: Option<BoundaryKind>,
}

/// What a rule is being evaluated on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'m> {
    Component(usize, &'m Component),
    Flow(usize, &'m Flow),
    Asset(&'m Asset),
}

/// Facts gathered while evaluating, for the finding's message.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub assets: Vec<String>,
    pub source: Option<String>,
    pub supplier: Option<String>,
}

impl Trace {
    fn asset(&mut self, id: &str) {
        if !self.assets.iter().any(|a| a == id) {
            self.assets.push(id.to_owned());
        }
    }
}

/// A set of capabilities that guard a path, and whether partial controls count.
type Guards = (Vec<String>, bool);

/// Evaluates conditions and requirements on one model.
pub struct Evaluator<'m> {
    pub model: &'m Model,
    pub graph: &'m Graph,
    pub today: Date,
    /// For a set of capabilities (and whether partial controls count): the untrusted source
    /// that reaches each component over a path no such control guards. One traversal per
    /// capability set, shared by every component a rule is evaluated on.
    ingress: RefCell<HashMap<Guards, Rc<Vec<Option<usize>>>>>,
    /// Likewise for data paths to people: which components reach a human over a path no such
    /// control guards (`None`: guards ignored).
    egress: RefCell<HashMap<Option<Guards>, Rc<Vec<bool>>>>,
}

fn check<T: PartialEq>(want: Option<T>, have: T) -> bool {
    want.is_none_or(|w| w == have)
}

/// Like [`check`], computing the value only when the condition asks for it.
fn lazy<T: PartialEq>(want: Option<T>, have: impl FnOnce() -> T) -> bool {
    want.is_none_or(|w| w == have())
}

fn one_of<T: PartialEq>(want: &Option<Vec<T>>, have: Option<T>) -> bool {
    match want {
        None => true,
        Some(list) => have.is_some_and(|h| list.contains(&h)),
    }
}

impl<'m> Evaluator<'m> {
    pub fn new(model: &'m Model, graph: &'m Graph, today: Date) -> Self {
        Evaluator {
            model,
            graph,
            today,
            ingress: RefCell::new(HashMap::new()),
            egress: RefCell::new(HashMap::new()),
        }
    }

    fn is_human(&self, c: usize) -> bool {
        let comp = &self.model.components[c];
        comp.human && comp.kind == ComponentKind::ExternalEntity
    }

    /// Which components reach a human over data paths: with `guards`, over paths that no
    /// control with one of those capabilities guards (the component itself excepted).
    fn reaching_humans(&self, guards: Option<(&[String], bool)>) -> Rc<Vec<bool>> {
        let key = guards.map(|(caps, partial)| (caps.to_vec(), partial));
        if let Some(hit) = self.egress.borrow().get(&key) {
            return Rc::clone(hit);
        }
        let goals: Vec<usize> = (0..self.model.components.len())
            .filter(|&c| self.is_human(c))
            .collect();
        let reaching = Rc::new(match guards {
            None => self
                .graph
                .reaching(self.model, &goals, Edges::Data, |_| false, |_| false),
            Some((caps, partial)) => self.graph.reaching(
                self.model,
                &goals,
                Edges::Data,
                |c| self.component_has(c, caps, partial),
                |f| self.flow_has(f, caps, partial),
            ),
        });
        self.egress.borrow_mut().insert(key, Rc::clone(&reaching));
        reaching
    }

    fn unguarded_ingress(&self, caps: &[String], partial: bool) -> Rc<Vec<Option<usize>>> {
        let key = (caps.to_vec(), partial);
        if let Some(hit) = self.ingress.borrow().get(&key) {
            return Rc::clone(hit);
        }
        let reached = Rc::new(self.graph.unguarded_reach(
            self.model,
            &self.graph.untrusted_sources(),
            Edges::Requests,
            |c| self.component_has(c, caps, partial),
            |f| self.flow_has(f, caps, partial),
        ));
        self.ingress.borrow_mut().insert(key, Rc::clone(&reached));
        reached
    }

    fn component_of(&self, id: &Ref) -> Option<(usize, &'m Component)> {
        let i = self.model.component_index(id)?;
        Some((i, &self.model.components[i]))
    }

    fn assets(&self, refs: impl IntoIterator<Item = &'m Ref>) -> Vec<&'m Asset> {
        let mut out: Vec<&'m Asset> = Vec::new();
        for r in refs {
            if let Some(a) = self.model.asset(r)
                && !out.iter().any(|b| b.id.as_str() == a.id.as_str())
            {
                out.push(a);
            }
        }
        out
    }

    fn inbound(&self, c: usize) -> impl Iterator<Item = (usize, &'m Flow)> + '_ {
        let model: &'m Model = self.model;
        self.graph.flows_into(c).map(move |f| (f, &model.flows[f]))
    }

    fn outbound(&self, c: usize) -> impl Iterator<Item = (usize, &'m Flow)> + '_ {
        let model: &'m Model = self.model;
        self.graph
            .flows_out_of(c)
            .map(move |f| (f, &model.flows[f]))
    }

    /// Whether a component counts as external (an external entity or a supplier's).
    fn external(&self, c: &Component) -> bool {
        c.kind == ComponentKind::ExternalEntity || self.model.supplier_of(c).is_some()
    }

    /// Trust of an asset's provenance source: a component's trust; for a supplier, the lowest
    /// trust of what it provides (untrusted when it provides nothing modelled).
    fn provenance_trust(&self, asset: &Asset) -> Option<Trust> {
        let source = asset.provenance.as_ref()?.source.as_ref()?;
        if let Some(c) = self.model.component_index(source) {
            return Some(self.graph.trust(c));
        }
        let supplier = self.model.supplier(source)?;
        Some(
            supplier
                .provides
                .iter()
                .filter_map(|p| self.model.component_index(p))
                .map(|c| self.graph.trust(c))
                .min()
                .unwrap_or(Trust::Untrusted),
        )
    }

    /// Components an asset's provenance source stands for.
    fn provenance_components(&self, asset: &Asset) -> Vec<usize> {
        let Some(source) = asset.provenance.as_ref().and_then(|p| p.source.as_ref()) else {
            return Vec::new();
        };
        if let Some(c) = self.model.component_index(source) {
            return vec![c];
        }
        self.model
            .supplier(source)
            .map(|s| {
                s.provides
                    .iter()
                    .filter_map(|p| self.model.component_index(p))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn external_provenance(&self, asset: &Asset) -> bool {
        let Some(source) = asset.provenance.as_ref().and_then(|p| p.source.as_ref()) else {
            return false;
        };
        if self.model.supplier(source).is_some() {
            return true;
        }
        self.model.component_index(source).is_some_and(|c| {
            self.external(&self.model.components[c]) || self.graph.trust(c) == Trust::Untrusted
        })
    }

    pub fn asset(&self, cond: &AssetCond, a: &Asset) -> bool {
        let id = a.id.as_str();
        let effective = self.graph.classification(id).unwrap_or(a.classification);
        let personal = a.pii.is_some_and(Pii::is_personal);
        one_of(&cond.kind, Some(a.kind))
            && cond.min_class.is_none_or(|m| effective >= m)
            && check(cond.personal, personal)
            && check(cond.raw_pii, a.pii == Some(Pii::Yes))
            && check(cond.derived_personal, self.graph.derived_personal(id))
            && check(cond.contains_secrets, a.contains_secrets.unwrap_or(false))
            && cond
                .external_provenance
                .is_none_or(|w| w == self.external_provenance(a))
            && check(
                cond.pinned,
                a.provenance
                    .as_ref()
                    .is_some_and(|p| p.pinned_revision.is_some()),
            )
            && check(cond.licensed, a.license.is_some())
            && check(cond.lawful_basis, a.lawful_basis.is_some())
            && cond.format.as_ref().is_none_or(|formats| {
                a.format
                    .as_ref()
                    .is_some_and(|f| formats.iter().any(|g| g.eq_ignore_ascii_case(f)))
            })
            && check(cond.below_sources, a.classification < effective)
            && cond
                .any
                .as_ref()
                .is_none_or(|any| any.iter().any(|c| self.asset(c, a)))
            && cond.not.as_ref().is_none_or(|not| !self.asset(not, a))
    }

    fn any_asset(
        &self,
        cond: &Option<AssetCond>,
        assets: impl FnOnce() -> Vec<&'m Asset>,
        trace: &mut Trace,
    ) -> bool {
        let Some(cond) = cond else { return true };
        let mut found = false;
        for a in assets() {
            if self.asset(cond, a) {
                trace.asset(a.id.as_str());
                found = true;
            }
        }
        found
    }

    fn supplier_dd_weak(&self, c: &Component, max_age_days: i64) -> bool {
        let Some(supplier) = self.model.supplier_of(c) else {
            return false;
        };
        let Some(dd) = &supplier.due_diligence else {
            return true;
        };
        dd.dpa_signed != Some(true)
            || dd.trains_on_customer_data != Some(false)
            || dd
                .assessed_on
                .as_ref()
                .is_none_or(|d| d.days_until(self.today) > max_age_days)
    }

    pub fn component(&self, cond: &ComponentCond, i: usize, trace: &mut Trace) -> bool {
        let c = &self.model.components[i];
        let ai = c.ai.as_ref();
        let supplier = self.model.supplier_of(c);
        let holds = one_of(&cond.kind, Some(c.kind))
            && check(cond.untrusted_src, self.graph.untrusted_src(i))
            && check(cond.human, c.human)
            && check(cond.external, self.external(c))
            && check(cond.has_supplier, supplier.is_some())
            && check(
                cond.supplier_dd_missing,
                supplier.is_some_and(|s| s.due_diligence.is_none()),
            )
            && cond
                .supplier_dd_weak
                .is_none_or(|days| self.supplier_dd_weak(c, days))
            && one_of(&cond.trust, Some(self.graph.trust(i)))
            && cond.tech_any.as_ref().is_none_or(|techs| {
                c.tech
                    .iter()
                    .any(|t| techs.iter().any(|u| u.eq_ignore_ascii_case(t)))
            })
            && one_of(&cond.hosting, ai.and_then(|a| a.hosting))
            && check(
                cond.executes_code,
                ai.and_then(|a| a.executes_code).unwrap_or(false),
            )
            && one_of(&cond.memory, ai.and_then(|a| a.memory))
            && one_of(&cond.decision_impact, ai.and_then(|a| a.decision_impact))
            && lazy(cond.monitored, || {
                self.model
                    .signals()
                    .iter()
                    .any(|s| s.source.as_str() == c.id.as_str())
            })
            && lazy(cond.reaches_human, || self.reaches_human(i))
            && cond
                .inside_boundary
                .is_none_or(|k| self.graph.inside(self.model, i, k))
            && lazy(cond.stores_mixed, || self.stores_mixed(c, trace))
            && self.any_asset(&cond.uses, || self.uses(i), trace)
            && self.any_asset(&cond.consumes, || self.consumes(i), trace)
            && self.any_asset(&cond.stores, || self.assets(&c.stores), trace)
            && self.any_asset(&cond.receives, || self.receives(i), trace)
            && cond
                .outbound
                .as_ref()
                .is_none_or(|fc| self.outbound(i).any(|(f, _)| self.flow(fc, f, trace)))
            && cond
                .inbound
                .as_ref()
                .is_none_or(|fc| self.inbound(i).any(|(f, _)| self.flow(fc, f, trace)))
            && cond
                .any
                .as_ref()
                .is_none_or(|any| any.iter().any(|sub| self.component(sub, i, trace)))
            && cond
                .not
                .as_ref()
                .is_none_or(|not| !self.component(not, i, &mut Trace::default()));
        if holds && cond.has_supplier.is_some() {
            trace.supplier = supplier.map(|s| s.id.as_str().to_owned());
        }
        if holds && cond.untrusted_src == Some(true) && trace.source.is_none() {
            trace.source = self
                .graph
                .reached_from(i)
                .map(|s| self.model.components[s].id.as_str().to_owned());
        }
        holds
    }

    pub fn flow(&self, cond: &FlowCond, f: usize, trace: &mut Trace) -> bool {
        let flow = &self.model.flows[f];
        let (Some((from, _)), Some((to, _))) =
            (self.component_of(&flow.from), self.component_of(&flow.to))
        else {
            return false;
        };
        // The carried assets the condition is about: those matching `carries` (all when absent).
        let carried: Vec<&'m Asset> = self
            .assets(&flow.carries)
            .into_iter()
            .filter(|a| cond.carries.as_ref().is_none_or(|c| self.asset(c, a)))
            .collect();
        let to_trust = self.graph.trust(to);
        let below = |a: &Asset| self.provenance_trust(a).is_some_and(|t| t < to_trust);
        let holds = one_of(&cond.kind, Some(flow.kind))
            && cond
                .from
                .as_ref()
                .is_none_or(|c| self.component(c, from, trace))
            && cond
                .to
                .as_ref()
                .is_none_or(|c| self.component(c, to, trace))
            && check(cond.crosses, self.graph.crosses(f))
            && check(cond.enters_higher_trust, self.graph.trust(from) < to_trust)
            && one_of(&cond.authn, flow.authn)
            && one_of(&cond.encryption, flow.encryption)
            && check(cond.bidirectional, flow.bidirectional)
            && (cond.carries.is_none() || !carried.is_empty())
            && cond
                .provenance_below_target
                .is_none_or(|want| carried.iter().any(|a| below(a)) == want)
            && cond
                .any
                .as_ref()
                .is_none_or(|any| any.iter().any(|sub| self.flow(sub, f, trace)))
            && cond
                .not
                .as_ref()
                .is_none_or(|not| !self.flow(not, f, &mut Trace::default()));
        if holds {
            for a in carried {
                if cond.provenance_below_target != Some(true) || below(a) {
                    trace.asset(a.id.as_str());
                }
            }
        }
        holds
    }

    fn uses(&self, i: usize) -> Vec<&'m Asset> {
        let c = &self.model.components[i];
        let system_prompt = c.ai.as_ref().and_then(|a| a.system_prompt.as_ref());
        let inbound: Vec<&'m Ref> = self.inbound(i).flat_map(|(_, f)| &f.carries).collect();
        self.assets(
            c.processes
                .iter()
                .chain(&c.stores)
                .chain(system_prompt)
                .chain(inbound),
        )
    }

    fn consumes(&self, i: usize) -> Vec<&'m Asset> {
        let c = &self.model.components[i];
        let inbound: Vec<&'m Ref> = self.inbound(i).flat_map(|(_, f)| &f.carries).collect();
        self.assets(c.processes.iter().chain(inbound))
    }

    fn receives(&self, i: usize) -> Vec<&'m Asset> {
        let inbound = self.inbound(i).flat_map(|(_, f)| &f.carries);
        let responses = self
            .outbound(i)
            .filter(|(_, f)| f.bidirectional)
            .flat_map(|(_, f)| &f.carries);
        let refs: Vec<&'m Ref> = inbound.chain(responses).collect();
        self.assets(refs)
    }

    fn stores_mixed(&self, c: &Component, trace: &mut Trace) -> bool {
        let stored = self.assets(&c.stores);
        let mut classes: Vec<Classification> = stored
            .iter()
            .map(|a| {
                self.graph
                    .classification(a.id.as_str())
                    .unwrap_or(a.classification)
            })
            .collect();
        classes.sort();
        classes.dedup();
        let mut owners: Vec<&str> = stored.iter().filter_map(|a| a.owner.as_deref()).collect();
        owners.sort_unstable();
        owners.dedup();
        let mixed = classes.len() > 1 || owners.len() > 1;
        if mixed {
            stored.iter().for_each(|a| trace.asset(a.id.as_str()));
        }
        mixed
    }

    fn reaches_human(&self, i: usize) -> bool {
        self.reaching_humans(None).get(i).copied().unwrap_or(false)
    }

    /// Whether a control list carries a control with one of `caps` that counts: implemented,
    /// or partial when `partial` is allowed. Returns the control id.
    pub fn has<'c>(&self, controls: &'c [Ref], caps: &[String], partial: bool) -> Option<&'c str> {
        controls.iter().find_map(|r| {
            let control = self.model.control(r)?;
            let counts = control.status == ControlStatus::Implemented
                || (partial && control.status == ControlStatus::Partial);
            (counts
                && caps
                    .iter()
                    .any(|c| c.as_str() == control.capability.as_str()))
            .then_some(r.as_str())
        })
    }

    fn component_has(&self, c: usize, caps: &[String], partial: bool) -> bool {
        self.has(&self.model.components[c].controls, caps, partial)
            .is_some()
    }

    fn flow_has(&self, f: usize, caps: &[String], partial: bool) -> bool {
        self.has(&self.model.flows[f].controls, caps, partial)
            .is_some()
    }

    /// Whether a requirement is met on a target.
    pub fn met(
        &self,
        require: &Require,
        target: Target<'_>,
        partial: bool,
        trace: &mut Trace,
    ) -> bool {
        if let Some(kind) = require.inside_boundary {
            return match target {
                Target::Component(i, _) => self.graph.inside(self.model, i, kind),
                _ => true,
            };
        }
        let caps = &require.any;
        require
            .at
            .iter()
            .any(|place| self.met_at(*place, caps, target, partial, trace))
    }

    fn met_at(
        &self,
        place: Place,
        caps: &[String],
        target: Target<'_>,
        partial: bool,
        trace: &mut Trace,
    ) -> bool {
        let node = |c: usize| self.component_has(c, caps, partial);
        let edge = |f: usize| self.flow_has(f, caps, partial);
        match (place, target) {
            (Place::Model, _) => self.model.controls.iter().any(|c| {
                (c.status == ControlStatus::Implemented
                    || (partial && c.status == ControlStatus::Partial))
                    && caps.iter().any(|cap| cap.as_str() == c.capability.as_str())
            }),
            (Place::This, Target::Component(i, _)) => node(i),
            (Place::Ingress, Target::Component(i, _)) => {
                if !self.graph.untrusted_src(i) {
                    return false;
                }
                match self
                    .unguarded_ingress(caps, partial)
                    .get(i)
                    .copied()
                    .flatten()
                {
                    Some(source) => {
                        trace.source = Some(self.model.components[source].id.as_str().to_owned());
                        false
                    }
                    None => true,
                }
            }
            (Place::Egress, Target::Component(i, _)) => {
                self.reaching_humans(None).get(i).copied().unwrap_or(false)
                    && !self
                        .reaching_humans(Some((caps, partial)))
                        .get(i)
                        .copied()
                        .unwrap_or(false)
            }
            (Place::Inbound, Target::Component(i, _)) => self.inbound(i).any(|(f, flow)| {
                edge(f) || self.component_of(&flow.from).is_some_and(|(c, _)| node(c))
            }),
            (Place::Outbound, Target::Component(i, _)) => self.outbound(i).any(|(f, flow)| {
                edge(f) || self.component_of(&flow.to).is_some_and(|(c, _)| node(c))
            }),
            (Place::Flow, Target::Flow(f, _)) => edge(f),
            (Place::From, Target::Flow(_, flow)) => {
                self.component_of(&flow.from).is_some_and(|(c, _)| node(c))
            }
            (Place::To, Target::Flow(_, flow)) => {
                self.component_of(&flow.to).is_some_and(|(c, _)| node(c))
            }
            (Place::Upstream, Target::Flow(_, flow)) => {
                let Some((to, _)) = self.component_of(&flow.to) else {
                    return false;
                };
                let starts: Vec<usize> = self
                    .assets(&flow.carries)
                    .into_iter()
                    .flat_map(|a| self.provenance_components(a))
                    .collect();
                !starts.is_empty()
                    && self
                        .graph
                        .connected(self.model, &starts, |c| c == to, Edges::Data)
                    && self
                        .graph
                        .unguarded(self.model, &starts, |c| c == to, Edges::Data, node, edge)
                        .is_none()
            }
            _ => false,
        }
    }
}

//! The Python front-end: a semantic walk over the tree-sitter tree that resolves what every name
//! refers to and where untrusted data flows, and hands calls, assignments and string constants
//! to the rule engine.
//!
//! Resolution follows Python's rules closely enough for security rules:
//! - imports and aliases (`import torch as th`, `from yaml import load as l`, `cPickle` via the
//!   catalogue's aliases), `getattr(mod, "name")`, `importlib.import_module("pickle")`;
//! - values bound to names, attributes of `self`, and `**dict` spreads of literal dicts;
//! - `functools.partial(f, …)` bindings, whose calls are calls of `f` with the merged arguments;
//! - instances: `client = OpenAI()` makes `client.chat.completions.create` resolve to
//!   `openai.OpenAI().chat.completions.create`; parameter annotations do the same;
//! - function bodies run after the enclosing scope (late binding), as Python does.
//!
//! Taint is intra-file: sources from the catalogue (LLM completions, request data, downloads)
//! propagate through assignments, attribute and subscript access, string building, calls (their
//! result is tainted by tainted arguments unless the callee is a sanitiser), local function
//! parameters and return values. A function's body is walked when its summary is first needed
//! (a caller defined before its callee walks the callee first; a method reading an attribute of
//! its class first walks the methods that assign it), else in definition order; the walk repeats
//! (at most [`MAX_PASSES`] times) while a summary learns something that an earlier part of the
//! walk already read (a method reading an attribute that it only sets afterwards).

use crate::analyse::FileContext;
use crate::catalogue::{Catalogue, Language, SourceKind};
use crate::engine::{Emitter, ImportContext, Provenance, find_arg_in};
use crate::finding::Finding;
use crate::lang::node_text;
use crate::source::LineIndex;
use crate::value::{
    Arg, AssignEvent, CallEvent, Const, Partial, Range, Shape, Sym, Taint, UNKNOWN,
};
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use tree_sitter::{Node, Tree};

pub mod session;

/// The attribute names `text` assigns (`x.name = …`, `x.name: T = …`; not `x.name == …`).
fn assigned_attributes(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'.', bytes).filter_map(move |dot| {
        let start = dot + 1;
        let length = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let rest = bytes[start + length..].trim_ascii_start();
        let assigned = match rest {
            [b'=', next, ..] => *next != b'=',
            [b':', ..] => true,
            _ => false,
        };
        (length > 0 && assigned).then(|| text.get(start..start + length))?
    })
}

/// The kind of a node, by id (see [`crate::lang::kind_names`]).
fn kind_of(node: Node) -> &'static str {
    static NAMES: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| crate::lang::kind_names(Language::Python));
    NAMES
        .get(usize::from(node.kind_id()))
        .map_or("", String::as_str)
}

/// Field ids of the grammar, looked up once (by-name lookups compare strings on every call).
struct Fields {
    alias: std::num::NonZeroU16,
    argument: std::num::NonZeroU16,
    arguments: std::num::NonZeroU16,
    attribute: std::num::NonZeroU16,
    body: std::num::NonZeroU16,
    condition: std::num::NonZeroU16,
    consequence: std::num::NonZeroU16,
    definition: std::num::NonZeroU16,
    expression: std::num::NonZeroU16,
    function: std::num::NonZeroU16,
    key: std::num::NonZeroU16,
    left: std::num::NonZeroU16,
    module_name: std::num::NonZeroU16,
    name: std::num::NonZeroU16,
    object: std::num::NonZeroU16,
    operator: std::num::NonZeroU16,
    parameters: std::num::NonZeroU16,
    right: std::num::NonZeroU16,
    subscript: std::num::NonZeroU16,
    superclasses: std::num::NonZeroU16,
    r#type: std::num::NonZeroU16,
    value: std::num::NonZeroU16,
}

static FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| {
    let language = crate::lang::grammar(Language::Python);
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
        attribute: id("attribute"),
        body: id("body"),
        condition: id("condition"),
        consequence: id("consequence"),
        definition: id("definition"),
        expression: id("expression"),
        function: id("function"),
        key: id("key"),
        left: id("left"),
        module_name: id("module_name"),
        name: id("name"),
        object: id("object"),
        operator: id("operator"),
        parameters: id("parameters"),
        right: id("right"),
        subscript: id("subscript"),
        superclasses: id("superclasses"),
        r#type: id("type"),
        value: id("value"),
    }
});

const MAX_PASSES: usize = 4;
/// Deeper expressions or statements are not analysed (keeps the walk's stack bounded).
const MAX_DEPTH: usize = 150;
/// A body walked ahead of its turn continues the caller's depth: it only runs from shallow call
/// sites, so that it keeps most of [`MAX_DEPTH`] for itself.
const MAX_DEPTH_TO_WALK_AHEAD: usize = 40;

/// Analyses a parsed Python module.
pub fn analyse(
    catalogue: &Catalogue,
    text: &str,
    tree: &Tree,
    lines: &LineIndex,
    context: &FileContext,
) -> Vec<Finding> {
    let (findings, _) = analyse_whole(catalogue, text, tree, lines, context, false);
    findings.into_iter().map(|(finding, _)| finding).collect()
}

/// Analyses the whole module; with `keep_memo`, also returns what a [`session::Session`] needs
/// to re-analyse one function after an edit, when the walk settled (it did not stop at
/// [`MAX_PASSES`]).
fn analyse_whole(
    catalogue: &Catalogue,
    text: &str,
    tree: &Tree,
    lines: &LineIndex,
    context: &FileContext,
    keep_memo: bool,
) -> (Vec<(Finding, Provenance)>, Option<session::Memo>) {
    let repeat = Repeat::OutdatedUnits;
    let (findings, memo, _) =
        analyse_repeating(catalogue, text, tree, lines, context, repeat, keep_memo);
    (findings, memo)
}

/// What the walk repeats until no summary changes after it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// The whole module, every time.
    #[cfg(test)]
    WholeModule,
    /// Only the functions that read what changed, when only function bodies did (see
    /// [`Rewalk`]); the whole module when that cannot settle it.
    OutdatedUnits,
}

/// [`analyse_whole`], repeating the walk as `repeat` says, and keeping a memo if `keep_memo`
/// (a one-off analysis has no use for one); also returns how many times the whole module was
/// walked.
fn analyse_repeating(
    catalogue: &Catalogue,
    text: &str,
    tree: &Tree,
    lines: &LineIndex,
    context: &FileContext,
    repeat: Repeat,
    keep_memo: bool,
) -> (Vec<(Finding, Provenance)>, Option<session::Memo>, usize) {
    let root = tree.root_node();
    let imports = import_context(root, text);
    let mut summaries = Summaries::default();
    let mut pass = 1;
    let mut whole_walks = 0;
    while pass <= MAX_PASSES {
        whole_walks += 1;
        let mut emitter = Emitter::new(catalogue, text, lines, Language::Python);
        emitter.imports = imports.clone();
        let mut walker = Walker::new(catalogue, text, &mut emitter, &mut summaries, context);
        walker.walk_module(root);
        let Walker {
            mut changed,
            module_outdated,
            units,
            effects,
            star_imports,
            ..
        } = walker;
        let mut last = Pass {
            findings: emitter
                .findings
                .into_iter()
                .zip(emitter.provenance)
                .collect(),
            units,
            effects,
            shared: emitter.shared,
        };
        if changed && !module_outdated && pass < MAX_PASSES && repeat == Repeat::OutdatedUnits {
            let rewalk = Rewalk {
                catalogue,
                text,
                lines,
                context,
                root,
                imports: &imports,
                star_imports: &star_imports,
            };
            let before = (summaries.clone(), pass);
            match rewalk.settle(&mut summaries, last, &mut pass) {
                Some(settled) => {
                    last = settled;
                    changed = false;
                }
                None => {
                    (summaries, pass) = before;
                    summaries.reset_reads();
                    pass += 1;
                    continue;
                }
            }
        }
        // Who read what, for the memo of a walk that settled.
        let read = (keep_memo && !changed).then(|| {
            (
                summaries.reads(&last.effects, |_| true),
                summaries.outside_return_readers(),
                summaries.attribute_readers(),
            )
        });
        summaries.reset_reads();
        // A finding two units report belongs to whichever the walk reached first.
        for &owner in &last.shared {
            if let Some(unit) = last.units.get_mut(owner as usize) {
                unit.stale = true;
            }
        }
        if changed && pass < MAX_PASSES {
            pass += 1;
            continue;
        }
        let mut findings = last.findings;
        session::sort(&mut findings);
        let memo = read.map(|(reads, return_readers, attribute_readers)| session::Memo {
            text: text.to_string(),
            tree: tree.clone(),
            errors: session::syntax_errors(root),
            summaries,
            units: last.units,
            findings: findings.clone(),
            effects: last.effects,
            reads,
            return_readers,
            attribute_readers,
            star_imports,
            imports: imports.clone(),
        });
        return (findings, memo, whole_walks);
    }
    (Vec::new(), None, whole_walks)
}

/// What one pass over a module found.
struct Pass {
    findings: Vec<(Finding, Provenance)>,
    units: Vec<Unit>,
    effects: Vec<(u32, Effect)>,
    /// The owners of findings that more than one unit reported.
    shared: Vec<u32>,
}

/// Passes that walk only the units whose walk read a summary that changed afterwards (those
/// marked [`Unit::stale`]), over the summaries the pass before ended with, until no unit is
/// out of date: every other unit read what the summaries still say, so a whole pass would walk
/// it to the same end.
///
/// Class attributes are the one summary where the order of the writes decides the value
/// (the last write that names a value wins), so in these passes a unit reads them as the pass
/// before left them, and what it sets is applied afterwards; the attributes that other units
/// also set must come out the same, or a whole pass is needed. So is one whenever module-level
/// code read something that changed, or a finding is reported by more than one unit.
struct Rewalk<'a, 't> {
    catalogue: &'a Catalogue,
    text: &'a str,
    lines: &'a LineIndex,
    context: &'a FileContext<'a>,
    root: Node<'t>,
    imports: &'a ImportContext,
    star_imports: &'a [Rc<str>],
}

impl Rewalk<'_, '_> {
    /// Walks the out-of-date units again until none is (counting passes in `pass`, up to
    /// [`MAX_PASSES`]); `None` when a whole pass is needed (`summaries` may then have changed:
    /// the caller puts them back).
    fn settle(&self, summaries: &mut Summaries, mut last: Pass, pass: &mut usize) -> Option<Pass> {
        loop {
            let outdated: Vec<u32> = (0..last.units.len() as u32)
                .filter(|&u| last.units[u as usize].stale)
                .collect();
            if outdated.is_empty() {
                return Some(last);
            }
            if *pass == MAX_PASSES {
                return None;
            }
            *pass += 1;
            last = self.pass(summaries, last, &outdated)?;
        }
    }

    /// One pass over the `outdated` units (in order).
    fn pass(&self, summaries: &mut Summaries, last: Pass, outdated: &[u32]) -> Option<Pass> {
        let is_outdated = |owner: u32| outdated.binary_search(&owner).is_ok();
        if last.shared.iter().any(|&owner| is_outdated(owner)) {
            return None;
        }
        summaries.forget_reads_of(is_outdated);
        let mut emitter = Emitter::new(self.catalogue, self.text, self.lines, Language::Python);
        emitter.imports = self.imports.clone();
        let mut walker = Walker::new(
            self.catalogue,
            self.text,
            &mut emitter,
            summaries,
            self.context,
        );
        walker.star_imports = self.star_imports.to_vec();
        walker.units = last.units;
        walker.deferred.module_done = true;
        walker.defer_attrs = true;
        for &unit in outdated {
            let info = &mut walker.units[unit as usize];
            info.stale = false;
            let node = session::function_at(self.root, info.start)?;
            walker.walk_unit_again(unit, node);
        }
        let Walker {
            mut module_outdated,
            mut units,
            effects,
            ..
        } = walker;
        let (_, mut findings): (Vec<_>, Vec<_>) = last
            .findings
            .into_iter()
            .partition(|(_, provenance)| is_outdated(provenance.owner));
        let reported_twice = !emitter.shared.is_empty() || {
            fn key(f: &Finding) -> (&str, usize, usize) {
                (&f.rule, f.span.start_byte, f.span.end_byte)
            }
            let kept: std::collections::HashSet<_> = findings.iter().map(|(f, _)| key(f)).collect();
            emitter.findings.iter().any(|new| kept.contains(&key(new)))
        };
        if reported_twice {
            return None;
        }
        findings.extend(emitter.findings.into_iter().zip(emitter.provenance));
        let (before, mut effects_kept): (Vec<_>, Vec<_>) = last
            .effects
            .into_iter()
            .partition(|(owner, _)| is_outdated(*owner));
        let readers = set_attributes(summaries, &effects_kept, &before, &effects)?;
        for reader in readers {
            match units.get_mut(reader as usize) {
                Some(unit) => unit.stale = true,
                None => module_outdated = true,
            }
        }
        if module_outdated {
            return None;
        }
        effects_kept.extend(effects);
        Some(Pass {
            findings,
            units,
            effects: effects_kept,
            shared: last.shared,
        })
    }
}

/// Who set one class attribute to what: the units not walked again, and the units walked
/// again before and now.
type AttrWrites<'e> = [Vec<(u32, &'e Sym)>; 3];

/// Sets the class attributes whose writes changed when some units were walked again (`before`
/// and `now`: their effects in the last walk and in this one; `others`: the rest), and returns
/// the units (or [`MODULE`]) whose read of one is now out of date. `None` when the value
/// depends on the order of writes by more than one unit.
fn set_attributes(
    summaries: &mut Summaries,
    others: &[(u32, Effect)],
    before: &[(u32, Effect)],
    now: &[(u32, Effect)],
) -> Option<Vec<u32>> {
    let mut writes: HashMap<(usize, &Rc<str>), AttrWrites> = HashMap::default();
    for (side, effects) in [(1, before), (2, now)] {
        for (owner, effect) in effects {
            if let Effect::Attr { class, name, value } = effect {
                writes.entry((*class, name)).or_default()[side].push((*owner, value));
            }
        }
    }
    for (owner, effect) in others {
        if let Effect::Attr { class, name, value } = effect
            && let Some(sides) = writes.get_mut(&(*class, name))
        {
            sides[0].push((*owner, value));
        }
    }
    let mut outdated = Vec::new();
    for ((class, name), [others, mut before, mut now]) in writes {
        // Each unit's writes in its own order (the sort is stable).
        before.sort_by_key(|&(owner, _)| owner);
        now.sort_by_key(|&(owner, _)| owner);
        if before == now {
            continue;
        }
        // With one writer, the order of the writes is that unit's own.
        let mut writers = others.iter().chain(&before).chain(&now).map(|&(o, _)| o);
        let first = writers.next();
        if writers.any(|owner| Some(owner) != first) {
            return None;
        }
        let info = &mut summaries.classes[class];
        let value_before = info.attrs.get(name).cloned();
        let mut learned = false;
        for (_, value) in now {
            learned |= info.set_attr(name, value.clone()).0;
        }
        let overwritten = info.attrs.get(name) != value_before.as_ref();
        outdated.extend(info.outdated_readers(name, (learned, overwritten)).0);
    }
    Some(outdated)
}

/// The module-level bindings of a module, for other files that import them (function bodies
/// are not walked; nothing outside the module is consulted).
pub fn module_constants<'a>(
    catalogue: &'a Catalogue,
    text: &'a str,
    tree: &Tree,
    emitter: &mut Emitter<'a>,
) -> Vec<(String, Sym)> {
    let mut summaries = Summaries::default();
    let context = FileContext::default();
    let mut walker = Walker::new(catalogue, text, emitter, &mut summaries, &context);
    walker.constants_only = true;
    let module = Rc::new(RefCell::new(Scope::default()));
    let ctx = Ctx {
        chain: vec![module.clone()],
        ..Ctx::default()
    };
    walker.visit_block(tree.root_node(), &ctx);
    let vars = &module.borrow().vars;
    vars.iter()
        .map(|(name, sym)| (name.to_string(), sym.clone()))
        .collect()
}

/// Whose output each unit's walk read, at the end of an analysis: for a reader ([`MODULE`] for
/// the module's own statements), the units whose functions' returns (those that say something)
/// or whose attribute writes it read. A [`session::Session`] uses it to tell when what a
/// function passes on comes back to it through the functions that read it. (Arguments passed
/// to parameters are left out: every call with arguments whose result the caller uses would
/// be such a loop.)
#[derive(Default, Clone)]
pub(super) struct Reads(HashMap<u32, Vec<u32>>);

impl Reads {
    /// The units that read, directly or through the readers of readers, what `unit` passed on;
    /// `more` are further (writer, reader) pairs.
    fn reached_from(&self, unit: u32, more: &[(u32, u32)]) -> std::collections::HashSet<u32> {
        let mut readers_of: HashMap<u32, Vec<u32>> = HashMap::default();
        for (&reader, from) in &self.0 {
            for &writer in from {
                readers_of.entry(writer).or_default().push(reader);
            }
        }
        for &(writer, reader) in more {
            readers_of.entry(writer).or_default().push(reader);
        }
        let mut reached = std::collections::HashSet::new();
        let mut next = vec![unit];
        while let Some(writer) = next.pop() {
            for &reader in readers_of.get(&writer).into_iter().flatten() {
                if reached.insert(reader) {
                    next.push(reader);
                }
            }
        }
        reached
    }
}

/// What the walk learns about local functions and classes, kept across passes.
#[derive(Default, Clone)]
struct Summaries {
    functions: Vec<FunctionInfo>,
    /// By the start byte of the definition.
    function_by_node: HashMap<usize, usize>,
    classes: Vec<ClassInfo>,
    class_by_node: HashMap<usize, usize>,
}

/// Not inside any [`Unit`]: the module's own statements and class bodies.
const MODULE: u32 = u32::MAX;

/// A function defined at module level or in a class body (a method): the unit that a
/// [`session::Session`] re-analyses after an edit inside its body. Functions nested in it
/// belong to it.
#[derive(Clone)]
struct Unit {
    function: usize,
    /// The `function_definition` node's bytes, and where its body starts.
    start: usize,
    end: usize,
    body: usize,
    chain: Vec<ScopeRef>,
    class: Option<usize>,
    receiver: Receiver,
    decorated: Option<SourceKind>,
    /// The walk's depth when the body was walked (a body walked ahead of its turn continues
    /// its caller's).
    depth: usize,
    /// The walk read something that changed after it read it (an attribute another method set
    /// later, …): what it found is the walk's order, not the final summaries, so it is not
    /// re-analysed on its own.
    stale: bool,
}

/// What a unit's walk wrote into summaries that other units read.
#[derive(Debug, Clone, PartialEq)]
enum Effect {
    /// A call passed an argument to a local function's parameter.
    Param {
        callee: usize,
        index: usize,
        taint: Option<Rc<Taint>>,
        safe: bool,
        /// A real qualified name (an import, an instance), not an unresolved one.
        qname: Option<Rc<str>>,
    },
    /// `self.name = value` on an instance of a local class, or `Class.name = value` on the class.
    Attr {
        class: usize,
        name: Rc<str>,
        value: Sym,
    },
}

impl ClassInfo {
    /// `self.name = value`: a value with a name replaces what is known, one without only adds
    /// its taint. Returns whether it told something new (a name or a taint), and whether the
    /// attribute's value changed.
    fn set_attr(&mut self, name: &str, value: Sym) -> (bool, bool) {
        let entry = self.attrs.entry(name.into()).or_default();
        let learned = (entry.qname.is_none() && value.qname.is_some())
            || (entry.taint.is_none() && value.taint.is_some());
        let mut overwritten = false;
        if entry.qname.is_none() || value.qname.is_some() {
            let taint = Sym::merge_taint(entry.taint.clone(), &value.taint);
            let new = Sym { taint, ..value };
            overwritten = *entry != new;
            *entry = new;
        }
        (learned, overwritten)
    }

    /// After `.name` was set: the units whose read of it is out of date (no longer readers in
    /// this pass; kept as stale readers), and whether it was read before anything was known
    /// about it and now something is.
    fn outdated_readers(
        &mut self,
        name: &str,
        (learned, overwritten): (bool, bool),
    ) -> (Vec<u32>, bool) {
        let missed = learned && self.missed.contains(name);
        let readers = if overwritten || missed {
            self.readers.remove(name).unwrap_or_default()
        } else {
            Vec::new()
        };
        if !readers.is_empty() {
            self.stale_readers
                .entry(name.into())
                .or_default()
                .extend(&readers);
        }
        (readers, missed)
    }
}

impl Summaries {
    /// Forgets what `units` read: they are about to be walked again.
    fn forget_reads_of(&mut self, outdated: impl Fn(u32) -> bool) {
        for f in &mut self.functions {
            f.return_readers.retain(|&unit| !outdated(unit));
            f.walking_readers.retain(|&unit| !outdated(unit));
        }
        for c in &mut self.classes {
            for readers in c.readers.values_mut().chain(c.stale_readers.values_mut()) {
                readers.retain(|&unit| !outdated(unit));
            }
        }
    }

    /// Whose returns and attributes the units that `reader` accepts read (see [`Reads`]);
    /// `effects` are what the units wrote.
    fn reads(&self, effects: &[(u32, Effect)], reader: impl Fn(u32) -> bool) -> Reads {
        let mut from: HashMap<u32, Vec<u32>> = HashMap::default();
        for (owner, effect) in effects {
            if let Effect::Attr { class, name, .. } = effect
                && let Some(readers) = self.classes[*class].readers.get(name)
            {
                for &r in readers.iter().filter(|&&r| reader(r) && r != *owner) {
                    from.entry(r).or_default().push(*owner);
                }
            }
        }
        // A return that says nothing carries nothing back.
        for function in self.functions.iter().filter(|f| f.says_something()) {
            let readers = function
                .return_readers
                .iter()
                .chain(&function.walking_readers);
            for &r in readers.filter(|&&r| reader(r)) {
                if r != function.unit {
                    from.entry(r).or_default().push(function.unit);
                }
            }
        }
        for writers in from.values_mut() {
            writers.sort_unstable();
            writers.dedup();
        }
        Reads(from)
    }

    /// For each function whose return code outside its unit read (another unit, or
    /// [`MODULE`]), those readers. Unlike [`Self::reads`], it counts returns that say nothing:
    /// an edit can make one say something.
    fn outside_return_readers(&self) -> HashMap<usize, Vec<u32>> {
        let mut readers = HashMap::default();
        for (id, function) in self.functions.iter().enumerate() {
            let mut outside: Vec<u32> = function
                .return_readers
                .iter()
                .chain(&function.walking_readers)
                .copied()
                .filter(|&reader| reader != function.unit)
                .collect();
            if !outside.is_empty() {
                outside.sort_unstable();
                outside.dedup();
                readers.insert(id, outside);
            }
        }
        readers
    }

    /// The units (and [`MODULE`]) that read an attribute of each name, on any class (a name,
    /// not a class, so that what a class inherits needs no thought).
    fn attribute_readers(&self) -> HashMap<Rc<str>, Vec<u32>> {
        let mut readers: HashMap<Rc<str>, Vec<u32>> = HashMap::default();
        for class in &self.classes {
            for (name, units) in class.readers.iter().chain(&class.stale_readers) {
                readers.entry(name.clone()).or_default().extend(units);
            }
        }
        for units in readers.values_mut() {
            units.sort_unstable();
            units.dedup();
        }
        readers
    }

    fn reset_reads(&mut self) {
        for f in &mut self.functions {
            f.return_readers.clear();
            f.walking_readers.clear();
            f.params_read = false;
            f.consulted.clear();
        }
        for c in &mut self.classes {
            c.missed.clear();
            c.readers.clear();
            c.stale_readers.clear();
        }
    }
}

#[derive(Default, Clone)]
struct FunctionInfo {
    name: Rc<str>,
    params: Vec<Rc<str>>,
    param_taint: Vec<Option<Rc<Taint>>>,
    /// What call sites pass, when it has a qualified name (`llm` ← `ChatOpenAI()`).
    param_qnames: Vec<Option<Rc<str>>>,
    /// Qualified names of the decorators (`flask.Flask().route()`).
    decorators: Vec<Rc<str>>,
    /// Constant defaults (`name: str = "org/model"`), used when no call site says more.
    param_defaults: Vec<Option<Sym>>,
    /// Whether every call site seen passes a constant or sanitised value.
    param_safe: Vec<Option<bool>>,
    /// Which parameters' `param_qnames` and `param_safe` the body's walk looked at (a call
    /// that changes one of those afterwards makes the walk out of date).
    consulted: Vec<(bool, bool)>,
    returns: Option<Rc<Taint>>,
    return_qname: Option<Rc<str>>,
    return_shape: Shape,
    /// A constant the function returns (`def model_id(): return "org/m"`).
    return_konst: Option<Const>,
    /// The units that read what it returns in this pass (a later return with more to say
    /// makes what they read out of date).
    return_readers: Vec<u32>,
    /// The units that called it while its body was being walked (recursion through them):
    /// they are out of date already, and only [`Reads`] needs to know.
    walking_readers: Vec<u32>,
    params_read: bool,
    /// The body is being walked (a call from inside it is recursion).
    walking: bool,
    /// The [`Unit`] this function is, or is nested in.
    unit: u32,
}

/// What the calls of a function told one of its parameters, merged: the taint that starts
/// first, whether every call passed something safe (`None`: no call), and a real qualified name
/// one passed (the first walked).
#[derive(Debug, Default, Clone, PartialEq)]
struct ParamSummary {
    taint: Option<Rc<Taint>>,
    safe: Option<bool>,
    qname: Option<Rc<str>>,
}

impl FunctionInfo {
    fn param_summary(&self, index: usize) -> Option<ParamSummary> {
        Some(ParamSummary {
            taint: self.param_taint.get(index)?.clone(),
            safe: *self.param_safe.get(index)?,
            qname: self.param_qnames.get(index)?.clone(),
        })
    }

    fn set_param_summary(&mut self, index: usize, summary: ParamSummary) {
        if let (Some(taint), Some(safe), Some(qname)) = (
            self.param_taint.get_mut(index),
            self.param_safe.get_mut(index),
            self.param_qnames.get_mut(index),
        ) {
            (*taint, *safe, *qname) = (summary.taint, summary.safe, summary.qname);
        }
    }

    /// Whether a call of it tells its caller anything (a taint, a name, a shape, a constant).
    fn says_something(&self) -> bool {
        self.returns.is_some()
            || self.return_qname.is_some()
            || !matches!(self.return_shape, Shape::Plain)
            || self.return_konst.is_some()
    }
}

#[derive(Default, Clone)]
struct ClassInfo {
    name: Rc<str>,
    attrs: HashMap<Rc<str>, Sym>,
    methods: HashMap<Rc<str>, usize>,
    /// Attributes read before anything was known about them (learning one later means
    /// another pass).
    missed: std::collections::HashSet<Rc<str>>,
    /// The [`Unit`] the class is defined in ([`MODULE`] at module level).
    unit: u32,
    /// The units that read each attribute in this pass (a later write with another value makes
    /// what they read out of date).
    readers: HashMap<Rc<str>, Vec<u32>>,
    /// The readers such a later write made out of date (they are marked [`Unit::stale`]): they
    /// still read the attribute, which an editing session must know.
    stale_readers: HashMap<Rc<str>, Vec<u32>>,
}

#[derive(Default, Clone)]
struct Scope {
    vars: HashMap<Rc<str>, Sym>,
    /// Set on a class body's scope.
    class: Option<usize>,
}

type ScopeRef = Rc<RefCell<Scope>>;

/// A call's evaluated arguments.
#[derive(Default)]
struct CallArgs {
    args: Vec<Arg>,
    /// `*args` and `**kwargs` whose contents are not known.
    star_args: bool,
    star_kwargs: bool,
    /// Inside the parentheses, when there are some.
    parens: Option<Range>,
}

#[derive(Clone, Default)]
struct Ctx {
    /// Visible scopes, outermost first.
    chain: Vec<ScopeRef>,
    function: Option<usize>,
    /// The class whose method body this is (`self` / `cls`).
    class: Option<usize>,
    /// Inside a conditional or loop body: rebinding keeps earlier taint.
    branch: bool,
}

impl Ctx {
    fn innermost(&self) -> Option<&ScopeRef> {
        self.chain.last()
    }

    /// The chain a nested function sees: class scopes are not visible from method bodies.
    fn for_nested_function(&self) -> Vec<ScopeRef> {
        self.chain
            .iter()
            .filter(|s| s.borrow().class.is_none())
            .cloned()
            .collect()
    }
}

/// Function bodies waiting for their walk, in the order they were defined.
#[derive(Default)]
struct Deferreds<'t> {
    jobs: Vec<Option<Deferred<'t>>>,
    next: usize,
    /// Each function's job, for a body to run ahead of its turn when a caller reads its
    /// summary first.
    ahead: HashMap<usize, usize>,
    /// Set once the module's scope is complete: no body runs ahead before (Python would not
    /// have run it yet either, and it would see an unfinished module).
    module_done: bool,
}

impl<'t> Deferreds<'t> {
    fn push(&mut self, job: Deferred<'t>) {
        self.ahead.insert(job.function, self.jobs.len());
        self.jobs.push(Some(job));
    }

    fn next(&mut self) -> Option<Deferred<'t>> {
        while self.next < self.jobs.len() {
            self.next += 1;
            if let Some(job) = self.jobs[self.next - 1].take() {
                return Some(job);
            }
        }
        None
    }

    /// The definition of a function whose body has not run yet.
    fn pending(&self, function: usize) -> Option<Node<'t>> {
        let slot = *self.ahead.get(&function)?;
        self.jobs.get(slot)?.as_ref().map(|job| job.node)
    }

    fn take_ahead(&mut self, function: usize) -> Option<Deferred<'t>> {
        if !self.module_done {
            return None;
        }
        let slot = *self.ahead.get(&function)?;
        self.jobs.get_mut(slot)?.take()
    }
}

struct Deferred<'t> {
    node: Node<'t>,
    chain: Vec<ScopeRef>,
    function: usize,
    class: Option<usize>,
    /// First parameter is `self` (instance) or `cls` (class).
    receiver: Receiver,
    decorated: Option<SourceKind>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Receiver {
    None,
    Instance,
    Class,
}

struct Walker<'a, 'e, 't> {
    catalogue: &'a Catalogue,
    text: &'a str,
    emitter: &'e mut Emitter<'a>,
    summaries: &'e mut Summaries,
    context: &'e FileContext<'e>,
    /// Only module-level bindings matter (another module's constants): skip definitions.
    constants_only: bool,
    star_imports: Vec<Rc<str>>,
    deferred: Deferreds<'t>,
    /// By class, the methods that had not run when the class's attributes were first missed,
    /// by the attribute names their text assigns (see [`Walker::walk_ahead_setters`]).
    setters: HashMap<usize, HashMap<Rc<str>, Vec<usize>>>,
    changed: bool,
    /// Module-level code read something that changed afterwards: only a whole pass walks it
    /// again (a unit that did is marked [`Unit::stale`]).
    module_outdated: bool,
    depth: usize,
    /// The unit whose body is being walked.
    current_unit: u32,
    units: Vec<Unit>,
    effects: Vec<(u32, Effect)>,
    /// Set when re-walking one unit over the summaries of a whole analysis.
    undo: Option<Undo>,
    /// Class attributes set are only recorded in [`Walker::effects`] (see [`Rewalk`]).
    defer_attrs: bool,
    /// The range of the call being evaluated as a statement of its own, whose result nothing
    /// reads (`walk(child)`).
    discarded_call: Option<Range>,
}

/// What a unit re-walked over a whole analysis's summaries wrote into summaries that other
/// units own, as it was before, to put back afterwards: the session merges those writes again
/// itself.
#[derive(Default)]
struct Undo {
    /// Class attributes set on other units' classes: (class, name, value).
    attrs: Vec<(usize, Rc<str>, Option<Sym>)>,
    /// Parameters of other units' functions passed an argument: (function, index, summary).
    params: Vec<(usize, usize, ParamSummary)>,
}

/// The value of a plain string literal (no interpolation, no concatenation).
fn string_literal<'s>(node: Node, text: &'s str) -> Option<&'s str> {
    if kind_of(node) != "string" || node.named_child_count() != 3 {
        return None;
    }
    let content = node.named_child(1)?;
    (kind_of(content) == "string_content").then(|| node_text(content, text))
}

/// The text between the quotes of a string literal that can hold no interpolation and has at
/// most one content part (no `f`/`t` prefix, not broken), read from the text without visiting
/// its children: strings are the most common literal, docstrings the longest. Escape sequences
/// stay as written, as in every string value the walk keeps.
fn plain_string_content<'s>(node: Node, text: &'s str) -> Option<&'s str> {
    if node.has_error() {
        return None;
    }
    match node.named_child_count() {
        2 => return Some(""),
        3 => {}
        _ => return None,
    }
    let literal = node_text(node, text);
    let (prefix, quoted) = literal.split_at(literal.find(['"', '\''])?);
    if prefix.contains(['f', 'F', 't', 'T']) {
        return None;
    }
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|quote| quoted.starts_with(quote))?;
    quoted.strip_prefix(quote)?.strip_suffix(quote)
}

fn range(node: Node) -> Range {
    (node.start_byte(), node.end_byte())
}

/// A call of `partial(f, …)`'s result: its arguments, then the call's (a keyword given in
/// both is the call's).
#[inline(never)]
fn merge_partial(partial: &Partial, args: Vec<Arg>) -> Vec<Arg> {
    let mut merged: Vec<Arg> = partial
        .args
        .iter()
        .filter(|a| a.keyword.is_none() || !args.iter().any(|b: &Arg| b.keyword == a.keyword))
        .cloned()
        .collect();
    merged.extend(args);
    merged
}

/// `base.name`.
fn join(base: &str, name: &str) -> Rc<str> {
    concat(&[base, ".", name])
}

/// The parts one after the other, in one allocation: the walk builds a qualified name for
/// nearly every name, attribute and call it meets, and a `String` turned into an `Rc<str>` is
/// allocated twice.
fn concat(parts: &[&str]) -> Rc<str> {
    let mut buffer = [0u8; 256];
    let mut length = 0;
    for part in parts {
        let Some(slot) = buffer.get_mut(length..length + part.len()) else {
            return parts.concat().into();
        };
        slot.copy_from_slice(part.as_bytes());
        length += part.len();
    }
    // Whole `str`s put together are UTF-8.
    std::str::from_utf8(&buffer[..length]).map_or_else(|_| parts.concat().into(), Into::into)
}

impl<'a, 'e, 't> Walker<'a, 'e, 't> {
    fn new(
        catalogue: &'a Catalogue,
        text: &'a str,
        emitter: &'e mut Emitter<'a>,
        summaries: &'e mut Summaries,
        context: &'e FileContext<'e>,
    ) -> Self {
        Self {
            catalogue,
            text,
            emitter,
            summaries,
            context,
            constants_only: false,
            star_imports: Vec::new(),
            deferred: Deferreds::default(),
            setters: HashMap::default(),
            changed: false,
            module_outdated: false,
            depth: 0,
            current_unit: MODULE,
            units: Vec::new(),
            effects: Vec::new(),
            undo: None,
            defer_attrs: false,
            discarded_call: None,
        }
    }

    /// A condition `name.endswith("suffix")` on a local string of unknown value: the scope that
    /// binds it, its name, its value, and its value known to end with the suffix.
    fn suffix_guard(&self, condition: Node, ctx: &Ctx) -> Option<(ScopeRef, Rc<str>, Sym, Sym)> {
        if kind_of(condition) != "call" {
            return None;
        }
        let function = condition.child_by_field_id(FIELDS.function.get())?;
        let object = function.child_by_field_id(FIELDS.object.get())?;
        let attribute = function.child_by_field_id(FIELDS.attribute.get())?;
        if kind_of(function) != "attribute"
            || kind_of(object) != "identifier"
            || self.text(attribute) != "endswith"
        {
            return None;
        }
        let arguments = condition.child_by_field_id(FIELDS.arguments.get())?;
        let mut cursor = arguments.walk();
        let mut args = arguments.named_children(&mut cursor);
        let (Some(suffix), None) = (args.next(), args.next()) else {
            return None;
        };
        let suffix = string_literal(suffix, self.text)?;
        let scope = ctx.chain.last()?.clone();
        let name: Rc<str> = self.text(object).into();
        let before = scope.borrow().vars.get(&name)?.clone();
        if before.konst.is_some() || before.template.is_some() {
            return None;
        }
        let known = Sym {
            template: Some(format!("{UNKNOWN}{suffix}").into()),
            ..before.clone()
        };
        Some((scope, name, before, known))
    }

    /// Marks what `unit` read as out of date.
    fn mark_stale(&mut self, unit: u32) {
        if unit == MODULE {
            self.module_outdated = true;
        } else if let Some(unit) = self.units.get_mut(unit as usize) {
            unit.stale = true;
        }
    }

    fn text(&self, node: Node) -> &'a str {
        node_text(node, self.text)
    }

    // ----- module, statements -------------------------------------------------------------

    fn walk_module(&mut self, root: Node<'t>) {
        let module = Rc::new(RefCell::new(Scope::default()));
        let ctx = Ctx {
            chain: vec![module],
            ..Ctx::default()
        };
        self.visit_block(root, &ctx);
        // From here on, the module's scope is complete: a body may run ahead of its turn.
        self.deferred.module_done = true;
        while let Some(job) = self.deferred.next() {
            self.visit_function_body(job);
        }
    }

    /// Walks `unit`'s body (its definition is `node`) over the summaries a whole walk left, as
    /// deep as that walk did, then the bodies of the functions it defines.
    fn walk_unit_again(&mut self, unit: u32, node: Node<'t>) {
        let info = &self.units[unit as usize];
        let job = Deferred {
            node,
            chain: info.chain.clone(),
            function: info.function,
            class: info.class,
            receiver: info.receiver,
            decorated: info.decorated,
        };
        self.depth = info.depth;
        self.visit_function_body(job);
        self.depth = 0;
        while let Some(job) = self.deferred.next() {
            self.visit_function_body(job);
        }
    }

    /// Walks a function's body now, if it has not run yet and can: called when its summary is
    /// about to be read, so that callers defined before their callees see what the callee
    /// returns in the same pass instead of forcing another one.
    fn walk_ahead(&mut self, function: usize) {
        if self.depth >= MAX_DEPTH_TO_WALK_AHEAD {
            return;
        }
        if let Some(job) = self.deferred.take_ahead(function) {
            self.visit_function_body(job);
        }
    }

    /// Walks the class's methods that have not run yet and assign `.name` (`self.name = …`),
    /// before the attribute is read: a method reading an attribute that a later method sets
    /// (a getter before its setter, anything before `__init__`) then sees it in this pass instead
    /// of forcing another one. The text only picks which bodies run first; what they assign is
    /// still what their walk finds.
    fn walk_ahead_setters(&mut self, class: usize, name: &str) {
        if !self.deferred.module_done || self.depth >= MAX_DEPTH_TO_WALK_AHEAD {
            return;
        }
        // Methods that run later are not pending now, so indexing the pending ones once is
        // enough; `take_ahead` skips those that have run since.
        let (deferred, text) = (&self.deferred, self.text);
        let index = self.setters.entry(class).or_insert_with(|| {
            let mut index: HashMap<Rc<str>, Vec<usize>> = HashMap::default();
            let mut methods: Vec<usize> = self.summaries.classes[class]
                .methods
                .values()
                .copied()
                .collect();
            // In definition order, as the walk would have reached them.
            methods.sort_unstable();
            for method in methods {
                let Some(body) = deferred
                    .pending(method)
                    .and_then(|n| text.get(n.byte_range()))
                else {
                    continue;
                };
                for name in assigned_attributes(body) {
                    let setters = index.entry(name.into()).or_default();
                    if setters.last() != Some(&method) {
                        setters.push(method);
                    }
                }
            }
            index
        });
        let Some(setters) = index.get(name).cloned() else {
            return;
        };
        for method in setters {
            if let Some(job) = self.deferred.take_ahead(method) {
                self.visit_function_body(job);
            }
        }
    }

    fn visit_block(&mut self, block: Node<'t>, ctx: &Ctx) {
        let mut cursor = block.walk();
        for child in block.named_children(&mut cursor) {
            self.visit_stmt(child, ctx);
        }
    }

    fn visit_stmt(&mut self, node: Node<'t>, ctx: &Ctx) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.visit_stmt_inner(node, ctx);
        self.depth -= 1;
    }

    fn visit_stmt_inner(&mut self, node: Node<'t>, ctx: &Ctx) {
        if self.constants_only
            && matches!(
                kind_of(node),
                "function_definition" | "class_definition" | "decorated_definition"
            )
        {
            return;
        }
        match kind_of(node) {
            "comment"
            | "pass_statement"
            | "break_statement"
            | "continue_statement"
            | "global_statement"
            | "nonlocal_statement"
            | "type_alias_statement" => {}
            "expression_statement" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    match kind_of(child) {
                        "assignment" => {
                            self.visit_assignment(child, ctx);
                        }
                        "augmented_assignment" => self.visit_augmented(child, ctx),
                        _ => {
                            // Restored after: a body walked ahead meanwhile sets its own.
                            let outer = self.discarded_call.replace(range(child));
                            self.eval(child, ctx);
                            self.discarded_call = outer;
                        }
                    }
                }
            }
            "import_statement" | "import_from_statement" => self.visit_import(node, ctx),
            "future_import_statement" => {}
            "function_definition" => self.visit_function_def(node, ctx, &[]),
            "class_definition" => self.visit_class_def(node, ctx, &[]),
            "decorated_definition" => {
                let mut decorators = Vec::new();
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if kind_of(child) == "decorator"
                        && let Some(expr) = child.named_child(0)
                    {
                        decorators.push(self.eval(expr, ctx));
                    }
                }
                if let Some(definition) = node.child_by_field_id(FIELDS.definition.get()) {
                    match kind_of(definition) {
                        "function_definition" => {
                            self.visit_function_def(definition, ctx, &decorators)
                        }
                        "class_definition" => self.visit_class_def(definition, ctx, &decorators),
                        _ => self.visit_stmt(definition, ctx),
                    }
                }
            }
            "return_statement" => {
                let Some(expr) = node.named_child(0) else {
                    return;
                };
                let value = self.eval(expr, ctx);
                if let Some(function) = ctx.function {
                    self.record_return(function, &value);
                    let decorators = self.summaries.functions[function].decorators.clone();
                    if !decorators.is_empty() {
                        self.emitter.on_return(&decorators, &value, range(expr));
                    }
                }
            }
            "if_statement" | "elif_clause" | "while_statement" => {
                let condition = node.child_by_field_id(FIELDS.condition.get());
                if let Some(condition) = condition {
                    self.eval(condition, ctx);
                }
                let inner = Ctx {
                    branch: true,
                    ..ctx.clone()
                };
                let consequence = node.child_by_field_id(FIELDS.consequence.get());
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if Some(child) == condition {
                        continue;
                    }
                    // `if path.endswith(".h5"):` — in its body, the path is known to end so.
                    let guard = (Some(child) == consequence && kind_of(node) != "while_statement")
                        .then(|| condition.and_then(|c| self.suffix_guard(c, ctx)))
                        .flatten();
                    match guard {
                        Some((scope, name, before, known)) => {
                            scope.borrow_mut().vars.insert(name.clone(), known.clone());
                            self.visit_stmt(child, &inner);
                            // The fact holds inside the body only (unless the body rebound it).
                            let mut scope = scope.borrow_mut();
                            if scope.vars.get(&name) == Some(&known) {
                                scope.vars.insert(name, before);
                            }
                        }
                        None => self.visit_stmt(child, &inner),
                    }
                }
            }
            "else_clause" | "finally_clause" | "block" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.visit_stmt(child, ctx);
                }
            }
            "for_statement" => {
                let iterable = node
                    .child_by_field_id(FIELDS.right.get())
                    .map(|r| self.eval(r, ctx))
                    .unwrap_or_default();
                let inner = Ctx {
                    branch: true,
                    ..ctx.clone()
                };
                if let Some(left) = node.child_by_field_id(FIELDS.left.get()) {
                    let element = Sym {
                        taint: iterable.taint.clone(),
                        ..Sym::default()
                    };
                    self.bind_target(left, element, (0, 0), &inner);
                }
                for field in ["body", "alternative"] {
                    if let Some(body) = node.child_by_field_name(field) {
                        self.visit_stmt(body, &inner);
                    }
                }
            }
            "try_statement"
            | "except_clause"
            | "except_group_clause"
            | "with_statement"
            | "match_statement"
            | "case_clause" => {
                let inner = Ctx {
                    branch: kind_of(node) != "with_statement",
                    ..ctx.clone()
                };
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    match kind_of(child) {
                        "with_clause" => self.visit_with_clause(child, &inner),
                        "block"
                        | "except_clause"
                        | "except_group_clause"
                        | "else_clause"
                        | "finally_clause"
                        | "case_clause" => self.visit_stmt(child, &inner),
                        "as_pattern" => {
                            // `except E as e`
                            if let Some(value) = child.named_child(0) {
                                self.eval(value, ctx);
                            }
                        }
                        "comment" => {}
                        _ => {
                            self.eval(child, ctx);
                        }
                    }
                }
            }
            "assignment" => {
                self.visit_assignment(node, ctx);
            }
            "augmented_assignment" => self.visit_augmented(node, ctx),
            _ => {
                // delete, raise, assert, print/exec (Python 2), ERROR recovery, …: evaluate what
                // is inside so that no call is missed.
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if is_statement(kind_of(child)) {
                        self.visit_stmt(child, ctx);
                    } else {
                        self.eval(child, ctx);
                    }
                }
            }
        }
    }

    fn visit_with_clause(&mut self, clause: Node<'t>, ctx: &Ctx) {
        let mut cursor = clause.walk();
        for item in clause.named_children(&mut cursor) {
            let Some(value) = item
                .child_by_field_id(FIELDS.value.get())
                .or(item.named_child(0))
            else {
                continue;
            };
            if kind_of(value) == "as_pattern" {
                let Some(expr) = value.named_child(0) else {
                    continue;
                };
                let sym = self.eval(expr, ctx);
                if let Some(alias) = value.child_by_field_id(FIELDS.alias.get()) {
                    let target = alias.named_child(0).unwrap_or(alias);
                    self.bind_target(target, sym, range(expr), ctx);
                }
            } else {
                self.eval(value, ctx);
            }
        }
    }

    // ----- imports ------------------------------------------------------------------------

    fn canonical_module(&self, module: &str) -> Rc<str> {
        canonical_module(self.catalogue, module)
    }

    fn visit_import(&mut self, node: Node<'t>, ctx: &Ctx) {
        let (catalogue, text) = (self.catalogue, self.text);
        let star = import_bindings(catalogue, node, text, |name, qname| {
            self.bind_name(ctx, name, Sym::named(qname));
        });
        self.star_imports.extend(star);
    }

    // ----- definitions --------------------------------------------------------------------

    fn decorated_source(&self, decorators: &[Sym]) -> Option<SourceKind> {
        decorators.iter().find_map(|d| {
            let qname = d.qname()?;
            self.catalogue
                .decorated_sources
                .matching(qname)
                .next()
                .copied()
                .or_else(|| {
                    qname
                        .strip_suffix("()")
                        .and_then(|q| self.catalogue.decorated_sources.matching(q).next().copied())
                })
        })
    }

    fn visit_function_def(&mut self, node: Node<'t>, ctx: &Ctx, decorators: &[Sym]) {
        let name: Rc<str> = node
            .child_by_field_id(FIELDS.name.get())
            .map_or("<lambda>", |n| self.text(n))
            .into();
        let id = *self
            .summaries
            .function_by_node
            .entry(node.start_byte())
            .or_insert_with(|| {
                self.summaries.functions.push(FunctionInfo {
                    name: name.clone(),
                    ..FunctionInfo::default()
                });
                self.summaries.functions.len() - 1
            });
        let mut receiver = Receiver::None;
        if let Some(class) = ctx.class_of_scope() {
            self.summaries.classes[class]
                .methods
                .insert(name.clone(), id);
            let is = |q: &str| decorators.iter().any(|d| d.qname() == Some(q));
            receiver = if is("builtins.staticmethod") {
                Receiver::None
            } else if is("builtins.classmethod") {
                Receiver::Class
            } else {
                Receiver::Instance
            };
        }
        // Defaults and annotations are evaluated at definition time.
        let mut params = Vec::new();
        let mut defaults = Vec::new();
        if let Some(parameters) = node.child_by_field_id(FIELDS.parameters.get()) {
            let mut cursor = parameters.walk();
            for param in parameters.named_children(&mut cursor) {
                let default = param
                    .child_by_field_id(FIELDS.value.get())
                    .map(|value| self.eval(value, ctx));
                if let Some(name) = param_name(param, self.text) {
                    params.push(Rc::from(name));
                    defaults.push(default);
                }
            }
        }
        let info = &mut self.summaries.functions[id];
        if info.params.is_empty() {
            info.param_taint = vec![None; params.len()];
            info.param_qnames = vec![None; params.len()];
            info.param_safe = vec![None; params.len()];
            info.params = params;
        }
        info.param_defaults = defaults;
        info.decorators = decorators.iter().filter_map(|d| d.qname.clone()).collect();
        let class = ctx.class_of_scope();
        self.bind_name(
            ctx,
            &name,
            Sym {
                qname: Some(concat(&["<local>.", &name])),
                shape: Shape::Function(id),
                ..Sym::default()
            },
        );
        let job = Deferred {
            node,
            chain: ctx.for_nested_function(),
            function: id,
            class: class.or(ctx.class),
            receiver,
            decorated: self.decorated_source(decorators),
        };
        self.summaries.functions[id].unit = if self.deferred.module_done {
            self.current_unit
        } else {
            self.units.push(Unit {
                function: id,
                start: node.start_byte(),
                end: node.end_byte(),
                body: node
                    .child_by_field_id(FIELDS.body.get())
                    .map_or(node.end_byte(), |b| b.start_byte()),
                chain: job.chain.clone(),
                class: job.class,
                receiver,
                decorated: job.decorated,
                depth: 0,
                stale: false,
            });
            (self.units.len() - 1) as u32
        };
        self.deferred.push(job);
    }

    fn visit_function_body(&mut self, job: Deferred<'t>) {
        let unit = self.summaries.functions[job.function].unit;
        if let Some(info) = self.units.get_mut(unit as usize)
            && info.function == job.function
        {
            info.depth = self.depth;
        }
        let caller = std::mem::replace(&mut self.current_unit, unit);
        self.emitter.owner = unit;
        self.walk_function_body(job);
        self.current_unit = caller;
        self.emitter.owner = caller;
    }

    fn walk_function_body(&mut self, job: Deferred<'t>) {
        let scope = Rc::new(RefCell::new(Scope::default()));
        let mut chain = job.chain;
        chain.push(scope);
        let ctx = Ctx {
            chain,
            function: Some(job.function),
            class: job.class,
            branch: false,
        };
        self.summaries.functions[job.function].params_read = true;
        if let Some(parameters) = job.node.child_by_field_id(FIELDS.parameters.get()) {
            let mut cursor = parameters.walk();
            let mut index = 0;
            for param in parameters.named_children(&mut cursor) {
                let Some(name) = param_name(param, self.text) else {
                    continue;
                };
                let mut sym = Sym::named(concat(&["?", name]));
                if let Some(annotation) = param.child_by_field_id(FIELDS.r#type.get()) {
                    let annotation = self.eval_quiet(annotation, &ctx);
                    if let Some(q) = annotation.qname() {
                        sym.qname = Some(concat(&[q, "()"]));
                        sym.taint = self.source_taint(&format!("{q}()"), range(param));
                    }
                }
                if index == 0
                    && job.receiver != Receiver::None
                    && let Some(class) = job.class
                {
                    let class_name = self.summaries.classes[class].name.clone();
                    sym = match job.receiver {
                        Receiver::Instance => Sym {
                            qname: Some(format!("<local>.{class_name}()").into()),
                            shape: Shape::Instance(class),
                            ..Sym::default()
                        },
                        _ => Sym {
                            qname: Some(format!("<local>.{class_name}").into()),
                            shape: Shape::Class(class),
                            ..Sym::default()
                        },
                    };
                }
                let qname_consulted = sym.qname().is_some_and(|q| q.starts_with('?'));
                if qname_consulted
                    && let Some(Some(passed)) = self.summaries.functions[job.function]
                        .param_qnames
                        .get(index)
                {
                    sym.qname = Some(passed.clone());
                }
                let default = self.summaries.functions[job.function]
                    .param_defaults
                    .get(index)
                    .cloned()
                    .flatten();
                // `None` defaults mean "maybe given", not a value.
                if let Some(default) = &default
                    && (default.template.is_some()
                        || default.konst.as_ref().is_some_and(|k| *k != Const::None))
                {
                    sym.konst = default.konst.clone();
                    sym.template = default.template.clone();
                    sym.literal = default.literal;
                }
                // FastAPI dependencies (`db = Depends(get_db)`) are not request data.
                let injected = default
                    .as_ref()
                    .and_then(Sym::qname)
                    .is_some_and(|q| q.ends_with(".Depends()") || q.ends_with(".Security()"));
                let info = &mut self.summaries.functions[job.function];
                if info.consulted.len() <= index {
                    info.consulted.resize(index + 1, (false, false));
                }
                info.consulted[index] = (qname_consulted, sym.taint.is_none());
                if sym.taint.is_none()
                    && self.summaries.functions[job.function].param_safe.get(index)
                        == Some(&Some(true))
                {
                    // Only ever called with constants (`bubble("user", …)`).
                    sym.sanitised = true;
                }
                if sym.taint.is_none() && !injected {
                    sym.taint = job
                        .decorated
                        .map(|kind| {
                            Rc::new(Taint {
                                kind,
                                range: range(param),
                            })
                        })
                        .or_else(|| {
                            self.summaries.functions[job.function]
                                .param_taint
                                .get(index)
                                .cloned()
                                .flatten()
                        });
                }
                self.bind_name(&ctx, name, sym);
                index += 1;
            }
        }
        self.summaries.functions[job.function].walking = true;
        if let Some(body) = job.node.child_by_field_id(FIELDS.body.get()) {
            self.visit_stmt(body, &ctx);
        }
        self.summaries.functions[job.function].walking = false;
    }

    fn record_return(&mut self, function: usize, value: &Sym) {
        let info = &mut self.summaries.functions[function];
        let mut learned = false;
        if Sym::earlier_taint(&value.taint, &info.returns) {
            info.returns = value.taint.clone();
            learned = true;
        }
        if info.return_qname.is_none() && value.qname().is_some_and(|q| !q.starts_with('?')) {
            info.return_qname = value.qname.clone();
            // A container shape another return taught stays.
            if !matches!(value.shape, Shape::Plain) {
                info.return_shape = value.shape.clone();
            }
            learned = true;
        }
        if matches!(info.return_shape, Shape::Plain)
            && matches!(value.shape, Shape::Dict(_) | Shape::Seq(_))
        {
            info.return_shape = value.shape.clone();
            learned = true;
        }
        if info.return_konst.is_none() && value.konst.is_some() {
            info.return_konst = value.konst.clone();
            learned = true;
        }
        if learned && !info.return_readers.is_empty() {
            self.changed = true;
            for reader in std::mem::take(&mut info.return_readers) {
                self.mark_stale(reader);
            }
        }
    }

    fn visit_class_def(&mut self, node: Node<'t>, ctx: &Ctx, _decorators: &[Sym]) {
        let name: Rc<str> = node
            .child_by_field_id(FIELDS.name.get())
            .map_or("<class>", |n| self.text(n))
            .into();
        let id = *self
            .summaries
            .class_by_node
            .entry(node.start_byte())
            .or_insert_with(|| {
                self.summaries.classes.push(ClassInfo {
                    name: name.clone(),
                    ..ClassInfo::default()
                });
                self.summaries.classes.len() - 1
            });
        self.summaries.classes[id].unit = self.current_unit;
        if let Some(bases) = node.child_by_field_id(FIELDS.superclasses.get()) {
            self.eval(bases, ctx);
        }
        self.bind_name(
            ctx,
            &name,
            Sym {
                qname: Some(concat(&["<local>.", &name])),
                shape: Shape::Class(id),
                ..Sym::default()
            },
        );
        let scope = Rc::new(RefCell::new(Scope {
            class: Some(id),
            ..Scope::default()
        }));
        let mut chain = ctx.chain.clone();
        chain.push(scope);
        let inner = Ctx {
            chain,
            ..ctx.clone()
        };
        if let Some(body) = node.child_by_field_id(FIELDS.body.get()) {
            self.visit_stmt(body, &inner);
        }
    }

    // ----- bindings -----------------------------------------------------------------------

    fn bind_name(&mut self, ctx: &Ctx, name: &str, mut sym: Sym) {
        let Some(scope) = ctx.innermost() else {
            return;
        };
        // A class body's names are attributes of its instances (`self._loader`).
        if let Some(class) = scope.borrow().class
            && !matches!(sym.shape, Shape::Function(_))
        {
            self.summaries.classes[class]
                .attrs
                .entry(name.into())
                .or_insert_with(|| sym.clone());
        }
        let mut scope = scope.borrow_mut();
        if ctx.branch
            && sym.taint.is_none()
            && let Some(previous) = scope.vars.get(name)
        {
            sym.taint = previous.taint.clone();
        }
        scope.vars.insert(name.into(), sym);
    }

    /// A name imported from another module of the project that is a constant there
    /// (`from pkg.config import MODEL_ID`) takes that constant's value.
    fn imported_constant(&self, sym: Sym) -> Sym {
        let Some(project) = self.context.project else {
            return sym;
        };
        let unknown = sym.konst.is_none()
            && sym.template.is_none()
            && sym.taint.is_none()
            && matches!(sym.shape, Shape::Plain);
        match sym.qname() {
            Some(qname) if unknown && !qname.starts_with(['?', '<']) && !qname.ends_with(')') => {
                match project.constant(self.catalogue, qname, self.context.path) {
                    Some(constant) => Sym {
                        qname: constant.qname.clone().or(sym.qname),
                        ..constant
                    },
                    None => sym,
                }
            }
            _ => sym,
        }
    }

    fn lookup(&self, ctx: &Ctx, name: &str) -> Option<Sym> {
        let innermost = ctx.chain.len().saturating_sub(1);
        for (depth, scope) in ctx.chain.iter().enumerate().rev() {
            let scope = scope.borrow();
            // A class body sees its own scope, but nothing nested sees a class scope.
            if scope.class.is_some() && depth != innermost {
                continue;
            }
            if let Some(sym) = scope.vars.get(name) {
                return Some(sym.clone());
            }
        }
        None
    }

    fn resolve_name(&self, ctx: &Ctx, name: &str) -> Sym {
        if let Some(sym) = self.lookup(ctx, name) {
            return self.imported_constant(sym);
        }
        if name == "__file__" {
            // Paths next to the module are fixed by the code, not by input.
            return Sym::constant(Const::Str("__file__".into()));
        }
        if self.catalogue.builtins.contains(name) {
            return Sym::named(join("builtins", name));
        }
        if let [module] = self.star_imports.as_slice() {
            return Sym::named(join(module, name));
        }
        Sym::named(concat(&["?", name]))
    }

    fn visit_assignment(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        let Some(right) = node.child_by_field_id(FIELDS.right.get()) else {
            if let Some(annotation) = node.child_by_field_id(FIELDS.r#type.get()) {
                self.eval_quiet(annotation, ctx);
            }
            return Sym::default();
        };
        let value = if kind_of(right) == "assignment" {
            self.visit_assignment(right, ctx)
        } else {
            self.eval(right, ctx)
        };
        if let Some(left) = node.child_by_field_id(FIELDS.left.get()) {
            self.bind_target(left, value.clone(), range(right), ctx);
        }
        value
    }

    fn visit_augmented(&mut self, node: Node<'t>, ctx: &Ctx) {
        let right = node
            .child_by_field_id(FIELDS.right.get())
            .map(|r| self.eval(r, ctx))
            .unwrap_or_default();
        if let Some(left) = node.child_by_field_id(FIELDS.left.get()) {
            let old = self.eval_quiet(left, ctx);
            let sym = Sym {
                taint: Sym::merge_taint(old.taint, &right.taint),
                ..Sym::default()
            };
            if kind_of(left) == "identifier" {
                self.bind_name(ctx, self.text(left), sym);
            }
        }
    }

    /// Binds an assignment target (`x`, `self.x`, `d["k"]`, `a, b`) to `value`.
    fn bind_target(&mut self, target: Node<'t>, value: Sym, value_range: Range, ctx: &Ctx) {
        match kind_of(target) {
            "identifier" => {
                let name = self.text(target);
                self.check_named_secret(&value, name);
                self.bind_name(ctx, name, value);
            }
            "attribute" => {
                let (Some(object), Some(attribute)) = (
                    target.child_by_field_id(FIELDS.object.get()),
                    target.child_by_field_id(FIELDS.attribute.get()),
                ) else {
                    return;
                };
                let object = self.eval(object, ctx);
                let name = self.text(attribute);
                self.check_named_secret(&value, name);
                if let Some(qname) = object.qname() {
                    self.emit_assign(join(qname, name).to_string(), &value, target, value_range);
                }
                if let Shape::Instance(class) | Shape::Class(class) = object.shape {
                    self.effects.push((
                        self.current_unit,
                        Effect::Attr {
                            class,
                            name: name.into(),
                            value: value.clone(),
                        },
                    ));
                    if self.defer_attrs {
                        return;
                    }
                    let info = &mut self.summaries.classes[class];
                    if let Some(undo) = &mut self.undo
                        && info.unit != self.current_unit
                        && !undo
                            .attrs
                            .iter()
                            .any(|(c, n, _)| *c == class && **n == *name)
                    {
                        undo.attrs
                            .push((class, name.into(), info.attrs.get(name).cloned()));
                    }
                    let change = info.set_attr(name, value);
                    let (readers, missed) = info.outdated_readers(name, change);
                    for reader in readers {
                        self.mark_stale(reader);
                    }
                    self.changed |= missed;
                }
            }
            "subscript" => {
                let Some(object) = target.child_by_field_id(FIELDS.value.get()) else {
                    return;
                };
                let container = self.eval(object, ctx);
                let key = target
                    .child_by_field_id(FIELDS.subscript.get())
                    .map(|s| self.eval(s, ctx))
                    .and_then(|k| k.str_value().map(Rc::<str>::from));
                if let Some(key) = &key {
                    self.check_named_secret(&value, key);
                    if let Some(qname) = container.qname() {
                        let target_name = format!("{qname}.[{}]", key.replace('.', "_"));
                        self.emit_assign(target_name, &value, target, value_range);
                    }
                    // `kwargs["trust_remote_code"] = True` extends a dict bound to a name.
                    if kind_of(object) == "identifier"
                        && let Shape::Dict(entries) = &container.shape
                    {
                        let mut entries: Vec<_> = entries.as_ref().clone();
                        entries.retain(|(k, _)| k != key);
                        entries.push((key.clone(), value.clone()));
                        let updated = Sym {
                            shape: Shape::Dict(Rc::new(entries)),
                            taint: Sym::merge_taint(container.taint.clone(), &value.taint),
                            ..container
                        };
                        self.bind_name(ctx, self.text(object), updated);
                    }
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list"
            | "expression_list" => {
                let mut cursor = target.walk();
                let targets: Vec<Node<'t>> = target.named_children(&mut cursor).collect();
                let items = match &value.shape {
                    Shape::Seq(items) if items.len() == targets.len() => Some(items.clone()),
                    _ => None,
                };
                for (i, t) in targets.into_iter().enumerate() {
                    let element = match &items {
                        Some(items) => items[i].clone(),
                        None => Sym {
                            taint: value.taint.clone(),
                            ..Sym::default()
                        },
                    };
                    self.bind_target(t, element, value_range, ctx);
                }
            }
            "list_splat_pattern" | "parenthesized_expression" => {
                if let Some(inner) = target.named_child(0) {
                    self.bind_target(inner, value, value_range, ctx);
                }
            }
            _ => {
                self.eval(target, ctx);
            }
        }
    }

    fn emit_assign(&mut self, target_name: String, value: &Sym, target: Node, value_range: Range) {
        let start = target.start_byte();
        let end = value_range.1.max(target.end_byte());
        self.emitter.on_assign(&AssignEvent {
            target: target_name,
            value: value.clone(),
            range: (start, end),
            value_range,
        });
    }

    fn check_named_secret(&mut self, value: &Sym, name: &str) {
        if let (Some(text), Some(literal)) = (value.str_value(), value.literal) {
            self.emitter.on_string(text, literal, Some(name));
        }
    }

    // ----- expressions --------------------------------------------------------------------

    /// Evaluates an expression without reporting secrets in it (annotations, re-reads).
    fn eval_quiet(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        match kind_of(node) {
            "identifier" => self.resolve_name(ctx, self.text(node)),
            "attribute" => {
                let (Some(object), Some(attribute)) = (
                    node.child_by_field_id(FIELDS.object.get()),
                    node.child_by_field_id(FIELDS.attribute.get()),
                ) else {
                    return Sym::default();
                };
                let object = self.eval_quiet(object, ctx);
                self.attribute_of(object, self.text(attribute), range(node))
            }
            "type" => node
                .named_child(0)
                .map(|inner| self.eval_quiet(inner, ctx))
                .unwrap_or_default(),
            "string" => self.eval_string(node, ctx, false, false),
            _ => self.eval(node, ctx),
        }
    }

    fn eval(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        if self.depth >= MAX_DEPTH {
            return Sym::default();
        }
        self.depth += 1;
        let sym = self.eval_inner(node, ctx);
        self.depth -= 1;
        sym
    }

    fn eval_inner(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        match kind_of(node) {
            "identifier" => {
                let sym = self.resolve_name(ctx, self.text(node));
                self.with_source(sym, range(node))
            }
            "attribute" => {
                let (Some(object), Some(attribute)) = (
                    node.child_by_field_id(FIELDS.object.get()),
                    node.child_by_field_id(FIELDS.attribute.get()),
                ) else {
                    return Sym::default();
                };
                let object = self.eval(object, ctx);
                self.attribute_of(object, self.text(attribute), range(node))
            }
            "call" => self.eval_call(node, ctx),
            "subscript" => {
                let container = node
                    .child_by_field_id(FIELDS.value.get())
                    .map(|v| self.eval(v, ctx))
                    .unwrap_or_default();
                let mut cursor = node.walk();
                let keys: Vec<Sym> = node
                    .children_by_field_id(FIELDS.subscript, &mut cursor)
                    .map(|s| self.eval(s, ctx))
                    .collect();
                let key = match keys.as_slice() {
                    [key] => key.str_value().map(|k| k.replace('.', "_")),
                    _ => None,
                };
                if let (Some(key), Shape::Dict(entries)) = (&key, &container.shape)
                    && let Some((_, value)) = entries.iter().find(|(k, _)| k.as_ref() == key)
                {
                    return value.clone();
                }
                if let Some(entry) = table_entry(&container, keys.as_slice()) {
                    return entry;
                }
                let qname = container
                    .qname()
                    .map(|q| join(q, &format!("[{}]", key.as_deref().unwrap_or(""))));
                let sym = Sym {
                    qname,
                    taint: container.taint.clone(),
                    ..Sym::default()
                };
                self.with_source(sym, range(node))
            }
            "string" => self.eval_string(node, ctx, true, false),
            "concatenated_string" => {
                let mut cursor = node.walk();
                let parts: Vec<Sym> = node
                    .named_children(&mut cursor)
                    .map(|part| self.eval_string(part, ctx, false, true))
                    .collect();
                let konst = parts
                    .iter()
                    .map(|p| p.str_value())
                    .collect::<Option<Vec<_>>>()
                    .map(|strings| Const::Str(strings.concat().into()));
                let sym = Sym {
                    konst,
                    taint: Sym::taint_of(&parts),
                    literal: Some(range(node)),
                    ..Sym::default()
                };
                if let Some(value) = sym.str_value() {
                    self.emitter.on_string(value, range(node), None);
                }
                sym
            }
            "integer" => {
                let digits = self.text(node);
                let value = if digits.contains('_') {
                    digits.replace('_', "").parse()
                } else {
                    digits.parse()
                };
                Sym::constant(value.map_or(Const::Float, Const::Int))
            }
            "float" => Sym::constant(Const::Float),
            "true" => Sym::constant(Const::Bool(true)),
            "false" => Sym::constant(Const::Bool(false)),
            "none" => Sym::constant(Const::None),
            "parenthesized_expression" | "await" | "type" => node
                .named_child(0)
                .map(|inner| self.eval(inner, ctx))
                .unwrap_or_default(),
            "named_expression" => {
                let value = node
                    .child_by_field_id(FIELDS.value.get())
                    .map(|v| self.eval(v, ctx))
                    .unwrap_or_default();
                if let Some(name) = node.child_by_field_id(FIELDS.name.get()) {
                    self.bind_name(ctx, self.text(name), value.clone());
                }
                value
            }
            "binary_operator" => self.eval_binary(node, ctx, false),
            "unary_operator" => {
                let operand = node
                    .child_by_field_id(FIELDS.argument.get())
                    .map(|a| self.eval(a, ctx))
                    .unwrap_or_default();
                let negative = node
                    .child_by_field_id(FIELDS.operator.get())
                    .is_some_and(|op| self.text(op) == "-");
                match operand.konst {
                    Some(Const::Int(n)) if negative => Sym::constant(Const::Int(-n)),
                    _ => Sym {
                        taint: operand.taint,
                        konst: operand.konst,
                        ..Sym::default()
                    },
                }
            }
            "list" | "tuple" | "set" | "expression_list" => {
                let mut cursor = node.walk();
                let items: Vec<Sym> = node
                    .named_children(&mut cursor)
                    .filter(|c| kind_of(*c) != "comment")
                    .map(|c| self.eval(c, ctx))
                    .collect();
                let konst = items
                    .iter()
                    .map(|i| i.konst.clone())
                    .collect::<Option<Vec<_>>>()
                    .filter(|_| kind_of(node) == "tuple")
                    .map(|consts| Const::Tuple(consts.into()));
                Sym {
                    taint: Sym::taint_of(&items),
                    sanitised: !items.is_empty() && items.iter().all(Sym::is_safe_part),
                    konst,
                    shape: Shape::Seq(Rc::new(items)),
                    ..Sym::default()
                }
            }
            "dictionary" => self.eval_dict(node, ctx),
            "lambda" => {
                let scope = Rc::new(RefCell::new(Scope::default()));
                let mut chain = ctx.for_nested_function();
                chain.push(scope);
                let inner = Ctx {
                    chain,
                    function: None,
                    ..ctx.clone()
                };
                if let Some(body) = node.child_by_field_id(FIELDS.body.get()) {
                    self.eval(body, &inner);
                }
                Sym::default()
            }
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.eval_comprehension(node, ctx),
            "comment" => Sym::default(),
            "conditional_expression" => {
                let mut cursor = node.walk();
                let parts: Vec<Sym> = node
                    .named_children(&mut cursor)
                    .map(|c| self.eval(c, ctx))
                    .collect();
                // `a if cond else b`: the value is `a` or `b` (the condition is parts[1]).
                let values: Vec<&Sym> = [parts.first(), parts.get(2)]
                    .into_iter()
                    .flatten()
                    .collect();
                Sym {
                    taint: values.iter().find_map(|v| v.taint.clone()),
                    sanitised: values.len() == 2 && values.iter().all(|v| v.is_safe_part()),
                    ..Sym::default()
                }
            }
            "yield" => {
                let yielded = self.eval_parts(node, ctx);
                // Iterating a generator gives what it yields: that is part of what calling it
                // gives (only the taint: the call itself returns a generator).
                if let Some(function) = ctx.function
                    && yielded.taint.is_some()
                {
                    let value = Sym {
                        taint: yielded.taint.clone(),
                        ..Sym::default()
                    };
                    self.record_return(function, &value);
                }
                yielded
            }
            // Boolean/comparison/conditional expressions, splats, slices, keyword arguments
            // outside calls, ERROR nodes.
            _ => self.eval_parts(node, ctx),
        }
    }

    /// Evaluates the parts of an expression and keeps their taint.
    fn eval_parts(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        let mut cursor = node.walk();
        let mut taint = None;
        for child in node.named_children(&mut cursor) {
            if is_statement(kind_of(child)) {
                self.visit_stmt(child, ctx);
            } else if taint.is_none() {
                taint = self.eval(child, ctx).taint;
            } else {
                self.eval(child, ctx);
            }
        }
        Sym {
            taint,
            ..Sym::default()
        }
    }

    /// Attaches source taint when `sym`'s qualified name is a source.
    fn with_source(&self, mut sym: Sym, at: Range) -> Sym {
        if sym.taint.is_none()
            && let Some(qname) = sym.qname()
        {
            sym.taint = self.source_taint(qname, at);
        }
        sym
    }

    fn source_taint(&self, qname: &str, at: Range) -> Option<Rc<Taint>> {
        if self.catalogue.sources.is_empty() {
            return None;
        }
        self.catalogue
            .sources
            .matching(qname)
            .next()
            .map(|&kind| Rc::new(Taint { kind, range: at }))
    }

    fn attribute_of(&mut self, object: Sym, name: &str, at: Range) -> Sym {
        match object.shape {
            Shape::Instance(class) | Shape::Class(class) => {
                // Nothing known of it yet: the methods that set it are walked first, and this
                // read sees what they set (their writes do not make it out of date).
                let info = &self.summaries.classes[class];
                if !info.attrs.contains_key(name) && !info.methods.contains_key(name) {
                    self.walk_ahead_setters(class, name);
                }
                let info = &mut self.summaries.classes[class];
                let method = info.methods.contains_key(name) && !info.attrs.contains_key(name);
                // A later write with another value makes what this unit read out of date
                // (also when it read nothing: the attribute was not set yet).
                if !method {
                    let readers = info.readers.entry(name.into()).or_default();
                    if readers.last() != Some(&self.current_unit) {
                        readers.push(self.current_unit);
                    }
                }
                if let Some(attr) = info.attrs.get(name) {
                    return attr.clone();
                }
                if let Some(&method) = info.methods.get(name) {
                    let class_name = info.name.clone();
                    return Sym {
                        qname: Some(format!("<local>.{class_name}.{name}").into()),
                        shape: Shape::Function(method),
                        ..Sym::default()
                    };
                }
                info.missed.insert(name.into());
            }
            Shape::Dict(_) | Shape::Seq(_) | Shape::Partial(_) | Shape::Function(_) => {}
            Shape::Plain => {}
        }
        let mut sym = Sym {
            qname: object.qname().map(|q| join(q, name)),
            taint: object.taint.clone(),
            ..Sym::default()
        };
        // `config.MODEL_ID` after `from pkg import config`.
        if object.konst.is_none()
            && object.template.is_none()
            && matches!(object.shape, Shape::Plain)
        {
            sym = self.imported_constant(sym);
        }
        // Path components of a known path stay known (`Path(__file__).parent`).
        if matches!(name, "parent" | "parents" | "name" | "stem" | "suffix")
            && let Some(text) = object.text()
        {
            let derived = match name {
                "parent" => text.rsplit_once('/').map_or("", |(dir, _)| dir).to_string(),
                _ => text.to_string(),
            };
            if object.str_value().is_some() {
                sym.konst = Some(Const::Str(derived.into()));
            } else {
                sym.template = Some(derived.into());
            }
        }
        self.with_source(sym, at)
    }

    /// `in_larger`: the string is part of a concatenation, checked for secrets as a whole.
    fn eval_string(
        &mut self,
        node: Node<'t>,
        ctx: &Ctx,
        check_secret: bool,
        in_larger: bool,
    ) -> Sym {
        if kind_of(node) != "string" {
            return self.eval(node, ctx);
        }
        if let Some(content) = plain_string_content(node, self.text) {
            return self.string_constant(content.into(), range(node), check_secret && !in_larger);
        }
        let mut parts: Vec<Sym> = Vec::new();
        let mut literal = String::new();
        let mut interpolated = false;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match kind_of(child) {
                "string_content" => literal.push_str(self.text(child)),
                "interpolation" => {
                    interpolated = true;
                    parts.push(Sym::constant(Const::Str(
                        std::mem::take(&mut literal).into(),
                    )));
                    let sym = child
                        .child_by_field_id(FIELDS.expression.get())
                        .map(|expr| self.eval(expr, ctx))
                        .unwrap_or_default();
                    parts.push(sym);
                }
                _ => {}
            }
        }
        if interpolated {
            // An f-string made only of constants folds to a constant, but no single literal
            // can be edited in place.
            parts.push(Sym::constant(Const::Str(literal.into())));
            return Sym::built_from(&parts);
        }
        self.string_constant(literal.into(), range(node), check_secret && !in_larger)
    }

    /// The value of a string literal without interpolation, checked for secrets if asked.
    fn string_constant(&mut self, value: Rc<str>, at: Range, check_secret: bool) -> Sym {
        if check_secret {
            self.emitter.on_string(&value, at, None);
        }
        Sym {
            konst: Some(Const::Str(value)),
            literal: Some(at),
            ..Sym::default()
        }
    }

    /// `nested`: this operation is an operand of another one (`a + b` in `a + b + c`): a
    /// concatenated constant is checked for secrets once, whole, by the outermost.
    fn eval_binary(&mut self, node: Node<'t>, ctx: &Ctx, nested: bool) -> Sym {
        let (Some(left_node), Some(right_node)) = (
            node.child_by_field_id(FIELDS.left.get()),
            node.child_by_field_id(FIELDS.right.get()),
        ) else {
            return Sym::default();
        };
        let left = self.eval_operand(left_node, ctx);
        let right = self.eval_operand(right_node, ctx);
        let operator = node
            .child_by_field_id(FIELDS.operator.get())
            .map_or("", |op| self.text(op));
        let stringy = left.text().is_some() || right.text().is_some();
        let built = match operator {
            "+" if stringy => Some(Sym::built_from(&[left.clone(), right.clone()])),
            // `Path(ROOT) / name`
            "/" if left.text().is_some() => Some(Sym::built_from(&[
                left.clone(),
                Sym::constant(Const::Str("/".into())),
                right.clone(),
            ])),
            // `"SELECT … %s" % value`
            "%" if left.text().is_some() => Some(Sym {
                template: left.text().map(Into::into),
                taint: Sym::merge_taint(left.taint.clone(), &right.taint),
                ..Sym::default()
            }),
            _ => None,
        };
        let Some(mut sym) = built else {
            return Sym {
                taint: Sym::merge_taint(left.taint, &right.taint),
                ..Sym::default()
            };
        };
        if operator == "/" {
            sym.qname = left.qname.clone();
        }
        if operator == "+"
            && let Some(value) = sym.str_value()
        {
            if !nested {
                let value = value.to_string();
                self.emitter.on_string(&value, range(node), None);
            }
            sym.literal = Some(range(node));
        }
        sym
    }

    fn eval_operand(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        if self.depth >= MAX_DEPTH {
            return Sym::default();
        }
        self.depth += 1;
        let sym = match kind_of(node) {
            "string" => self.eval_string(node, ctx, true, true),
            "binary_operator" => self.eval_binary(node, ctx, true),
            _ => self.eval_inner(node, ctx),
        };
        self.depth -= 1;
        sym
    }

    #[inline(never)]
    fn eval_dict(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        let mut entries: Vec<(Rc<str>, Sym)> = Vec::new();
        let mut taint = None;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match kind_of(child) {
                "pair" => {
                    let key = child
                        .child_by_field_id(FIELDS.key.get())
                        .map(|k| self.eval(k, ctx))
                        .unwrap_or_default();
                    let value = child
                        .child_by_field_id(FIELDS.value.get())
                        .map(|v| self.eval(v, ctx))
                        .unwrap_or_default();
                    taint = Sym::merge_taint(taint, &value.taint);
                    if let Some(key) = key.str_value() {
                        self.check_named_secret(&value, key);
                        entries.push((key.into(), value));
                    }
                }
                "dictionary_splat" => {
                    let inner = child
                        .named_child(0)
                        .map(|v| self.eval(v, ctx))
                        .unwrap_or_default();
                    taint = Sym::merge_taint(taint, &inner.taint);
                    if let Shape::Dict(more) = inner.shape {
                        entries.extend(more.iter().cloned());
                    }
                }
                _ => {}
            }
        }
        Sym {
            taint,
            shape: Shape::Dict(Rc::new(entries)),
            ..Sym::default()
        }
    }

    #[inline(never)]
    fn eval_comprehension(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        let scope = Rc::new(RefCell::new(Scope::default()));
        let mut chain = ctx.chain.clone();
        chain.push(scope);
        let inner = Ctx {
            chain,
            ..ctx.clone()
        };
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        // Clauses first (they bind the loop variables), then the body.
        for clause in &children {
            match kind_of(*clause) {
                "for_in_clause" => {
                    let iterable = clause
                        .child_by_field_id(FIELDS.right.get())
                        .map(|r| self.eval(r, &inner))
                        .unwrap_or_default();
                    if let Some(left) = clause.child_by_field_id(FIELDS.left.get()) {
                        let element = Sym {
                            taint: iterable.taint,
                            ..Sym::default()
                        };
                        self.bind_target(left, element, (0, 0), &inner);
                    }
                }
                "if_clause" => {
                    if let Some(condition) = clause.named_child(0) {
                        self.eval(condition, &inner);
                    }
                }
                _ => {}
            }
        }
        let mut taint = None;
        let mut sanitised = true;
        for body in children
            .iter()
            .filter(|c| !matches!(kind_of(**c), "for_in_clause" | "if_clause" | "comment"))
        {
            let sym = self.eval(*body, &inner);
            sanitised &= sym.is_safe_part();
            taint = Sym::merge_taint(taint, &sym.taint);
        }
        Sym {
            taint,
            sanitised,
            ..Sym::default()
        }
    }

    #[inline(never)]
    fn eval_call(&mut self, node: Node<'t>, ctx: &Ctx) -> Sym {
        let Some(function) = node.child_by_field_id(FIELDS.function.get()) else {
            return Sym::default();
        };
        // `object.attribute(…)`, each looked up once: the lookups cost more than most of the rest.
        let (object, attribute) = match kind_of(function) {
            "attribute" => (
                function.child_by_field_id(FIELDS.object.get()),
                function.child_by_field_id(FIELDS.attribute.get()),
            ),
            _ => (None, None),
        };
        // A method call keeps its receiver: string methods and fixes need it.
        let (callee, receiver) = match (object, attribute) {
            (Some(object), Some(attribute)) => {
                let receiver = self.eval(object, ctx);
                let callee =
                    self.attribute_of(receiver.clone(), self.text(attribute), range(function));
                (callee, Some(receiver))
            }
            _ => (self.eval(function, ctx), None),
        };
        let CallArgs {
            args,
            star_args,
            star_kwargs,
            parens,
        } = match node.child_by_field_id(FIELDS.arguments.get()) {
            Some(arguments) => self.eval_arguments(arguments, ctx),
            None => CallArgs::default(),
        };

        // SDK parameters that hold credentials without saying so in their name.
        if let Some(qname) = callee.qname() {
            self.check_credential_params(qname, &args);
        }

        // `os.environ.get("AWS_SECRET_ACCESS_KEY", "…")`: the default is bound to that name.
        if let Some(name) = target_env_name(callee.qname(), &args)
            && let Some(default) = args.iter().filter(|a| a.keyword.is_none()).nth(1)
        {
            self.check_named_secret(&default.sym.clone(), &name);
        }

        // `rows.append(x)` grows a list bound to a name: keep what is known of its items.
        if let (Some(receiver), Some(object), Some(attribute)) = (&receiver, object, attribute)
            && kind_of(object) == "identifier"
            && let Shape::Seq(items) = &receiver.shape
            && matches!(self.text(attribute), "append" | "extend" | "insert")
        {
            self.grow_list(ctx, object, items, self.text(attribute), &args);
        }

        // `p = partial(torch.load, …); p(x)` is a call of torch.load with the merged arguments.
        let (target, args) = match &callee.shape {
            Shape::Partial(partial) => (partial.target.clone(), merge_partial(partial, args)),
            _ => (callee.clone(), args),
        };

        let qname = target.qname().map(|q| self.catalogue.canonical_or_same(q));
        if let Some(qname) = &qname {
            let callee_name = match kind_of(function) {
                "attribute" => attribute.map(range),
                "identifier" => Some(range(function)),
                _ => None,
            };
            // In a method chain (`a().b().c(x)`) the finding starts at the method that matters.
            let chained = object.is_some_and(|object| kind_of(object) == "call");
            let start = match (chained, callee_name) {
                (true, Some(name)) => name.0,
                _ => node.start_byte(),
            };
            self.emitter.on_call(&CallEvent {
                qname,
                range: (start, node.end_byte()),
                callee: (start, function.end_byte()),
                callee_name,
                args: &args,
                parens,
                callee_taint: target.taint.clone(),
                star_args,
                star_kwargs,
            });
        }
        let method = attribute.map_or("", |a| self.text(a));
        let receiver = receiver.as_ref().map(|receiver| (receiver, method));
        self.call_result(node, qname.as_deref(), &target, &args, receiver)
    }

    /// A call's arguments, evaluated in order (out of line: `eval_call` stays compact).
    #[inline(never)]
    fn eval_arguments(&mut self, arguments: Node<'t>, ctx: &Ctx) -> CallArgs {
        let mut args = Vec::new();
        let mut star_args = false;
        let mut star_kwargs = false;
        let mut parens = None;
        if kind_of(arguments) == "argument_list" {
            parens = Some((
                arguments.start_byte() + 1,
                arguments.end_byte().saturating_sub(1),
            ));
            let mut cursor = arguments.walk();
            for child in arguments.named_children(&mut cursor) {
                match kind_of(child) {
                    "comment" => {}
                    "keyword_argument" => {
                        let (Some(name), Some(value)) = (
                            child.child_by_field_id(FIELDS.name.get()),
                            child.child_by_field_id(FIELDS.value.get()),
                        ) else {
                            continue;
                        };
                        let keyword = self.text(name);
                        let sym = self.eval(value, ctx);
                        self.check_named_secret(&sym, keyword);
                        args.push(Arg {
                            keyword: Some(keyword.into()),
                            sym,
                            value: range(value),
                            whole: range(child),
                            in_call: true,
                        });
                    }
                    "list_splat" => {
                        star_args = true;
                        if let Some(inner) = child.named_child(0) {
                            self.eval(inner, ctx);
                        }
                    }
                    "dictionary_splat" => {
                        let inner = child
                            .named_child(0)
                            .map(|v| self.eval(v, ctx))
                            .unwrap_or_default();
                        match &inner.shape {
                            Shape::Dict(entries) => {
                                for (key, value) in entries.iter() {
                                    args.push(Arg {
                                        keyword: Some(key.clone()),
                                        sym: value.clone(),
                                        value: range(child),
                                        whole: range(child),
                                        in_call: false,
                                    });
                                }
                            }
                            _ => star_kwargs = true,
                        }
                    }
                    _ => {
                        let sym = self.eval(child, ctx);
                        args.push(Arg::positional(sym, range(child)));
                    }
                }
            }
        } else {
            // A generator expression as the only argument.
            let sym = self.eval(arguments, ctx);
            args.push(Arg {
                in_call: false,
                ..Arg::positional(sym, range(arguments))
            });
        }
        CallArgs {
            args,
            star_args,
            star_kwargs,
            parens,
        }
    }

    // The rarer steps of a call, out of line so that `eval_call`'s common path stays compact
    // (the walk's code is several times the instruction cache).

    /// Arguments that SDK parameters hold credentials in, without saying so in their name.
    #[inline(never)]
    fn check_credential_params(&mut self, qname: &str, args: &[Arg]) {
        let qname = self.catalogue.canonical_or_same(qname);
        let specs: Vec<crate::catalogue::CredentialParamDef> = self
            .catalogue
            .credential_params
            .matching(&qname)
            .cloned()
            .collect();
        for spec in specs {
            let arg_spec = crate::catalogue::ArgSpec {
                keyword: spec.keyword.clone(),
                position: spec.position,
            };
            if let Some(arg) = crate::engine::find_arg_in(args, &arg_spec) {
                let sym = arg.sym.clone();
                self.check_named_secret(&sym, &spec.name);
            }
        }
    }

    /// `name.append(x)`, `.extend(…)`, `.insert(…)` on a list bound to `name`.
    #[inline(never)]
    fn grow_list(&mut self, ctx: &Ctx, name: Node<'t>, items: &[Sym], method: &str, args: &[Arg]) {
        let mut items: Vec<Sym> = items.to_vec();
        let added = args.iter().rfind(|a| a.keyword.is_none());
        if let Some(added) = added {
            match (&added.sym.shape, method) {
                (Shape::Seq(more), "extend") => items.extend(more.iter().cloned()),
                _ => items.push(added.sym.clone()),
            }
        }
        let grown = Sym {
            taint: Sym::taint_of(&items),
            sanitised: !items.is_empty() && items.iter().all(Sym::is_safe_part),
            shape: Shape::Seq(Rc::new(items)),
            ..Sym::default()
        };
        self.bind_name(ctx, self.text(name), grown);
    }

    /// The value a call returns; `receiver` is a method call's receiver and the method's name.
    #[inline(never)]
    fn call_result(
        &mut self,
        node: Node<'t>,
        qname: Option<&str>,
        callee: &Sym,
        args: &[Arg],
        receiver: Option<(&Sym, &str)>,
    ) -> Sym {
        let arg_taint = Sym::taint_of(args.iter().map(|a| &a.sym));
        let bound = receiver.is_some();
        let positional: Vec<&Sym> = args
            .iter()
            .filter(|a| a.keyword.is_none())
            .map(|a| &a.sym)
            .collect();
        match qname {
            // Paths and strings built from parts keep what is known of them.
            Some(
                "os.path.join"
                | "posixpath.join"
                | "pathlib.Path"
                | "pathlib.PurePath"
                | "pathlib.PosixPath"
                | "pathlib.PurePosixPath",
            ) if !positional.is_empty() => {
                let separator = Sym::constant(Const::Str("/".into()));
                let mut parts = Vec::new();
                for (i, part) in positional.iter().enumerate() {
                    if i > 0 {
                        parts.push(separator.clone());
                    }
                    parts.push((*part).clone());
                }
                let mut sym = Sym::built_from(&parts);
                sym.qname = qname.map(|q| concat(&[q, "()"]));
                return sym;
            }
            Some(
                "builtins.str" | "os.fspath" | "os.path.abspath" | "os.path.expanduser"
                | "os.path.normpath" | "os.path.realpath",
            ) => {
                if let Some(first) = positional.first() {
                    return Sym {
                        qname: qname.map(|q| concat(&[q, "()"])),
                        literal: None,
                        shape: Shape::Plain,
                        ..(*first).clone()
                    };
                }
            }
            // Context managers that hand back what they wrap.
            Some("contextlib.closing" | "contextlib.nullcontext") => {
                if let Some(first) = positional.first() {
                    return (*first).clone();
                }
            }
            _ => {}
        }
        // Methods of strings and paths (`.format`, `.strip`, `.join`, `.resolve`, …).
        if let Some((receiver, method)) = receiver
            && (receiver.text().is_some() || receiver.sanitised)
            && !matches!(callee.shape, Shape::Function(_))
        {
            let keeps_text = KEEPS_TEXT.contains(&method);
            if keeps_text || STRING_METHODS.contains(&method) {
                let args_safe = args.iter().all(|a| a.sym.is_safe_part());
                let constant = keeps_text && args_safe && receiver.str_value().is_some();
                return Sym {
                    qname: callee.qname().map(|q| concat(&[q, "()"])),
                    konst: constant.then(|| receiver.konst.clone()).flatten(),
                    template: (keeps_text && !constant)
                        .then(|| receiver.text().map(Into::into))
                        .flatten(),
                    taint: Sym::merge_taint(receiver.taint.clone(), &arg_taint),
                    sanitised: !constant && receiver.is_safe_part() && args_safe,
                    ..Sym::default()
                };
            }
        }
        // A local function handed to a thread, process or executor is called with those
        // arguments: `Thread(target=handle, args=(conn,))`, `pool.submit(handle, conn)`.
        if let Some((function, passed)) = self.deferred_call(qname, args) {
            let offset = usize::from(self.is_method(function));
            self.record_param_taint(function, &passed, offset);
            self.walk_ahead(function);
        }
        match (qname, &callee.shape) {
            (Some("functools.partial"), _) => {
                let mut args = args.iter();
                let Some(target) = args.next() else {
                    return Sym::default();
                };
                return Sym {
                    shape: Shape::Partial(Rc::new(Partial {
                        target: target.sym.clone(),
                        args: args
                            .map(|a| Arg {
                                in_call: false,
                                ..a.clone()
                            })
                            .collect(),
                    })),
                    ..Sym::default()
                };
            }
            (Some("builtins.getattr"), _) => {
                if let (Some(object), Some(name)) =
                    (args.first(), args.get(1).and_then(|a| a.sym.str_value()))
                {
                    let object = object.sym.clone();
                    return self.attribute_of(object, name, range(node));
                }
            }
            (Some("importlib.import_module" | "builtins.__import__"), _) => {
                if let Some(module) = args.first().and_then(|a| a.sym.str_value()) {
                    return Sym::named(self.canonical_module(module));
                }
            }
            (Some("builtins.dict"), _) => {
                let entries = args
                    .iter()
                    .filter_map(|a| Some((a.keyword.clone()?, a.sym.clone())))
                    .collect();
                return Sym {
                    shape: Shape::Dict(Rc::new(entries)),
                    taint: arg_taint,
                    ..Sym::default()
                };
            }
            (_, Shape::Function(function)) => {
                let function = *function;
                self.record_param_taint(
                    function,
                    args,
                    usize::from(bound && self.is_method(function)),
                );
                self.walk_ahead(function);
                // A call that is a statement of its own reads nothing of what the function
                // returns (its result is dropped).
                let read = self.discarded_call != Some(range(node));
                let info = &mut self.summaries.functions[function];
                // A recursive call reads what the body has returned so far; a return learned
                // after it means another pass, which reads them all (else what the call gives
                // would depend on how many passes other code needed).
                if read && info.return_readers.last() != Some(&self.current_unit) {
                    info.return_readers.push(self.current_unit);
                }
                if read && info.walking && info.unit != self.current_unit {
                    if info.walking_readers.last() != Some(&self.current_unit) {
                        info.walking_readers.push(self.current_unit);
                    }
                    self.mark_stale(self.current_unit);
                }
                let info = &self.summaries.functions[function];
                let name = info.name.clone();
                return Sym {
                    qname: Some(
                        info.return_qname
                            .clone()
                            .unwrap_or_else(|| concat(&["<local>.", &name, "()"])),
                    ),
                    shape: info.return_shape.clone(),
                    konst: info.return_konst.clone(),
                    taint: info.returns.clone().or(arg_taint),
                    ..Sym::default()
                };
            }
            (_, Shape::Class(class)) => {
                let class = *class;
                if let Some(&init) = self.summaries.classes[class].methods.get("__init__") {
                    self.record_param_taint(init, args, 1);
                }
                let name = self.summaries.classes[class].name.clone();
                return Sym {
                    qname: Some(concat(&["<local>.", &name, "()"])),
                    shape: Shape::Instance(class),
                    // A record built from untrusted values carries them (`Answer(text=llm_text)`).
                    taint: arg_taint,
                    ..Sym::default()
                };
            }
            _ => {}
        }
        let Some(qname) = callee.qname() else {
            return Sym {
                taint: Sym::merge_taint(callee.taint.clone(), &arg_taint),
                ..Sym::default()
            };
        };
        let result: Rc<str> = concat(&[qname, "()"]);
        let canonical = self.catalogue.canonical(qname);
        let sanitised = self
            .catalogue
            .sanitisers
            .matching(canonical.as_deref().unwrap_or(qname))
            .next()
            .is_some();
        let taint = self.source_taint(&result, range(node)).or_else(|| {
            if sanitised {
                None
            } else {
                Sym::merge_taint(callee.taint.clone(), &arg_taint)
            }
        });
        Sym {
            qname: Some(result),
            taint,
            sanitised,
            template: self
                .downloaded_file_name(canonical.as_deref().unwrap_or(qname), args)
                .map(|name| format!("{UNKNOWN}/{name}").into()),
            ..Sym::default()
        }
    }

    /// For a call that runs a local function later (a thread, a process, an executor task;
    /// `runs_later` in semantics.toml): the function and the arguments it will get.
    fn deferred_call(&self, qname: Option<&str>, args: &[Arg]) -> Option<(usize, Vec<Arg>)> {
        let qname = qname?;
        let canonical = self.catalogue.canonical(qname);
        let def = self
            .catalogue
            .runs_later
            .matching(canonical.as_deref().unwrap_or(qname))
            .next()?;
        let target = find_arg_in(args, &def.target)?;
        let Shape::Function(function) = target.sym.shape else {
            return None;
        };
        let mut passed = Vec::new();
        if let Some(tuple) = def.args.as_ref().and_then(|spec| find_arg_in(args, spec))
            && let Shape::Seq(items) = &tuple.sym.shape
        {
            passed.extend(items.iter().map(|item| Arg {
                keyword: None,
                sym: item.clone(),
                in_call: false,
                ..tuple.clone()
            }));
        }
        if let Some(dict) = def.kwargs.as_ref().and_then(|spec| find_arg_in(args, spec))
            && let Shape::Dict(entries) = &dict.sym.shape
        {
            passed.extend(entries.iter().map(|(key, value)| Arg {
                keyword: Some(key.clone()),
                sym: value.clone(),
                in_call: false,
                ..dict.clone()
            }));
        }
        if def.passes_the_rest {
            passed.extend(
                args.iter()
                    .filter(|a| !std::ptr::eq(*a, target))
                    .map(|a| Arg {
                        in_call: false,
                        ..a.clone()
                    }),
            );
        }
        Some((function, passed))
    }

    /// The file name a download saves to, when the call names it with a constant (`download`
    /// in semantics.toml): the path it returns ends with it.
    fn downloaded_file_name<'s>(&self, qname: &str, args: &'s [Arg]) -> Option<&'s str> {
        let spec = self.catalogue.downloads.matching(qname).next()?;
        let name = find_arg_in(args, spec)?.sym.str_value()?;
        Some(name.rsplit('/').next().unwrap_or(name))
    }

    fn is_method(&self, function: usize) -> bool {
        self.summaries
            .classes
            .iter()
            .any(|c| c.methods.values().any(|&m| m == function))
    }

    fn record_param_taint(&mut self, function: usize, args: &[Arg], offset: usize) {
        let mut learned = false;
        // A unit re-walked alone leaves it to the session to merge again what other units'
        // functions are passed, and to walk them again (see `session::parameter_changes`).
        let merged_by_the_session =
            self.undo.is_some() && self.summaries.functions[function].unit != self.current_unit;
        let mut position = offset;
        for arg in args {
            let index = match &arg.keyword {
                Some(keyword) => self.summaries.functions[function]
                    .params
                    .iter()
                    .position(|p| p == keyword),
                None => {
                    position += 1;
                    Some(position - 1)
                }
            };
            let Some(index) = index else {
                continue;
            };
            // Only real things (imports, instances) reach the summary, not unresolved names:
            // the effect records what the summary can take (an edit that only changes which
            // unresolved name is passed changes nothing for the callee).
            let qname = arg.sym.qname.clone().filter(|q| !q.starts_with(['?', '<']));
            self.effects.push((
                self.current_unit,
                Effect::Param {
                    callee: function,
                    index,
                    taint: arg.sym.taint.clone(),
                    safe: arg.sym.is_safe_part(),
                    qname: qname.clone(),
                },
            ));
            let info = &mut self.summaries.functions[function];
            if let Some(undo) = &mut self.undo
                && merged_by_the_session
                && !undo
                    .params
                    .iter()
                    .any(|(f, i, _)| (*f, *i) == (function, index))
                && let Some(before) = info.param_summary(index)
            {
                undo.params.push((function, index, before));
            }
            if let Some(slot) = info.param_taint.get_mut(index)
                && Sym::earlier_taint(&arg.sym.taint, slot)
            {
                slot.clone_from(&arg.sym.taint);
                learned = true;
            }
            // Best effort, without another pass: seen by bodies walked after this call.
            let mut out_of_date = false;
            let (qname_consulted, safe_consulted) =
                info.consulted.get(index).copied().unwrap_or_default();
            if let Some(slot) = info.param_safe.get_mut(index) {
                let safe = Some(arg.sym.is_safe_part() && slot.unwrap_or(true));
                // The body only asks whether every call passes something safe.
                out_of_date |= safe_consulted && (*slot == Some(true)) != (safe == Some(true));
                *slot = safe;
            }
            if let Some(qname) = qname
                && let Some(slot) = info.param_qnames.get_mut(index)
                && slot.is_none()
            {
                *slot = Some(qname);
                out_of_date |= qname_consulted;
            }
            if out_of_date && info.params_read && !merged_by_the_session {
                let unit = info.unit;
                self.mark_stale(unit);
            }
        }
        if learned && self.summaries.functions[function].params_read && !merged_by_the_session {
            self.changed = true;
            self.mark_stale(self.summaries.functions[function].unit);
        }
    }
}

impl Ctx {
    /// The class whose body is the innermost scope, if it is a class body.
    fn class_of_scope(&self) -> Option<usize> {
        self.innermost()?.borrow().class
    }
}

/// An entry of a constant table looked up with a key or index we cannot see
/// (`NODES[i]`, `ARTEFACTS[name]`): entries of one table share their shape, so the first stands
/// for all (an approximation that keeps `http://` URLs and paths visible).
fn table_entry(container: &Sym, keys: &[Sym]) -> Option<Sym> {
    let [key] = keys else {
        return None;
    };
    if let (Some(Const::Int(index)), Shape::Seq(items)) = (&key.konst, &container.shape) {
        let index = if *index < 0 {
            items.len().checked_sub(index.unsigned_abs() as usize)?
        } else {
            *index as usize
        };
        return items.get(index).cloned();
    }
    if key.konst.is_some() {
        return None;
    }
    let first = match &container.shape {
        Shape::Seq(items) => items.first()?,
        Shape::Dict(entries) => &entries.first()?.1,
        _ => return None,
    };
    let constant = |s: &Sym| {
        s.konst.is_some()
            || matches!(&s.shape, Shape::Seq(items) if items.iter().all(|i| i.konst.is_some()))
    };
    let all_constant = match &container.shape {
        Shape::Seq(items) => items.iter().all(constant),
        Shape::Dict(entries) => entries.iter().all(|(_, v)| constant(v)),
        _ => false,
    };
    all_constant.then(|| Sym {
        literal: None,
        ..first.clone()
    })
}

/// The variable name of an environment lookup (`os.environ.get("NAME", default)`).
fn target_env_name(qname: Option<&str>, args: &[Arg]) -> Option<String> {
    matches!(
        qname?,
        "os.environ.get" | "os.getenv" | "os.environ.setdefault"
    )
    .then(|| args.first()?.sym.str_value().map(str::to_string))
    .flatten()
}

/// Methods of strings and paths whose result is (a form of) the receiver's text.
const KEEPS_TEXT: &[&str] = &[
    "format",
    "format_map",
    "strip",
    "lstrip",
    "rstrip",
    "encode",
    "decode",
    "resolve",
    "absolute",
    "expanduser",
    "as_posix",
];

/// String methods that build a string from the receiver and the arguments.
const STRING_METHODS: &[&str] = &[
    "join",
    "replace",
    "lower",
    "upper",
    "title",
    "capitalize",
    "casefold",
    "center",
    "ljust",
    "rjust",
    "zfill",
    "removeprefix",
    "removesuffix",
    "expandtabs",
    "translate",
    "swapcase",
];

fn is_statement(kind: &str) -> bool {
    kind.ends_with("_statement")
        || matches!(
            kind,
            "function_definition" | "class_definition" | "decorated_definition" | "block"
        )
}

fn param_name<'a>(param: Node, text: &'a str) -> Option<&'a str> {
    Some(node_text(param_name_node(param)?, text))
}

/// The identifier that names a parameter.
fn param_name_node(param: Node) -> Option<Node> {
    let name = match kind_of(param) {
        "identifier" => param,
        "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
            let first = param.named_child(0)?;
            if kind_of(first) == "identifier" {
                first
            } else {
                first.named_child(0)?
            }
        }
        "default_parameter" | "typed_default_parameter" => {
            param.child_by_field_id(FIELDS.name.get())?
        }
        _ => return None,
    };
    Some(name)
}

/// The name a module is known by (an alias of a module resolved to the module).
fn canonical_module(catalogue: &Catalogue, module: &str) -> Rc<str> {
    catalogue
        .canonical(module)
        .map_or_else(|| module.into(), Into::into)
}

/// What an import statement (`import_statement` or `import_from_statement`) binds: `bind` is
/// given each name and the qualified name it stands for, in order. Returns the module a
/// `from m import *` (or a `from m import` without names) brings every name from.
fn import_bindings(
    catalogue: &Catalogue,
    node: Node,
    text: &str,
    mut bind: impl FnMut(&str, Rc<str>),
) -> Option<Rc<str>> {
    let canonical = |module: &str| canonical_module(catalogue, module);
    if kind_of(node) == "import_statement" {
        let mut cursor = node.walk();
        for name in node.children_by_field_id(FIELDS.name, &mut cursor) {
            match kind_of(name) {
                "dotted_name" => {
                    // `import a.b.c` binds `a`.
                    let full = node_text(name, text);
                    let first = full.split('.').next().unwrap_or(full).trim();
                    bind(first, canonical(first));
                }
                "aliased_import" => {
                    let (Some(module), Some(alias)) = (
                        name.child_by_field_id(FIELDS.name.get()),
                        name.child_by_field_id(FIELDS.alias.get()),
                    ) else {
                        continue;
                    };
                    bind(
                        node_text(alias, text),
                        canonical(&compact(node_text(module, text))),
                    );
                }
                _ => {}
            }
        }
        return None;
    }
    let module = compact(node_text(
        node.child_by_field_id(FIELDS.module_name.get())?,
        text,
    ));
    // One pass over the children: import lists can be long, and each step between tree-sitter
    // siblings costs hundreds of instructions.
    let mut cursor = node.walk();
    let (mut any_name, mut wildcard) = (false, false);
    let mut more = cursor.goto_first_child();
    while more {
        let child = cursor.node();
        let is_name = cursor.field_id() == Some(FIELDS.name);
        more = cursor.goto_next_sibling();
        if !is_name {
            wildcard |= kind_of(child) == "wildcard_import";
            continue;
        }
        any_name = true;
        let (imported, local) = match kind_of(child) {
            "aliased_import" => {
                let (Some(imported), Some(alias)) = (
                    child.child_by_field_id(FIELDS.name.get()),
                    child.child_by_field_id(FIELDS.alias.get()),
                ) else {
                    continue;
                };
                let alias = node_text(alias, text).to_string();
                (compact(node_text(imported, text)), alias)
            }
            _ => {
                let imported = compact(node_text(child, text));
                (imported.clone(), imported)
            }
        };
        bind(&local, canonical(&format!("{module}.{imported}")));
    }
    (wildcard || !any_name).then(|| canonical(&module))
}

/// `a . b` written with spaces is still `a.b`.
fn compact(dotted: &str) -> String {
    dotted.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Which modules the file imports under their own name, and where a new import line goes.
fn import_context(root: Node, text: &str) -> ImportContext {
    let mut context = ImportContext::default();
    let mut after_imports = None;
    let mut first_statement = None;
    let mut cursor = root.walk();
    for (i, child) in root.named_children(&mut cursor).enumerate() {
        match kind_of(child) {
            "comment" => continue,
            "import_statement" => {
                let mut names = child.walk();
                for name in child.children_by_field_id(FIELDS.name, &mut names) {
                    if kind_of(name) == "dotted_name" {
                        let module = node_text(name, text);
                        context
                            .bound
                            .insert(module.split('.').next().unwrap_or(module).to_string());
                    }
                }
                after_imports = Some(child.end_byte());
            }
            "import_from_statement" | "future_import_statement" => {
                after_imports = Some(child.end_byte());
            }
            "expression_statement"
                if i == 0 && child.named_child(0).is_some_and(|c| kind_of(c) == "string") =>
            {
                after_imports.get_or_insert(child.end_byte());
            }
            _ => {
                first_statement.get_or_insert(child.start_byte());
            }
        }
    }
    context.insert_at = match after_imports {
        // Start of the line after the last leading import (or the docstring).
        Some(end) => text[end..].find('\n').map_or(text.len(), |nl| end + nl + 1),
        None => first_statement.unwrap_or(0),
    };
    if context.insert_at > text.len() {
        context.insert_at = text.len();
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_joins_short_long_and_non_ascii_parts() {
        assert_eq!(
            &*join("transformers", "AutoModel"),
            "transformers.AutoModel"
        );
        assert_eq!(&*concat(&["?", "modèle", "()"]), "?modèle()");
        assert_eq!(&*concat(&[]), "");
        // Past the stack buffer, and across its end in the middle of a part.
        let long = "a".repeat(300);
        assert_eq!(*join(&long, "b"), format!("{long}.b"));
        let edge = "é".repeat(127);
        assert_eq!(*concat(&[&edge, "ü", "x"]), format!("{edge}üx"));
    }

    /// Two methods set `self.text` from different sources; what a finding on its reader cites
    /// must not depend on which writer the walk met last (an editing session walks them in
    /// another order than a whole analysis): the summary keeps the source that starts first.
    #[test]
    fn a_summary_cites_the_source_that_starts_first_whatever_the_walk_order() {
        let code = |first: &str, second: &str| {
            format!(
                "from flask import request\n\nclass Bot:\n    def {first}(self):\n        self.text = input()\n\n    def {second}(self):\n        self.text = request.args['q']\n\n    def run(self):\n        eval(self.text)\n"
            )
        };
        for (first, second) in [("ask", "reply"), ("reply", "ask")] {
            let code = code(first, second);
            let tree = crate::lang::parse(Language::Python, &code, None).expect("parse");
            let lines = LineIndex::new(&code);
            let findings = analyse(
                Catalogue::builtin(),
                &code,
                &tree,
                &lines,
                &FileContext::default(),
            );
            let cited: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
            assert_eq!(cited.len(), 1, "{cited:?}");
            assert!(
                cited[0].ends_with("comes from user input (line 5)."),
                "{cited:?}"
            );
        }
    }

    #[test]
    fn attribute_assignments_are_told_from_other_uses() {
        let names = |text| assigned_attributes(text).collect::<Vec<_>>();
        assert_eq!(names("self.head = head"), ["head"]);
        // Text, not syntax: an annotation's dotted type reads as assigned too, which only
        // means a method may be walked earlier than needed.
        assert_eq!(names("self.head: nn.Module = head"), ["head", "Module"]);
        assert_eq!(names("if x:\n    obj.head_dim=1"), ["head_dim"]);
        assert_eq!(names("a.b.c = 1"), ["c"]);
        assert!(names("if self.head == head: pass").is_empty());
        assert!(names("return self.head").is_empty());
        assert!(names("self.head(x)").is_empty());
        assert!(names("x = 1. ; y = .5").is_empty());
    }

    #[test]
    fn a_plain_string_is_read_between_its_quotes_as_its_content_node_says() {
        let code = concat!(
            "a = \"x\"\nb = ''\nc = r\"x\\n\"\nd = b'\\x00'\ne = \"\"\"doc\n  more\"\"\"\n",
            "f = '''a\"b'''\ng = \"it's\"\nh = u\"é\"\ni = '\"'\nj = \"a\\\\\"\nk = Rb'''z'''\n",
            "l = \"a\" 'b'\nm = \"a\\\nb\"\nn = f\"x\"\no = f\"{x}\"\np = \"\"\"\"\"\"\nq = \"tail",
        );
        let tree = crate::lang::parse(Language::Python, code, None).expect("parse");
        let mut strings = Vec::new();
        let mut cursor = tree.root_node().walk();
        'walk: loop {
            if kind_of(cursor.node()) == "string" {
                strings.push(cursor.node());
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        let fast: Vec<Option<&str>> = strings
            .iter()
            .map(|&node| plain_string_content(node, code))
            .collect();
        // Where the fast path reads a string, it reads what its content node holds.
        for (&node, content) in strings.iter().zip(&fast) {
            if let Some(content) = content {
                let mut cursor = node.walk();
                let parts: String = node
                    .named_children(&mut cursor)
                    .filter(|child| kind_of(*child) == "string_content")
                    .map(|child| node_text(child, code))
                    .collect();
                assert_eq!(*content, parts, "{}", node_text(node, code));
            }
        }
        let expected = [
            Some("x"),
            Some(""),
            Some("x\\n"),
            Some("\\x00"),
            Some("doc\n  more"),
            Some("a\"b"),
            Some("it's"),
            Some("é"),
            Some("\""),
            Some("a\\\\"),
            Some("z"),
            Some("a"),
            Some("b"),
            Some("a\\\nb"),
            // f-strings are read from their children.
            None,
            None,
            Some(""),
            // A string left open (`q = "tail`) is no string node.
        ];
        assert_eq!(fast, expected);
    }

    /// The findings of `code` with the walk repeated as `repeat` says, and how many times the
    /// whole module was walked.
    fn repeating(code: &str, repeat: Repeat) -> (Vec<Finding>, usize) {
        let tree = crate::lang::parse(Language::Python, code, None).expect("parse");
        let lines = LineIndex::new(code);
        let context = FileContext::default();
        let (findings, memo, walks) = analyse_repeating(
            Catalogue::builtin(),
            code,
            &tree,
            &lines,
            &context,
            repeat,
            true,
        );
        assert!(memo.is_some(), "the walk did not settle:\n{code}");
        (findings.into_iter().map(|(f, _)| f).collect(), walks)
    }

    #[test]
    fn only_the_functions_that_read_what_changed_are_walked_again() {
        // `run`'s body is walked before `go` passes it user input.
        let code = "\
import subprocess

def run(cmd):
    subprocess.run(cmd, shell=True)

class Shell:
    def go(self):
        run(input())
";
        let (whole, walks) = repeating(code, Repeat::WholeModule);
        assert_eq!(walks, 2);
        let (outdated, walks) = repeating(code, Repeat::OutdatedUnits);
        assert_eq!(walks, 1);
        assert_eq!(outdated, whole);
        assert_eq!(outdated.len(), 1, "{outdated:#?}");
        assert_eq!(outdated[0].severity, crate::Severity::High);
    }

    #[test]
    fn an_attribute_set_from_a_parameter_reaches_its_readers_through_the_outdated_functions() {
        // `read` returns `self.value` before anything set it; `write` sets it from a parameter
        // that only `plan` tells is user input. Walking `write`, then `read`, then `act` again
        // follows the value to `exec`. (Whole walks do not: every one walks `read` before
        // `write`, and an attribute overwritten after it was read does not start another.)
        let code = "\
class Agent:
    def read(self):
        return self.value

    def write(self, value):
        self.value = value

    def plan(self):
        self.write(input())

    def act(self):
        exec(self.read())
";
        let (findings, walks) = repeating(code, Repeat::OutdatedUnits);
        assert_eq!(walks, 1);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, crate::Severity::High, "{findings:#?}");
        assert_eq!(findings[0].related[0].span.start.line, 9, "{findings:#?}");
        let (whole, _) = repeating(code, Repeat::WholeModule);
        assert_eq!(whole[0].severity, crate::Severity::Medium, "{whole:#?}");
    }

    /// The repository's Python corpora come out the same either way
    /// (`THREATLENS_REPEAT_CORPUS` adds a directory, e.g. an unpacked wheel).
    #[test]
    fn walking_only_outdated_functions_finds_what_whole_walks_find_on_the_corpora() {
        fn python_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    python_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "py") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
        let mut files = Vec::new();
        python_files(&root, &mut files);
        assert!(files.len() > 50, "the corpora moved: {} files", files.len());
        if let Some(extra) = std::env::var_os("THREATLENS_REPEAT_CORPUS") {
            python_files(std::path::Path::new(&extra), &mut files);
        }
        let (mut repeated, mut saved) = (0, 0);
        for path in files {
            let Ok(code) = std::fs::read_to_string(&path) else {
                continue;
            };
            let (whole, whole_walks) = repeating(&code, Repeat::WholeModule);
            let (outdated, walks) = repeating(&code, Repeat::OutdatedUnits);
            assert_eq!(outdated, whole, "{}", path.display());
            repeated += usize::from(whole_walks > 1);
            saved += whole_walks - walks;
        }
        assert!(
            repeated > 0 && saved > 0,
            "{repeated} repeated, {saved} saved"
        );
        eprintln!("{repeated} files walked more than once; {saved} whole walks saved");
    }

    #[test]
    fn module_code_that_read_what_changed_needs_a_whole_walk() {
        let code = "\
def source():
    return helper()

def helper():
    return input()

value = source()
eval(value)
";
        let (whole, _) = repeating(code, Repeat::WholeModule);
        let (outdated, walks) = repeating(code, Repeat::OutdatedUnits);
        assert_eq!(walks, 2);
        assert_eq!(outdated, whole);
    }

    /// Whether the first walk of `code` settles, with no second pass needed.
    fn settles_in_one_walk(code: &str) -> bool {
        let tree = crate::lang::parse(Language::Python, code, None).expect("parse");
        let lines = LineIndex::new(code);
        let catalogue = Catalogue::builtin();
        let mut emitter = Emitter::new(catalogue, code, &lines, Language::Python);
        let mut summaries = Summaries::default();
        let context = FileContext::default();
        let mut walker = Walker::new(catalogue, code, &mut emitter, &mut summaries, &context);
        walker.walk_module(tree.root_node());
        !walker.changed
    }

    #[test]
    fn a_method_that_sets_an_attribute_runs_before_one_that_reads_it() {
        let getter_first = "\
import pickle

class Model:
    def restore(self):
        return pickle.loads(self.blob)

    def __init__(self, blob: bytes):
        self.blob = input()
";
        assert!(settles_in_one_walk(getter_first));
        // An attribute only the reading method itself sets still needs another pass.
        let loop_carried = "\
class Model:
    def step(self):
        print(self.state)
        self.state = input()
";
        assert!(!settles_in_one_walk(loop_carried));
    }
}

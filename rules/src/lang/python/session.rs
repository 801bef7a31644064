//! Re-analysis after an edit, for an editor buffer: when an edit falls inside the body of a
//! function defined at module level or in a class body (a [`Unit`]), only that function is
//! walked again, over the summaries the last whole analysis settled on; the findings of the
//! rest of the file move with the text. After an edit inside a comment, inside a docstring
//! that cannot hold a provider token, in blank lines, or in module-level lines of bare names and
//! keywords (the start of a statement being typed), nothing is walked: the findings only move.
//!
//! The result must be what a whole analysis of the new text gives, so a unit is re-walked
//! alone only when that is certain to be the case, and the whole file is analysed otherwise:
//! - the last whole analysis settled (no summary changed after it was read, see [`Unit::stale`]);
//! - the edit is inside the unit's body (or only changes a name in the annotation of a
//!   parameter or of what it returns, or the name of a parameter that no call passes by
//!   keyword: only the body's walk reads those), and the new tree agrees: the same definition,
//!   ending where the edit moved its end, the same number of top-level statements, the syntax
//!   errors outside the unit where they were (recovering from one error can depend on another),
//!   and none around it (inside an error, the edit can change how the rest of it is read);
//! - nothing outside the unit wrote into functions or classes defined inside it;
//! - the re-walk writes the same facts for other units to read as before (what it and the
//!   functions defined inside it return, where code outside the unit read that; what it
//!   passes to other local functions, but for the taint; the attributes it sets, unless
//!   nothing else sets an attribute of that name), and reads nothing that changed after the
//!   whole analysis read it; or, when what it returns, an attribute it sets or the taint a
//!   parameter of another function merges changed, only functions read that (not module-level
//!   code), and each of them, walked again in turn, passes on what it did before;
//! - what it writes does not rest on what it wrote before the edit: where it read an attribute
//!   it sets itself, or a return or attribute that its own output reaches through their
//!   readers, a second walk with those reads left empty writes the same (an old value can
//!   otherwise keep itself alive after the edit removed its source). So is a parameter whose
//!   taint comes from a source inside the unit (an LLM's answer passed back as the next
//!   prompt). Other loops through parameters are not followed (a taint from elsewhere that
//!   the unit passes on and that comes back to another of its parameters); the language
//!   server analyses the whole file once more when the edits stop.
//!
//! Some edits outside function bodies only change what names are bound to: an edit inside
//! imports at module level (an import being typed passes through lines of names and keywords,
//! which bind nothing, and through lines the parser reads into the import after them), and one
//! that renames a function defined at module level or in a class body, or an attribute a class
//! body sets. The session binds the names again and walks again the functions whose bodies name
//! what was or is now bound (then, as above, the functions that read what those pass on
//! differently), unless code outside function bodies names it too (see [`units_naming`]; a
//! module's name in another import names no variable).
//!
//! Everything the session keeps is in the coordinates of the text it last analysed: after an
//! edit, positions after it are moved first, then the unit is walked in the new text. It keeps
//! that text's tree too, for what the module-level statements around the edit were.

use super::{
    ClassInfo, Effect, FunctionInfo, MODULE, ParamSummary, Reads, Scope, ScopeRef, Summaries, Undo,
    Unit, Walker, analyse_whole, import_bindings, import_context, kind_of, param_name,
    param_name_node,
};
use crate::analyse::FileContext;
use crate::catalogue::{Catalogue, Language};
use crate::engine::{Emitter, ImportContext, Provenance, is_a_named_secret, render_again};
use crate::finding::{Finding, Span};
use crate::lang::node_text;
use crate::source::LineIndex;
use crate::value::{Range, Shape, Sym, Taint};
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use tree_sitter::{Node, Tree};

/// What a whole analysis of one text leaves for the next re-analysis of the same document.
pub(super) struct Memo {
    pub(super) text: String,
    /// The tree of `text` (a copy shares it): where its top-level statements were.
    pub(super) tree: Tree,
    /// Where the tree has syntax errors (see [`syntax_errors`]).
    pub(super) errors: Vec<Range>,
    pub(super) summaries: Summaries,
    pub(super) units: Vec<Unit>,
    /// The findings, in order, rendered for `text`.
    pub(super) findings: Vec<(Finding, Provenance)>,
    pub(super) effects: Vec<(u32, Effect)>,
    pub(super) reads: Reads,
    /// For each function whose return code outside its unit read, those readers.
    pub(super) return_readers: HashMap<usize, Vec<u32>>,
    /// For each attribute name, the units that read one of that name (see
    /// [`Summaries::attribute_readers`]).
    pub(super) attribute_readers: HashMap<Rc<str>, Vec<u32>>,
    pub(super) star_imports: Vec<Rc<str>>,
    /// Where a fix adds an import line, and which modules the text imports.
    pub(super) imports: ImportContext,
}

impl Memo {
    /// How many named top-level nodes (statements and comments) the text has.
    fn top_level(&self) -> usize {
        self.tree.root_node().named_child_count()
    }

    /// A copy that shares nothing with this memo: a re-walk changes the memo it starts from
    /// (the units' scopes too, which units share), and the copy is what the session falls back
    /// on when the re-walk fails. Which units share a scope stays as it was.
    fn snapshot(&self) -> Memo {
        let mut copies: HashMap<*const RefCell<Scope>, ScopeRef> = HashMap::default();
        let units = self
            .units
            .iter()
            .map(|unit| Unit {
                chain: unit
                    .chain
                    .iter()
                    .map(|scope| {
                        copies
                            .entry(Rc::as_ptr(scope))
                            .or_insert_with(|| Rc::new(RefCell::new(scope.borrow().clone())))
                            .clone()
                    })
                    .collect(),
                ..unit.clone()
            })
            .collect();
        Memo {
            text: self.text.clone(),
            tree: self.tree.clone(),
            errors: self.errors.clone(),
            summaries: self.summaries.clone(),
            units,
            findings: self.findings.clone(),
            effects: self.effects.clone(),
            reads: self.reads.clone(),
            return_readers: self.return_readers.clone(),
            attribute_readers: self.attribute_readers.clone(),
            star_imports: self.star_imports.clone(),
            imports: self.imports.clone(),
        }
    }
}

/// Orders findings by position, then rule.
pub(super) fn sort(findings: &mut [(Finding, Provenance)]) {
    findings
        .sort_by(|(a, _), (b, _)| (a.span.start_byte, &a.rule).cmp(&(b.span.start_byte, &b.rule)));
}

/// How much of the previous analysis the last [`Session::analyse`] reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// None: the whole file was analysed.
    Nothing,
    /// One function was walked again.
    AllButOneFunction,
    /// One function was walked again, then the functions that read what it now returns or
    /// sets differently.
    FunctionAndItsReaders,
    /// The edit was inside a comment: the findings moved with the text.
    Comment,
    /// The edit was inside a docstring (a string that is a statement of its own) that holds no
    /// provider token: the findings moved with the text.
    Docstring,
    /// The edit was inside an import at module level: the names it binds were set again, and
    /// the functions that name one of them walked again.
    Import,
    /// The edit only renamed a function defined at module level or in a class body, or an
    /// attribute a class body sets: the functions that name it, by its old name or its new one,
    /// were walked again.
    Renamed,
    /// The edit was inside a module-level statement that binds a name to a literal (a prompt,
    /// a model id): the statement and the functions that name it were walked again.
    Constant,
    /// The edit only added, removed or changed blank lines: the findings moved with the text.
    BlankLines,
    /// The edit only changed module-level lines of bare names and keywords, as typing the
    /// start of a statement leaves them (`fro`, `from`, `import `): the findings moved with
    /// the text.
    BareNames,
    /// The text had not changed.
    Everything,
    /// The text is that of the earlier analysis the session keeps (a typo deleted, an edit
    /// undone): the findings are that analysis's, which may itself have re-walked one function.
    EarlierText,
}

/// Why the last [`Session::analyse`] analysed the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// There was no settled analysis to start from (the first version, or the last whole
    /// analysis had not settled).
    NoSettledAnalysis,
    /// The edit was not inside one function body (an import, a signature, a class attribute).
    OutsideFunctionBodies,
    /// The function's last walk read something that changed afterwards.
    StaleFunction,
    /// The new tree is shaped differently around the edit (typically a syntax error that
    /// tree-sitter's recovery spread beyond the function).
    Reshaped,
    /// Something outside the function wrote into what the function defines.
    Escaped,
    /// The re-walk changed what the function returns or passes on, or shares a finding.
    PassesOnSomethingElse,
    /// What the function passed on before the edit comes back to it (an attribute it sets
    /// itself, recursion through other functions), and what it passes on now rests on that.
    ReadsBackItsOwnOutput,
}

impl Fallback {
    /// Says it in a few words (the language server's timing log).
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoSettledAnalysis => "no settled analysis to start from",
            Self::OutsideFunctionBodies => "the edit is outside a function body",
            Self::StaleFunction => "the function's last walk is out of date",
            Self::Reshaped => "the tree changed shape around the edit",
            Self::Escaped => "other code writes into the function",
            Self::PassesOnSomethingElse => "the function now passes on something else",
            Self::ReadsBackItsOwnOutput => {
                "what the function passes on rests on its own output from before"
            }
        }
    }
}

/// The analyses of one document as it is edited (a language server keeps one per open Python
/// document). It assumes the same catalogue and [`FileContext`] every time.
///
/// Besides the last analysis it keeps an earlier one of a text free of syntax errors, to start
/// from when the last cannot be taken: a typo that tree-sitter's recovery spread over the rest
/// of a class costs a whole analysis, but once it is deleted, or once a statement typed through
/// such broken states is complete, the text is often again one function's edit away from the
/// last text that parsed cleanly. A re-walk changes the memo it starts from, so before one the
/// session copies a memo of a clean text (0.04–0.15 ms on the largest file, warm or not):
/// when the re-walk fails, the copy becomes the earlier one, and undoing the edit gives it back.
/// That undo used to cost a whole analysis, which takes longer than `ruff server` takes for any
/// keystroke.
#[derive(Default)]
pub struct Session {
    memo: Option<Memo>,
    earlier: Option<Memo>,
    last: Option<Reuse>,
    fallback: Option<Fallback>,
}

/// Why an analysis could not start from a memo, and whether the memo is still whole (the
/// checks that need no walk change nothing; a re-walk that fails leaves it half-updated, and
/// then `copy` is the memo as it was, when its text parsed cleanly).
struct NotTaken {
    why: Fallback,
    memo_intact: bool,
    copy: Option<Box<Memo>>,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    /// What the last analysis reused.
    pub fn last_reuse(&self) -> Option<Reuse> {
        self.last
    }

    /// Why the last analysis was of the whole file, if it was.
    pub fn last_fallback(&self) -> Option<Fallback> {
        self.fallback
    }

    /// Analyses `text` (parsed as `tree`), the document's new version.
    pub fn analyse(
        &mut self,
        catalogue: &Catalogue,
        text: &str,
        tree: &Tree,
        lines: &LineIndex,
        context: &FileContext,
    ) -> Vec<Finding> {
        let analyse_from = |memo: &mut Memo| reanalyse(memo, catalogue, text, tree, lines, context);
        let mut fallback = None;
        // The last memo as it was, when a failed re-walk changed it: the earlier text, if the
        // edit is undone.
        let mut last_as_it_was = None;
        if let Some(memo) = &mut self.memo {
            match analyse_from(memo) {
                Ok((reuse, findings)) => {
                    memo.tree = tree.clone();
                    return self.reused(reuse, findings);
                }
                Err(not) => {
                    fallback = Some(not.why);
                    if !not.memo_intact {
                        self.memo = None;
                        last_as_it_was = not.copy.map(|copy| *copy);
                    }
                }
            }
        }
        if let Some(earlier) = &mut self.earlier {
            match analyse_from(earlier) {
                Ok((reuse, findings)) => {
                    earlier.tree = tree.clone();
                    let replaced = std::mem::replace(&mut self.memo, self.earlier.take());
                    self.keep_as_earlier(replaced.or(last_as_it_was));
                    let reuse = match reuse {
                        Reuse::Everything => Reuse::EarlierText,
                        partly => partly,
                    };
                    return self.reused(reuse, findings);
                }
                Err(not) => {
                    fallback.get_or_insert(not.why);
                    if !not.memo_intact {
                        self.earlier = not.copy.map(|copy| *copy);
                    }
                }
            }
        }
        let (findings, memo) = analyse_whole(catalogue, text, tree, lines, context, true);
        let replaced = std::mem::replace(&mut self.memo, memo);
        self.keep_as_earlier(replaced.or(last_as_it_was));
        self.last = Some(Reuse::Nothing);
        self.fallback = Some(fallback.unwrap_or(Fallback::NoSettledAnalysis));
        findings.into_iter().map(|(finding, _)| finding).collect()
    }

    fn reused(&mut self, reuse: Reuse, findings: Vec<Finding>) -> Vec<Finding> {
        self.last = Some(reuse);
        self.fallback = None;
        findings
    }

    /// Keeps a memo that is no longer the last as the earlier one, if its text parsed cleanly.
    fn keep_as_earlier(&mut self, memo: Option<Memo>) {
        if let Some(memo) = memo.filter(|memo| memo.errors.is_empty()) {
            self.earlier = Some(memo);
        }
    }
}

/// Analyses `text` starting from `memo`, the analysis of an earlier version; says what it reused.
fn reanalyse(
    memo: &mut Memo,
    catalogue: &Catalogue,
    text: &str,
    tree: &Tree,
    lines: &LineIndex,
    context: &FileContext,
) -> Result<(Reuse, Vec<Finding>), NotTaken> {
    if memo.text == text {
        let findings = memo.findings.iter().map(|(f, _)| f.clone()).collect();
        return Ok((Reuse::Everything, findings));
    }
    let edit = Edit::between(&memo.text, text);
    if only_in_a_comment(memo, &edit, text, tree) {
        return Ok((Reuse::Comment, move_findings(memo, &edit, text, lines)));
    }
    if only_in_a_docstring(memo, catalogue, &edit, text, tree) {
        return Ok((Reuse::Docstring, move_findings(memo, &edit, text, lines)));
    }
    if only_blank_lines(memo, &edit, text, tree) {
        return Ok((Reuse::BlankLines, move_findings(memo, &edit, text, lines)));
    }
    if let Some((errors, imports)) = only_bare_names(memo, &edit, text, tree) {
        let findings = move_findings(memo, &edit, text, lines);
        (memo.errors, memo.imports) = (errors, imports);
        return Ok((Reuse::BareNames, findings));
    }
    let not_taken = |why| NotTaken {
        why,
        memo_intact: true,
        copy: None,
    };
    let plan = match unit_to_rewalk(memo, &edit, text, tree) {
        Ok(plan) => plan,
        Err(Fallback::OutsideFunctionBodies) => {
            // Each kind of rebinding edit in turn, until one takes the edit or finds it of
            // its kind but says why not.
            let kinds: [&dyn Fn() -> Result<Rebinding, Fallback>; 4] = [
                &|| import_to_rebind(memo, catalogue, &edit, text, tree),
                &|| function_renamed(memo, &edit, text, tree),
                &|| class_attribute_renamed(memo, catalogue, &edit, text, tree),
                &|| constant_edited(memo, &edit, text, tree),
            ];
            let mut rebinding = Err(Fallback::OutsideFunctionBodies);
            for kind in kinds {
                rebinding = kind();
                if !matches!(rebinding, Err(Fallback::OutsideFunctionBodies)) {
                    break;
                }
            }
            let rebinding = rebinding.map_err(not_taken)?;
            let version = Version {
                catalogue,
                text,
                lines,
                context,
                imports: rebinding.imports.clone(),
            };
            return rebind(memo, rebinding, &edit, tree, &version);
        }
        Err(why) => return Err(not_taken(why)),
    };
    // Only a text without syntax errors can be taken up again (see [`Session::earlier`]).
    let copy = memo.errors.is_empty().then(|| Box::new(memo.snapshot()));
    let errors = plan.errors.clone();
    let version = Version {
        catalogue,
        text,
        lines,
        context,
        imports: import_context(tree.root_node(), text),
    };
    // The functions that read what the edited one now passes on differently read it again;
    // what they pass on must then stay the same.
    let readers = reanalyse_unit(memo, plan, true, &version).and_then(|readers| {
        walk_readers_again(memo, &readers, tree, &errors, &version)?;
        Ok(readers)
    });
    let readers = readers.map_err(|why| NotTaken {
        why,
        memo_intact: false,
        copy,
    })?;
    let reuse = if readers.is_empty() {
        Reuse::AllButOneFunction
    } else {
        Reuse::FunctionAndItsReaders
    };
    Ok((
        reuse,
        memo.findings.iter().map(|(f, _)| f.clone()).collect(),
    ))
}

/// The part of the text that changed: `start..old_end` in the old text is `start..new_end` in
/// the new one.
#[derive(Debug, Clone, Copy)]
struct Edit {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl Edit {
    fn between(old: &str, new: &str) -> Self {
        let (old, new) = (old.as_bytes(), new.as_bytes());
        let prefix = common_prefix(old, new);
        let most = old.len().min(new.len()) - prefix;
        let suffix = common_suffix(&old[prefix..], &new[prefix..]).min(most);
        Self {
            start: prefix,
            old_end: old.len() - suffix,
            new_end: new.len() - suffix,
        }
    }

    /// Where a position that starts something moves (inside the edit: to its start).
    fn start(&self, at: usize) -> usize {
        if at < self.start {
            at
        } else if at >= self.old_end {
            at - self.old_end + self.new_end
        } else {
            self.start
        }
    }

    /// Where a position that ends something moves (inside the edit: to its new end).
    fn end(&self, at: usize) -> usize {
        if at <= self.start {
            at
        } else if at >= self.old_end {
            at - self.old_end + self.new_end
        } else {
            self.new_end
        }
    }

    fn range(&self, (start, end): Range) -> Range {
        // An empty range is a place where text goes (a fix's new import line): it moves with
        // the text after it.
        if start == end {
            let at = self.start(start);
            return (at, at);
        }
        (self.start(start), self.end(end))
    }

    fn span(&self, span: &mut Span) {
        (span.start_byte, span.end_byte) = self.range((span.start_byte, span.end_byte));
    }

    fn taint(&self, taint: &mut Rc<Taint>) {
        let range = self.range(taint.range);
        if range != taint.range {
            *taint = Rc::new(Taint {
                kind: taint.kind,
                range,
            });
        }
    }

    /// Whether anything in `sym` is at or after the edit.
    fn reaches(&self, sym: &Sym) -> bool {
        let after = |(_, end): Range| end > self.start;
        sym.taint.as_ref().is_some_and(|t| after(t.range))
            || sym.literal.is_some_and(after)
            || match &sym.shape {
                Shape::Dict(entries) => entries.iter().any(|(_, v)| self.reaches(v)),
                Shape::Seq(items) => items.iter().any(|v| self.reaches(v)),
                Shape::Partial(partial) => {
                    self.reaches(&partial.target)
                        || partial
                            .args
                            .iter()
                            .any(|a| after(a.whole) || self.reaches(&a.sym))
                }
                Shape::Plain | Shape::Function(_) | Shape::Class(_) | Shape::Instance(_) => false,
            }
    }

    fn sym(&self, sym: &mut Sym) {
        if !self.reaches(sym) {
            return;
        }
        if let Some(taint) = &mut sym.taint {
            self.taint(taint);
        }
        if let Some(literal) = &mut sym.literal {
            *literal = self.range(*literal);
        }
        self.shape(&mut sym.shape);
    }

    fn shape(&self, shape: &mut Shape) {
        match shape {
            Shape::Dict(entries) => {
                for (_, value) in Rc::make_mut(entries) {
                    self.sym(value);
                }
            }
            Shape::Seq(items) => {
                for item in Rc::make_mut(items) {
                    self.sym(item);
                }
            }
            Shape::Partial(partial) => {
                let partial = Rc::make_mut(partial);
                self.sym(&mut partial.target);
                for arg in &mut partial.args {
                    arg.value = self.range(arg.value);
                    arg.whole = self.range(arg.whole);
                    self.sym(&mut arg.sym);
                }
            }
            Shape::Plain | Shape::Function(_) | Shape::Class(_) | Shape::Instance(_) => {}
        }
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    // Whole chunks first: comparing slices is a memcmp.
    const CHUNK: usize = 256;
    let mut at = 0;
    while at + CHUNK <= a.len().min(b.len()) && a[at..at + CHUNK] == b[at..at + CHUNK] {
        at += CHUNK;
    }
    at + a[at..]
        .iter()
        .zip(&b[at..])
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 256;
    let mut n = 0;
    while n + CHUNK <= a.len().min(b.len())
        && a[a.len() - n - CHUNK..a.len() - n] == b[b.len() - n - CHUNK..b.len() - n]
    {
        n += CHUNK;
    }
    n + a[..a.len() - n]
        .iter()
        .rev()
        .zip(b[..b.len() - n].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

impl Memo {
    /// Moves every position the memo holds from the old text to the new one.
    fn shift(&mut self, edit: &Edit) {
        let summaries = &mut self.summaries;
        for function in &mut summaries.functions {
            for taint in function.param_taint.iter_mut().flatten() {
                edit.taint(taint);
            }
            for default in function.param_defaults.iter_mut().flatten() {
                edit.sym(default);
            }
            if let Some(taint) = &mut function.returns {
                edit.taint(taint);
            }
            edit.shape(&mut function.return_shape);
        }
        for class in &mut summaries.classes {
            for value in class.attrs.values_mut() {
                edit.sym(value);
            }
        }
        for by_node in [
            &mut summaries.function_by_node,
            &mut summaries.class_by_node,
        ] {
            *by_node = std::mem::take(by_node)
                .into_iter()
                .map(|(start, id)| (edit.start(start), id))
                .collect();
        }
        self.imports.insert_at = edit.start(self.imports.insert_at);
        let mut scopes = std::collections::HashSet::new();
        for unit in &mut self.units {
            unit.start = edit.start(unit.start);
            unit.end = edit.end(unit.end);
            unit.body = edit.start(unit.body);
            for scope in &unit.chain {
                if scopes.insert(Rc::as_ptr(scope)) {
                    for value in scope.borrow_mut().vars.values_mut() {
                        edit.sym(value);
                    }
                }
            }
        }
        for (_, effect) in &mut self.effects {
            match effect {
                Effect::Param { taint, .. } => {
                    if let Some(taint) = taint {
                        edit.taint(taint);
                    }
                }
                Effect::Attr { value, .. } => edit.sym(value),
            }
        }
        for (finding, provenance) in &mut self.findings {
            edit.span(&mut finding.span);
            for related in &mut finding.related {
                edit.span(&mut related.span);
            }
            if let Some(fix) = &mut finding.fix {
                for change in &mut fix.edits {
                    edit.span(&mut change.span);
                }
            }
            if let Some(taint) = &mut provenance.taint {
                taint.range = edit.range(taint.range);
            }
        }
    }
}

/// Whether the edit only typed or deleted name characters (letters, digits, `_`).
fn only_name_characters(memo: &Memo, edit: &Edit, text: &str) -> bool {
    let name_characters = |t: Option<&str>| {
        t.is_some_and(|t| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    };
    name_characters(memo.text.get(edit.start..edit.old_end))
        && name_characters(text.get(edit.start..edit.new_end))
}

/// Whether a function definition's signature (all but its body) parses cleanly.
fn signature_is_clean(function: Node) -> bool {
    let body = function.child_by_field_name("body");
    let mut cursor = function.walk();
    function
        .children(&mut cursor)
        .filter(|child| Some(*child) != body)
        .all(|child| !child.has_error() && !child.is_missing())
}

/// The new tree's syntax errors, when the tree agrees with the memo's around an edit that only
/// binds names anew: the same number of top-level statements, the edited statement `clean`, and
/// the errors where they were; `Err` otherwise.
fn errors_if_the_rest_agrees(
    memo: &Memo,
    edit: &Edit,
    root: Node,
    clean: bool,
) -> Result<Vec<Range>, Fallback> {
    let errors = syntax_errors(root);
    if root.named_child_count() != memo.top_level()
        || !clean
        || !errors_where_they_were(memo, edit, &errors)
    {
        return Err(Fallback::Reshaped);
    }
    Ok(errors)
}

/// Whether the new tree's syntax errors (`errors`) are the memo's, moved with the edit.
fn errors_where_they_were(memo: &Memo, edit: &Edit, errors: &[Range]) -> bool {
    errors
        .iter()
        .copied()
        .eq(memo.errors.iter().map(|&r| edit.range(r)))
}

/// The byte ranges of the tree's syntax errors (`ERROR` and missing nodes).
pub(super) fn syntax_errors(root: Node) -> Vec<Range> {
    let mut errors = Vec::new();
    let mut next = vec![root];
    while let Some(node) = next.pop() {
        if node.is_error() || node.is_missing() {
            errors.push((node.start_byte(), node.end_byte()));
        } else if node.has_error() {
            let mut cursor = node.walk();
            next.extend(node.children(&mut cursor));
        }
    }
    errors.sort_unstable();
    errors
}

/// The `function_definition` node that starts at `start`.
pub(super) fn function_at(root: Node, start: usize) -> Option<Node> {
    let mut node = root.descendant_for_byte_range(start, start)?;
    loop {
        if node.start_byte() != start {
            return None;
        }
        if kind_of(node) == "function_definition" {
            return Some(node);
        }
        node = node.parent()?;
    }
}

/// What a function's walk taught about what it returns.
type Returns = (
    Option<Rc<Taint>>,
    Option<Rc<str>>,
    Shape,
    Option<crate::value::Const>,
);

fn returns_of(function: &FunctionInfo) -> Returns {
    (
        function.returns.clone(),
        function.return_qname.clone(),
        function.return_shape.clone(),
        function.return_konst.clone(),
    )
}

fn take_returns(function: &mut FunctionInfo) -> Returns {
    (
        function.returns.take(),
        function.return_qname.take(),
        std::mem::take(&mut function.return_shape),
        function.return_konst.take(),
    )
}

/// Whether neither the removed nor the inserted text holds a line break, quote or backslash
/// (so no comment, string or line starts or ends in it).
fn typed_plainly(memo: &Memo, edit: &Edit, text: &str) -> bool {
    // `get`: a byte-wise edit may cut through a character; such an edit is not taken here.
    let plain = |t: Option<&str>| t.is_some_and(|t| !t.contains(['\n', '\r', '"', '\'', '\\']));
    plain(memo.text.get(edit.start..edit.old_end)) && plain(text.get(edit.start..edit.new_end))
}

/// Whether the edit is inside the code under a finding (or under one of its related places),
/// which its message may quote.
fn in_a_finding(memo: &Memo, edit: &Edit) -> bool {
    memo.findings.iter().any(|(finding, _)| {
        inside(&finding.span, edit)
            || finding
                .related
                .iter()
                .any(|related| inside(&related.span, edit))
    })
}

fn inside(span: &Span, edit: &Edit) -> bool {
    span.start_byte < edit.start && edit.old_end < span.end_byte
}

/// Whether the edit only changed the text of one comment (the walk never reads comments): `#`
/// stands before it and the line ends after it in both texts, since neither the removed nor the
/// inserted text holds a line break, quote or backslash. A suppression comment is left to the
/// whole analysis, and so is a comment inside a finding whose message quotes code with a `#`:
/// a message quotes the code a finding starts with (the call as written, the target of an
/// assignment), and a comment inside that, which only a broken statement has, would be quoted
/// too (seed 598 of the differential test: `ctx = ssl.#create_default_context()`).
fn only_in_a_comment(memo: &Memo, edit: &Edit, text: &str, tree: &Tree) -> bool {
    // As for a docstring, a longer or shorter comment can change how tree-sitter recovers from
    // a syntax error (skipped text has a cost): the errors must be where they were, and none
    // may hold the comment (inside one, the rest can be read differently in the same range).
    let errors = syntax_errors(tree.root_node());
    let quoted = memo
        .findings
        .iter()
        .any(|(finding, _)| inside(&finding.span, edit) && finding.message.contains('#'));
    if !typed_plainly(memo, edit, text)
        || quoted
        || !errors_where_they_were(memo, edit, &errors)
        || errors
            .iter()
            .any(|&(start, end)| start <= edit.start && edit.new_end <= end)
    {
        return false;
    }
    let Some(comment) = tree
        .root_node()
        .descendant_for_byte_range(edit.start, edit.new_end)
        .filter(|node| kind_of(*node) == "comment" && node.start_byte() < edit.start)
    else {
        return false;
    };
    let old_end = comment.end_byte() + edit.old_end - edit.new_end;
    let before = memo
        .text
        .get(comment.start_byte()..old_end)
        .unwrap_or_default();
    let after = text
        .get(comment.start_byte()..comment.end_byte())
        .unwrap_or_default();
    !before.contains("threatlens") && !after.contains("threatlens")
}

/// Whether the edit only changed the text inside a plain string that is a statement of its own
/// (a docstring), where neither the old nor the new string can hold a provider token: nothing
/// reads such a string, and the walk only looks in it for tokens (a string bound to no name
/// cannot be a credential by name). As for comments, the edit holds no line break, quote or
/// backslash, and the new tree, free of syntax errors (so the old one was too: the tokens are
/// the same), agrees that it is inside the string's text.
fn only_in_a_docstring(
    memo: &Memo,
    catalogue: &Catalogue,
    edit: &Edit,
    text: &str,
    tree: &Tree,
) -> bool {
    // In a tree with a syntax error, the length of a string can change how tree-sitter
    // recovers elsewhere (skipped text has a cost): only an error-free tree is taken.
    if !typed_plainly(memo, edit, text) || tree.root_node().has_error() {
        return false;
    }
    let Some(content) = tree
        .root_node()
        .descendant_for_byte_range(edit.start, edit.new_end)
        .filter(|node| kind_of(*node) == "string_content")
    else {
        return false;
    };
    let Some(string) = content.parent().filter(|s| kind_of(*s) == "string") else {
        return false;
    };
    let statement = string
        .parent()
        .is_some_and(|p| kind_of(p) == "expression_statement" && p.named_child_count() == 1);
    // Only a start, the text and an end, and no `f`/`t` prefix: an f-string evaluates code, and
    // an edit could have removed an interpolation.
    let formatted = string
        .named_child(0)
        .and_then(|start| text.get(start.start_byte()..start.end_byte()))
        .is_none_or(|start| start.contains(['f', 'F', 't', 'T']));
    if !statement || string.named_child_count() != 3 || formatted {
        return false;
    }
    let new_string = text.get(string.start_byte()..string.end_byte());
    let old_end = string.end_byte() + edit.old_end - edit.new_end;
    let old_string = memo.text.get(string.start_byte()..old_end);
    let no_token = |t: Option<&str>| {
        t.is_some_and(|t| {
            catalogue
                .secrets
                .iter()
                .all(|secret| secret.tokens_in(t).next().is_none())
        })
    };
    no_token(old_string) && no_token(new_string)
}

/// Whether the edit only added, removed or changed lines that hold nothing but whitespace
/// (Enter pressed between two statements, a blank line deleted), outside strings and findings:
/// Python reads no token from such a line, so the lines around it are read as before. The new
/// tree agrees: the same number of top-level statements, and the syntax errors where they were,
/// none holding the edit; and a fix's new import line goes where it went.
fn only_blank_lines(memo: &Memo, edit: &Edit, text: &str, tree: &Tree) -> bool {
    // The lines that are not blank among the whole lines the edit touches (from `start` to
    // `end`); the text around them is the same before and after.
    fn lines_left(text: &str, start: usize, end: usize) -> Option<Vec<&str>> {
        let from = text.get(..start)?.rfind('\n').map_or(0, |n| n + 1);
        let to = text.get(end..)?.find('\n').map_or(text.len(), |n| end + n);
        let blank = |line: &&str| line.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        Some(
            text.get(from..to)?
                .split('\n')
                .filter(|l| !blank(l))
                .collect(),
        )
    }
    let (Some(before), Some(after)) = (
        lines_left(&memo.text, edit.start, edit.old_end),
        lines_left(text, edit.start, edit.new_end),
    ) else {
        return false;
    };
    // Only whitespace removed and inserted: then the edit is inside one string or outside all.
    let whitespace = |t: Option<&str>| {
        t.is_some_and(|t| t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')))
    };
    // After a backslash, a line break continues the line before.
    let continued = text
        .get(..edit.start)
        .is_some_and(|t| t.trim_end_matches([' ', '\t', '\r', '\n']).ends_with('\\'));
    if before != after
        || continued
        || in_a_finding(memo, edit)
        || !whitespace(memo.text.get(edit.start..edit.old_end))
        || !whitespace(text.get(edit.start..edit.new_end))
    {
        return false;
    }
    let root = tree.root_node();
    let errors = syntax_errors(root);
    let in_a_string = root
        .descendant_for_byte_range(edit.start, edit.new_end)
        .is_some_and(|node| {
            std::iter::successors(Some(node), Node::parent)
                .any(|n| matches!(kind_of(n), "string" | "string_content"))
        });
    // A fix's new import line goes at the start of a line, maybe where a blank line now is.
    let import_line = import_context(root, text).insert_at;
    root.named_child_count() == memo.top_level()
        && !in_a_string
        && import_line == edit.start(memo.imports.insert_at)
        && errors_where_they_were(memo, edit, &errors)
        && !errors
            .iter()
            .any(|&(start, end)| start <= edit.start && edit.new_end <= end)
}

/// When the edit only changed whole module-level lines that hold nothing but names and
/// keywords, before it and after it, as typing the start of a statement leaves them (`f`, `fro`,
/// `from`, `import `), or blank lines: the new tree's syntax errors and where a new import line
/// goes in it. The walk of such a statement
/// reads a name or two and finds nothing, and the statement binds nothing.
///
/// The lines start at the first column and the new tree agrees: they are statements of their
/// own (nothing before them reads on into them); the other statements are those there were (as
/// many, the syntax errors outside the lines where they were, none reaching into them); no
/// finding spans them; a fix's new import line, if a finding has one, goes where it went.
fn only_bare_names(
    memo: &Memo,
    edit: &Edit,
    text: &str,
    tree: &Tree,
) -> Option<(Vec<Range>, ImportContext)> {
    // The whole lines the edit touches, from `from` to the end of the line `end` is on.
    fn lines(text: &str, from: usize, end: usize) -> Option<(usize, &str)> {
        let to = text.get(end..)?.find('\n').map_or(text.len(), |n| end + n);
        Some((to, text.get(from..to)?))
    }
    let from = text.get(..edit.start)?.rfind('\n').map_or(0, |n| n + 1);
    let (old_to, old_lines) = lines(&memo.text, from, edit.old_end)?;
    let (new_to, new_lines) = lines(text, from, edit.new_end)?;
    let names_and_keywords = |lines: &str| {
        lines.split('\n').all(|line| {
            (line.trim().is_empty() || !line.starts_with([' ', '\t']))
                && line
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'\t' | b'\r'))
        })
    };
    if !names_and_keywords(old_lines) || !names_and_keywords(new_lines) {
        return None;
    }
    let touches = |span: &Span| span.start_byte < old_to && from < span.end_byte;
    if memo.findings.iter().any(|(finding, _)| {
        touches(&finding.span) || finding.related.iter().any(|related| touches(&related.span))
    }) {
        return None;
    }
    // The statements the lines held, read on their own; in the old tree too they were
    // statements of the lines alone.
    let old_tree = crate::lang::parse(Language::Python, old_lines, None)?;
    let old_root = old_tree.root_node();
    let mut cursor = old_root.walk();
    if !old_root.named_children(&mut cursor).all(bare)
        || statements_within(memo, (from, old_to)) != Some(old_root.named_child_count())
    {
        return None;
    }
    let root = tree.root_node();
    let mut new_statements = 0;
    let mut cursor = root.walk();
    for statement in root.named_children(&mut cursor) {
        let (start, end) = (statement.start_byte(), statement.end_byte());
        if end <= from || new_to <= start {
            continue;
        }
        if start < from || new_to < end || !bare(statement) {
            return None;
        }
        new_statements += 1;
    }
    let top_level =
        (memo.top_level() + new_statements).checked_sub(old_root.named_child_count())?;
    // The errors outside the lines, where they were; none reaches into them.
    let errors = syntax_errors(root);
    let moved: Vec<Range> = errors_outside(memo.errors.iter().copied(), (from, old_to))?
        .into_iter()
        .map(|range| edit.range(range))
        .collect();
    let imports = import_context(root, text);
    let same_fixes =
        imports.insert_at == edit.start(memo.imports.insert_at) || !a_fix_imports(memo);
    let outside = errors_outside(errors.iter().copied(), (from, new_to))?;
    (root.named_child_count() == top_level && outside == moved && same_fixes)
        .then_some((errors, imports))
}

/// How many of the memo's top-level statements overlap `from..to` (a range of its text), when
/// all of them lie inside it: `None` when one reads on past it, or starts before it, as `from
/// pickle import ` followed by an indented `pickle.dump(…)` is read as one import.
fn statements_within(memo: &Memo, (from, to): Range) -> Option<usize> {
    let root = memo.tree.root_node();
    let mut cursor = root.walk();
    let mut within = 0;
    for statement in root.named_children(&mut cursor) {
        let (start, end) = (statement.start_byte(), statement.end_byte());
        if start < to && from < end {
            if start < from || to < end {
                return None;
            }
            within += 1;
        }
    }
    Some(within)
}

/// Whether `node` is a statement of names and keywords alone (a keyword typed alone is a syntax
/// error): its walk reads a name or two and finds nothing, and it binds nothing. An `ERROR` can
/// hold a dotted name (`from hashlib`), whose names the walk reads one by one.
fn bare(node: Node) -> bool {
    let mut cursor = node.walk();
    kind_of(node) == "identifier"
        || ((node.is_error() || kind_of(node) == "expression_statement")
            && node.named_children(&mut cursor).all(|child| {
                bare(child)
                    || (node.is_error()
                        && kind_of(child) == "dotted_name"
                        && child.named_children(&mut child.walk()).all(bare))
            }))
}

/// Whether one of the last analysis's findings has a fix that adds an import line (where the
/// memo's import context puts it).
fn a_fix_imports(memo: &Memo) -> bool {
    let line = memo.imports.insert_at;
    memo.findings.iter().any(|(finding, _)| {
        finding
            .fix
            .iter()
            .flat_map(|fix| &fix.edits)
            .any(|edit| (edit.span.start_byte, edit.span.end_byte) == (line, line))
    })
}

/// The last analysis's findings, moved with an edit that changed nothing they depend on.
fn move_findings(memo: &mut Memo, edit: &Edit, text: &str, lines: &LineIndex) -> Vec<Finding> {
    memo.shift(edit);
    for range in &mut memo.errors {
        *range = edit.range(*range);
    }
    for (finding, provenance) in &mut memo.findings {
        render_again(finding, provenance, text, lines);
    }
    memo.text = text.to_string();
    memo.findings.iter().map(|(f, _)| f.clone()).collect()
}

/// A unit to walk again, found by [`unit_to_rewalk`] (the unit an edit is inside) or
/// [`reader_to_rewalk`] once every check that needs no walk has passed.
struct Plan<'t> {
    /// The edit inside the unit; `None` for a unit walked again because it read what another
    /// unit's walk changed.
    edit: Option<Edit>,
    index: usize,
    id: u32,
    node: Node<'t>,
    /// The new tree's syntax errors.
    errors: Vec<Range>,
    /// The functions and classes defined inside the unit.
    nested: Vec<usize>,
    classes: Vec<usize>,
}

/// Finds the one unit an edit is inside and checks, without changing `memo`, that re-walking it
/// alone can give what a whole analysis would; `Err` says why not.
fn unit_to_rewalk<'t>(
    memo: &Memo,
    edit: &Edit,
    text: &str,
    tree: &'t Tree,
) -> Result<Plan<'t>, Fallback> {
    let root = tree.root_node();
    let index = memo
        .units
        .iter()
        .position(|unit| unit.start < edit.start && edit.old_end <= unit.end)
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let unit = &memo.units[index];
    if edit.start < unit.body
        && !function_at(root, unit.start)
            .is_some_and(|function| only_in_the_signature(memo, index, edit, text, function))
    {
        return Err(Fallback::OutsideFunctionBodies);
    }
    if memo.units[index].stale {
        return Err(Fallback::StaleFunction);
    }
    if root.named_child_count() != memo.top_level() {
        return Err(Fallback::Reshaped);
    }
    let node = function_at(root, edit.start(memo.units[index].start)).ok_or(Fallback::Reshaped)?;
    if node.end_byte() != edit.end(memo.units[index].end) {
        return Err(Fallback::Reshaped);
    }
    // How tree-sitter recovers from a syntax error can depend on text far from it (an error in
    // this function can change how it reads one elsewhere): the rest of the tree is taken to be
    // the same only when its errors are where they were. An error around the function (a whole
    // module read as one `ERROR`) can be read differently inside while its range only moves
    // with the edit, so the function must hold its errors or be clear of them.
    let errors = syntax_errors(root);
    let (start, end) = (node.start_byte(), node.end_byte());
    let inside = |&(from, to): &Range| start <= from && to <= end;
    let clear = |&(from, to): &Range| to <= start || end <= from;
    let errors_before: Vec<Range> = memo.errors.iter().map(|&r| edit.range(r)).collect();
    if errors
        .iter()
        .chain(&errors_before)
        .any(|error| !inside(error) && !clear(error))
    {
        return Err(Fallback::Reshaped);
    }
    if errors
        .iter()
        .filter(|e| clear(e))
        .ne(errors_before.iter().filter(|e| clear(e)))
    {
        return Err(Fallback::Reshaped);
    }
    plan_for(memo, Some(*edit), index, node, errors)
}

/// An edit that binds names to something else, found by [`import_to_rebind`] or
/// [`function_renamed`].
struct Rebinding {
    rebound: Rebound,
    /// The units whose bodies name what was or is now bound, in order.
    readers: Vec<u32>,
    /// The new tree's syntax errors.
    errors: Vec<Range>,
    imports: ImportContext,
}

/// What an edit binds anew.
enum Rebound {
    /// Names an import at module level now binds to something else, and to what (`None`: to
    /// nothing).
    Module(Vec<(Rc<str>, Option<Rc<str>>)>),
    /// The function that unit `unit` defines is now called `name`.
    Function { unit: usize, name: Rc<str> },
    /// The attribute `old` that a class body sets is now called `new`.
    Attribute {
        class: usize,
        old: Rc<str>,
        new: Rc<str>,
    },
    /// The module-level statement starting at `statement` binds `new` (`old` before) to a
    /// literal: it is walked again.
    Constant {
        statement: usize,
        old: Rc<str>,
        new: Rc<str>,
    },
}

/// The module-level statement that holds the edit, in the new tree.
fn top_level_statement_at<'t>(root: Node<'t>, edit: &Edit) -> Option<Node<'t>> {
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .find(|s| s.start_byte() <= edit.start && edit.new_end <= s.end_byte())
}

/// The text of a module-level statement (its range in the new tree) before the edit, and that
/// text parsed on its own (a statement at module level reads the same anywhere), when it is one
/// statement that parses cleanly.
fn statement_before_the_edit<'m>(
    memo: &'m Memo,
    edit: &Edit,
    (start, end): Range,
) -> Result<(&'m str, Tree), Fallback> {
    let old_end = end + edit.old_end - edit.new_end;
    let old_text = memo
        .text
        .get(start..old_end)
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let old_tree = crate::lang::parse(Language::Python, old_text, None)
        .filter(|tree| !tree.root_node().has_error() && tree.root_node().named_child_count() == 1)
        .ok_or(Fallback::OutsideFunctionBodies)?;
    Ok((old_text, old_tree))
}

/// The new tree's syntax errors, when the errors outside `start..end` (a range of the new text
/// that holds the edit) are where they were, and none reaches into it. Errors inside it may
/// come and go.
fn errors_around(
    memo: &Memo,
    edit: &Edit,
    root: Node,
    range: Range,
) -> Result<Vec<Range>, Fallback> {
    let errors = syntax_errors(root);
    let now = errors_outside(errors.iter().copied(), range);
    let before = errors_outside(memo.errors.iter().map(|&r| edit.range(r)), range);
    if now.is_none() || now != before {
        return Err(Fallback::Reshaped);
    }
    Ok(errors)
}

/// The errors that lie outside `from..to`, or `None` when one reaches into it from outside.
fn errors_outside(errors: impl Iterator<Item = Range>, (from, to): Range) -> Option<Vec<Range>> {
    let mut outside = Vec::new();
    for (start, end) in errors {
        if end <= from || to <= start {
            outside.push((start, end));
        } else if start < from || to < end {
            return None;
        }
    }
    Some(outside)
}

/// When the edit is inside import statements at module level, finds the names they now bind to
/// something else and the functions that name them, and checks, without changing `memo`, that
/// walking those functions again over the module's names, set again, can give what a whole
/// analysis would. The edit's lines, widened to the top-level statements they hold before and
/// after the edit, hold nothing but imports and lines of names and keywords, which bind
/// nothing (`from hashlib import`, before the name to import is typed; an unfinished line that
/// the parser reads into the import after it is one import); the statements and syntax errors
/// outside them are those there were; no `*` is imported; no other code names the names
/// outside a function body (module-level code, a class body, a decorator, a default or another
/// binding of the name would have to be walked again too); every module a fix can import is
/// bound as it was, and a new import line goes where it went unless no finding kept has a fix
/// adding one. What the old statements bound is read from the old tree. `Err` says why not.
fn import_to_rebind(
    memo: &Memo,
    catalogue: &Catalogue,
    edit: &Edit,
    text: &str,
    tree: &Tree,
) -> Result<Rebinding, Fallback> {
    let root = tree.root_node();
    let (old_root, old_text) = (memo.tree.root_node(), memo.text.as_str());
    let moved = |old: usize| old + edit.new_end - edit.old_end;
    // The edit's whole lines, in the new text, then widened until no statement of either tree
    // reaches out of them.
    let line_start = text
        .get(..edit.start)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |n| n + 1);
    let line_end = |text: &str, at: usize| text.get(at..)?.find('\n').map(|n| at + n);
    let (mut start, mut end) = (
        line_start,
        line_end(text, edit.new_end).unwrap_or(text.len()),
    );
    fn overlapping(root: Node<'_>, (from, to): Range) -> Vec<Node<'_>> {
        let mut cursor = root.walk();
        root.named_children(&mut cursor)
            .filter(|s| s.start_byte() < to && from < s.end_byte())
            .collect()
    }
    let (mut old, mut new) = (Vec::new(), Vec::new());
    let mut settled = false;
    for _ in 0..8 {
        let old_end = end + edit.old_end - edit.new_end;
        (old, new) = (
            overlapping(old_root, (start, old_end)),
            overlapping(root, (start, end)),
        );
        let starts = old.iter().chain(&new).map(Node::start_byte);
        let ends = old
            .iter()
            .map(|s| moved(s.end_byte().max(edit.old_end)))
            .chain(new.iter().map(Node::end_byte));
        let widened = (starts.fold(start, usize::min), ends.fold(end, usize::max));
        settled = widened == (start, end);
        if settled {
            break;
        }
        (start, end) = widened;
    }
    let is_import = |s: &Node| matches!(kind_of(*s), "import_statement" | "import_from_statement");
    let binds_nothing = |s: &Node| bare(*s) || kind_of(*s) == "comment";
    if !settled
        || old
            .iter()
            .chain(&new)
            .any(|s| !is_import(s) && !binds_nothing(s))
        || !old.iter().chain(&new).any(is_import)
        || memo.top_level() + new.len() != root.named_child_count() + old.len()
    {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let old_end = end + edit.old_end - edit.new_end;
    let errors = errors_around(memo, edit, root, (start, end))?;
    let touches = |span: &Span| span.start_byte < old_end && start < span.end_byte;
    if memo
        .findings
        .iter()
        .any(|(finding, _)| touches(&finding.span))
    {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let bindings = |statements: &[Node], text: &str| {
        let mut bound: Vec<(Rc<str>, Rc<str>)> = Vec::new();
        for statement in statements.iter().filter(|s| is_import(s)) {
            let star = import_bindings(catalogue, *statement, text, |name, qname| {
                bound.push((name.into(), qname));
            });
            if star.is_some() {
                return None;
            }
        }
        Some(bound)
    };
    let (Some(before), Some(after)) = (bindings(&old, old_text), bindings(&new, text)) else {
        return Err(Fallback::OutsideFunctionBodies);
    };
    // With a `*` import, a name no longer bound would be looked up there.
    if !memo.star_imports.is_empty() {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let last = |bound: &[(Rc<str>, Rc<str>)], name: &str| {
        bound
            .iter()
            .rev()
            .find(|(bound, _)| &**bound == name)
            .map(|(_, qname)| qname.clone())
    };
    let mut rebound: Vec<(Rc<str>, Option<Rc<str>>)> = Vec::new();
    for (name, _) in before.iter().chain(&after) {
        let now = last(&after, name);
        if !rebound.iter().any(|(seen, _)| seen == name) && last(&before, name) != now {
            rebound.push((name.clone(), now));
        }
    }
    // A new import line goes where it went, or no finding kept has a fix adding one (the
    // functions walked again build theirs where it goes now).
    let imports = import_context(root, text);
    let mut imports_before = memo.imports.clone();
    imports_before.insert_at = edit.start(imports_before.insert_at);
    if !imports.binds_what_fixes_import(&imports_before, catalogue)
        || (imports.insert_at != imports_before.insert_at && a_fix_imports(memo))
    {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let names: Vec<&str> = rebound.iter().map(|(name, _)| &**name).collect();
    let readers = units_naming(memo, edit, text, root, &names, (start, end))?;
    Ok(Rebinding {
        rebound: Rebound::Module(rebound),
        readers,
        errors,
        imports,
    })
}

/// When the edit only changed the name of the function unit defines (at module level or in a
/// class body), the unit and that name, and the functions that name it before or after the
/// edit; checks, without changing `memo`, that walking those functions again can give what a
/// whole analysis would. As for an import, no code outside function bodies may name it (a
/// decorator, a class body, another definition of that name…). A special method (`__init__`,
/// `__call__`, …) is called without being named, so renaming one, or to one, is not taken.
fn function_renamed(
    memo: &Memo,
    edit: &Edit,
    text: &str,
    tree: &Tree,
) -> Result<Rebinding, Fallback> {
    let root = tree.root_node();
    let index = memo
        .units
        .iter()
        .position(|unit| unit.start < edit.start && edit.old_end <= unit.body)
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let unit = &memo.units[index];
    let function = function_at(root, unit.start)
        .filter(|function| function.end_byte() == edit.end(unit.end))
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let name = function
        .child_by_field_name("name")
        .filter(|name| name.start_byte() <= edit.start && edit.new_end <= name.end_byte())
        .ok_or(Fallback::OutsideFunctionBodies)?;
    if !only_name_characters(memo, edit, text) {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let errors = errors_if_the_rest_agrees(memo, edit, root, signature_is_clean(function))?;
    let old_name = memo.summaries.functions[unit.function].name.clone();
    let new_name = node_text(name, text);
    if special_name(&old_name) || special_name(new_name) || !memo.star_imports.is_empty() {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let readers = units_naming(
        memo,
        edit,
        text,
        root,
        &[&old_name, new_name],
        (name.start_byte(), name.end_byte()),
    )?;
    Ok(Rebinding {
        rebound: Rebound::Function {
            unit: index,
            name: new_name.into(),
        },
        readers,
        errors,
        imports: import_context(root, text),
    })
}

/// When the edit only changed the name a class body assigns (`timeout = 30` in `class
/// Client:`), that class attribute's old and new name and the functions that name either;
/// checks, without changing `memo`, that walking those functions again can give what a whole
/// analysis would. As for a function renamed, no code outside function bodies may name it
/// (another class body among it); nor may any function set an attribute of either name (the
/// class's value is then merged from their writes), and a string value must not be a secret by
/// either name.
fn class_attribute_renamed(
    memo: &Memo,
    catalogue: &Catalogue,
    edit: &Edit,
    text: &str,
    tree: &Tree,
) -> Result<Rebinding, Fallback> {
    let root = tree.root_node();
    // A deletion at the end of a name leaves an empty range after it.
    let target = [edit.start, edit.start.saturating_sub(1)]
        .into_iter()
        .filter_map(|from| root.descendant_for_byte_range(from, edit.new_end.max(from + 1)))
        .find(|node| {
            kind_of(*node) == "identifier"
                && node.start_byte() <= edit.start
                && edit.new_end <= node.end_byte()
        })
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let assignment = target
        .parent()
        .filter(|a| kind_of(*a) == "assignment" && a.child_by_field_name("left") == Some(target))
        .filter(|a| {
            a.child_by_field_name("right")
                .is_none_or(|right| kind_of(right) != "assignment")
        })
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let class_node = assignment
        .parent()
        .filter(|s| kind_of(*s) == "expression_statement" && s.named_child_count() == 1)
        .and_then(|statement| statement.parent())
        .filter(|block| kind_of(*block) == "block")
        .and_then(|block| block.parent())
        .filter(|class| kind_of(*class) == "class_definition")
        .ok_or(Fallback::OutsideFunctionBodies)?;
    if !only_name_characters(memo, edit, text) {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let errors = errors_if_the_rest_agrees(memo, edit, root, !assignment.has_error())?;
    let &class = memo
        .summaries
        .class_by_node
        .get(&class_node.start_byte())
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let new = node_text(target, text);
    let old = memo
        .text
        .get(target.start_byte()..target.end_byte() + edit.old_end - edit.new_end)
        .ok_or(Fallback::OutsideFunctionBodies)?;
    let set_by_a_function = memo.effects.iter().any(|(_, effect)| {
        matches!(effect, Effect::Attr { name, .. } if **name == *old || **name == *new)
    });
    let attrs = &memo.summaries.classes[class].attrs;
    let a_secret = attrs
        .get(old)
        .and_then(Sym::str_value)
        .is_some_and(|value| {
            [old, new]
                .iter()
                .any(|name| is_a_named_secret(catalogue, value, name))
        });
    if special_name(old)
        || special_name(new)
        || set_by_a_function
        || a_secret
        || attrs.contains_key(new)
    {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let readers = units_naming(
        memo,
        edit,
        text,
        root,
        &[old, new],
        (target.start_byte(), target.end_byte()),
    )?;
    Ok(Rebinding {
        rebound: Rebound::Attribute {
            class,
            old: old.into(),
            new: new.into(),
        },
        readers,
        errors,
        imports: import_context(root, text),
    })
}

/// When the edit is inside a module-level statement that binds a name to a literal (`MODEL_ID =
/// "org/model"`, a prompt in a triple-quoted string, `RETRIES = 3`), before and after the edit,
/// that statement and the functions that name the old or the new name; checks, without changing
/// `memo`, that walking the statement and those functions again can give what a whole analysis
/// would. A literal reads nothing when evaluated, so the module's walk only bound the name (and
/// looked for a secret in a string); as for an import, no other code outside function bodies
/// may name it.
fn constant_edited(
    memo: &Memo,
    edit: &Edit,
    text: &str,
    tree: &Tree,
) -> Result<Rebinding, Fallback> {
    // The name a statement binds to a literal.
    fn constant_name<'s>(statement: Node, text: &'s str) -> Option<&'s str> {
        let assignment = statement.named_child(0)?;
        let (left, right) = (
            assignment.child_by_field_name("left")?,
            assignment.child_by_field_name("right")?,
        );
        let plain_string = |node: Node| {
            let mut cursor = node.walk();
            kind_of(node) == "string"
                && node
                    .named_children(&mut cursor)
                    .all(|part| kind_of(part) != "interpolation")
        };
        let literal = match kind_of(right) {
            "integer" | "float" | "true" | "false" | "none" => true,
            "concatenated_string" => {
                let mut cursor = right.walk();
                right.named_children(&mut cursor).all(plain_string)
            }
            _ => plain_string(right),
        };
        (kind_of(statement) == "expression_statement"
            && statement.named_child_count() == 1
            && kind_of(assignment) == "assignment"
            && kind_of(left) == "identifier"
            && literal)
            .then(|| node_text(left, text))
    }
    let root = tree.root_node();
    let statement = top_level_statement_at(root, edit).ok_or(Fallback::OutsideFunctionBodies)?;
    let new = constant_name(statement, text).ok_or(Fallback::OutsideFunctionBodies)?;
    let errors = errors_if_the_rest_agrees(memo, edit, root, !statement.has_error())?;
    let (start, end) = (statement.start_byte(), statement.end_byte());
    let (old_text, old_tree) = statement_before_the_edit(memo, edit, (start, end))?;
    if statements_within(memo, (start, start + old_text.len())) != Some(1) {
        return Err(Fallback::Reshaped);
    }
    let old = old_tree
        .root_node()
        .named_child(0)
        .and_then(|statement| constant_name(statement, old_text))
        .ok_or(Fallback::OutsideFunctionBodies)?;
    // With a `*` import, a name no longer bound would be looked up there.
    if special_name(old) || special_name(new) || (old != new && !memo.star_imports.is_empty()) {
        return Err(Fallback::OutsideFunctionBodies);
    }
    let readers = units_naming(memo, edit, text, root, &[old, new], (start, end))?;
    Ok(Rebinding {
        rebound: Rebound::Constant {
            statement: start,
            old: old.into(),
            new: new.into(),
        },
        readers,
        errors,
        imports: import_context(root, text),
    })
}

/// Walks one module-level statement again over the module's scope (`module`), as the module's
/// walk did; returns what it found.
fn walk_module_statement(
    memo: &mut Memo,
    statement: Node,
    module: ScopeRef,
    version: &Version,
) -> Vec<(Finding, Provenance)> {
    let Version {
        catalogue,
        text,
        lines,
        context,
        imports,
    } = version;
    let mut emitter = Emitter::new(catalogue, text, lines, Language::Python);
    emitter.imports = imports.clone();
    let mut walker = Walker::new(catalogue, text, &mut emitter, &mut memo.summaries, context);
    walker.star_imports = memo.star_imports.clone();
    walker.visit_stmt(
        statement,
        &super::Ctx {
            chain: vec![module],
            ..super::Ctx::default()
        },
    );
    drop(walker);
    emitter
        .findings
        .into_iter()
        .zip(emitter.provenance)
        .collect()
}

/// Whether a name is a special one (`__init__`, `__all__`): Python uses those without code
/// naming them.
fn special_name(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

/// The units whose bodies name one of `names` in the new text, outside `skip` (the edited
/// binding), in order; `Err` when code outside every function body names one, other than in a
/// comment.
fn units_naming(
    memo: &Memo,
    edit: &Edit,
    text: &str,
    root: Node,
    names: &[&str],
    skip: Range,
) -> Result<Vec<u32>, Fallback> {
    // Where each unit starts, where its body starts and where it ends in the new text; units
    // do not overlap.
    let mut units: Vec<(usize, usize, usize, u32)> = Vec::with_capacity(memo.units.len());
    for (id, unit) in memo.units.iter().enumerate() {
        let id = u32::try_from(id).map_err(|_| Fallback::OutsideFunctionBodies)?;
        units.push((
            edit.start(unit.start),
            edit.start(unit.body),
            edit.end(unit.end),
            id,
        ));
    }
    units.sort_unstable();
    let in_a_comment = |at: usize| {
        root.descendant_for_byte_range(at, at + 1)
            .is_some_and(|node| kind_of(node) == "comment")
    };
    let mut readers = Vec::new();
    for name in names {
        for at in occurrences(text, name) {
            if skip.0 <= at && at < skip.1 {
                continue;
            }
            let unit = units.partition_point(|&(from, ..)| from <= at);
            match unit.checked_sub(1).map(|unit| units[unit]) {
                Some((_, body, end, id)) if body <= at && at < end => readers.push(id),
                _ if in_a_comment(at) || only_names_a_module(root, at) => {}
                _ => return Err(Fallback::OutsideFunctionBodies),
            }
        }
    }
    readers.sort_unstable();
    readers.dedup();
    Ok(readers)
}

/// Whether the name at `at` is part of a module's or an imported name's path in an import
/// statement, which neither reads nor binds a variable of that name: `collections` in `from
/// collections import deque`, `from .collections import x`, `import a.collections`, `import
/// collections.abc as abc` or `from x import collections as c`. (The first name of a plain
/// `import collections.abc` binds it.)
fn only_names_a_module(root: Node, at: usize) -> bool {
    let Some(name) = root
        .descendant_for_byte_range(at, at + 1)
        .filter(|node| kind_of(*node) == "identifier" && node.start_byte() == at)
    else {
        return false;
    };
    let Some(path) = name.parent().filter(|p| kind_of(*p) == "dotted_name") else {
        return false;
    };
    let Some(parent) = path.parent() else {
        return false;
    };
    match kind_of(parent) {
        "import_from_statement" => parent.child_by_field_name("module_name") == Some(path),
        "relative_import" => true,
        "aliased_import" => parent.child_by_field_name("name") == Some(path),
        "import_statement" => path.named_child(0) != Some(name),
        _ => false,
    }
}

/// Where `name` occurs in `text` as a whole word (not inside a longer name). A name in a string
/// is found too.
fn occurrences<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = usize> + 'a {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, name.as_bytes()).filter(move |&at| {
        may_start_a_name(bytes, at) && !bytes.get(at + name.len()).is_some_and(part_of_a_name)
    })
}

fn part_of_a_name(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'_'
}

/// Whether a name can start at `at`: it is not inside a longer name. Name characters before it
/// only make it part of one when they start with a letter or `_`: the parser reads `1marshal`
/// (a typo) as a number and the name `marshal`.
fn may_start_a_name(bytes: &[u8], at: usize) -> bool {
    let before = bytes.get(..at).unwrap_or_default();
    let word = before.len()
        - before
            .iter()
            .rev()
            .take_while(|b| part_of_a_name(b))
            .count();
    !before
        .get(word)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
}

/// Analyses the text after an edit that [`import_to_rebind`] or [`function_renamed`] checked.
fn rebind(
    memo: &mut Memo,
    rebinding: Rebinding,
    edit: &Edit,
    tree: &Tree,
    version: &Version,
) -> Result<(Reuse, Vec<Finding>), NotTaken> {
    let reuse = match rebinding.rebound {
        Rebound::Module(_) => Reuse::Import,
        Rebound::Function { .. } | Rebound::Attribute { .. } => Reuse::Renamed,
        Rebound::Constant { .. } => Reuse::Constant,
    };
    // Only a text without syntax errors can be taken up again (see [`Session::earlier`]).
    let copy = memo.errors.is_empty().then(|| Box::new(memo.snapshot()));
    rebind_and_walk(memo, rebinding, edit, tree, version).map_err(|why| NotTaken {
        why,
        memo_intact: false,
        copy,
    })?;
    let findings = memo.findings.iter().map(|(f, _)| f.clone()).collect();
    Ok((reuse, findings))
}

/// Moves what the memo holds, binds the names again, and walks the functions that name them
/// again, then the functions that read what those now pass on differently. `Err` when the whole
/// file must be analysed again (the memo is then half-updated).
fn rebind_and_walk(
    memo: &mut Memo,
    rebinding: Rebinding,
    edit: &Edit,
    tree: &Tree,
    version: &Version,
) -> Result<(), Fallback> {
    let Rebinding {
        rebound,
        readers,
        errors,
        imports,
    } = rebinding;
    memo.shift(edit);
    memo.errors.clone_from(&errors);
    memo.imports = imports;
    // Every unit's walk starts from the module's scope.
    let module = memo
        .units
        .first()
        .and_then(|unit| unit.chain.first())
        .cloned();
    match rebound {
        Rebound::Module(rebound) => {
            if let Some(module) = module {
                let mut module = module.borrow_mut();
                for (name, qname) in rebound {
                    match qname {
                        Some(qname) => module.vars.insert(name, Sym::named(qname)),
                        None => module.vars.remove(&name),
                    };
                }
            }
        }
        Rebound::Function { unit, name } => {
            let (function, class) = (memo.units[unit].function, memo.units[unit].class);
            let old = std::mem::replace(&mut memo.summaries.functions[function].name, name.clone());
            // What the definition binds its name to, as the walk binds it.
            match class {
                Some(class) => {
                    let methods = &mut memo.summaries.classes[class].methods;
                    if methods.get(&old) == Some(&function) {
                        methods.remove(&old);
                    }
                    methods.insert(name, function);
                }
                None => {
                    if let Some(module) = module {
                        let mut module = module.borrow_mut();
                        module.vars.remove(&old);
                        let qname = Some(super::concat(&["<local>.", &name]));
                        let shape = Shape::Function(function);
                        module.vars.insert(
                            name,
                            Sym {
                                qname,
                                shape,
                                ..Sym::default()
                            },
                        );
                    }
                }
            }
        }
        Rebound::Attribute { class, old, new } => {
            let attrs = &mut memo.summaries.classes[class].attrs;
            if let Some(value) = attrs.remove(&old) {
                attrs.insert(new, value);
            }
        }
        Rebound::Constant {
            statement,
            old,
            new,
        } => {
            let root = tree.root_node();
            let mut cursor = root.walk();
            let node = root
                .named_children(&mut cursor)
                .find(|node| node.start_byte() == statement)
                .ok_or(Fallback::Reshaped)?;
            let module = module.ok_or(Fallback::OutsideFunctionBodies)?;
            if old != new {
                module.borrow_mut().vars.remove(&old);
            }
            // What the module's walk found in the statement (a secret) is found again.
            let inside = |finding: &Finding| {
                node.start_byte() <= finding.span.start_byte
                    && finding.span.end_byte <= node.end_byte()
            };
            memo.findings
                .retain(|(finding, provenance)| provenance.owner != MODULE || !inside(finding));
            let found = walk_module_statement(memo, node, module, version);
            memo.findings.extend(found);
            sort(&mut memo.findings);
        }
    }
    // Those functions may pass on something else, as a function edited may; the functions
    // reading that are walked once all of them have been, and must pass on what they did.
    let mut walked = readers.clone();
    let mut next = Vec::new();
    for &reader in &readers {
        let plan = reader_to_rewalk(memo, reader, tree, &errors)?;
        next.extend(reanalyse_unit(memo, plan, true, version)?);
    }
    next.sort_unstable();
    next.dedup();
    walk_readers_again(memo, &next, tree, &errors, version)?;
    walked.extend(next);
    walked.sort_unstable();
    for (finding, provenance) in &mut memo.findings {
        if walked.binary_search(&provenance.owner).is_err() {
            render_again(finding, provenance, version.text, version.lines);
        }
    }
    memo.text = version.text.to_string();
    Ok(())
}

/// Whether an edit in the signature of unit `index` (`function` in the new tree) only changed
/// what the body's walk alone reads: a name inside the annotation of a parameter (the
/// parameter holds an instance of that type) or of what the function returns (nothing reads
/// it), or the name of a parameter that no call can pass by keyword (neither its old nor its
/// new name is written as a keyword, `name=`, or as a string, which a `**{"name": …}` could be,
/// anywhere outside the parameters). The edit adds or removes name characters only, and the
/// signature parses cleanly before and after it, so the parameters are the same but for that
/// name: the same number, and the same ones with defaults.
fn only_in_the_signature(
    memo: &Memo,
    index: usize,
    edit: &Edit,
    text: &str,
    function: Node,
) -> bool {
    let unit = &memo.units[index];
    let clean_before = memo
        .errors
        .iter()
        .all(|&(from, to)| to <= unit.start || unit.body <= from);
    let Some(parameters) = function.child_by_field_name("parameters") else {
        return false;
    };
    if !only_name_characters(memo, edit, text) || !clean_before || !signature_is_clean(function) {
        return false;
    }
    let holds_the_edit = |node: Option<Node>| {
        node.is_some_and(|n| n.start_byte() <= edit.start && edit.new_end <= n.end_byte())
    };
    let mut in_annotation = holds_the_edit(function.child_by_field_name("return_type"));
    let mut renamed = None;
    let (mut names, mut defaults) = (Vec::new(), Vec::new());
    let mut cursor = parameters.walk();
    for param in parameters.named_children(&mut cursor) {
        in_annotation |= holds_the_edit(param.child_by_field_name("type"));
        if let Some(name) = param_name_node(param) {
            if holds_the_edit(Some(name)) {
                renamed = Some(names.len());
            }
            names.push(node_text(name, text));
            defaults.push(param.child_by_field_name("value").is_some());
        }
    }
    let info = &memo.summaries.functions[unit.function];
    let same_but = |renamed: Option<usize>| {
        names.len() == info.params.len()
            && (0..names.len()).all(|i| Some(i) == renamed || names[i] == &*info.params[i])
    };
    let (Some(before), Some(after)) = (
        text.get(..parameters.start_byte()),
        text.get(parameters.end_byte()..),
    ) else {
        return false;
    };
    let outside = [before, after];
    let signature_fits = match renamed {
        _ if in_annotation => same_but(None),
        Some(at) => {
            same_but(Some(at))
                && ![names[at], &*info.params[at]]
                    .iter()
                    .any(|name| outside.iter().any(|part| passed_by_keyword(part, name)))
        }
        None => false,
    };
    signature_fits
        && defaults
            .into_iter()
            .eq(info.param_defaults.iter().map(Option::is_some))
}

/// Whether `text` may pass an argument named `name` by keyword: `name=` (not `name==`) after
/// something that is not part of a name, or `name` quoted.
fn passed_by_keyword(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, name.as_bytes()).any(|at| {
        let end = at + name.len();
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if !may_start_a_name(bytes, at) {
            return false;
        }
        let quoted = matches!(before, Some(b'"' | b'\'')) && bytes.get(end) == before.as_ref();
        let rest = bytes[end..].trim_ascii_start();
        let keyword = matches!(rest, [b'=', next, ..] if *next != b'=') || rest == b"=";
        keyword || quoted
    })
}

/// Walks again each of `readers` (functions that read what a re-walk changed); each must pass
/// on what it did before.
fn walk_readers_again(
    memo: &mut Memo,
    readers: &[u32],
    tree: &Tree,
    errors: &[Range],
    version: &Version,
) -> Result<(), Fallback> {
    for &reader in readers {
        let plan = reader_to_rewalk(memo, reader, tree, errors)?;
        reanalyse_unit(memo, plan, false, version)?;
    }
    Ok(())
}

/// Plans to walk again `memo`'s unit `index` (a function reading what a re-walk changed), whose
/// text is unchanged; the tree's other checks have passed for the unit the edit is inside.
fn reader_to_rewalk<'t>(
    memo: &Memo,
    unit: u32,
    tree: &'t Tree,
    errors: &[Range],
) -> Result<Plan<'t>, Fallback> {
    let index = unit as usize;
    let reader = memo
        .units
        .get(index)
        .ok_or(Fallback::PassesOnSomethingElse)?;
    if reader.stale {
        return Err(Fallback::StaleFunction);
    }
    let node = function_at(tree.root_node(), reader.start)
        .filter(|node| node.end_byte() == reader.end)
        .ok_or(Fallback::Reshaped)?;
    plan_for(memo, None, index, node, errors.to_vec())
}

/// The rest of a [`Plan`] for unit `index`: what it defines, unless code outside it wrote into
/// that.
fn plan_for<'t>(
    memo: &Memo,
    edit: Option<Edit>,
    index: usize,
    node: Node<'t>,
    errors: Vec<Range>,
) -> Result<Plan<'t>, Fallback> {
    let id = u32::try_from(index).map_err(|_| Fallback::OutsideFunctionBodies)?;
    let function = memo.units[index].function;
    let nested: Vec<usize> = (0..memo.summaries.functions.len())
        .filter(|&f| f != function && memo.summaries.functions[f].unit == id)
        .collect();
    let classes: Vec<usize> = (0..memo.summaries.classes.len())
        .filter(|&c| memo.summaries.classes[c].unit == id)
        .collect();
    let escaped = memo.effects.iter().any(|(owner, effect)| {
        *owner != id
            && match effect {
                Effect::Param { callee, .. } => nested.contains(callee),
                Effect::Attr { class, .. } => classes.contains(class),
            }
    });
    if escaped {
        return Err(Fallback::Escaped);
    }
    Ok(Plan {
        edit,
        index,
        id,
        node,
        errors,
        nested,
        classes,
    })
}

/// Re-walks the unit `plan` found, and returns the units that read what it now passes on
/// differently (only where `changes_allowed`: the unit the edit is inside); `Err` when the whole
/// file must be analysed again (the memo is then half-updated: it is dropped).
fn reanalyse_unit(
    memo: &mut Memo,
    plan: Plan,
    changes_allowed: bool,
    version: &Version,
) -> Result<Vec<u32>, Fallback> {
    let Plan {
        edit,
        index,
        id: unit_id,
        node,
        errors,
        nested,
        classes,
    } = plan;
    let function = memo.units[index].function;
    if let Some(edit) = &edit {
        memo.shift(edit);
        // A parameter renamed (see [`only_in_the_signature`]): a call binds the new name.
        if let Some(parameters) = node.child_by_field_name("parameters") {
            let mut cursor = parameters.walk();
            let names: Vec<&str> = parameters
                .named_children(&mut cursor)
                .filter_map(|param| param_name(param, version.text))
                .collect();
            let params = &mut memo.summaries.functions[function].params;
            if !names.iter().copied().eq(params.iter().map(|p| &**p)) {
                *params = names.into_iter().map(Rc::from).collect();
            }
        }
    }
    let before = take_returns(&mut memo.summaries.functions[function]);
    let nested_before: Vec<Returns> = nested
        .iter()
        .map(|&f| returns_of(&memo.summaries.functions[f]))
        .collect();
    let unit = UnitWalk {
        id: unit_id,
        function,
        nested: &nested,
        classes: &classes,
        node,
        version,
    };
    unit.forget_what_it_defines(&mut memo.summaries);
    let (old_effects, others): (Vec<_>, Vec<_>) = std::mem::take(&mut memo.effects)
        .into_iter()
        .partition(|(owner, _)| *owner == unit_id);
    memo.effects = others;
    memo.findings
        .retain(|(_, provenance)| provenance.owner != unit_id);

    let (emitter, effects) = unit.walk(memo);
    let after = take_returns(&mut memo.summaries.functions[function]);
    // What the unit defines returns something else: that matters where code outside read it
    // (a function defined inside it can be handed out: `outer()()`), which is walked again.
    let mut readers: Vec<u32> = Vec::new();
    let returns_changed = std::iter::once((function, after != before)).chain(
        nested
            .iter()
            .zip(&nested_before)
            .map(|(&f, before)| (f, returns_of(&memo.summaries.functions[f]) != *before)),
    );
    for (f, changed) in returns_changed {
        if changed && let Some(outside) = memo.return_readers.get(&f) {
            readers.extend(outside);
        }
    }
    // A finding another owner also reports belongs to whichever a whole walk reaches first.
    let shared = emitter.findings.iter().any(|new| {
        memo.findings.iter().any(|(kept, _)| {
            kept.rule == new.rule
                && (kept.span.start_byte, kept.span.end_byte)
                    == (new.span.start_byte, new.span.end_byte)
        })
    });
    // The attributes this walk read (the check further down forgets the reads).
    let attributes_read: Vec<Rc<str>> = memo
        .summaries
        .classes
        .iter()
        .flat_map(|class| &class.readers)
        .filter(|(_, readers)| readers.contains(&unit_id))
        .map(|(name, _)| name.clone())
        .collect();
    // Attributes that only this unit sets may change (typing `self.cache = data` changes one
    // with every keystroke), and their readers are walked again; what it passes to parameters
    // must stay the same.
    let attributes = if effects == old_effects {
        Some(Vec::new())
    } else {
        parameter_changes(memo, unit_id, &old_effects, &effects, &mut readers).and_then(|()| {
            attribute_changes(
                memo,
                unit_id,
                &attributes_read,
                &classes,
                &old_effects,
                &effects,
                &mut readers,
            )
        })
    };
    readers.sort_unstable();
    readers.dedup();
    let readers_fine = readers.is_empty() || (changes_allowed && !readers.contains(&MODULE));
    let same = !shared && !memo.units[index].stale && readers_fine;
    let Some(attributes) = attributes.filter(|_| same) else {
        return Err(Fallback::PassesOnSomethingElse);
    };
    // The readers pass on what they did before, but what they pass to this unit's parameters
    // may rest on its output from before the edit.
    if !readers.is_empty() && feeds_its_own_parameters(memo, unit_id, &effects) {
        return Err(Fallback::ReadsBackItsOwnOutput);
    }
    // Whose returns this walk read, taken before the check below forgets the reads.
    let returns_read: Vec<usize> = (0..memo.summaries.functions.len())
        .filter(|&f| {
            let info = &memo.summaries.functions[f];
            info.unit != unit_id
                && (info.return_readers.contains(&unit_id)
                    || info.walking_readers.contains(&unit_id))
        })
        .collect();
    let writers = unit.reads_back_nothing_of_its_own(memo, &effects, &after)?;
    memo.reads.0.insert(unit_id, writers);
    read_again(&mut memo.return_readers, unit_id, returns_read);
    read_again(&mut memo.attribute_readers, unit_id, attributes_read);
    // What the attributes the unit alone sets now hold, as a whole analysis would find.
    for (class, name) in attributes {
        let attrs = &mut memo.summaries.classes[class].attrs;
        match written(writes(&effects, class, &name), &name) {
            Some(value) => attrs.insert(name, value),
            None => attrs.remove(&name),
        };
    }
    let info = &mut memo.summaries.functions[function];
    (
        info.returns,
        info.return_qname,
        info.return_shape,
        info.return_konst,
    ) = after;
    memo.units[index].end = node.end_byte();
    memo.errors = errors;
    memo.effects.extend(effects);
    memo.findings
        .extend(emitter.findings.into_iter().zip(emitter.provenance));
    sort(&mut memo.findings);
    // A reader walked again after the edit's unit finds the rest rendered for this text.
    if edit.is_some() {
        for (finding, provenance) in &mut memo.findings {
            if provenance.owner != unit_id {
                render_again(finding, provenance, version.text, version.lines);
            }
        }
        memo.text = version.text.to_string();
    }
    Ok(readers)
}

/// Whether code that reads what `unit` passes on, directly or through other code (what it
/// returns, sets or passes to parameters: `effects` are the unit's own, the rest in `memo`),
/// passes a function the unit defines an argument with a taint or a name. (Whether an argument
/// is safe, a constant or sanitised, is not followed: no more than the loops through parameters
/// in the module's notes.)
fn feeds_its_own_parameters(memo: &Memo, unit: u32, effects: &[(u32, Effect)]) -> bool {
    let functions = &memo.summaries.functions;
    // (caller, the unit of the function called, whether the argument has a taint or a name)
    let arguments: Vec<(u32, u32, bool)> = memo
        .effects
        .iter()
        .chain(effects)
        .filter_map(|(owner, effect)| match effect {
            Effect::Param {
                callee,
                taint,
                qname,
                ..
            } => Some((
                *owner,
                functions[*callee].unit,
                taint.is_some() || qname.is_some(),
            )),
            Effect::Attr { .. } => None,
        })
        .collect();
    let calls: Vec<(u32, u32)> = arguments
        .iter()
        .map(|&(owner, callee, _)| (owner, callee))
        .collect();
    let reached = memo.reads.reached_from(unit, &calls);
    arguments.iter().any(|&(owner, callee, carries)| {
        carries && callee == unit && owner != unit && reached.contains(&owner)
    })
}

/// Records that `unit`, walked again, now reads `read` (and nothing else) in a map of readers
/// (sorted lists of units).
fn read_again<K: std::hash::Hash + Eq>(
    readers_of: &mut HashMap<K, Vec<u32>>,
    unit: u32,
    read: impl IntoIterator<Item = K>,
) {
    readers_of.retain(|_, readers| {
        readers.retain(|&reader| reader != unit);
        !readers.is_empty()
    });
    for what in read {
        let readers = readers_of.entry(what).or_default();
        if let Err(at) = readers.binary_search(&unit) {
            readers.insert(at, unit);
        }
    }
}

/// When a re-walk changed the taint of what `unit` passes to parameters of functions outside
/// it (`now` against `before`, its effects), merges again the taints every call passes each
/// such parameter, as a whole analysis settles them (the one that starts first), and adds to
/// `readers` the units of the functions whose parameter now holds another.
///
/// The body of a function reads whether every call passed something safe, and the qualified
/// name one passed, as far as the walk has merged them when it reaches the body: in the walk's
/// order, which the session does not know (a call can walk the function's body ahead, between
/// two calls of the unit). So `None` when what the unit passes such a parameter changed in more
/// than its taint, unless no call passes the parameter anything safe or named. Also `None` when
/// two taints start at the same place (the first walked wins), when what the parameter held
/// before the edit was not the merge of the calls, and when the function is defined inside the
/// unit (its walk merged those itself).
fn parameter_changes(
    memo: &mut Memo,
    unit: u32,
    before: &[(u32, Effect)],
    now: &[(u32, Effect)],
    readers: &mut Vec<u32>,
) -> Option<()> {
    let parameters = |effects: &[(u32, Effect)]| -> Vec<(usize, usize)> {
        effects
            .iter()
            .filter_map(|(_, effect)| match effect {
                Effect::Param { callee, index, .. } => Some((*callee, *index)),
                Effect::Attr { .. } => None,
            })
            .collect()
    };
    let mut changed = parameters(before);
    changed.extend(parameters(now));
    changed.sort_unstable();
    changed.dedup();
    changed
        .retain(|&(callee, index)| !passed(before, callee, index).eq(passed(now, callee, index)));
    for (callee, index) in changed {
        let info = &memo.summaries.functions[callee];
        if info.unit == unit {
            return None;
        }
        // The unit's own effects are out of `memo.effects` while it is walked again.
        let others = || passed(&memo.effects, callee, index);
        let untainted = |effects| passed(effects, callee, index).map(|p| (p.safe, p.qname));
        let only_taints_changed = untainted(before).eq(untainted(now));
        let nothing_safe_or_named = || {
            others()
                .chain(passed(before, callee, index))
                .chain(passed(now, callee, index))
                .all(|p| !p.safe && p.qname.is_none())
        };
        if !only_taints_changed && !nothing_safe_or_named() {
            return None;
        }
        let held = info.param_summary(index)?;
        if merged(others().chain(passed(before, callee, index)))? != (held.taint.clone(), held.safe)
        {
            return None;
        }
        let (taint, safe) = merged(others().chain(passed(now, callee, index)))?;
        let owner = info.unit;
        if taint != held.taint {
            readers.push(owner);
        }
        let qname = held.qname;
        memo.summaries.functions[callee]
            .set_param_summary(index, ParamSummary { taint, safe, qname });
    }
    Some(())
}

/// What one call passes a parameter (see [`Effect::Param`]).
#[derive(Clone, Copy, PartialEq)]
struct Passed<'e> {
    taint: &'e Option<Rc<Taint>>,
    safe: bool,
    qname: &'e Option<Rc<str>>,
}

/// What the calls among `effects` pass to parameter `index` of `callee`, in order.
fn passed(
    effects: &[(u32, Effect)],
    callee: usize,
    index: usize,
) -> impl Iterator<Item = Passed<'_>> + Clone {
    effects.iter().filter_map(move |(_, effect)| match effect {
        Effect::Param {
            callee: c,
            index: i,
            taint,
            safe,
            qname,
        } if (*c, *i) == (callee, index) => Some(Passed {
            taint,
            safe: *safe,
            qname,
        }),
        _ => None,
    })
}

/// The taint a parameter holds after the calls `passed`, and whether every one passed
/// something safe (see `Walker::record_param_taint`); `None` when two taints start at the same
/// place, where the first walked would win.
fn merged<'e>(
    passed: impl Iterator<Item = Passed<'e>>,
) -> Option<(Option<Rc<Taint>>, Option<bool>)> {
    let (mut taint, mut all_safe): (Option<Rc<Taint>>, Option<bool>) = (None, None);
    for passed in passed {
        if let (Some(new), Some(held)) = (passed.taint, &taint)
            && new.range == held.range
            && new != held
        {
            return None;
        }
        if Sym::earlier_taint(passed.taint, &taint) {
            taint.clone_from(passed.taint);
        }
        all_safe = Some(passed.safe && all_safe.unwrap_or(true));
    }
    Some((taint, all_safe))
}

/// When a re-walk changed attribute writes (`now` against `before`, the effects of `unit`),
/// the attributes of names that no other code sets and no class has as a method (reads of a
/// method are not recorded): the (class, name) pairs whose value must be set again, those of
/// the classes the unit defines aside (its walk set them); the other units that read an
/// attribute of such a name in the last analysis are added to `readers`. `None` when an
/// attribute's value before was not the unit's writes alone (a class body set it too). An
/// attribute the unit reads itself in this walk (`read_now`) is not taken: the walk read its
/// value from before the edit.
fn attribute_changes(
    memo: &Memo,
    unit: u32,
    read_now: &[Rc<str>],
    nested_classes: &[usize],
    before: &[(u32, Effect)],
    now: &[(u32, Effect)],
    readers: &mut Vec<u32>,
) -> Option<Vec<(usize, Rc<str>)>> {
    let mut changed: Vec<(usize, Rc<str>)> = before
        .iter()
        .chain(now)
        .filter_map(|(_, effect)| match effect {
            Effect::Attr { class, name, .. } => Some((*class, name.clone())),
            Effect::Param { .. } => None,
        })
        .collect();
    changed.sort_unstable();
    changed.dedup();
    changed.retain(|(class, name)| !writes(before, *class, name).eq(writes(now, *class, name)));
    for (class, name) in &changed {
        // The unit's own reads are those of this walk: its last walk's are out of date.
        if let Some(others) = memo.attribute_readers.get(name) {
            readers.extend(others.iter().filter(|&&reader| reader != unit));
        }
        // The unit's own effects are out of `memo.effects` while it is walked again.
        let set_elsewhere = memo
            .effects
            .iter()
            .any(|(_, effect)| matches!(effect, Effect::Attr { name: other, .. } if other == name));
        let a_method = memo
            .summaries
            .classes
            .iter()
            .any(|class| class.methods.contains_key(name));
        let only_these_writes = nested_classes.contains(class)
            || memo.summaries.classes[*class].attrs.get(name)
                == written(writes(before, *class, name), name).as_ref();
        if read_now.contains(name) || set_elsewhere || a_method || !only_these_writes {
            return None;
        }
    }
    changed.retain(|(class, _)| !nested_classes.contains(class));
    Some(changed)
}

/// The values `effects` write into `class.name`, in order.
fn writes<'e>(
    effects: &'e [(u32, Effect)],
    class: usize,
    name: &'e str,
) -> impl Iterator<Item = &'e Sym> + 'e {
    effects.iter().filter_map(move |(_, effect)| match effect {
        Effect::Attr {
            class: written,
            name: attribute,
            value,
        } if *written == class && **attribute == *name => Some(value),
        _ => None,
    })
}

/// What an attribute holds after these writes, and nothing before them.
fn written<'e>(values: impl Iterator<Item = &'e Sym>, name: &str) -> Option<Sym> {
    let mut class = ClassInfo::default();
    for value in values {
        class.set_attr(name, value.clone());
    }
    class.attrs.remove(name)
}

/// The unit a session walks again, what it defines, and what its walks need.
struct UnitWalk<'a, 't> {
    id: u32,
    function: usize,
    nested: &'a [usize],
    classes: &'a [usize],
    node: Node<'t>,
    version: &'a Version<'a>,
}

/// The new version of the text, as every re-walk after one edit reads it.
struct Version<'a> {
    catalogue: &'a Catalogue,
    text: &'a str,
    lines: &'a LineIndex,
    context: &'a FileContext<'a>,
    imports: ImportContext,
}

impl<'a, 't> UnitWalk<'a, 't> {
    /// Forgets what the unit's last walk taught about the functions and classes it defines.
    fn forget_what_it_defines(&self, summaries: &mut Summaries) {
        for &f in self.nested {
            let old = &summaries.functions[f];
            summaries.functions[f] = FunctionInfo {
                name: old.name.clone(),
                unit: old.unit,
                ..FunctionInfo::default()
            };
        }
        for &c in self.classes {
            let class = &mut summaries.classes[c];
            class.attrs.clear();
            class.methods.clear();
            class.missed.clear();
            class.readers.clear();
            class.stale_readers.clear();
        }
    }

    /// Walks the unit over `memo`'s summaries (what it read is recorded in them); returns what
    /// it found and its effects. Attributes it set on other units' classes go back to what
    /// they were.
    fn walk(&self, memo: &mut Memo) -> (Emitter<'a>, Vec<(u32, Effect)>) {
        let Version {
            catalogue,
            text,
            lines,
            context,
            imports,
        } = self.version;
        let mut emitter = Emitter::new(catalogue, text, lines, Language::Python);
        emitter.imports = imports.clone();
        let mut walker = Walker::new(catalogue, text, &mut emitter, &mut memo.summaries, context);
        walker.star_imports = memo.star_imports.clone();
        walker.units = std::mem::take(&mut memo.units);
        walker.deferred.module_done = true;
        walker.undo = Some(Undo::default());
        walker.walk_unit_again(self.id, self.node);
        let Walker {
            units,
            effects,
            undo,
            ..
        } = walker;
        memo.units = units;
        let undo = undo.unwrap_or_default();
        for (class, name, value) in undo.attrs.into_iter().rev() {
            let attrs = &mut memo.summaries.classes[class].attrs;
            match value {
                Some(value) => attrs.insert(name, value),
                None => attrs.remove(&name),
            };
        }
        for (function, index, summary) in undo.params {
            memo.summaries.functions[function].set_param_summary(index, summary);
        }
        (emitter, effects)
    }

    /// Checks that what the unit passed on in its walk (`effects`, `returns`: the same as
    /// before the edit) does not rest on what it passed on before the edit. An attribute it
    /// sets itself (`self.x = self.x or load()`), or a return or attribute written by code that
    /// reads, directly or not, what this unit passes on (recursion), may hold its own old
    /// output, which could keep itself alive after the edit removed what first produced it,
    /// where a whole analysis, starting from nothing, would not find it. So does a parameter
    /// whose taint comes from a source inside the unit: only the unit's own output can have
    /// carried it there, through code that passes it back (an LLM's answer turned into the next
    /// prompt). So the unit is walked once more with those reads left empty, and it must pass
    /// on the same. Returns the units whose output it read (see [`Reads`]).
    fn reads_back_nothing_of_its_own(
        &self,
        memo: &mut Memo,
        effects: &[(u32, Effect)],
        returns: &Returns,
    ) -> Result<Vec<u32>, Fallback> {
        let id = self.id;
        let summaries = &mut memo.summaries;
        let writers = summaries
            .reads(&memo.effects, |reader| reader == id)
            .0
            .remove(&id)
            .unwrap_or_default();
        let reached = memo.reads.reached_from(id, &[]);
        let blank_returns: Vec<usize> = (0..summaries.functions.len())
            .filter(|&f| {
                let info = &summaries.functions[f];
                info.return_readers.contains(&id) && reached.contains(&info.unit)
            })
            .collect();
        let blank_attrs: Vec<(usize, Rc<str>)> = effects
            .iter()
            .chain(
                memo.effects
                    .iter()
                    .filter(|(owner, _)| reached.contains(owner)),
            )
            .filter_map(|(_, effect)| match effect {
                Effect::Attr { class, name, .. }
                    if summaries.classes[*class]
                        .readers
                        .get(name)
                        .is_some_and(|readers| readers.contains(&id)) =>
                {
                    Some((*class, name.clone()))
                }
                _ => None,
            })
            .collect();
        let (start, end) = (self.node.start_byte(), self.node.end_byte());
        let blank_params: Vec<usize> = summaries.functions[self.function]
            .param_taint
            .iter()
            .enumerate()
            .filter(|(_, taint)| {
                taint
                    .as_ref()
                    .is_some_and(|taint| start <= taint.range.0 && taint.range.1 <= end)
            })
            .map(|(index, _)| index)
            .collect();
        summaries.reset_reads();
        if blank_returns.is_empty() && blank_attrs.is_empty() && blank_params.is_empty() {
            return Ok(writers);
        }

        let kept = (
            summaries.clone(),
            memo.units.iter().map(|u| u.stale).collect::<Vec<_>>(),
        );
        for f in blank_returns {
            take_returns(&mut summaries.functions[f]);
        }
        for (class, name) in &blank_attrs {
            summaries.classes[*class].attrs.remove(name);
        }
        for index in blank_params {
            summaries.functions[self.function].param_taint[index] = None;
        }
        self.forget_what_it_defines(summaries);
        let (_, blank_effects) = self.walk(memo);
        let blank_returns = take_returns(&mut memo.summaries.functions[self.function]);
        let (summaries, stale) = kept;
        memo.summaries = summaries;
        for (unit, stale) in memo.units.iter_mut().zip(stale) {
            unit.stale = stale;
        }
        if blank_effects != effects || blank_returns != *returns {
            return Err(Fallback::ReadsBackItsOwnOutput);
        }
        Ok(writers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_the_changed_middle() {
        let edit = Edit::between("abcdef", "abXXdef");
        assert_eq!((edit.start, edit.old_end, edit.new_end), (2, 3, 4));
        // Positions after the edit move, positions before stay.
        assert_eq!(edit.start(5), 6);
        assert_eq!(edit.start(1), 1);
        let insertion = Edit::between("abc", "abXc");
        assert_eq!(
            (insertion.start, insertion.old_end, insertion.new_end),
            (2, 2, 3)
        );
        // Something that starts where text is inserted moves; something ending there stays.
        assert_eq!(insertion.start(2), 3);
        assert_eq!(insertion.end(2), 2);
        let long = "x".repeat(1000);
        let edit = Edit::between(&format!("{long}a{long}"), &format!("{long}{long}"));
        assert_eq!((edit.start, edit.old_end, edit.new_end), (1000, 1001, 1000));
    }

    #[test]
    fn a_keyword_argument_is_a_name_followed_by_one_equals_sign_or_a_quoted_name() {
        for passes in [
            "f(path=p)",
            "f(path = p)",
            "{'path': p}",
            "f(**{\"path\": p})",
            "path=",
        ] {
            assert!(passed_by_keyword(passes, "path"), "{passes}");
        }
        for does_not in [
            "path == p",
            "f(subpath=p)",
            "f(path_x=p)",
            "path",
            "'paths'",
            "path.x = 1",
        ] {
            assert!(!passed_by_keyword(does_not, "path"), "{does_not}");
        }
    }

    #[test]
    fn repeated_text_around_an_edit_is_not_counted_twice() {
        let edit = Edit::between("aaaa", "aaaaaa");
        assert_eq!((edit.start, edit.old_end, edit.new_end), (4, 4, 6));
        let edit = Edit::between("aaaaaa", "aa");
        assert_eq!((edit.start, edit.old_end, edit.new_end), (2, 6, 2));
    }
}

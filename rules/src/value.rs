//! What the front-ends know about a value: the symbolic result of evaluating an expression.

use crate::catalogue::SourceKind;
use std::rc::Rc;

/// A byte range in the analysed text (end exclusive).
pub type Range = (usize, usize);

/// A known constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Str(Rc<str>),
    Bool(bool),
    Int(i64),
    Float,
    None,
    Tuple(Rc<[Const]>),
}

/// Untrusted data: where it enters the file, and what kind of source it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    pub kind: SourceKind,
    pub range: Range,
}

/// The structure of a value beyond its name, when the front-end can see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Shape {
    #[default]
    Plain,
    /// A dict whose keys are constant strings (a literal, or `dict(k=v)`).
    Dict(Rc<Vec<(Rc<str>, Sym)>>),
    /// A list or tuple display.
    Seq(Rc<Vec<Sym>>),
    /// `functools.partial(target, *args, **kwargs)`.
    Partial(Rc<Partial>),
    /// A function defined in this file (index into the front-end's function table).
    Function(usize),
    /// A class defined in this file.
    Class(usize),
    /// An instance of a class defined in this file.
    Instance(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub target: Sym,
    pub args: Vec<Arg>,
}

/// A symbolic value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sym {
    /// What the value is, as a qualified name (see [`crate::qname`]).
    pub qname: Option<Rc<str>>,
    pub konst: Option<Const>,
    pub taint: Option<Rc<Taint>>,
    pub shape: Shape,
    /// Where a constant string was written, when it is one literal (for fixes that edit it).
    pub literal: Option<Range>,
    /// The value was returned by a sanitiser (`html.escape`, `bleach.clean`, `shlex.quote`, …),
    /// or built only from sanitised values and constants.
    pub sanitised: bool,
    /// What is known of a string built at run time (`f"http://{host}/x"`, `os.path.join(ROOT,
    /// name)`): its constant parts, with [`UNKNOWN`] where a part is not known.
    pub template: Option<Rc<str>>,
}

/// Stands for an unknown part in [`Sym::template`].
pub const UNKNOWN: char = '\u{FFFC}';

impl Sym {
    pub fn named(qname: impl Into<Rc<str>>) -> Self {
        Self {
            qname: Some(qname.into()),
            ..Self::default()
        }
    }

    pub fn constant(konst: Const) -> Self {
        Self {
            konst: Some(konst),
            ..Self::default()
        }
    }

    pub fn str_value(&self) -> Option<&str> {
        match &self.konst {
            Some(Const::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn qname(&self) -> Option<&str> {
        self.qname.as_deref()
    }

    /// The string this value is known to be, exactly or as a template.
    pub fn text(&self) -> Option<&str> {
        self.str_value().or(self.template.as_deref())
    }

    /// The text this value contributes when it is formatted into a string.
    pub fn piece(&self) -> String {
        match &self.konst {
            Some(Const::Str(s)) => s.to_string(),
            Some(Const::Int(n)) => n.to_string(),
            Some(Const::Bool(b)) => if *b { "True" } else { "False" }.to_string(),
            _ => self
                .template
                .as_deref()
                .map_or_else(|| UNKNOWN.to_string(), str::to_string),
        }
    }

    /// Safe to treat as already neutralised: a sanitiser's result or a constant.
    pub fn is_safe_part(&self) -> bool {
        self.sanitised || (self.konst.is_some() && self.taint.is_none())
    }

    /// A string value built from `parts`: a constant when every part is one, otherwise a
    /// template; tainted and sanitised as its parts are.
    pub fn built_from(parts: &[Sym]) -> Sym {
        let text: String = parts.iter().map(Sym::piece).collect();
        let constant = parts.iter().all(|p| {
            matches!(
                p.konst,
                Some(Const::Str(_) | Const::Int(_) | Const::Bool(_))
            )
        });
        Sym {
            konst: constant.then(|| Const::Str(text.as_str().into())),
            template: (!constant).then(|| text.into()),
            taint: Sym::taint_of(parts),
            sanitised: !constant && parts.iter().all(Sym::is_safe_part),
            ..Sym::default()
        }
    }

    /// The taint of a value built from two: the one that starts first in the file, so that
    /// which source a finding cites does not depend on which parts the walk knew to be tainted
    /// at the time (a parameter learns its taint in a later pass than a source in the body).
    pub fn merge_taint(a: Option<Rc<Taint>>, b: &Option<Rc<Taint>>) -> Option<Rc<Taint>> {
        if Self::earlier_taint(b, &a) {
            b.clone()
        } else {
            a
        }
    }

    /// The taint of a value built from `parts`: the one that starts first (see
    /// [`Self::merge_taint`]).
    pub fn taint_of<'s>(parts: impl IntoIterator<Item = &'s Sym>) -> Option<Rc<Taint>> {
        parts
            .into_iter()
            .fold(None, |taint, part| Self::merge_taint(taint, &part.taint))
    }

    /// Whether `new` should replace `known` in a summary: a summary keeps the taint that starts
    /// first in the file, so that what it says does not depend on the order its writers were
    /// walked in (a whole analysis and an editing session walk them in different orders).
    pub fn earlier_taint(new: &Option<Rc<Taint>>, known: &Option<Rc<Taint>>) -> bool {
        match (new, known) {
            (Some(new), Some(known)) => new.range < known.range,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// One argument of a call, after `**dict` expansion and `partial` merging.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub keyword: Option<Rc<str>>,
    pub sym: Sym,
    /// The value expression.
    pub value: Range,
    /// The whole argument (`name=value` for a keyword argument).
    pub whole: Range,
    /// False when the argument is not written inside this call's parentheses (it came from a
    /// `partial` or a `**dict`), so fixes must not edit it.
    pub in_call: bool,
}

impl Arg {
    /// A positional argument written inside the call's parentheses at `range`.
    pub fn positional(sym: Sym, range: Range) -> Self {
        Self {
            keyword: None,
            sym,
            value: range,
            whole: range,
            in_call: true,
        }
    }
}

/// A call, as the rule engine sees it.
#[derive(Debug, Clone)]
pub struct CallEvent<'a> {
    /// Canonical qualified name of the callee.
    pub qname: &'a str,
    /// The call expression.
    pub range: Range,
    /// The callee expression as written.
    pub callee: Range,
    /// The last name of the callee (`load` in `yaml.load`), for renames.
    pub callee_name: Option<Range>,
    pub args: &'a [Arg],
    /// Byte just after `(` and byte of `)`, when the call has a parenthesised argument list.
    pub parens: Option<(usize, usize)>,
    /// Taint of the callee itself (the receiver of a method call: `Unpickler(tainted).load()`).
    pub callee_taint: Option<Rc<Taint>>,
    /// A `*args` makes positions after it unknown.
    pub star_args: bool,
    /// A `**kwargs` that could not be expanded makes "keyword absent" unknown.
    pub star_kwargs: bool,
}

/// An assignment to a qualified target (`os.environ["X"] = v`, `ctx.verify_mode = v`).
#[derive(Debug, Clone)]
pub struct AssignEvent {
    pub target: String,
    pub value: Sym,
    pub range: Range,
    pub value_range: Range,
}

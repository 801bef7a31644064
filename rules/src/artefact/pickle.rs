//! A pickle opcode scanner: reads the opcode stream (protocols 0 to 5) without executing it,
//! and reports every object the pickle imports, with its byte offset.
//!
//! A small symbolic stack mirrors CPython's C unpickler (stack, mark fence, memo) just closely
//! enough to resolve what matters statically:
//! - `STACK_GLOBAL` module and name strings, wherever they come from (literal, `DUP`, or the
//!   memo through `BINGET`/`LONG_BINGET` after `MEMOIZE`/`PUT`);
//! - joblib's `NumpyArrayWrapper`, whose raw array bytes follow the wrapper in the stream: the
//!   wrapper's state gives shape and dtype, hence how many bytes to skip.
//!
//! Several pickles may follow each other in one file (legacy `torch.save` writes five; anyone
//! can append one); all are scanned. Data after the last pickle that does not parse as one and
//! imports nothing is treated as payload (tensor bytes), not as an error.
//!
//! Memory is bounded: strings are kept up to [`KEEP_STR`] bytes, containers up to
//! [`MAX_ITEMS`] items and [`MAX_DEPTH`] levels (larger ones become opaque), and the stack,
//! memo and total tracked cells have limits. Lengths are checked against what is left before
//! anything is read, and long payloads are skipped, not read into memory.

use super::input::{Input, Stop};
use super::opcodes::{self, Arg, HIGHEST_PROTOCOL, OpInfo};
use super::policy::{Policy, Verdict};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Longest string kept (module and attribute names are far shorter).
const KEEP_STR: usize = 256;
/// Containers with more items than this are not tracked (only small tuples and dicts matter).
const MAX_ITEMS: usize = 32;
/// Containers nested deeper than this are not tracked.
const MAX_DEPTH: u8 = 16;
/// Longest protocol-0 line looked at for names and numbers.
const MAX_NAME_LINE: u64 = 64 * 1024;
/// Storages listed for `describe_artefact`.
const MAX_LISTED: usize = 100_000;

/// Limits of one scan.
#[derive(Debug, Clone, Copy)]
pub struct PickleLimits {
    pub max_stack: usize,
    pub max_memo: usize,
    /// Container items tracked in total (bounds memory on huge pickles).
    pub max_cells: usize,
    /// Pickles scanned one after the other in one stream.
    pub max_pickles: usize,
}

impl Default for PickleLimits {
    fn default() -> Self {
        Self {
            max_stack: 1 << 20,
            max_memo: 1 << 20,
            max_cells: 2 << 20,
            max_pickles: 1024,
        }
    }
}

/// One imported object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Global {
    pub module: String,
    pub name: String,
    /// Offset of the importing opcode in the stream.
    pub offset: u64,
    pub opcode: &'static str,
    pub verdict: Verdict,
}

impl Global {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

/// What kind of problem the scan met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The stream is not a valid pickle (unknown opcode, truncated, bad length, bad memo index).
    Malformed,
    /// An import whose target cannot be known statically (`STACK_GLOBAL` on computed values,
    /// `EXT*` extension codes).
    HiddenImport,
    /// The scan hit one of its own limits: the rest was not inspected.
    Uninspected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub offset: u64,
    pub message: String,
}

/// A `torch` storage named by a persistent id (`BINPERSID`), for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Storage {
    pub key: String,
    pub storage_type: String,
    pub location: String,
    pub numel: Option<i64>,
}

/// The result of scanning one pickle stream (one or more concatenated pickles).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PickleReport {
    /// Complete pickles (ending in `STOP`).
    pub pickles: u32,
    /// Highest `PROTO` seen.
    pub protocol: Option<u8>,
    pub globals: Vec<Global>,
    pub opcodes: BTreeMap<&'static str, u64>,
    pub storages: Vec<Storage>,
    pub problems: Vec<Problem>,
    /// Where data that is not a pickle starts after the last pickle (tensor bytes, padding).
    pub trailing_at: Option<u64>,
    /// Sniffing mode only: the stream did not look like a pickle at all.
    pub not_pickle: bool,
    /// Bytes of joblib array data skipped.
    pub array_bytes: u64,
    /// Why the scan stopped before the end (size limit, read error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

impl PickleReport {
    pub fn is_pickle(&self) -> bool {
        !self.not_pickle
    }
}

/// How strictly to treat the start of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The file is meant to be a pickle: anything wrong is reported.
    Strict,
    /// Sniffing (a `.bin` file, a zip entry not named `.pkl`): a stream that fails before
    /// importing anything is not a pickle, and is silently ignored.
    Sniff,
}

/// The legacy `torch.save` magic number, pickled as `LONG1`.
const TORCH_LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Scans every pickle in `input`.
pub fn scan(input: &mut Input<'_>, mode: Mode, limits: &PickleLimits) -> PickleReport {
    let mut report = PickleReport::default();
    let policy = Policy::builtin();
    let mut max_pickles = limits.max_pickles;
    let mut index = 0usize;
    loop {
        match input.at_end() {
            Ok(true) => break,
            Ok(false) => {}
            Err(stop) => {
                report.incomplete = Some(stop.describe());
                break;
            }
        }
        if index >= max_pickles {
            if max_pickles < limits.max_pickles {
                // Legacy torch files carry raw storage bytes after their five pickles.
                report.trailing_at = Some(input.pos());
            } else {
                report.problems.push(Problem {
                    kind: ProblemKind::Uninspected,
                    offset: input.pos(),
                    message: format!(
                        "more than {max_pickles} pickles in one stream: the rest was not inspected"
                    ),
                });
            }
            break;
        }
        let start = input.pos();
        let globals_before = report.globals.len();
        let mut machine = Machine::new(limits, policy);
        let outcome = machine.run(input, &mut report);
        let imported = report.globals.len() > globals_before;
        match outcome {
            Ok(Done::Stop) => {
                report.pickles += 1;
                if index == 0 && machine.torch_magic {
                    max_pickles = max_pickles.min(5);
                }
            }
            Ok(Done::Abandoned) => break,
            Err(Failure::Stop(stop @ (Stop::Budget(_) | Stop::Io(_)))) => {
                report.incomplete = Some(stop.describe());
                break;
            }
            Err(failure) => {
                let lenient = index > 0 || mode == Mode::Sniff;
                if lenient && !imported {
                    // Not a pickle: tensor bytes after the last pickle, or a sniffed stream
                    // that only looked like one.
                    if index == 0 {
                        report.not_pickle = true;
                        report.opcodes.clear();
                    } else {
                        report.trailing_at = Some(start);
                    }
                    break;
                }
                report.problems.push(failure.problem(input.pos()));
                break;
            }
        }
        index += 1;
    }
    report
}

enum Done {
    Stop,
    /// A limit was hit; a problem was recorded.
    Abandoned,
}

/// Why one pickle failed to parse.
enum Failure {
    Stop(Stop),
    Malformed(u64, String),
}

impl From<Stop> for Failure {
    fn from(stop: Stop) -> Self {
        Self::Stop(stop)
    }
}

impl Failure {
    fn problem(self, pos: u64) -> Problem {
        match self {
            Self::Stop(stop) => Problem {
                kind: ProblemKind::Malformed,
                offset: pos,
                message: format!("pickle {}", stop.describe()),
            },
            Self::Malformed(offset, message) => Problem {
                kind: ProblemKind::Malformed,
                offset,
                message,
            },
        }
    }
}

/// A symbolic value: only what the scanner needs to know.
#[derive(Debug, Clone)]
enum Val {
    /// Anything not tracked.
    Other,
    None,
    Int(i64),
    Str(Rc<str>),
    /// Index into the report's globals.
    Global(usize),
    /// A tuple or list.
    Seq(Rc<Seq>),
    Dict(Rc<Dict>),
    Obj(Rc<Obj>),
}

#[derive(Debug)]
struct Seq {
    items: Vec<Val>,
    depth: u8,
}

#[derive(Debug)]
struct Dict {
    items: Vec<(Val, Val)>,
    depth: u8,
}

/// The result of calling or instantiating something (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`).
#[derive(Debug)]
struct Obj {
    class: Val,
    args: Val,
    depth: u8,
}

impl Val {
    fn depth(&self) -> u8 {
        match self {
            Self::Seq(s) => s.depth,
            Self::Dict(d) => d.depth,
            Self::Obj(o) => o.depth,
            _ => 0,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
    fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }
}

struct Machine<'p> {
    stack: Vec<Val>,
    marks: Vec<usize>,
    memo: HashMap<u64, Val>,
    /// Entries the unpickler's memo would hold (some may not be kept here).
    memo_len: u64,
    memo_overflow: bool,
    cells: usize,
    limits: &'p PickleLimits,
    policy: &'p Policy,
    /// The pickle holds the legacy torch magic number.
    torch_magic: bool,
}

type Step<T> = Result<T, Failure>;

fn malformed<T>(offset: u64, message: impl Into<String>) -> Step<T> {
    Err(Failure::Malformed(offset, message.into()))
}

impl<'p> Machine<'p> {
    fn new(limits: &'p PickleLimits, policy: &'p Policy) -> Self {
        Self {
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            memo_len: 0,
            memo_overflow: false,
            cells: 0,
            limits,
            policy,
            torch_magic: false,
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, at: u64, value: Val, report: &mut PickleReport) -> Step<bool> {
        if self.stack.len() >= self.limits.max_stack {
            report.problems.push(Problem {
                kind: ProblemKind::Uninspected,
                offset: at,
                message: format!(
                    "pickle stack deeper than {} entries: the rest was not inspected",
                    self.limits.max_stack
                ),
            });
            return Ok(false);
        }
        self.stack.push(value);
        Ok(true)
    }

    fn pop(&mut self, at: u64) -> Step<Val> {
        if self.stack.len() <= self.fence() {
            return malformed(at, "pickle stack underflow");
        }
        Ok(self.stack.pop().unwrap_or(Val::Other))
    }

    fn top_index(&self, at: u64) -> Step<usize> {
        if self.stack.len() <= self.fence() {
            return malformed(at, "pickle stack underflow");
        }
        Ok(self.stack.len() - 1)
    }

    fn pop_mark(&mut self, at: u64) -> Step<Vec<Val>> {
        let Some(mark) = self.marks.pop() else {
            return malformed(at, "pickle opcode needs a MARK and there is none");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    /// A tracked sequence, or `Other` past the size, depth or memory limits.
    fn seq(&mut self, items: Vec<Val>) -> Val {
        let depth = items.iter().map(Val::depth).max().unwrap_or(0) + 1;
        if items.len() > MAX_ITEMS
            || depth > MAX_DEPTH
            || self.cells + items.len() > self.limits.max_cells
        {
            return Val::Other;
        }
        self.cells += items.len() + 1;
        Val::Seq(Rc::new(Seq { items, depth }))
    }

    fn dict(&mut self, items: Vec<(Val, Val)>) -> Val {
        let depth = items
            .iter()
            .map(|(k, v)| k.depth().max(v.depth()))
            .max()
            .unwrap_or(0)
            + 1;
        if items.len() > MAX_ITEMS
            || depth > MAX_DEPTH
            || self.cells + 2 * items.len() > self.limits.max_cells
        {
            return Val::Other;
        }
        self.cells += 2 * items.len() + 1;
        Val::Dict(Rc::new(Dict { items, depth }))
    }

    fn obj(&mut self, class: Val, args: Val) -> Val {
        let depth = class.depth().max(args.depth()) + 1;
        if depth > MAX_DEPTH || self.cells + 3 > self.limits.max_cells {
            return Val::Other;
        }
        self.cells += 3;
        Val::Obj(Rc::new(Obj { class, args, depth }))
    }

    fn record_global(
        &mut self,
        at: u64,
        op: &'static str,
        module: &str,
        name: &str,
        report: &mut PickleReport,
    ) -> Step<Val> {
        if !is_dotted_identifier(module) || !is_dotted_identifier(name) {
            // The unpickler would fail to import it and stop there.
            return malformed(
                at,
                format!(
                    "{op} names `{}`.`{}`, which is not an importable Python name",
                    printable(module),
                    printable(name)
                ),
            );
        }
        let verdict = self.policy.judge(module, name);
        report.globals.push(Global {
            module: module.to_string(),
            name: name.to_string(),
            offset: at,
            opcode: op,
            verdict,
        });
        Ok(Val::Global(report.globals.len() - 1))
    }

    fn memo_put(&mut self, index: u64, value: Val) {
        if let Some(slot) = self.memo.get_mut(&index) {
            *slot = value;
            return;
        }
        // Counted even when not kept: `MEMOIZE` numbers entries by the memo's size.
        self.memo_len += 1;
        if self.memo.len() >= self.limits.max_memo {
            self.memo_overflow = true;
            return;
        }
        self.memo.insert(index, value);
    }

    fn memo_get(&self, at: u64, index: u64) -> Step<Val> {
        match self.memo.get(&index) {
            Some(value) => Ok(value.clone()),
            // Past our memo limit we did not keep it; the unpickler would have.
            None if self.memo_overflow => Ok(Val::Other),
            None => malformed(at, format!("memo index {index} was never stored")),
        }
    }

    /// Parses one pickle, up to and including its `STOP`.
    fn run(&mut self, input: &mut Input<'_>, report: &mut PickleReport) -> Step<Done> {
        loop {
            let at = input.pos();
            let code = input.byte()?;
            let Some(info) = opcodes::lookup(code) else {
                return malformed(at, format!("unknown pickle opcode 0x{code:02x}"));
            };
            *report.opcodes.entry(info.name).or_insert(0) += 1;
            match self.step(at, info, input, report)? {
                Flow::Continue => {}
                Flow::Stop => return Ok(Done::Stop),
                Flow::Abandon => return Ok(Done::Abandoned),
            }
        }
    }

    fn step(
        &mut self,
        at: u64,
        info: &'static OpInfo,
        input: &mut Input<'_>,
        report: &mut PickleReport,
    ) -> Step<Flow> {
        let value = match info.name {
            "MARK" => {
                if self.marks.len() >= self.limits.max_stack {
                    report.problems.push(Problem {
                        kind: ProblemKind::Uninspected,
                        offset: at,
                        message: "more MARKs than the scanner tracks: the rest was not inspected"
                            .into(),
                    });
                    return Ok(Flow::Abandon);
                }
                self.marks.push(self.stack.len());
                return Ok(Flow::Continue);
            }
            "STOP" => {
                self.pop(at)?;
                return Ok(Flow::Stop);
            }
            "POP" => {
                if self.stack.len() > self.fence() {
                    self.stack.pop();
                } else if self.marks.pop().is_none() {
                    return malformed(at, "pickle stack underflow");
                }
                return Ok(Flow::Continue);
            }
            "POP_MARK" => {
                self.pop_mark(at)?;
                return Ok(Flow::Continue);
            }
            "DUP" => {
                let top = self.top_index(at)?;
                self.stack[top].clone()
            }
            "PROTO" => {
                let proto = input.byte()?;
                if proto > HIGHEST_PROTOCOL {
                    return malformed(at, format!("unsupported pickle protocol {proto}"));
                }
                report.protocol = Some(report.protocol.map_or(proto, |p| p.max(proto)));
                return Ok(Flow::Continue);
            }
            "FRAME" => {
                let len = input.u64_le()?;
                if let Some(left) = input.remaining()
                    && len > left
                {
                    return malformed(
                        at,
                        format!("FRAME claims {len} bytes but only {left} remain"),
                    );
                }
                return Ok(Flow::Continue);
            }
            "NONE" => Val::None,
            "NEWTRUE" => Val::Int(1),
            "NEWFALSE" => Val::Int(0),
            "INT" => {
                let line = input.line(64, MAX_NAME_LINE)?;
                match std::str::from_utf8(&line).ok().map(str::trim) {
                    Some(text) => text.parse().map(Val::Int).unwrap_or(Val::Other),
                    None => return malformed(at, "INT argument is not a number"),
                }
            }
            "LONG" => {
                let line = input.line(64, u64::MAX)?;
                let text = String::from_utf8_lossy(&line);
                text.trim()
                    .trim_end_matches('L')
                    .parse()
                    .map(Val::Int)
                    .unwrap_or(Val::Other)
            }
            "BININT" => Val::Int(i64::from(i32::from_le_bytes(input.array()?))),
            "BININT1" => Val::Int(i64::from(input.byte()?)),
            "BININT2" => Val::Int(i64::from(input.u16_le()?)),
            "LONG1" | "LONG4" => {
                let len = length(at, info, input)?;
                let bytes = input.bytes(len, 16)?;
                if info.name == "LONG1" && bytes == TORCH_LEGACY_MAGIC {
                    self.torch_magic = true;
                }
                long_value(&bytes, len)
            }
            "FLOAT" => {
                input.line(0, u64::MAX)?;
                Val::Other
            }
            "BINFLOAT" => {
                input.array::<8>()?;
                Val::Other
            }
            "STRING" => {
                let line = input.line(KEEP_STR + 3, u64::MAX)?;
                if line.len() > KEEP_STR + 2 {
                    // Longer than any name: not kept (and its end was not read back).
                    Val::Other
                } else {
                    match unquote(&line) {
                        Some(text) => Val::Str(text.into()),
                        None => return malformed(at, "STRING argument is not quoted"),
                    }
                }
            }
            "UNICODE" => {
                let line = input.line(KEEP_STR * 4, u64::MAX)?;
                text_value(raw_unicode_unescape(&line), line.len() < KEEP_STR * 4)
            }
            "BINSTRING" | "SHORT_BINSTRING" => {
                let len = length(at, info, input)?;
                let bytes = input.bytes(len, KEEP_STR)?;
                // Python 2 byte strings; the default decoding is ASCII.
                text_value(
                    bytes.iter().map(|&b| char::from(b)).collect(),
                    len <= KEEP_STR as u64,
                )
            }
            "BINUNICODE" | "SHORT_BINUNICODE" | "BINUNICODE8" => {
                let len = length(at, info, input)?;
                let bytes = input.bytes(len, KEEP_STR)?;
                text_value(
                    String::from_utf8_lossy(&bytes).into_owned(),
                    len <= KEEP_STR as u64,
                )
            }
            "BINBYTES" | "SHORT_BINBYTES" | "BINBYTES8" | "BYTEARRAY8" => {
                let len = length(at, info, input)?;
                input.skip(len)?;
                Val::Other
            }
            "NEXT_BUFFER" => Val::Other,
            "READONLY_BUFFER" => {
                self.top_index(at)?;
                return Ok(Flow::Continue);
            }
            "EMPTY_LIST" | "EMPTY_TUPLE" => self.seq(Vec::new()),
            "EMPTY_DICT" => self.dict(Vec::new()),
            "EMPTY_SET" => Val::Other,
            "LIST" | "TUPLE" => {
                let items = self.pop_mark(at)?;
                self.seq(items)
            }
            "TUPLE1" | "TUPLE2" | "TUPLE3" => {
                let n = usize::from(info.code - 0x84);
                if self.stack.len() < self.fence() + n {
                    return malformed(at, "pickle stack underflow");
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.seq(items)
            }
            "DICT" => {
                let items = self.pop_mark(at)?;
                if items.len() % 2 == 1 {
                    return malformed(at, "DICT with an odd number of items");
                }
                let pairs = pairs(items);
                self.dict(pairs)
            }
            "FROZENSET" => {
                self.pop_mark(at)?;
                Val::Other
            }
            "APPEND" => {
                let item = self.pop(at)?;
                let target = self.top_index(at)?;
                self.stack[target] = self.extended(&self.stack[target].clone(), vec![item]);
                return Ok(Flow::Continue);
            }
            "APPENDS" | "ADDITEMS" => {
                let items = self.pop_mark(at)?;
                let target = self.top_index(at)?;
                if info.name == "APPENDS" {
                    self.stack[target] = self.extended(&self.stack[target].clone(), items);
                }
                return Ok(Flow::Continue);
            }
            "SETITEM" => {
                let value = self.pop(at)?;
                let key = self.pop(at)?;
                let target = self.top_index(at)?;
                self.stack[target] =
                    self.with_items(&self.stack[target].clone(), vec![(key, value)]);
                return Ok(Flow::Continue);
            }
            "SETITEMS" => {
                let items = self.pop_mark(at)?;
                if items.len() % 2 == 1 {
                    return malformed(at, "SETITEMS with an odd number of items");
                }
                let target = self.top_index(at)?;
                self.stack[target] = self.with_items(&self.stack[target].clone(), pairs(items));
                return Ok(Flow::Continue);
            }
            "GET" | "BINGET" | "LONG_BINGET" => {
                let index = self.index_arg(at, info, input)?;
                self.memo_get(at, index)?
            }
            "PUT" | "BINPUT" | "LONG_BINPUT" => {
                let index = self.index_arg(at, info, input)?;
                let top = self.top_index(at)?;
                self.memo_put(index, self.stack[top].clone());
                return Ok(Flow::Continue);
            }
            "MEMOIZE" => {
                let top = self.top_index(at)?;
                self.memo_put(self.memo_len, self.stack[top].clone());
                return Ok(Flow::Continue);
            }
            "GLOBAL" => {
                let (module, name) = two_lines(input)?;
                self.record_global(at, info.name, &module, &name, report)?
            }
            "STACK_GLOBAL" => {
                let name = self.pop(at)?;
                let module = self.pop(at)?;
                match (module.as_str(), name.as_str()) {
                    (Some(module), Some(name)) => {
                        let (module, name) = (module.to_string(), name.to_string());
                        self.record_global(at, info.name, &module, &name, report)?
                    }
                    _ => {
                        report.problems.push(Problem {
                            kind: ProblemKind::HiddenImport,
                            offset: at,
                            message: format!(
                                "STACK_GLOBAL imports an object whose module and name are computed \
                                 ({} and {}), not written in the file",
                                describe(&module),
                                describe(&name)
                            ),
                        });
                        Val::Other
                    }
                }
            }
            "EXT1" | "EXT2" | "EXT4" => {
                let code = match info.arg {
                    Arg::U1 => i64::from(input.byte()?),
                    Arg::U2 => i64::from(input.u16_le()?),
                    _ => i64::from(i32::from_le_bytes(input.array()?)),
                };
                report.problems.push(Problem {
                    kind: ProblemKind::HiddenImport,
                    offset: at,
                    message: format!(
                        "{} imports extension code {code} from the `copyreg` extension registry, \
                         which only the loading process defines",
                        info.name
                    ),
                });
                Val::Other
            }
            "INST" => {
                let (module, name) = two_lines(input)?;
                let args = self.pop_mark(at)?;
                let class = self.record_global(at, info.name, &module, &name, report)?;
                let args = self.seq(args);
                self.obj(class, args)
            }
            "OBJ" => {
                let mut items = self.pop_mark(at)?;
                if items.is_empty() {
                    return malformed(at, "OBJ without a class");
                }
                let class = items.remove(0);
                let args = self.seq(items);
                self.obj(class, args)
            }
            "REDUCE" | "NEWOBJ" => {
                let args = self.pop(at)?;
                let class = self.pop(at)?;
                self.obj(class, args)
            }
            "NEWOBJ_EX" => {
                self.pop(at)?;
                let args = self.pop(at)?;
                let class = self.pop(at)?;
                self.obj(class, args)
            }
            "BUILD" => {
                // The state is applied to the object; nothing the scanner tracks changes,
                // except that a NumPy dtype must agree with itself (joblib arrays are skipped
                // by the size its type code gives).
                let state = self.pop(at)?;
                let target = self.top_index(at)?;
                if let Some(problem) = dtype_disagrees(&self.stack[target], &state, report) {
                    report.problems.push(Problem {
                        kind: ProblemKind::Uninspected,
                        offset: at,
                        message: problem,
                    });
                    return Ok(Flow::Abandon);
                }
                if let Some(len) = self.joblib_array(&self.stack[target], &state, report) {
                    return self.skip_joblib_array(at, len, input, report);
                }
                return Ok(Flow::Continue);
            }
            "PERSID" => {
                let line = input.line(KEEP_STR, u64::MAX)?;
                Val::Str(String::from_utf8_lossy(&line).into())
            }
            "BINPERSID" => {
                let pid = self.pop(at)?;
                self.list_storage(&pid, report);
                Val::Other
            }
            other => return malformed(at, format!("opcode {other} is not handled")),
        };
        Ok(if self.push(at, value, report)? {
            Flow::Continue
        } else {
            Flow::Abandon
        })
    }

    fn index_arg(&self, at: u64, info: &OpInfo, input: &mut Input<'_>) -> Step<u64> {
        Ok(match info.arg {
            Arg::U1 => u64::from(input.byte()?),
            Arg::U4 => u64::from(input.u32_le()?),
            _ => {
                let line = input.line(32, MAX_NAME_LINE)?;
                match std::str::from_utf8(&line)
                    .ok()
                    .and_then(|t| t.trim().parse().ok())
                {
                    Some(index) => index,
                    None => return malformed(at, format!("{} index is not a number", info.name)),
                }
            }
        })
    }

    fn extended(&mut self, target: &Val, items: Vec<Val>) -> Val {
        match target {
            Val::Seq(seq) => {
                let mut all = seq.items.clone();
                all.extend(items);
                self.seq(all)
            }
            _ => Val::Other,
        }
    }

    fn with_items(&mut self, target: &Val, items: Vec<(Val, Val)>) -> Val {
        match target {
            Val::Dict(dict) => {
                let mut all = dict.items.clone();
                all.extend(items);
                self.dict(all)
            }
            // Setting items on anything else (an object's `__setitem__`) is not tracked.
            _ => target.clone(),
        }
    }

    /// Torch persistent ids: `('storage', storage_type, key, location, numel)`.
    fn list_storage(&self, pid: &Val, report: &mut PickleReport) {
        let Val::Seq(seq) = pid else { return };
        if report.storages.len() >= MAX_LISTED
            || seq.items.first().and_then(Val::as_str) != Some("storage")
        {
            return;
        }
        let text = |i: usize| {
            seq.items
                .get(i)
                .and_then(Val::as_str)
                .unwrap_or("?")
                .to_string()
        };
        let storage_type = match seq.items.get(1) {
            Some(Val::Global(g)) => report
                .globals
                .get(*g)
                .map(Global::qualified)
                .unwrap_or_default(),
            _ => "?".into(),
        };
        report.storages.push(Storage {
            key: text(2),
            storage_type,
            location: text(3),
            numel: seq.items.get(4).and_then(Val::as_int),
        });
    }

    /// When `built` is joblib's `NumpyArrayWrapper`, the byte length of the array data that
    /// follows, and whether a padding byte precedes it.
    fn joblib_array(&self, built: &Val, state: &Val, report: &PickleReport) -> Option<ArrayBytes> {
        let Val::Obj(obj) = built else { return None };
        let Val::Global(class) = obj.class else {
            return None;
        };
        let global = report.globals.get(class)?;
        if global.name != "NumpyArrayWrapper" || !global.module.ends_with("numpy_pickle") {
            return None;
        }
        let Val::Dict(dict) = state else {
            return Some(ArrayBytes::Unknown);
        };
        let get = |key: &str| {
            dict.items
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v)
        };
        let aligned = get("numpy_array_alignment_bytes").is_some_and(|v| v.as_int().is_some());
        let itemsize = get("dtype").and_then(|dtype| dtype_itemsize(dtype, report));
        let shape: Option<Vec<i64>> = match get("shape") {
            Some(Val::Seq(shape)) => shape.items.iter().map(Val::as_int).collect(),
            _ => None,
        };
        match (itemsize, shape) {
            (Some(Some(itemsize)), Some(shape)) => {
                let count = shape.iter().try_fold(1u64, |acc, &d| {
                    u64::try_from(d).ok().and_then(|d| acc.checked_mul(d))
                });
                match count.and_then(|c| c.checked_mul(itemsize)) {
                    Some(len) => Some(ArrayBytes::Known { len, aligned }),
                    None => Some(ArrayBytes::Unknown),
                }
            }
            // Object arrays are pickled inline, not written as raw bytes.
            (Some(None), _) => None,
            _ => Some(ArrayBytes::Unknown),
        }
    }

    fn skip_joblib_array(
        &mut self,
        at: u64,
        array: ArrayBytes,
        input: &mut Input<'_>,
        report: &mut PickleReport,
    ) -> Step<Flow> {
        let ArrayBytes::Known { len, aligned } = array else {
            report.problems.push(Problem {
                kind: ProblemKind::Uninspected,
                offset: at,
                message: "joblib array of unknown size: the pickle after it was not inspected"
                    .into(),
            });
            return Ok(Flow::Abandon);
        };
        if aligned {
            let padding = input.byte()?;
            input.skip(u64::from(padding))?;
        }
        if let Some(left) = input.remaining()
            && len > left
        {
            return malformed(
                at,
                format!("joblib array claims {len} bytes but only {left} remain"),
            );
        }
        input.skip(len)?;
        report.array_bytes += len;
        Ok(Flow::Continue)
    }
}

enum Flow {
    Continue,
    Stop,
    Abandon,
}

#[derive(Debug, Clone, Copy)]
enum ArrayBytes {
    Known { len: u64, aligned: bool },
    Unknown,
}

/// When `BUILD` gives a flexible NumPy dtype (`S`, `U`, `V`) an element size other than the
/// one its type code says, a description of the disagreement: NumPy would use the state's,
/// so skipping joblib array bytes by the type code could hide opcodes.
fn dtype_disagrees(target: &Val, state: &Val, report: &PickleReport) -> Option<String> {
    let declared = dtype_itemsize(target, report)??;
    let Val::Seq(state) = state else { return None };
    let elsize = state.items.get(5)?.as_int()?;
    (elsize >= 0 && elsize as u64 != declared).then(|| {
        format!(
            "a NumPy dtype's pickled element size ({elsize}) disagrees with its type code \
             ({declared} bytes): the rest was not inspected"
        )
    })
}

/// The item size of a pickled `numpy.dtype` (`Some(None)` for object dtypes).
fn dtype_itemsize(dtype: &Val, report: &PickleReport) -> Option<Option<u64>> {
    let Val::Obj(obj) = dtype else { return None };
    let Val::Global(class) = obj.class else {
        return None;
    };
    let global = report.globals.get(class)?;
    if global.name != "dtype" || !global.module.starts_with("numpy") {
        return None;
    }
    let Val::Seq(args) = &obj.args else {
        return None;
    };
    let code = args.items.first()?.as_str()?;
    let mut chars = code.chars();
    let kind = chars.next()?;
    let size: u64 = chars.as_str().parse().ok()?;
    Some(match kind {
        'O' => None,
        'U' => Some(size.checked_mul(4)?),
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'V' | 'M' | 'm' | '?' => Some(size),
        _ => return None,
    })
}

fn pairs(items: Vec<Val>) -> Vec<(Val, Val)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut iter = items.into_iter();
    while let (Some(k), Some(v)) = (iter.next(), iter.next()) {
        out.push((k, v));
    }
    out
}

/// The length prefix of a length-prefixed argument.
fn length(at: u64, info: &OpInfo, input: &mut Input<'_>) -> Step<u64> {
    let len = match info.arg {
        Arg::Len1 => u64::from(input.byte()?),
        Arg::Len4 => u64::from(input.u32_le()?),
        Arg::Len4Signed => {
            let len = i32::from_le_bytes(input.array()?);
            match u64::try_from(len) {
                Ok(len) => len,
                Err(_) => return malformed(at, format!("{} has negative length {len}", info.name)),
            }
        }
        _ => input.u64_le()?,
    };
    if let Some(left) = input.remaining()
        && len > left
    {
        return malformed(
            at,
            format!("{} claims {len} bytes but only {left} remain", info.name),
        );
    }
    Ok(len)
}

fn long_value(bytes: &[u8], len: u64) -> Val {
    if len == 0 {
        return Val::Int(0);
    }
    if len > 8 {
        return Val::Other;
    }
    let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
    let mut buf = [if negative { 0xff } else { 0 }; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    Val::Int(i64::from_le_bytes(buf))
}

fn text_value(text: String, complete: bool) -> Val {
    if complete && text.len() <= KEEP_STR {
        Val::Str(text.into())
    } else {
        Val::Other
    }
}

fn two_lines(input: &mut Input<'_>) -> Result<(String, String), Stop> {
    let module = input.line(KEEP_STR + 1, MAX_NAME_LINE)?;
    let name = input.line(KEEP_STR + 1, MAX_NAME_LINE)?;
    Ok((
        String::from_utf8_lossy(&module).into_owned(),
        String::from_utf8_lossy(&name).into_owned(),
    ))
}

/// Module and attribute names the unpickler can import: dotted Python identifiers.
fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= KEEP_STR
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

fn printable(s: &str) -> String {
    let short: String = s.chars().take(60).collect();
    short.escape_debug().to_string()
}

fn describe(value: &Val) -> &'static str {
    match value {
        Val::Str(_) => "a string",
        Val::Global(_) => "an imported object",
        Val::Obj(_) => "the result of a call",
        Val::Int(_) => "a number",
        Val::None => "None",
        Val::Seq(_) | Val::Dict(_) => "a container",
        Val::Other => "an untracked value",
    }
}

/// The text of a protocol-0 `STRING` argument: `'...'` or `"..."` with Python escapes.
fn unquote(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (&first, rest) = line.split_first()?;
    let inner = rest.strip_suffix(&[first])?;
    if first != b'\'' && first != b'"' {
        return None;
    }
    let mut out = String::new();
    let mut bytes = inner.iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(char::from(b));
            continue;
        }
        match bytes.next()? {
            b'n' => out.push('\n'),
            b't' => out.push('\t'),
            b'r' => out.push('\r'),
            b'x' => {
                let hex = [bytes.next()?, bytes.next()?];
                let value = u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?;
                out.push(char::from(value));
            }
            other => out.push(char::from(other)),
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape`: Latin-1 bytes, plus `\uXXXX` and `\UXXXXXXXX` escapes.
fn raw_unicode_unescape(line: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' && i + 1 < line.len() && matches!(line[i + 1], b'u' | b'U') {
            let width = if line[i + 1] == b'u' { 4 } else { 8 };
            let hex = line.get(i + 2..i + 2 + width);
            if let Some(c) = hex
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
            {
                out.push(c);
                i += 2 + width;
                continue;
            }
        }
        out.push(char::from(line[i]));
        i += 1;
    }
    out
}

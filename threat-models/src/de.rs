//! Typed deserialisation of a [`yaml::Node`](crate::yaml::Node) tree, with every problem
//! recorded at its exact range and recovery at list elements.
//!
//! The format types in [`crate::format`] derive `serde::Deserialize`; this module's deserializer
//! feeds them from the node tree and differs from a plain serde backend in three ways:
//! - **unknown keys** are reported (with "did you mean") and skipped, never fatal: serde tells the
//!   deserializer the struct's field names, so no `deny_unknown_fields` is needed;
//! - every **error is recorded where it is created** (the innermost node), so the diagnostic lands
//!   on the offending key or value, and a list element that fails is dropped (see
//!   [`lenient_vec`]) while the rest of the model is still read;
//! - [`Spanned<T>`] values receive their file and range.

use crate::diag::{Diag, Problem};
use crate::yaml::{Node, NodeKind};
use schemars::JsonSchema;
use serde::de::value::{StrDeserializer, U64Deserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use threatlens_rules::Span;
use threatlens_rules::source::LineIndex;

/// Index of a file in a loaded model ([`crate::Sources`]); 0 is the root file.
pub type FileId = usize;

/// Where something is: a file of the model and a range in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Span,
}

/// A value with the location of the YAML node it was read from.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub loc: Loc,
}

impl<T> Spanned<T> {
    pub fn new(value: T, loc: Loc) -> Self {
        Spanned { value, loc }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// The struct name through which [`Spanned`] asks [`NodeDe`] for its location: the "fields" are
/// the file, the start and end byte/line/column, then the value.
const SPANNED: &str = "$threatlens::Spanned";
const SPANNED_FIELDS: &[&str] = &["$file", "$sb", "$sl", "$sc", "$eb", "$el", "$ec", "$value"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct(
            SPANNED,
            SPANNED_FIELDS,
            SpannedVisitor(std::marker::PhantomData),
        )
    }
}

struct SpannedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = Spanned<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
        let mut numbers = [0u64; 7];
        let mut value = None;
        while let Some(key) = map.next_key::<String>()? {
            match SPANNED_FIELDS.iter().position(|f| *f == key) {
                Some(7) => value = Some(map.next_value::<T>()?),
                Some(i) => numbers[i] = map.next_value()?,
                None => return Err(de::Error::custom("unexpected key in a spanned value")),
            }
        }
        let value = value.ok_or_else(|| de::Error::custom("a spanned value without a value"))?;
        let [file, sb, sl, sc, eb, el, ec] = numbers;
        let pos = |line: u64, column: u64| threatlens_rules::Position {
            line: line as u32,
            column: column as u32,
        };
        Ok(Spanned {
            value,
            loc: Loc {
                file: file as usize,
                span: Span {
                    start_byte: sb as usize,
                    end_byte: eb as usize,
                    start: pos(sl, sc),
                    end: pos(el, ec),
                    cell: None,
                },
            },
        })
    }
}

/// A list element that failed to deserialise is dropped; its problems were already recorded
/// by [`NodeDe`].
struct Recover<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Recover<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Recover(T::deserialize(deserializer).ok()))
    }
}

/// `deserialize_with` for lists of model elements: broken elements are dropped, the rest kept.
pub fn lenient_vec<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items: Vec<Recover<T>> = Vec::deserialize(deserializer)?;
    Ok(items.into_iter().filter_map(|r| r.0).collect())
}

/// `deserialize_with` for optional sections: a broken section reads as absent (its problems are
/// recorded).
pub fn lenient_opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let value: Option<Recover<T>> = Option::deserialize(deserializer)?;
    Ok(value.and_then(|r| r.0))
}

/// Shared state while deserialising one file: where problems go.
pub struct Ctx<'t> {
    pub file: FileId,
    pub text: &'t str,
    pub index: &'t LineIndex,
    pub diags: RefCell<Vec<Diag>>,
    /// Count of problems that abort an element (everything but unknown keys).
    hard: Cell<usize>,
    /// Ids of list elements that could not be read: references to them are not "dangling".
    pub broken_ids: RefCell<Vec<String>>,
}

impl<'t> Ctx<'t> {
    pub fn new(file: FileId, text: &'t str, index: &'t LineIndex) -> Self {
        Ctx {
            file,
            text,
            index,
            diags: RefCell::new(Vec::new()),
            hard: Cell::new(0),
            broken_ids: RefCell::new(Vec::new()),
        }
    }

    pub fn loc(&self, start: usize, end: usize) -> Loc {
        Loc {
            file: self.file,
            span: self.index.span(self.text, start, end),
        }
    }

    pub fn report(&self, problem: Problem, start: usize, end: usize, message: String) {
        if problem != Problem::UnknownKey {
            self.hard.set(self.hard.get() + 1);
        }
        self.diags
            .borrow_mut()
            .push(Diag::new(problem, self.loc(start, end), message));
    }
}

/// A deserialisation error. It is recorded in [`Ctx`] as soon as it gets a location, once.
#[derive(Debug)]
pub struct DeError {
    problem: Problem,
    message: String,
    recorded: bool,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            problem: Problem::WrongType,
            message: msg.to_string(),
            recorded: false,
        }
    }
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format!("expected {exp}, found {unexp}"))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            problem: Problem::UnknownValue,
            message: unknown_value_message(variant, None, expected),
            recorded: false,
        }
    }
    fn missing_field(field: &'static str) -> Self {
        DeError {
            problem: Problem::MissingKey,
            message: format!("missing required key `{field}`"),
            recorded: false,
        }
    }
}

fn unknown_value_message(value: &str, key: Option<&str>, expected: &[&str]) -> String {
    let mut message = match key {
        Some(key) => format!("unknown value `{value}` for `{key}`"),
        None => format!("unknown value `{value}`"),
    };
    message.push_str("; expected one of: ");
    message.push_str(&expected.join(", "));
    if let Some(best) = did_you_mean(value, expected.iter().copied()) {
        message.push_str(&format!(" (did you mean `{best}`?)"));
    }
    message
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let len = lower.chars().count();
    candidates
        .into_iter()
        // Words whose lengths differ by more than 3 are never close enough: skip the distance.
        .filter(|c| {
            c.chars().count().abs_diff(len) <= 3 || c.starts_with(&lower) || lower.starts_with(*c)
        })
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|&(d, c)| {
            d <= (c.chars().count().max(3) / 3).max(1)
                || (d <= 3 && lower.len() > 4 && (c.starts_with(&lower) || lower.starts_with(c)))
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// `DueDiligence` → "due diligence".
fn struct_words(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A deserializer over one node.
#[derive(Clone, Copy)]
pub struct NodeDe<'a, 't> {
    node: &'a Node,
    ctx: &'a Ctx<'t>,
    /// The mapping key this node is the value of, for messages.
    key: Option<&'a str>,
}

impl<'a, 't> NodeDe<'a, 't> {
    pub fn new(node: &'a Node, ctx: &'a Ctx<'t>) -> Self {
        NodeDe {
            node,
            ctx,
            key: None,
        }
    }

    fn what(&self) -> String {
        match self.key {
            Some(key) => format!("`{key}`"),
            None => "this value".to_owned(),
        }
    }

    /// Record a problem on this node now and return it as an already-recorded error.
    fn fail<T>(&self, problem: Problem, message: String) -> Result<T, DeError> {
        self.ctx
            .report(problem, self.node.start, self.node.end, message.clone());
        Err(DeError {
            problem,
            message,
            recorded: true,
        })
    }

    /// Give an error created elsewhere (by a visitor) this node's location, and record it.
    fn locate<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        match result {
            Err(mut e) if !e.recorded => {
                let (start, end) = match (&self.node.kind, e.problem) {
                    // A missing key is reported on the element's first key, not its whole body.
                    (NodeKind::Map(entries), Problem::MissingKey) => entries
                        .first()
                        .map_or((self.node.start, self.node.end), |e| {
                            (e.key.start, e.key.end)
                        }),
                    _ => (self.node.start, self.node.end),
                };
                if e.problem == Problem::WrongType
                    && let Some(key) = self.key
                {
                    e.message = format!("`{key}`: {}", e.message);
                }
                self.ctx.report(e.problem, start, end, e.message.clone());
                e.recorded = true;
                Err(e)
            }
            other => other,
        }
    }

    fn scalar_text(&self, expected: &str) -> Result<&'a str, DeError> {
        match &self.node.kind {
            NodeKind::Scalar(s) if !self.node.is_null() => Ok(s.text.as_str()),
            _ => self.fail(
                Problem::WrongType,
                format!(
                    "{} must be {expected}, found {}",
                    self.what(),
                    self.node.describe()
                ),
            ),
        }
    }

    fn plain_text(&self, expected: &str) -> Result<&'a str, DeError> {
        match &self.node.kind {
            NodeKind::Scalar(s) if s.plain && !self.node.is_null() => Ok(s.text.as_str()),
            NodeKind::Scalar(s) if !s.plain => self.fail(
                Problem::WrongType,
                format!(
                    "{} must be {expected}, found the quoted text `{}`; remove the quotes",
                    self.what(),
                    s.text
                ),
            ),
            _ => self.fail(
                Problem::WrongType,
                format!(
                    "{} must be {expected}, found {}",
                    self.what(),
                    self.node.describe()
                ),
            ),
        }
    }

    fn integer(&self) -> Result<i128, DeError> {
        let text = self.plain_text("a whole number")?;
        parse_int(text).map_or_else(
            || {
                self.fail(
                    Problem::WrongType,
                    format!("{} must be a whole number, found `{text}`", self.what()),
                )
            },
            Ok,
        )
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i128>().ok()?
    } else {
        return None;
    };
    Some(sign * value)
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let ok = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if ok { text.parse().ok() } else { None }
}

macro_rules! deserialize_integer {
    ($($method:ident => $visit:ident : $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n = self.integer()?;
            match <$ty>::try_from(n) {
                Ok(v) => self.locate(visitor.$visit(v)),
                Err(_) => self.fail(
                    Problem::WrongType,
                    format!("{} is out of range: {n}", self.what()),
                ),
            }
        }
    )*};
}

impl<'de, 'a, 't> Deserializer<'de> for NodeDe<'a, 't> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            NodeKind::Seq(items) => visitor.visit_seq(Seq::new(items, self.ctx)),
            NodeKind::Map(_) => visitor.visit_map(Map::new(self.node, None, self.ctx)),
            NodeKind::Scalar(s) if !s.plain => visitor.visit_str(&s.text),
            NodeKind::Scalar(_) if self.node.is_null() => visitor.visit_unit(),
            NodeKind::Scalar(s) => match s.text.as_str() {
                "true" | "True" | "TRUE" => visitor.visit_bool(true),
                "false" | "False" | "FALSE" => visitor.visit_bool(false),
                text => match parse_int(text) {
                    Some(n) => match i64::try_from(n) {
                        Ok(n) => visitor.visit_i64(n),
                        Err(_) => visitor.visit_str(text),
                    },
                    None => match parse_float(text) {
                        Some(f) => visitor.visit_f64(f),
                        None => visitor.visit_str(text),
                    },
                },
            },
        };
        self.locate(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.plain_text("true or false")?;
        match text {
            "true" | "True" | "TRUE" => self.locate(visitor.visit_bool(true)),
            "false" | "False" | "FALSE" => self.locate(visitor.visit_bool(false)),
            _ => self.fail(
                Problem::WrongType,
                format!("{} must be true or false, found `{text}`", self.what()),
            ),
        }
    }

    deserialize_integer! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.plain_text("a number")?;
        match parse_float(text) {
            Some(f) => self.locate(visitor.visit_f64(f)),
            None => self.fail(
                Problem::WrongType,
                format!("{} must be a number, found `{text}`", self.what()),
            ),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.scalar_text("text")?;
        self.locate(visitor.visit_str(text))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            self.locate(visitor.visit_none())
        } else {
            self.locate(visitor.visit_some(self))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            self.locate(visitor.visit_unit())
        } else {
            self.fail(
                Problem::WrongType,
                format!(
                    "{} must be empty, found {}",
                    self.what(),
                    self.node.describe()
                ),
            )
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.locate(visitor.visit_newtype_struct(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Seq(items) => self.locate(visitor.visit_seq(Seq::new(items, self.ctx))),
            NodeKind::Scalar(s) if !self.node.is_null() => self.fail(
                Problem::WrongType,
                format!("{} must be a list; write `[{}]`", self.what(), s.text),
            ),
            _ => self.fail(
                Problem::WrongType,
                format!(
                    "{} must be a list (`[a, b]`), found {}",
                    self.what(),
                    self.node.describe()
                ),
            ),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Map(_) => self.locate(visitor.visit_map(Map::new(self.node, None, self.ctx))),
            _ => self.fail(
                Problem::WrongType,
                format!(
                    "{} must be a mapping (`key: value` lines), found {}",
                    self.what(),
                    self.node.describe()
                ),
            ),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            return visitor.visit_map(SpannedAccess { de: self, step: 0 });
        }
        let NodeKind::Map(entries) = &self.node.kind else {
            return self.fail(
                Problem::WrongType,
                format!(
                    "{} must be a mapping of {} keys, found {}",
                    self.what(),
                    struct_words(name),
                    self.node.describe()
                ),
            );
        };
        for entry in entries {
            let key = entry.key.text().unwrap_or_default();
            if !fields.contains(&key) {
                let mut message = format!("unknown key `{key}` in {}", struct_words(name));
                match did_you_mean(key, fields.iter().copied()) {
                    Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                    None => message.push_str(&format!("; expected one of: {}", fields.join(", "))),
                }
                self.ctx
                    .report(Problem::UnknownKey, entry.key.start, entry.key.end, message);
            }
        }
        let result = visitor.visit_map(Map::new(self.node, Some(fields), self.ctx));
        self.locate(result)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let text = self.scalar_text("one of the listed values")?;
        if !variants.contains(&text) {
            return self.fail(
                Problem::UnknownValue,
                unknown_value_message(text, self.key, variants),
            );
        }
        self.locate(visitor.visit_enum(text.into_deserializer()))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Seq<'a, 't> {
    items: std::slice::Iter<'a, std::rc::Rc<Node>>,
    ctx: &'a Ctx<'t>,
}

impl<'a, 't> Seq<'a, 't> {
    fn new(items: &'a [std::rc::Rc<Node>], ctx: &'a Ctx<'t>) -> Self {
        Seq {
            items: items.iter(),
            ctx,
        }
    }
}

impl<'de> SeqAccess<'de> for Seq<'_, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let before = self.ctx.hard.get();
        let value = seed.deserialize(NodeDe::new(node, self.ctx));
        if self.ctx.hard.get() > before
            && let Some(id) = node.get("id").and_then(|id| id.text())
        {
            self.ctx.broken_ids.borrow_mut().push(id.to_owned());
        }
        value.map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a, 't> {
    entries: std::slice::Iter<'a, crate::yaml::Entry>,
    fields: Option<&'static [&'static str]>,
    ctx: &'a Ctx<'t>,
    value: Option<(&'a Node, &'a str)>,
}

impl<'a, 't> Map<'a, 't> {
    fn entries(node: &'a Node) -> &'a [crate::yaml::Entry] {
        match &node.kind {
            NodeKind::Map(entries) => entries,
            _ => &[],
        }
    }
    /// A mapping's entries; with `fields`, only the keys among them (the others were reported).
    fn new(node: &'a Node, fields: Option<&'static [&'static str]>, ctx: &'a Ctx<'t>) -> Self {
        Map {
            entries: Self::entries(node).iter(),
            fields,
            ctx,
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Map<'_, '_> {
    type Error = DeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for entry in self.entries.by_ref() {
            let key = entry.key.text().unwrap_or_default();
            if self.fields.is_some_and(|fields| !fields.contains(&key)) {
                continue;
            }
            self.value = Some((&entry.value, key));
            return seed
                .deserialize(NodeDe::new(&entry.key, self.ctx))
                .map(Some);
        }
        Ok(None)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some((node, key)) => seed.deserialize(NodeDe {
                node,
                ctx: self.ctx,
                key: Some(key),
            }),
            None => Err(de::Error::custom("a value without a key")),
        }
    }
}

/// Feeds [`SpannedVisitor`]: the file, the start and end positions, then the value.
struct SpannedAccess<'a, 't> {
    de: NodeDe<'a, 't>,
    step: usize,
}

impl<'de> MapAccess<'de> for SpannedAccess<'_, '_> {
    type Error = DeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match SPANNED_FIELDS.get(self.step) {
            Some(key) => seed
                .deserialize(StrDeserializer::<DeError>::new(key))
                .map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let step = self.step;
        self.step += 1;
        let ctx = self.de.ctx;
        let node = self.de.node;
        let start = ctx.index.position(ctx.text, node.start);
        let end = ctx.index.position(ctx.text, node.end);
        let number = match step {
            0 => ctx.file as u64,
            1 => node.start as u64,
            2 => u64::from(start.line),
            3 => u64::from(start.column),
            4 => node.end as u64,
            5 => u64::from(end.line),
            6 => u64::from(end.column),
            _ => return seed.deserialize(self.de),
        };
        seed.deserialize(U64Deserializer::<DeError>::new(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_typos_only() {
        let fields = ["protocol", "authn", "encryption", "carries"];
        assert_eq!(did_you_mean("protocl", fields), Some("protocol"));
        assert_eq!(did_you_mean("auth", fields), Some("authn"));
        assert_eq!(did_you_mean("Carries", fields), Some("carries"));
        assert_eq!(did_you_mean("banana", fields), None);
        assert_eq!(did_you_mean("encrypt", fields), Some("encryption"));
    }

    #[test]
    fn integers_follow_yaml_core_schema() {
        assert_eq!(parse_int("8"), Some(8));
        assert_eq!(parse_int("-3"), Some(-3));
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int("eight"), None);
        assert_eq!(parse_float("1.4"), Some(1.4));
        assert_eq!(parse_float("inf"), None);
        assert_eq!(parse_float("1.4.0"), None);
    }
}

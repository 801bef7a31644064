//! Qualified names and the patterns rules match them with.
//!
//! A qualified name is what an expression refers to after name resolution, written with `.`
//! between segments: `torch.load`, `openai.OpenAI().chat.completions.create` (a segment ending in
//! `()` is "the value returned by calling this"), `os.environ.[CURL_CA_BUNDLE]` (a subscript with a
//! constant key). A name that resolution could not tie to an import starts with `?` (`?client`), so
//! only patterns that begin with `**` can match it.
//!
//! Patterns use the same segments plus two wildcards: `*` inside a segment matches any run of
//! characters within that segment (`langchain_*`, `*()`), and a segment that is exactly `**`
//! matches zero or more whole segments (`**.chat.completions.create`). Rust paths in the
//! catalogue may use `::`; they are normalised to `.`.

use rustc_hash::FxHashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Exact(String),
    Glob(String),
    AnyMany,
}

/// A compiled qualified-name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    segments: Vec<Segment>,
    /// What every matching name starts with (the text before the first wildcard).
    literal_prefix: String,
    /// What the last segment of every matching name starts and ends with, when the pattern's
    /// last segment is a glob (`recv` and `()` of `recv*()`); empty otherwise.
    last_start: String,
    last_end: String,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let normalised = text.trim().replace("::", ".");
        if normalised.is_empty() {
            return Err("empty qualified-name pattern".into());
        }
        let segments = split(&normalised)
            .into_iter()
            .map(|seg| {
                if seg.is_empty() {
                    Err(format!("empty segment in pattern `{text}`"))
                } else if seg == "**" {
                    Ok(Segment::AnyMany)
                } else if seg.contains('*') {
                    Ok(Segment::Glob(seg.to_string()))
                } else {
                    Ok(Segment::Exact(seg.to_string()))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let literal_prefix = normalised.split('*').next().unwrap_or("").to_string();
        let (last_start, last_end) = match segments.last() {
            Some(Segment::Glob(glob)) => (
                glob.split('*').next().unwrap_or("").to_string(),
                glob.rsplit('*').next().unwrap_or("").to_string(),
            ),
            _ => Default::default(),
        };
        Ok(Self {
            source: text.to_string(),
            segments,
            literal_prefix,
            last_start,
            last_end,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The last segment, when it is exact: the key under which [`PatternIndex`] files it.
    fn last_exact(&self) -> Option<&str> {
        match self.segments.last() {
            Some(Segment::Exact(last)) => Some(last),
            _ => None,
        }
    }

    /// Whether `last`, the last segment of a name, can be what a glob last segment matches: it
    /// has the glob's literal start and end (`recv` and `()` of `recv*()`). A cheap pre-check.
    fn may_end_with(&self, last: &str) -> bool {
        last.len() >= self.last_start.len() + self.last_end.len()
            && last.starts_with(&self.last_start)
            && last.ends_with(&self.last_end)
    }

    pub fn matches(&self, qname: &str) -> bool {
        with_segments(qname, |parts| self.matches_segments(parts))
    }

    /// Whether any of `patterns` matches `qname` (split once for all of them).
    pub fn any_matches(patterns: &[Pattern], qname: &str) -> bool {
        !patterns.is_empty()
            && with_segments(qname, |parts| {
                patterns.iter().any(|p| p.matches_segments(parts))
            })
    }

    fn matches_segments(&self, parts: &[&str]) -> bool {
        match_segments(&self.segments, parts)
    }

    /// True when the pattern matches `qname` or any prefix of it made of whole segments
    /// (`flask.request` matches `flask.request.files.[f]`).
    pub fn matches_prefix(&self, qname: &str) -> bool {
        with_segments(qname, |parts| {
            (1..=parts.len()).any(|n| match_segments(&self.segments, &parts[..n]))
        })
    }
}

/// Calls `f` with the segments of `qname`, split on the stack (no allocation) when there are
/// few enough of them, as there nearly always are.
fn with_segments<R>(qname: &str, f: impl FnOnce(&[&str]) -> R) -> R {
    const INLINE: usize = 24;
    let mut inline: [&str; INLINE] = [""; INLINE];
    let mut count = 0;
    let mut overflow = false;
    for_each_segment(qname, |segment| {
        if count < INLINE {
            inline[count] = segment;
            count += 1;
        } else {
            overflow = true;
        }
    });
    if overflow {
        f(&split(qname))
    } else {
        f(&inline[..count])
    }
}

fn for_each_segment<'q>(qname: &'q str, mut f: impl FnMut(&'q str)) {
    let mut depth = 0usize;
    let mut start = 0;
    for (i, b) in qname.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'.' if depth == 0 => {
                f(&qname[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    f(&qname[start..]);
}

/// Splits a qualified name into segments on `.`, keeping `[...]` subscripts whole.
pub fn split(qname: &str) -> Vec<&str> {
    let mut parts = Vec::with_capacity(8);
    for_each_segment(qname, |segment| parts.push(segment));
    parts
}

/// The last segment of a qualified name.
pub fn last_segment(qname: &str) -> &str {
    let mut depth = 0usize;
    for (i, b) in qname.bytes().enumerate().rev() {
        match b {
            b']' => depth += 1,
            b'[' => depth = depth.saturating_sub(1),
            b'.' if depth == 0 => return &qname[i + 1..],
            _ => {}
        }
    }
    qname
}

fn match_segments(pattern: &[Segment], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((Segment::AnyMany, rest)) => {
            (0..=parts.len()).any(|skip| match_segments(rest, &parts[skip..]))
        }
        Some((segment, rest)) => match parts.split_first() {
            Some((part, others)) => segment_matches(segment, part) && match_segments(rest, others),
            None => false,
        },
    }
}

fn segment_matches(segment: &Segment, part: &str) -> bool {
    match segment {
        Segment::Exact(exact) => exact == part,
        Segment::Glob(glob) => glob_matches(glob.as_bytes(), part.as_bytes()),
        Segment::AnyMany => true,
    }
}

/// `*` matches any run of bytes; everything else matches itself.
fn glob_matches(glob: &[u8], text: &[u8]) -> bool {
    match glob.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| glob_matches(rest, &text[skip..])),
        Some((c, rest)) => text.first() == Some(c) && glob_matches(rest, &text[1..]),
    }
}

/// Patterns with a value each, filed by [`PatternSet`].
#[derive(Debug, Clone)]
pub struct PatternIndex<T> {
    patterns: PatternSet,
    values: Vec<T>,
}

impl<T> Default for PatternIndex<T> {
    fn default() -> Self {
        Self {
            patterns: PatternSet::default(),
            values: Vec::new(),
        }
    }
}

impl<T> PatternIndex<T> {
    pub fn insert(&mut self, pattern: Pattern, value: T) {
        self.patterns.insert(pattern, self.values.len());
        self.values.push(value);
    }

    /// Every value whose pattern matches `qname`: those filed by its last segment in insertion
    /// order, then the others in insertion order.
    pub fn matching<'s>(&'s self, qname: &str) -> impl Iterator<Item = &'s T> + 's {
        self.patterns
            .matching(qname)
            .into_iter()
            .filter_map(|id| self.values.get(id))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Patterns filed by their last segment so that a qualified name is only tested against the
/// few patterns that can match it. Patterns whose last segment is a glob are filed by their first
/// segment instead, when it is exact; `**` matches every name without a test. Each pattern
/// carries its insertion number, which is what a match returns. Not generic over the values of
/// a [`PatternIndex`], so that the walk's many lookups share one copy of this code (seven copies
/// of it were among the walk's worst instruction-cache misses).
#[derive(Debug, Clone, Default)]
struct PatternSet {
    by_last: FxHashMap<String, Vec<(usize, Pattern)>>,
    by_first: FxHashMap<String, Vec<(usize, Pattern)>>,
    everything: Vec<usize>,
    other: Vec<(usize, Pattern)>,
}

impl PatternSet {
    fn insert(&mut self, pattern: Pattern, id: usize) {
        if let Some(last) = pattern.last_exact() {
            let last = last.to_string();
            self.by_last.entry(last).or_default().push((id, pattern));
        } else if pattern.segments == [Segment::AnyMany] {
            self.everything.push(id);
        } else if let Some(Segment::Exact(first)) = pattern.segments.first() {
            let first = first.clone();
            self.by_first.entry(first).or_default().push((id, pattern));
        } else {
            self.other.push((id, pattern));
        }
    }

    /// The ids of the patterns that match `qname`, in the order [`PatternIndex::matching`] gives.
    #[inline(never)]
    fn matching(&self, qname: &str) -> Vec<usize> {
        let last = last_segment(qname);
        let exact = self.by_last.get(last).map_or(&[][..], Vec::as_slice);
        let by_first = self
            .by_first
            .get(first_segment(qname))
            .map_or(&[][..], Vec::as_slice);
        let other = self.other.iter().filter(|(_, pattern)| {
            qname.starts_with(&pattern.literal_prefix) && pattern.may_end_with(last)
        });
        let mut matched: Vec<usize> = Vec::new();
        let mut rest: Vec<usize> = self.everything.clone();
        let mut tests = by_first.iter().chain(other).peekable();
        if !exact.is_empty() || tests.peek().is_some() {
            with_segments(qname, |parts| {
                matched.extend(
                    exact
                        .iter()
                        .filter(|(_, pattern)| pattern.matches_segments(parts))
                        .map(|(id, _)| *id),
                );
                rest.extend(
                    tests
                        .filter(|(_, pattern)| pattern.matches_segments(parts))
                        .map(|(id, _)| *id),
                );
            });
        }
        rest.sort_unstable();
        matched.extend(rest);
        matched
    }
}

/// The first segment of a qualified name.
fn first_segment(qname: &str) -> &str {
    let mut depth = 0usize;
    for (i, b) in qname.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'.' if depth == 0 => return &qname[..i],
            _ => {}
        }
    }
    qname
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_of_several_patterns_matches_a_name_split_once() {
        let patterns: Vec<Pattern> = ["yaml.load", "**.chat.completions.create()"]
            .into_iter()
            .map(|p| Pattern::parse(p).unwrap())
            .collect();
        assert!(Pattern::any_matches(&patterns, "yaml.load"));
        assert!(Pattern::any_matches(
            &patterns,
            "openai.OpenAI().chat.completions.create()"
        ));
        assert!(!Pattern::any_matches(&patterns, "yaml.safe_load"));
        assert!(!Pattern::any_matches(&[], "yaml.load"));
    }

    #[test]
    fn an_index_finds_every_matching_pattern_in_insertion_order() {
        let mut index = PatternIndex::default();
        for (n, pattern) in [
            "zmq.**.recv*()",
            "torch.load",
            "**",
            "langchain*.**.*()()",
            "**.load",
            "gradio.*",
        ]
        .into_iter()
        .enumerate()
        {
            index.insert(Pattern::parse(pattern).unwrap(), n);
        }
        let found = |qname: &str| index.matching(qname).copied().collect::<Vec<_>>();
        // Filed by last segment first, then the rest in insertion order.
        assert_eq!(found("torch.load"), [1, 4, 2]);
        assert_eq!(found("zmq.Context().socket().recv_json()"), [0, 2]);
        assert_eq!(found("langchain_openai.ChatOpenAI()()"), [2, 3]);
        assert_eq!(found("gradio.Blocks"), [2, 5]);
        assert_eq!(found("gradio.themes.Soft"), [2]);
        assert_eq!(found("?client.load"), [4, 2]);
        assert!(
            PatternIndex::<usize>::default()
                .matching("x")
                .next()
                .is_none()
        );
    }

    fn m(pattern: &str, qname: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(qname)
    }

    #[test]
    fn exact_and_wildcards() {
        assert!(m("torch.load", "torch.load"));
        assert!(!m("torch.load", "torch.loads"));
        assert!(!m("torch.load", "?torch.load"));
        assert!(m(
            "**.chat.completions.create",
            "?client.chat.completions.create"
        ));
        assert!(m(
            "openai.*().chat.completions.create",
            "openai.AsyncOpenAI().chat.completions.create"
        ));
        assert!(m(
            "transformers.*.from_pretrained",
            "transformers.AutoModel.from_pretrained"
        ));
        assert!(!m(
            "transformers.*.from_pretrained",
            "transformers.from_pretrained"
        ));
        assert!(m(
            "langchain_*.**.*().invoke",
            "langchain_openai.ChatOpenAI().invoke"
        ));
        assert!(m("tch::CModule::load", "tch.CModule.load"));
        assert!(m(
            "os.environ.[CURL_CA_BUNDLE]",
            "os.environ.[CURL_CA_BUNDLE]"
        ));
    }

    #[test]
    fn subscripts_stay_whole() {
        assert_eq!(split("a.[x.y].b"), vec!["a", "[x.y]", "b"]);
        assert_eq!(first_segment("[x.y].b"), "[x.y]");
        assert_eq!(last_segment("a.[x.y]"), "[x.y]");
        assert_eq!(first_segment("a.b.c"), "a");
        assert_eq!(last_segment("a.b.c"), "c");
        assert_eq!(last_segment("abc"), "abc");
    }

    #[test]
    fn prefix_matching() {
        let p = Pattern::parse("flask.request").unwrap();
        assert!(p.matches_prefix("flask.request.files.[upload]"));
        assert!(!p.matches_prefix("flask.requests"));
    }

    #[test]
    fn index_finds_by_last_segment_and_wildcards() {
        let mut index = PatternIndex::default();
        index.insert(Pattern::parse("pickle.loads").unwrap(), 1);
        index.insert(Pattern::parse("**.to_*").unwrap(), 2);
        assert_eq!(index.matching("pickle.loads").collect::<Vec<_>>(), vec![&1]);
        assert_eq!(
            index.matching("?df.to_pickle").collect::<Vec<_>>(),
            vec![&2]
        );
        assert!(index.matching("json.loads").next().is_none());
    }

    #[test]
    fn a_glob_last_segment_needs_its_literal_start_and_end() {
        let mut index = PatternIndex::default();
        index.insert(Pattern::parse("langchain*.**.*()()").unwrap(), 1);
        index.insert(Pattern::parse("fastapi.FastAPI().get*_x").unwrap(), 2);
        index.insert(Pattern::parse("**.recv*()").unwrap(), 3);
        index.insert(Pattern::parse("**.ab*bc").unwrap(), 4);
        let found = |qname| index.matching(qname).copied().collect::<Vec<_>>();
        assert_eq!(found("langchain_core.chains.Chain()()"), [1]);
        assert_eq!(found("langchain.llm()()"), [1]);
        assert!(found("langchain_core.chains.Chain().invoke()").is_empty());
        assert!(found("langchain_core.chains.Chain()").is_empty());
        assert_eq!(found("fastapi.FastAPI().get_x"), [2]);
        assert_eq!(found("fastapi.FastAPI().get_all_x"), [2]);
        assert!(found("fastapi.FastAPI().get_x_y").is_empty());
        assert!(found("fastapi.FastAPI().get_").is_empty());
        assert_eq!(found("?socket.recv()"), [3]);
        assert_eq!(found("?socket.recv_into()"), [3]);
        assert!(found("?socket.recv_into").is_empty());
        // The literal start and end may not overlap.
        assert!(found("?x.abc").is_empty());
        assert_eq!(found("?x.abbc"), [4]);
    }
}

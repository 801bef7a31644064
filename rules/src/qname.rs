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

use std::collections::HashMap;

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
        Ok(Self {
            source: text.to_string(),
            segments,
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

    pub fn matches(&self, qname: &str) -> bool {
        let parts = split(qname);
        match_segments(&self.segments, &parts)
    }

    /// True when the pattern matches `qname` or any prefix of it made of whole segments
    /// (`flask.request` matches `flask.request.files.[f]`).
    pub fn matches_prefix(&self, qname: &str) -> bool {
        let parts = split(qname);
        (1..=parts.len()).any(|n| match_segments(&self.segments, &parts[..n]))
    }
}

/// Splits a qualified name into segments on `.`, keeping `[...]` subscripts whole.
pub fn split(qname: &str) -> Vec<&str> {
    let mut parts = Vec::with_capacity(8);
    let mut depth = 0usize;
    let mut start = 0;
    for (i, b) in qname.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'.' if depth == 0 => {
                parts.push(&qname[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&qname[start..]);
    parts
}

/// The last segment of a qualified name.
pub fn last_segment(qname: &str) -> &str {
    split(qname).last().copied().unwrap_or(qname)
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

/// Patterns filed by their last segment so that a qualified name is only tested against the
/// few patterns that can match it.
#[derive(Debug, Clone)]
pub struct PatternIndex<T> {
    by_last: HashMap<String, Vec<(Pattern, T)>>,
    other: Vec<(Pattern, T)>,
}

impl<T> Default for PatternIndex<T> {
    fn default() -> Self {
        Self {
            by_last: HashMap::new(),
            other: Vec::new(),
        }
    }
}

impl<T: Clone> PatternIndex<T> {
    pub fn insert(&mut self, pattern: Pattern, value: T) {
        match pattern.last_exact() {
            Some(last) => self
                .by_last
                .entry(last.to_string())
                .or_default()
                .push((pattern, value)),
            None => self.other.push((pattern, value)),
        }
    }

    /// Every value whose pattern matches `qname`, in insertion order per bucket.
    pub fn matching<'s>(&'s self, qname: &'s str) -> impl Iterator<Item = &'s T> + 's {
        let last = last_segment(qname);
        self.by_last
            .get(last)
            .into_iter()
            .flatten()
            .chain(&self.other)
            .filter(move |(pattern, _)| pattern.matches(qname))
            .map(|(_, value)| value)
    }

    /// Whether any pattern could match a name ending in `last` (a cheap pre-check).
    pub fn may_match_last(&self, last: &str) -> bool {
        !self.other.is_empty() || self.by_last.contains_key(last)
    }

    pub fn is_empty(&self) -> bool {
        self.by_last.is_empty() && self.other.is_empty()
    }

    /// The exact last segments the patterns file under (for lexical pre-filters).
    pub fn exact_last_segments(&self) -> impl Iterator<Item = &str> {
        self.by_last.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

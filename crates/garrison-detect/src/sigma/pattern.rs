//! Compiled value tests: what one Sigma value (after its modifiers)
//! becomes, and how it is tested against an event's value without
//! allocating.

use std::fmt::Write as _;

use aho_corasick::AhoCorasick;
use garrison_core::event::Value;
use ipnet::IpNet;
use regex::Regex;

/// Bounds on what a rule may ask the regex compiler for: a hostile or
/// careless pattern is rejected, never run slowly (the `regex` crate is
/// linear-time; these bound its memory).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_NEST_LIMIT: u32 = 64;

/// A piece of a Sigma string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(String),
    /// `*`: any run of characters.
    Star,
    /// `?`: one character.
    One,
}

/// Splits a Sigma string into literals and wildcards, as pySigma does:
/// `\*`, `\?` and `\\` escape; a backslash before anything else is itself.
pub(crate) fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                // `**` is `*`.
                if c == '*' {
                    if out.last() != Some(&Tok::Star) {
                        out.push(Tok::Star);
                    }
                } else {
                    out.push(Tok::One);
                }
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    out
}

/// A string test; `cased` ones compare exactly, the others ignore case as
/// Sigma specifies.
#[derive(Debug)]
pub(crate) enum StrPat {
    Eq(Box<str>, bool),
    Prefix(Box<str>, bool),
    Suffix(Box<str>, bool),
    Contains(AhoCorasick),
    /// A present value, whatever it is (`*`).
    AnyText,
    Regex(Regex),
}

impl StrPat {
    /// Compiles a wildcard string.
    pub(crate) fn from_tokens(toks: &[Tok], cased: bool) -> Result<Self, String> {
        let ascii = toks.iter().all(|t| match t {
            Tok::Lit(s) => ascii_foldable(s),
            _ => true,
        });
        // Plain shapes, when case folding is ASCII (or not needed).
        if ascii || cased {
            match toks {
                [] => return Ok(Self::Eq("".into(), cased)),
                [Tok::Star] => return Ok(Self::AnyText),
                [Tok::Lit(s)] => return Ok(Self::Eq(s.as_str().into(), cased)),
                [Tok::Lit(s), Tok::Star] => return Ok(Self::Prefix(s.as_str().into(), cased)),
                [Tok::Star, Tok::Lit(s)] => return Ok(Self::Suffix(s.as_str().into(), cased)),
                [Tok::Star, Tok::Lit(s), Tok::Star] => {
                    return Ok(Self::Contains(contains_automaton(&[s.as_str()], !cased)?));
                }
                _ => {}
            }
        }
        let mut re = String::with_capacity(16);
        re.push_str(if cased { "(?s)^" } else { "(?si)^" });
        for t in toks {
            match t {
                Tok::Lit(s) => re.push_str(&regex::escape(s)),
                Tok::Star => re.push_str(".*"),
                Tok::One => re.push('.'),
            }
        }
        re.push('$');
        Ok(Self::Regex(build_regex(&re)?))
    }

    pub(crate) fn test(&self, v: &str) -> bool {
        match self {
            Self::Eq(n, true) => v == &**n,
            Self::Eq(n, false) => v.eq_ignore_ascii_case(n),
            Self::Prefix(n, cased) => {
                v.len() >= n.len() && v.is_char_boundary(n.len()) && eq(&v[..n.len()], n, *cased)
            }
            Self::Suffix(n, cased) => {
                let at = v.len().wrapping_sub(n.len());
                v.len() >= n.len() && v.is_char_boundary(at) && eq(&v[at..], n, *cased)
            }
            Self::Contains(ac) => ac.is_match(v),
            Self::AnyText => true,
            Self::Regex(re) => re.is_match(v),
        }
    }
}

/// Whether ASCII case folding is all the case folding `s` needs: its
/// non-ASCII characters (emoji, CJK, dashes, ...) have no case.
pub(crate) fn ascii_foldable(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii()
            || (c.to_lowercase().eq(std::iter::once(c)) && c.to_uppercase().eq(std::iter::once(c)))
    })
}

fn eq(a: &str, b: &str, cased: bool) -> bool {
    if cased {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

/// One automaton finding any of `needles` (ASCII case folded unless
/// `cased`).
pub(crate) fn contains_automaton(needles: &[&str], fold: bool) -> Result<AhoCorasick, String> {
    let mut b = AhoCorasick::builder();
    b.ascii_case_insensitive(fold);
    b.clone()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(needles)
        .or_else(|_| b.build(needles))
        .map_err(|e| format!("cannot build a substring matcher: {e}"))
}

/// Any of several substrings, ASCII case folded unless `cased`: the
/// automaton, and for few enough folded needles a SIMD (Teddy) searcher
/// over a lowercased copy made in stack-sized chunks (several times
/// faster on long text, such as keywords searched in every value).
#[derive(Debug)]
pub(crate) struct AnyContains {
    ac: AhoCorasick,
    fast: Option<(aho_corasick::packed::Searcher, usize)>,
}

/// The lowercasing buffer, and the longest needle the fast path takes.
const CHUNK: usize = 1024;
const FAST_MAX_LEN: usize = 128;
/// Text shorter than this goes to the automaton.
const FAST_MIN_TEXT: usize = 64;

impl AnyContains {
    pub(crate) fn new(needles: &[&str], cased: bool) -> Result<Self, String> {
        let ac = contains_automaton(needles, !cased)?;
        let max_len = needles.iter().map(|n| n.len()).max().unwrap_or(0);
        let fast = if cased
            || max_len > FAST_MAX_LEN
            || needles.len() > 64
            || needles.iter().any(|n| n.is_empty() || n.contains('\0'))
        {
            None
        } else {
            let mut b = aho_corasick::packed::Config::new().builder();
            b.extend(needles.iter().map(|n| n.to_ascii_lowercase()));
            b.build().map(|s| (s, max_len))
        };
        Ok(Self { ac, fast })
    }

    /// Whether any of `texts` contains a needle: one search over their
    /// lowercased text, joined with NUL (which no needle holds) in
    /// stack-sized chunks, rather than one search per text (keywords
    /// search every value of every event, most of them short).
    pub(crate) fn is_match_any<'t>(&self, texts: impl Iterator<Item = &'t str>) -> bool {
        let Some((searcher, _)) = self.fast.as_ref() else {
            return texts.into_iter().any(|t| self.ac.is_match(t));
        };
        let mut buf = [0u8; CHUNK];
        let mut len = 0;
        for text in texts {
            let t = text.as_bytes();
            if t.len() + 1 > CHUNK {
                // Too long to join: on its own (chunked).
                if self.is_match(text) {
                    return true;
                }
                continue;
            }
            if len + t.len() + 1 > CHUNK {
                if searcher.find(&buf[..len]).is_some() {
                    return true;
                }
                len = 0;
            }
            let dst = &mut buf[len..len + t.len()];
            dst.copy_from_slice(t);
            dst.make_ascii_lowercase();
            buf[len + t.len()] = 0;
            len += t.len() + 1;
        }
        len > 0 && searcher.find(&buf[..len]).is_some()
    }

    pub(crate) fn is_match(&self, s: &str) -> bool {
        // Short text: the automaton is cheaper than copying.
        let Some((searcher, max_len)) = self.fast.as_ref().filter(|_| s.len() >= FAST_MIN_TEXT)
        else {
            return self.ac.is_match(s);
        };
        let s = s.as_bytes();
        let mut buf = [0u8; CHUNK];
        let mut at = 0;
        loop {
            let end = (at + CHUNK).min(s.len());
            let chunk = &mut buf[..end - at];
            chunk.copy_from_slice(&s[at..end]);
            chunk.make_ascii_lowercase();
            if searcher.find(&*chunk).is_some() {
                return true;
            }
            if end == s.len() {
                return false;
            }
            // Overlap by a needle's length less one.
            at = end + 1 - (*max_len).max(1);
        }
    }
}

/// A regex with the size bounds above.
pub(crate) fn build_regex(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().last().unwrap_or_default().trim().to_owned();
            format!("regular expression rejected: {first}")
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// How a `fieldref` compares the two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    Eq,
    Prefix,
    Suffix,
    Contains,
}

/// One compiled value of a detection item.
#[derive(Debug)]
pub(crate) enum Pat {
    /// `null`: the field is absent or empty.
    Null,
    Str(StrPat),
    /// A YAML number without modifiers: equal as a number, or as text.
    Num(i64, Box<str>),
    Cmp(Cmp, f64),
    Cidr(IpNet),
    /// `fieldref`: the value of another field (slot resolved at eval).
    FieldRef(super::FieldRef, RefKind),
}

impl Pat {
    /// Tests a present value (lists: any element).
    pub(crate) fn test(&self, v: &Value, ev: &super::Eval<'_>) -> bool {
        if let Value::List(items) = v {
            return items.iter().any(|i| self.test(i, ev));
        }
        match self {
            Self::Null => match v {
                Value::Str(s) => s.is_empty(),
                _ => false,
            },
            Self::Str(p) => with_text(v, |s| p.test(s)),
            Self::Num(n, text) => match v {
                Value::Int(i) => i == n,
                Value::Float(f) => (*f - *n as f64).abs() < f64::EPSILON,
                Value::Str(s) => s.trim() == &**text,
                _ => false,
            },
            Self::Cmp(op, n) => {
                let x = match v {
                    Value::Int(i) => *i as f64,
                    Value::Float(f) => *f,
                    Value::Str(s) => match s.trim().parse::<f64>() {
                        Ok(x) => x,
                        Err(_) => return false,
                    },
                    _ => return false,
                };
                match op {
                    Cmp::Gt => x > *n,
                    Cmp::Gte => x >= *n,
                    Cmp::Lt => x < *n,
                    Cmp::Lte => x <= *n,
                }
            }
            Self::Cidr(net) => v.as_ip().is_some_and(|ip| net.contains(&ip)),
            Self::FieldRef(f, kind) => {
                let Some(o) = ev.get(f) else { return false };
                with_text(v, |a| {
                    with_text(o, |b| match kind {
                        RefKind::Eq => a == b,
                        RefKind::Prefix => a.starts_with(b),
                        RefKind::Suffix => a.ends_with(b),
                        RefKind::Contains => a.contains(b),
                    })
                })
            }
        }
    }
}

/// Calls `f` with the value as text, formatting numbers and addresses on
/// the stack (no allocation).
pub(crate) fn with_text<R>(v: &Value, f: impl FnOnce(&str) -> R) -> R {
    match v {
        Value::Str(s) => f(s),
        other => {
            let mut buf = StackText::default();
            let _ = match other {
                Value::Int(n) => write!(buf, "{n}"),
                Value::Float(x) => write!(buf, "{x}"),
                Value::Bool(b) => write!(buf, "{b}"),
                Value::Ip(ip) => write!(buf, "{ip}"),
                // Lists are taken apart by the callers; their JSON text is
                // never what a rule means.
                Value::List(_) | Value::Str(_) => Ok(()),
            };
            f(buf.as_str())
        }
    }
}

/// A small text buffer on the stack; text past its size is dropped (a
/// number or address never comes near it).
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

//! A pull reader of one JSON text, for the parsers' hot paths.
//!
//! It reads tokens straight off the line: text without escapes is borrowed,
//! whole numbers that plainly fit a `u64` are read in place, and everything
//! unusual (escapes aside) is handed to `serde_json` for that one token.
//! It accepts at most what `serde_json` accepts and gives the same values;
//! where it is unsure (a lone surrogate escape, a number with a fraction it
//! cannot settle, nesting deeper than [`MAX_DEPTH`]) it says no, and the
//! caller falls back on its `serde_json` reader, which words the error.
//! Every method returns `None` on anything that is not JSON.

use std::borrow::Cow;

/// Deeper nesting is refused (`serde_json` stops at 128).
pub(crate) const MAX_DEPTH: u32 = 100;

/// A scalar as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// A whole number `serde_json` would visit as unsigned.
    U64(u64),
    /// A negative whole number.
    I64(i64),
    F64(f64),
    Bool(bool),
    Null,
}

/// What comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Object,
    Array,
    Scalar,
}

pub(crate) struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of `w` that end a plain run of string text (`"`, `\` or a
/// control character) have their high bit set; bits above the first such
/// byte may be wrong, the lowest set bit never is.
const fn specials(w: u64) -> u64 {
    let quote = w ^ (ONES * b'"' as u64);
    let backslash = w ^ (ONES * b'\\' as u64);
    (quote.wrapping_sub(ONES) | backslash.wrapping_sub(ONES) | w.wrapping_sub(ONES * 0x20))
        & !w
        & HIGH
}

/// The index of the first `"`, `\` or control character in `b` from `i`
/// (or `b.len()`).
#[inline]
fn find_special(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = specials(u64::from_le_bytes(word));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

impl<'a> Reader<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn ws(&mut self) {
        let b = self.bytes();
        // Most tokens follow the last with no space.
        if b.get(self.pos).is_some_and(|&c| c > b' ') {
            return;
        }
        while let Some(&c) = b.get(self.pos) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not taken.
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes().get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.pos += 1)
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// The kind of the next value.
    pub(crate) fn next(&mut self) -> Option<Next> {
        Some(match self.peek()? {
            b'{' => Next::Object,
            b'[' => Next::Array,
            _ => Next::Scalar,
        })
    }

    /// Opens an object; `Some(true)` when it has members (the first key
    /// comes next).
    pub(crate) fn object(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(false);
        }
        Some(true)
    }

    /// A member's key and its `:`.
    pub(crate) fn key(&mut self) -> Option<Cow<'a, str>> {
        let k = self.string()?;
        self.eat(b':')?;
        Some(k)
    }

    /// After a member or an item: `Some(true)` when another follows,
    /// `Some(false)` when `close` ended the object or array.
    pub(crate) fn more(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Some(true)
            }
            c if c == close => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Opens an array; `Some(true)` when it has items.
    pub(crate) fn array(&mut self) -> Option<bool> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(false);
        }
        Some(true)
    }

    /// A scalar (not an object or array).
    pub(crate) fn scalar(&mut self) -> Option<Scalar<'a>> {
        Some(match self.peek()? {
            b'"' => Scalar::Str(self.string()?),
            b't' => self.literal("true", Scalar::Bool(true))?,
            b'f' => self.literal("false", Scalar::Bool(false))?,
            b'n' => self.literal("null", Scalar::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        })
    }

    fn literal(&mut self, word: &str, v: Scalar<'a>) -> Option<Scalar<'a>> {
        let rest = self.s.get(self.pos..)?;
        rest.starts_with(word).then(|| {
            self.pos += word.len();
            v
        })
    }

    fn number(&mut self) -> Option<Scalar<'a>> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let mut n: u64 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            i += 1;
        }
        let digits = i - start;
        let plain = (1..=19).contains(&digits)
            && (b[start] != b'0' || digits == 1)
            && !matches!(b.get(i), Some(b'.' | b'e' | b'E' | b'-' | b'+'));
        if plain {
            self.pos = i;
            return Some(Scalar::U64(n));
        }
        // Signs, fractions, exponents, leading zeros, big numbers: the
        // token is read by serde_json, which settles them its own way.
        while let Some(&c) = b.get(i) {
            if !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                break;
            }
            i += 1;
        }
        let n: serde_json::Number = serde_json::from_str(self.s.get(start..i)?).ok()?;
        self.pos = i;
        Some(if let Some(u) = n.as_u64() {
            Scalar::U64(u)
        } else if let Some(v) = n.as_i64() {
            Scalar::I64(v)
        } else {
            Scalar::F64(n.as_f64()?)
        })
    }

    /// A string token, borrowed when it has no escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.ws();
        let b = self.bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let i = find_special(b, start);
        if b.get(i) == Some(&b'"') {
            self.pos = i + 1;
            return self.s.get(start..i).map(Cow::Borrowed);
        }
        self.escaped(start, i).map(Cow::Owned)
    }

    /// The rest of a string with escapes, from `start` with the first
    /// backslash at `i`.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, start: usize, mut i: usize) -> Option<String> {
        let b = self.bytes();
        if b.get(i) != Some(&b'\\') {
            // A control character, or the end of the line.
            return None;
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.s.get(start..i)?);
        loop {
            // At a backslash.
            let c = *b.get(i + 1)?;
            i += 2;
            match c {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let unit = hex4(b.get(i..i + 4)?)?;
                    i += 4;
                    let code = match unit {
                        0xD800..=0xDBFF => {
                            if b.get(i..i + 2)? != b"\\u" {
                                return None;
                            }
                            let low = hex4(b.get(i + 2..i + 6)?)?;
                            if !(0xDC00..=0xDFFF).contains(&low) {
                                return None;
                            }
                            i += 6;
                            0x1_0000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        }
                        0xDC00..=0xDFFF => return None,
                        u => u,
                    };
                    out.push(char::from_u32(code)?);
                }
                _ => return None,
            }
            let j = find_special(b, i);
            out.push_str(self.s.get(i..j)?);
            match b.get(j)? {
                b'"' => {
                    self.pos = j + 1;
                    return Some(out);
                }
                b'\\' => i = j,
                _ => return None,
            }
        }
    }

    /// Skips one value of any kind, checking it is JSON; returns its text.
    pub(crate) fn skip(&mut self, depth: u32) -> Option<&'a str> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let start = self.pos;
        match self.next()? {
            Next::Object => {
                if self.object()? {
                    loop {
                        self.key()?;
                        self.skip(depth + 1)?;
                        if !self.more(b'}')? {
                            break;
                        }
                    }
                }
            }
            Next::Array => {
                if self.array()? {
                    loop {
                        self.skip(depth + 1)?;
                        if !self.more(b']')? {
                            break;
                        }
                    }
                }
            }
            Next::Scalar => {
                self.scalar()?;
            }
        }
        self.s.get(start..self.pos)
    }
}

fn hex4(h: &[u8]) -> Option<u32> {
    h.iter().try_fold(0u32, |acc, &c| {
        let d = char::from(c).to_digit(16)?;
        Some((acc << 4) | d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scalar as serde_json reads it.
    fn serde_scalar(s: &str) -> Option<Scalar<'static>> {
        let v: serde_json::Value = serde_json::from_str(s).ok()?;
        Some(match v {
            serde_json::Value::String(s) => Scalar::Str(Cow::Owned(s)),
            serde_json::Value::Bool(b) => Scalar::Bool(b),
            serde_json::Value::Null => Scalar::Null,
            serde_json::Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Scalar::U64(u)
                } else if let Some(i) = n.as_i64() {
                    Scalar::I64(i)
                } else {
                    Scalar::F64(n.as_f64()?)
                }
            }
            _ => return None,
        })
    }

    fn ours(s: &str) -> Option<Scalar<'_>> {
        let mut r = Reader::new(s);
        let v = r.scalar()?;
        r.at_end().then_some(v)
    }

    #[test]
    fn scalars_read_as_serde_json_reads_them() {
        for s in [
            r#""plain""#,
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u0041\u00e9\u20ac\ud83d\ude00 tail""#,
            r#""long text without any escape at all, past eight bytes""#,
            "\"caf\u{e9} \u{1f600}\"",
            "0",
            "7",
            "18446744073709551615",
            "9999999999999999999",
            "18446744073709551616",
            "-0",
            "-12",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "1e3",
            "2.5E-3",
            "0.1",
            "true",
            "false",
            "null",
        ] {
            assert_eq!(ours(s), serde_scalar(s), "{s}");
        }
        // Borrowed when it can be.
        assert!(matches!(
            ours(r#""abc""#),
            Some(Scalar::Str(Cow::Borrowed("abc")))
        ));
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for s in [
            "\"unterminated",
            "\"tab\tinside\"",
            "\"nul\u{0}inside\"",
            r#""bad \x escape""#,
            r#""\u12""#,
            r#""\ud83d alone""#,
            r#""\ude00 alone""#,
            r#""\ud83d\u0041""#,
            "01",
            "-",
            "1.",
            ".5",
            "+1",
            "1e",
            "tru",
            "nul",
            "'x'",
        ] {
            assert_eq!(serde_scalar(s), None, "serde_json takes {s}");
            assert_eq!(ours(s), None, "{s}");
        }
    }

    #[test]
    fn skip_checks_structure_and_returns_the_text() {
        let mut r = Reader::new(r#" {"a":[1,{"b":null}],"c":"d"} "#);
        assert_eq!(r.skip(0), Some(r#"{"a":[1,{"b":null}],"c":"d"}"#));
        assert!(r.at_end());
        for bad in [r#"{"a":1,}"#, "[1 2]", r#"{"a" 1}"#, "{1:2}", "[", "{"] {
            assert_eq!(Reader::new(bad).skip(0), None, "{bad}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(Reader::new(&deep).skip(0), None);
    }

    #[test]
    fn finds_specials_in_every_position() {
        for len in 0..24 {
            for c in [b'"', b'\\', 0x1f, 0x00] {
                for pos in 0..len {
                    let mut v = vec![b'a'; len];
                    v[pos] = c;
                    assert_eq!(find_special(&v, 0), pos, "len {len}, byte {c}, at {pos}");
                }
            }
            assert_eq!(find_special(&vec![0xc3; len], 0), len, "high bytes pass");
        }
    }
}

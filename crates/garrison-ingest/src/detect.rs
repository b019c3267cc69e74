//! Which format a line is in, from its first bytes: cheap (no
//! allocation, a few comparisons) because it runs on every line of an
//! `auto` source.
//!
//! | the line starts with | format |
//! |---|---|
//! | `<PRI>` (`<0>` to `<191>`), RFC 5424 or 3164 | [`Format::Syslog`] (so that CEF or LEEF inside is read by [`crate::syslog::parse_any`]) |
//! | `CEF:` | [`Format::Cef`] |
//! | `LEEF:` | [`Format::Leef`] |
//! | `{` | what [`crate::json::classify`] says |
//! | a BSD time (`Nov  3 10:00:00`) or an ISO 8601 time and a host | [`Format::Syslog`] (RFC 3164 without PRI) |
//! | anything else holding `CEF:0|`, `CEF:1|` or `LEEF:` (a header we do not know) | [`Format::Cef`] / [`Format::Leef`] |
//!
//! Anything else is `None`.

use crate::Format;
use crate::cef::find;
use crate::syslog::{pri, time};

/// The format of `line`, or `None` when it is none Garrison reads.
#[must_use]
pub fn detect(line: &str) -> Option<Format> {
    let b = line.trim_start().as_bytes();
    match b.first()? {
        b'<' if pri(b).is_some() => return Some(Format::Syslog),
        b'{' => return crate::json::classify(line),
        b'C' if b.starts_with(b"CEF:") => return Some(Format::Cef),
        b'L' if b.starts_with(b"LEEF:") => return Some(Format::Leef),
        _ => {}
    }
    if let Some((_, n)) = time::bsd(b)
        && matches!(b.get(n), Some(b' ' | b':'))
    {
        return Some(Format::Syslog);
    }
    if let Some((_, n)) = time::iso(b)
        && b.get(n) == Some(&b' ')
        && b.get(n + 1).is_some_and(|c| !c.is_ascii_whitespace())
    {
        return Some(Format::Syslog);
    }
    if find(b, b"CEF:0|").is_some() || find(b, b"CEF:1|").is_some() {
        return Some(Format::Cef);
    }
    if find(b, b"LEEF:1.0|").is_some() || find(b, b"LEEF:2.0|").is_some() {
        return Some(Format::Leef);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_their_start() {
        for (line, want) in [
            (
                "<36>1 2026-11-22T21:34:50Z vm sshd 1 - - m",
                Some(Format::Syslog),
            ),
            ("<36>Nov 22 21:34:50 vm sshd[1]: m", Some(Format::Syslog)),
            (
                "<166>Nov 22 21:34:50 vm CEF: CEF:0|a|b|c|d|e|f|",
                Some(Format::Syslog),
            ),
            ("<0>", Some(Format::Syslog)),
            ("CEF:0|a|b|c|d|e|f|g=h", Some(Format::Cef)),
            ("LEEF:1.0|a|b|c|d|", Some(Format::Leef)),
            ("Nov  3 10:00:00 host app: m", Some(Format::Syslog)),
            ("Nov 3 2026 10:00:00: %ASA-6-1: m", Some(Format::Syslog)),
            ("2026-11-03T10:00:00.123Z host app: m", Some(Format::Syslog)),
            ("host1 CEF:0|a|b|c|d|e|f|g=h", Some(Format::Cef)),
            ("2026-11-03 nothing", None),
            ("<999>x", None),
            ("<abc>", None),
            ("hello world", None),
            ("", None),
            ("   ", None),
            ("Nov", None),
            ("é", None),
        ] {
            assert_eq!(detect(line), want, "{line:?}");
        }
    }
}

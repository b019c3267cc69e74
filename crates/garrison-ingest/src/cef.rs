//! ArcSight Common Event Format:
//! `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`,
//! alone or after a syslog header (the header's fields are kept too, see
//! [`crate::syslog::parse_any`]).
//!
//! Header: `\|` and `\\` are unescaped, any other backslash is kept as
//! written. The version must be `0` or `1`. A header of seven fields with
//! no final `|` is read as having no extension.
//!
//! Extension: `key=value` pairs separated by spaces; a value runs until the
//! next ` key=` (a key is ASCII letters, digits, `_`, `.`, `-`, `[`, `]`
//! followed by an unescaped `=`), so values may hold spaces and, where a
//! producer forgot to escape it, `=`. Trailing spaces of a value are
//! dropped. In values `\=`, `\\`, `\|`, `\n` and `\r` are unescaped; an
//! unknown escape such as `\a` (Windows paths written by careless
//! producers) keeps its backslash rather than losing the event. An
//! extension that does not start with a key (`n,me=value`) is an error.
//!
//! | CEF | field |
//! |---|---|
//! | Version | `cef.version` |
//! | Device Vendor / Product / Version | `observer.vendor` / `observer.product` / `observer.version` |
//! | Signature ID | `event.code` |
//! | Name | `rule.name`, and `message` when there is no `msg` |
//! | Severity | `event.severity` (as sent; a number when it is one); [`Parsed::severity`] via [`crate::severity::from_cef`] |
//! | `rt` (else `end`, else `start`) | [`Parsed::timestamp`]: epoch ms (or s), `MMM dd yyyy HH:mm:ss`, RFC 3339; `start`/`end` also `event.start`/`event.end` |
//! | `src` `spt` `dst` `dpt` | `source.ip` `source.port` `destination.ip` `destination.port` |
//! | `suser` / `duser` | `source.user.name` / `destination.user.name`; `user.name` is `duser`, else `suser` |
//! | `shost` / `dhost` | `source.domain` / `destination.domain` |
//! | `smac` / `dmac` | `source.mac` / `destination.mac` |
//! | `proto` | `network.transport` (lower case; IANA numbers 1, 6, 17, ... named, and `network.iana_number`) |
//! | `act` `request` `requestMethod` `requestClientApplication` | `event.action` `url.original` `http.request.method` `user_agent.original` |
//! | `fname` `filePath` `fsize` | `file.name` `file.path` `file.size` |
//! | `fileHash` | `file.hash.md5`/`sha1`/`sha256`/`sha512` by length |
//! | `msg` `cat` `outcome` `reason` `externalId` | `message` `event.category` (raw) `event.outcome` `event.reason` `event.id` |
//! | `dvc` `dvchost` `deviceExternalId` | `observer.ip` `observer.hostname` `observer.name` |
//! | `in` / `out` | `source.bytes` / `destination.bytes` |
//! | `app` | `network.protocol` (lower case) |
//! | `dproc` `dpid` `spid` | `process.name` `process.pid` `source.process.pid`... see `map_ecs` in the source |
//!
//! The long key names of the CEF guide (`sourceAddress`, `destinationPort`,
//! ...) map like their short forms. Any other key, and a mapped key whose
//! value does not read as its type (`src=$host`), is kept as
//! `cef.extensions.<key>`.
//!
//! Custom labels: `cs1Label=RuleID cs1=2097157.1` keeps both keys under
//! `cef.extensions` as sent (`cef.extensions.cs1Label`,
//! `cef.extensions.cs1`) and adds `cef.custom.RuleID = "2097157.1"`: every
//! key `XLabel` whose `X` is present names `X`'s value. Labels go under
//! their own namespace so that a label can never overwrite a real
//! extension or ECS field; characters of the label other than ASCII
//! letters, digits, `_` and `-` become `_`.

use std::borrow::Cow;
use std::sync::OnceLock;

use garrison_core::Timestamp;

use crate::severity;
use crate::{Context, Fields, Format, ParseError, Parsed, Value};

/// Parses a CEF line, with or without a syslog header before `CEF:`.
///
/// # Errors
/// When there is no `CEF:`, the header has fewer than seven fields, the
/// version is not 0 or 1, or the extension does not start with a key.
pub fn parse(line: &str, ctx: &Context) -> Result<Parsed, ParseError> {
    let Some(start) = find(line.as_bytes(), b"CEF:") else {
        return Err(ParseError::new(
            Format::Cef,
            "the line has no \"CEF:\" header",
        ));
    };
    if start > 0
        && let Ok((Format::Cef, parsed)) = crate::syslog::parse_any(line, ctx)
    {
        return Ok(parsed);
    }
    let body = line.get(start..).unwrap_or_default();
    let mut parsed = Parsed::default();
    parse_body(body, ctx, &mut parsed)?;
    Ok(parsed)
}

/// The first position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay
            .get(i..)
            .and_then(|h| h.iter().position(|&b| b == first))
        {
            Some(p) => {
                i += p;
                if hay.get(i..i + needle.len()) == Some(needle) {
                    return Some(i);
                }
                i += 1;
            }
            None => return None,
        }
    }
    None
}

/// Splits `s` (from `from`) on unescaped `sep`, at most `max` fields;
/// returns the field bounds, how many were found, and where the rest
/// starts (after the last separator), if a separator ended the last field.
pub(crate) fn split_header<const N: usize>(
    s: &[u8],
    from: usize,
    sep: u8,
) -> ([(usize, usize); N], usize, Option<usize>) {
    let mut out = [(0, 0); N];
    let mut n = 0;
    let mut start = from;
    let mut i = from;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b if b == sep => {
                if n < N {
                    out[n] = (start, i);
                }
                n += 1;
                start = i + 1;
                i += 1;
                if n == N {
                    return (out, n, Some(start));
                }
            }
            _ => i += 1,
        }
    }
    if n < N && start <= s.len() {
        out[n] = (start, s.len());
        n += 1;
    }
    (out, n, None)
}

/// Unescapes a header field: `\|` and `\\`.
pub(crate) fn unescape_header(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('|' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Unescapes an extension value: `\=`, `\\`, `\|`, `\n`, `\r`; other
/// escapes keep their backslash.
pub(crate) fn unescape_value(s: &str) -> Cow<'_, str> {
    // A plain loop: values are short, and `contains` calls `memchr`.
    #[allow(clippy::manual_contains)]
    if !s.as_bytes().iter().any(|&b| b == b'\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('=' | '\\' | '|')) => out.push(n),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes an extension value so that [`parse`] reads it back (the
/// inverse of `unescape_value`).
#[must_use]
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The bytes a key is made of, as a table: the test runs at every byte
/// after every space of every value.
const KEY_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        // `b` is below 256.
        #[allow(clippy::cast_possible_truncation)]
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'[' | b']');
        b += 1;
    }
    t
};

fn is_key_byte(b: u8) -> bool {
    KEY_BYTES[usize::from(b)]
}

/// The length of a key at `at` when `key=` starts there.
fn key_at(s: &[u8], at: usize) -> Option<usize> {
    let mut j = at;
    while j < s.len() && is_key_byte(s[j]) {
        j += 1;
    }
    (j > at && s.get(j) == Some(&b'=')).then_some(j - at)
}

/// The `key=value` pairs of a CEF extension, values still escaped.
///
/// # Errors
/// When the extension does not start with a key.
pub(crate) fn extension_pairs(ext: &str) -> Result<Vec<(&str, &str)>, String> {
    let s = ext.as_bytes();
    let mut pairs = Vec::with_capacity(24);
    let mut i = 0;
    while s.get(i) == Some(&b' ') {
        i += 1;
    }
    if i == s.len() || s[i..].iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(pairs);
    }
    let Some(klen) = key_at(s, i) else {
        let shown: String = ext.trim().chars().take(40).collect();
        return Err(format!(
            "the extension does not start with key=value (a key is letters, digits, '_', '.', '-'): {shown:?}"
        ));
    };
    let mut key = (i, i + klen);
    i += klen + 1;
    loop {
        let vstart = i;
        let mut next = None;
        while i < s.len() {
            match s[i] {
                b'\\' => i += 2,
                b' ' => {
                    if let Some(k) = key_at(s, i + 1) {
                        next = Some((i + 1, i + 1 + k));
                        break;
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        let vend = i.min(s.len());
        let k = ext.get(key.0..key.1).unwrap_or_default();
        let v = ext.get(vstart..vend).unwrap_or_default();
        let kept = v
            .as_bytes()
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |p| p + 1);
        pairs.push((k, v.get(..kept).unwrap_or(v)));
        match next {
            Some(nk) => {
                key = nk;
                i = nk.1 + 1;
            }
            None => return Ok(pairs),
        }
    }
}

/// Parses a CEF message starting at `CEF:` into `out`: fields are added,
/// the timestamp and severity set when the message carries them.
///
/// # Errors
/// See [`parse`].
pub(crate) fn parse_body(body: &str, ctx: &Context, out: &mut Parsed) -> Result<(), ParseError> {
    let err = |m: String| ParseError::new(Format::Cef, m);
    let b = body.as_bytes();
    if !b.starts_with(b"CEF:") {
        return Err(err("the line does not start with \"CEF:\"".into()));
    }
    let (h, n, rest) = split_header::<7>(b, 4, b'|');
    if n < 7 {
        return Err(err(format!(
            "the header has {n} of the 7 fields separated by | (version, vendor, product, device version, signature id, name, severity)"
        )));
    }
    let field = |i: usize| -> &str {
        let (a, z) = h[i];
        body.get(a..z).unwrap_or_default()
    };
    let version = field(0).trim();
    if version != "0" && version != "1" {
        let shown: String = version.chars().take(20).collect();
        return Err(err(format!(
            "the CEF version {shown:?} is not supported (0 or 1)"
        )));
    }
    let ext = rest.and_then(|r| body.get(r..)).unwrap_or_default();
    let pairs = extension_pairs(ext).map_err(err)?;

    let f = &mut out.fields;
    f.set(
        "cef.version",
        Value::Int(if version == "1" { 1 } else { 0 }),
    );
    f.set_text("observer.vendor", &unescape_header(field(1)));
    f.set_text("observer.product", &unescape_header(field(2)));
    f.set_text("observer.version", &unescape_header(field(3)));
    f.set_text("event.code", &unescape_header(field(4)));
    let name = unescape_header(field(5));
    f.set_text("rule.name", &name);
    let sev = unescape_header(field(6));
    let sev = sev.trim();
    if !sev.is_empty() {
        match sev.parse::<i64>() {
            Ok(n) => f.set("event.severity", Value::Int(n)),
            Err(_) => f.set("event.severity", Value::Str(sev.to_owned())),
        }
    }
    if let Some(s) = severity::from_cef(sev) {
        out.severity = s;
    }

    let received = ctx.received.as_millis();
    let (mut rt, mut end, mut start) = (None, None, None);
    for &(k, v) in &pairs {
        let value = unescape_value(v);
        match k {
            "rt" | "receiptTime" => {
                rt = crate::syslog::time::device_time(&value, received);
                if rt.is_some() {
                    continue;
                }
            }
            "end" | "endTime" => {
                end = crate::syslog::time::device_time(&value, received);
                if let Some(t) = end {
                    f.set("event.end", Timestamp::from_millis(t).to_rfc3339());
                    continue;
                }
            }
            "start" | "startTime" => {
                start = crate::syslog::time::device_time(&value, received);
                if let Some(t) = start {
                    f.set("event.start", Timestamp::from_millis(t).to_rfc3339());
                    continue;
                }
            }
            _ => {
                if map_ecs(k, &value, f) {
                    continue;
                }
            }
        }
        if !value.is_empty() {
            f.set(join_name("cef.extensions.", k), value.into_owned());
        }
    }
    let labelled = pairs.iter().any(|(k, _)| k.ends_with("Label"));
    for &(k, label) in pairs.iter().filter(|_| labelled) {
        let Some(base) = k.strip_suffix("Label") else {
            continue;
        };
        let label = unescape_value(label);
        if base.is_empty() || label.trim().is_empty() {
            continue;
        }
        if let Some(&(_, v)) = pairs.iter().find(|(k2, _)| *k2 == base) {
            let v = unescape_value(v);
            if !v.is_empty() {
                f.set(
                    format!("cef.custom.{}", sanitise_label(&label)),
                    v.into_owned(),
                );
            }
        }
    }
    if f.get("message").is_none() {
        f.set_text("message", &name);
    }
    if let Some(t) = rt.or(end).or(start) {
        out.timestamp = Some(Timestamp::from_millis(t));
    }
    Ok(())
}

fn sanitise_label(label: &str) -> String {
    label
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Sets an integer field from text; false when it is not one.
fn set_int(f: &mut Fields, name: &'static str, v: &str) -> bool {
    match v.trim().parse::<i64>() {
        Ok(n) => {
            f.set(name, Value::Int(n));
            true
        }
        Err(_) => false,
    }
}

fn set_text(f: &mut Fields, name: &'static str, v: &str) -> bool {
    f.set_text(name, v);
    true
}

fn set_lower(f: &mut Fields, name: &'static str, v: &str) -> bool {
    let v = v.trim();
    if !v.is_empty() {
        f.set(name, Value::Str(v.to_ascii_lowercase()));
    }
    true
}

/// The transport named by an IANA protocol number.
const fn iana_name(n: i64) -> Option<&'static str> {
    Some(match n {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        _ => return None,
    })
}

/// How a mapped key's value is read.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Ip(&'static str),
    Port(&'static str),
    Int(&'static str),
    Text(&'static str),
    Lower(&'static str),
    SourceUser,
    DestinationUser,
    Proto,
    FileHash,
    Message,
}

/// CEF and LEEF keys with an ECS meaning, sorted by length then bytes
/// (so that a repeated key shows; looked up through [`mapped`]).
const MAPPED: &[(&str, Kind)] = &[
    ("in", Kind::Int("source.bytes")),
    ("act", Kind::Text("event.action")),
    ("app", Kind::Lower("network.protocol")),
    ("cat", Kind::Text("event.category")),
    ("dpt", Kind::Port("destination.port")),
    ("dst", Kind::Ip("destination.ip")),
    ("dvc", Kind::Ip("observer.ip")),
    ("msg", Kind::Message),
    ("out", Kind::Int("destination.bytes")),
    ("spt", Kind::Port("source.port")),
    ("src", Kind::Ip("source.ip")),
    ("url", Kind::Text("url.original")),
    ("dmac", Kind::Text("destination.mac")),
    ("dpid", Kind::Int("process.pid")),
    ("duid", Kind::Text("destination.user.id")),
    ("smac", Kind::Text("source.mac")),
    ("spid", Kind::Int("source.process.pid")),
    ("suid", Kind::Text("source.user.id")),
    ("dhost", Kind::Text("destination.domain")),
    ("dproc", Kind::Text("process.name")),
    ("duser", Kind::DestinationUser),
    ("fname", Kind::Text("file.name")),
    ("fsize", Kind::Int("file.size")),
    ("proto", Kind::Proto),
    ("shost", Kind::Text("source.domain")),
    ("sproc", Kind::Text("source.process.name")),
    ("suser", Kind::SourceUser),
    ("action", Kind::Text("event.action")),
    ("domain", Kind::Text("user.domain")),
    ("dstMAC", Kind::Text("destination.mac")),
    ("policy", Kind::Text("rule.ruleset")),
    ("reason", Kind::Text("event.reason")),
    ("srcMAC", Kind::Text("source.mac")),
    ("bytesIn", Kind::Int("source.bytes")),
    ("dstPort", Kind::Port("destination.port")),
    ("dvchost", Kind::Text("observer.hostname")),
    ("message", Kind::Message),
    ("outcome", Kind::Lower("event.outcome")),
    ("request", Kind::Text("url.original")),
    ("srcPort", Kind::Port("source.port")),
    ("usrName", Kind::SourceUser),
    ("bytesOut", Kind::Int("destination.bytes")),
    ("dstBytes", Kind::Int("destination.bytes")),
    ("fileHash", Kind::FileHash),
    ("fileName", Kind::Text("file.name")),
    ("filePath", Kind::Text("file.path")),
    ("fileSize", Kind::Int("file.size")),
    ("srcBytes", Kind::Int("source.bytes")),
    ("dstPackets", Kind::Int("destination.packets")),
    ("dstPostNAT", Kind::Ip("destination.nat.ip")),
    ("externalId", Kind::Text("event.id")),
    ("requestURL", Kind::Text("url.original")),
    ("sourcePort", Kind::Port("source.port")),
    ("srcPackets", Kind::Int("source.packets")),
    ("srcPostNAT", Kind::Ip("source.nat.ip")),
    ("deviceAction", Kind::Text("event.action")),
    ("eventOutcome", Kind::Lower("event.outcome")),
    ("sourceUserId", Kind::Text("source.user.id")),
    ("deviceAddress", Kind::Ip("observer.ip")),
    ("identHostName", Kind::Text("host.name")),
    ("requestMethod", Kind::Text("http.request.method")),
    ("sourceAddress", Kind::Ip("source.ip")),
    ("deviceHostName", Kind::Text("observer.hostname")),
    ("dstPostNATPort", Kind::Port("destination.nat.port")),
    ("sourceHostName", Kind::Text("source.domain")),
    ("sourceUserName", Kind::SourceUser),
    ("srcPostNATPort", Kind::Port("source.nat.port")),
    ("destinationPort", Kind::Port("destination.port")),
    ("sourceProcessId", Kind::Int("source.process.pid")),
    ("deviceExternalId", Kind::Text("observer.name")),
    ("sourceMacAddress", Kind::Text("source.mac")),
    ("destinationUserId", Kind::Text("destination.user.id")),
    ("sourceProcessName", Kind::Text("source.process.name")),
    ("transportProtocol", Kind::Proto),
    ("destinationAddress", Kind::Ip("destination.ip")),
    ("applicationProtocol", Kind::Lower("network.protocol")),
    ("destinationHostName", Kind::Text("destination.domain")),
    ("destinationUserName", Kind::DestinationUser),
    ("deviceEventCategory", Kind::Text("event.category")),
    ("destinationProcessId", Kind::Int("process.pid")),
    ("sourceTranslatedPort", Kind::Port("source.nat.port")),
    ("destinationMacAddress", Kind::Text("destination.mac")),
    ("destinationProcessName", Kind::Text("process.name")),
    (
        "deviceInboundInterface",
        Kind::Text("observer.ingress.interface.name"),
    ),
    (
        "deviceOutboundInterface",
        Kind::Text("observer.egress.interface.name"),
    ),
    ("sourceTranslatedAddress", Kind::Ip("source.nat.ip")),
    (
        "requestClientApplication",
        Kind::Text("user_agent.original"),
    ),
    (
        "destinationTranslatedPort",
        Kind::Port("destination.nat.port"),
    ),
    (
        "destinationTranslatedAddress",
        Kind::Ip("destination.nat.ip"),
    ),
];

/// Maps a CEF or LEEF key with a known ECS meaning; false when the key is
/// not one, or its value does not read as the field's type (the caller
/// then keeps it under its own namespace). `msg` sets `message`;
/// `message` does so only when no `msg` came first.
pub(crate) fn map_ecs(key: &str, v: &str, f: &mut Fields) -> bool {
    let Some(kind) = mapped(key) else {
        return false;
    };
    match kind {
        Kind::Ip(name) => f.set_ip(name, v),
        Kind::Port(name) => f.set_port(name, v),
        Kind::Int(name) => set_int(f, name, v),
        Kind::Text(name) => set_text(f, name, v),
        Kind::Lower(name) => set_lower(f, name, v),
        Kind::SourceUser => {
            let v = v.trim();
            if !v.is_empty() {
                f.set("source.user.name", v);
                f.set_default("user.name", v);
            }
            true
        }
        Kind::DestinationUser => {
            let v = v.trim();
            if !v.is_empty() {
                f.set("destination.user.name", v);
                f.set("user.name", v);
            }
            true
        }
        Kind::Proto => {
            let v = v.trim();
            if let Ok(n) = v.parse::<i64>() {
                f.set("network.iana_number", Value::Str(v.to_owned()));
                if let Some(name) = iana_name(n) {
                    f.set("network.transport", name);
                }
                true
            } else {
                set_lower(f, "network.transport", v)
            }
        }
        Kind::FileHash => {
            let v = v.trim();
            let name = match v.len() {
                32 => "file.hash.md5",
                40 => "file.hash.sha1",
                64 => "file.hash.sha256",
                128 => "file.hash.sha512",
                _ => return false,
            };
            if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                return false;
            }
            f.set(name, v.to_ascii_lowercase());
            true
        }
        Kind::Message => {
            if key == "msg" || f.get("message").is_none() {
                set_text(f, "message", v)
            } else {
                false
            }
        }
    }
}

/// The slots of [`mapped`]'s table: four times the keys, a power of two.
const MAPPED_SLOTS: usize = 512;

/// FNV-1a over the key's bytes.
fn key_hash(k: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for &b in k {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h as usize
}

/// The mapping of `key`, from an open-addressed table over [`MAPPED`]
/// built once: one hash of the key and, nearly always, one comparison
/// (a binary search compared bytes seven times a key).
fn mapped(key: &str) -> Option<Kind> {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = vec![0u8; MAPPED_SLOTS];
        for (i, (k, _)) in MAPPED.iter().enumerate() {
            let mut at = key_hash(k.as_bytes()) % MAPPED_SLOTS;
            while t[at] != 0 {
                at = (at + 1) % MAPPED_SLOTS;
            }
            // Checked by a test: fewer than 255 keys.
            t[at] = u8::try_from(i + 1).unwrap_or(u8::MAX);
        }
        t
    });
    let mut at = key_hash(key.as_bytes()) % MAPPED_SLOTS;
    loop {
        let (k, kind) = MAPPED.get(usize::from(*table.get(at)?).checked_sub(1)?)?;
        if *k == key {
            return Some(*kind);
        }
        at = (at + 1) % MAPPED_SLOTS;
    }
}

#[cfg(test)]
fn by_len_then_bytes(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// `prefix` followed by `name`, without the formatting machinery.
pub(crate) fn join_name(prefix: &str, name: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + name.len());
    s.push_str(prefix);
    s.push_str(name);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::at(Timestamp::parse("2026-11-22T21:34:50Z").expect("ts"))
    }

    fn ok(line: &str) -> Parsed {
        parse(line, &ctx()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn s<'a>(p: &'a Parsed, name: &str) -> &'a str {
        p.fields
            .get_str(name)
            .unwrap_or_else(|| panic!("{name} missing in {:?}", p.fields))
    }

    #[test]
    fn header_and_mapped_extensions() {
        let p = ok(
            "CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Authentication|low|eventId=123 src=1.128.3.4 spt=33876 dst=81.2.69.143 dpt=443 duser=alice suser=bob destinationTranslatedAddress=10.10.10.10 fileHash=bc8bbe52f041fd17318f08a0f73762ce",
        );
        assert_eq!(s(&p, "observer.vendor"), "Elastic");
        assert_eq!(s(&p, "observer.product"), "Vaporware");
        assert_eq!(s(&p, "observer.version"), "1.0.0-alpha");
        assert_eq!(s(&p, "event.code"), "18");
        assert_eq!(s(&p, "rule.name"), "Authentication");
        assert_eq!(s(&p, "message"), "Authentication");
        assert_eq!(s(&p, "event.severity"), "low");
        assert_eq!(p.severity, 30);
        assert_eq!(
            p.fields.get("source.ip"),
            Some(&Value::Ip("1.128.3.4".parse().expect("ip")))
        );
        assert_eq!(p.fields.get("source.port"), Some(&Value::Int(33876)));
        assert_eq!(p.fields.get("destination.port"), Some(&Value::Int(443)));
        assert_eq!(s(&p, "destination.user.name"), "alice");
        assert_eq!(s(&p, "source.user.name"), "bob");
        assert_eq!(s(&p, "user.name"), "alice");
        assert_eq!(s(&p, "file.hash.md5"), "bc8bbe52f041fd17318f08a0f73762ce");
        assert_eq!(s(&p, "cef.extensions.eventId"), "123");
        assert!(p.fields.get("destination.nat.ip").is_some());
    }

    #[test]
    fn header_escapes_and_values_with_spaces_and_escapes() {
        let p = ok(
            r"CEF:0|Vendor|Product\|1\|\\|Version|Signature ID|some name|Severity| aa=field1 bb=this is a name\=value cc=field 3",
        );
        assert_eq!(s(&p, "observer.product"), r"Product|1|\");
        assert_eq!(s(&p, "cef.extensions.aa"), "field1");
        assert_eq!(s(&p, "cef.extensions.bb"), "this is a name=value");
        assert_eq!(s(&p, "cef.extensions.cc"), "field 3");
        assert_eq!(p.severity, 0);
        let p = ok(r"CEF:0|V|P|1|2|n|5|name=val\nue x=a\\b\rc y=C:\Windows");
        assert_eq!(s(&p, "cef.extensions.name"), "val\nue");
        assert_eq!(s(&p, "cef.extensions.x"), "a\\b\rc");
        assert_eq!(s(&p, "cef.extensions.y"), r"C:\Windows");
        assert_eq!(p.severity, 50);
    }

    #[test]
    fn empty_and_missing_extensions() {
        let p = ok("CEF:0|Vendor|Product|Version|Signature ID|some name|Severity|   ");
        assert!(
            p.fields
                .iter()
                .all(|(n, _)| !n.starts_with("cef.extensions"))
        );
        let p = ok("CEF:0|Vendor|Product|Version|1|some name|3|");
        assert_eq!(p.severity, 30);
        let p = ok("CEF:0|Vendor|Product|Version|1|some name|3");
        assert_eq!(s(&p, "rule.name"), "some name");
    }

    #[test]
    fn malformed_lines_are_errors_in_words() {
        let e = parse("CEF:0|Vendor", &ctx()).expect_err("short");
        assert!(e.reason.contains("2 of the 7 fields"), "{e}");
        let e = parse("CEF:0|V|P|1|2|n|5| n,me=value", &ctx()).expect_err("key");
        assert!(e.reason.contains("does not start with key=value"), "{e}");
        let e = parse("CEF:x|V|P|1|2|n|5|a=b", &ctx()).expect_err("version");
        assert!(e.reason.contains("version"), "{e}");
        assert!(parse("no cef here", &ctx()).is_err());
        assert!(parse("", &ctx()).is_err());
        assert!(parse("CEF:", &ctx()).is_err());
    }

    #[test]
    fn custom_labels_and_times() {
        let p = ok(
            r"CEF:0|FORCEPOINT|Firewall|6.6.1|70018|Connection_Allowed|0|deviceExternalId=Master FW node 1 dvc=10.1.1.40 dvchost=10.1.1.40 src=10.37.205.252 dst=10.1.1.40 proto=1 act=Allow msg=Referred connection: 10.1.1.40 -> 10.37.133.35 frag\=0x4000 TCP 47413->3020 rt=Jan 17 2020 08:52:09 cs1Label=RuleID cs1=2097157.1",
        );
        assert_eq!(s(&p, "cef.custom.RuleID"), "2097157.1");
        assert_eq!(s(&p, "cef.extensions.cs1"), "2097157.1");
        assert_eq!(s(&p, "cef.extensions.cs1Label"), "RuleID");
        assert_eq!(s(&p, "observer.name"), "Master FW node 1");
        assert_eq!(s(&p, "observer.hostname"), "10.1.1.40");
        assert_eq!(s(&p, "network.transport"), "icmp");
        assert_eq!(s(&p, "event.action"), "Allow");
        assert_eq!(
            s(&p, "message"),
            "Referred connection: 10.1.1.40 -> 10.37.133.35 frag=0x4000 TCP 47413->3020"
        );
        assert_eq!(p.timestamp, Timestamp::parse("2020-01-17T08:52:09Z"));
        let p = ok("CEF:0|V|P|1|2|n|5|end=1579250329000 start=1579250328000");
        assert_eq!(p.timestamp, Some(Timestamp::from_millis(1_579_250_329_000)));
        assert!(p.fields.get("event.start").is_some());
    }

    #[test]
    fn unmappable_values_are_kept_raw() {
        let p = ok("CEF:0|V|P|1|2|n|5|src=$host spt=http in=lots");
        assert_eq!(s(&p, "cef.extensions.src"), "$host");
        assert_eq!(s(&p, "cef.extensions.spt"), "http");
        assert_eq!(s(&p, "cef.extensions.in"), "lots");
        assert!(p.fields.get("source.ip").is_none());
    }

    #[test]
    fn trailing_whitespace_and_unescaped_equals() {
        let p = ok("CEF:0|V|P|1|2|n|5|message=padded dst=192.168.1.2 src=192.168.3.4     ");
        assert_eq!(
            p.fields.get("source.ip"),
            Some(&Value::Ip("192.168.3.4".parse().expect("ip")))
        );
        let p = ok("CEF:0|V|P|1|2|n|5|request=http://x/?a=b&c=d act=blocked");
        assert_eq!(s(&p, "url.original"), "http://x/?a=b&c=d");
    }

    #[test]
    fn escape_round_trips() {
        for v in ["a=b", r"c:\x", "line\nbreak\r", "plain text", r"\n literal"] {
            let line = format!("CEF:0|V|P|1|2|n|5|k={} z=1", escape_value(v));
            assert_eq!(s(&ok(&line), "cef.extensions.k"), v);
        }
    }

    #[test]
    fn mapped_keys_are_sorted_and_all_found() {
        assert!(MAPPED.len() * 4 <= MAPPED_SLOTS && MAPPED.len() < 255);
        assert!(mapped("notAKey").is_none() && mapped("").is_none());
        assert!(
            MAPPED
                .windows(2)
                .all(|w| by_len_then_bytes(w[0].0, w[1].0).is_lt()),
            "MAPPED must stay sorted by length, then bytes"
        );
        for (k, _) in MAPPED {
            assert!(mapped(k).is_some(), "{k}");
            let mut f = Fields::new();
            let _ = map_ecs(k, "1", &mut f);
        }
    }

    #[test]
    fn find_works() {
        assert_eq!(find(b"abcCEF:", b"CEF:"), Some(3));
        assert_eq!(find(b"CECEF:", b"CEF:"), Some(2));
        assert_eq!(find(b"CEF", b"CEF:"), None);
        assert_eq!(find(b"", b"CEF:"), None);
    }
}

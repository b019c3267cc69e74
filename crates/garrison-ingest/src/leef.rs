//! IBM QRadar's Log Event Extended Format, alone or after a syslog header:
//!
//! - LEEF 1.0: `LEEF:1.0|Vendor|Product|Version|EventID|` then
//!   tab-separated `key=value` attributes;
//! - LEEF 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|` then
//!   attributes separated by the delimiter, given as the character itself
//!   (`^`), as escape text (`\t`), or in hex (`0x09`, `x09`, `\x09`). When
//!   the field after the event id is not a delimiter (it holds `=`, as
//!   PAN-OS templates write), there is none and the separator is a tab.
//!
//! Real feeds rarely carry a real tab: relays rewrite it. When the
//! separator is a tab and the attributes hold none, the two characters
//! `\t` or rsyslog's control-character escape `#011` are taken as the
//! separator. A part without `=` belongs to the value before it (the
//! value held the separator).
//!
//! Mapping: the header gives `leef.version`, `observer.vendor`,
//! `observer.product`, `observer.version` and `event.code`. Attributes
//! map to ECS like CEF's (see [`crate::cef`]): `src`, `dst`, `srcPort`,
//! `dstPort`, `srcPostNAT`, `usrName` (`source.user.name`, `user.name`),
//! `srcMAC`, `proto`, `cat`, `msg`, `srcBytes`, `url`, `policy`, ...;
//! `sev` (1–10) gives `event.severity` and the severity; `devTime` gives
//! the timestamp, read with `devTimeFormat` (a Java date pattern) when
//! given, else as epoch milliseconds, `MMM dd yyyy HH:mm:ss[.SSS zzz]` or
//! RFC 3339. Anything else, and a value that does not read as its
//! field's type, is kept as `leef.<key>`.

use std::borrow::Cow;

use garrison_core::Timestamp;

use crate::cef::{find, map_ecs, split_header, unescape_header};
use crate::{Context, Format, ParseError, Parsed, Value, severity};

/// Parses a LEEF line, with or without a syslog header before `LEEF:`.
///
/// # Errors
/// When there is no `LEEF:`, the header has fewer than five fields or the
/// version is not 1.x or 2.x.
pub fn parse(line: &str, ctx: &Context) -> Result<Parsed, ParseError> {
    let Some(start) = find(line.as_bytes(), b"LEEF:") else {
        return Err(ParseError::new(
            Format::Leef,
            "the line has no \"LEEF:\" header",
        ));
    };
    if start > 0
        && let Ok((Format::Leef, parsed)) = crate::syslog::parse_any(line, ctx)
    {
        return Ok(parsed);
    }
    let mut parsed = Parsed::default();
    parse_body(line.get(start..).unwrap_or_default(), ctx, &mut parsed)?;
    Ok(parsed)
}

/// Reads a LEEF 2.0 delimiter field; `None` when it is not one.
fn delimiter(spec: &str) -> Option<Cow<'_, str>> {
    let mut chars = spec.chars();
    if let (Some(c), None) = (chars.next(), chars.clone().next()) {
        return (c != '=').then_some(Cow::Borrowed(spec));
    }
    let lower = spec.to_ascii_lowercase();
    let hex = lower
        .strip_prefix("\\x")
        .or_else(|| lower.strip_prefix("0x"))
        .or_else(|| lower.strip_prefix('x'));
    if let Some(h) = hex {
        let b = u8::from_str_radix(h, 16)
            .ok()
            .filter(|b| b.is_ascii() && *b != b'=')?;
        return Some(Cow::Owned(char::from(b).to_string()));
    }
    Some(Cow::Borrowed(match spec {
        "\\t" => "\t",
        "\\s" => " ",
        "\\|" => "|",
        _ => return None,
    }))
}

/// Parses a LEEF message starting at `LEEF:` into `out`.
///
/// # Errors
/// See [`parse`].
pub(crate) fn parse_body(body: &str, ctx: &Context, out: &mut Parsed) -> Result<(), ParseError> {
    let err = |m: String| ParseError::new(Format::Leef, m);
    let b = body.as_bytes();
    if !b.starts_with(b"LEEF:") {
        return Err(err("the line does not start with \"LEEF:\"".into()));
    }
    let (h, n, rest) = split_header::<5>(b, 5, b'|');
    if n < 5 {
        return Err(err(format!(
            "the header has {n} of the 5 fields separated by | (version, vendor, product, version, event id)"
        )));
    }
    let field = |i: usize| -> &str {
        let (a, z) = h[i];
        body.get(a..z).unwrap_or_default()
    };
    let version = field(0).trim();
    let major = match version.split('.').next() {
        Some("1") => 1,
        Some("2") => 2,
        _ => {
            let shown: String = version.chars().take(20).collect();
            return Err(err(format!(
                "the LEEF version {shown:?} is not supported (1.0 or 2.0)"
            )));
        }
    };
    let mut attrs = rest.and_then(|r| body.get(r..)).unwrap_or_default();
    let mut sep: Cow<'_, str> = Cow::Borrowed("\t");
    if major == 2
        && let Some(p) = attrs.find('|')
    {
        let spec = attrs.get(..p).unwrap_or_default();
        if let Some(d) = delimiter(spec) {
            sep = d;
            attrs = attrs.get(p + 1..).unwrap_or_default();
        }
    }
    if sep == "\t" && !attrs.contains('\t') {
        if attrs.contains("\\t") {
            sep = Cow::Borrowed("\\t");
        } else if attrs.contains("#011") {
            sep = Cow::Borrowed("#011");
        }
    }

    let f = &mut out.fields;
    f.set_text("leef.version", version);
    f.set_text("observer.vendor", &unescape_header(field(1)));
    f.set_text("observer.product", &unescape_header(field(2)));
    f.set_text("observer.version", &unescape_header(field(3)));
    f.set_text("event.code", &unescape_header(field(4)));

    // Key/value pairs; a part without '=' continues the value before it.
    let mut pairs: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(24);
    for part in attrs.split(sep.as_ref()) {
        match part.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !k.contains(' ') => {
                pairs.push((k.trim(), Cow::Borrowed(v)));
            }
            _ => {
                if let Some((_, v)) = pairs.last_mut() {
                    let mut s = std::mem::take(v).into_owned();
                    s.push_str(&sep);
                    s.push_str(part);
                    *v = Cow::Owned(s);
                }
            }
        }
    }

    let received = ctx.received.as_millis();
    let time_format = pairs
        .iter()
        .find(|(k, _)| *k == "devTimeFormat")
        .map(|(_, v)| v.trim().to_owned());
    for (k, v) in &pairs {
        let v = v.as_ref();
        match *k {
            "devTime" => {
                let t = time_format
                    .as_deref()
                    .and_then(|fmt| crate::syslog::time::java_format(v, fmt, received))
                    .or_else(|| crate::syslog::time::device_time(v, received));
                if let Some(t) = t {
                    out.timestamp = Some(Timestamp::from_millis(t));
                    continue;
                }
            }
            "sev" => {
                if let Some(s) = severity::from_leef(v) {
                    out.severity = s;
                    f.set("event.severity", Value::Int(i64::from(s / 10)));
                    continue;
                }
            }
            _ => {
                if map_ecs(k, v, f) {
                    continue;
                }
            }
        }
        let v = v.trim();
        if !v.is_empty() {
            f.set(crate::cef::join_name("leef.", k), v);
        }
    }
    Ok(())
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
    fn leef1_with_tabs() {
        let p = ok(
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tcat=anomaly\tmsg=this is a message\tsrcPort=81\tusrName=joe\tdevTime=Jan 17 2020 08:52:10\tfoo=bar",
        );
        assert_eq!(s(&p, "observer.vendor"), "Microsoft");
        assert_eq!(s(&p, "observer.version"), "4.0 SP1");
        assert_eq!(s(&p, "event.code"), "15345");
        assert_eq!(
            p.fields.get("source.ip"),
            Some(&Value::Ip("192.0.2.0".parse().expect("ip")))
        );
        assert_eq!(p.fields.get("source.port"), Some(&Value::Int(81)));
        assert_eq!(s(&p, "event.category"), "anomaly");
        assert_eq!(s(&p, "message"), "this is a message");
        assert_eq!(s(&p, "user.name"), "joe");
        assert_eq!(s(&p, "leef.foo"), "bar");
        assert_eq!(p.severity, 50);
        assert_eq!(p.timestamp, Timestamp::parse("2020-01-17T08:52:10Z"));
    }

    #[test]
    fn leef1_through_relays() {
        let p = ok("LEEF:1.0|V|P|1|E|src=10.0.0.1#011dst=10.0.0.2#011sev=9");
        assert_eq!(p.severity, 90);
        assert!(p.fields.get("destination.ip").is_some());
        let p = ok(r"LEEF:1.0|V|P|1|E|src=10.0.0.1\tdst=10.0.0.2");
        assert!(p.fields.get("destination.ip").is_some());
    }

    #[test]
    fn leef2_delimiters() {
        for (spec, sep) in [
            ("^", "^"),
            ("\\t", "\t"),
            ("0x09", "\t"),
            ("x5E", "^"),
            ("\\x7c", "|"),
        ] {
            let line = format!("LEEF:2.0|V|P|1|E|{spec}|src=10.0.0.1{sep}dstPort=443{sep}a=b c");
            let p = ok(&line);
            assert_eq!(
                p.fields.get("destination.port"),
                Some(&Value::Int(443)),
                "{line}"
            );
            assert_eq!(s(&p, "leef.a"), "b c", "{line}");
        }
        // No delimiter field (PAN-OS templates), separator written as \t.
        let p = ok(
            r"LEEF:2.0|Palo Alto Networks|PAN-OS Syslog Integration|4.0|$result|cat=$type\tusrName=$admin\tsrc=$host\tdevTime=$x",
        );
        assert_eq!(s(&p, "event.category"), "$type");
        assert_eq!(s(&p, "leef.src"), "$host");
        assert_eq!(s(&p, "leef.devTime"), "$x");
        assert_eq!(p.timestamp, None);
    }

    #[test]
    fn dev_time_format_and_value_holding_separator() {
        let p = ok(
            "LEEF:2.0|V|P|1|E|^|devTimeFormat=yyyy-MM-dd HH:mm:ss^devTime=2020-01-17 08:52:10^msg=a^b",
        );
        assert_eq!(p.timestamp, Timestamp::parse("2020-01-17T08:52:10Z"));
        assert_eq!(s(&p, "message"), "a^b");
    }

    #[test]
    fn errors() {
        let e = parse("LEEF:1.0|V|P", &ctx()).expect_err("short");
        assert!(e.reason.contains("3 of the 5"), "{e}");
        let e = parse("LEEF:3.0|V|P|1|E|a=b", &ctx()).expect_err("version");
        assert!(e.reason.contains("version"), "{e}");
        assert!(parse("nothing", &ctx()).is_err());
        let p = ok("LEEF:1.0|V|P|1|E|");
        assert_eq!(s(&p, "event.code"), "E");
    }
}

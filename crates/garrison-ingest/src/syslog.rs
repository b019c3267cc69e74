//! Syslog: RFC 5424 and RFC 3164 as real devices write it, and CEF or LEEF
//! carried inside.
//!
//! Our own code rather than `syslog_loose`: it reads the deviations below
//! and stays allocation-light (names are static except structured-data
//! parameters).
//!
//! Fields: `log.syslog.priority`, `log.syslog.facility.code`,
//! `log.syslog.facility.name`, `log.syslog.severity.code`,
//! `log.syslog.severity.name`, `log.syslog.version` (5424),
//! `host.hostname`, `process.name` (APP-NAME or TAG), `process.pid` (a
//! number; else `log.syslog.procid` as text), `event.code` (MSGID, or a
//! Cisco `%ASA-6-302013` message id without its `%`), `message`, and each
//! structured-data parameter as `log.syslog.structured_data.<sd-id>.<param>`.
//! The severity is [`crate::severity::from_syslog`] of the PRI's severity.
//!
//! RFC 5424: the timestamp is RFC 3339 (any fraction, `Z` or an offset)
//! or `-`; in parameter values `\"`, `\\` and `\]` are unescaped (other
//! backslashes are kept, as the RFC says); a UTF-8 BOM before MSG is
//! dropped. Extra spaces between header fields are tolerated.
//!
//! RFC 3164 and what devices make of it: the PRI may be missing; the time
//! may be `Nov  3 10:00:00`, `Nov 3 10:00:00`, `Nov 3 2026 10:00:00`,
//! with milliseconds, with ` UTC`, followed by a `:` (Cisco), preceded by
//! a Cisco sequence number (`123: `) or `*`, or an ISO 8601 time; or be
//! missing. A time without a zone is UTC; one without a year takes the
//! receive time's year, or the year before when that would put it more
//! than a day after the receive time. The hostname may be missing (the
//! word after the time is then a `tag:`, `tag[pid]:` or `%CODE:`), the
//! tag may be `tag[pid]:`, `tag:` or `tag[pid]`.
//!
//! CEF or LEEF inside ([`parse_any`]): when MSG starts with `CEF:` or
//! `LEEF:` it is parsed by [`crate::cef`] or [`crate::leef`] into the same
//! event, which then holds the syslog fields (`log.syslog.*`,
//! `host.hostname`, `process.*`) and the CEF/LEEF fields; the CEF/LEEF
//! device time (`rt`, `devTime`) wins over the syslog header's time, a
//! CEF/LEEF severity over the PRI's, and the CEF signature id / LEEF event
//! id takes `event.code` (an RFC 5424 MSGID then goes to
//! `log.syslog.msgid`). A CEF/LEEF message that does not
//! parse leaves the line a plain syslog event.

pub(crate) mod time;

use garrison_core::Timestamp;

use crate::severity;
use crate::{Context, Format, ParseError, Parsed, Value};

/// Parses an RFC 5424 line.
///
/// # Errors
/// When the PRI, version, timestamp or structured data is malformed.
pub fn parse_5424(line: &str, ctx: &Context) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    let msg = header_5424(line, ctx, &mut out)?;
    out.fields.set_text("message", msg);
    Ok(out)
}

/// Parses an RFC 3164 (BSD) line.
///
/// # Errors
/// When the line is empty or its PRI is malformed.
pub fn parse_3164(line: &str, ctx: &Context) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    let msg = header_3164(line, ctx, &mut out)?;
    out.fields.set_text("message", msg);
    Ok(out)
}

/// Parses a syslog line, RFC 5424 or RFC 3164 as its header says, and a
/// CEF or LEEF message inside it; returns the format that read it
/// (`Rfc5424`, `Rfc3164`, `Cef` or `Leef`).
///
/// # Errors
/// As [`parse_5424`] and [`parse_3164`].
pub fn parse_any(line: &str, ctx: &Context) -> Result<(Format, Parsed), ParseError> {
    let mut out = Parsed::default();
    let (format, msg) = if is_5424(line.as_bytes()) {
        (Format::Rfc5424, header_5424(line, ctx, &mut out)?)
    } else {
        (Format::Rfc3164, header_3164(line, ctx, &mut out)?)
    };
    let body = msg.trim_start();
    let inner = if body.starts_with("CEF:") {
        Some(Format::Cef)
    } else if body.starts_with("LEEF:") {
        Some(Format::Leef)
    } else {
        None
    };
    if let Some(inner) = inner {
        // The CEF/LEEF event id takes event.code; the MSGID moves aside.
        let msgid = out.fields.remove("event.code");
        let parsed = match inner {
            Format::Cef => crate::cef::parse_body(body, ctx, &mut out),
            _ => crate::leef::parse_body(body, ctx, &mut out),
        };
        match (parsed, msgid) {
            (Ok(()), Some(id)) => {
                out.fields.set("log.syslog.msgid", id);
                return Ok((inner, out));
            }
            (Ok(()), None) => return Ok((inner, out)),
            (Err(_), Some(id)) => out.fields.set("event.code", id),
            (Err(_), None) => {}
        }
    }
    out.fields.set_text("message", msg);
    Ok((format, out))
}

/// `<PRI>1 ` at the start.
pub(crate) fn is_5424(b: &[u8]) -> bool {
    match pri(b) {
        Some((_, n)) => b.get(n) == Some(&b'1') && b.get(n + 1) == Some(&b' '),
        None => false,
    }
}

/// `<N>` at the start, N from 0 to 191 in at most three digits: the value
/// and the bytes read.
pub(crate) fn pri(b: &[u8]) -> Option<(u8, usize)> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let mut v: u16 = 0;
    let mut i = 1;
    while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        if i > 3 {
            return None;
        }
        v = v * 10 + u16::from(c - b'0');
        i += 1;
    }
    if i == 1 || b.get(i) != Some(&b'>') || v > 191 {
        return None;
    }
    Some((u8::try_from(v).ok()?, i + 1))
}

fn set_pri(out: &mut Parsed, p: u8) {
    let (fac, sev) = (p >> 3, p & 7);
    let f = &mut out.fields;
    f.set("log.syslog.priority", Value::Int(i64::from(p)));
    f.set("log.syslog.facility.code", Value::Int(i64::from(fac)));
    if let Some(name) = severity::syslog_facility_name(fac) {
        f.set("log.syslog.facility.name", name);
    }
    f.set("log.syslog.severity.code", Value::Int(i64::from(sev)));
    f.set(
        "log.syslog.severity.name",
        severity::syslog_severity_name(sev),
    );
    out.severity = severity::from_syslog(sev);
}

fn pri_error(format: Format, line: &str) -> ParseError {
    let shown: String = line.chars().take(6).collect();
    ParseError::new(
        format,
        format!("the priority at the start ({shown:?}) is not <0> to <191>"),
    )
}

fn set_pid(out: &mut Parsed, pid: &str) {
    match pid.parse::<i64>() {
        Ok(n) if !pid.starts_with(['+', '-']) => out.fields.set("process.pid", Value::Int(n)),
        _ => out.fields.set_text("log.syslog.procid", pid),
    }
}

/// The next space-delimited token from `*i` (skipping leading spaces).
fn token<'a>(line: &'a str, i: &mut usize) -> &'a str {
    let b = line.as_bytes();
    while b.get(*i) == Some(&b' ') {
        *i += 1;
    }
    let start = *i;
    while b.get(*i).is_some_and(|&c| c != b' ') {
        *i += 1;
    }
    line.get(start..*i).unwrap_or_default()
}

/// Reads the RFC 5424 header into `out`; returns MSG.
fn header_5424<'a>(line: &'a str, ctx: &Context, out: &mut Parsed) -> Result<&'a str, ParseError> {
    let err = |m: String| ParseError::new(Format::Rfc5424, m);
    let b = line.as_bytes();
    let Some((p, mut i)) = pri(b) else {
        return Err(pri_error(Format::Rfc5424, line));
    };
    let version = token(line, &mut i);
    let Ok(v) = version.parse::<u8>() else {
        let shown: String = version.chars().take(10).collect();
        return Err(err(format!(
            "the version after the priority is {shown:?}, not a number"
        )));
    };
    set_pri(out, p);
    out.fields
        .set("log.syslog.version", Value::Int(i64::from(v)));
    let ts = token(line, &mut i);
    if ts != "-" && !ts.is_empty() {
        match time::iso(ts.as_bytes()) {
            Some((c, n)) if n == ts.len() => {
                let ms = c.to_millis(ctx.received.as_millis()).ok_or_else(|| {
                    err(format!("the timestamp {ts:?} is not a valid date and time"))
                })?;
                out.timestamp = Some(Timestamp::from_millis(ms));
            }
            _ => {
                let shown: String = ts.chars().take(40).collect();
                return Err(err(format!(
                    "the timestamp {shown:?} is not RFC 3339 or '-'"
                )));
            }
        }
    }
    let host = token(line, &mut i);
    out.fields.set_text("host.hostname", host);
    let app = token(line, &mut i);
    out.fields.set_text("process.name", app);
    let procid = token(line, &mut i);
    if procid != "-" && !procid.is_empty() {
        set_pid(out, procid);
    }
    let msgid = token(line, &mut i);
    out.fields.set_text("event.code", msgid);
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    match b.get(i) {
        Some(b'-') => i += 1,
        Some(b'[') => i = structured_data(line, i, out).map_err(err)?,
        _ => {}
    }
    let msg = line.get(i..).unwrap_or_default();
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    Ok(msg.strip_prefix('\u{feff}').unwrap_or(msg))
}

/// Reads SD elements from `at` (a `[`) into `out`; returns the position
/// after the last `]`.
fn structured_data(line: &str, mut i: usize, out: &mut Parsed) -> Result<usize, String> {
    let b = line.as_bytes();
    while b.get(i) == Some(&b'[') {
        i += 1;
        let id_start = i;
        while b
            .get(i)
            .is_some_and(|&c| !matches!(c, b' ' | b']' | b'=' | b'"'))
        {
            i += 1;
        }
        let id = line.get(id_start..i).unwrap_or_default();
        if id.is_empty() {
            return Err("a structured-data element has no SD-ID".into());
        }
        loop {
            match b.get(i) {
                Some(b' ') => i += 1,
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(_) => {
                    let name_start = i;
                    while b
                        .get(i)
                        .is_some_and(|&c| !matches!(c, b' ' | b']' | b'=' | b'"'))
                    {
                        i += 1;
                    }
                    let name = line.get(name_start..i).unwrap_or_default();
                    if name.is_empty() || b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
                        return Err(format!(
                            "the structured-data element [{id} ...] has a parameter that is not name=\"value\""
                        ));
                    }
                    i += 2;
                    let v_start = i;
                    let mut escaped = false;
                    loop {
                        match b.get(i) {
                            Some(b'\\') => {
                                escaped = true;
                                i += 2;
                            }
                            Some(b'"') => break,
                            Some(_) => i += 1,
                            None => {
                                return Err(format!(
                                    "the value of {id}.{name} in the structured data has no closing quote"
                                ));
                            }
                        }
                    }
                    let raw = line.get(v_start..i).unwrap_or_default();
                    i += 1;
                    let value = if escaped {
                        unescape_sd(raw)
                    } else {
                        raw.to_owned()
                    };
                    let mut field = String::with_capacity(28 + id.len() + name.len());
                    field.push_str("log.syslog.structured_data.");
                    field.push_str(id);
                    field.push('.');
                    field.push_str(name);
                    out.fields.set(field, value);
                }
                None => {
                    return Err(format!(
                        "the structured-data element [{id} ...] has no closing ]"
                    ));
                }
            }
        }
    }
    Ok(i)
}

/// Unescapes an SD parameter value: `\"`, `\\`, `\]`; other backslashes
/// are kept.
fn unescape_sd(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\' | ']')) => out.push(n),
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
    out
}

/// Escapes an SD parameter value (the inverse of the parser's unescaping).
#[must_use]
pub fn escape_sd_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A word that may be a host name: not a tag, message id or CEF/LEEF text.
fn looks_like_host(t: &str) -> bool {
    !t.is_empty()
        && !t.ends_with(':')
        && !t.starts_with('%')
        && !t.contains(['[', '|', '=', '"', '(', ')', '<', '>'])
}

/// Reads a tag (`name[pid]:`, `name:`, `name[pid]`) or Cisco message id
/// (`%FAC-SEV-MNEMONIC:`) from `t`; true when it was one.
fn read_tag(t: &str, out: &mut Parsed) -> bool {
    if t.len() > 64 || t.contains(['|', '=', '"']) {
        return false;
    }
    if let Some(code) = t.strip_prefix('%') {
        let code = code.strip_suffix(':').unwrap_or(code);
        if code.split('-').count() >= 3 && !code.is_empty() {
            out.fields.set_text("event.code", code);
            return true;
        }
        return false;
    }
    let colon = t.strip_suffix(':');
    let body = colon.unwrap_or(t);
    if let Some(open) = body.find('[') {
        if let Some(pid) = body.strip_suffix(']').and_then(|b| b.get(open + 1..)) {
            let name = body.get(..open).unwrap_or_default();
            if !name.is_empty() && !pid.contains(['[', ']']) {
                out.fields.set_text("process.name", name);
                if !pid.is_empty() {
                    set_pid(out, pid);
                }
                return true;
            }
        }
        return false;
    }
    match colon {
        Some(name) if !name.is_empty() && !name.contains(':') => {
            out.fields.set_text("process.name", name);
            true
        }
        _ => false,
    }
}

/// Reads the RFC 3164 header into `out`; returns MSG.
fn header_3164<'a>(line: &'a str, ctx: &Context, out: &mut Parsed) -> Result<&'a str, ParseError> {
    let b = line.as_bytes();
    if line.trim().is_empty() {
        return Err(ParseError::new(Format::Rfc3164, "the line is empty"));
    }
    let mut i = 0;
    if b.first() == Some(&b'<') {
        let Some((p, n)) = pri(b) else {
            return Err(pri_error(Format::Rfc3164, line));
        };
        set_pri(out, p);
        i = n;
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    // Cisco IOS: a sequence number ("123: ") and "*" or "." before the time.
    let mut j = i;
    while b.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    if j > i && b.get(j) == Some(&b':') && b.get(j + 1) == Some(&b' ') {
        i = j + 2;
    }
    if matches!(b.get(i), Some(b'*' | b'.')) {
        i += 1;
    }
    let rest = b.get(i..).unwrap_or_default();
    let stamp = time::bsd(rest).or_else(|| time::iso(rest));
    let mut had_time = false;
    if let Some((c, n)) = stamp {
        let after = rest.get(n).copied();
        if matches!(after, None | Some(b' ' | b':'))
            && let Some(ms) = c.to_millis(ctx.received.as_millis())
        {
            out.timestamp = Some(Timestamp::from_millis(ms));
            had_time = true;
            i += n;
            if after == Some(b':') {
                i += 1;
            }
        }
    }
    // Host, then tag.
    let mut k = i;
    let first = token(line, &mut k);
    if had_time && looks_like_host(first) {
        let mut k2 = k;
        let next = token(line, &mut k2);
        // "host : %ASA-..." and "host tag: msg" and "host msg".
        if !next.is_empty() || first.contains('.') {
            out.fields.set_text("host.hostname", first);
            i = k;
            if next == ":" {
                i = k2;
            }
        }
    }
    let mut k = i;
    let t = token(line, &mut k);
    if read_tag(t, out) {
        i = k;
        // A Cisco id right after the tag ("fw: %ASA-6-1: ...").
        let mut k2 = i;
        let t2 = token(line, &mut k2);
        if t2.starts_with('%') && read_tag(t2, out) {
            i = k2;
        }
    }
    let msg = line.get(i..).unwrap_or_default();
    Ok(msg.strip_prefix(' ').unwrap_or(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::at(Timestamp::parse("2026-11-22T21:34:50Z").expect("ts"))
    }

    fn s<'a>(p: &'a Parsed, name: &str) -> &'a str {
        p.fields
            .get_str(name)
            .unwrap_or_else(|| panic!("{name} missing in {:?}", p.fields))
    }

    fn int(p: &Parsed, name: &str) -> i64 {
        p.fields
            .get(name)
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("{name} missing in {:?}", p.fields))
    }

    fn ts(s: &str) -> Option<Timestamp> {
        Some(Timestamp::parse(s).expect("ts"))
    }

    #[test]
    fn rfc5424_full() {
        let line = "<133>1 2026-11-22T21:34:50.557244+01:00 vm myapp 42 ID47 [timeQuality tzKnown=\"1\" isSynced=\"0\"][exampleSDID@32473 iut=\"3\" eventSource=\"Appli\\\"ca\\]tion\\\\\" eventID=\"1011\"] \u{feff}An application event log entry";
        let p = parse_5424(line, &ctx()).expect("parse");
        assert_eq!(int(&p, "log.syslog.priority"), 133);
        assert_eq!(int(&p, "log.syslog.facility.code"), 16);
        assert_eq!(s(&p, "log.syslog.facility.name"), "local0");
        assert_eq!(int(&p, "log.syslog.severity.code"), 5);
        assert_eq!(s(&p, "log.syslog.severity.name"), "notice");
        assert_eq!(p.severity, 30);
        assert_eq!(p.timestamp, ts("2026-11-22T20:34:50.557Z"));
        assert_eq!(s(&p, "host.hostname"), "vm");
        assert_eq!(s(&p, "process.name"), "myapp");
        assert_eq!(int(&p, "process.pid"), 42);
        assert_eq!(s(&p, "event.code"), "ID47");
        assert_eq!(s(&p, "log.syslog.structured_data.timeQuality.tzKnown"), "1");
        assert_eq!(
            s(
                &p,
                "log.syslog.structured_data.exampleSDID@32473.eventSource"
            ),
            "Appli\"ca]tion\\"
        );
        assert_eq!(
            s(&p, "log.syslog.structured_data.exampleSDID@32473.eventID"),
            "1011"
        );
        assert_eq!(s(&p, "message"), "An application event log entry");
    }

    #[test]
    fn rfc5424_nil_values() {
        let p = parse_5424("<15>1 - - - - - -", &ctx()).expect("nil");
        assert_eq!(p.timestamp, None);
        assert!(p.fields.get("host.hostname").is_none());
        assert!(p.fields.get("message").is_none());
        let p = parse_5424("<15>1 2026-11-22T21:34:50Z h a abc - - msg", &ctx()).expect("procid");
        assert_eq!(s(&p, "log.syslog.procid"), "abc");
        assert_eq!(s(&p, "message"), "msg");
    }

    #[test]
    fn rfc5424_errors() {
        for (line, words) in [
            ("<192>1 - - - - - -", "priority"),
            ("<12a>1 - - - - - -", "priority"),
            ("<13>x - - - - - -", "version"),
            ("<13>1 yesterday h a - - - m", "RFC 3339"),
            ("<13>1 2026-02-30T00:00:00Z h a - - - m", "valid date"),
            ("<13>1 - h a - - [id a=\"x] m", "closing quote"),
            ("<13>1 - h a - - [id a=x] m", "name=\"value\""),
            ("<13>1 - h a - - [id a=\"x\"", "closing ]"),
            ("<13>1 - h a - - [] m", "SD-ID"),
        ] {
            let e = parse_5424(line, &ctx()).expect_err(line);
            assert!(e.reason.contains(words), "{line}: {e}");
        }
    }

    #[test]
    fn rfc3164_classic() {
        let p = parse_3164(
            "<36>Nov 22 21:34:50 vm sshd[2214]: Failed password for invalid user admin",
            &ctx(),
        )
        .expect("parse");
        assert_eq!(s(&p, "log.syslog.facility.name"), "auth");
        assert_eq!(s(&p, "log.syslog.severity.name"), "warning");
        assert_eq!(p.severity, 50);
        assert_eq!(p.timestamp, ts("2026-11-22T21:34:50Z"));
        assert_eq!(s(&p, "host.hostname"), "vm");
        assert_eq!(s(&p, "process.name"), "sshd");
        assert_eq!(int(&p, "process.pid"), 2214);
        assert_eq!(s(&p, "message"), "Failed password for invalid user admin");
    }

    #[test]
    fn rfc3164_deviations() {
        let c = ctx();
        // Day padded with a space, no PRI, tag without pid.
        let p = parse_3164("Nov  3 10:00:00 host kernel: hello", &c).expect("a");
        assert_eq!(p.timestamp, ts("2026-11-03T10:00:00Z"));
        assert!(p.fields.get("log.syslog.priority").is_none());
        assert_eq!(s(&p, "process.name"), "kernel");
        // Year and milliseconds, Cisco ASA, no host.
        let p = parse_3164(
            "<166>Nov 3 2025 10:00:00.250: %ASA-6-302013: Built inbound",
            &c,
        )
        .expect("b");
        assert_eq!(p.timestamp, ts("2025-11-03T10:00:00.250Z"));
        assert_eq!(s(&p, "event.code"), "ASA-6-302013");
        assert!(p.fields.get("host.hostname").is_none());
        assert_eq!(s(&p, "message"), "Built inbound");
        // Cisco ASA with host and " : ".
        let p = parse_3164("<166>Nov  3 2025 10:00:00 fw01 : %ASA-6-302013: Built", &c).expect("c");
        assert_eq!(s(&p, "host.hostname"), "fw01");
        assert_eq!(s(&p, "event.code"), "ASA-6-302013");
        // ISO timestamp with offset; ISO without zone is UTC.
        let p = parse_3164("<13>2026-11-03T10:00:00.5+02:00 web-1 nginx: GET /", &c).expect("d");
        assert_eq!(p.timestamp, ts("2026-11-03T08:00:00.500Z"));
        assert_eq!(s(&p, "host.hostname"), "web-1");
        let p = parse_3164("<13>2026-11-03T10:00:00 web-1 nginx: GET /", &c).expect("e");
        assert_eq!(p.timestamp, ts("2026-11-03T10:00:00Z"));
        // Missing hostname: the tag follows the time.
        let p = parse_3164("<13>Nov 22 10:00:00 cron[12]: job", &c).expect("f");
        assert!(p.fields.get("host.hostname").is_none());
        assert_eq!(s(&p, "process.name"), "cron");
        // A date a month ahead is last year's.
        let p = parse_3164("<13>Dec 25 10:00:00 h t: x", &c).expect("g");
        assert_eq!(p.timestamp, ts("2025-12-25T10:00:00Z"));
        // No time at all.
        let p = parse_3164("<13>just a message", &c).expect("h");
        assert_eq!(p.timestamp, None);
        assert_eq!(s(&p, "message"), "just a message");
        // Cisco IOS sequence number and '*'.
        let p = parse_3164(
            "<189>123: *Nov  1 18:46:11.123: %SYS-5-CONFIG_I: Configured",
            &c,
        )
        .expect("i");
        assert_eq!(p.timestamp, ts("2026-11-01T18:46:11.123Z"));
        assert_eq!(s(&p, "event.code"), "SYS-5-CONFIG_I");
        assert_eq!(s(&p, "message"), "Configured");
    }

    #[test]
    fn rfc3164_errors() {
        assert!(parse_3164("", &ctx()).is_err());
        assert!(parse_3164("<999>Nov 3 10:00:00 h t: m", &ctx()).is_err());
    }

    #[test]
    fn cef_and_leef_inside() {
        let (f, p) = parse_any(
            "<166>Nov 22 21:34:50 vm CEF: CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
            &ctx(),
        )
        .expect("cef");
        assert_eq!(f, Format::Cef);
        assert_eq!(s(&p, "host.hostname"), "vm");
        assert_eq!(s(&p, "log.syslog.facility.name"), "local4");
        assert_eq!(s(&p, "observer.vendor"), "Security");
        assert_eq!(s(&p, "message"), "worm successfully stopped");
        assert_eq!(p.severity, 100);
        assert_eq!(p.timestamp, ts("2026-11-22T21:34:50Z"));
        let (f, p) = parse_any(
            "<190>1 2026-11-22T21:34:50.724650+00:00 vm LEEF - - [timeQuality tzKnown=\"1\"] LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0#011dst=172.50.123.1#011sev=5#011cat=anomaly#011msg=this is a message",
            &ctx(),
        )
        .expect("leef");
        assert_eq!(f, Format::Leef);
        assert_eq!(s(&p, "process.name"), "LEEF");
        assert_eq!(s(&p, "event.category"), "anomaly");
        assert_eq!(s(&p, "message"), "this is a message");
        assert_eq!(p.severity, 50);
        // A broken CEF message stays a syslog event.
        let (f, p) = parse_any("<13>Nov 22 21:34:50 vm CEF: CEF:0|short", &ctx()).expect("broken");
        assert_eq!(f, Format::Rfc3164);
        assert_eq!(s(&p, "message"), "CEF:0|short");
        // CEF right after the time, no host or tag.
        let (f, _) = parse_any("<13>Nov 22 21:34:50 CEF:0|V|P|1|2|n|5|a=b", &ctx()).expect("bare");
        assert_eq!(f, Format::Cef);
    }

    #[test]
    fn sd_escaping_round_trips() {
        for v in [
            "plain",
            "q\"uote",
            "back\\slash",
            "br]acket",
            "\\\"]",
            "ünï ☃",
            "",
        ] {
            let line = format!("<13>1 - h a - - [x@1 p=\"{}\"] m", escape_sd_value(v));
            let p = parse_5424(&line, &ctx()).expect(&line);
            assert_eq!(
                p.fields.get_str("log.syslog.structured_data.x@1.p"),
                Some(v),
                "{line}"
            );
        }
    }
}

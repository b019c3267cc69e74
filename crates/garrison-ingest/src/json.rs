//! Generic JSON: one object per line, flattened into the event schema.
//!
//! What goes where:
//!
//! * a [`Mapping`] names source paths (`src_ip`, `a.b`) and the ECS names
//!   they fill (`source.ip`); mapped values are typed: a name ending in
//!   `.ip` becomes an address when the text reads as one, a name ending in
//!   `.port` an integer;
//! * a top-level key that already is an ECS name — a dotted key such as
//!   `"source.ip"`, or a nested object under an ECS field set such as
//!   `{"source":{"ip":..}}` as Elastic agents send — is kept under that
//!   name (typed the same way); `message` and `tags` too;
//! * `@timestamp` or `timestamp` (or the mapping's timestamp path) becomes
//!   the event time when it parses (RFC 3339, or epoch seconds/millis);
//! * everything else is kept under `labels.<path>`, flattened.
//!
//! [`classify`] sniffs a JSON line's top-level keys (without building the
//! value) to tell Suricata EVE, Zeek and Windows event JSON from any other
//! object; the per-line detector uses it.
//!
//! The helpers at the end are shared by the Suricata, Zeek and Windows
//! parsers.

use std::net::IpAddr;

use garrison_core::Timestamp;
use serde_json::{Map, Value as Json};

use crate::{Context, Fields, Format, ParseError, Parsed, Value};

/// How a mapped timestamp is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimestampFormat {
    /// RFC 3339 text, or a number read as epoch seconds (below 10^11) or
    /// milliseconds (above).
    #[default]
    Auto,
    Rfc3339,
    EpochSeconds,
    EpochMillis,
}

impl std::str::FromStr for TimestampFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Self::Auto),
            "rfc3339" | "iso8601" => Ok(Self::Rfc3339),
            "epoch" | "epoch_seconds" | "seconds" | "unix" => Ok(Self::EpochSeconds),
            "epoch_millis" | "millis" | "unix_ms" => Ok(Self::EpochMillis),
            other => Err(format!(
                "unknown timestamp format {other:?}; expected rfc3339, epoch_seconds or epoch_millis"
            )),
        }
    }
}

/// A field mapping for a generic JSON source: which source paths fill
/// which ECS names, where the time and the severity are.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// (source JSON path, target ECS name), e.g. (`src_ip`, `source.ip`).
    /// A path's dots walk into nested objects (`a.b`); a key that itself
    /// contains dots is found too.
    pub fields: Vec<(String, String)>,
    /// Where the event time is, and how it is written.
    pub timestamp: Option<(String, TimestampFormat)>,
    /// Where the severity is: a number 0–100, or a word (`critical`,
    /// `high`, `error`, `warning`, `medium`, `low`, `info`, ...).
    pub severity: Option<String>,
}

/// A mapping entry that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JSON field mapping entry {index} ({path:?} -> {target:?}): {reason}")]
pub struct MappingError {
    /// The entry's position, from 1.
    pub index: usize,
    pub path: String,
    pub target: String,
    pub reason: String,
}

impl Mapping {
    /// A mapping from (source path, target name) pairs. A pair whose target
    /// is `@timestamp` names the time (format detected), one whose target
    /// is `event.severity` the severity.
    #[must_use]
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut m = Self::default();
        for (path, target) in pairs {
            match target.trim() {
                "@timestamp" => m.timestamp = Some((path.trim().to_owned(), TimestampFormat::Auto)),
                "event.severity" => m.severity = Some(path.trim().to_owned()),
                t => m.fields.push((path.trim().to_owned(), t.to_owned())),
            }
        }
        m
    }

    /// The same mapping with the event time read from `path` as `format`.
    #[must_use]
    pub fn with_timestamp(mut self, path: impl Into<String>, format: TimestampFormat) -> Self {
        self.timestamp = Some((path.into(), format));
        self
    }

    /// The same mapping with the severity read from `path`.
    #[must_use]
    pub fn with_severity(mut self, path: impl Into<String>) -> Self {
        self.severity = Some(path.into());
        self
    }

    /// Checks every entry: paths and names must be non-empty dotted names
    /// without empty parts, names made of letters, digits, `_`, `-`, `@`,
    /// and no name may be filled twice.
    ///
    /// # Errors
    /// The first bad entry, with its position and what is wrong.
    pub fn validate(&self) -> Result<(), MappingError> {
        let err = |index: usize, path: &str, target: &str, reason: &str| MappingError {
            index,
            path: path.to_owned(),
            target: target.to_owned(),
            reason: reason.to_owned(),
        };
        for (i, (path, target)) in self.fields.iter().enumerate() {
            let index = i + 1;
            if let Some(reason) = bad_path(path) {
                return Err(err(
                    index,
                    path,
                    target,
                    &format!("the source path {reason}"),
                ));
            }
            if let Some(reason) = bad_path(target) {
                return Err(err(
                    index,
                    path,
                    target,
                    &format!("the target name {reason}"),
                ));
            }
            if let Some(c) = target
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
            {
                return Err(err(
                    index,
                    path,
                    target,
                    &format!(
                        "the target name contains {c:?}; use letters, digits, '.', '_', '-' or '@'"
                    ),
                ));
            }
            if target == "@timestamp" {
                return Err(err(
                    index,
                    path,
                    target,
                    "the event time is set with the timestamp path, not as a field",
                ));
            }
            if self.fields[..i].iter().any(|(_, t)| t == target) {
                return Err(err(
                    index,
                    path,
                    target,
                    "this target name is already filled by an earlier entry",
                ));
            }
        }
        let n = self.fields.len();
        if let Some((path, _)) = &self.timestamp
            && let Some(reason) = bad_path(path)
        {
            return Err(err(
                n + 1,
                path,
                "@timestamp",
                &format!("the timestamp path {reason}"),
            ));
        }
        if let Some(path) = &self.severity
            && let Some(reason) = bad_path(path)
        {
            return Err(err(
                n + 2,
                path,
                "event.severity",
                &format!("the severity path {reason}"),
            ));
        }
        Ok(())
    }
}

fn bad_path(p: &str) -> Option<&'static str> {
    if p.trim().is_empty() {
        Some("is empty")
    } else if p != p.trim() {
        Some("has spaces around it")
    } else if p.split('.').any(str::is_empty) {
        Some("has an empty part (a leading, trailing or doubled '.')")
    } else {
        None
    }
}

/// ECS field sets: a top-level object (or dotted key) under one of these
/// names is kept under its ECS name rather than under `labels.`.
const ECS_SETS: &[&str] = &[
    "agent",
    "as",
    "client",
    "cloud",
    "container",
    "data_stream",
    "destination",
    "device",
    "dll",
    "dns",
    "ecs",
    "email",
    "error",
    "event",
    "faas",
    "file",
    "group",
    "host",
    "http",
    "log",
    "network",
    "observer",
    "orchestrator",
    "organization",
    "os",
    "package",
    "process",
    "registry",
    "related",
    "rule",
    "server",
    "service",
    "source",
    "threat",
    "tls",
    "trace",
    "transaction",
    "span",
    "url",
    "user",
    "user_agent",
    "vulnerability",
    "x509",
    "labels",
];

/// Top-level ECS fields that are not field sets.
const ECS_SCALARS: &[&str] = &["message", "tags"];

/// Parses one JSON object (see the module documentation).
///
/// # Errors
/// When the line is not one JSON object.
pub fn parse(line: &str, ctx: &Context) -> Result<Parsed, ParseError> {
    let obj = parse_object(line, Format::Json)?;
    let m = &ctx.json_mapping;
    let mut out = Parsed {
        fields: Fields::with_capacity(obj.len() + m.fields.len()),
        ..Parsed::default()
    };
    // Paths taken by the mapping (not repeated under labels.).
    let mut taken: Vec<&str> = Vec::with_capacity(m.fields.len() + 2);

    if let Some((path, format)) = &m.timestamp
        && let Some(v) = lookup(&obj, path)
        && let Some(ts) = timestamp_as(v, *format)
    {
        out.timestamp = Some(ts);
        taken.push(path);
    }
    if out.timestamp.is_none() {
        for key in ["@timestamp", "timestamp"] {
            if let Some(ts) = obj
                .get(key)
                .and_then(|v| timestamp_as(v, TimestampFormat::Auto))
            {
                out.timestamp = Some(ts);
                taken.push(key);
                break;
            }
        }
    }
    if let Some(path) = &m.severity
        && let Some(v) = lookup(&obj, path)
    {
        if let Some(s) = severity_of(v) {
            out.severity = s;
        }
        set_typed(&mut out.fields, "event.severity", v);
        taken.push(path);
    }
    for (path, target) in &m.fields {
        if let Some(v) = lookup(&obj, path) {
            set_typed(&mut out.fields, target, v);
            taken.push(path);
        }
    }
    for (key, v) in &obj {
        if taken.contains(&key.as_str()) {
            continue;
        }
        let first = key.split('.').next().unwrap_or(key);
        let ecs = (key.contains('.') && ECS_SETS.contains(&first))
            || (v.is_object() && ECS_SETS.contains(&key.as_str()))
            || (!v.is_object() && ECS_SCALARS.contains(&key.as_str()));
        let mut name = String::with_capacity(key.len() + 8);
        if !ecs {
            name.push_str("labels.");
        }
        name.push_str(key);
        walk_typed(&mut out.fields, &mut name, v, &taken, ecs);
    }
    Ok(out)
}

/// Adds `v` under `name` (and below, for objects), skipping the mapping's
/// paths (compared without the `labels.` prefix); ECS names are typed.
fn walk_typed(fields: &mut Fields, name: &mut String, v: &Json, taken: &[&str], ecs: bool) {
    let strip = if ecs { 0 } else { "labels.".len() };
    match v {
        Json::Object(map) => {
            let len = name.len();
            for (k, child) in map {
                name.push('.');
                name.push_str(k);
                if !taken.contains(&&name[strip..]) {
                    walk_typed(fields, name, child, taken, ecs);
                }
                name.truncate(len);
            }
        }
        other => {
            if ecs {
                set_typed(fields, name, other);
            } else if let Some(value) = Value::from_json(other) {
                fields.set(name.clone(), value);
            }
        }
    }
}

/// The value at a dotted path: a key with the whole path, else the first
/// part as a key and the rest looked up inside it (so `a.b.c` finds
/// `{"a":{"b.c":1}}` and `{"a.b":{"c":1}}` too).
#[must_use]
pub fn lookup<'a>(obj: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    for (i, _) in path.match_indices('.') {
        if let Some(Json::Object(inner)) = obj.get(&path[..i])
            && let Some(v) = lookup(inner, &path[i + 1..])
        {
            return Some(v);
        }
    }
    None
}

fn timestamp_as(v: &Json, format: TimestampFormat) -> Option<Timestamp> {
    match (format, v) {
        (TimestampFormat::EpochSeconds, _) => number_of(v).and_then(epoch_seconds),
        (TimestampFormat::EpochMillis, _) => number_of(v).and_then(|ms| epoch_seconds(ms / 1000.0)),
        (TimestampFormat::Rfc3339, Json::String(s)) => parse_time(s),
        (TimestampFormat::Rfc3339, _) => None,
        (TimestampFormat::Auto, Json::String(s)) => {
            parse_time(s).or_else(|| s.trim().parse::<f64>().ok().and_then(epoch_auto))
        }
        (TimestampFormat::Auto, Json::Number(n)) => n.as_f64().and_then(epoch_auto),
        _ => None,
    }
}

fn number_of(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn epoch_auto(x: f64) -> Option<Timestamp> {
    if x.abs() >= 1e11 {
        epoch_seconds(x / 1000.0)
    } else {
        epoch_seconds(x)
    }
}

/// A severity value: a number 0–100 (clamped), or a word: `critical`,
/// `crit`, `fatal`, `emergency` 80 (`emerg` 100, `alert` 90), `high`,
/// `error`, `err` 70, `medium`, `warning`, `warn` 50, `low`, `notice` 30,
/// `info`, `informational`, `information` 20, `debug`, `verbose` 10.
fn severity_of(v: &Json) -> Option<u8> {
    match v {
        Json::Number(n) => n.as_f64().map(clamp_severity),
        Json::String(s) => {
            let s = s.trim();
            if let Ok(x) = s.parse::<f64>() {
                return Some(clamp_severity(x));
            }
            Some(match s.to_ascii_lowercase().as_str() {
                "emerg" | "emergency" => 100,
                "alert" => 90,
                "critical" | "crit" | "fatal" | "very-high" | "very high" => 80,
                "high" | "error" | "err" | "severe" => 70,
                "medium" | "moderate" | "warning" | "warn" => 50,
                "low" | "notice" => 30,
                "info" | "informational" | "information" => 20,
                "debug" | "verbose" | "trace" => 10,
                _ => return None,
            })
        }
        _ => None,
    }
}

fn clamp_severity(x: f64) -> u8 {
    if x.is_nan() {
        0
    } else {
        // In range 0..=100 after the clamp, so the cast is exact enough.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = x.clamp(0.0, 100.0).round() as u8;
        s
    }
}

// ---------------------------------------------------------------------------
// Format sniffing.

/// Which JSON format a line is, from its top-level keys: Suricata EVE
/// (`event_type` and `timestamp`), Zeek (`ts` with `uid`, `_path` or
/// `id.orig_h`), Windows event JSON (a `winlog` object, NXLog's `EventID`
/// with `SourceName`, `Channel` or `Hostname`, or evtx_dump's `Event`
/// with `System`), else generic JSON. `None` when the line is not a JSON
/// object.
///
/// It scans the line once without building any value; a line that looks
/// like an object but is not valid JSON is still classified (its parser
/// then reports what is wrong).
#[must_use]
pub fn classify(line: &str) -> Option<Format> {
    let keys = top_level_keys(line)?;
    let has = |k: &str| keys.iter().any(|(key, _)| *key == k);
    if has("event_type") && has("timestamp") {
        return Some(Format::SuricataEve);
    }
    if has("ts") && (has("uid") || has("_path") || has("id.orig_h") || has("id")) {
        return Some(Format::Zeek);
    }
    let winlog = keys
        .iter()
        .any(|(k, obj)| (*k == "winlog" && *obj) || k.starts_with("winlog."));
    if winlog
        || (has("EventID") && (has("SourceName") || has("Channel") || has("Hostname")))
        || (keys.iter().any(|(k, obj)| *k == "Event" && *obj) && line.contains("\"System\""))
    {
        return Some(Format::WindowsJson);
    }
    Some(Format::Json)
}

/// The raw top-level keys of a JSON object line, each with whether its
/// value is an object; `None` when the line is not shaped as an object.
fn top_level_keys(line: &str) -> Option<Vec<(&str, bool)>> {
    let b = line.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut keys = Vec::with_capacity(16);
    let mut depth = 1usize;
    let mut expect_key = true;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return None;
                }
                let s = line.get(start..i)?;
                i += 1;
                if depth == 1 && expect_key {
                    let mut j = i;
                    skip_ws(&mut j);
                    if b.get(j) != Some(&b':') {
                        return None;
                    }
                    j += 1;
                    skip_ws(&mut j);
                    keys.push((s, b.get(j) == Some(&b'{')));
                    expect_key = false;
                    i = j;
                    continue;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
                if depth == 0 {
                    skip_ws(&mut i);
                    return (i == b.len()).then_some(keys);
                }
            }
            b',' => {
                if depth == 1 {
                    expect_key = true;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Helpers shared by the JSON-based parsers.

/// Reads the line as one JSON object.
pub(crate) fn parse_object(line: &str, format: Format) -> Result<Map<String, Json>, ParseError> {
    let line = line.trim();
    if line.is_empty() {
        return Err(ParseError::new(
            format,
            "the line is empty, expected a JSON object",
        ));
    }
    match serde_json::from_str::<Json>(line) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(other) => Err(ParseError::new(
            format,
            format!("the line is a JSON {}, not a JSON object", kind_of(&other)),
        )),
        Err(e) => Err(ParseError::new(
            format,
            format!("the line is not a JSON object: {e}"),
        )),
    }
}

pub(crate) fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Sets `name` from a JSON value, typed by the name: `*.ip` (and `ip`)
/// an address when the text reads as one, `*.port` an integer when the
/// value reads as one; objects are flattened under `name`.
pub(crate) fn set_typed(fields: &mut Fields, name: &str, v: &Json) {
    if let Some(value) = typed(name, v) {
        fields.set(name.to_owned(), value);
    } else if v.is_object() {
        fields.flatten_json(name, v);
    }
}

pub(crate) fn typed(name: &str, v: &Json) -> Option<Value> {
    let last = name.rsplit('.').next().unwrap_or(name);
    match (last, v) {
        ("ip" | "resolved_ip", Json::String(s)) => Some(
            s.trim()
                .parse::<IpAddr>()
                .map_or_else(|_| Value::Str(s.clone()), Value::Ip),
        ),
        ("ip" | "resolved_ip", Json::Array(items)) => Some(Value::List(
            items.iter().filter_map(|i| typed("ip", i)).collect(),
        )),
        ("port", Json::String(s)) => Some(
            s.trim()
                .parse::<u16>()
                .map_or_else(|_| Value::Str(s.clone()), Value::from),
        ),
        (_, Json::Object(_)) => None,
        _ => Value::from_json(v),
    }
}

/// An address value, or the text when it does not read as one.
pub(crate) fn ip_value(s: &str) -> Value {
    s.trim()
        .parse::<IpAddr>()
        .map_or_else(|_| Value::Str(s.to_owned()), Value::Ip)
}

/// A JSON value as text (strings as they are, numbers and booleans
/// written out).
pub(crate) fn text_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON value as an integer (numbers, and text that reads as one).
pub(crate) fn int_of(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
                // Checked above: a whole number well inside i64.
                .map(|x| {
                    #[allow(clippy::cast_possible_truncation)]
                    let i = x as i64;
                    i
                })
        }),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Epoch seconds (with fraction) as a time; `None` when not finite or out
/// of range.
pub(crate) fn epoch_seconds(x: f64) -> Option<Timestamp> {
    let ms = (x * 1000.0).round();
    if !ms.is_finite() || ms.abs() > 8.0e15 {
        return None;
    }
    // Checked above: finite and well inside i64.
    #[allow(clippy::cast_possible_truncation)]
    let ms = ms as i64;
    Some(Timestamp::from_millis(ms))
}

/// Reads a time: RFC 3339 / ISO 8601 (`T` or a space between date and
/// time, any fraction, `Z`, `+hh:mm`, `+hhmm` or no zone, which is read as
/// UTC), with a fast path for the common shapes, else what
/// `Timestamp::parse` accepts.
pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    fast_time(s.as_bytes()).or_else(|| Timestamp::parse(s))
}

fn fast_time(b: &[u8]) -> Option<Timestamp> {
    fn num(b: &[u8], at: usize, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(at..at + n)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    }
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(b, 0, 4)?, num(b, 5, 2)?, num(b, 8, 2)?);
    let (h, mi, sec) = (num(b, 11, 2)?, num(b, 14, 2)?, num(b, 17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms = ms * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            ms *= 10;
        }
    }
    let offset_secs = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (oh, om) = match rest.len() {
                5 if rest[2] == b':' => (num(rest, 0, 2)?, num(rest, 3, 2)?),
                4 => (num(rest, 0, 2)?, num(rest, 2, 2)?),
                2 => (num(rest, 0, 2)?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    if d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec.min(59) - offset_secs;
    Some(Timestamp::from_millis(secs * 1000 + ms))
}

const fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Finds CVE names (`CVE-2021-44228`, also written `CVE_2021_44228` or in
/// lower case, as Emerging Threats metadata does) in `text`, normalised to
/// `CVE-YYYY-NNNN`, appended to `out` without repeats.
pub(crate) fn find_cves(text: &str, out: &mut Vec<String>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 3 < b.len() {
        // Most bytes are not a `c`: one test rejects them.
        if b[i] | 0x20 != b'c' {
            i += 1;
            continue;
        }
        if b[i..i + 3].eq_ignore_ascii_case(b"cve")
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && matches!(b.get(i + 3), Some(b'-' | b'_'))
        {
            let y0 = i + 4;
            let mut j = y0;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j - y0 == 4 && matches!(b.get(j), Some(b'-' | b'_')) {
                let n0 = j + 1;
                let mut k = n0;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                if k - n0 >= 4 && k - n0 <= 7 {
                    let mut id = String::with_capacity(5 + k - y0);
                    id.push_str("CVE-");
                    id.push_str(&text[y0..j]);
                    id.push('-');
                    id.push_str(&text[n0..k]);
                    if !out.contains(&id) {
                        out.push(id);
                    }
                    i = k;
                    continue;
                }
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::at(Timestamp::from_millis(0))
    }

    #[test]
    fn unmapped_keys_go_under_labels_and_ecs_keys_stay() {
        let line = r#"{"@timestamp":"2024-05-01T10:00:00Z","source.ip":"10.0.0.1","destination":{"ip":"10.0.0.2","port":443},"user":"x","a":{"b":[1,2]},"message":"hi"}"#;
        let p = parse(line, &ctx()).expect("parse");
        assert_eq!(p.timestamp, Timestamp::parse("2024-05-01T10:00:00Z"));
        assert_eq!(
            p.fields.get("source.ip"),
            Some(&Value::Ip("10.0.0.1".parse().expect("ip")))
        );
        assert_eq!(
            p.fields.get("destination.ip"),
            Some(&Value::Ip("10.0.0.2".parse().expect("ip")))
        );
        assert_eq!(p.fields.get("destination.port"), Some(&Value::Int(443)));
        assert_eq!(
            p.fields.get_str("labels.user"),
            Some("x"),
            "a scalar 'user' is not the ECS set"
        );
        assert_eq!(
            p.fields.get("labels.a.b"),
            Some(&Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(p.fields.get_str("message"), Some("hi"));
        assert!(p.fields.get("labels.@timestamp").is_none());
    }

    #[test]
    fn mapping_moves_and_types_fields() {
        let mut c = ctx();
        c.json_mapping = Mapping::from_pairs(&[
            ("src".into(), "source.ip".into()),
            ("p.sport".into(), "source.port".into()),
            ("when".into(), "@timestamp".into()),
            ("sev".into(), "event.severity".into()),
        ]);
        c.json_mapping.validate().expect("valid");
        let p = parse(
            r#"{"src":"192.0.2.1","p":{"sport":"8080","x":1},"when":1700000000,"sev":"high"}"#,
            &c,
        )
        .expect("parse");
        assert_eq!(
            p.fields.get("source.ip"),
            Some(&Value::Ip("192.0.2.1".parse().expect("ip")))
        );
        assert_eq!(p.fields.get("source.port"), Some(&Value::Int(8080)));
        assert_eq!(p.fields.get("labels.p.x"), Some(&Value::Int(1)));
        assert!(p.fields.get("labels.p.sport").is_none());
        assert!(p.fields.get("labels.src").is_none());
        assert_eq!(p.timestamp, Some(Timestamp::from_millis(1_700_000_000_000)));
        assert_eq!(p.severity, 70);

        let c2 = Context {
            json_mapping: Mapping::default().with_timestamp("t", TimestampFormat::EpochMillis),
            ..ctx()
        };
        let p = parse(r#"{"t":1700000000123}"#, &c2).expect("parse");
        assert_eq!(p.timestamp, Some(Timestamp::from_millis(1_700_000_000_123)));
    }

    #[test]
    fn validate_names_the_bad_entry() {
        let m = Mapping::from_pairs(&[
            ("a".into(), "source.ip".into()),
            ("b..c".into(), "source.port".into()),
        ]);
        let e = m.validate().expect_err("bad");
        assert_eq!(e.index, 2);
        assert!(e.to_string().contains("b..c"), "{e}");
        let m = Mapping::from_pairs(&[("a".into(), "x y".into())]);
        assert!(m.validate().expect_err("bad").to_string().contains("' '"));
        let m = Mapping::from_pairs(&[
            ("a".into(), "user.name".into()),
            ("b".into(), "user.name".into()),
        ]);
        assert!(m.validate().expect_err("dup").reason.contains("already"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = parse("[1,2]", &ctx()).expect_err("array");
        assert!(e.reason.contains("array"), "{e}");
        let e = parse("{\"a\":", &ctx()).expect_err("cut");
        assert!(e.reason.contains("not a JSON object"), "{e}");
        assert_eq!(e.format, "json");
    }

    #[test]
    fn classify_by_top_level_keys() {
        assert_eq!(
            classify(
                r#"{"timestamp":"2020-01-01T00:00:00.000000+0000","flow_id":1,"event_type":"dns","src_ip":"1.1.1.1"}"#
            ),
            Some(Format::SuricataEve)
        );
        assert_eq!(
            classify(r#"{"_path":"conn","ts":1.5,"uid":"C1"}"#),
            Some(Format::Zeek)
        );
        assert_eq!(
            classify(r#"{"ts":1.5,"id.orig_h":"1.1.1.1"}"#),
            Some(Format::Zeek)
        );
        assert_eq!(
            classify(r#"{"winlog":{"event_id":1},"@timestamp":"x"}"#),
            Some(Format::WindowsJson)
        );
        assert_eq!(
            classify(r#"{"EventID":4624,"Channel":"Security"}"#),
            Some(Format::WindowsJson)
        );
        assert_eq!(
            classify(r#"{"Event":{"System":{"EventID":1},"EventData":{}}}"#),
            Some(Format::WindowsJson)
        );
        assert_eq!(
            classify(r#"{"a":{"event_type":1,"timestamp":2}}"#),
            Some(Format::Json)
        );
        assert_eq!(
            classify(r#"{"a":"\"event_type\":","timestamp":2}"#),
            Some(Format::Json)
        );
        assert_eq!(classify("not json"), None);
        assert_eq!(classify("[1]"), None);
        assert_eq!(classify("{\"a\":1} trailing"), None);
    }

    #[test]
    fn times_in_the_usual_shapes() {
        let want = Timestamp::parse("2016-07-13T22:42:07.573Z");
        assert_eq!(parse_time("2016-07-13T22:42:07.573103+0000"), want);
        assert_eq!(parse_time("2016-07-13T22:42:07.573103Z"), want);
        assert_eq!(parse_time("2016-07-13 22:42:07.573"), want);
        assert_eq!(parse_time("2016-07-14T00:42:07.573+02:00"), want);
        assert_eq!(
            parse_time("2016-07-13T22:42:07Z"),
            Timestamp::parse("2016-07-13T22:42:07Z")
        );
        assert_eq!(parse_time("2016-02-30T22:42:07Z"), None);
        assert_eq!(
            parse_time("1969-12-31T23:59:59Z"),
            Some(Timestamp::from_millis(-1000))
        );
        assert_eq!(parse_time("nonsense"), None);
    }

    #[test]
    fn cve_names_are_found_and_normalised() {
        let mut v = Vec::new();
        find_cves(
            "ET EXPLOIT Log4j CVE-2021-44228 and cve_2021_45046, xCVE-2000-0001",
            &mut v,
        );
        find_cves("CVE-2021-44228 again", &mut v);
        assert_eq!(v, ["CVE-2021-44228", "CVE-2021-45046"]);
    }
}

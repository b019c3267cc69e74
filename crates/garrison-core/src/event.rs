//! The normalised security event: one schema for every source.
//!
//! Field names follow the Elastic Common Schema (ECS) where ECS has one
//! (`source.ip`, `destination.port`, `user.name`, `event.category`, ...);
//! fields ECS does not know are kept under the source's own namespace
//! (`cef.extensions.cs1`, `suricata.eve.flow_id`, `winlog.event_data.*`,
//! `zeek.conn.history`, `labels.*` for a generic JSON mapping). The list of
//! names and what fills them is `docs/event-schema.md`.
//!
//! The envelope (tenant, times, source, parser, severity, original message)
//! is typed; the fields are an ordered list of dotted names and values,
//! cheap to build (names are mostly `&'static str`) and serialised as one
//! flat JSON object.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, TenantId};
use crate::time::Timestamp;

/// A field's name: a dotted ECS path, static for the schema's own names.
pub type FieldName = Cow<'static, str>;

/// A field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Ip(IpAddr),
    List(Vec<Value>),
}

impl Value {
    /// The value as text, when it is text.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer, when it is one (or text that reads as one).
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as an address, when it is one (or text that reads as one).
    #[must_use]
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            Self::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Converts a JSON value: objects become their JSON text (callers that
    /// want nested fields flatten them first, see [`Fields::flatten_json`]).
    #[must_use]
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        Some(match v {
            serde_json::Value::Null => return None,
            serde_json::Value::Bool(b) => Self::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Self::Int)
                .or_else(|| n.as_f64().map(Self::Float))?,
            serde_json::Value::String(s) => Self::Str(s.clone()),
            serde_json::Value::Array(a) => {
                Self::List(a.iter().filter_map(Self::from_json).collect())
            }
            serde_json::Value::Object(_) => Self::Str(json_text(v)),
        })
    }

    /// As [`Value::from_json`], taking the value so that text moves
    /// instead of being copied.
    #[must_use]
    pub fn from_json_owned(v: serde_json::Value) -> Option<Self> {
        Some(match v {
            serde_json::Value::Null => return None,
            serde_json::Value::Bool(b) => Self::Bool(b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Self::Int)
                .or_else(|| n.as_f64().map(Self::Float))?,
            serde_json::Value::String(s) => Self::Str(s),
            serde_json::Value::Array(a) => {
                Self::List(a.into_iter().filter_map(Self::from_json_owned).collect())
            }
            obj @ serde_json::Value::Object(_) => Self::Str(json_text(&obj)),
        })
    }
}

/// A JSON value as compact text: what its `Display` writes, without the
/// formatter in between (half the work for the objects events carry).
fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| v.to_string())
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => f.write_str(s),
            Self::Int(n) => write!(f, "{n}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}
impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Self::Int(i64::from(n))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}
impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Self {
        Self::Ip(ip)
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(v) => s.serialize_str(v),
            Self::Int(v) => s.serialize_i64(*v),
            Self::Float(v) => s.serialize_f64(*v),
            Self::Bool(v) => s.serialize_bool(*v),
            Self::Ip(v) => s.collect_str(v),
            Self::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Self::from_json(&v).unwrap_or(Self::Str(String::new())))
    }
}

/// Name equality for the linear scans of [`Fields`]: the length and the
/// last byte first, which tell most names apart (many share a prefix such
/// as `cef.extensions.`) without a call to compare the bytes.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.last() == b.last() && a == b
}

/// An event's fields: dotted names with values, in the order they were
/// set, each name at most once (setting it again replaces the value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(FieldName, Value)>);

impl Fields {
    #[must_use]
    pub fn new() -> Self {
        Self(Vec::new())
    }

    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn set(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        if let Some(slot) = self.0.iter_mut().find(|(n, _)| same_name(n, &name)) {
            slot.1 = value;
        } else {
            self.0.push((name, value));
        }
    }

    /// Appends `name` with `value` without looking for an earlier value:
    /// the caller knows the name is not set yet (checked in debug builds).
    /// Use it to build a record's fields quickly; [`Fields::set`] scans
    /// every name already set.
    pub fn push(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        let name = name.into();
        debug_assert!(
            self.get(&name).is_none(),
            "Fields::push: {name} is already set"
        );
        self.0.push((name, value.into()));
    }

    /// Sets `name` only when it has no value yet.
    pub fn set_default(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        let name = name.into();
        if self.get(&name).is_none() {
            self.0.push((name, value.into()));
        }
    }

    /// Sets a text field, skipping empty text and the `-` that many
    /// formats write for "no value".
    pub fn set_text(&mut self, name: impl Into<FieldName>, value: &str) {
        let v = value.trim();
        if !v.is_empty() && v != "-" {
            self.set(name, Value::Str(v.to_owned()));
        }
    }

    /// Sets an address field from text: an address when it reads as one,
    /// else nothing (the caller keeps the raw text elsewhere if it wants).
    pub fn set_ip(&mut self, name: impl Into<FieldName>, value: &str) -> bool {
        match value.trim().parse::<IpAddr>() {
            Ok(ip) => {
                self.set(name, Value::Ip(ip));
                true
            }
            Err(_) => false,
        }
    }

    /// Sets a port (or other small non-negative number) from text.
    pub fn set_port(&mut self, name: impl Into<FieldName>, value: &str) -> bool {
        match value.trim().parse::<u16>() {
            Ok(p) => {
                self.set(name, Value::from(p));
                true
            }
            Err(_) => false,
        }
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v)
    }

    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.0.iter().position(|(n, _)| same_name(n, name))?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every leaf of a JSON object under `prefix` (`prefix.a.b`),
    /// arrays of scalars as lists, nulls skipped. Names already set are
    /// replaced.
    pub fn flatten_json(&mut self, prefix: &str, v: &serde_json::Value) {
        let mut name = String::with_capacity(prefix.len() + 32);
        name.push_str(prefix);
        self.flatten_ref(&mut name, v);
    }

    fn flatten_ref(&mut self, name: &mut String, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                let len = name.len();
                for (k, child) in map {
                    if len > 0 {
                        name.push('.');
                    }
                    name.push_str(k);
                    self.flatten_ref(name, child);
                    name.truncate(len);
                }
            }
            other => {
                if let Some(value) = Value::from_json(other) {
                    self.set(name.clone(), value);
                }
            }
        }
    }

    /// As [`Fields::flatten_json`], taking the value so that text moves
    /// instead of being copied. Names already set are replaced.
    pub fn flatten_json_owned(&mut self, prefix: &str, v: serde_json::Value) {
        let mut fresh = false;
        self.flatten_start(prefix, v, &mut fresh);
    }

    /// As [`Fields::flatten_json_owned`] for a prefix the caller knows is
    /// fresh: no name equal to `prefix` or starting with `prefix.` is set
    /// yet, so the leaves are appended without looking for earlier values
    /// (see [`Fields::push`]). Only keys with a dot in them (or empty
    /// keys) can make two paths meet at one name; once one is seen, the
    /// rest of the object is added with [`Fields::set`] semantics.
    pub fn flatten_json_fresh(&mut self, prefix: &str, v: serde_json::Value) {
        let mut fresh = true;
        self.flatten_start(prefix, v, &mut fresh);
    }

    fn flatten_start(&mut self, prefix: &str, v: serde_json::Value, fresh: &mut bool) {
        if prefix.is_empty() || prefix.contains("..") || prefix.ends_with('.') {
            // Names built from an empty or oddly dotted prefix can meet
            // other paths; keep the careful semantics.
            *fresh = false;
        }
        let mut name = String::with_capacity(prefix.len() + 32);
        name.push_str(prefix);
        self.flatten_owned(&mut name, v, fresh);
    }

    fn flatten_owned(&mut self, name: &mut String, v: serde_json::Value, fresh: &mut bool) {
        match v {
            serde_json::Value::Object(map) => {
                let len = name.len();
                for (k, child) in map {
                    if k.is_empty() || k.contains('.') {
                        *fresh = false;
                    }
                    if len > 0 {
                        name.push('.');
                    }
                    name.push_str(&k);
                    self.flatten_owned(name, child, fresh);
                    name.truncate(len);
                }
            }
            other => {
                if let Some(value) = Value::from_json_owned(other) {
                    if *fresh {
                        self.push(name.clone(), value);
                    } else {
                        self.set(name.clone(), value);
                    }
                }
            }
        }
    }
}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (n, v) in &self.0 {
            map.serialize_entry(n.as_ref(), v)?;
        }
        map.end()
    }
}

/// Reads a JSON object back in the order its members were written (a
/// `serde_json::Map` would sort them); a repeated name keeps its last value.
impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of event fields")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut fields = Fields::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((name, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if let Some(v) = Value::from_json_owned(v) {
                        fields.set(name, v);
                    }
                }
                Ok(fields)
            }
        }
        d.deserialize_map(Members)
    }
}

/// What a parser makes of one line or record, before the pipeline adds the
/// envelope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The event's own time (`@timestamp`), when the record carries one.
    pub timestamp: Option<Timestamp>,
    /// 0 (informational) to 100 (critical), mapped from the source's scale
    /// (`docs/event-schema.md`).
    pub severity: u8,
    pub fields: Fields,
}

/// The longest original message kept with an event, in bytes; longer ones
/// are cut at a character boundary and marked.
pub const MAX_ORIGINAL_BYTES: usize = 16 * 1024;

/// A normalised event as stored and searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub tenant_id: TenantId,
    /// The event's time: the record's own, else the receive time.
    #[serde(rename = "@timestamp")]
    pub timestamp: Timestamp,
    pub received_at: Timestamp,
    /// The listener, ingest token or file the event came through.
    pub source_id: String,
    /// The parser that read it (`rfc5424`, `cef`, `suricata`, ...).
    pub parser: String,
    pub severity: u8,
    pub fields: Fields,
    /// The message as received, cut at [`MAX_ORIGINAL_BYTES`].
    pub original: String,
}

/// Cuts `s` to at most `max` bytes at a character boundary; says whether
/// it cut.
#[must_use]
pub fn truncate_utf8(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_order_and_replace_by_name() {
        let mut f = Fields::new();
        f.set("source.ip", Value::Ip("10.0.0.1".parse().expect("ip")));
        f.set_port("source.port", "443");
        f.set_text("user.name", " - ");
        f.set("source.ip", Value::Ip("10.0.0.2".parse().expect("ip")));
        f.set_default("source.port", 80_i64);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            serde_json::to_string(&f).expect("json"),
            r#"{"source.ip":"10.0.0.2","source.port":443}"#
        );
        assert!(f.get("user.name").is_none(), "'-' is no value");
    }

    #[test]
    fn json_is_flattened_into_dotted_names() {
        let mut f = Fields::new();
        let v: serde_json::Value =
            serde_json::from_str(r#"{"a":{"b":1,"c":[1,"x"],"d":null},"e":"t"}"#).expect("json");
        f.flatten_json("suricata.eve", &v);
        assert_eq!(f.get("suricata.eve.a.b"), Some(&Value::Int(1)));
        assert_eq!(
            f.get("suricata.eve.a.c"),
            Some(&Value::List(vec![Value::Int(1), Value::Str("x".into())]))
        );
        assert!(f.get("suricata.eve.a.d").is_none());
        let back: Fields =
            serde_json::from_str(&serde_json::to_string(&f).expect("ser")).expect("de");
        assert_eq!(back.len(), f.len());
    }

    #[test]
    fn push_appends_and_owned_flattening_matches_borrowed() {
        let mut f = Fields::new();
        f.push("a", 1_i64);
        f.push("b", "x");
        assert_eq!(f.len(), 2);
        assert_eq!(f.get("b"), Some(&Value::Str("x".into())));

        let text = r#"{"a":{"b":1,"c":[1,"x",null],"d":null,"e":{"f":"g"}},"h":"t","i":true}"#;
        let v: serde_json::Value = serde_json::from_str(text).expect("json");
        let mut by_ref = Fields::new();
        by_ref.flatten_json("p", &v);
        let mut owned = Fields::new();
        owned.flatten_json_owned("p", v.clone());
        let mut fresh = Fields::new();
        fresh.flatten_json_fresh("p", v);
        assert_eq!(by_ref, owned);
        assert_eq!(by_ref, fresh);
        assert_eq!(fresh.get("p.a.e.f"), Some(&Value::Str("g".into())));
        assert_eq!(fresh.get("p.i"), Some(&Value::Bool(true)));
    }

    #[test]
    fn fresh_flattening_with_dotted_keys_keeps_names_unique() {
        for text in [
            r#"{"a.b":1,"a":{"b":2}}"#,
            r#"{"a":{"b":2},"a.b":1}"#,
            r#"{"":{"b":1},"b":2}"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(text).expect("json");
            let mut by_ref = Fields::new();
            by_ref.flatten_json("p", &v);
            let mut fresh = Fields::new();
            fresh.flatten_json_fresh("p", v.clone());
            assert_eq!(by_ref, fresh, "{text}");
            let mut empty = Fields::new();
            empty.flatten_json_fresh("", v);
            let names: Vec<&str> = empty.iter().map(|(n, _)| n).collect();
            let mut dedup = names.clone();
            dedup.sort_unstable();
            dedup.dedup();
            assert_eq!(names.len(), dedup.len(), "{text}: {names:?}");
        }
    }

    #[test]
    fn fields_read_back_in_the_order_they_were_written() {
        let f: Fields =
            serde_json::from_str(r#"{"z":1,"a":"x","m":[1,2],"a":"y"}"#).expect("fields");
        let names: Vec<&str> = f.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["z", "a", "m"]);
        assert_eq!(
            f.get_str("a"),
            Some("y"),
            "the last of a repeated name wins"
        );
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_utf8("héllo", 2), ("h", true));
        assert_eq!(truncate_utf8("hello", 10), ("hello", false));
    }
}

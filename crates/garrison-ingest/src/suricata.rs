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
    let v = v.trim();
    let (proto, num) = if let Some(n) = v.strip_prefix("TLSv").or_else(|| v.strip_prefix("TLS ")) {
        ("tls", n)
    } else if let Some(n) = v.strip_prefix("SSLv").or_else(|| v.strip_prefix("SSL ")) {
        ("ssl", n)
    } else {
        return;
    };
    let num = match num {
        "1" => "1.0",
        "10" => "1.0",
        "11" => "1.1",
        "12" => "1.2",
        "13" => "1.3",
        n => n,
    };
    if !num.is_empty() {
        f.set("tls.version", num);
        f.set("tls.version_protocol", proto);
    }
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

    #[test]
    fn huge_flow_ids_keep_their_digits() {
        let e = p(r#"{"event_type":"flow","flow_id":18446744073709551615}"#);
        assert_eq!(
            e.fields.get_str("suricata.eve.flow_id"),
            Some("18446744073709551615")
        );
    }
}

//! Zeek logs written as JSON (one object per line, `LogAscii::use_json`
//! or json-streaming-logs; dotted keys such as `id.orig_h`, or the same
//! nested as `{"id":{"orig_h":..}}`).
//!
//! The log's name is `_path` when present, else guessed from its keys
//! (`query` → dns, `method`/`uri` → http, `server_name`/`ja3`/`cipher` →
//! ssl, `note` → notice, `conn_state`/`history` → conn, ...; `unknown`
//! when nothing fits) and is written to `event.dataset` as `zeek.<log>`.
//!
//! Every log: `ts` (epoch seconds with fraction, or ISO 8601 text) → the
//! event time, `uid` → `zeek.session_id`, `id.orig_h`/`id.orig_p`/
//! `id.resp_h`/`id.resp_p` → `source.ip`/`source.port`/`destination.ip`/
//! `destination.port`, `proto` → `network.transport`, `service` →
//! `network.protocol` (conn and others; not kerberos, where it is the
//! service principal), `community_id` → `network.community_id`. The
//! per-log fields in the tables of `log_field` (in the source) go to ECS; everything
//! else is kept under `zeek.<log>.<field>`.
//!
//! Severity: notices are 60 (Zeek gives them no level; a `severity`
//! field on the notice, a number 0–100 or a word, wins), weirds 30,
//! every other log 0.

use serde_json::{Map, Value as Json};

use crate::json::{epoch_seconds, int_of, ip_value, parse_object, parse_time};
use crate::suricata::str_list;
use crate::{Context, Fields, Format, ParseError, Parsed, Value};

/// Parses one Zeek JSON log line.
///
/// # Errors
/// When the line is not a JSON object, or is an object with none of
/// Zeek's keys (`ts`, `uid`, `_path`, `id.orig_h`).
pub fn parse(line: &str, _ctx: &Context) -> Result<Parsed, ParseError> {
    let obj = parse_object(line, Format::Zeek)?;
    if !(obj.contains_key("ts")
        || obj.contains_key("_path")
        || obj.contains_key("uid")
        || obj.contains_key("id.orig_h")
        || obj.contains_key("id"))
    {
        return Err(ParseError::new(
            Format::Zeek,
            "not a Zeek log record: the object has none of ts, uid, _path or id.orig_h",
        ));
    }
    let log = match obj.get("_path").and_then(Json::as_str) {
        Some(p) if !p.trim().is_empty() => p.trim().to_owned(),
        _ => guess_log(&obj).to_owned(),
    };
    let mut out = Parsed {
        fields: Fields::with_capacity(obj.len() + 8),
        ..Parsed::default()
    };
    let f = &mut out.fields;
    f.set("event.module", "zeek");
    f.set("event.dataset", format!("zeek.{log}"));
    let (kind, category, types): (&str, &[&str], &[&str]) = match log.as_str() {
        "notice" => ("alert", &["network", "intrusion_detection"], &["info"]),
        "conn" => ("event", &["network"], &["connection"]),
        "files" | "pe" | "x509" => ("event", &["file"], &["info"]),
        "software" => ("event", &["network"], &["info"]),
        "weird" => ("event", &["network"], &["info"]),
        _ => ("event", &["network"], &["protocol"]),
    };
    f.set("event.kind", kind);
    f.set("event.category", str_list(category));
    f.set("event.type", str_list(types));
    out.severity = match log.as_str() {
        "notice" => 60,
        "weird" => 30,
        _ => 0,
    };
    let mut ctx = Walk {
        log: &log,
        out: &mut out,
        name: String::with_capacity(64),
    };
    for (k, v) in &obj {
        ctx.leaf_or_walk(k, v);
    }
    Ok(out)
}

struct Walk<'a> {
    log: &'a str,
    out: &'a mut Parsed,
    /// Scratch for the `zeek.<log>.<path>` names.
    name: String,
}

impl Walk<'_> {
    fn leaf_or_walk(&mut self, path: &str, v: &Json) {
        if let Json::Object(inner) = v {
            for (k, child) in inner {
                let p = format!("{path}.{k}");
                self.leaf_or_walk(&p, child);
            }
        } else {
            self.leaf(path, v);
        }
    }

    fn leaf(&mut self, path: &str, v: &Json) {
        if v.is_null() {
            return;
        }
        let f = &mut self.out.fields;
        // Common fields first; per-log tables may claim a name before
        // (kerberos `service`).
        if !log_field(self.log, path, v, f, &mut self.out.severity) {
            match path {
                "ts" => {
                    let ts = match v {
                        Json::Number(n) => n.as_f64().and_then(epoch_seconds),
                        Json::String(s) => {
                            parse_time(s).or_else(|| s.trim().parse().ok().and_then(epoch_seconds))
                        }
                        _ => None,
                    };
                    match ts {
                        Some(ts) => self.out.timestamp = Some(ts),
                        None => self.keep(path, v),
                    }
                }
                "_path" => {}
                "uid" => set_text(f, "zeek.session_id", v),
                "id.orig_h" => set_ip(f, "source.ip", v),
                "id.resp_h" => set_ip(f, "destination.ip", v),
                "id.orig_p" => set_int(f, "source.port", v),
                "id.resp_p" => set_int(f, "destination.port", v),
                "proto" => {
                    if let Some(s) = v.as_str() {
                        f.set("network.transport", s.to_ascii_lowercase());
                    }
                }
                "service" => {
                    if let Some(s) = v.as_str() {
                        f.set_text("network.protocol", &s.to_ascii_lowercase());
                    }
                }
                "community_id" => set_text(f, "network.community_id", v),
                _ => self.keep(path, v),
            }
        }
    }

    fn keep(&mut self, path: &str, v: &Json) {
        if let Some(value) = Value::from_json(v) {
            self.name.clear();
            self.name.push_str("zeek.");
            self.name.push_str(self.log);
            self.name.push('.');
            self.name.push_str(path);
            self.out.fields.set(self.name.clone(), value);
        }
    }
}

/// The per-log mappings to ECS; true when `path` was taken.
///
/// | log | Zeek | ECS |
/// |---|---|---|
/// | conn | `duration` | `event.duration` (nanoseconds) |
/// | conn | `orig_bytes` / `resp_bytes` | `source.bytes` / `destination.bytes` |
/// | conn | `orig_pkts` / `resp_pkts` | `source.packets` / `destination.packets` |
/// | conn | `orig_l2_addr` / `resp_l2_addr` | `source.mac` / `destination.mac` |
/// | dns | `query` | `dns.question.name` |
/// | dns | `qtype_name` / `qclass_name` | `dns.question.type` / `dns.question.class` |
/// | dns | `rcode_name` | `dns.response_code` |
/// | dns | `trans_id` | `dns.id` |
/// | dns | `answers` | `dns.answers.data` (list), addresses also `dns.resolved_ip` |
/// | http | `host` / `uri` | `url.domain` / `url.original` |
/// | http | `method` / `status_code` / `version` | `http.request.method` / `http.response.status_code` / `http.version` |
/// | http | `user_agent` / `referrer` | `user_agent.original` / `http.request.referrer` |
/// | http | `request_body_len` / `response_body_len` | `http.request.body.bytes` / `http.response.body.bytes` |
/// | ssl | `server_name` | `tls.client.server_name` |
/// | ssl | `version` (`TLSv12`) | `tls.version` (`1.2`), `tls.version_protocol` |
/// | ssl | `cipher` / `curve` / `established` / `resumed` | `tls.cipher` / `tls.curve` / `tls.established` / `tls.resumed` |
/// | ssl | `ja3` / `ja3s` / `ja4` | `tls.client.ja3` / `tls.server.ja3s` / `tls.client.ja4` |
/// | ssl | `subject` / `issuer` | `tls.server.subject` / `tls.server.issuer` |
/// | files | `md5` / `sha1` / `sha256` | `file.hash.*` |
/// | files | `mime_type` / `filename` / `total_bytes` | `file.mime_type` / `file.name` / `file.size` |
/// | notice | `note` / `msg` | `rule.name` / `message` |
/// | notice | `src` / `dst` / `p` | `source.ip` / `destination.ip` / `destination.port` |
/// | notice | `severity` | the event's severity |
/// | ssh | `auth_success` | `event.outcome` (`success`/`failure`) |
/// | ssh | `client` / `server` | `ssh.client.software` / `ssh.server.software` |
/// | ssh | `hassh` / `hasshServer` | `ssh.client.hassh` / `ssh.server.hassh` |
/// | smtp | `mailfrom` / `rcptto` | `email.from.address` / `email.to.address` |
/// | smtp | `subject` / `msg_id` / `user_agent` | `email.subject` / `email.message_id` / `user_agent.original` |
/// | kerberos | `client` | `user.name` (the part before `/`) |
/// | kerberos | `success` | `event.outcome` |
/// | dce_rpc | `operation` | `event.action` |
/// | modbus | `func` | `event.action` |
/// | weird | `name` | `event.action`, `rule.name` |
/// | software | `host` / `host_p` | `source.ip` / `source.port` |
/// | x509 | `certificate.subject` / `certificate.issuer` | `x509.subject.distinguished_name` / `x509.issuer.distinguished_name` |
///
/// The Zeek value is kept under `zeek.<log>.<field>` too where ECS
/// changes it (ssl `version`, dns `answers`, conn `duration`, kerberos
/// `client`, smtp `mailfrom`/`rcptto`).
fn log_field(log: &str, path: &str, v: &Json, f: &mut Fields, severity: &mut u8) -> bool {
    let keep = |f: &mut Fields, name: &str| {
        if let Some(value) = Value::from_json(v) {
            f.set(format!("zeek.{log}.{name}"), value);
        }
    };
    let text = |f: &mut Fields, name: &'static str| set_text(f, name, v);
    let int = |f: &mut Fields, name: &'static str| set_int(f, name, v);
    match (log, path) {
        ("conn", "duration") => {
            if let Some(secs) = v.as_f64() {
                let ns = (secs * 1e9).round();
                if ns.is_finite() && ns.abs() < 9.0e18 {
                    // Finite and inside i64, checked above.
                    #[allow(clippy::cast_possible_truncation)]
                    f.set("event.duration", ns as i64);
                }
            }
            keep(f, "duration");
        }
        ("conn", "orig_bytes") => int(f, "source.bytes"),
        ("conn", "resp_bytes") => int(f, "destination.bytes"),
        ("conn", "orig_pkts") => int(f, "source.packets"),
        ("conn", "resp_pkts") => int(f, "destination.packets"),
        ("conn", "orig_l2_addr") => text(f, "source.mac"),
        ("conn", "resp_l2_addr") => text(f, "destination.mac"),
        ("dns", "query") => text(f, "dns.question.name"),
        ("dns", "qtype_name") => text(f, "dns.question.type"),
        ("dns", "qclass_name") => text(f, "dns.question.class"),
        ("dns", "rcode_name") => text(f, "dns.response_code"),
        ("dns", "trans_id") => {
            if let Some(n) = int_of(v) {
                f.set("dns.id", n.to_string());
            }
        }
        ("dns", "answers") => {
            if let Some(value) = Value::from_json(v) {
                let ips: Vec<Value> = match &value {
                    Value::List(items) => items
                        .iter()
                        .filter_map(|i| i.as_str().and_then(|s| s.parse().ok()).map(Value::Ip))
                        .collect(),
                    _ => Vec::new(),
                };
                if !ips.is_empty() {
                    f.set("dns.resolved_ip", Value::List(ips));
                }
                f.set("dns.answers.data", value);
            }
            keep(f, "answers");
        }
        ("http", "host") => text(f, "url.domain"),
        ("http", "uri") => text(f, "url.original"),
        ("http", "method") => text(f, "http.request.method"),
        ("http", "status_code") => int(f, "http.response.status_code"),
        ("http", "version") => text(f, "http.version"),
        ("http", "user_agent") => text(f, "user_agent.original"),
        ("http", "referrer") => text(f, "http.request.referrer"),
        ("http", "request_body_len") => int(f, "http.request.body.bytes"),
        ("http", "response_body_len") => int(f, "http.response.body.bytes"),
        ("ssl", "server_name") => text(f, "tls.client.server_name"),
        ("ssl", "version") => {
            if let Some(s) = v.as_str() {
                let (proto, num) = match (s.strip_prefix("TLSv"), s.strip_prefix("SSLv")) {
                    (Some(n), _) => ("tls", n),
                    (_, Some(n)) => ("ssl", n),
                    _ => ("", ""),
                };
                let num = match num {
                    "10" | "1" => "1.0",
                    "11" => "1.1",
                    "12" => "1.2",
                    "13" => "1.3",
                    n => n,
                };
                if !proto.is_empty() && !num.is_empty() {
                    f.set("tls.version", num);
                    f.set("tls.version_protocol", proto);
                }
            }
            keep(f, "version");
        }
        ("ssl", "cipher") => text(f, "tls.cipher"),
        ("ssl", "curve") => text(f, "tls.curve"),
        ("ssl", "established") => set_bool(f, "tls.established", v),
        ("ssl", "resumed") => set_bool(f, "tls.resumed", v),
        ("ssl", "ja3") => text(f, "tls.client.ja3"),
        ("ssl", "ja3s") => text(f, "tls.server.ja3s"),
        ("ssl", "ja4") => text(f, "tls.client.ja4"),
        ("ssl", "subject") => text(f, "tls.server.subject"),
        ("ssl", "issuer") => text(f, "tls.server.issuer"),
        ("files", "md5") => text(f, "file.hash.md5"),
        ("files", "sha1") => text(f, "file.hash.sha1"),
        ("files", "sha256") => text(f, "file.hash.sha256"),
        ("files", "mime_type") => text(f, "file.mime_type"),
        ("files", "filename") => text(f, "file.name"),
        ("files", "total_bytes") => int(f, "file.size"),
        ("notice", "note") => text(f, "rule.name"),
        ("notice", "msg") => text(f, "message"),
        ("notice", "src") => set_ip(f, "source.ip", v),
        ("notice", "dst") => set_ip(f, "destination.ip", v),
        ("notice", "p") => int(f, "destination.port"),
        ("notice", "severity") => {
            if let Some(s) = notice_severity(v) {
                *severity = s;
            }
            keep(f, "severity");
        }
        ("ssh", "auth_success") => {
            if let Some(b) = v.as_bool() {
                f.set("event.outcome", if b { "success" } else { "failure" });
            }
            keep(f, "auth_success");
        }
        ("ssh", "client") => text(f, "ssh.client.software"),
        ("ssh", "server") => text(f, "ssh.server.software"),
        ("ssh", "hassh") => text(f, "ssh.client.hassh"),
        ("ssh", "hasshServer") => text(f, "ssh.server.hassh"),
        ("smtp", "mailfrom") => {
            if let Some(s) = v.as_str() {
                f.set_text("email.from.address", strip_angle(s));
            }
            keep(f, "mailfrom");
        }
        ("smtp", "rcptto") => {
            if let Json::Array(a) = v {
                let list: Vec<Value> = a
                    .iter()
                    .filter_map(Json::as_str)
                    .map(|s| Value::Str(strip_angle(s).to_owned()))
                    .collect();
                if !list.is_empty() {
                    f.set("email.to.address", Value::List(list));
                }
            }
            keep(f, "rcptto");
        }
        ("smtp", "subject") => text(f, "email.subject"),
        ("smtp", "msg_id") => text(f, "email.message_id"),
        ("smtp", "user_agent") => text(f, "user_agent.original"),
        ("kerberos", "client") => {
            if let Some(s) = v.as_str() {
                let user = s.split('/').next().unwrap_or(s);
                f.set_text("user.name", user);
            }
            keep(f, "client");
        }
        ("kerberos", "service") => keep(f, "service"),
        ("kerberos", "success") => {
            if let Some(b) = v.as_bool() {
                f.set("event.outcome", if b { "success" } else { "failure" });
            }
            keep(f, "success");
        }
        ("dce_rpc", "operation") | ("modbus", "func") => {
            text(f, "event.action");
            keep(f, path);
        }
        ("weird", "name") => {
            text(f, "event.action");
            text(f, "rule.name");
        }
        ("software", "host") => set_ip(f, "source.ip", v),
        ("software", "host_p") => int(f, "source.port"),
        ("x509", "certificate.subject") => text(f, "x509.subject.distinguished_name"),
        ("x509", "certificate.issuer") => text(f, "x509.issuer.distinguished_name"),
        _ => return false,
    }
    true
}

fn notice_severity(v: &Json) -> Option<u8> {
    match v {
        Json::Number(n) => n.as_f64().filter(|x| x.is_finite()).map(|x| {
            // Clamped to 0..=100 first.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let s = x.clamp(0.0, 100.0).round() as u8;
            s
        }),
        Json::String(s) => Some(match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" => 80,
            "high" | "error" => 70,
            "medium" | "warning" => 50,
            "low" | "notice" => 30,
            "info" | "informational" => 20,
            _ => return None,
        }),
        _ => None,
    }
}

/// Guesses the log from its keys when `_path` is missing.
fn guess_log(o: &Map<String, Json>) -> &'static str {
    let has = |k: &str| o.contains_key(k);
    if has("note") {
        "notice"
    } else if has("query") && (has("qtype") || has("qtype_name") || has("rcode") || has("trans_id"))
    {
        "dns"
    } else if has("method") && (has("uri") || has("host") || has("status_code")) {
        "http"
    } else if has("server_name") || has("ja3") || has("cipher") || has("validation_status") {
        "ssl"
    } else if has("conn_state") || has("history") || has("orig_bytes") {
        "conn"
    } else if has("fuid")
        && (has("mime_type") || has("md5") || has("sha1") || has("analyzers") || has("seen_bytes"))
    {
        "files"
    } else if has("auth_success") || has("hassh") || has("auth_attempts") {
        "ssh"
    } else if has("mailfrom") || has("rcptto") || has("helo") {
        "smtp"
    } else if has("request_type") && has("client") {
        "kerberos"
    } else if has("endpoint") && has("operation") {
        "dce_rpc"
    } else if has("func") && (has("pdu_type") || has("exception") || has("unit")) {
        "modbus"
    } else if has("community") && (has("get_requests") || has("version")) {
        "snmp"
    } else if has("machine") && (has("is_exe") || has("compile_ts")) {
        "pe"
    } else if has("software_type") {
        "software"
    } else if has("certificate.subject") || has("certificate.version") || has("certificate") {
        "x509"
    } else if has("name") && (has("addl") || has("notice") || has("peer")) {
        "weird"
    } else {
        "unknown"
    }
}

fn strip_angle(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
}

fn set_text(f: &mut Fields, name: &'static str, v: &Json) {
    match v {
        Json::String(s) => f.set_text(name, s),
        Json::Number(n) => f.set(name, n.to_string()),
        Json::Bool(b) => f.set(name, b.to_string()),
        Json::Array(_) => {
            if let Some(value) = Value::from_json(v) {
                f.set(name, value);
            }
        }
        _ => {}
    }
}

fn set_int(f: &mut Fields, name: &'static str, v: &Json) {
    if let Some(n) = int_of(v) {
        f.set(name, n);
    }
}

fn set_bool(f: &mut Fields, name: &'static str, v: &Json) {
    if let Some(b) = v.as_bool() {
        f.set(name, b);
    }
}

fn set_ip(f: &mut Fields, name: &'static str, v: &Json) {
    if let Some(s) = v.as_str() {
        f.set(name, ip_value(s));
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
    fn dns_record() {
        let e = p(
            r#"{"_path":"dns","ts":"2018-03-24T17:15:20.865716Z","uid":"CqKst53mF3det3eDV9","id.orig_h":"10.47.1.100","id.orig_p":41772,"id.resp_h":"10.0.0.100","id.resp_p":53,"proto":"udp","trans_id":36329,"query":"ise.wrccdc.org","qtype_name":"A","rcode_name":"NOERROR","answers":["ise.wrccdc.cpp.edu","134.71.3.16"],"TTLs":[2230.0,41830.0]}"#,
        );
        assert_eq!(e.timestamp, Timestamp::parse("2018-03-24T17:15:20.865Z"));
        assert_eq!(
            e.fields.get_str("dns.question.name"),
            Some("ise.wrccdc.org")
        );
        assert_eq!(e.fields.get_str("dns.response_code"), Some("NOERROR"));
        assert_eq!(
            e.fields.get_str("zeek.session_id"),
            Some("CqKst53mF3det3eDV9")
        );
        assert_eq!(e.fields.get("source.port"), Some(&Value::Int(41772)));
        assert_eq!(
            e.fields.get("destination.ip"),
            Some(&Value::Ip("10.0.0.100".parse().expect("ip")))
        );
        assert_eq!(
            e.fields.get("dns.resolved_ip"),
            Some(&Value::List(vec![Value::Ip(
                "134.71.3.16".parse().expect("ip")
            )]))
        );
        assert_eq!(
            e.fields.get("zeek.dns.TTLs"),
            Some(&Value::List(vec![
                Value::Float(2230.0),
                Value::Float(41830.0)
            ]))
        );
        assert_eq!(e.fields.get_str("event.dataset"), Some("zeek.dns"));
    }

    #[test]
    fn epoch_ts_nested_ids_and_guessed_log() {
        let e = p(
            r#"{"ts":1521911720.5,"uid":"C1","id":{"orig_h":"10.0.0.1","orig_p":1,"resp_h":"10.0.0.2","resp_p":443},"proto":"tcp","service":"ssl","conn_state":"SF","orig_bytes":10,"duration":0.25}"#,
        );
        assert_eq!(e.timestamp, Some(Timestamp::from_millis(1_521_911_720_500)));
        assert_eq!(e.fields.get_str("event.dataset"), Some("zeek.conn"));
        assert_eq!(e.fields.get("destination.port"), Some(&Value::Int(443)));
        assert_eq!(e.fields.get_str("network.protocol"), Some("ssl"));
        assert_eq!(
            e.fields.get("event.duration"),
            Some(&Value::Int(250_000_000))
        );
        assert_eq!(e.fields.get_str("zeek.conn.conn_state"), Some("SF"));
    }

    #[test]
    fn notice_is_an_alert() {
        let e = p(
            r#"{"_path":"notice","ts":1.0,"note":"SSL::Invalid_Server_Cert","msg":"bad cert","src":"10.1.1.1","dst":"10.2.2.2","p":443}"#,
        );
        assert_eq!(e.severity, 60);
        assert_eq!(
            e.fields.get_str("rule.name"),
            Some("SSL::Invalid_Server_Cert")
        );
        assert_eq!(e.fields.get_str("message"), Some("bad cert"));
        assert_eq!(e.fields.get_str("event.kind"), Some("alert"));
    }

    #[test]
    fn ssl_and_kerberos() {
        let e =
            p(r#"{"_path":"ssl","ts":1,"server_name":"a.example","version":"TLSv12","ja3":"abc"}"#);
        assert_eq!(
            e.fields.get_str("tls.client.server_name"),
            Some("a.example")
        );
        assert_eq!(e.fields.get_str("tls.version"), Some("1.2"));
        let k =
            p(r#"{"_path":"kerberos","ts":1,"client":"alice/EXAMPLE","service":"krbtgt/EXAMPLE"}"#);
        assert_eq!(k.fields.get_str("user.name"), Some("alice"));
        assert!(k.fields.get("network.protocol").is_none());
        assert_eq!(
            k.fields.get_str("zeek.kerberos.service"),
            Some("krbtgt/EXAMPLE")
        );
    }

    #[test]
    fn not_zeek() {
        let e = parse(r#"{"a":1}"#, &Context::at(Timestamp::from_millis(0))).expect_err("not zeek");
        assert!(e.reason.contains("ts"), "{e}");
    }
}

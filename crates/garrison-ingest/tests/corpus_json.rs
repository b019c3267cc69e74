//! Every Suricata EVE, Zeek and Windows event JSON file of the corpus
//! (`$GARRISON_CORPUS/events/{suricata,zeek,windows-json}`) is read by its
//! parser. The expected counts and values are derived from the files
//! themselves with `serde_json` (and, where the corpus manifest states
//! them, checked against it too); a record is allowed to fail only when
//! `serde_json` proves it is not JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use garrison_core::Timestamp;
use garrison_ingest::{Context, Format, Parsed, Value, json, suricata, windows, zeek};
use serde_json::Value as Json;

fn corpus() -> PathBuf {
    std::env::var_os("GARRISON_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    )
}

/// Event directories live at `events/` (a half) or `public/events/`,
/// `holdout/events/` (the whole corpus).
fn event_dirs(kind: &str) -> Vec<PathBuf> {
    let root = corpus();
    [
        root.join("events").join(kind),
        root.join("public/events").join(kind),
        root.join("holdout/events").join(kind),
    ]
    .into_iter()
    .filter(|p| p.is_dir())
    .collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn json_files(kind: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in event_dirs(kind) {
        files_under(&d, &mut out);
    }
    out.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson")
    });
    out
}

fn ctx() -> Context {
    Context::at(Timestamp::from_millis(1_700_000_000_000))
}

fn manifest() -> String {
    std::fs::read_to_string(corpus().join("MANIFEST.md")).unwrap_or_default()
}

/// The manifest row of a file, by its path relative to the half.
fn manifest_row<'a>(manifest: &'a str, path: &Path) -> Option<&'a str> {
    let s = path.to_string_lossy();
    let rel = &s[s.find("events/")?..];
    let key = format!("| {rel} |");
    manifest.lines().find(|l| l.starts_with(&key))
}

fn text_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn field_text(p: &Parsed, name: &str) -> Option<String> {
    p.fields.get(name).map(ToString::to_string)
}

/// A dotted path into a record.
fn at<'a>(v: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

#[test]
fn suricata_eve_files() {
    let files = json_files("suricata");
    assert!(
        !files.is_empty(),
        "no EVE files under {}",
        corpus().display()
    );
    let manifest = manifest();
    // (EVE path, ECS name): where the record has the first, the event has
    // the second with the same text.
    let spot: &[(&str, &str)] = &[
        ("alert.signature", "rule.name"),
        ("alert.category", "rule.category"),
        ("alert.action", "event.action"),
        ("dns.rrname", "dns.question.name"),
        ("dns.queries.0.rrname", "dns.question.name"),
        ("dns.rcode", "dns.response_code"),
        ("http.hostname", "url.domain"),
        ("http.url", "url.original"),
        ("http.http_method", "http.request.method"),
        ("http.status", "http.response.status_code"),
        ("http.http_user_agent", "user_agent.original"),
        ("tls.sni", "tls.client.server_name"),
        ("tls.ja3.hash", "tls.client.ja3"),
        ("tls.ja3s.hash", "tls.server.ja3s"),
        ("fileinfo.filename", "file.name"),
        ("fileinfo.md5", "file.hash.md5"),
        ("fileinfo.sha1", "file.hash.sha1"),
        ("fileinfo.sha256", "file.hash.sha256"),
        ("fileinfo.size", "file.size"),
        ("flow.bytes_toserver", "source.bytes"),
        ("flow.pkts_toclient", "destination.packets"),
        ("ssh.client.hassh.hash", "ssh.client.hassh"),
        ("community_id", "network.community_id"),
        ("src_port", "source.port"),
        ("dest_port", "destination.port"),
    ];
    let (mut total, mut malformed, mut spots) = (0usize, 0usize, 0usize);
    let mut seen_ecs: BTreeSet<&str> = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read EVE file");
        let mut want_types: BTreeMap<String, usize> = BTreeMap::new();
        let mut got_types: BTreeMap<String, usize> = BTreeMap::new();
        let (mut want_sids, mut got_sids) = (BTreeSet::new(), BTreeSet::new());
        let (mut want_alerts, mut got_alerts) = (0, 0);
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let loc = format!("{}:{}", file.display(), n + 1);
            let raw: Json = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    assert!(
                        suricata::parse(line, &ctx()).is_err(),
                        "{loc}: malformed ({e}) yet parsed"
                    );
                    malformed += 1;
                    continue;
                }
            };
            total += 1;
            assert_eq!(
                json::classify(line),
                Some(Format::SuricataEve),
                "{loc}: classify"
            );
            let ev = suricata::parse(line, &ctx()).unwrap_or_else(|e| panic!("{loc}: {e}"));
            let et = raw["event_type"].as_str().expect("event_type").to_owned();
            *want_types.entry(et.clone()).or_default() += 1;
            *got_types
                .entry(
                    ev.fields
                        .get_str("suricata.eve.event_type")
                        .unwrap_or("?")
                        .to_owned(),
                )
                .or_default() += 1;
            if et == "alert" {
                want_alerts += 1;
                want_sids.insert(raw["alert"]["signature_id"].to_string());
            }
            if ev.fields.get_str("event.kind") == Some("alert") {
                got_alerts += 1;
                got_sids.insert(field_text(&ev, "rule.id").unwrap_or_default());
                let sev = raw["alert"]["severity"].as_i64().unwrap_or(2);
                let want = [80, 80, 60, 40, 20][usize::try_from(sev.clamp(0, 4)).expect("small")];
                assert_eq!(ev.severity, want, "{loc}: alert severity {sev}");
            }
            if let Some(ts) = raw.get("timestamp").and_then(Json::as_str) {
                assert!(ev.timestamp.is_some(), "{loc}: timestamp {ts} not read");
                assert_eq!(
                    ev.timestamp,
                    Timestamp::parse(&ts.replace("+0000", "Z")),
                    "{loc}"
                );
            }
            for (k, name) in [("src_ip", "source.ip"), ("dest_ip", "destination.ip")] {
                if let Some(ip) = raw.get(k).and_then(Json::as_str) {
                    let want = ip.parse().map_or_else(|_| Value::Str(ip.into()), Value::Ip);
                    assert_eq!(ev.fields.get(name), Some(&want), "{loc}: {name}");
                }
            }
            if let Some(p) = raw.get("proto").and_then(Json::as_str) {
                assert_eq!(
                    ev.fields.get_str("network.transport"),
                    Some(p.to_lowercase().as_str()),
                    "{loc}"
                );
            }
            if let Some(id) = raw.get("flow_id") {
                assert_eq!(
                    field_text(&ev, "suricata.eve.flow_id"),
                    Some(id.to_string()),
                    "{loc}"
                );
            }
            for (path, name) in spot {
                let v = if let Some(rest) = path.strip_prefix("dns.queries.0.") {
                    at(&raw, "dns.queries")
                        .and_then(|q| q.get(0))
                        .and_then(|q| q.get(rest))
                } else {
                    at(&raw, path)
                };
                let Some(want) = v.and_then(text_of) else {
                    continue;
                };
                if want.trim().is_empty() {
                    continue;
                }
                assert_eq!(
                    field_text(&ev, name).as_deref(),
                    Some(want.trim()),
                    "{loc}: {path} -> {name}"
                );
                spots += 1;
                seen_ecs.insert(name);
            }
            // Nothing is lost: every leaf of every protocol object is kept
            // under suricata.eve.
            if let Some(Json::Object(o)) = raw.get(&et) {
                for (k, v) in o {
                    if v.is_null() || v.is_object() || v.as_array().is_some_and(Vec::is_empty) {
                        continue;
                    }
                    let name = format!("suricata.eve.{et}.{k}");
                    assert!(ev.fields.get(&name).is_some(), "{loc}: {name} missing");
                }
            }
            // CVE names in signatures or metadata reach vulnerability.id.
            if et == "alert" {
                let sig = raw["alert"]["signature"].as_str().unwrap_or("");
                let meta = raw["alert"]["metadata"]["cve"].to_string();
                if sig.to_ascii_uppercase().contains("CVE-")
                    || meta.to_ascii_uppercase().contains("CVE")
                {
                    assert!(
                        ev.fields.get("vulnerability.id").is_some(),
                        "{loc}: CVE not in vulnerability.id"
                    );
                }
            }
        }
        assert_eq!(
            got_types,
            want_types,
            "{}: event_type histogram",
            file.display()
        );
        assert_eq!(got_alerts, want_alerts, "{}: alerts", file.display());
        assert_eq!(got_sids, want_sids, "{}: signature ids", file.display());
        // The manifest's histogram, when it states one.
        if let Some(row) = manifest_row(&manifest, file)
            && let Some(start) = row.find("event_type histogram {")
        {
            let rest = &row[start + "event_type histogram ".len()..];
            let dict = &rest[..=rest.find('}').expect("closing brace")];
            let stated: BTreeMap<String, usize> =
                serde_json::from_str(&dict.replace('\'', "\"")).expect("manifest histogram");
            assert_eq!(want_types, stated, "{}: manifest histogram", file.display());
        }
    }
    eprintln!(
        "suricata: {} files, {total} records parsed, {malformed} malformed lines, {spots} field checks over {} ECS names",
        files.len(),
        seen_ecs.len()
    );
    for name in ["rule.name", "dns.question.name", "url.domain", "file.name"] {
        assert!(seen_ecs.contains(name), "the corpus never exercised {name}");
    }
}

#[test]
fn zeek_files() {
    let files = json_files("zeek");
    assert!(
        !files.is_empty(),
        "no Zeek files under {}",
        corpus().display()
    );
    let spot: &[(&str, &str, &str)] = &[
        ("*", "uid", "zeek.session_id"),
        ("*", "id.orig_p", "source.port"),
        ("*", "id.resp_p", "destination.port"),
        ("dns", "query", "dns.question.name"),
        ("dns", "qtype_name", "dns.question.type"),
        ("dns", "rcode_name", "dns.response_code"),
        ("http", "host", "url.domain"),
        ("http", "method", "http.request.method"),
        ("ssl", "server_name", "tls.client.server_name"),
        ("files", "sha256", "file.hash.sha256"),
        ("files", "md5", "file.hash.md5"),
        ("notice", "note", "rule.name"),
        ("notice", "msg", "message"),
        ("ssh", "client", "ssh.client.software"),
        ("dce_rpc", "operation", "event.action"),
        ("modbus", "func", "event.action"),
        ("smtp", "subject", "email.subject"),
    ];
    let (mut total, mut malformed, mut spots) = (0usize, 0usize, 0usize);
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read Zeek file");
        let mut paths: BTreeMap<String, usize> = BTreeMap::new();
        let mut datasets: BTreeMap<String, usize> = BTreeMap::new();
        let (mut uids, mut sessions) = (BTreeSet::new(), BTreeSet::new());
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let loc = format!("{}:{}", file.display(), n + 1);
            let raw: Json = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    assert!(
                        zeek::parse(line, &ctx()).is_err(),
                        "{loc}: malformed ({e}) yet parsed"
                    );
                    malformed += 1;
                    continue;
                }
            };
            total += 1;
            assert_eq!(json::classify(line), Some(Format::Zeek), "{loc}: classify");
            let ev = zeek::parse(line, &ctx()).unwrap_or_else(|e| panic!("{loc}: {e}"));
            let log = raw
                .get("_path")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_owned();
            *paths.entry(format!("zeek.{log}")).or_default() += 1;
            *datasets
                .entry(ev.fields.get_str("event.dataset").unwrap_or("").to_owned())
                .or_default() += 1;
            if let Some(u) = raw.get("uid").and_then(Json::as_str) {
                uids.insert(u.to_owned());
            }
            if let Some(u) = ev.fields.get_str("zeek.session_id") {
                sessions.insert(u.to_owned());
            }
            if let Some(ts) = raw.get("ts") {
                let want = match ts {
                    Json::String(s) => Timestamp::parse(s),
                    Json::Number(x) => x
                        .as_f64()
                        .map(|x| Timestamp::from_millis((x * 1000.0).round() as i64)),
                    _ => None,
                };
                assert_eq!(ev.timestamp, want, "{loc}: ts");
            }
            for (k, name) in [("id.orig_h", "source.ip"), ("id.resp_h", "destination.ip")] {
                if let Some(ip) = raw.get(k).and_then(Json::as_str) {
                    assert_eq!(
                        ev.fields.get(name).and_then(Value::as_ip),
                        ip.parse().ok(),
                        "{loc}: {name}"
                    );
                }
            }
            for (l, key, name) in spot {
                if *l != "*" && *l != log {
                    continue;
                }
                let Some(want) = raw.get(*key).and_then(text_of) else {
                    continue;
                };
                if want.trim().is_empty() || want == "-" {
                    continue;
                }
                assert_eq!(
                    field_text(&ev, name).as_deref(),
                    Some(want.trim()),
                    "{loc}: {key} -> {name}"
                );
                spots += 1;
            }
            // Nothing is lost: every other key appears under zeek.<log>.
            for (k, v) in raw.as_object().expect("object") {
                if v.is_null() || v.as_array().is_some_and(Vec::is_empty) || k.starts_with("id.") {
                    continue;
                }
                if ["ts", "uid", "_path", "proto", "service"].contains(&k.as_str())
                    || spot
                        .iter()
                        .any(|(l, key, _)| (*l == log || *l == "*") && key == k)
                {
                    continue;
                }
                let name = format!("zeek.{log}.{k}");
                let mapped = ev.fields.get(&name).is_some();
                assert!(
                    mapped || ecs_mapped(&log, k),
                    "{loc}: {k} neither kept as {name} nor mapped"
                );
            }
        }
        assert_eq!(datasets, paths, "{}: logs by _path", file.display());
        assert_eq!(sessions, uids, "{}: session ids", file.display());
    }
    eprintln!(
        "zeek: {} files, {total} records parsed, {malformed} malformed lines, {spots} field checks",
        files.len()
    );
}

/// Zeek keys the parser maps to ECS without keeping a copy.
fn ecs_mapped(log: &str, key: &str) -> bool {
    matches!(
        (log, key),
        (
            "conn",
            "orig_bytes"
                | "resp_bytes"
                | "orig_pkts"
                | "resp_pkts"
                | "orig_l2_addr"
                | "resp_l2_addr"
        ) | ("dns", "qclass_name" | "trans_id")
            | (
                "http",
                "uri"
                    | "status_code"
                    | "version"
                    | "user_agent"
                    | "referrer"
                    | "request_body_len"
                    | "response_body_len"
            )
            | (
                "ssl",
                "cipher"
                    | "curve"
                    | "established"
                    | "resumed"
                    | "ja3"
                    | "ja3s"
                    | "ja4"
                    | "subject"
                    | "issuer"
            )
            | ("files", "sha1" | "mime_type" | "filename" | "total_bytes")
            | ("notice", "src" | "dst" | "p")
            | ("ssh", "server" | "hassh" | "hasshServer")
            | ("smtp", "msg_id" | "user_agent")
            | ("weird", "name")
            | ("software", "host" | "host_p")
            | ("x509", "certificate.subject" | "certificate.issuer")
            | (_, "community_id")
    )
}

/// Splits a Windows JSON file into records: a JSON array's elements, or a
/// stream of objects (NDJSON, or pretty-printed objects one after the
/// other). Each record is returned as its own text, as a collector would
/// hand it to the parser. A stream that stops being JSON ends with an
/// error naming where.
fn windows_records(text: &str) -> Result<Vec<String>, String> {
    if text.trim_start().starts_with('[') {
        let all: Vec<Json> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        return Ok(all.iter().map(Json::to_string).collect());
    }
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(item) = stream.next() {
        item.map_err(|e| format!("{e}"))?;
        let end = stream.byte_offset();
        out.push(text[start..end].trim().to_owned());
        start = end;
    }
    Ok(out)
}

#[test]
fn windows_json_files() {
    let files = json_files("windows-json");
    assert!(
        !files.is_empty(),
        "no Windows JSON files under {}",
        corpus().display()
    );
    let manifest = manifest();
    let (mut total, mut skipped_files, mut spots) = (0usize, Vec::new(), 0usize);
    let mut by_shape: BTreeMap<&str, usize> = BTreeMap::new();
    let mut command_lines = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read Windows file");
        let records =
            windows_records(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", file.display()));
        let windows_like = records
            .iter()
            .filter(|r| json::classify(r) == Some(Format::WindowsJson))
            .count();
        if windows_like == 0 {
            // Detection results stored beside the events, not events.
            skipped_files.push(file.display().to_string());
            continue;
        }
        assert_eq!(
            windows_like,
            records.len(),
            "{}: some records are not Windows events",
            file.display()
        );
        for (n, rec) in records.iter().enumerate() {
            let loc = format!("{} record {}", file.display(), n + 1);
            let raw: Json = serde_json::from_str(rec).expect("record is JSON");
            let ev = windows::parse(rec, &ctx()).unwrap_or_else(|e| panic!("{loc}: {e}"));
            total += 1;
            // Where the shapes keep the id, the channel, the host and the
            // event data.
            let (shape, id, channel, computer, data) = if let Some(e) = raw.get("Event") {
                let sys = &e["System"];
                let id = match &sys["EventID"] {
                    Json::Object(o) => o.get("#text").cloned().unwrap_or(Json::Null),
                    v => v.clone(),
                };
                (
                    "evtx",
                    id,
                    sys["Channel"].clone(),
                    sys["Computer"].clone(),
                    e.get("EventData").cloned(),
                )
            } else if let Some(w) = raw.get("winlog") {
                (
                    "winlogbeat",
                    w["event_id"].clone(),
                    w["channel"].clone(),
                    w["computer_name"].clone(),
                    w.get("event_data").cloned(),
                )
            } else {
                (
                    "nxlog",
                    raw["EventID"].clone(),
                    raw["Channel"].clone(),
                    raw["Hostname"].clone(),
                    None,
                )
            };
            *by_shape.entry(shape).or_default() += 1;
            let id = text_of(&id).expect("event id");
            assert_eq!(
                ev.fields.get_str("event.code"),
                Some(id.as_str()),
                "{loc}: event.code"
            );
            assert_eq!(
                ev.fields.get("winlog.event_id").map(ToString::to_string),
                Some(id.clone()),
                "{loc}"
            );
            if let Some(c) = text_of(&channel) {
                assert_eq!(
                    ev.fields.get_str("winlog.channel"),
                    Some(c.as_str()),
                    "{loc}: channel"
                );
            }
            if let Some(c) = text_of(&computer) {
                assert_eq!(
                    ev.fields.get_str("winlog.computer_name"),
                    Some(c.as_str()),
                    "{loc}: computer"
                );
                assert!(ev.fields.get_str("host.name").is_some(), "{loc}: host.name");
            }
            assert!(ev.timestamp.is_some(), "{loc}: no event time");
            // Every EventData entry under its own name.
            if let Some(Json::Object(d)) = &data {
                for (k, v) in d {
                    if k.starts_with('#') || v.is_null() || v.is_object() {
                        continue;
                    }
                    let name = format!("winlog.event_data.{k}");
                    assert_eq!(
                        ev.fields.get(&name).map(ToString::to_string),
                        text_of(v),
                        "{loc}: {name}"
                    );
                    spots += 1;
                }
            }
            // Sysmon process creation: the command line reaches ECS.
            let sysmon = text_of(&channel).is_some_and(|c| c.contains("Sysmon"));
            let data_or_top = data.as_ref().unwrap_or(&raw);
            if sysmon && id == "1" {
                let cl = text_of(&data_or_top["CommandLine"]).expect("Sysmon 1 has a CommandLine");
                assert_eq!(
                    ev.fields.get_str("process.command_line"),
                    Some(cl.trim()),
                    "{loc}"
                );
                assert_eq!(
                    ev.fields.get_str("process.executable"),
                    text_of(&data_or_top["Image"]).as_deref(),
                    "{loc}"
                );
                command_lines += 1;
            }
            if let Some(f) = text_of(&data_or_top["TargetFilename"]) {
                assert_eq!(ev.fields.get_str("file.path"), Some(f.trim()), "{loc}");
            }
            if sysmon
                && id == "3"
                && let Some(ip) = text_of(&data_or_top["DestinationIp"])
            {
                assert_eq!(
                    ev.fields.get("destination.ip").and_then(Value::as_ip),
                    ip.parse().ok(),
                    "{loc}"
                );
            }
            if sysmon && id == "22" {
                let q = text_of(&data_or_top["QueryName"]);
                assert_eq!(
                    ev.fields.get_str("dns.question.name").map(str::to_owned),
                    q,
                    "{loc}"
                );
            }
            if text_of(&channel).is_some_and(|c| c.eq_ignore_ascii_case("security"))
                && (id == "4624" || id == "4625")
            {
                let u = text_of(&data_or_top["TargetUserName"]).expect("TargetUserName");
                assert_eq!(ev.fields.get_str("user.name"), Some(u.as_str()), "{loc}");
                let want = if id == "4624" { "success" } else { "failure" };
                assert_eq!(ev.fields.get_str("event.outcome"), Some(want), "{loc}");
            }
        }
        // The manifest's event count, when it states one.
        if let Some(row) = manifest_row(&manifest, file)
            && let Some(i) = row.find("JSON lines (")
        {
            let n: usize = row[i + "JSON lines (".len()..]
                .split(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("count in manifest");
            assert_eq!(records.len(), n, "{}: manifest count", file.display());
        }
    }
    eprintln!(
        "windows: {} files, {total} records parsed ({by_shape:?}), {spots} EventData checks, {command_lines} Sysmon command lines; skipped (not events): {skipped_files:?}",
        files.len()
    );
    assert!(
        skipped_files.iter().all(|f| f.contains("results")),
        "{skipped_files:?}"
    );
    assert!(
        command_lines > 0,
        "no Sysmon process creation in the corpus"
    );
}

//! Every syslog, CEF and LEEF file of the shared corpus
//! (`$GARRISON_CORPUS/events/{syslog,cef,leef}`, default
//! `../shared/corpus` beside the workspace) is read line by line with
//! format detection, and checked against whatever ground truth sits beside
//! it or in `MANIFEST.md`:
//!
//! - `*-parsed.jsonl` (rsyslog's own parse, matched to a line by `rawmsg`
//!   or, for a re-emitted copy of the same messages, by position): PRI,
//!   facility, severity, time, host, app, procid, msgid, structured data,
//!   message;
//! - `*-expected.json` (what the sender asked for): app, procid, message;
//! - `*.expected.jsonl` with liblognorm's CEF parse: header and every
//!   extension; a line liblognorm rejects (`unparsed-data`) must be
//!   rejected too unless its seven header fields are complete (we accept
//!   unknown escapes and CEF version 1, see `cef.rs`);
//! - the manifest's ground-truth column: "N events", "signature ids
//!   a,b,...", "vendor 'X'", "product 'Y'", "line N key=value ...".
//!
//! Every other line must parse.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use garrison_core::Timestamp;
use garrison_ingest::{Context, Format, Parsed, Value, parse};

fn corpus() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("GARRISON_CORPUS") {
        let p = PathBuf::from(dir);
        assert!(
            p.is_dir(),
            "GARRISON_CORPUS={} is not a directory",
            p.display()
        );
        return Some(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    p.is_dir().then_some(p)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Ground truth and helpers, not event logs.
fn is_truth(n: &str) -> bool {
    n.ends_with(".jsonl")
        || n.ends_with(".json")
        || n.ends_with(".py")
        || n.ends_with(".md")
        || n.ends_with(".yaml")
        || n.ends_with(".yml")
        || n.ends_with(".rules")
        || n.ends_with(".sh")
}

fn ctx_at(ts: &str) -> Context {
    Context::at(Timestamp::parse(ts).expect("receive time"))
}

fn default_ctx() -> Context {
    ctx_at("2026-11-22T21:34:51Z")
}

/// A field as text, whatever its type.
fn text(p: &Parsed, name: &str) -> Option<String> {
    p.fields.get(name).map(Value::to_string)
}

/// Where a CEF/LEEF key lands: the raw namespace, else its ECS field.
fn ext(p: &Parsed, key: &str) -> Option<String> {
    for ns in ["cef.extensions.", "leef."] {
        if let Some(v) = text(p, &format!("{ns}{key}")) {
            return Some(v);
        }
    }
    let ecs = match key {
        "src" | "sourceAddress" => "source.ip",
        "dst" | "destinationAddress" => "destination.ip",
        "spt" | "srcPort" => "source.port",
        "dpt" | "dstPort" => "destination.port",
        "suser" | "usrName" => "source.user.name",
        "duser" => "destination.user.name",
        "shost" => "source.domain",
        "dhost" => "destination.domain",
        "act" => "event.action",
        "request" | "url" => "url.original",
        "requestMethod" => "http.request.method",
        "fname" => "file.name",
        "msg" => "message",
        "cat" => "event.category",
        "dvc" => "observer.ip",
        "dvchost" => "observer.hostname",
        "deviceExternalId" => "observer.name",
        "in" => "source.bytes",
        "out" => "destination.bytes",
        "destinationTranslatedAddress" => "destination.nat.ip",
        "sourceTranslatedAddress" => "source.nat.ip",
        "outcome" => "event.outcome",
        "reason" => "event.reason",
        "externalId" => "event.id",
        "deviceInboundInterface" => "observer.ingress.interface.name",
        "deviceOutboundInterface" => "observer.egress.interface.name",
        "dproc" => "process.name",
        "sproc" => "source.process.name",
        "requestClientApplication" => "user_agent.original",
        "filePath" => "file.path",
        _ => return None,
    };
    text(p, ecs)
}

/// Liblognorm's expected parse of each CEF input line.
fn check_liblognorm(path: &Path, ctx: &Context) -> usize {
    let body = std::fs::read_to_string(path).expect("read expected");
    let mut n = 0;
    for row in body.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(row).expect("jsonl row");
        let input = v["input"].as_str().expect("input");
        let expected = &v["liblognorm_expected"];
        let got = parse(Format::Auto, input, ctx);
        n += 1;
        if expected.get("unparsed-data").is_some() {
            match got {
                Err(e) => assert!(!e.reason.is_empty(), "{input}"),
                // Accepted leniently: the header must be complete then.
                Ok((_, p)) => {
                    for f in [
                        "observer.vendor",
                        "observer.product",
                        "event.code",
                        "rule.name",
                    ] {
                        assert!(p.fields.get(f).is_some(), "{input}: accepted without {f}");
                    }
                }
            }
            continue;
        }
        let (format, p) = got.unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(format, Format::Cef, "{input}");
        let f = &expected["f"];
        for (k, field) in [
            ("DeviceVendor", "observer.vendor"),
            ("DeviceProduct", "observer.product"),
            ("DeviceVersion", "observer.version"),
            ("SignatureID", "event.code"),
            ("Name", "rule.name"),
            ("Severity", "event.severity"),
        ] {
            assert_eq!(
                text(&p, field).as_deref(),
                f[k].as_str(),
                "{input}: {k} -> {field}"
            );
        }
        let exts = f["Extensions"].as_object().expect("Extensions");
        for (k, want) in exts {
            assert_eq!(
                ext(&p, k).as_deref(),
                want.as_str(),
                "{input}: extension {k}"
            );
        }
        let ours = p
            .fields
            .iter()
            .filter(|(n, _)| n.starts_with("cef.extensions."))
            .count();
        assert!(
            ours <= exts.len(),
            "{input}: extra extensions in {:?}",
            p.fields
        );
    }
    n
}

/// The manifest's ground-truth column for each file, by path under the
/// corpus (`events/cef/x.log`).
fn manifest(root: &Path) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(md) = std::fs::read_to_string(root.join("MANIFEST.md")) else {
        return out;
    };
    for row in md.lines().filter(|l| l.starts_with("| events/")) {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() >= 6 {
            out.insert(cells[0].to_owned(), cells[5].to_owned());
        }
    }
    out
}

/// `vendor 'X'` in a ground-truth note.
fn quoted_after<'a>(truth: &'a str, word: &str) -> Option<&'a str> {
    let at = truth.find(&format!("{word} '"))? + word.len() + 2;
    let rest = truth.get(at..)?;
    rest.get(..rest.find('\'')?)
}

fn check_manifest_truth(file: &str, truth: &str, parsed: &[Parsed]) {
    // "N events"
    let words: Vec<&str> = truth.split([' ', ';', ',']).collect();
    for w in words.windows(2) {
        if w[1] == "events"
            && let Ok(n) = w[0].parse::<usize>()
        {
            assert_eq!(parsed.len(), n, "{file}: manifest says {n} events");
        }
    }
    if let Some(at) = truth.find("signature ids ") {
        let list = truth[at + 14..]
            .split([' ', ';', '|'])
            .next()
            .unwrap_or_default();
        let want: Vec<&str> = list.split(',').collect();
        let got: Vec<String> = parsed
            .iter()
            .filter_map(|p| text(p, "event.code"))
            .collect();
        assert_eq!(got, want, "{file}: signature ids");
    }
    for (word, field) in [
        ("vendor", "observer.vendor"),
        ("product", "observer.product"),
    ] {
        if let Some(want) = quoted_after(truth, word) {
            for p in parsed {
                assert_eq!(text(p, field).as_deref(), Some(want), "{file}: {word}");
            }
        }
    }
    // "line N k=v k=v"
    let mut rest = truth;
    while let Some(at) = rest.find("line ") {
        rest = &rest[at + 5..];
        let mut toks = rest.split(' ');
        let Some(Ok(n)) = toks.next().map(str::parse::<usize>) else {
            continue;
        };
        let p = parsed
            .get(n - 1)
            .unwrap_or_else(|| panic!("{file}: no line {n}"));
        for kv in toks.take_while(|t| t.contains('=')) {
            let (k, v) = kv.split_once('=').expect("k=v");
            assert_eq!(ext(p, k).as_deref(), Some(v), "{file} line {n}: {k}");
        }
    }
}

/// rsyslog's parse (`*-parsed.jsonl`) and the sender's intent
/// (`*-expected.json`) beside a syslog file, by line.
struct SyslogTruth {
    parsed: Vec<serde_json::Value>,
    expected: Vec<serde_json::Value>,
}

fn syslog_truth(path: &Path) -> Option<SyslogTruth> {
    let n = name(path);
    let dir = path.parent()?;
    // The common prefix: "rsyslog-batchA-wire.log" -> "rsyslog-batchA".
    let stem = n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s);
    let mut prefix = stem;
    let mut found = None;
    while let Some((head, _)) = prefix.rsplit_once('-') {
        prefix = head;
        let cand = dir.join(format!("{prefix}-parsed.jsonl"));
        if cand.is_file() {
            found = Some(cand);
            break;
        }
    }
    let parsed_path = found?;
    let parsed = std::fs::read_to_string(&parsed_path)
        .ok()?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("parsed.jsonl row"))
        .collect();
    let expected = std::fs::read_to_string(dir.join(format!("{prefix}-expected.json")))
        .ok()
        .and_then(|s| serde_json::from_str::<Vec<serde_json::Value>>(&s).ok())
        .unwrap_or_default();
    Some(SyslogTruth { parsed, expected })
}

fn none_if_dash(v: &serde_json::Value) -> Option<&str> {
    v.as_str().filter(|s| *s != "-" && !s.is_empty())
}

/// `[id a="1" b="2"][id2 ...]` as (id, param, value).
fn sd_params(sd: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for elem in sd.split('[').filter(|e| !e.is_empty()) {
        let elem = elem.trim_end_matches(']');
        let mut parts = elem.splitn(2, ' ');
        let id = parts.next().unwrap_or_default().to_owned();
        let mut rest = parts.next().unwrap_or_default();
        while let Some((k, v)) = rest.split_once("=\"") {
            let Some(end) = v.find('"') else { break };
            out.push((id.clone(), k.trim().to_owned(), v[..end].to_owned()));
            rest = &v[end + 1..];
        }
    }
    out
}

fn check_syslog_line(
    line: &str,
    format: Format,
    p: &Parsed,
    rs: &serde_json::Value,
    sent: Option<&serde_json::Value>,
) {
    let int = |n: &str| p.fields.get(n).and_then(Value::as_i64);
    let want_pri: i64 = rs["pri"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("pri");
    assert_eq!(int("log.syslog.priority"), Some(want_pri), "{line}");
    assert_eq!(
        text(p, "log.syslog.facility.name").as_deref(),
        rs["facility"].as_str(),
        "{line}"
    );
    assert_eq!(
        text(p, "log.syslog.severity.name").as_deref(),
        rs["severity"].as_str(),
        "{line}"
    );
    let t = Timestamp::parse(rs["timereported"].as_str().expect("timereported"));
    if format != Format::Cef && format != Format::Leef || p.timestamp.is_some() {
        assert_eq!(p.timestamp, t, "{line}: time");
    }
    assert_eq!(
        text(p, "host.hostname").as_deref(),
        none_if_dash(&rs["hostname"]),
        "{line}"
    );
    assert_eq!(
        text(p, "process.name").as_deref(),
        none_if_dash(&rs["app_name"]),
        "{line}"
    );
    let pid = text(p, "process.pid").or_else(|| text(p, "log.syslog.procid"));
    assert_eq!(
        pid.as_deref(),
        none_if_dash(&rs["procid"]),
        "{line}: procid"
    );
    let msgid = if matches!(format, Format::Cef | Format::Leef) {
        text(p, "log.syslog.msgid")
    } else {
        text(p, "event.code")
    };
    assert_eq!(
        msgid.as_deref(),
        none_if_dash(&rs["msgid"]),
        "{line}: msgid"
    );
    if let Some(sd) = none_if_dash(&rs["structured_data"]) {
        for (id, k, v) in sd_params(sd) {
            let f = format!("log.syslog.structured_data.{id}.{k}");
            assert_eq!(text(p, &f).as_deref(), Some(v.as_str()), "{line}: {f}");
        }
    }
    let rs_msg = rs["msg"].as_str().unwrap_or_default().trim();
    match format {
        Format::Cef | Format::Leef => {
            // The message inside was read: its header is ours.
            let vendor = text(p, "observer.vendor").expect("vendor");
            assert!(rs_msg.contains(&vendor), "{line}: {vendor}");
        }
        _ => assert_eq!(
            text(p, "message").as_deref(),
            Some(rs_msg),
            "{line}: message"
        ),
    }
    if let Some(sent) = sent {
        assert_eq!(
            text(p, "process.name").as_deref(),
            sent["app_name"].as_str(),
            "{line}: app"
        );
        assert_eq!(
            pid.as_deref(),
            sent["procid"].as_str(),
            "{line}: sent procid"
        );
        if !matches!(format, Format::Cef | Format::Leef) {
            assert_eq!(
                text(p, "message").as_deref(),
                sent["msg"].as_str(),
                "{line}: sent msg"
            );
        }
    }
}

#[test]
fn corpus_lines_parse_and_match_ground_truth() {
    let Some(root) = corpus() else {
        eprintln!("no corpus (set GARRISON_CORPUS); skipped");
        return;
    };
    let truth = manifest(&root);
    let ctx = default_ctx();
    let mut total = 0;
    for kind in ["syslog", "cef", "leef"] {
        let mut all = Vec::new();
        files(&root.join("events").join(kind), &mut all);
        all.sort();
        for path in all {
            let n = name(&path);
            if n.ends_with(".expected.jsonl") {
                total += check_liblognorm(&path, &ctx);
                continue;
            }
            if is_truth(&n) {
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let body = std::fs::read(&path).expect("read");
            let body = String::from_utf8_lossy(&body);
            // Lines some ground truth says are malformed.
            let rejected: Vec<String> = path
                .with_file_name(format!(
                    "{}.expected.jsonl",
                    n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s)
                ))
                .to_str()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .map(|s| {
                    s.lines()
                        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                        .filter(|v| v["liblognorm_expected"].get("unparsed-data").is_some())
                        .filter_map(|v| v["input"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let st = if kind == "syslog" {
                syslog_truth(&path)
            } else {
                None
            };
            let mut parsed = Vec::new();
            let lines: Vec<&str> = body
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .collect();
            for (i, line) in lines.iter().enumerate() {
                total += 1;
                let rs = st.as_ref().and_then(|t| {
                    t.parsed
                        .iter()
                        .position(|r| r["rawmsg"].as_str() == Some(line))
                        .or_else(|| (t.parsed.len() == lines.len()).then_some(i))
                        .map(|k| (&t.parsed[k], t.expected.get(k)))
                });
                let line_ctx = rs
                    .and_then(|(r, _)| r["timereported"].as_str())
                    .map_or_else(|| ctx.clone(), ctx_at);
                let result = parse(Format::Auto, line, &line_ctx);
                if rejected.iter().any(|r| r == line) {
                    continue; // checked against the expected file above
                }
                let (format, p) =
                    result.unwrap_or_else(|e| panic!("{rel} line {}: {e}\n{line}", i + 1));
                match kind {
                    "cef" => assert_eq!(format, Format::Cef, "{rel}: {line}"),
                    "leef" => assert_eq!(format, Format::Leef, "{rel}: {line}"),
                    _ => assert!(
                        matches!(
                            format,
                            Format::Rfc5424 | Format::Rfc3164 | Format::Cef | Format::Leef
                        ),
                        "{rel}: {format:?}"
                    ),
                }
                if let Some((r, sent)) = rs {
                    check_syslog_line(line, format, &p, r, sent);
                }
                parsed.push(p);
            }
            eprintln!(
                "{rel}: {} parsed, manifest truth: {}, rsyslog truth: {}",
                parsed.len(),
                truth.contains_key(&rel),
                st.is_some()
            );
            if let Some(t) = truth.get(&rel) {
                check_manifest_truth(&rel, t, &parsed);
            }
        }
    }
    eprintln!("corpus: {total} lines checked");
    assert!(total > 0, "no corpus lines found under {}", root.display());
}

/// Spot checks of fields on the public corpus's shapes, by file name when
/// the file is present.
#[test]
fn corpus_spot_checks() {
    let Some(root) = corpus() else { return };
    let ev = root.join("events");
    let ctx = default_ctx();
    let read = |p: PathBuf| std::fs::read_to_string(p).ok();

    if let Some(body) = read(ev.join("syslog/rsyslog-batchA-wire.log")) {
        let line = body
            .lines()
            .find(|l| l.contains("CEF:0|"))
            .expect("cef in syslog");
        let (f, p) = parse(Format::Auto, line, &ctx).expect("cef in syslog");
        assert_eq!(f, Format::Cef);
        assert_eq!(
            text(&p, "observer.product").as_deref(),
            Some("threatmanager")
        );
        assert_eq!(text(&p, "destination.ip").as_deref(), Some("2.1.2.2"));
        assert_eq!(text(&p, "source.port").as_deref(), Some("1232"));
        assert_eq!(text(&p, "host.hostname").as_deref(), Some("vm"));
        assert_eq!(p.severity, 100);
        let line = body
            .lines()
            .find(|l| l.contains("LEEF:1.0|"))
            .expect("leef in syslog");
        let (f, p) = parse(Format::Auto, line, &ctx).expect("leef in syslog");
        assert_eq!(f, Format::Leef);
        assert_eq!(text(&p, "destination.ip").as_deref(), Some("172.50.123.1"));
        assert_eq!(text(&p, "message").as_deref(), Some("this is a message"));
        assert_eq!(
            text(&p, "log.syslog.structured_data.timeQuality.tzKnown").as_deref(),
            Some("1")
        );
        assert_eq!(p.severity, 50);
    }
    if let Some(body) = read(ev.join("cef/elastic-beats-fp-ngfw-smc.log")) {
        let line = body.lines().find(|l| l.contains("|70018|")).expect("70018");
        let (_, p) = parse(Format::Auto, line, &ctx).expect("70018");
        assert_eq!(text(&p, "cef.custom.RuleID").as_deref(), Some("2097157.1"));
        assert!(text(&p, "message").expect("msg").contains("frag=0x4000"));
        assert_eq!(p.timestamp, Timestamp::parse("2020-01-17T08:52:09Z"));
        assert_eq!(text(&p, "network.transport").as_deref(), Some("icmp"));
    }
    if let Some(body) = read(ev.join("cef/elastic-beats-cef.log")) {
        let line = body.lines().nth(3).expect("line 4");
        let (_, p) = parse(Format::Auto, line, &ctx).expect("padded");
        assert_eq!(text(&p, "source.ip").as_deref(), Some("192.168.3.4"));
        assert_eq!(p.severity, 30, "low");
    }
    if let Some(body) = read(ev.join("leef/tenzir-leef2-panos-templates.log")) {
        let (_, p) = parse(Format::Auto, body.lines().next().expect("line"), &ctx).expect("leef2");
        assert_eq!(text(&p, "event.category").as_deref(), Some("$type"));
        assert_eq!(text(&p, "leef.serial").as_deref(), Some("$serial"));
        assert_eq!(text(&p, "message").as_deref(), Some("$cmd"));
        assert_eq!(text(&p, "event.code").as_deref(), Some("$result"));
    }
}

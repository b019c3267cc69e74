//! The JSON-based parsers and `classify` never panic: not on arbitrary
//! text, not on arbitrary JSON objects, not on records shaped like their
//! own format with arbitrary values.

use garrison_core::Timestamp;
use garrison_ingest::{Context, json, suricata, windows, zeek};
use proptest::prelude::*;
use serde_json::{Map, Value as Json};

fn ctx() -> Context {
    Context::at(Timestamp::from_millis(0))
}

fn run_all(line: &str) {
    let c = ctx();
    let _ = json::classify(line);
    let _ = json::parse(line, &c);
    let _ = suricata::parse(line, &c);
    let _ = zeek::parse(line, &c);
    let _ = windows::parse(line, &c);
}

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        ".{0,12}".prop_map(Json::String),
        prop_oneof![
            Just("10.0.0.1"),
            Just("::1"),
            Just("2016-07-13T22:42:07.573103+0000"),
            Just("0x8010000000000000"),
            Just("CVE-2021-44228"),
            Just("SHA1=AA,MD5=BB"),
            Just("DOMAIN\\user"),
        ]
        .prop_map(|s| Json::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::btree_map(arb_key(), inner, 0..6)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys the parsers look for, and any other.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "event_type",
            "timestamp",
            "@timestamp",
            "src_ip",
            "dest_ip",
            "src_port",
            "dest_port",
            "proto",
            "app_proto",
            "flow_id",
            "alert",
            "signature",
            "signature_id",
            "severity",
            "metadata",
            "cve",
            "dns",
            "rrname",
            "queries",
            "answers",
            "grouped",
            "A",
            "rdata",
            "http",
            "tls",
            "ja3",
            "ja4",
            "hash",
            "version",
            "fileinfo",
            "flow",
            "netflow",
            "ssh",
            "client",
            "hassh",
            "smtp",
            "rcpt_to",
            "email",
            "attachment",
            "ts",
            "uid",
            "_path",
            "id.orig_h",
            "id",
            "orig_h",
            "query",
            "note",
            "duration",
            "winlog",
            "event_id",
            "event_data",
            "Event",
            "System",
            "EventData",
            "EventID",
            "#text",
            "#attributes",
            "Provider",
            "Name",
            "TimeCreated",
            "SystemTime",
            "Keywords",
            "Level",
            "Channel",
            "SourceName",
            "Hostname",
            "Severity",
            "SeverityValue",
            "EventType",
            "Hashes",
            "User",
            "LogonType",
            "Data",
            "source",
            "ip",
            "port",
            "source.ip",
            "labels",
            "message",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_.#@]{0,8}",
    ]
}

fn arb_object() -> impl Strategy<Value = Map<String, Json>> {
    prop::collection::btree_map(arb_key(), arb_json(), 0..10).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_text(line in ".{0,200}") {
        run_all(&line);
    }

    #[test]
    fn never_panics_on_json_objects(obj in arb_object()) {
        let line = Json::Object(obj).to_string();
        run_all(&line);
        // An object is always classified as some JSON format.
        prop_assert!(json::classify(&line).is_some());
    }

    #[test]
    fn never_panics_on_shaped_records(obj in arb_object(), event_type in "[a-z]{1,8}", id in any::<i64>()) {
        let mut eve = obj.clone();
        eve.insert("event_type".into(), Json::String(event_type));
        let line = Json::Object(eve).to_string();
        prop_assert!(suricata::parse(&line, &ctx()).is_ok());

        let mut z = obj.clone();
        z.insert("ts".into(), Json::from(1.5));
        let line = Json::Object(z).to_string();
        prop_assert!(zeek::parse(&line, &ctx()).is_ok());

        let mut nx = obj.clone();
        nx.remove("Event");
        nx.remove("winlog");
        nx.retain(|k, _| !k.starts_with("winlog."));
        nx.insert("EventID".into(), Json::from(id));
        let line = Json::Object(nx).to_string();
        prop_assert!(windows::parse(&line, &ctx()).is_ok());

        let evtx = serde_json::json!({"Event": {"System": Json::Object(obj.clone()), "EventData": Json::Object(obj)}});
        let _ = windows::parse(&evtx.to_string(), &ctx());
    }

    #[test]
    fn cut_lines_are_errors_not_panics(obj in arb_object(), cut in any::<prop::sample::Index>()) {
        let line = Json::Object(obj).to_string();
        let mut at = cut.index(line.len().max(1));
        while !line.is_char_boundary(at) { at -= 1; }
        run_all(&line[..at]);
    }
}

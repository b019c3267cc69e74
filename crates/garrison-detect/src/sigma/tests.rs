use garrison_core::event::{Fields, Value};

use super::*;

/// A process_creation rule with `detection` (YAML, indented by 4).
fn win_rule(detection: &str) -> String {
    format!(
        "title: t\nid: r1\nlevel: high\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n{detection}\n"
    )
}

fn compile_one(yaml: &str) -> SigmaRules {
    let (set, errors) = SigmaRules::compile([("test.yml", yaml)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.len(), 1);
    set
}

fn load_error(yaml: &str) -> LoadError {
    let (set, errors) = SigmaRules::compile([("bad.yml", yaml)]);
    assert!(set.is_empty(), "the rule should not load");
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().expect("one error")
}

/// A Sysmon process creation event with EventData `data`.
fn sysmon1(data: &[(&str, Value)]) -> Fields {
    let mut f = Fields::new();
    f.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational");
    f.set("winlog.event_id", 1_i64);
    f.set("event.code", "1");
    for (k, v) in data {
        f.set(format!("winlog.event_data.{k}"), v.clone());
    }
    f
}

fn fires(set: &SigmaRules, f: &Fields) -> bool {
    let mut out = Vec::new();
    set.matches_fields("windows", f, &mut out);
    !out.is_empty()
}

fn cmd(s: &str) -> Fields {
    sysmon1(&[("CommandLine", Value::from(s))])
}

#[test]
fn plain_values_are_case_insensitive_and_exact() {
    let set = compile_one(&win_rule(
        "    sel:\n        Image: 'C:\\Windows\\System32\\cmd.exe'\n    condition: sel",
    ));
    assert!(fires(
        &set,
        &sysmon1(&[("Image", "c:\\windows\\system32\\CMD.EXE".into())])
    ));
    assert!(!fires(
        &set,
        &sysmon1(&[("Image", "C:\\Windows\\System32\\cmd.exe2".into())])
    ));
    assert!(
        !fires(&set, &sysmon1(&[])),
        "a missing field never matches a value"
    );
}

#[test]
fn contains_startswith_endswith_and_all() {
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|contains|all:\n            - 'vssadmin'\n            - 'delete'\n        Image|endswith: '\\vssadmin.exe'\n        ParentImage|startswith: 'C:\\Windows'\n    condition: sel",
    ));
    let ev = |c: &str, i: &str, p: &str| {
        sysmon1(&[
            ("CommandLine", c.into()),
            ("Image", i.into()),
            ("ParentImage", p.into()),
        ])
    };
    assert!(fires(
        &set,
        &ev(
            "VSSADMIN Delete shadows",
            "x\\vssadmin.exe",
            "c:\\windows\\explorer.exe"
        )
    ));
    assert!(
        !fires(
            &set,
            &ev("vssadmin list shadows", "x\\vssadmin.exe", "C:\\Windows\\x")
        ),
        "all needles"
    );
    assert!(!fires(
        &set,
        &ev("vssadmin delete", "x\\vssadmin.exe.bak", "C:\\Windows\\x")
    ));
    assert!(!fires(
        &set,
        &ev("vssadmin delete", "x\\vssadmin.exe", "D:\\Windows\\x")
    ));
}

#[test]
fn wildcards_and_escapes() {
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine:\n            - 'a*b?c'\n            - 'lit\\*star'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("AxxxBzC")));
    assert!(!fires(&set, &cmd("AxxxBC")), "? is exactly one character");
    assert!(fires(&set, &cmd("lit*star")));
    assert!(!fires(&set, &cmd("litXstar")), "\\* is a literal star");
    // A backslash before a normal character stays a backslash.
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|endswith: '\\\\share\\x'\n    condition: sel",
    ));
    assert!(
        fires(&set, &cmd("net use \\share\\x")),
        "\\\\ is one backslash"
    );
}

#[test]
fn regex_with_flags_is_case_sensitive_by_default() {
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|re: '^ab+c$'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("abbbc")));
    assert!(!fires(&set, &cmd("ABBC")));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|re|i|s: '^ab.c$'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("AB\nC")));
}

#[test]
fn cidr_numbers_and_comparisons() {
    let yaml = "title: t\nid: r\nlogsource:\n    product: windows\n    category: network_connection\ndetection:\n    sel:\n        DestinationIp|cidr: '10.0.0.0/8'\n        DestinationPort|gte: 1024\n        Initiated: 'true'\n    condition: sel\n";
    let set = compile_one(yaml);
    let ev = |ip: &str, port: i64| {
        let mut f = Fields::new();
        f.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational");
        f.set("winlog.event_id", 3_i64);
        f.set("winlog.event_data.DestinationIp", ip);
        f.set("winlog.event_data.DestinationPort", port);
        f.set("winlog.event_data.Initiated", "true");
        f
    };
    assert!(fires(&set, &ev("10.1.2.3", 4444)));
    assert!(!fires(&set, &ev("11.1.2.3", 4444)));
    assert!(!fires(&set, &ev("10.1.2.3", 80)));
    assert!(!fires(&set, &ev("not an ip", 4444)));
    // A YAML number matches an integer field and its text.
    let set = compile_one(&win_rule(
        "    sel:\n        ProcessId: 42\n    condition: sel",
    ));
    assert!(fires(&set, &sysmon1(&[("ProcessId", Value::Int(42))])));
    assert!(fires(&set, &sysmon1(&[("ProcessId", "42".into())])));
    assert!(!fires(&set, &sysmon1(&[("ProcessId", Value::Int(43))])));
}

#[test]
fn base64_base64offset_wide_and_windash() {
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|base64offset|contains: 'http://'\n    condition: sel",
    ));
    for prefix in ["", "a", "ab"] {
        let encoded = B64.encode(format!("{prefix}http://x"));
        assert!(
            fires(&set, &cmd(&format!("powershell -e {encoded}"))),
            "{prefix:?}"
        );
    }
    assert!(!fires(&set, &cmd("powershell -e aGVsbG8=")));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: sel",
    ));
    let wide: Vec<u8> = "xping".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(fires(&set, &cmd(&B64.encode(wide))));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|base64: 'whoami'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("d2hvYW1p")));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|windash|contains: ' -enc '\n    condition: sel",
    ));
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(
            fires(&set, &cmd(&format!("powershell {dash}enc AAAA"))),
            "{dash}"
        );
    }
    assert!(!fires(&set, &cmd("powershell +enc AAAA")));
}

#[test]
fn null_exists_fieldref_and_cased() {
    let set = compile_one(&win_rule(
        "    sel:\n        OriginalFileName: null\n        Image|exists: true\n    condition: sel",
    ));
    assert!(fires(&set, &sysmon1(&[("Image", "x".into())])));
    assert!(fires(
        &set,
        &sysmon1(&[("Image", "x".into()), ("OriginalFileName", "".into())])
    ));
    assert!(!fires(
        &set,
        &sysmon1(&[("Image", "x".into()), ("OriginalFileName", "a".into())])
    ));
    assert!(!fires(&set, &sysmon1(&[])), "exists: true needs Image");
    let set = compile_one(&win_rule(
        "    sel:\n        ParentImage|fieldref: Image\n    condition: sel",
    ));
    assert!(fires(
        &set,
        &sysmon1(&[("Image", "a.exe".into()), ("ParentImage", "a.exe".into())])
    ));
    assert!(!fires(
        &set,
        &sysmon1(&[("Image", "a.exe".into()), ("ParentImage", "b.exe".into())])
    ));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|cased|contains: 'Secret'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("a Secret b")));
    assert!(!fires(&set, &cmd("a secret b")));
}

#[test]
fn non_ascii_values_fold_case() {
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|contains: 'ÄRGER'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("x ärger y")));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|contains: '🤷'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("x 🤷 y")));
}

#[test]
fn conditions_and_or_not_of() {
    let det = "    sel_a:\n        CommandLine|contains: 'aaa'\n    sel_b:\n        CommandLine|contains: 'bbb'\n    filter:\n        CommandLine|contains: 'zzz'\n    _hidden:\n        CommandLine|contains: 'hhh'\n";
    let check = |cond: &str, cases: &[(&str, bool)]| {
        let set = compile_one(&win_rule(&format!("{det}    condition: {cond}")));
        for (c, want) in cases {
            assert_eq!(fires(&set, &cmd(c)), *want, "{cond} on {c:?}");
        }
    };
    check(
        "sel_a and not filter",
        &[("aaa", true), ("aaa zzz", false), ("bbb", false)],
    );
    check(
        "1 of sel_* and not filter",
        &[("bbb", true), ("bbb zzz", false), ("x", false)],
    );
    check("all of sel_*", &[("aaa bbb", true), ("aaa", false)]);
    check("1 of them", &[("hhh", false), ("zzz", true)]);
    check("all of them", &[("aaa bbb zzz", true), ("aaa bbb", false)]);
    check(
        "(sel_a or sel_b) and not (filter or _hidden)",
        &[("aaa", true), ("bbb hhh", false)],
    );
    check("not sel_a and not sel_b", &[("x", true), ("aaa", false)]);
    check(
        "sel_a or sel_b and filter",
        &[("aaa", true), ("bbb", false), ("bbb zzz", true)],
    );
}

#[test]
fn lists_of_maps_and_keywords() {
    let set = compile_one(&win_rule(
        "    sel:\n        - CommandLine|contains: 'one'\n        - Image|endswith: '\\two.exe'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("one")));
    assert!(fires(&set, &sysmon1(&[("Image", "c:\\two.exe".into())])));
    assert!(!fires(&set, &cmd("two")));
    let set = compile_one(&win_rule(
        "    keywords:\n        - 'mimikatz'\n        - 'sekurlsa::'\n    condition: keywords",
    ));
    assert!(fires(
        &set,
        &sysmon1(&[("ParentCommandLine", "run MimiKatz now".into())])
    ));
    assert!(!fires(&set, &cmd("nothing here")));
    let set = compile_one(&win_rule(
        "    keywords:\n        '|all':\n            - 'alpha'\n            - 'beta'\n    condition: keywords",
    ));
    assert!(fires(
        &set,
        &sysmon1(&[("A", "alpha".into()), ("B", "x beta".into())])
    ));
    assert!(!fires(&set, &sysmon1(&[("A", "alpha".into())])));
}

#[test]
fn logsource_decides_which_events_a_rule_sees() {
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|contains: 'whoami'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("whoami")));
    // Security 4688 is process creation too, with its own field names.
    let mut f = Fields::new();
    f.set("winlog.channel", "Security");
    f.set("winlog.event_id", 4688_i64);
    f.set("winlog.event_data.CommandLine", "whoami /all");
    assert!(fires(&set, &f));
    // A Sysmon file event is not.
    let mut f = cmd("whoami");
    f.set("winlog.event_id", 11_i64);
    assert!(!fires(&set, &f));
    // Nor is a non-Windows event with the same field.
    let mut out = Vec::new();
    set.matches_fields("suricata", &cmd("whoami"), &mut out);
    assert!(out.is_empty());

    // service: security → the Security channel, any event id.
    let yaml = "title: t\nid: s\nlogsource:\n    product: windows\n    service: security\ndetection:\n    sel:\n        EventID: 1102\n    condition: sel\n";
    let set = compile_one(yaml);
    let mut f = Fields::new();
    f.set("winlog.channel", "Security");
    f.set("winlog.event_id", 1102_i64);
    assert!(fires(&set, &f));
    f.set("winlog.channel", "System");
    assert!(!fires(&set, &f));

    // Network categories see EVE and Zeek records with ECS names.
    let yaml = "title: t\nid: d\nlogsource:\n    category: dns\ndetection:\n    sel:\n        query|endswith: '.evil.example'\n    condition: sel\n";
    let set = compile_one(yaml);
    let mut f = Fields::new();
    f.set("suricata.eve.event_type", "dns");
    f.set("dns.question.name", "a.EVIL.example");
    let mut out = Vec::new();
    set.matches_fields("suricata", &f, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(&*out[0].id, "d");
    out.clear();
    f.set("suricata.eve.event_type", "http");
    set.matches_fields("suricata", &f, &mut out);
    assert!(out.is_empty(), "an http record is not a dns log");

    // Cloud logsources load but are listed as unrouted.
    let yaml = "title: t\nid: c\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: x\n    condition: sel\n";
    let set = compile_one(yaml);
    assert_eq!(set.unrouted().len(), 1);
    assert!(set.unrouted()[0].1.contains("aws"), "{:?}", set.unrouted());
}

#[test]
fn metadata_is_kept() {
    let yaml = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\ndescription: d\nauthor: me\nreferences:\n    - https://example.com\ntags:\n    - attack.discovery\n    - attack.t1033\nfalsepositives:\n    - admins\nlevel: critical\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        CommandLine|contains: whoami\n    condition: sel\n";
    let set = compile_one(yaml);
    let m = set.rule(0);
    assert_eq!(&*m.id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(m.level, Level::Critical);
    assert_eq!(m.status.as_deref(), Some("test"));
    assert_eq!(m.attack_techniques(), ["T1033"]);
    assert_eq!(m.falsepositives, ["admins"]);
    assert_eq!(m.references, ["https://example.com"]);
    assert_eq!(m.origin, "test.yml");
    let mut out = Vec::new();
    set.matches_fields("windows", &cmd("WHOAMI"), &mut out);
    assert_eq!(
        out,
        [RuleMatch {
            index: 0,
            id: m.id.clone()
        }]
    );
}

#[test]
fn bad_rules_are_listed_with_a_reason_and_do_not_stop_others() {
    let good = win_rule("    sel:\n        CommandLine|contains: x\n    condition: sel");
    let bad = win_rule("    sel:\n        CommandLine|contains: x\n    condition: sel and missing");
    let (set, errors) =
        SigmaRules::compile([("good.yml", good.as_str()), ("bad.yml", bad.as_str())]);
    assert_eq!(set.len(), 1);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].origin, "bad.yml");
    assert_eq!(errors[0].rule.as_deref(), Some("r1"));
    assert!(errors[0].reason.contains("missing"), "{}", errors[0]);

    let e = load_error(&win_rule(
        "    sel:\n        CommandLine|frobnicate: x\n    condition: sel",
    ));
    assert!(e.reason.contains("unknown modifier `frobnicate`"), "{e}");
    let e = load_error(&win_rule(
        "    sel:\n        CommandLine|re: '(unclosed'\n    condition: sel",
    ));
    assert!(e.reason.contains("regular expression"), "{e}");
    let e = load_error(
        "title: x\nlogsource:\n    product: windows\ndetection:\n    sel:\n        a: b\n    condition: sel\n",
    );
    assert!(e.reason.contains("no id"), "{e}");
    let e = load_error("title: c\nid: c\ncorrelation:\n    type: event_count\n");
    assert!(
        e.reason.contains("correlation rules are not supported"),
        "{e}"
    );
    let e = load_error("not: [valid");
    assert!(e.reason.contains("invalid YAML"), "{e}");
    let e = load_error(&win_rule(
        "    sel:\n        CommandLine: x\n    condition: sel | count() > 5",
    ));
    assert!(e.reason.contains("aggregation"), "{e}");
    // Duplicate ids: the second is refused.
    let (set, errors) = SigmaRules::compile([("a.yml", good.as_str()), ("b.yml", good.as_str())]);
    assert_eq!(set.len(), 1);
    assert!(errors[0].reason.contains("duplicate id"), "{errors:?}");
}

#[test]
fn global_action_documents_are_merged() {
    let yaml = "action: global\ntitle: t\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    condition: sel\n---\nid: one\ndetection:\n    sel:\n        CommandLine|contains: alpha\n---\nid: two\ndetection:\n    sel:\n        CommandLine|contains: beta\n";
    let (set, errors) = SigmaRules::compile([("multi.yml", yaml)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.len(), 2);
    let mut out = Vec::new();
    set.matches_fields("windows", &cmd("beta"), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(&*out[0].id, "two");
}

#[test]
fn hostile_rules_are_rejected_or_bounded() {
    // A regex whose compiled form is huge.
    let e = load_error(&win_rule(
        "    sel:\n        CommandLine|re: '(((a{100}){100}){100})'\n    condition: sel",
    ));
    assert!(e.reason.contains("regular expression rejected"), "{e}");
    // Deep nesting in the condition.
    let deep = format!("{}sel{}", "(".repeat(500), ")".repeat(500));
    let e = load_error(&win_rule(&format!(
        "    sel:\n        CommandLine: x\n    condition: '{deep}'"
    )));
    assert!(e.reason.contains("nested deeper"), "{e}");
    let nots = format!("{}sel", "not ".repeat(500));
    let e = load_error(&win_rule(&format!(
        "    sel:\n        CommandLine: x\n    condition: '{nots}'"
    )));
    assert!(e.reason.contains("nested deeper"), "{e}");
    // A YAML alias bomb ("billion laughs").
    let mut bomb = crate::yaml_alias_bomb();
    bomb.push_str("title: t\nid: bomb\n");
    let e = load_error(&bomb);
    assert!(e.reason.contains("invalid YAML"), "{e}");
    // Too large a file.
    let huge = format!("title: t\nid: h\ndescription: '{}'\n", "x".repeat(2 << 20));
    let e = load_error(&huge);
    assert!(e.reason.contains("larger than"), "{e}");
    // windash with many dashes stays bounded.
    let dashes = " -a".repeat(20);
    let e = load_error(&win_rule(&format!(
        "    sel:\n        CommandLine|windash|contains: '{dashes}'\n    condition: sel"
    )));
    assert!(e.reason.contains("windash"), "{e}");
}

#[test]
fn rule_sets_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SigmaRules>();
}

#[test]
fn base64_offsets_match_pysigma() {
    // pySigma's three encodings of "http" at offsets 0, 1, 2.
    assert_eq!(compile::base64_offsets(b"http"), ["aHR0c", "h0dH", "odHRw"]);
}

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// The prefilter and the literal bits (items answered by the bucket
/// scans) must give the same answer as evaluating every routed rule in
/// full, on every Windows and EVE event of the corpus with every SigmaHQ
/// rule loaded. Skipped when the corpus is absent.
#[test]
fn prefilter_and_literal_bits_agree_with_full_evaluation_on_the_corpus() {
    use std::path::{Path, PathBuf};

    let corpus = std::env::var_os("GARRISON_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    if !corpus.join("sigma/sigmahq").is_dir() {
        eprintln!("no corpus at {}: skipped", corpus.display());
        return;
    }
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.map(|e| e.expect("entry").path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.to_string_lossy().ends_with(ext) {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        walk(&corpus.join("sigma/sigmahq").join(d), ".yml", &mut files);
    }
    let rules: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            (
                p.to_string_lossy().into_owned(),
                std::fs::read_to_string(p).expect("rule"),
            )
        })
        .collect();
    let (mut set, _) = SigmaRules::compile(rules);

    let ctx = garrison_ingest::Context::at(garrison_core::time::Timestamp::from_millis(0));
    let mut events: Vec<(&str, Fields)> = Vec::new();
    let mut win = Vec::new();
    walk(&corpus.join("events/windows-json"), ".json", &mut win);
    for f in &win {
        let text = std::fs::read_to_string(f).expect("events");
        for v in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let Ok(v) = v else { break };
            let line = serde_json::to_string(&v).expect("json");
            if let Ok(e) = garrison_ingest::windows::parse(&line, &ctx) {
                events.push(("windows", e.fields));
            }
        }
    }
    let mut eve = Vec::new();
    walk(&corpus.join("events/suricata"), "eve.json", &mut eve);
    for f in &eve {
        let text = std::fs::read_to_string(f).expect("eve");
        for line in text.lines() {
            if let Ok(e) = garrison_ingest::suricata::parse(line, &ctx) {
                events.push(("suricata", e.fields));
            }
        }
    }
    assert!(events.len() > 5000, "{} events", events.len());

    let run = |set: &SigmaRules| -> Vec<Vec<usize>> {
        events
            .iter()
            .map(|(parser, f)| {
                let mut out = Vec::new();
                set.matches_fields(parser, f, &mut out);
                let mut ids: Vec<usize> = out.iter().map(|m| m.index).collect();
                ids.sort_unstable();
                ids
            })
            .collect()
    };
    let fast = run(&set);
    set.evaluate_everything();
    let full = run(&set);
    let mut differ = 0;
    for (i, (a, b)) in fast.iter().zip(&full).enumerate() {
        if a != b {
            differ += 1;
            eprintln!("event {i}: prefilter and bits {a:?}, full evaluation {b:?}");
        }
    }
    let hits: usize = full.iter().map(Vec::len).sum();
    eprintln!("{} events, {hits} matches, {differ} differ", events.len());
    assert_eq!(differ, 0);
    assert!(hits > 100, "{hits} matches");
}

#[test]
fn substring_search_agrees_with_the_automaton_across_chunks() {
    let needles = ["sekurlsa::", "Kiwi Legit Printer", "\\mimilib.dll", "::"];
    let fast = pattern::AnyContains::new(&needles, false).expect("builds");
    let ac = pattern::contains_automaton(&needles, true).expect("builds");
    let filler = "abcdefghij KLMNOP \\ path\\to.exe ".repeat(120);
    for at in [
        0, 1, 7, 1000, 1010, 1017, 1023, 1024, 1025, 2040, 2047, 3000,
    ] {
        for n in needles {
            for upper in [false, true] {
                let n = if upper {
                    n.to_ascii_uppercase()
                } else {
                    n.to_owned()
                };
                let mut t = filler.clone();
                t.insert_str(at.min(t.len()), &n);
                assert_eq!(fast.is_match(&t), ac.is_match(&t), "{n} at {at}");
                assert!(fast.is_match(&t), "{n} at {at}");
            }
        }
    }
    assert!(!fast.is_match(&filler));
    assert!(!fast.is_match(""));
    assert!(fast.is_match("x::"));
    let long = format!("{}SEKURLSA::", "x".repeat(100));
    assert!(fast.is_match(&long));
}

#[test]
fn keyword_search_over_joined_values_finds_needles_only_within_one_value() {
    let needles = ["sekurlsa::", "Kiwi Legit Printer", "\\mimilib.dll", "::"];
    let ac = pattern::AnyContains::new(&needles, false).expect("builds");
    // A needle split across two values is not a match.
    assert!(!ac.is_match_any(["x sekurl", "sa: y", ":"].into_iter()));
    assert!(!ac.is_match_any(std::iter::empty()));
    // Found in any value, in any case, wherever the chunks break.
    let filler = "abcdefghij KLMNOP \\ path\\to.exe";
    for n in 0..80 {
        let mut values: Vec<String> = (0..n).map(|i| format!("{filler}{i}")).collect();
        assert!(!ac.is_match_any(values.iter().map(String::as_str)), "{n}");
        values.push("C:\\Temp\\MIMILIB.DLL".to_owned());
        values.push(filler.to_owned());
        assert!(ac.is_match_any(values.iter().map(String::as_str)), "{n}");
    }
    // A value longer than a chunk is searched on its own.
    let long = format!("{}Kiwi LEGIT printer", "y".repeat(2000));
    assert!(ac.is_match_any(["a", long.as_str(), "b"].into_iter()));
    assert!(!ac.is_match_any(["a", &long[..2010], "b"].into_iter()));
}

#[test]
fn short_contains_literals_leave_the_prefilter_when_a_better_clause_exists() {
    let set = compile_one(&win_rule(
        "    sel:\n        Image|endswith: '\\powershell.exe'\n        CommandLine|contains: '-e'\n    condition: sel",
    ));
    // Only the suffix clause is scanned for; `-e` is evaluated on the
    // candidates (no bit).
    let pre = set.compiled[0].prefilter.as_ref().expect("a prefilter");
    assert_eq!(pre.len(), 1, "{pre:?}");
    assert_eq!(pre[0][0].1, "\\powershell.exe");
    let Detection::Maps(maps) = &set.compiled[0].detections[0] else {
        panic!("a map");
    };
    let short_item = maps[0]
        .iter()
        .find(|i| i.field != maps[0][0].field || i.lits.is_none());
    assert!(short_item.is_some_and(|i| i.lits.is_none()));
    let ev = |image: &str, cmdline: &str| {
        sysmon1(&[("Image", image.into()), ("CommandLine", cmdline.into())])
    };
    assert!(fires(
        &set,
        &ev("C:\\x\\PowerShell.exe", "powershell -E aQBlAHgA")
    ));
    assert!(!fires(
        &set,
        &ev("C:\\x\\PowerShell.exe", "powershell -NoProfile")
    ));
    assert!(!fires(&set, &ev("C:\\x\\pwsh.exe", "pwsh -e aQBlAHgA")));

    // A rule whose only clause has a short literal keeps it.
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|windash|contains: '-c'\n    condition: sel",
    ));
    assert!(set.compiled[0].prefilter.is_some());
    assert!(fires(&set, &cmd("cmd /c dir")));
    assert!(fires(&set, &cmd("cmd \u{2013}c dir")));
    assert!(!fires(&set, &cmd("cmd dir")));
    let set = compile_one(&win_rule(
        "    sel:\n        CommandLine|contains: '/c'\n    condition: sel",
    ));
    assert!(fires(&set, &cmd("cmd /C dir")));
    assert!(!fires(&set, &cmd("cmd dir")));
}

#[test]
fn events_with_many_fields_use_the_wide_slot_table() {
    let set = compile_one(&win_rule(
        "    sel:\n        Image|endswith: '\\cmd.exe'\n        User: 'x'\n    condition: sel",
    ));
    for extra in [0, 63, 64, 200, 300] {
        let mut data: Vec<(String, Value)> = (0..extra)
            .map(|i| (format!("F{i}"), Value::from("v")))
            .collect();
        data.push(("Image".into(), "C:\\Windows\\cmd.exe".into()));
        data.push(("User".into(), "X".into()));
        let refs: Vec<(&str, Value)> = data.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(fires(&set, &sysmon1(&refs)), "{extra} extra fields");
        let refs: Vec<(&str, Value)> = refs[..refs.len() - 1].to_vec();
        assert!(!fires(&set, &sysmon1(&refs)), "{extra} extra fields");
    }
}

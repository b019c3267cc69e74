//! Sigma with every SigmaHQ rule of the corpus loaded: per-event
//! evaluation on Windows events (the SigmaHQ regression data, read by
//! Garrison's Windows parser) and on Suricata EVE records, and the time to
//! compile all rules. Target (issue 5): enrichment plus detection at
//! 200,000 events/s per core, so Sigma at most ~3 µs an event.
//!
//! Run with `cargo bench -p garrison-detect --bench sigma`; the corpus is
//! `GARRISON_CORPUS`, else `../shared/corpus` beside the workspace. The
//! figures go to `docs/benchmarks.md`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use garrison_core::event::Fields;
use garrison_core::time::Timestamp;
use garrison_detect::sigma::{RuleMatch, SigmaRules};

fn corpus() -> PathBuf {
    std::env::var_os("GARRISON_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, ext, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(ext))
        {
            out.push(p);
        }
    }
}

fn rules() -> Vec<(String, String)> {
    let base = corpus().join("sigma/sigmahq");
    let mut files = Vec::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        walk(&base.join(d), ".yml", &mut files);
    }
    files
        .into_iter()
        .map(|p| {
            let t = std::fs::read_to_string(&p).expect("rule");
            (p.to_string_lossy().into_owned(), t)
        })
        .collect()
}

fn windows_events(dir: &str) -> Vec<Fields> {
    let ctx = garrison_ingest::Context::at(Timestamp::from_millis(0));
    let mut files = Vec::new();
    walk(
        &corpus().join("events/windows-json").join(dir),
        ".json",
        &mut files,
    );
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("events");
        for v in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let line = serde_json::to_string(&v.expect("json")).expect("json");
            out.push(
                garrison_ingest::windows::parse(&line, &ctx)
                    .expect("windows event")
                    .fields,
            );
        }
    }
    out
}

/// A benign Windows mix, generated: Sysmon process creations (1, 40%),
/// network connections (3, 20%) and file creations (11, 10%), Security
/// logons (4624), failed logons (4625) and process creations (4688), with
/// the ordinary images, command lines and paths of office workstations
/// and servers. Deterministic (a fixed LCG), in evtx_dump's JSON shape.
fn benign_events(n: usize) -> Vec<Fields> {
    use serde_json::json;
    const PROCS: &[(&str, &str, &str)] = &[
        (
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
            r"C:\Windows\System32\services.exe",
        ),
        (
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\System32\svchost.exe -k LocalServiceNetworkRestricted -p",
            r"C:\Windows\System32\services.exe",
        ),
        (
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --field-trial-handle=1824,i,1234567890 --lang=en-US --renderer-client-id=7 --mojo-platform-channel-handle=3200 /prefetch:1"#,
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        ),
        (
            r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
            r#""C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" "#,
            r"C:\Windows\explorer.exe",
        ),
        (
            r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
            r#""C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "C:\Users\jdoe\Documents\Quarterly report.docx" /o """#,
            r"C:\Windows\explorer.exe",
        ),
        (
            r"C:\Windows\System32\conhost.exe",
            r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
            r"C:\Windows\System32\cmd.exe",
        ),
        (
            r"C:\Windows\System32\backgroundTaskHost.exe",
            r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider"#,
            r"C:\Windows\System32\svchost.exe",
        ),
        (
            r"C:\Windows\System32\RuntimeBroker.exe",
            r"C:\Windows\System32\RuntimeBroker.exe -Embedding",
            r"C:\Windows\System32\svchost.exe",
        ),
        (
            r"C:\Program Files\Microsoft VS Code\Code.exe",
            r#""C:\Program Files\Microsoft VS Code\Code.exe" --type=utility --utility-sub-type=node.mojom.NodeService --lang=en-US --service-sandbox-type=none"#,
            r"C:\Program Files\Microsoft VS Code\Code.exe",
        ),
        (
            r"C:\Windows\System32\taskhostw.exe",
            r"taskhostw.exe Install $(Arg0)",
            r"C:\Windows\System32\svchost.exe",
        ),
        (
            r"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe",
            r#""C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe" /ua /installsource scheduler"#,
            r"C:\Windows\System32\svchost.exe",
        ),
        (
            r"C:\Windows\System32\SearchProtocolHost.exe",
            r#""C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe5_ Global\UsGthrCtrlFltPipeMssGthrPipe5 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon""#,
            r"C:\Windows\System32\SearchIndexer.exe",
        ),
        (
            r"C:\Program Files\Git\cmd\git.exe",
            r"git.exe status --porcelain=v2 --branch",
            r"C:\Program Files\Microsoft VS Code\Code.exe",
        ),
        (
            r"C:\Windows\System32\msiexec.exe",
            r"C:\Windows\System32\MsiExec.exe -Embedding 5A3F0E2C1B9D8A7E6F5D4C3B2A190807 C",
            r"C:\Windows\System32\msiexec.exe",
        ),
        (
            r"C:\Program Files\Windows Defender\MsMpEng.exe",
            r#""C:\Program Files\Windows Defender\MsMpEng.exe""#,
            r"C:\Windows\System32\services.exe",
        ),
        (
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            r"powershell.exe -NoProfile -File C:\Scripts\Backup-Logs.ps1",
            r"C:\Windows\System32\svchost.exe",
        ),
    ];
    const USERS: &[&str] = &[
        r"CORP\jdoe",
        r"CORP\asmith",
        r"NT AUTHORITY\SYSTEM",
        r"CORP\svc_backup",
    ];
    const FILES: &[&str] = &[
        r"C:\Users\jdoe\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\f_00a1b2",
        r"C:\Users\jdoe\Documents\Quarterly report.docx",
        r"C:\Windows\Temp\MpCmdRun.log",
        r"C:\Users\asmith\AppData\Local\Microsoft\Outlook\asmith@corp.example.ost.tmp",
        r"C:\ProgramData\Microsoft\Windows Defender\Scans\History\CacheManager\3A1F-0.bin",
    ];
    const DESTS: &[(&str, u16)] = &[
        ("10.0.0.10", 443),
        ("10.0.0.5", 389),
        ("142.250.185.78", 443),
        ("52.113.194.132", 443),
        ("10.0.0.5", 88),
        ("10.0.2.15", 445),
    ];
    let ctx = garrison_ingest::Context::at(Timestamp::from_millis(0));
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).expect("31 bits") % m
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (image, cmd, parent) = PROCS[next(PROCS.len())];
        let user = USERS[next(USERS.len())];
        let pid = 1000 + next(9000);
        let (channel, id, data) = match i % 10 {
            0..=3 => (
                "Microsoft-Windows-Sysmon/Operational",
                1,
                json!({
                    "RuleName": "-", "UtcTime": "2026-11-23 10:00:00.000",
                    "ProcessGuid": "{0197231E-61EF-693A-C812-000000000800}", "ProcessId": pid,
                    "Image": image, "FileVersion": "10.0.19041.1", "Description": "Windows process",
                    "Product": "Microsoft Windows Operating System", "Company": "Microsoft Corporation",
                    "OriginalFileName": image.rsplit('\\').next().unwrap_or(image),
                    "CommandLine": cmd, "CurrentDirectory": r"C:\Windows\system32\",
                    "User": user, "LogonGuid": "{0197231E-AB9F-67AA-4C14-030000000000}",
                    "LogonId": "0x3e7", "TerminalSessionId": 0, "IntegrityLevel": "Medium",
                    "Hashes": "SHA256=8955D2A45404A59C2E3772F3C76AEEAE48AEDF100BE328C003D7A4DF5342B491",
                    "ParentProcessGuid": "{0197231E-BDEA-6937-AB0C-000000000800}",
                    "ParentProcessId": pid / 2, "ParentImage": parent,
                    "ParentCommandLine": parent, "ParentUser": user,
                }),
            ),
            4 | 5 => {
                let (ip, port) = DESTS[next(DESTS.len())];
                (
                    "Microsoft-Windows-Sysmon/Operational",
                    3,
                    json!({
                        "RuleName": "-", "UtcTime": "2026-11-23 10:00:00.000",
                        "ProcessGuid": "{0197231E-61EF-693A-C812-000000000800}", "ProcessId": pid,
                        "Image": image, "User": user, "Protocol": "tcp", "Initiated": "true",
                        "SourceIsIpv6": "false", "SourceIp": "10.0.1.23",
                        "SourceHostname": "WS023.corp.example", "SourcePort": 49152 + next(16000),
                        "SourcePortName": "-", "DestinationIsIpv6": "false", "DestinationIp": ip,
                        "DestinationHostname": "-", "DestinationPort": port,
                        "DestinationPortName": "-",
                    }),
                )
            }
            6 => (
                "Microsoft-Windows-Sysmon/Operational",
                11,
                json!({
                    "RuleName": "-", "UtcTime": "2026-11-23 10:00:00.000",
                    "ProcessGuid": "{0197231E-61EF-693A-C812-000000000800}", "ProcessId": pid,
                    "Image": image, "TargetFilename": FILES[next(FILES.len())],
                    "CreationUtcTime": "2026-11-23 10:00:00.000", "User": user,
                }),
            ),
            7 => (
                "Security",
                4624,
                json!({
                    "SubjectUserSid": "S-1-5-18", "SubjectUserName": "WS023$",
                    "SubjectDomainName": "CORP", "SubjectLogonId": "0x3e7",
                    "TargetUserSid": "S-1-5-21-1-2-3-1104", "TargetUserName": "jdoe",
                    "TargetDomainName": "CORP", "TargetLogonId": "0x8d2f1",
                    "LogonType": ([2, 3, 5, 7, 10][next(5)]), "LogonProcessName": "User32 ",
                    "AuthenticationPackageName": "Negotiate", "WorkstationName": "WS023",
                    "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
                    "TransmittedServices": "-", "LmPackageName": "-", "KeyLength": 0,
                    "ProcessId": "0x2d4", "ProcessName": r"C:\Windows\System32\svchost.exe",
                    "IpAddress": "127.0.0.1", "IpPort": "0", "ImpersonationLevel": "%%1833",
                    "ElevatedToken": "%%1842",
                }),
            ),
            8 => (
                "Security",
                4625,
                json!({
                    "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
                    "SubjectLogonId": "0x0", "TargetUserSid": "S-1-0-0", "TargetUserName": "asmith",
                    "TargetDomainName": "CORP", "Status": "0xc000006d", "FailureReason": "%%2313",
                    "SubStatus": "0xc000006a", "LogonType": 3, "LogonProcessName": "NtLmSsp ",
                    "AuthenticationPackageName": "NTLM", "WorkstationName": "WS031",
                    "TransmittedServices": "-", "LmPackageName": "-", "KeyLength": 0,
                    "ProcessId": "0x0", "ProcessName": "-", "IpAddress": "10.0.1.31",
                    "IpPort": "51234",
                }),
            ),
            _ => (
                "Security",
                4688,
                json!({
                    "SubjectUserSid": "S-1-5-18", "SubjectUserName": "WS023$",
                    "SubjectDomainName": "CORP", "SubjectLogonId": "0x3e7",
                    "NewProcessId": format!("0x{pid:x}"), "NewProcessName": image,
                    "TokenElevationType": "%%1936", "ProcessId": "0x2d4", "CommandLine": cmd,
                    "TargetUserSid": "S-1-0-0", "TargetUserName": "-", "TargetDomainName": "-",
                    "TargetLogonId": "0x0", "ParentProcessName": parent,
                    "MandatoryLabel": "S-1-16-8192",
                }),
            ),
        };
        let provider = if channel == "Security" {
            "Microsoft-Windows-Security-Auditing"
        } else {
            "Microsoft-Windows-Sysmon"
        };
        let event = json!({"Event": {
            "System": {
                "Provider": {"#attributes": {"Name": provider}},
                "EventID": id, "Level": 4,
                "TimeCreated": {"#attributes": {"SystemTime": "2026-11-23T10:00:00.000000Z"}},
                "EventRecordID": i, "Channel": channel, "Computer": "WS023.corp.example",
            },
            "EventData": data,
        }});
        let line = event.to_string();
        out.push(
            garrison_ingest::windows::parse(&line, &ctx)
                .unwrap_or_else(|e| panic!("generated event {i}: {e:?}"))
                .fields,
        );
    }
    out
}

fn eve_events() -> Vec<Fields> {
    let ctx = garrison_ingest::Context::at(Timestamp::from_millis(0));
    let mut files = Vec::new();
    walk(&corpus().join("events/suricata"), "eve.json", &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("eve");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(p) = garrison_ingest::suricata::parse(line, &ctx) {
                out.push(p.fields);
            }
        }
    }
    out
}

/// Evaluates every event once (for instruction counts).
#[inline(never)]
fn counted_pass(set: &SigmaRules, parser: &str, events: &[Fields]) -> usize {
    let mut out = Vec::new();
    let mut hits = 0;
    for f in events {
        out.clear();
        set.matches_fields(parser, black_box(f), &mut out);
        hits += out.len();
    }
    hits
}

fn bench(c: &mut Criterion) {
    let rules = rules();
    let (set, errors) = SigmaRules::compile(rules.iter().map(|(o, y)| (o.as_str(), y)));
    eprintln!(
        "{} rules loaded ({} routed), {} rejected",
        set.len(),
        set.len() - set.unrouted().len(),
        errors.len()
    );
    let win = windows_events("sigmahq-regression");
    let otrf = windows_events("otrf");
    let benign = benign_events(1000);
    let eve = eve_events();
    eprintln!(
        "{} Windows regression events, {} OTRF, {} generated benign, {} EVE records",
        win.len(),
        otrf.len(),
        benign.len(),
        eve.len()
    );
    // `SIGMA_ONCE=<sample>`: evaluate that sample's events once and stop,
    // for instruction counts (`valgrind --tool=callgrind
    // --toggle-collect='*matches_fields*'`), which the warm-up and
    // criterion's loops would otherwise mix.
    let once = std::env::var("SIGMA_ONCE").ok();
    for (name, parser, events) in [
        ("windows", "windows", &win),
        ("windows_otrf", "windows", &otrf),
        ("windows_benign", "windows", &benign),
        ("eve", "suricata", &eve),
    ] {
        if once.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut out = Vec::new();
        let mut hits = 0;
        for f in events.iter() {
            out.clear();
            set.matches_fields(parser, f, &mut out);
            hits += out.len();
        }
        eprintln!("{name}: {hits} matches over {} events", events.len());
    }
    if let Some(name) = once {
        // A second, warm pass (regex caches filled), alone in its own
        // function: `--toggle-collect='*counted_pass*'`.
        for (n, parser, events) in [
            ("windows", "windows", &win),
            ("windows_otrf", "windows", &otrf),
            ("windows_benign", "windows", &benign),
            ("eve", "suricata", &eve),
        ] {
            if n == name {
                eprintln!("counted: {} matches", counted_pass(&set, parser, events));
            }
        }
        return;
    }

    let mut g = c.benchmark_group("sigma_match");
    for (name, parser, events) in [
        ("windows", "windows", &win),
        ("windows_otrf", "windows", &otrf),
        ("windows_benign", "windows", &benign),
        ("eve", "suricata", &eve),
    ] {
        g.throughput(Throughput::Elements(events.len() as u64));
        let mut out: Vec<RuleMatch> = Vec::with_capacity(16);
        g.bench_function(format!("{name}_{}_events", events.len()), |b| {
            b.iter(|| {
                let mut hits = 0;
                for f in events.iter() {
                    out.clear();
                    set.matches_fields(parser, black_box(f), &mut out);
                    hits += out.len();
                }
                hits
            });
        });
    }
    g.finish();

    let mut g = c.benchmark_group("sigma_compile");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.bench_function(format!("all_{}_rules", rules.len()), |b| {
        b.iter(|| {
            SigmaRules::compile(rules.iter().map(|(o, y)| (o.as_str(), y)))
                .0
                .len()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

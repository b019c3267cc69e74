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

fn windows_events() -> Vec<Fields> {
    let ctx = garrison_ingest::Context::at(Timestamp::from_millis(0));
    let mut files = Vec::new();
    walk(
        &corpus().join("events/windows-json/sigmahq-regression"),
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

fn bench(c: &mut Criterion) {
    let rules = rules();
    let (set, errors) = SigmaRules::compile(rules.iter().map(|(o, y)| (o.as_str(), y)));
    eprintln!(
        "{} rules loaded ({} routed), {} rejected",
        set.len(),
        set.len() - set.unrouted().len(),
        errors.len()
    );
    let win = windows_events();
    let eve = eve_events();
    eprintln!("{} Windows events, {} EVE records", win.len(), eve.len());

    let mut g = c.benchmark_group("sigma_match");
    for (name, parser, events) in [("windows", "windows", &win), ("eve", "suricata", &eve)] {
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

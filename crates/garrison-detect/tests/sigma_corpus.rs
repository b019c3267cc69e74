//! Sigma against the shared corpus: every SigmaHQ rule is loaded (and the
//! rejections counted by reason), and every SigmaHQ regression test
//! (`events/windows-json/sigmahq-regression/*/`) must fire its rule at
//! least `match_count` times on its events, read by Garrison's Windows
//! parser. The corpus is read in place: `GARRISON_CORPUS`, else
//! `../shared/corpus` beside the workspace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use garrison_core::time::Timestamp;
use garrison_detect::sigma::{RuleMatch, SigmaRules};

/// Regression cases that do not pass, each with the reason. Empty: every
/// case passes. The test fails if this list and reality disagree either
/// way, so an entry cannot outlive its reason.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[];

fn corpus() -> PathBuf {
    let p = std::env::var_os("GARRISON_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        p.join("sigma/sigmahq").is_dir(),
        "the corpus is not at {} (set GARRISON_CORPUS)",
        p.display()
    );
    p
}

fn yml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read rules dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

/// Every rule under `sigma/sigmahq/rules*`, as (origin, text).
fn all_rules(corpus: &Path) -> Vec<(String, String)> {
    let base = corpus.join("sigma/sigmahq");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .expect("sigmahq dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("rules"))
        })
        .collect();
    dirs.sort();
    let mut files = Vec::new();
    for d in &dirs {
        yml_files(d, &mut files);
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("rule text");
            let origin = p
                .strip_prefix(&base)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            (origin, text)
        })
        .collect()
}

/// The events of one evtx_dump-style file (concatenated JSON objects),
/// parsed by Garrison's Windows parser.
fn windows_events(path: &Path) -> Vec<garrison_core::event::Fields> {
    let text = std::fs::read_to_string(path).expect("events");
    let ctx = garrison_ingest::Context::at(Timestamp::from_millis(0));
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(|v| {
            let line = serde_json::to_string(&v.expect("JSON object")).expect("json");
            garrison_ingest::windows::parse(&line, &ctx)
                .expect("the Windows parser reads the event")
                .fields
        })
        .collect()
}

struct Case {
    name: String,
    rule_id: String,
    min_matches: usize,
    events: PathBuf,
}

/// Reads `info.yml` (the rule id under `rule_metadata`, `match_count`
/// defaulting to 1 as SigmaHQ's runner does).
fn cases(corpus: &Path) -> Vec<Case> {
    let dir = corpus.join("events/windows-json/sigmahq-regression");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("regression dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let info =
            yaml_like::parse(&std::fs::read_to_string(d.join("info.yml")).expect("info.yml"));
        let json = std::fs::read_dir(&d)
            .expect("case dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|x| x == "json"))
            .expect("a .json file in each case");
        out.push(Case {
            name: d.file_name().expect("name").to_string_lossy().into_owned(),
            rule_id: info.rule_id,
            min_matches: usize::try_from(info.match_count).expect("small count"),
            events: json,
        });
    }
    out
}

/// The two keys of `info.yml` the test needs, read line by line (the file
/// is SigmaHQ's fixed layout; no YAML dependency for the test).
mod yaml_like {
    pub struct Info {
        pub rule_id: String,
        pub match_count: u64,
    }

    pub fn parse(text: &str) -> Info {
        let mut in_meta = false;
        let mut rule_id = None;
        let mut match_count = 1;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("rule_metadata:") {
                in_meta = true;
            } else if !line.starts_with(' ') {
                in_meta = false;
            }
            if in_meta
                && rule_id.is_none()
                && let Some(id) = t.strip_prefix("- id:")
            {
                rule_id = Some(id.trim().to_owned());
            }
            if let Some(n) = t.strip_prefix("match_count:") {
                match_count = n.trim().parse().expect("match_count is a number");
            }
        }
        Info {
            rule_id: rule_id.expect("rule_metadata id"),
            match_count,
        }
    }
}

fn load() -> (SigmaRules, Vec<garrison_detect::sigma::LoadError>, usize) {
    let rules = all_rules(&corpus());
    let n = rules.len();
    let (set, errors) = SigmaRules::compile(rules);
    (set, errors, n)
}

#[test]
fn sigmahq_rules_load_and_rejections_are_explained() {
    let (set, errors, files) = load();
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for e in &errors {
        // Group by the reason's kind (before details such as values).
        let kind = e
            .reason
            .split(": ")
            .find(|p| !p.starts_with("detection ") && !p.contains('|'))
            .unwrap_or(&e.reason)
            .to_owned();
        *by_reason.entry(kind).or_default() += 1;
        assert!(e.rule.is_some(), "an error names its rule: {e}");
        assert!(!e.reason.is_empty(), "{e}");
    }
    let mut unrouted: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, why) in set.unrouted() {
        let p = set.rule(*i).logsource.product.as_deref().unwrap_or("-");
        let _ = why;
        *unrouted.entry(p).or_default() += 1;
    }
    println!(
        "SigmaHQ corpus: {files} files, {} rules loaded ({} routed to Garrison's sources, {} for logsources Garrison does not parse), {} rejected",
        set.len(),
        set.len() - set.unrouted().len(),
        set.unrouted().len(),
        errors.len()
    );
    for (reason, n) in &by_reason {
        println!("  rejected {n:>4}: {reason}");
    }
    for (p, n) in &unrouted {
        println!("  unrouted {n:>4}: product {p}");
    }
    for e in &errors {
        println!("  {e}");
    }
    assert_eq!(set.len() + errors.len(), files, "one result per file");
    assert!(
        set.len() - set.unrouted().len() >= 1000,
        "at least 1,000 rules for the sources Garrison parses"
    );
    assert!(
        errors.len() * 100 <= files,
        "at most 1% of SigmaHQ rejected, got {}",
        errors.len()
    );
    // Metadata is kept.
    let i = set
        .index_of("0b9ad457-2554-44c1-82c2-d56a99c42377")
        .expect("the AnyDesk artefact rule loads");
    let m = set.rule(i);
    assert_eq!(m.title, "Anydesk Temporary Artefact");
    assert_eq!(m.logsource.category.as_deref(), Some("file_event"));
    assert!(m.tags.iter().any(|t| t.starts_with("attack.")), "{m:?}");
    assert!(!m.references.is_empty() && !m.falsepositives.is_empty());
}

#[test]
fn sigmahq_regression_cases_fire_their_rules() {
    let corpus = corpus();
    let (set, _, _) = load();
    let cases = cases(&corpus);
    assert!(cases.len() >= 100, "the corpus holds the regression cases");
    let mut failing: Vec<(String, String)> = Vec::new();
    let mut out: Vec<RuleMatch> = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let events = windows_events(&case.events);
        assert!(!events.is_empty(), "{}: no events", case.name);
        let mut n = 0;
        let mut others: BTreeMap<String, usize> = BTreeMap::new();
        for f in &events {
            out.clear();
            set.matches_fields("windows", f, &mut out);
            for m in &out {
                if *m.id == *case.rule_id {
                    n += 1;
                } else {
                    *others.entry(set.rule(m.index).title.clone()).or_default() += 1;
                }
            }
        }
        if n >= case.min_matches {
            passed += 1;
        } else {
            let why = match set.index_of(&case.rule_id) {
                None => "rule not loaded".to_owned(),
                Some(_) => format!("{n} of {} matches", case.min_matches),
            };
            failing.push((case.name.clone(), why));
        }
    }
    println!("SigmaHQ regression: {passed} of {} cases pass", cases.len());
    for (name, why) in &failing {
        println!("  FAIL {name}: {why}");
    }
    let failing_names: Vec<&str> = failing.iter().map(|(n, _)| n.as_str()).collect();
    let known: Vec<&str> = KNOWN_EXCEPTIONS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        failing_names, known,
        "the failing cases must be exactly the listed exceptions"
    );
}

//! `garrison import intel`: the binary on feeds with bad lines, the use
//! case's rights, and the corpus's indicator test set matched against the
//! corpus's events through store, index and parsers.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use common::Garrison;
use garrison_app::AppError;
use garrison_app::intel::feed::{FeedDefaults, FeedFormat};
use garrison_app::intel::{IntelImport, IntelTarget};
use garrison_core::indicator::IndicatorScope;
use garrison_core::tenancy::AuthMethod;
use garrison_core::{Principal, Role, TenantId, UserId};
use garrison_detect::IndicatorIndex;
use garrison_store::IndicatorQuery;
use garrison_testkit::TestApp;
use serde_json::Value;

fn corpus() -> PathBuf {
    std::env::var_os("GARRISON_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

#[tokio::test]
async fn cli_imports_csv_and_txt_reports_bad_lines_and_reimports_idempotently() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme"]);
    let csv = g.dir.path().join("feed.csv");
    let mut text = b"type,value,confidence,tlp,tags,colour\n\
        ipv4,192.0.2.1,80,green,c2,red\n\
        domain,=HYPERLINK(\"http://x\"),,,,\n\
        ,evil.example,,,,\n\
        sha256,123,,,,\n"
        .to_vec();
    text.extend(b"url,http://evil.example/\xff\xfe,,,,\n");
    text.extend(std::iter::repeat_n(b'x', 100_000));
    text.extend(b"\nmd5,D41D8CD98F00B204E9800998ECF8427E,,,,\n");
    std::fs::write(&csv, &text).expect("write");
    let csv_arg = csv.to_str().expect("path");

    let out = g.ok(&["import", "intel", csv_arg, "--tenant", "acme"]);
    assert!(
        out.contains("new 3, updated 0, unchanged 0; rejected 4"),
        "{out}"
    );
    assert!(
        out.contains("note: unknown column `colour` (ignored)"),
        "{out}"
    );
    for line in [3, 5, 6, 7] {
        assert!(
            out.contains(&format!("feed.csv:{line}: ")),
            "line {line}: {out}"
        );
    }
    assert!(out.contains("`=HYPERLINK(\\\"http://x\\\")`"), "{out}");
    assert!(out.contains("not UTF-8"), "{out}");
    assert!(out.contains("longer than"), "{out}");

    // Again, as JSON: nothing new.
    let again: Value =
        serde_json::from_str(&g.ok(&["import", "intel", csv_arg, "--tenant", "acme", "--json"]))
            .expect("json");
    assert_eq!(again["new"], 0);
    assert_eq!(again["unchanged"], 3);
    assert_eq!(again["rejected"], 4);
    assert_eq!(again["rejections"][0]["line"], 3);
    assert_eq!(again["source"], "feed.csv");
    assert_eq!(again["scope"]["tenant_id"].as_str().map(str::len), Some(36));

    // A plain list, MSSP-wide, with defaults from flags; the corpus's IPsum
    // list read in place.
    let ipsum = corpus().join("intel/csv/ipsum-level8.txt");
    if ipsum.is_file() {
        let expected = std::fs::read_to_string(&ipsum)
            .expect("read")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let out: Value = serde_json::from_str(&g.ok(&[
            "import",
            "intel",
            ipsum.to_str().expect("path"),
            "--mssp-wide",
            "--source",
            "ipsum",
            "--confidence",
            "70",
            "--tlp",
            "clear",
            "--valid-days",
            "7",
            "--tag",
            "scanner",
            "--json",
        ]))
        .expect("json");
        assert_eq!(out["new"], expected);
        assert_eq!(out["rejected"], 0);
        assert_eq!(out["scope"]["scope"], "mssp");
    }

    // Refusals: both scopes, an unknown tenant, a bad flag.
    let both = g.run(&[
        "import",
        "intel",
        csv_arg,
        "--tenant",
        "acme",
        "--mssp-wide",
    ]);
    assert!(!both.status.success());
    let neither = g.run(&["import", "intel", csv_arg]);
    assert!(!neither.status.success());
    let ghost = g.run(&["import", "intel", csv_arg, "--tenant", "ghost"]);
    assert!(!ghost.status.success());
    let tlp = g.run(&[
        "import", "intel", csv_arg, "--tenant", "acme", "--tlp", "purple",
    ]);
    assert!(!tlp.status.success());
    assert!(String::from_utf8_lossy(&tlp.stderr).contains("unknown TLP"));
    let header = g.dir.path().join("nohead.csv");
    std::fs::write(&header, "name,colour\nx,y\n").expect("write");
    let bad = g.run(&[
        "import",
        "intel",
        header.to_str().expect("path"),
        "--tenant",
        "acme",
    ]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("no `value` column"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

fn principal(role: Role, home: Option<TenantId>, assigned: &[TenantId]) -> Principal {
    Principal::authenticated(
        UserId::new(),
        "someone@example.test",
        role,
        home,
        assigned.iter().copied(),
        AuthMethod::System,
    )
    .expect("principal")
}

fn import_of(path: &std::path::Path, target: IntelTarget) -> IntelImport {
    IntelImport {
        path: path.to_owned(),
        file_name: "list.txt".into(),
        format: FeedFormat::Txt,
        target,
        defaults: FeedDefaults::new("list.txt"),
    }
}

#[tokio::test]
async fn imports_check_visibility_then_rights_and_are_audited() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await.id;
    let b = t.tenant("bravo").await.id;
    let dir = tempfile::tempdir().expect("dir");
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "192.0.2.1\nevil.example\n").expect("write");
    let progress = || Arc::new(garrison_scan::Progress::default());
    let run = |p: Principal, target| {
        let app = t.app.clone();
        let import = import_of(&list, target);
        async move { app.import_intel(&p, import, progress()).await }
    };

    let admin_a = principal(Role::CustomerAdmin, Some(a), &[]);
    assert!(matches!(
        run(admin_a.clone(), IntelTarget::Tenant(b)).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        run(admin_a.clone(), IntelTarget::Mssp).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        run(
            principal(Role::CustomerViewer, Some(a), &[]),
            IntelTarget::Tenant(a)
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
    let analyst = principal(Role::MsspAnalyst, None, &[a]);
    assert!(matches!(
        run(analyst.clone(), IntelTarget::Tenant(b)).await,
        Err(AppError::NotFound)
    ));
    let done = run(admin_a.clone(), IntelTarget::Tenant(a))
        .await
        .expect("own tenant");
    assert_eq!(done.counts.new, 2);
    let done = run(analyst.clone(), IntelTarget::Mssp)
        .await
        .expect("MSSP staff write shared intelligence");
    assert_eq!(done.counts.new, 2);

    // Bravo sees the shared ones only; acme its own too.
    let listed = |p: Principal| {
        let app = t.app.clone();
        async move {
            app.list_indicators(&p, &IndicatorQuery::default())
                .await
                .expect("list")
                .items
        }
    };
    let bravo = listed(principal(Role::CustomerViewer, Some(b), &[])).await;
    assert_eq!(bravo.len(), 2);
    assert!(bravo.iter().all(|i| i.scope == IndicatorScope::Mssp));
    assert_eq!(listed(admin_a.clone()).await.len(), 4);

    // Revocation: a customer cannot revoke shared intelligence, nor see
    // another tenant's.
    let shared = bravo[0].id;
    assert!(matches!(
        t.app.revoke_indicator(&admin_a, shared).await,
        Err(AppError::Forbidden(_))
    ));
    let own_a = listed(admin_a.clone())
        .await
        .into_iter()
        .find(|i| i.scope == IndicatorScope::Tenant(a))
        .expect("acme's");
    assert!(matches!(
        t.app
            .revoke_indicator(&principal(Role::CustomerAdmin, Some(b), &[]), own_a.id)
            .await,
        Err(AppError::NotFound)
    ));
    t.app
        .revoke_indicator(&admin_a, own_a.id)
        .await
        .expect("revoke own");

    let log = t
        .store
        .list_audit(
            &t.operator().access(),
            &garrison_store::AuditQuery::default(),
        )
        .await
        .expect("audit");
    let imports: Vec<_> = log
        .iter()
        .filter(|r| r.action == "indicators.imported")
        .collect();
    assert_eq!(imports.len(), 2, "each import is audited once");
    assert!(
        imports
            .iter()
            .any(|r| r.tenant_id == Some(a) && r.details.contains("\"new\":2"))
    );
    assert!(imports.iter().any(|r| r.tenant_id.is_none()));
    assert!(log.iter().any(|r| r.action == "indicators.revoked"));
}

/// The corpus's IOC test set (values picked from real Suricata, Zeek and
/// Sysmon events, plus real IOCs that occur nowhere) imported through the
/// use case, loaded from the store into the index, and matched against the
/// events it names after parsing them as the pipeline does. Per the
/// manifest, each indicator's count of matching events lands between the
/// events whose address/name field equals it and the events with any
/// string field equal to it.
#[tokio::test]
async fn corpus_ioc_test_set_matches_the_events_it_was_derived_from() {
    let root = corpus();
    let csv = root.join("intel/csv/ioc-matching-testset.csv");
    let expected = root.join("intel/csv/ioc-matching-testset.expected.json");
    if !csv.is_file() || !expected.is_file() {
        eprintln!("skipped: no corpus at {}", root.display());
        return;
    }
    let t = TestApp::new().await;
    let tenant = t.tenant("acme").await.id;
    let done = t
        .app
        .import_intel(
            &t.operator(),
            IntelImport {
                path: csv.clone(),
                file_name: "ioc-matching-testset.csv".into(),
                format: FeedFormat::Csv,
                target: IntelTarget::Mssp,
                defaults: FeedDefaults::new("testset"),
            },
            Arc::new(garrison_scan::Progress::default()),
        )
        .await
        .expect("import");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&expected).expect("read")).expect("json");
    assert_eq!(done.counts.new, expected.len() as u64);
    assert_eq!(done.rejected, 0, "{:?}", done.rejections);

    let now = garrison_core::Clock::now(&*t.clock);
    let live = t
        .store
        .live_indicators(now, None, 1000)
        .await
        .expect("live");
    let index = IndicatorIndex::build(&live, now);
    let value_of: BTreeMap<_, _> = live.iter().map(|i| (i.id, i.value.clone())).collect();

    let files: BTreeSet<String> = expected
        .iter()
        .flat_map(|e| e["files"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect();
    let ctx = garrison_ingest::Context::at(now);
    let mut matched: BTreeMap<String, u64> = BTreeMap::new();
    let mut hits = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).expect("event file");
        let lines: Vec<String> = if file.starts_with("events/windows-json") {
            // Pretty-printed documents, one after another.
            serde_json::Deserializer::from_str(&text)
                .into_iter::<Value>()
                .map(|v| v.expect("json").to_string())
                .collect()
        } else {
            text.lines().map(str::to_owned).collect()
        };
        for line in lines.iter().filter(|l| !l.trim().is_empty()) {
            let Ok((_, parsed)) = garrison_ingest::parse(garrison_ingest::Format::Auto, line, &ctx)
            else {
                continue;
            };
            hits.clear();
            index.matches(tenant, &parsed.fields, &mut hits);
            for h in &hits {
                *matched.entry(value_of[&h.indicator].clone()).or_default() += 1;
            }
        }
    }
    for e in &expected {
        let value = e["value"].as_str().expect("value").to_ascii_lowercase();
        let low = e["expected_event_matches"].as_u64().expect("count");
        let high = e["events_with_any_string_field_equal"]
            .as_u64()
            .expect("count");
        let got = matched.get(&value).copied().unwrap_or(0);
        assert!(
            low <= got && got <= high,
            "{value}: {got} matching events, expected {low} to {high}"
        );
    }
}

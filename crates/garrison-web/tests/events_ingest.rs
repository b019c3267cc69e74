//! Log files ingested end to end on the real store (SQLite, and PostgreSQL
//! on the second pass): every format of the corpus stored in its tenant and
//! found by a search there only, awkward lines (blank, NUL, invalid UTF-8,
//! over-long, unreadable) counted with their line numbers, a redelivered
//! batch stored once, and the rules on who may ingest into which tenant.
//!
//! Ingesting the same file twice is two ingestions: each line gets a fresh
//! event id when it is read, so the second stores the events again. What
//! must not duplicate is a batch the bus delivers again (a nack, a lost
//! ack): its lines carry the same ids, which the last test checks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use garrison_app::AppError;
use garrison_app::events::ingest::{Format, IngestSummary};
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_app::inventory::Progress;
use garrison_core::tenancy::AuthMethod;
use garrison_core::{EventId, Principal, Role, TenantId};
use garrison_store::{AuditQuery, EventQuery, MAX_EVENT_PAGE};
use garrison_testkit::TestApp;

fn corpus_dir() -> PathBuf {
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

/// One file per format (and `auto` on a mixed one).
fn corpus_files() -> Vec<(PathBuf, Format)> {
    let events = corpus_dir().join("events");
    let files = [
        ("syslog/rsyslog-batchA-as-rfc5424.log", Format::Rfc5424),
        ("syslog/rsyslog-batchA-wire.log", Format::Syslog),
        ("cef/elastic-beats-cef.log", Format::Cef),
        ("leef/tenzir-leef2-panos-templates.log", Format::Leef),
        ("suricata/alert-testmyids/eve.json", Format::SuricataEve),
        ("zeek/dns.json", Format::Zeek),
        ("zeek/ssh.json", Format::Json),
        (
            "windows-json/otrf/cmd_lsass_memory_dumpert_syscalls_2020-10-1822561997.json",
            Format::WindowsJson,
        ),
        ("cef/elastic-beats-fp-ngfw-smc.log", Format::Auto),
    ];
    files
        .into_iter()
        .map(|(f, fmt)| {
            let path = events.join(f);
            assert!(
                path.is_file(),
                "{}: missing; set GARRISON_CORPUS",
                path.display()
            );
            (path, fmt)
        })
        .collect()
}

/// Non-blank lines, counted the simple way.
fn non_blank_lines(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read");
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

async fn ingest(
    t: &TestApp,
    p: &Principal,
    tenant: TenantId,
    path: &Path,
    format: Format,
) -> Result<IngestSummary, AppError> {
    t.app
        .ingest_file(p, tenant, path, format, Arc::new(Progress::default()))
        .await
}

/// How many events `p` finds, optionally in one tenant.
async fn found(t: &TestApp, p: &Principal, tenant: Option<TenantId>) -> u64 {
    let q = EventQuery {
        tenant,
        limit: MAX_EVENT_PAGE,
        ..EventQuery::default()
    };
    t.store
        .search_events(&p.access(), &q)
        .await
        .expect("search")
        .total
}

async fn user(t: &TestApp, email: &str, role: Role, tenant: Option<TenantId>) -> Principal {
    let (user, _) = t.user(email, role, tenant).await;
    Principal::authenticated(
        user.id,
        user.email,
        user.role,
        user.tenant_id,
        [],
        AuthMethod::System,
    )
    .expect("principal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_is_stored_in_its_tenant_and_found_there_only() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let b = t.tenant("globex").await;
    let op = t.operator();
    let mut stored = 0;
    for (path, format) in corpus_files() {
        let lines = non_blank_lines(&path);
        let s = ingest(&t, &op, a.id, &path, format)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.display();
        eprintln!(
            "{name} ({}): {} lines, {} failed",
            format.as_str(),
            s.lines,
            s.failed
        );
        assert_eq!(s.lines, lines, "{name}: {s:?}");
        assert_eq!(s.parsed + s.failed, lines, "{name}: {s:?}");
        assert_eq!(s.stored, lines - s.failed, "{name}: {s:?}");
        assert_eq!(s.duplicates, 0, "{name}: {s:?}");
        assert!(s.stored > 0, "{name}: nothing parsed: {s:?}");
        assert_eq!(
            s.failures.len() as u64,
            s.failed.min(20),
            "{name}: failures listed with their lines: {s:?}"
        );
        stored += s.stored;
        assert_eq!(
            found(&t, &op, Some(a.id)).await,
            stored,
            "{name}: the search finds what was stored"
        );
    }
    assert!(stored > 1500, "{stored}");
    // Tenant B sees none of it, whichever way it asks.
    let viewer_b = user(&t, "viewer@globex.test", Role::CustomerViewer, Some(b.id)).await;
    assert_eq!(found(&t, &viewer_b, None).await, 0);
    assert_eq!(found(&t, &op, Some(b.id)).await, 0);
    let viewer_a = user(&t, "viewer@acme.test", Role::CustomerViewer, Some(a.id)).await;
    assert_eq!(found(&t, &viewer_a, None).await, stored);
    // The pipeline counted the same per source.
    let stats = t.app.pipeline().stats();
    let tenant = &stats.tenants[&a.id];
    let counted: u64 = tenant.sources.values().map(|s| s.stored).sum();
    assert_eq!(counted, stored, "{tenant:?}");
    assert!(tenant.sources.contains_key("file:dns.json"), "{tenant:?}");
    assert!(!stats.tenants.contains_key(&b.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_lines_are_counted_with_their_line_numbers() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let op = t.operator();
    let good = "<36>1 2026-11-22T21:34:50+00:00 vm sshd 2214 - -  Failed password for admin";
    let mut file = Vec::new();
    file.extend_from_slice(good.as_bytes()); // 1
    file.extend_from_slice(b"\r\n\n   \n"); // 2, 3 blank
    file.extend_from_slice(b"{not json at all\n"); // 4 fails
    file.extend_from_slice(good.as_bytes()); // 5: NUL and invalid UTF-8
    file.extend_from_slice(b" nul\0here \xff\xfe end\n");
    file.extend_from_slice(good.as_bytes()); // 6: 70 KiB, cut at 64 KiB
    file.extend(std::iter::repeat_n(b'x', 70 * 1024));
    file.extend_from_slice(b"\n\n"); // 7 blank
    file.extend_from_slice(good.as_bytes()); // 8, no final newline
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("awkward.log");
    std::fs::write(&path, &file).expect("write");

    let s = ingest(&t, &op, a.id, &path, Format::Rfc5424)
        .await
        .expect("ingest");
    assert_eq!(
        (s.lines, s.blank, s.truncated, s.failed, s.stored),
        (5, 3, 1, 1, 4),
        "{s:?}"
    );
    assert_eq!(s.failures.len(), 1, "{s:?}");
    assert_eq!(s.failures[0].line, 4, "{s:?}");
    assert!(s.failures[0].reason.starts_with("rfc5424: "), "{s:?}");

    let page = t
        .store
        .search_events(
            &op.access(),
            &EventQuery {
                tenant: Some(a.id),
                ..EventQuery::default()
            },
        )
        .await
        .expect("search");
    assert_eq!(page.total, 4);
    for e in &page.items {
        assert!(!e.original.contains('\0'), "{:?}", e.original);
        assert!(e.original.len() <= garrison_core::event::MAX_ORIGINAL_BYTES);
        assert_eq!(e.source_id, "file:awkward.log");
        assert_eq!(e.parser, "rfc5424");
    }
    assert!(
        page.items
            .iter()
            .any(|e| e.original.contains("nul\u{FFFD}here \u{FFFD}\u{FFFD} end")),
        "NUL and invalid UTF-8 replaced"
    );
    assert!(
        page.items
            .iter()
            .any(|e| e.fields.get("event.original_truncated").is_some()),
        "the cut original is marked"
    );
    // The failed line is kept for the tenant's failure page.
    let stats = t.app.pipeline().stats();
    let failures = &stats.tenants[&a.id].recent_failures;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].line, "{not json at all");
    // The ingestion is audited with its file and counts.
    let audit = t
        .store
        .list_audit(
            &op.access(),
            &AuditQuery {
                tenant: Some(a.id),
                ..AuditQuery::default()
            },
        )
        .await
        .expect("audit");
    let record = audit
        .iter()
        .find(|r| r.action == "events.ingested")
        .expect("an events.ingested record");
    let details: serde_json::Value = serde_json::from_str(&record.details).expect("json");
    assert_eq!(details["file"], "awkward.log", "{details}");
    assert_eq!(details["stored"], 4, "{details}");
    assert_eq!(details["failed"], 1, "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_delivered_twice_is_stored_once() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let op = t.operator();
    let pipeline = t.app.pipeline();
    let receipt = pipeline.receipt();
    let received_at = garrison_core::Clock::now(t.clock.as_ref());
    let batch: Vec<RawLine> = (0..25_u64)
        .map(|i| RawLine {
            id: EventId::new(),
            tenant: a.id,
            source_id: "test:redelivery".to_owned(),
            received_at,
            format: Format::Auto,
            line: format!("<13>1 2026-11-22T21:34:50Z host app {i} - - the same message"),
            receipt: Some(receipt.tag(i + 1)),
        })
        .collect();
    // The same messages (same event ids) twice, as a redelivery brings them.
    pipeline
        .bus()
        .publish_wait(a.id, batch.clone())
        .await
        .expect("publish");
    pipeline
        .bus()
        .publish_wait(a.id, batch)
        .await
        .expect("publish again");
    let counts = receipt.wait_for(50).await;
    assert_eq!(counts.settled, 50, "{counts:?}");
    assert_eq!(counts.parsed, 50, "{counts:?}");
    assert_eq!(counts.stored, 25, "{counts:?}");
    assert_eq!(counts.duplicates, 25, "{counts:?}");
    assert_eq!(found(&t, &op, Some(a.id)).await, 25);
    let source = &pipeline.stats().tenants[&a.id].sources["test:redelivery"];
    assert_eq!((source.received, source.stored), (50, 25), "{source:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_cannot_ingest_and_other_tenants_are_not_found() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let b = t.tenant("globex").await;
    let (path, format) = corpus_files().remove(0);
    for role in [
        Role::CustomerAdmin,
        Role::CustomerResponder,
        Role::CustomerViewer,
    ] {
        let p = user(&t, &format!("{role}@acme.test"), role, Some(a.id)).await;
        let own = ingest(&t, &p, a.id, &path, format).await;
        assert!(
            matches!(own, Err(AppError::Forbidden(_))),
            "{role}: {own:?}"
        );
        let other = ingest(&t, &p, b.id, &path, format).await;
        assert!(
            matches!(other, Err(AppError::NotFound)),
            "{role}: {other:?}"
        );
    }
    // An MSSP engineer not assigned to the tenant does not see it.
    let engineer = user(&t, "eng@mssp.test", Role::MsspEngineer, None).await;
    let r = ingest(&t, &engineer, a.id, &path, format).await;
    assert!(matches!(r, Err(AppError::NotFound)), "{r:?}");
    let r = ingest(&t, &t.operator(), TenantId::new(), &path, format).await;
    assert!(matches!(r, Err(AppError::NotFound)), "{r:?}");
    assert_eq!(found(&t, &t.operator(), None).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stores_what_the_bus_holds_then_refuses_more() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let pipeline = t.app.pipeline();
    let received_at = garrison_core::Clock::now(t.clock.as_ref());
    let line = |i: u64| RawLine {
        id: EventId::new(),
        tenant: a.id,
        source_id: "test:shutdown".to_owned(),
        received_at,
        format: Format::Rfc5424,
        line: format!("<13>1 2026-11-22T21:34:50Z host app {i} - - message {i}"),
        receipt: None,
    };
    for b in 0..10 {
        let batch = (0..100).map(|i| line(b * 100 + i)).collect();
        pipeline.bus().publish(a.id, batch).await.expect("publish");
    }
    pipeline.shutdown().await;
    assert_eq!(found(&t, &t.operator(), Some(a.id)).await, 1000);
    let late = pipeline.bus().publish(a.id, vec![line(0)]).await;
    assert!(late.is_err(), "{late:?}");
    let (path, format) = corpus_files().remove(0);
    let r = ingest(&t, &t.operator(), a.id, &path, format).await;
    assert!(matches!(r, Err(AppError::Unavailable(_))), "{r:?}");
}

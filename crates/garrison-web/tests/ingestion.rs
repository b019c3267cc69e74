//! Observing ingestion and keeping events for their retention, on the real
//! store (SQLite, and PostgreSQL on the second pass): the `/metrics`
//! series per tenant and source after lines went through the pipeline,
//! the MSSP ingestion page (counters, listeners, failed lines escaped,
//! only the tenants one may see), and the retention purge.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use garrison_app::events::ingest::Format;
use garrison_app::events::observe::{ListenerInfo, ListenerKind, ListenerStats};
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_core::{Clock as _, EventId, TenantId};
use garrison_testkit::TestApp;

const GOOD: &str = "<34>1 - fw-01 sshd - - - Accepted password for admin";

/// Publishes `lines` for `tenant` from `source`, received `ago` before
/// now, and waits until they are stored or failed.
async fn ingest(t: &TestApp, tenant: TenantId, source: &str, ago: Duration, lines: &[&str]) {
    let pipeline = t.app.pipeline();
    let receipt = pipeline.receipt();
    let received_at = t.clock.now().minus(ago);
    let batch = lines
        .iter()
        .zip(0..)
        .map(|(line, i)| RawLine {
            id: EventId::new(),
            tenant,
            source_id: source.to_owned(),
            received_at,
            format: Format::Rfc5424,
            line: (*line).to_owned(),
            receipt: Some(receipt.tag(i)),
        })
        .collect();
    pipeline
        .bus()
        .publish(tenant, batch)
        .await
        .expect("publish");
    let counts = receipt.wait_for(lines.len() as u64).await;
    assert_eq!(counts.settled, lines.len() as u64, "{counts:?}");
}

/// Registers a UDP listener for the tenant; its counters are returned so
/// that the test can move them as the listener would.
fn listener(t: &TestApp, tenant: TenantId, id: &str, allow: &[&str]) -> Arc<ListenerStats> {
    let stats = Arc::new(ListenerStats::default());
    t.app.register_listener(ListenerInfo {
        id: id.to_owned(),
        tenant,
        transport: ListenerKind::Udp,
        addr: "127.0.0.1:5514".to_owned(),
        format: Format::Syslog,
        allow: allow.iter().map(|a| (*a).to_owned()).collect(),
        stats: stats.clone(),
    });
    stats
}

/// The value of the one sample line starting with `series` (name and
/// labels).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(|v| v.trim().parse().expect("number"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_per_tenant_and_source_at_scrape_time() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let b = t.tenant("globex").await;
    let udp = listener(&t, a.id, "udp-a", &[]);
    ingest(
        &t,
        a.id,
        "udp-a",
        Duration::from_secs(2),
        &[GOOD, GOOD, "not syslog at all", GOOD],
    )
    .await;
    ingest(&t, b.id, "file:b.log", Duration::ZERO, &[GOOD]).await;
    // What the listener counted before the bus: UDP lines the bus refused
    // and datagrams from outside the allowlist.
    udp.dropped_overload.store(7, Ordering::Relaxed);
    udp.refused_peers.store(2, Ordering::Relaxed);
    udp.frames.store(11, Ordering::Relaxed);

    let r = t.client().get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    let m = &r.body;
    let (ta, tb) = (a.id.to_string(), b.id.to_string());
    let src = |tenant: &str, source: &str| format!("{{tenant=\"{tenant}\",source=\"{source}\"}}");
    let at = |name: &str, labels: &str| {
        sample(m, &format!("garrison_{name}{labels}"))
            .unwrap_or_else(|| panic!("no {name}{labels} in\n{m}"))
    };
    let a_udp = src(&ta, "udp-a");
    assert_eq!(at("ingest_received_lines_total", &a_udp), 4.0);
    assert_eq!(at("ingest_parsed_lines_total", &a_udp), 3.0);
    assert_eq!(at("ingest_failed_lines_total", &a_udp), 1.0);
    assert_eq!(at("ingest_stored_events_total", &a_udp), 3.0);
    assert_eq!(at("ingest_duplicate_events_total", &a_udp), 0.0);
    let b_file = src(&tb, "file:b.log");
    assert_eq!(at("ingest_received_lines_total", &b_file), 1.0);
    assert_eq!(at("ingest_stored_events_total", &b_file), 1.0);
    assert!(
        sample(
            m,
            &format!("garrison_ingest_stored_events_total{}", src(&tb, "udp-a"))
        )
        .is_none(),
        "a source is counted in its own tenant only"
    );
    let dropped =
        |reason: &str| format!("{{tenant=\"{ta}\",source=\"udp-a\",reason=\"{reason}\"}}");
    assert_eq!(at("ingest_dropped_total", &dropped("overload")), 7.0);
    assert_eq!(at("ingest_dropped_total", &dropped("peer_refused")), 2.0);
    assert_eq!(at("ingest_dropped_total", &dropped("overlong")), 0.0);
    let listener = format!("{{tenant=\"{ta}\",source=\"udp-a\",transport=\"udp\"}}");
    assert_eq!(at("ingest_listener_frames_total", &listener), 11.0);
    // Nothing waits on the bus once the receipts are in.
    let tenant_a = format!("{{tenant=\"{ta}\"}}");
    assert_eq!(at("ingest_queue_depth", &tenant_a), 0.0);
    assert_eq!(at("ingest_lag_seconds", &tenant_a), 0.0);
    assert_eq!(at("ingest_queue_capacity", ""), 50_000.0);
    // The three events of A were received two seconds before their
    // commit (the test clock stands still): all in the 2.5 s bucket.
    let bucket = |le: &str| format!("{{le=\"{le}\",tenant=\"{ta}\",source=\"udp-a\"}}");
    assert_eq!(at("ingest_commit_lag_seconds_bucket", &bucket("1.0")), 0.0);
    assert_eq!(at("ingest_commit_lag_seconds_bucket", &bucket("2.5")), 3.0);
    assert_eq!(at("ingest_commit_lag_seconds_bucket", &bucket("+Inf")), 3.0);
    assert_eq!(at("ingest_commit_lag_seconds_count", &a_udp), 3.0);
    assert_eq!(at("ingest_commit_lag_seconds_sum", &a_udp), 6.0);
    // Ids and counters only: no line, no tenant name or slug.
    for secret in ["not syslog", "Accepted password", "acme", "globex"] {
        assert!(!m.contains(secret), "{secret} in /metrics:\n{m}");
    }

    // Computed at scrape time from snapshots: scraping again counts
    // nothing twice, and a new line shows at the next scrape.
    let again = t.client().get("/metrics").await.body;
    assert_eq!(
        sample(
            &again,
            &format!("garrison_ingest_received_lines_total{a_udp}")
        ),
        Some(4.0)
    );
    ingest(&t, a.id, "udp-a", Duration::ZERO, &[GOOD]).await;
    let after = t.client().get("/metrics").await.body;
    assert_eq!(
        sample(
            &after,
            &format!("garrison_ingest_received_lines_total{a_udp}")
        ),
        Some(5.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_token_guards_the_ingestion_series_too() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    ingest(&t, a.id, "udp-a", Duration::ZERO, &[GOOD]).await;
    let web = garrison_web::WebConfig {
        metrics_token: Some(garrison_core::Secret::new("scrape-me".to_owned())),
        ..t.web_config().clone()
    };
    let router = garrison_web::router(garrison_web::WebState::new(t.app.clone(), web));
    let send = |auth: Option<&str>| {
        let mut req = axum::http::Request::builder().uri("/metrics");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let mut req = req.body(axum::body::Body::empty()).expect("request");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))));
        let router = router.clone();
        async move {
            use tower::ServiceExt as _;
            let resp = router.oneshot(req).await.expect("router");
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .expect("body");
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let (status, body) = send(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains(&a.id.to_string()));
    let (status, body) = send(Some("Bearer scrape-me")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("tenant=\"{}\"", a.id)), "{body}");
}

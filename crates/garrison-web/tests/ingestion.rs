//! Observing ingestion and keeping events for their retention, on the real
//! store (SQLite, and PostgreSQL on the second pass): the `/metrics`
//! series per tenant and source after lines went through the pipeline,
//! the MSSP ingestion page (counters, listeners, failed lines escaped,
//! only the tenants one may see), and the retention purge.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use garrison_app::AppError;
use garrison_app::events::ingest::Format;
use garrison_app::events::observe::{ListenerInfo, ListenerKind, ListenerStats};
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_core::event::{Event, Fields};
use garrison_core::model::Tenant;
use garrison_core::{Clock as _, EventId, Principal, Role, TenantId};
use garrison_store::{AuditQuery, EventQuery, MAX_EVENT_PAGE};
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

/// An MSSP user of `role`, signed in and assigned to `tenants`.
async fn staff(
    t: &TestApp,
    email: &str,
    role: Role,
    tenants: &[&Tenant],
) -> garrison_testkit::SignedIn {
    let s = t.signed_in(email, role, None).await;
    for tenant in tenants {
        t.app
            .assign_staff(&t.operator(), s.user.id, tenant.id)
            .await
            .expect("assign");
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_counters_listeners_and_failed_lines_escaped() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    listener(&t, a.id, "fw-udp", &["192.0.2.0/24"]);
    let hostile = "<script>alert('pwned')</script> & \"quotes\"";
    ingest(&t, a.id, "fw-udp", Duration::ZERO, &[GOOD, hostile]).await;
    let engineer = staff(&t, "eng@mssp.test", Role::MsspEngineer, &[&a]).await;

    let r = engineer.client.get("/ingestion").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = &r.body;
    assert!(
        body.contains("href=\"/ingestion\""),
        "linked in the navigation"
    );
    assert!(body.contains("acme Ltd"));
    assert!(body.contains("fw-udp"));
    assert!(body.contains("udp 127.0.0.1:5514"), "{body}");
    assert!(body.contains("192.0.2.0/24"), "the allowlist is shown");
    assert!(body.contains("90 days"), "the retention is shown");
    // The failed line and its reason, escaped.
    assert!(
        body.contains(
            "&#60;script&#62;alert(&#39;pwned&#39;)&#60;/script&#62; &#38; &#34;quotes&#34;"
        ) || body.contains(
            "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;"
        ),
        "{body}"
    );
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(
        body.contains("rfc5424: "),
        "the reason names the parser: {body}"
    );

    // One tenant by id; an invalid or invisible one is not found.
    let r = engineer
        .client
        .get(&format!("/ingestion?tenant={}", a.id))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = engineer.client.get("/ingestion?tenant=nonsense").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_of_one_tenant_see_nothing_of_another() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let b = t.tenant("globex").await;
    listener(&t, a.id, "acme-udp", &[]);
    listener(&t, b.id, "globex-udp", &["198.51.100.0/24"]);
    ingest(
        &t,
        a.id,
        "acme-udp",
        Duration::ZERO,
        &[GOOD, "acme broken line"],
    )
    .await;
    ingest(
        &t,
        b.id,
        "globex-udp",
        Duration::ZERO,
        &[GOOD, "globex secret line"],
    )
    .await;
    ingest(&t, b.id, "file:globex.log", Duration::ZERO, &[GOOD]).await;

    let analyst = staff(&t, "analyst@mssp.test", Role::MsspAnalyst, &[&a]).await;
    let page = analyst.client.get("/ingestion").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("acme broken line"));
    assert!(page.body.contains("acme-udp"));
    for b_marker in [
        b.id.to_string(),
        b.name.clone(),
        "globex".to_owned(),
        "198.51.100.0/24".to_owned(),
    ] {
        assert!(
            !page.body.contains(&b_marker),
            "tenant B's {b_marker} on the page of a user of A only"
        );
    }
    let other = analyst
        .client
        .get(&format!("/ingestion?tenant={}", b.id))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(!other.body.contains("globex"));

    // The MSSP admin sees both; customers have no such page, not even for
    // their own tenant, and no link to it.
    let admin = staff(&t, "root@mssp.test", Role::MsspAdmin, &[]).await;
    let page = admin.client.get("/ingestion").await;
    assert!(page.body.contains("acme broken line") && page.body.contains("globex secret line"));
    let customer = t
        .signed_in("it@acme.test", Role::CustomerAdmin, Some(a.id))
        .await;
    let r = customer.client.get("/ingestion").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("acme broken line"));
    let home = customer.client.get("/").await;
    assert!(!home.body.contains("href=\"/ingestion\""));
    let r = customer
        .client
        .get(&format!("/ingestion?tenant={}", b.id))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Stores one event of the tenant, `days` old.
async fn event_aged(t: &TestApp, tenant: TenantId, days: u64) -> EventId {
    let now = t.clock.now();
    let e = Event {
        id: EventId::new(),
        tenant_id: tenant,
        timestamp: now.minus(Duration::from_secs(days * 86_400)),
        received_at: now,
        source_id: "test".to_owned(),
        parser: "rfc5424".to_owned(),
        severity: 10,
        fields: Fields::new(),
        original: format!("{days} days old"),
    };
    assert_eq!(
        t.store
            .insert_events(std::slice::from_ref(&e))
            .await
            .expect("insert"),
        1
    );
    e.id
}

async fn remaining(t: &TestApp, tenant: TenantId) -> Vec<String> {
    let q = EventQuery {
        tenant: Some(tenant),
        from: Some(garrison_core::Timestamp::from_millis(0)),
        until: Some(t.clock.now().plus(Duration::from_secs(1))),
        limit: MAX_EVENT_PAGE,
        ..EventQuery::default()
    };
    let mut left: Vec<String> = t
        .store
        .search_events(&t.operator().access(), &q)
        .await
        .expect("search")
        .items
        .into_iter()
        .map(|e| e.original)
        .collect();
    left.sort();
    left
}

async fn purge_records(t: &TestApp) -> Vec<garrison_core::audit::AuditRecord> {
    let q = AuditQuery {
        before_seq: None,
        limit: 1000,
        tenant: None,
    };
    t.app
        .list_audit(&t.operator(), &q)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action == "events.purged")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_keeps_each_tenants_events_for_its_own_retention() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let b = t.tenant("globex").await;
    let op = t.operator();
    t.app
        .set_event_retention_days(&op, a.id, 30)
        .await
        .expect("retention");
    assert_eq!(t.app.event_retention_days(&op, a.id).await.expect("a"), 30);
    assert_eq!(t.app.event_retention_days(&op, b.id).await.expect("b"), 90);
    for tenant in [a.id, b.id] {
        for days in [1, 29, 31, 89, 91] {
            event_aged(&t, tenant, days).await;
        }
    }

    let summary = t.app.purge_expired_events(&op, None).await.expect("purge");
    assert_eq!(summary.purged, 4, "{summary:?}");
    assert_eq!(summary.failed, 0);
    let of = |id: TenantId| {
        summary
            .tenants
            .iter()
            .find(|p| p.tenant == id)
            .expect("tenant in summary")
    };
    assert_eq!((of(a.id).days, of(a.id).purged), (30, 3));
    assert_eq!((of(b.id).days, of(b.id).purged), (90, 1));
    assert_eq!(
        remaining(&t, a.id).await,
        ["1 days old", "29 days old"],
        "A keeps 30 days"
    );
    assert_eq!(
        remaining(&t, b.id).await,
        ["1 days old", "29 days old", "31 days old", "89 days old"],
        "B keeps the default 90"
    );
    let records = purge_records(&t).await;
    assert_eq!(records.len(), 2, "one record per tenant that lost events");
    let for_a = records
        .iter()
        .find(|r| r.tenant_id == Some(a.id))
        .expect("A's record");
    assert!(for_a.details.contains("\"purged\":3"), "{}", for_a.details);
    assert!(for_a.details.contains("\"retention_days\":30"));

    // Again: nothing is old enough, and nothing is audited.
    let again = t.app.purge_expired_events(&op, None).await.expect("again");
    assert_eq!(again.purged, 0);
    assert_eq!(purge_records(&t).await.len(), 2);

    // Two days later, one tenant at a time.
    t.clock.advance(Duration::from_secs(2 * 86_400));
    let only_b = t
        .app
        .purge_expired_events(&op, Some(b.id))
        .await
        .expect("b only");
    assert_eq!(only_b.tenants.len(), 1);
    assert_eq!(only_b.purged, 1, "B's 89-day event is 91 days old now");
    assert_eq!(remaining(&t, a.id).await.len(), 2, "A untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_and_purge_respect_roles_and_tenants() {
    let t = TestApp::new().await;
    let a = t.tenant("acme").await;
    let b = t.tenant("globex").await;
    let user = |email: &'static str, role: Role, tenant: Option<TenantId>| {
        let t = &t;
        async move {
            let (u, _) = t.user(email, role, tenant).await;
            Principal::authenticated(
                u.id,
                u.email,
                u.role,
                u.tenant_id,
                [],
                garrison_core::tenancy::AuthMethod::System,
            )
            .expect("principal")
        }
    };
    let viewer = user("viewer@acme.test", Role::CustomerViewer, Some(a.id)).await;
    let admin_a = user("admin@acme.test", Role::CustomerAdmin, Some(a.id)).await;
    event_aged(&t, b.id, 200).await;

    assert!(matches!(
        t.app.purge_expired_events(&viewer, None).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        t.app.set_event_retention_days(&viewer, a.id, 10).await,
        Err(AppError::Forbidden(_))
    ));
    // Another tenant is not found, whatever the role.
    for p in [&viewer, &admin_a] {
        assert!(matches!(
            t.app.purge_expired_events(p, Some(b.id)).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            t.app.set_event_retention_days(p, b.id, 10).await,
            Err(AppError::NotFound)
        ));
    }
    // A customer admin's purge covers their own tenant only.
    let own = t
        .app
        .purge_expired_events(&admin_a, None)
        .await
        .expect("own");
    assert_eq!(own.tenants.len(), 1);
    assert_eq!(own.tenants[0].tenant, a.id);
    assert_eq!(remaining(&t, b.id).await.len(), 1, "B untouched");
    for days in [0, 3651] {
        assert!(matches!(
            t.app
                .set_event_retention_days(&t.operator(), a.id, days)
                .await,
            Err(AppError::Invalid(_))
        ));
    }
    t.app
        .set_event_retention_days(&admin_a, a.id, 3650)
        .await
        .expect("ten years");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_is_set_through_the_api_and_the_tenant_page() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    t.user("admin@alpha.test", Role::CustomerAdmin, Some(a.id))
        .await;
    t.user("viewer@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    let admin = t
        .client()
        .with_bearer(&t.token_for("admin@alpha.test").await);
    let viewer = t
        .client()
        .with_bearer(&t.token_for("viewer@alpha.test").await);
    let path = format!("/api/v1/tenants/{}/event-retention", a.id);

    assert_eq!(admin.get(&path).await.json()["days"], 90, "the default");
    let r = admin
        .api(
            axum::http::Method::PUT,
            &path,
            Some(serde_json::json!({"days": 30})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["days"], 30);
    assert_eq!(
        viewer.get(&path).await.json()["days"],
        30,
        "everyone reads it"
    );
    for bad in [0, 3651] {
        let r = admin
            .api(
                axum::http::Method::PUT,
                &path,
                Some(serde_json::json!({"days": bad})),
            )
            .await;
        assert_eq!(r.status, 422, "{bad} days: {}", r.body);
    }
    let r = viewer
        .api(
            axum::http::Method::PUT,
            &path,
            Some(serde_json::json!({"days": 5})),
        )
        .await;
    assert_eq!(r.status, 403);
    // Another tenant's retention is invisible and untouched.
    let other = format!("/api/v1/tenants/{}/event-retention", b.id);
    assert_eq!(admin.get(&other).await.status, 404);
    let r = admin
        .api(
            axum::http::Method::PUT,
            &other,
            Some(serde_json::json!({"days": 1})),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        t.app
            .event_retention_days(&t.operator(), b.id)
            .await
            .expect("b"),
        90
    );

    // The tenant page shows it and its form sets it.
    let page_admin = t
        .signed_in("page@alpha.test", Role::CustomerAdmin, Some(a.id))
        .await;
    let page = page_admin.client.get(&format!("/tenants/{}", a.id)).await;
    assert_eq!(page.text_of("retention-days"), "30");
    let r = page_admin
        .client
        .post_form(
            &format!("/tenants/{}/event-retention", a.id),
            &[("csrf", &page_admin.csrf), ("days", "400")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        t.app
            .event_retention_days(&t.operator(), a.id)
            .await
            .expect("a"),
        400
    );
    let r = page_admin
        .client
        .post_form(
            &format!("/tenants/{}/event-retention", a.id),
            &[("csrf", &page_admin.csrf), ("days", "forever")],
        )
        .await;
    assert_eq!(r.status, 422, "named on the page");
    assert!(r.body.contains("1 to 3650"), "{}", r.body);
}

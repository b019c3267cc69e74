//! The live view: server-sent event streams of stored events on the
//! portal and the API, kept to the caller's tenants and filters, and the
//! event pages, which show attacker-controlled text as text.
//!
//! Lines go through the real pipeline (bus, parser, store, live feed);
//! each publication waits for its receipt, which is answered only after
//! the batch was offered to the live feed, so "read until B's last
//! marker" has read everything sent before it. No check depends on
//! timing: deadlines only keep a broken test from hanging.

use std::time::Duration;

use garrison_app::events::ingest::Format;
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_core::event::{Event, Fields, Value};
use garrison_core::{Clock, EventId, Role, TenantId};
use garrison_testkit::html::unescape;
use garrison_testkit::{TestApp, TestStream, urlencode};

/// A guard against a hanging test, not a timing requirement.
const DEADLINE: Duration = Duration::from_secs(20);

/// A CEF line: `marker` is the event name, with a source address and user.
fn cef(marker: &str, user: &str, src: &str) -> String {
    format!("CEF:0|Garrison|Test|1.0|100|{marker}|5|src={src} suser={user}")
}

/// Publishes lines for a tenant through the pipeline and waits until they
/// are stored (and offered to the live feed).
async fn publish(t: &TestApp, tenant: TenantId, lines: &[String]) {
    let pipeline = t.app.pipeline();
    let receipt = pipeline.receipt();
    let received_at = t.clock.now();
    let batch: Vec<RawLine> = lines
        .iter()
        .zip(1_u64..)
        .map(|(line, n)| RawLine {
            id: EventId::new(),
            tenant,
            source_id: "test:live".to_owned(),
            received_at,
            format: Format::Auto,
            line: line.clone(),
            receipt: Some(receipt.tag(n)),
        })
        .collect();
    pipeline
        .bus()
        .publish_wait(tenant, batch)
        .await
        .expect("publish");
    let counts = receipt.wait_for(lines.len() as u64).await;
    assert_eq!(counts.stored, lines.len() as u64, "{counts:?}");
}

async fn opened(label: &str, mut s: TestStream) -> TestStream {
    assert_eq!(s.status, 200, "{label}: {}", s.text);
    assert_eq!(
        s.header("content-type"),
        Some("text/event-stream"),
        "{label}"
    );
    assert!(
        s.read_until("event: ready", DEADLINE).await,
        "{label}: no ready event: {}",
        s.text
    );
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_b_never_sees_tenant_a_events_in_the_live_stream() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    let op = t.operator();
    let viewer = t
        .signed_in("viewer@bravo.test", Role::CustomerViewer, Some(b.id))
        .await;
    let viewer_api = t
        .client()
        .with_bearer(&t.token_for("viewer@bravo.test").await);
    let analyst = t
        .signed_in("analyst@mssp.test", Role::MsspAnalyst, None)
        .await;
    t.app
        .assign_staff(&op, analyst.user.id, b.id)
        .await
        .expect("assign");
    let admin = t.signed_in("admin@mssp.test", Role::MsspAdmin, None).await;
    let admin_api = t
        .client()
        .with_bearer(&t.token_for("admin@mssp.test").await);

    // Everyone who watches tenant B, each in their own way.
    let mut b_watchers = vec![
        (
            "customer, portal",
            opened(
                "customer, portal",
                viewer.client.open("/events/stream").await,
            )
            .await,
        ),
        (
            "customer, API",
            opened(
                "customer, API",
                viewer_api.open("/api/v1/events/stream").await,
            )
            .await,
        ),
        (
            "analyst of B, every tenant he sees",
            opened("analyst", analyst.client.open("/events/stream").await).await,
        ),
        (
            "MSSP admin, B named",
            opened(
                "admin, B",
                admin
                    .client
                    .open(&format!("/events/stream?tenant={}", b.id))
                    .await,
            )
            .await,
        ),
        (
            "MSSP admin, API, B named",
            opened(
                "admin API, B",
                admin_api
                    .open(&format!("/api/v1/events/stream?tenant={}", b.id))
                    .await,
            )
            .await,
        ),
    ];
    // The MSSP admin watching every tenant, for contrast.
    let mut everything = opened("admin, all", admin.client.open("/events/stream").await).await;

    publish(
        &t,
        a.id,
        &[
            cef("alpha-secret-1", "alice", "10.1.0.1"),
            cef("alpha-secret-2", "bob", "10.2.0.1"),
        ],
    )
    .await;
    publish(
        &t,
        b.id,
        &[
            cef("bravo-visible-1", "bob", "10.2.0.2"),
            cef("bravo-visible-2", "carol", "10.3.0.2"),
        ],
    )
    .await;
    publish(&t, a.id, &[cef("alpha-secret-3", "bob", "10.2.0.3")]).await;
    publish(&t, b.id, &[cef("bravo-visible-3", "bob", "10.2.0.4")]).await;

    for (label, s) in &mut b_watchers {
        assert!(
            s.read_until("bravo-visible-3", DEADLINE).await,
            "{label}: B's events did not arrive: {}",
            s.text
        );
        for marker in ["bravo-visible-1", "bravo-visible-2"] {
            assert!(s.text.contains(marker), "{label}: {marker} missing");
        }
        assert!(
            !s.text.contains("alpha-secret") && !s.text.contains(&a.id.to_string()),
            "{label} received tenant A's event: {}",
            s.text
        );
        assert!(!s.text.contains("event: lagged"), "{label}: {}", s.text);
    }
    assert!(everything.read_until("bravo-visible-3", DEADLINE).await);
    for marker in ["alpha-secret-1", "alpha-secret-3", "bravo-visible-2"] {
        assert!(
            everything.text.contains(marker),
            "the admin watching every tenant sees {marker}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_stream_applies_its_filters_as_the_search_does() {
    let t = TestApp::new().await;
    let b = t.tenant("bravo").await;
    let viewer = t
        .signed_in("viewer@bravo.test", Role::CustomerViewer, Some(b.id))
        .await;
    let api = t
        .client()
        .with_bearer(&t.token_for("viewer@bravo.test").await);
    let filtered = format!(
        "/events/stream?f={}&filters={}",
        urlencode("user.name=bob"),
        urlencode("ip=10.0.0.0/8\nseverity>=0")
    );
    let mut portal = opened("portal", viewer.client.open(&filtered).await).await;
    let mut text = opened(
        "api",
        api.open("/api/v1/events/stream?q=KEEP&f=parser%3Dcef")
            .await,
    )
    .await;

    let lines = [
        cef("keep-1", "bob", "10.1.1.1"),
        cef("drop-user", "alice", "10.1.1.1"),
        cef("drop-address", "bob", "192.168.1.1"),
        cef("other-2", "bobby", "10.1.1.2"),
        cef("keep-2", "bob", "10.2.2.2"),
    ];
    publish(&t, b.id, &lines).await;

    assert!(
        portal.read_until("keep-2", DEADLINE).await,
        "{}",
        portal.text
    );
    assert!(portal.text.contains("keep-1"));
    for dropped in ["drop-user", "drop-address", "other-2"] {
        assert!(
            !portal.text.contains(dropped),
            "{dropped} passed the filter: {}",
            portal.text
        );
    }
    assert!(text.read_until("keep-2", DEADLINE).await, "{}", text.text);
    assert!(text.text.contains("keep-1"));
    assert!(!text.text.contains("drop-") && !text.text.contains("other-2"));

    // The same filters find the same events in the search (whose window
    // ends before now: move the test clock on).
    t.clock.advance(Duration::from_secs(1));
    let r = api
        .get("/api/v1/events?f=user.name%3Dbob&f=ip%3D10.0.0.0%2F8")
        .await;
    let found: Vec<String> = r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["original"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|o| o.contains("|keep-")), "{found:?}");

    // Bad filters are refused before any stream starts, naming the
    // parameter; another tenant is not found.
    let bad = viewer
        .client
        .get("/events/stream?f=ip%3D10.0.0.0%2F33")
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let bad = api.get("/api/v1/events/stream?f=nothing").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.json()["error"]["field"], "f", "{}", bad.body);
    let bad = api.get("/api/v1/events/stream?from=2026-01-01").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let other = api
        .get(&format!("/api/v1/events/stream?tenant={}", TenantId::new()))
        .await;
    assert_eq!(other.status, 404, "{}", other.body);
}

/// An event with markup in its fields, a field name and the message.
fn hostile(tenant: TenantId, at: garrison_core::Timestamp) -> Event {
    let mut fields = Fields::new();
    fields.set("user.name", Value::from("<script>alert('user')</script>"));
    fields.set(
        "<img src=x onerror=alert(1)>",
        Value::from("\"><b>bold</b>"),
    );
    fields.set("url.full", Value::from("javascript:alert(1)"));
    fields.set("source.ip", Value::Ip("10.9.9.9".parse().expect("ip")));
    Event {
        id: EventId::new(),
        tenant_id: tenant,
        timestamp: at,
        received_at: at,
        source_id: "<i>source</i>".to_owned(),
        parser: "json".to_owned(),
        severity: 70,
        fields,
        original: "<script>alert(document.cookie)</script><img src=x onerror=alert(2)> & \"q\" 'a'"
            .to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_events_reaches_the_pages_as_text_only() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    let e = hostile(a.id, t.clock.now().minus(Duration::from_secs(60)));
    let other = hostile(b.id, t.clock.now().minus(Duration::from_secs(60)));
    t.store
        .insert_events(&[e.clone(), other.clone()])
        .await
        .expect("insert");
    let viewer = t
        .signed_in("viewer@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;

    let page = viewer
        .client
        .get(&format!("/tenants/{}/events/{}", a.id, e.id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("content-security-policy").is_some());
    for markup in ["<script>alert", "<img src=x", "<b>bold", "<i>source"] {
        assert!(
            !page.body.contains(markup),
            "{markup} reached the event page as markup"
        );
    }
    let text = unescape(&page.body);
    assert!(
        text.contains("<script>alert(document.cookie)</script>"),
        "the message is shown, escaped: {}",
        page.body
    );
    assert_eq!(
        page.text_of("original"),
        e.original,
        "the original message is shown exactly"
    );
    assert!(
        text.contains("<img src=x onerror=alert(1)>"),
        "the field name"
    );
    assert!(text.contains("\"><b>bold</b>"), "the value");
    assert!(page.body.contains("10.9.9.9"));
    // Links to filter on a value carry it percent-encoded.
    assert!(
        page.body
            .contains("f=user.name%3D%3Cscript%3Ealert%28%27user%27%29%3C%2Fscript%3E"),
        "{}",
        page.body
    );

    let list = viewer.client.get("/events").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&e.id.to_string()), "{}", list.body);
    assert!(
        !list.body.contains(&other.id.to_string()),
        "B's event listed"
    );
    for markup in ["<script>alert", "<img src=x", "<i>source"] {
        assert!(!list.body.contains(markup), "{markup} in the list");
    }
    assert!(list.body.contains("data-stream=\"/events/stream?"));
    assert!(list.body.contains("<script src=\"/static/events.js\""));

    // Another tenant's event is not found, even under one's own tenant.
    for path in [
        format!("/tenants/{}/events/{}", a.id, other.id),
        format!("/tenants/{}/events/{}", b.id, other.id),
        format!("/tenants/{}/events/{}", b.id, e.id),
    ] {
        let r = viewer.client.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("alert("), "{path}");
    }
    let admin = t.signed_in("admin@mssp.test", Role::MsspAdmin, None).await;
    let r = admin
        .client
        .get(&format!("/tenants/{}/events/{}", a.id, other.id))
        .await;
    assert_eq!(r.status, 404, "an event is shown under its own tenant only");

    // The live rows are written by a script that never parses markup.
    let js = viewer.client.get("/static/events.js").await;
    assert_eq!(js.status, 200);
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!js.body.contains(sink), "events.js uses {sink}");
    }
    assert!(js.body.contains("textContent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_event_arrives_as_the_row_the_list_shows() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let viewer = t
        .signed_in("viewer@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    let mut s = opened("portal", viewer.client.open("/events/stream").await).await;
    publish(&t, a.id, &[cef("<script>row</script>", "bob", "10.1.1.1")]).await;
    assert!(s.read_until("event: event", DEADLINE).await);
    assert!(s.read_until("\n\n", DEADLINE).await);
    let data = s
        .text
        .split("event: event\ndata: ")
        .nth(1)
        .and_then(|rest| rest.split('\n').next())
        .expect("data");
    let row: serde_json::Value = serde_json::from_str(data).expect("json");
    assert_eq!(row["severity"], 50, "{row}");
    assert_eq!(row["level"], "medium", "{row}");
    assert_eq!(row["parser"], "cef", "{row}");
    assert_eq!(row["source"], "test:live", "{row}");
    assert!(
        row["summary"]
            .as_str()
            .is_some_and(|s| s.contains("10.1.1.1") && s.contains("bob")),
        "{row}"
    );
    assert!(
        row["message"]
            .as_str()
            .is_some_and(|m| m.contains("<script>row</script>")),
        "JSON carries the text as it is; the script writes it as text: {row}"
    );
    let id = row["id"].as_str().expect("id");
    assert_eq!(
        row["url"],
        format!("/tenants/{}/events/{id}", a.id),
        "{row}"
    );
    let page = viewer.client.get(row["url"].as_str().expect("url")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>row"));
    assert!(unescape(&page.body).contains("<script>row</script>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_caller_loses_the_right_to_it() {
    let mut t = TestApp::new().await;
    // Authenticate streams again every few milliseconds instead of every
    // 30 seconds, so the test does not wait.
    let config = garrison_web::WebConfig {
        live_recheck: Duration::from_millis(20),
        ..t.web_config().clone()
    };
    t.router = garrison_web::router(garrison_web::WebState::new(t.app.clone(), config));
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    let op = t.operator();

    let (api_user, _) = t
        .user("api@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    let token = t
        .app
        .create_token_for(&op, &api_user.email, "live", None)
        .await
        .expect("token");
    let api = t.client().with_bearer(token.secret.expose());
    let leaving = t
        .signed_in("leaving@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    let moved = t
        .signed_in("moved@mssp.test", Role::MsspAnalyst, None)
        .await;
    let widened = t
        .signed_in("widened@mssp.test", Role::MsspAnalyst, None)
        .await;
    for analyst in [&moved, &widened] {
        t.app
            .assign_staff(&op, analyst.user.id, a.id)
            .await
            .expect("assign");
    }
    let staying = t
        .signed_in("staying@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;

    let mut revoked = opened("token", api.open("/api/v1/events/stream").await).await;
    let mut logged_out = opened("session", leaving.client.open("/events/stream").await).await;
    let tenant_a = format!("/events/stream?tenant={}", a.id);
    let mut unassigned = opened("unassigned", moved.client.open(&tenant_a).await).await;
    let mut more = opened("more tenants", widened.client.open("/events/stream").await).await;
    let mut kept = opened("kept", staying.client.open("/events/stream").await).await;

    t.app
        .revoke_token(&op, Some(api_user.id), token.token.id)
        .await
        .expect("revoke");
    let r = leaving
        .client
        .post_form("/logout", &[("csrf", &leaving.csrf)])
        .await;
    assert_eq!(r.status, 303);
    t.app
        .unassign_staff(&op, moved.user.id, a.id)
        .await
        .expect("unassign");
    t.app
        .assign_staff(&op, widened.user.id, b.id)
        .await
        .expect("assign");

    for (label, s) in [
        ("revoked token", &mut revoked),
        ("logged out", &mut logged_out),
        ("unassigned analyst", &mut unassigned),
        ("analyst given another tenant", &mut more),
    ] {
        s.read_until("event: event", DEADLINE).await;
        assert!(s.ended, "{label}: the stream did not end: {}", s.text);
    }
    publish(&t, a.id, &[cef("still-watched", "bob", "10.1.1.1")]).await;
    assert!(
        kept.read_until("still-watched", DEADLINE).await,
        "a caller whose rights did not change keeps the stream: {}",
        kept.text
    );
    assert!(!kept.ended);

    // Reconnecting gets what each may have now.
    assert_eq!(api.get("/api/v1/events/stream").await.status, 401);
    let r = leaving.client.get("/events/stream").await;
    assert_eq!(r.status, 303, "to the login page");
    assert_eq!(moved.client.get(&tenant_a).await.status, 404);
    let mut again = opened("widened again", widened.client.open("/events/stream").await).await;
    publish(&t, b.id, &[cef("bravo-now-visible", "bob", "10.1.1.2")]).await;
    assert!(again.read_until("bravo-now-visible", DEADLINE).await);
}

#[tokio::test]
async fn an_open_live_page_does_not_keep_an_unattended_session_alive() {
    let mut t = TestApp::new().await;
    let config = garrison_web::WebConfig {
        live_recheck: Duration::from_millis(20),
        ..t.web_config().clone()
    };
    t.router = garrison_web::router(garrison_web::WebState::new(t.app.clone(), config));
    let a = t.tenant("alpha").await;
    let watcher = t
        .signed_in("wall@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    let mut stream = opened("wall", watcher.client.open("/events/stream").await).await;
    // Three steps of ten minutes or so: each is followed by many
    // re-checks of the session, none of which counts as activity, so the
    // idle timeout (30 minutes) ends the session and the stream.
    for minutes in [10, 10] {
        t.clock.advance(Duration::from_secs(minutes * 60));
        // Reading the stream for a moment lets it re-check many times.
        stream
            .read_until("never sent", Duration::from_millis(300))
            .await;
        assert!(!stream.ended, "still within the idle timeout");
    }
    t.clock.advance(Duration::from_secs(11 * 60));
    stream.read_until("event: event", DEADLINE).await;
    assert!(stream.ended, "the session idled out: {}", stream.text);
    let r = watcher.client.get("/events").await;
    assert_eq!(r.status, 303, "signed out");
}

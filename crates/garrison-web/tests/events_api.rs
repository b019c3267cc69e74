//! The events API end to end on the real store (SQLite, and PostgreSQL
//! with `GARRISON_TEST_BACKEND=postgres`): time windows, every filter
//! form, cursor pagination, counts, bad input named by its parameter,
//! hostile text returned unchanged, and tenant isolation.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use garrison_core::event::{Event, Fields, Value};
use garrison_core::model::Tenant;
use garrison_core::{Clock as _, EventId, Role, TenantId, Timestamp};
use garrison_testkit::{TestApp, TestClient, TestResponse, urlencode};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

struct Fx {
    t: TestApp,
    a: Tenant,
    b: Tenant,
    /// The MSSP admin.
    admin: TestClient,
    /// A customer viewer of tenant B.
    viewer_b: TestClient,
    now: Timestamp,
}

async fn fixture() -> Fx {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    t.user("root@mssp.test", Role::MsspAdmin, None).await;
    t.user("viewer@bravo.test", Role::CustomerViewer, Some(b.id))
        .await;
    let admin = t.client().with_bearer(&t.token_for("root@mssp.test").await);
    let viewer_b = t
        .client()
        .with_bearer(&t.token_for("viewer@bravo.test").await);
    let now = t.clock.now();
    Fx {
        t,
        a,
        b,
        admin,
        viewer_b,
        now,
    }
}

/// An event of `tenant` at `ts` with the given fields.
fn event(tenant: TenantId, ts: Timestamp, fields: &[(&'static str, Value)]) -> Event {
    let mut f = Fields::new();
    for (name, value) in fields {
        f.set(*name, value.clone());
    }
    Event {
        id: EventId::new(),
        tenant_id: tenant,
        timestamp: ts,
        received_at: ts,
        source_id: "test".to_owned(),
        parser: "rfc5424".to_owned(),
        severity: 20,
        fields: f,
        original: "<34>1 - host app - - - hello".to_owned(),
    }
}

fn ip(s: &str) -> Value {
    Value::Ip(s.parse().expect("ip"))
}

fn text(s: &str) -> Value {
    Value::Str(s.to_owned())
}

impl Fx {
    async fn insert(&self, events: &[Event]) {
        let n = self.t.store.insert_events(events).await.expect("insert");
        assert_eq!(n, events.len() as u64);
    }

    fn ago(&self, d: Duration) -> Timestamp {
        self.now.minus(d)
    }
}

fn time(t: Timestamp) -> String {
    urlencode(&t.to_rfc3339())
}

/// The ids of a page's events, in order.
fn ids(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

fn id_set(events: &[&Event]) -> BTreeSet<String> {
    events.iter().map(|e| e.id.to_string()).collect()
}

async fn get(c: &TestClient, path: &str) -> TestResponse {
    c.api(Method::GET, path, None).await
}

/// Asserts a 422 `invalid` naming `field`.
fn assert_invalid(r: &TestResponse, field: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let e = r.json();
    assert_eq!(e["error"]["code"], "invalid", "{}", r.body);
    assert_eq!(e["error"]["field"], field, "{}", r.body);
}

#[tokio::test]
async fn searches_cover_the_last_day_unless_told_otherwise() {
    let fx = fixture().await;
    let a = fx.a.id;
    let recent = event(a, fx.ago(HOUR), &[]);
    let yesterday = event(a, fx.ago(DAY + HOUR), &[]);
    let old = event(a, fx.ago(DAY * 20), &[]);
    let future = event(a, fx.now.plus(HOUR), &[]);
    fx.insert(&[
        recent.clone(),
        yesterday.clone(),
        old.clone(),
        future.clone(),
    ])
    .await;
    let base = format!("/api/v1/events?tenant={a}");

    let r = get(&fx.admin, &base).await;
    assert_eq!(ids(&r), [recent.id.to_string()]);
    assert_eq!(r.json()["total"], 1);
    assert!(r.json()["next_cursor"].is_null());

    // The JSON shape of one event.
    let e = &r.json()["items"][0];
    assert_eq!(e["@timestamp"], recent.timestamp.to_rfc3339());
    assert_eq!(e["tenant_id"], a.to_string());
    assert_eq!(e["parser"], "rfc5424");
    assert_eq!(e["original"], recent.original);
    assert!(e["fields"].is_object());

    let from = time(fx.ago(DAY * 2));
    let r = get(&fx.admin, &format!("{base}&from={from}")).await;
    assert_eq!(
        ids(&r),
        [recent.id.to_string(), yesterday.id.to_string()],
        "newest first"
    );

    let from = time(fx.ago(DAY * 30));
    let until = time(fx.ago(DAY));
    let r = get(&fx.admin, &format!("{base}&from={from}&until={until}")).await;
    assert_eq!(ids(&r), [yesterday.id.to_string(), old.id.to_string()]);

    // `until` is exclusive, `from` inclusive.
    let r = get(
        &fx.admin,
        &format!(
            "{base}&from={}&until={}",
            time(old.timestamp),
            time(yesterday.timestamp)
        ),
    )
    .await;
    assert_eq!(ids(&r), [old.id.to_string()]);

    // A window in the future is allowed; one of exactly 31 days too.
    let r = get(
        &fx.admin,
        &format!(
            "{base}&from={}&until={}",
            time(fx.now),
            time(fx.now.plus(DAY))
        ),
    )
    .await;
    assert_eq!(ids(&r), [future.id.to_string()]);
    let r = get(
        &fx.admin,
        &format!("{base}&from={}", time(fx.ago(DAY * 31))),
    )
    .await;
    assert_eq!(ids(&r).len(), 3);

    // Without a tenant: every tenant the caller sees.
    let r = get(&fx.admin, "/api/v1/events").await;
    assert_eq!(ids(&r), [recent.id.to_string()]);
}

#[tokio::test]
async fn every_filter_form_selects_what_it_says() {
    let fx = fixture().await;
    let a = fx.a.id;
    let t = fx.ago(HOUR);
    let mut ssh = event(
        a,
        t,
        &[
            ("source.ip", ip("10.1.2.3")),
            ("destination.ip", ip("192.168.7.9")),
            ("user.name", text("Alice")),
            ("event.action", text("ssh_login_failed")),
            ("destination.port", Value::Int(22)),
        ],
    );
    ssh.original = "Failed password for alice from 10.1.2.3".to_owned();
    ssh.severity = 70;
    let mut web = event(
        a,
        t.minus(Duration::from_secs(1)),
        &[
            ("source.ip", ip("2001:db8::5")),
            ("destination.ip", ip("10.1.9.9")),
            ("url.original", text("/Admin/Login.php")),
            ("destination.port", Value::Int(443)),
        ],
    );
    web.parser = "cef".to_owned();
    web.severity = 40;
    web.original = "CEF:0|Acme|WAF|1|100|blocked|5|".to_owned();
    let plain = event(
        a,
        t.minus(Duration::from_secs(2)),
        &[("user.name", text("bob"))],
    );
    fx.insert(&[ssh.clone(), web.clone(), plain.clone()]).await;

    let cases: &[(&str, Vec<&Event>)] = &[
        ("user.name=Alice", vec![&ssh]),
        ("user.name=alice", vec![]),
        ("destination.port=443", vec![&web]),
        ("user.name~LIC", vec![&ssh]),
        ("url.original~admin/login", vec![&web]),
        ("ip=10.1.0.0/16", vec![&ssh, &web]),
        ("ip=2001:db8::/32", vec![&web]),
        ("ip=10.1.2.3", vec![&ssh]),
        ("source.ip=10.0.0.0/8", vec![&ssh]),
        ("destination.ip=10.0.0.0/8", vec![&web]),
        ("destination.ip=192.168.7.9", vec![&ssh]),
        ("q=failed PASSWORD", vec![&ssh]),
        ("severity>=40", vec![&ssh, &web]),
        ("severity>=70", vec![&ssh]),
        ("parser=cef", vec![&web]),
        ("parser=rfc5424", vec![&ssh, &plain]),
    ];
    for (filter, expected) in cases {
        let r = get(
            &fx.admin,
            &format!("/api/v1/events?tenant={a}&f={}", urlencode(filter)),
        )
        .await;
        let got: BTreeSet<String> = ids(&r).into_iter().collect();
        assert_eq!(got, id_set(expected), "{filter}");
        assert_eq!(r.json()["total"], expected.len(), "{filter}");
    }

    // Filters combine, and `q` is free text too.
    let r = get(
        &fx.admin,
        &format!(
            "/api/v1/events?tenant={a}&f={}&f={}",
            urlencode("ip=10.0.0.0/8"),
            urlencode("severity>=50")
        ),
    )
    .await;
    assert_eq!(ids(&r), [ssh.id.to_string()]);
    let r = get(&fx.admin, &format!("/api/v1/events?tenant={a}&q=waf")).await;
    assert_eq!(ids(&r), [web.id.to_string()]);
}

#[tokio::test]
async fn cursors_page_through_without_loss_or_repeat() {
    let fx = fixture().await;
    let mut all = Vec::new();
    for (i, tenant) in [fx.a.id, fx.b.id].into_iter().enumerate() {
        for n in 0..23_u64 {
            // Pairs of events share a timestamp: the id breaks the tie.
            let ts =
                fx.ago(Duration::from_secs(60 * (n / 2 + 1)) + Duration::from_millis(i as u64));
            all.push(event(tenant, ts, &[("n", Value::Int(n as i64))]));
        }
    }
    fx.insert(&all).await;

    for (query, tenant) in [
        (format!("tenant={}", fx.a.id), Some(fx.a.id)),
        (String::new(), None),
    ] {
        let mut expected: Vec<&Event> = all
            .iter()
            .filter(|e| tenant.is_none_or(|t| e.tenant_id == t))
            .collect();
        expected.sort_by_key(|e| std::cmp::Reverse((e.timestamp, e.id)));
        let expected: Vec<String> = expected.iter().map(|e| e.id.to_string()).collect();

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/events?limit=7&{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let r = get(&fx.admin, &path).await;
            let page = ids(&r);
            assert_eq!(
                r.json()["total"],
                expected.len(),
                "total ignores the cursor"
            );
            assert!(page.len() <= 7);
            seen.extend(page);
            pages += 1;
            assert!(pages < 20, "pagination does not end");
            match r.json()["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "every event once, newest first ({query})");
    }

    // The default page is 50, the largest 1000.
    let r = get(&fx.admin, "/api/v1/events").await;
    assert_eq!(ids(&r).len(), 46);
    let r = get(&fx.admin, "/api/v1/events?limit=1000").await;
    assert_eq!(ids(&r).len(), 46);
}

#[tokio::test]
async fn counts_rank_the_values_of_a_field() {
    let fx = fixture().await;
    let a = fx.a.id;
    let t = fx.ago(HOUR);
    let mut events = Vec::new();
    for (user, n) in [("alice", 3), ("bob", 2), ("carol", 1)] {
        for _ in 0..n {
            events.push(event(a, t, &[("user.name", text(user))]));
        }
    }
    events.push(event(a, t, &[]));
    events.push(event(a, fx.ago(DAY * 3), &[("user.name", text("old"))]));
    events.push(event(fx.b.id, t, &[("user.name", text("bravo-user"))]));
    fx.insert(&events).await;

    let r = get(
        &fx.admin,
        &format!("/api/v1/events/counts?tenant={a}&field=user.name&top=2"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        serde_json::json!([{"value": "alice", "count": 3}, {"value": "bob", "count": 2}])
    );

    let r = get(
        &fx.admin,
        &format!(
            "/api/v1/events/counts?tenant={a}&field=user.name&from={}",
            time(fx.ago(DAY * 4))
        ),
    )
    .await;
    let values: Vec<String> = r
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["value"].as_str().expect("value").to_owned())
        .collect();
    assert_eq!(values, ["alice", "bob", "carol", "old"]);

    let r = get(
        &fx.admin,
        &format!(
            "/api/v1/events/counts?tenant={a}&field=user.name&f={}",
            urlencode("user.name~B")
        ),
    )
    .await;
    assert_eq!(r.json(), serde_json::json!([{"value": "bob", "count": 2}]));

    // Across tenants when none is named (the MSSP admin sees both).
    let r = get(&fx.admin, "/api/v1/events/counts?field=user.name&top=10").await;
    assert_eq!(r.json().as_array().expect("list").len(), 4);
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_parameter() {
    let fx = fixture().await;
    let a = fx.a.id;
    fx.insert(&[event(a, fx.ago(HOUR), &[])]).await;
    let base = format!("/api/v1/events?tenant={a}");
    for (query, field) in [
        (format!("&f={}", urlencode("ip=10.0.0.0/33")), "f"),
        (format!("&f={}", urlencode("source.ip=not-an-ip")), "f"),
        (format!("&f={}", urlencode("a b=c")), "f"),
        (format!("&f={}", urlencode("x') OR 1=1 --=y")), "f"),
        (format!("&f={}", urlencode("$.a=1")), "f"),
        ("&f=nothing".to_owned(), "f"),
        (format!("&f={}", urlencode("severity>=500")), "f"),
        (format!("&from={}", time(fx.ago(DAY * 32))), "from"),
        (
            format!(
                "&from={}&until={}",
                time(fx.ago(DAY * 40)),
                time(fx.ago(DAY * 8))
            ),
            "from",
        ),
        (format!("&from={}", time(fx.now.plus(HOUR))), "from"),
        ("&from=yesterday".to_owned(), "from"),
        ("&until=soon".to_owned(), "until"),
        ("&cursor=garbage".to_owned(), "cursor"),
        ("&cursor=MTIzOm5vcGU".to_owned(), "cursor"),
        ("&limit=0".to_owned(), "limit"),
        ("&limit=1001".to_owned(), "limit"),
        ("&limit=many".to_owned(), "limit"),
        ("&sort=asc".to_owned(), "query"),
    ] {
        let r = get(&fx.admin, &format!("{base}{query}")).await;
        assert_invalid(&r, field);
    }
    let counts = format!("/api/v1/events/counts?tenant={a}");
    for (query, field) in [
        (String::new(), "field"),
        ("&field=a%20b".to_owned(), "field"),
        ("&field=x'%20OR%201".to_owned(), "field"),
        ("&field=user.name&top=0".to_owned(), "top"),
        ("&field=user.name&top=x".to_owned(), "top"),
        (
            format!("&field=user.name&f={}", urlencode("ip=300.1.1.1")),
            "f",
        ),
        (
            format!("&field=user.name&from={}", time(fx.ago(DAY * 60))),
            "from",
        ),
    ] {
        let r = get(&fx.admin, &format!("{counts}{query}")).await;
        assert_invalid(&r, field);
    }
    // An id that is not one is simply not found.
    let r = get(&fx.admin, "/api/v1/events/not-an-id").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = get(&fx.admin, &format!("/api/v1/events/{}", EventId::new())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_text_comes_back_as_the_same_json_text() {
    let fx = fixture().await;
    let nasty =
        "<script>alert('x')</script>\"&amp;\u{2028}\\ </script><img src=x onerror=alert(1)>";
    let mut e = event(
        fx.a.id,
        fx.ago(HOUR),
        &[
            ("http.request.body.content", text(nasty)),
            ("user.name", text("<b>mallory</b>")),
        ],
    );
    e.original = format!("GET /?q={nasty} HTTP/1.1");
    fx.insert(&[e.clone()]).await;

    let r = get(&fx.admin, &format!("/api/v1/events/{}", e.id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "served as JSON"
    );
    let body = r.json();
    assert_eq!(
        body["fields"]["http.request.body.content"].as_str(),
        Some(nasty)
    );
    assert_eq!(body["fields"]["user.name"].as_str(), Some("<b>mallory</b>"));
    assert_eq!(body["original"].as_str(), Some(e.original.as_str()));

    let r = get(&fx.admin, &format!("/api/v1/events?tenant={}", fx.a.id)).await;
    let item = &r.json()["items"][0];
    assert_eq!(
        item["fields"]["http.request.body.content"].as_str(),
        Some(nasty)
    );
    assert_eq!(item["original"].as_str(), Some(e.original.as_str()));

    let r = get(
        &fx.admin,
        &format!("/api/v1/events/counts?tenant={}&field=user.name", fx.a.id),
    )
    .await;
    assert_eq!(r.json()[0]["value"].as_str(), Some("<b>mallory</b>"));
}

#[tokio::test]
async fn a_customer_sees_only_their_own_tenants_events() {
    let fx = fixture().await;
    let t = fx.ago(HOUR);
    let ev_a = event(
        fx.a.id,
        t,
        &[
            ("user.name", text("alpha-user")),
            ("source.ip", ip("10.55.0.1")),
        ],
    );
    let ev_b = event(
        fx.b.id,
        t,
        &[
            ("user.name", text("bravo-user")),
            ("source.ip", ip("10.66.0.1")),
        ],
    );
    fx.insert(&[ev_a.clone(), ev_b.clone()]).await;
    let c = &fx.viewer_b;

    // Lists: without a tenant, with their own, and with the other.
    for path in [
        "/api/v1/events".to_owned(),
        format!("/api/v1/events?tenant={}", fx.b.id),
        format!("/api/v1/events?f={}", urlencode("ip=10.0.0.0/8")),
        "/api/v1/events?q=hello&limit=1000".to_owned(),
    ] {
        let r = get(c, &path).await;
        assert_eq!(ids(&r), [ev_b.id.to_string()], "{path}");
        assert_eq!(r.json()["total"], 1, "{path}");
        assert!(!r.body.contains("alpha"), "{path}: {}", r.body);
    }
    let r = get(c, &format!("/api/v1/events?tenant={}", fx.a.id)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("alpha"));

    // One event: theirs, never the other tenant's.
    let r = get(c, &format!("/api/v1/events/{}", ev_b.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(c, &format!("/api/v1/events/{}", ev_a.id)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("alpha"));
    let missing = get(c, &format!("/api/v1/events/{}", EventId::new())).await;
    assert_eq!(
        missing.body, r.body,
        "another tenant's event is simply not found"
    );

    // Counts.
    let r = get(c, "/api/v1/events/counts?field=user.name").await;
    assert_eq!(
        r.json(),
        serde_json::json!([{"value": "bravo-user", "count": 1}])
    );
    let r = get(c, "/api/v1/events/counts?field=source.ip").await;
    assert_eq!(
        r.json(),
        serde_json::json!([{"value": "10.66.0.1", "count": 1}])
    );
    let r = get(
        c,
        &format!("/api/v1/events/counts?field=user.name&tenant={}", fx.a.id),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A cursor made from the other tenant's event leads nowhere new.
    let cursor =
        garrison_app::events::search::encode_cursor(&garrison_store::EventCursor::after(&ev_a));
    let r = get(c, &format!("/api/v1/events?cursor={}", urlencode(&cursor))).await;
    assert!(!r.body.contains("alpha"));
}

//! `POST /ingest/v1/events` on the real store: a tenant's ingest token puts
//! events into that tenant only (whatever the body says), the answer comes
//! after the commit with the counts, gzip is accepted and capped, bad
//! tokens and senders outside a token's networks are refused alike, an
//! overloaded tenant gets 429 with `Retry-After` and loses nothing it was
//! told was stored.

use std::io::Write;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use garrison_app::events::http::NewIngestToken;
use garrison_app::events::pipeline::{PipelineSettings, RateCap};
use garrison_core::{Role, TenantId};
use garrison_testkit::{TestApp, TestClient};
use serde_json::Value;

async fn token(t: &TestApp, tenant: TenantId, name: &str, format: &str, allow: &[&str]) -> String {
    t.app
        .create_ingest_token(
            &t.operator(),
            tenant,
            &NewIngestToken {
                name: name.to_owned(),
                format: format.to_owned(),
                allow: allow.iter().map(|s| (*s).to_owned()).collect(),
            },
        )
        .await
        .expect("ingest token")
        .secret
        .expose()
        .clone()
}

async fn post(c: &TestClient, body: Vec<u8>) -> (StatusCode, Value, Option<String>) {
    let r = c
        .send(
            Method::POST,
            "/ingest/v1/events",
            Some(("application/x-ndjson", body)),
        )
        .await;
    let retry = r.header("retry-after").map(str::to_owned);
    let json = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, json, retry)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("write");
    enc.finish().expect("finish")
}

/// Events of a tenant as that tenant's own user finds them with a search.
async fn search(t: &TestApp, bearer: &str, tenant: TenantId, filter: &str) -> Vec<Value> {
    let api = t.client().with_bearer(bearer);
    let r = api
        .get(&format!(
            "/api/v1/events?tenant={tenant}&limit=1000&f={}",
            garrison_testkit::urlencode(filter)
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_token_puts_events_into_its_tenant_only_and_answers_after_the_commit() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let bravo = t.tenant("bravo").await;
    t.user("a@acme.test", Role::CustomerAdmin, Some(acme.id))
        .await;
    t.user("b@bravo.test", Role::CustomerAdmin, Some(bravo.id))
        .await;
    let a_api = t.token_for("a@acme.test").await;
    let b_api = t.token_for("b@bravo.test").await;
    let secret = token(&t, acme.id, "edge-sensor", "auto", &[]).await;
    let sender = t.client().with_bearer(&secret);

    // Mixed formats, a blank line, a malformed line, and a body that tries
    // to name tenant B: the token decides.
    use garrison_core::Clock as _;
    let now = t.clock.now().minus(Duration::from_secs(60)).to_rfc3339();
    let body = format!(
        "<34>1 {now} fw1 sshd 42 - - http-marker-1 Failed password for root\n\
         \n\
         CEF:0|Acme|Firewall|1.0|100|http-marker-2 blocked|7|src=10.0.0.5 dst=10.0.0.9 dpt=443\n\
         {{\"timestamp\":\"{now}\",\"event_type\":\"alert\",\"src_ip\":\"10.1.1.1\",\"dest_ip\":\"10.1.1.2\",\"alert\":{{\"signature\":\"http-marker-3\",\"severity\":1}},\"tenant_id\":\"{}\"}}\n\
         <<<this is not a log line\n",
        bravo.id,
    );
    let (status, out, _) = post(&sender, body.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["accepted"], 4, "{out}");
    assert_eq!(out["parsed"], 3, "{out}");
    assert_eq!(out["stored"], 3, "{out}");
    assert_eq!(out["failed"], 1, "{out}");
    assert_eq!(
        out["failures"][0]["line"], 5,
        "numbered as in the body: {out}"
    );

    // 200 means committed: the events are searchable at once, in acme.
    let found = search(&t, &a_api, acme.id, "q=http-marker").await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found
            .iter()
            .all(|e| e["source_id"] == "http:edge-sensor" && e["tenant_id"] == acme.id.to_string())
    );
    // Bravo sees none of them, whatever the body said.
    assert!(
        search(&t, &b_api, bravo.id, "q=http-marker")
            .await
            .is_empty()
    );
    let r = t
        .client()
        .with_bearer(&b_api)
        .get(&format!(
            "/api/v1/events/counts?tenant={}&field=parser",
            bravo.id
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), serde_json::json!([]), "{}", r.body);
    let r = t
        .client()
        .with_bearer(&a_api)
        .get(&format!(
            "/api/v1/events/counts?tenant={}&field=source.ip",
            acme.id
        ))
        .await;
    assert_eq!(
        r.json().as_array().map(Vec::len),
        Some(2),
        "acme's counts see the CEF and EVE sources: {}",
        r.body
    );
    // Bravo's user cannot search acme.
    let r = t
        .client()
        .with_bearer(&b_api)
        .get(&format!("/api/v1/events?tenant={}", acme.id))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn gzip_bodies_are_accepted_and_capped_after_decompression() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    t.user("a@acme.test", Role::CustomerAdmin, Some(acme.id))
        .await;
    let a_api = t.token_for("a@acme.test").await;
    let secret = token(&t, acme.id, "gz", "syslog", &[]).await;
    let sender = t.client().with_bearer(&secret);
    let lines: String = (0..500)
        .map(|i| format!("<13>1 - host1 app 1 - - gzip-marker {i}\n"))
        .collect();
    let (status, out, _) = post(
        &sender.with_header("content-encoding", "gzip"),
        gzip(lines.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["stored"], 500, "{out}");
    assert_eq!(
        search(&t, &a_api, acme.id, "q=gzip-marker").await.len(),
        500
    );

    // A bomb: 200 MB of one byte compress to about 200 KB; refused whole.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b'A'; 1024 * 1024];
    for _ in 0..200 {
        enc.write_all(&chunk).expect("write");
    }
    let bomb = enc.finish().expect("finish");
    assert!(bomb.len() < t.web_config().ingest.max_body_bytes);
    let (status, out, _) = post(&sender.with_header("content-encoding", "gzip"), bomb).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("decompresses to more than")),
        "{out}"
    );

    // Not gzip at all, and an encoding we do not speak: named, nothing kept.
    let (status, out, _) = post(
        &sender.with_header("content-encoding", "gzip"),
        b"<13>Nov 20 10:00:00 host1 app: plain".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    let (status, out, _) = post(&sender.with_header("content-encoding", "br"), b"x".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["field"], "content-encoding");

    // A body over the limit as sent.
    let big = vec![b'x'; t.web_config().ingest.max_body_bytes + 1];
    let (status, _, _) = post(&sender, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A JSON array is named as the mistake it is.
    let (status, out, _) = post(&sender, b"[{\"a\":1}]".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(
        search(&t, &a_api, acme.id, "parser=rfc5424").await.len(),
        500,
        "nothing of the refused requests was stored"
    );
}

#[tokio::test]
async fn unknown_revoked_foreign_and_out_of_network_tokens_are_refused_alike() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    t.user("root@mssp.test", Role::MsspAdmin, None).await;
    let api_token = t.token_for("root@mssp.test").await;
    let line = b"<13>Nov 20 10:00:00 host1 app: refused-marker".to_vec();

    let anonymous = t.client();
    let (status, _, _) = post(&anonymous, line.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for bad in ["gri_not-a-token", "", api_token.as_str()] {
        let (status, _, _) = post(&t.client().with_bearer(bad), line.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }

    // Allowed networks: the test client comes from 203.0.113.10.
    let narrow = token(&t, acme.id, "narrow", "auto", &["192.0.2.0/24"]).await;
    let (status, _, _) = post(&t.client().with_bearer(&narrow), line.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "outside the allow list");
    let (status, out, _) = post(
        &t.client_from("192.0.2.77").with_bearer(&narrow),
        line.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");

    // Revoked through the API: refused from then on.
    let root = t.client().with_bearer(&api_token);
    let list = root
        .get(&format!("/api/v1/ingest-tokens?tenant_id={}", acme.id))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let listed = list.json();
    let entry = listed
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "narrow"))
        .expect("listed");
    assert_eq!(entry["source_id"], "http:narrow");
    assert_eq!(entry["allow"][0], "192.0.2.0/24");
    assert!(entry.get("token_hash").is_none() && entry.get("secret").is_none());
    let r = root
        .send(
            Method::DELETE,
            &format!(
                "/api/v1/tenants/{}/ingest-tokens/{}",
                acme.id,
                entry["id"].as_str().expect("id")
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let (status, _, _) = post(
        &t.client_from("192.0.2.77").with_bearer(&narrow),
        line.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked");

    // Created through the API: the secret is shown once and works.
    let r = root
        .api(
            Method::POST,
            &format!("/api/v1/tenants/{}/ingest-tokens", acme.id),
            Some(serde_json::json!({"name": "api-made", "format": "cef", "allow": ["10.0.0.0/8"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    assert!(
        created["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("gri_"))
    );
    assert_eq!(created["token"]["format"], "cef");
    for (body, field) in [
        (serde_json::json!({"name": "bad net", "allow": []}), "name"),
        (serde_json::json!({"name": "x", "format": "xml"}), "format"),
        (
            serde_json::json!({"name": "y", "allow": ["10.0.0.0/40"]}),
            "allow",
        ),
    ] {
        let r = root
            .api(
                Method::POST,
                &format!("/api/v1/tenants/{}/ingest-tokens", acme.id),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{}", r.body);
    }
    let r = root
        .api(
            Method::POST,
            &format!("/api/v1/tenants/{}/ingest-tokens", acme.id),
            Some(serde_json::json!({"name": "api-made"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a live name is unique");
}

#[tokio::test]
async fn over_the_rate_cap_the_sender_is_told_to_wait_and_nothing_is_half_taken() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    t.user("a@acme.test", Role::CustomerAdmin, Some(acme.id))
        .await;
    let a_api = t.token_for("a@acme.test").await;
    // Ten events of burst, one more a second; the test clock stands still,
    // so the bucket does not refill during the test.
    t.app.start_pipeline(PipelineSettings {
        rate: Some(RateCap {
            per_second: 1,
            burst: 10,
        }),
        ..PipelineSettings::default()
    });
    let secret = token(&t, acme.id, "capped", "syslog", &[]).await;
    let sender = t.client().with_bearer(&secret);
    let batch = |from: usize| -> Vec<u8> {
        (from..from + 6)
            .map(|i| format!("<13>1 - host1 app - - - rate-marker {i}\n"))
            .collect::<String>()
            .into_bytes()
    };
    let (status, out, _) = post(&sender, batch(0)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["stored"], 6);
    let (status, out, retry) = post(&sender, batch(6)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{out}");
    let wait: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!(wait >= 1, "{wait}");
    // Eleven lines can never fit a burst of ten: told to split.
    let eleven: Vec<u8> = (0..11)
        .map(|i| format!("<13>1 - host1 app - - - big {i}\n"))
        .collect::<String>()
        .into_bytes();
    let (status, out, _) = post(&sender, eleven).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{out}");

    // After the wait, the refused request goes through whole.
    t.clock.advance(Duration::from_secs(wait.max(6)));
    let (status, out, _) = post(&sender, batch(6)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let found = search(&t, &a_api, acme.id, "q=rate-marker").await;
    assert_eq!(
        found.len(),
        12,
        "each line once: the refused request kept nothing"
    );
}

#[tokio::test]
async fn mssp_engineers_manage_ingest_tokens_in_the_portal() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let bravo = t.tenant("bravo").await;
    let eng = t.signed_in("eng@mssp.test", Role::MsspEngineer, None).await;
    t.app
        .assign_staff(&t.operator(), eng.user.id, acme.id)
        .await
        .expect("assign");
    token(&t, bravo.id, "bravo-only-sensor", "auto", &[]).await;

    let page = eng.client.get("/sources").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ingest sources"));
    assert!(
        !page.body.contains("bravo-only-sensor") && !page.body.contains(&bravo.id.to_string()),
        "an engineer of acme sees nothing of bravo"
    );

    // Create through the form: the secret is shown once, and works.
    let acme_id = acme.id.to_string();
    let r = eng
        .client
        .post_form(
            "/sources",
            &[
                ("csrf", &eng.csrf),
                ("tenant", &acme_id),
                ("name", "edge-fw"),
                ("format", "cef"),
                ("allow", "203.0.113.0/24\n198.51.100.7"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.text_of("ingest-secret");
    assert!(secret.starts_with("gri_"), "{secret}");
    assert!(r.body.contains("http:edge-fw"));
    let again = eng.client.get("/sources").await;
    assert!(
        !again.body.contains(&secret),
        "the secret is shown only once"
    );
    let (status, out, _) = post(
        &t.client().with_bearer(&secret),
        b"CEF:0|Acme|FW|1|1|portal-made|3|src=10.0.0.1".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["stored"], 1);

    // A hostile name is refused on the form and echoed escaped.
    let r = eng
        .client
        .post_form(
            "/sources",
            &[
                ("csrf", &eng.csrf),
                ("tenant", &acme_id),
                ("name", "<script>alert(1)</script>"),
                ("format", "auto"),
                ("allow", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.body.contains("<script>alert(1)"), "escaped");
    assert!(r.body.contains("&#60;script&#62;alert(1)"), "{}", r.body);

    // Another tenant's token cannot be revoked, nor a token be created
    // for another tenant.
    let bravo_tokens = t
        .app
        .list_ingest_tokens(&t.operator(), Some(bravo.id))
        .await
        .expect("tokens");
    let r = eng
        .client
        .post_form(
            &format!(
                "/tenants/{}/ingest-tokens/{}/revoke",
                bravo.id, bravo_tokens[0].id
            ),
            &[("csrf", &eng.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let bravo_id = bravo.id.to_string();
    let r = eng
        .client
        .post_form(
            "/sources",
            &[
                ("csrf", &eng.csrf),
                ("tenant", &bravo_id),
                ("name", "sneaky"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Revoke ours: refused from then on.
    let ours = t
        .app
        .list_ingest_tokens(&t.operator(), Some(acme.id))
        .await
        .expect("tokens");
    let r = eng
        .client
        .post_form(
            &format!("/tenants/{}/ingest-tokens/{}/revoke", acme.id, ours[0].id),
            &[("csrf", &eng.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (status, _, _) = post(&t.client().with_bearer(&secret), b"x".to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Customers and analysts have no such page.
    for role in [Role::CustomerAdmin, Role::MsspAnalyst] {
        let who = t
            .signed_in(
                &format!("{}@x.test", role.as_str()),
                role,
                (!role.is_mssp()).then_some(acme.id),
            )
            .await;
        assert_eq!(
            who.client.get("/sources").await.status,
            StatusCode::FORBIDDEN
        );
    }
}

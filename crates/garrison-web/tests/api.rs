//! The JSON API's contract: the OpenAPI document covers every API route,
//! errors have one shape, bad input is refused clearly, and what users type
//! is escaped wherever it is shown.

use axum::http::{Method, StatusCode};
use garrison_core::Role;
use garrison_testkit::TestApp;
use garrison_web::{Access, route_table};
use serde_json::json;

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let t = TestApp::new().await;
    let doc = t.client().get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let paths = doc["paths"].as_object().expect("paths");
    for r in route_table()
        .iter()
        .filter(|r| matches!(r.access, Access::Api | Access::Ingest))
    {
        let method = r.method.as_str().to_lowercase();
        assert!(
            paths.get(r.path).and_then(|p| p.get(&method)).is_some(),
            "{} {} is not in the OpenAPI document",
            r.method,
            r.path
        );
    }
    let documented: usize = paths
        .values()
        .map(|p| p.as_object().map_or(0, |o| o.len()))
        .sum();
    let served = route_table()
        .iter()
        .filter(|r| matches!(r.access, Access::Api | Access::Ingest) || r.path == "/healthz")
        .count();
    assert_eq!(
        documented, served,
        "the document lists only routes that exist"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn errors_have_one_shape_and_name_the_field() {
    let t = TestApp::new().await;
    t.user("root@mssp.test", Role::MsspAdmin, None).await;
    let api = t.client().with_bearer(&t.token_for("root@mssp.test").await);

    let r = api
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "Bad Slug!", "name": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    assert_eq!(e["error"]["code"], "invalid");
    assert_eq!(e["error"]["field"], "slug");

    let r = api
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "ok", "name": "x", "extra": 1})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused: {}",
        r.body
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("extra")
    );

    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants",
            Some(("application/json", b"{not json".to_vec())),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "body");

    let r = api
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "acme", "name": "Acme"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = api
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "acme", "name": "Other"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["code"], "conflict");

    let r = api
        .api(Method::GET, "/api/v1/tenants/not-a-uuid", None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a malformed id is simply not found"
    );

    let r = api
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "x@acme.test", "role": "root"})),
        )
        .await;
    assert_eq!(r.json()["error"]["field"], "role");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let t = TestApp::new().await;
    t.user("root@mssp.test", Role::MsspAdmin, None).await;
    let api = t.client().with_bearer(&t.token_for("root@mssp.test").await);
    let huge = format!(
        "{{\"slug\":\"big\",\"name\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants",
            Some(("application/json", huge.into_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn what_people_type_is_escaped_in_pages() {
    let t = TestApp::new().await;
    let admin = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let evil = "<script>alert(1)</script>\"'&";
    let api = t.client().with_bearer(&t.token_for("root@mssp.test").await);
    let r = api
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "evil", "name": evil})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let r = api
        .api(Method::POST, "/api/v1/users", Some(json!({"email": "x@evil.test", "display_name": evil, "role": "customer-viewer", "tenant_id": id})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    for path in [
        "/tenants".to_owned(),
        format!("/tenants/{id}"),
        "/users".to_owned(),
        "/audit".to_owned(),
        "/".to_owned(),
    ] {
        let page = admin.client.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains("<script>alert"),
            "{path} renders raw script"
        );
        assert!(
            page.body.contains("&#60;script&#62;") || path == "/",
            "{path} shows the escaped text"
        );
    }
    // The login page does not reflect the e-mail unescaped either.
    let c = t.client();
    let r = c
        .login("\"><script>alert(2)</script>@x.test", "wrong password here")
        .await;
    assert!(!r.body.contains("<script>alert(2)"), "{}", r.body);
}

#[tokio::test]
async fn health_and_metrics() {
    let t = TestApp::new().await;
    let r = t.client().get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let r = t.client().get("/metrics").await;
    assert!(
        r.body.contains("garrison_http_requests_total"),
        "{}",
        r.body
    );
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
}

//! The portal's pages doing their jobs: creating tenants and users through
//! forms, one-time secrets shown once, the tenant switcher, the audit page.

use axum::http::StatusCode;
use garrison_core::Role;
use garrison_testkit::{TestApp, html};

#[tokio::test]
async fn an_admin_creates_a_tenant_and_a_user_through_the_forms() {
    let t = TestApp::new().await;
    let admin = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let c = &admin.client;

    let r = c
        .post_form(
            "/tenants",
            &[("slug", "Bad Slug"), ("name", "X"), ("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("not a valid slug"),
        "the form says why: {}",
        r.body
    );
    assert!(
        r.body.contains("value=\"Bad Slug\""),
        "and keeps what was typed"
    );

    let r = c
        .post_form(
            "/tenants",
            &[
                ("slug", "acme"),
                ("name", "Acme Corp"),
                ("csrf", &admin.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let tenant_page = r.location().expect("location").to_owned();
    let page = c.get(&tenant_page).await;
    assert!(page.body.contains("The tenant was created."));
    assert!(page.body.contains("<h1>Acme Corp</h1>"));
    let tenant_id = tenant_page
        .trim_start_matches("/tenants/")
        .split('?')
        .next()
        .expect("id")
        .to_owned();

    let r = c
        .post_form(
            "/users",
            &[
                ("email", "ciso@acme.test"),
                ("display_name", "Cis O"),
                ("role", "customer-admin"),
                ("tenant", &tenant_id),
                ("csrf", &admin.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let one_time = r.text_of("secret-value");
    assert_eq!(
        one_time.len(),
        23,
        "a one-time password is shown: {one_time}"
    );
    let users = c.get("/users").await;
    assert!(users.body.contains("ciso@acme.test"));
    assert!(!users.body.contains(&one_time), "shown once, never listed");

    // The new user signs in with it.
    let ciso = t
        .app
        .user_by_email(&t.operator(), "ciso@acme.test")
        .await
        .expect("user");
    let s = t
        .first_login(t.client_from("192.0.2.80"), &ciso, &one_time)
        .await;
    assert!(s.totp.is_some(), "customer admins enrol MFA");

    // Settings: the MFA policy checkbox.
    let r = c
        .post_form(
            &format!("/tenants/{tenant_id}"),
            &[
                ("name", "Acme Corp"),
                ("mfa_required_for_all", "on"),
                ("csrf", &admin.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        c.get(&format!("/tenants/{tenant_id}"))
            .await
            .body
            .contains("required for every user")
    );

    // Everything above is in the audit log.
    let audit = c.get("/audit").await.body;
    for action in [
        "tenant.created",
        "user.created",
        "tenant.updated",
        "mfa.enrolled",
        "user.password_changed",
        "auth.login",
    ] {
        assert!(
            audit.contains(action),
            "{action} missing from the audit page"
        );
    }
}

#[tokio::test]
async fn the_tenant_switcher_narrows_what_an_analyst_sees() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    t.user("u@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    t.user("u@bravo.test", Role::CustomerViewer, Some(b.id))
        .await;
    let s = t.signed_in("an@mssp.test", Role::MsspAnalyst, None).await;
    for tenant in [a.id, b.id] {
        t.app
            .assign_staff(&t.operator(), s.user.id, tenant)
            .await
            .expect("assign");
    }
    let users = s.client.get("/users").await.body;
    assert!(users.contains("u@alpha.test") && users.contains("u@bravo.test"));

    let r = s
        .client
        .post_form(
            "/session/tenant",
            &[("tenant", &a.id.to_string()), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = s.client.get("/").await.body;
    assert!(home.contains("Working on alpha Ltd"), "{home}");
    let users = s.client.get("/users").await.body;
    assert!(users.contains("u@alpha.test") && !users.contains("u@bravo.test"));
    assert!(html::input_value(&home, "tenant").is_none() || home.contains("selected>alpha Ltd"));

    let r = s
        .client
        .post_form("/session/tenant", &[("tenant", ""), ("csrf", &s.csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        s.client.get("/users").await.body.contains("u@bravo.test"),
        "all tenants again"
    );
}

#[tokio::test]
async fn a_token_created_in_the_portal_is_shown_once_and_works() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let s = t
        .signed_in("ann@alpha.test", Role::CustomerAdmin, Some(a.id))
        .await;
    let r = s
        .client
        .post_form(
            "/tokens",
            &[("name", "ci"), ("expires_in_days", "30"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let secret = r.text_of("token-secret");
    assert!(secret.starts_with("grn_"));
    let again = s.client.get("/tokens").await.body;
    assert!(!again.contains(&secret), "never shown again");
    assert!(again.contains("ci"));
    let api = t.client().with_bearer(&secret);
    let me = api.api(axum::http::Method::GET, "/api/v1/me", None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["user"]["email"], "ann@alpha.test");

    let r = s
        .client
        .post_form("/tokens", &[("name", ""), ("csrf", &s.csrf)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a token needs a name"
    );
}

#[tokio::test]
async fn a_tenant_switched_to_and_then_taken_away_is_forgotten() {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let s = t.signed_in("an@mssp.test", Role::MsspAnalyst, None).await;
    t.app
        .assign_staff(&t.operator(), s.user.id, a.id)
        .await
        .expect("assign");
    let r = s
        .client
        .post_form(
            "/session/tenant",
            &[("tenant", &a.id.to_string()), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    t.app
        .unassign_staff(&t.operator(), s.user.id, a.id)
        .await
        .expect("unassign");
    for page in ["/", "/users", "/tenants"] {
        let r = s.client.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
        assert!(
            !r.body.contains("alpha Ltd"),
            "{page} still shows the tenant"
        );
    }
}

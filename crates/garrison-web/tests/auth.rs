//! Authentication through the portal and the API: the staged login with
//! MFA, sessions and their cookies, CSRF, throttling, tokens.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use garrison_app::AppSettings;
use garrison_core::Role;
use garrison_testkit::{PASSWORD, TestApp, totp};
use serde_json::json;

#[tokio::test]
async fn first_login_changes_the_password_and_enrols_mfa() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let s = t
        .signed_in("ann@acme.test", Role::CustomerAdmin, Some(acme.id))
        .await;
    assert!(s.totp.is_some(), "a customer admin must enrol MFA");

    let cookie = s
        .client
        .cookie("__Host-garrison_session")
        .expect("session cookie");
    let me = s.client.get("/account").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("ann@acme.test"));
    assert!(me.body.contains("10 recovery codes left"), "{}", me.body);

    // Log out: the session is gone, the cookie too.
    let r = s.client.post_form("/logout", &[("csrf", &s.csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(s.client.cookie("__Host-garrison_session").is_none());
    let replay = t.client();
    replay.set_cookie("__Host-garrison_session", &cookie);
    let r = replay.get("/").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "an ended session does not come back"
    );
    assert_eq!(r.location(), Some("/login"));

    // Log in again: password, then the TOTP code.
    let c = t.client();
    let r = c.login("ann@acme.test", PASSWORD).await;
    assert_eq!(r.location(), Some("/login/mfa"));
    let pending = c.cookie("__Host-garrison_session").expect("pending");
    assert_eq!(
        c.get("/").await.location(),
        Some("/login/mfa"),
        "no page before the code"
    );
    let page = c.get("/login/mfa").await;
    let secret = s.totp.clone().expect("secret");
    let bad = c
        .post_form(
            "/login/mfa",
            &[("code", "000000"), ("csrf", &page.hidden("csrf"))],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = totp::code(&secret, t.now_secs());
    let r = c
        .post_form(
            "/login/mfa",
            &[("code", &code), ("csrf", &page.hidden("csrf"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/"));
    let full = c.cookie("__Host-garrison_session").expect("full");
    assert_ne!(full, pending, "the session id rotates when MFA is passed");
    assert_eq!(c.get("/").await.status, StatusCode::OK);

    // The same code cannot be used again, even within its time step.
    let c2 = t.client_from("203.0.113.11");
    c2.login("ann@acme.test", PASSWORD).await;
    let page = c2.get("/login/mfa").await;
    let r = c2
        .post_form(
            "/login/mfa",
            &[("code", &code), ("csrf", &page.hidden("csrf"))],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a TOTP code works once"
    );
}

#[tokio::test]
async fn recovery_codes_work_once() {
    let t = TestApp::new().await;
    let (user, one_time) = t.user("sam@mssp.test", Role::MsspAnalyst, None).await;
    let c = t.client();
    let r = c.login(&user.email, &one_time).await;
    assert_eq!(r.location(), Some("/login/password"));
    let page = c.get("/login/password").await;
    c.post_form(
        "/login/password",
        &[
            ("new_password", PASSWORD),
            ("confirm", PASSWORD),
            ("csrf", &page.hidden("csrf")),
        ],
    )
    .await;
    let page = c.get("/login/enrol").await;
    let secret = page.text_of("totp-secret");
    let r = c
        .post_form(
            "/login/enrol",
            &[
                ("code", &totp::code(&secret, t.now_secs())),
                ("csrf", &page.hidden("csrf")),
            ],
        )
        .await;
    let first_code = garrison_testkit::html::text_of_id(
        &r.body.replace("<li><code>", "<li><code id=\"c\">"),
        "c",
    )
    .expect("a recovery code");
    c.post_form("/logout", &[("csrf", &c.get("/").await.hidden("csrf"))])
        .await;

    for (attempt, expect) in [
        (1, StatusCode::SEE_OTHER),
        (2, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let c = t.client();
        c.login(&user.email, PASSWORD).await;
        let page = c.get("/login/mfa").await;
        let r = c
            .post_form(
                "/login/mfa",
                &[
                    ("code", &first_code.to_uppercase()),
                    ("csrf", &page.hidden("csrf")),
                ],
            )
            .await;
        assert_eq!(r.status, expect, "attempt {attempt}: {}", r.body);
    }
}

#[tokio::test]
async fn failures_never_reveal_whether_an_account_exists() {
    let t = TestApp::new().await;
    t.signed_in("real@mssp.test", Role::MsspAdmin, None).await;
    let c = t.client();
    let unknown = c.login("nobody@mssp.test", "whatever-password-1").await;
    let wrong = c.login("real@mssp.test", "whatever-password-1").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let msg = |b: &str| garrison_testkit::html::text_of_id(b, "login-error").expect("message");
    assert_eq!(msg(&unknown.body), msg(&wrong.body));

    let api = t.client().with_bearer("grn_not-a-real-token");
    let r = api.api(Method::GET, "/api/v1/tenants", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn twenty_wrong_passwords_from_one_address_are_throttled_but_the_user_gets_in_elsewhere() {
    let t = TestApp::new().await;
    let s = t.signed_in("victim@mssp.test", Role::MsspAdmin, None).await;
    let attacker = t.client_from("198.51.100.66");
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..20 {
        let r = attacker
            .login("victim@mssp.test", "not-the-password-at-all")
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            retry_after = r.header("retry-after").map(str::to_owned);
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses[19], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let secs: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    // Five failures on one account from one address block that pair for
    // fifteen minutes.
    assert!((1..=900).contains(&secs), "{secs}");
    // Even the right password is refused from the throttled address ...
    let r = attacker.login("victim@mssp.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // ... while the real user, elsewhere, signs in.
    let home = t.client_from("192.0.2.44");
    let r = home.login("victim@mssp.test", PASSWORD).await;
    assert_eq!(r.location(), Some("/login/mfa"), "{}", r.body);
    let page = home.get("/login/mfa").await;
    let code = totp::code(&s.totp.expect("totp"), t.now_secs());
    let r = home
        .post_form(
            "/login/mfa",
            &[("code", &code), ("csrf", &page.hidden("csrf"))],
        )
        .await;
    assert_eq!(r.location(), Some("/"));

    // A minute later the address may try other accounts, but this one only
    // after fifteen minutes.
    t.clock.advance(Duration::from_secs(61));
    let r = attacker
        .login("someone-else@mssp.test", "not-the-password-at-all")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = attacker
        .login("victim@mssp.test", "not-the-password-at-all")
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    t.clock.advance(Duration::from_secs(15 * 60));
    let r = attacker
        .login("victim@mssp.test", "not-the-password-at-all")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let t = TestApp::new().await;
    let s = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let r = s
        .client
        .post_form("/tenants", &[("slug", "evil"), ("name", "Evil")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .client
        .post_form(
            "/tenants",
            &[("slug", "evil"), ("name", "Evil"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let cross = s.client.with_header("origin", "https://evil.example");
    let r = cross
        .post_form(
            "/tenants",
            &[("slug", "evil"), ("name", "Evil"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a foreign Origin is refused"
    );
    let r = s
        .client
        .post_form(
            "/tenants",
            &[("slug", "good"), ("name", "Good"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The login form has its own token, bound to a cookie.
    let c = t.client();
    let r = c
        .post_form(
            "/login",
            &[
                ("email", "root@mssp.test"),
                ("password", PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The API with a session cookie needs the CSRF header for changes.
    let r = s
        .client
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "viaapi", "name": "X"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .client
        .with_header("x-csrf-token", &s.csrf)
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "viaapi", "name": "X"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn session_cookies_are_locked_down() {
    let t = TestApp::new().await;
    let (user, one_time) = t.user("c@mssp.test", Role::MsspAdmin, None).await;
    let c = t.client();
    let r = c.login(&user.email, &one_time).await;
    let set = r.header("set-cookie").expect("cookie");
    for attr in [
        "__Host-garrison_session=",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(set.contains(attr), "{attr} missing in {set}");
    }
    for (name, value) in [
        ("content-security-policy", "script-src 'self'"),
        ("content-security-policy", "frame-ancestors 'none'"),
        ("strict-transport-security", "max-age="),
        ("referrer-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert!(
            r.header(name).is_some_and(|v| v.contains(value)),
            "{name}: {:?}",
            r.header(name)
        );
    }
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let settings = AppSettings {
        session_idle: Duration::from_secs(600),
        session_absolute: Duration::from_secs(3600),
        ..AppSettings::default()
    };
    let t = TestApp::with_settings(settings).await;
    let s = t.signed_in("idle@mssp.test", Role::MsspAdmin, None).await;
    t.clock.advance(Duration::from_secs(500));
    assert_eq!(
        s.client.get("/").await.status,
        StatusCode::OK,
        "activity within the idle limit"
    );
    t.clock.advance(Duration::from_secs(500));
    assert_eq!(s.client.get("/").await.status, StatusCode::OK);
    t.clock.advance(Duration::from_secs(601));
    assert_eq!(
        s.client.get("/").await.location(),
        Some("/login"),
        "idle too long"
    );

    let s = t.signed_in("busy@mssp.test", Role::MsspAdmin, None).await;
    for _ in 0..8 {
        t.clock.advance(Duration::from_secs(500));
        s.client.get("/").await;
    }
    assert_eq!(
        s.client.get("/").await.location(),
        Some("/login"),
        "absolute limit"
    );
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let t = TestApp::new().await;
    let a = t.signed_in("pat@acme.test", Role::MsspAdmin, None).await;
    // A second browser.
    let b = t.client_from("192.0.2.9");
    b.login("pat@acme.test", PASSWORD).await;
    let page = b.get("/login/mfa").await;
    let code = totp::code(a.totp.as_deref().expect("totp"), t.now_secs());
    b.post_form(
        "/login/mfa",
        &[("code", &code), ("csrf", &page.hidden("csrf"))],
    )
    .await;
    assert_eq!(b.get("/").await.status, StatusCode::OK);

    let new_pw = "a different passphrase for pat";
    let r = a
        .client
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_pw),
                ("confirm", new_pw),
                ("csrf", &a.csrf),
            ],
        )
        .await;
    assert_eq!(
        r.location(),
        Some("/account?notice=password-changed"),
        "{}",
        r.body
    );
    assert_eq!(
        a.client.get("/").await.status,
        StatusCode::OK,
        "the changer keeps a fresh session"
    );
    assert_eq!(
        b.get("/").await.location(),
        Some("/login"),
        "the other browser is signed out"
    );

    let weak = a.client.get("/account").await.hidden("csrf");
    let r = a
        .client
        .post_form(
            "/account/password",
            &[
                ("current_password", new_pw),
                ("new_password", "password1234"),
                ("confirm", "password1234"),
                ("csrf", &weak),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("commonly used"), "{}", r.body);
}

#[tokio::test]
async fn api_tokens_carry_their_users_rights_and_can_be_revoked() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    t.tenant("bravo").await;
    t.user("viewer@acme.test", Role::CustomerViewer, Some(acme.id))
        .await;
    let token = t.token_for("viewer@acme.test").await;
    let api = t.client().with_bearer(&token);

    let r = api.api(Method::GET, "/api/v1/tenants", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let slugs: Vec<_> = r
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["slug"].clone())
        .collect();
    assert_eq!(slugs, [json!("acme")]);
    let r = api
        .api(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "x1", "name": "X"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a viewer's token cannot create tenants"
    );

    let r = api.api(Method::GET, "/api/v1/tokens", None).await;
    let listed = r.json();
    let id = listed[0]["id"].as_str().expect("id").to_owned();
    assert!(
        listed[0]["last_used_at"].is_string(),
        "last use is recorded: {listed}"
    );
    assert!(!r.body.contains(&token), "the secret is never listed");

    let r = api
        .api(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api.api(Method::GET, "/api/v1/tenants", None).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a revoked token is dead"
    );

    // Expiry.
    let viewer = t
        .app
        .user_by_email(&t.operator(), "viewer@acme.test")
        .await
        .expect("user");
    let p = garrison_core::Principal::authenticated(
        viewer.id,
        viewer.email.clone(),
        viewer.role,
        viewer.tenant_id,
        [],
        garrison_core::tenancy::AuthMethod::System,
    )
    .expect("principal");
    let short = t
        .app
        .create_token(&p, "short", Some(1))
        .await
        .expect("token");
    let api = t.client().with_bearer(short.secret.expose());
    assert_eq!(
        api.api(Method::GET, "/api/v1/me", None).await.status,
        StatusCode::OK
    );
    t.clock.advance(Duration::from_secs(86_401));
    assert_eq!(
        api.api(Method::GET, "/api/v1/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_tokens() {
    let t = TestApp::new().await;
    let admin = t.signed_in("boss@mssp.test", Role::MsspAdmin, None).await;
    let acme = t.tenant("acme").await;
    let victim = t
        .signed_in("gone@acme.test", Role::CustomerViewer, Some(acme.id))
        .await;
    let token = t.token_for("gone@acme.test").await;
    let admin_token = t.token_for("boss@mssp.test").await;
    let r = t
        .client()
        .with_bearer(&admin_token)
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", victim.user.id),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(victim.client.get("/").await.location(), Some("/login"));
    let r = t
        .client()
        .with_bearer(&token)
        .api(Method::GET, "/api/v1/me", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = t.client().login("gone@acme.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    drop(admin);
}

#[tokio::test]
async fn mfa_policy_per_tenant_applies_to_responders_and_viewers() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let v = t
        .signed_in("v1@acme.test", Role::CustomerViewer, Some(acme.id))
        .await;
    assert!(v.totp.is_none(), "without the policy a viewer may skip MFA");
    let r = v.client.get("/").await;
    assert!(
        r.body.contains("/account/mfa"),
        "but is invited to set it up"
    );

    let admin_token = t.token_for("v1@acme.test").await;
    drop(admin_token);
    t.app
        .update_tenant(
            &t.operator(),
            acme.id,
            garrison_core::model::TenantChange {
                name: None,
                mfa_required_for_all: Some(true),
            },
        )
        .await
        .expect("policy");
    let v2 = t
        .signed_in("v2@acme.test", Role::CustomerViewer, Some(acme.id))
        .await;
    assert!(v2.totp.is_some(), "with the policy the viewer must enrol");
}

#[tokio::test]
async fn every_state_changing_portal_route_refuses_a_form_without_its_token() {
    let t = TestApp::new().await;
    let s = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let acme = t.tenant("acme").await;
    let mut checked = 0;
    for route in garrison_web::route_table() {
        if route.method == Method::GET
            || !matches!(
                route.access,
                garrison_web::Access::Portal | garrison_web::Access::Login
            )
        {
            continue;
        }
        let path = route
            .path
            .replace("{tenant_id}", &acme.id.to_string())
            .replace("{user_id}", &s.user.id.to_string())
            .replace("{token_id}", &garrison_core::TokenId::new().to_string())
            .replace(
                "{ingest_token_id}",
                &garrison_core::IngestTokenId::new().to_string(),
            );
        let r = if path == "/imports" {
            // The upload form is multipart: the file must not be taken.
            let body = format!(
                "--b\r\nContent-Disposition: form-data; name=\"tenant\"\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nhostname\nx\r\n--b--\r\n",
                acme.id
            );
            s.client
                .send(
                    Method::POST,
                    &path,
                    Some(("multipart/form-data; boundary=b", body.into_bytes())),
                )
                .await
        } else {
            s.client.post_form(&path, &[("name", "x")]).await
        };
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} without a CSRF token: {}",
            r.body
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} routes checked");
    assert_eq!(
        s.client.get("/").await.status,
        StatusCode::OK,
        "and the session is untouched"
    );
}

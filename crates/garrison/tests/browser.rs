//! The portal in real headless Chromium, driven through chromedriver:
//! the demo's one-time admin login, password change, MFA enrolment with a
//! computed TOTP code, logout and a second login with MFA; a customer user
//! who cannot open another tenant's page; keyboard navigation and a
//! phone-width layout.

mod common;

use common::Garrison;
use garrison_testkit::totp;
use garrison_testkit::webdriver::Driver;
use serde_json::Value;

const NEW_PASSWORD: &str = "harbour lights over a quiet sea";
const TAB: &str = "\u{E004}";

#[tokio::test]
async fn login_enrol_mfa_logout_and_tenant_isolation_in_chromium() {
    let g = Garrison::new().await;
    let server = g.start(&["demo", "--listen", "127.0.0.1:0"]);
    let url = server.url.clone();
    let password = server
        .printed("Password:")
        .expect("the demo prints a password");
    let email = server.printed("Login:").expect("the demo prints the login");

    let driver = Driver::start().await;
    let b = driver.session().await;

    // Keyboard: the form is reachable and labelled.
    b.goto(&format!("{url}/login")).await;
    assert_eq!(b.title().await, "Sign in · Garrison");
    assert_eq!(b.active_id().await, "email", "the e-mail field has focus");
    b.press(TAB).await;
    assert_eq!(b.active_id().await, "password");
    b.press(TAB).await;
    assert_eq!(b.active_id().await, "sign-in");
    assert_eq!(b.text("label[for=email]").await, "E-mail address");

    // First login with the one-time password.
    b.type_into("#email", &email).await;
    b.type_into("#password", &password).await;
    b.click("#sign-in").await;
    b.wait_url("/login/password").await;
    b.type_into("#new_password", NEW_PASSWORD).await;
    b.type_into("#confirm", NEW_PASSWORD).await;
    b.click("#save-password").await;

    // MFA enrolment: read the key beside the QR code, answer with a code.
    b.wait_url("/login/enrol").await;
    assert!(b.source().await.contains("<svg"), "a QR code is shown");
    let secret = b.text("#totp-secret").await;
    b.type_into("#code", &totp::code_now(&secret, 0)).await;
    b.click("#confirm-mfa").await;
    let codes = b.text("#recovery-codes").await;
    assert_eq!(
        codes.lines().filter(|l| !l.trim().is_empty()).count(),
        10,
        "{codes}"
    );
    b.click("#continue").await;
    b.wait_url("/").await;
    assert!(b.text("h1").await.starts_with("Welcome"));

    // Log out, and back in with the password and a fresh code (the code of
    // the next time step: each step is accepted once).
    b.click("#logout").await;
    b.wait_url("/login").await;
    b.goto(&format!("{url}/")).await;
    b.wait_url("/login").await;
    b.type_into("#email", &email).await;
    b.type_into("#password", NEW_PASSWORD).await;
    b.click("#sign-in").await;
    b.wait_url("/login/mfa").await;
    b.type_into("#code", &totp::code_now(&secret, 30)).await;
    b.click("#verify").await;
    b.wait_url("/").await;

    // Phone width: no page overflows sideways (wide tables scroll in place).
    b.resize(390, 844).await;
    for page in ["/", "/tenants", "/users", "/tokens", "/audit", "/account"] {
        b.goto(&format!("{url}{page}")).await;
        let overflow = b
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            .await;
        assert!(
            overflow.as_i64().is_some_and(|o| o <= 0),
            "{page}: horizontal overflow {overflow}"
        );
    }
    b.resize(1280, 900).await;
    b.click("#logout").await;
    b.wait_url("/login").await;

    // A customer user of acme cannot open globex's page.
    let viewer: Value = serde_json::from_str(&g.ok(&[
        "user",
        "create",
        "viewer@acme.example",
        "--role",
        "customer-viewer",
        "--tenant",
        "acme",
        "--json",
    ]))
    .expect("json");
    let tenants: Value = serde_json::from_str(&g.ok(&["tenant", "list", "--json"])).expect("json");
    let id_of = |slug: &str| {
        tenants
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["slug"] == slug))
            .and_then(|t| t["id"].as_str())
            .expect("tenant")
            .to_owned()
    };
    b.type_into("#email", "viewer@acme.example").await;
    b.type_into(
        "#password",
        viewer["one_time_password"].as_str().expect("password"),
    )
    .await;
    b.click("#sign-in").await;
    b.wait_url("/login/password").await;
    b.type_into("#new_password", NEW_PASSWORD).await;
    b.type_into("#confirm", NEW_PASSWORD).await;
    b.click("#save-password").await;
    b.wait_url("/").await;

    b.goto(&format!("{url}/tenants/{}", id_of("acme"))).await;
    assert_eq!(b.text("h1").await, "Acme Manufacturing");
    b.goto(&format!("{url}/tenants/{}", id_of("globex"))).await;
    assert_eq!(b.text("h1").await, "Not found");
    assert!(
        !b.source().await.contains("Globex"),
        "nothing of globex is shown"
    );

    b.quit().await;
}

//! The portal in real headless Chromium, driven through chromedriver:
//! the demo's one-time admin login, password change, MFA enrolment with a
//! computed TOTP code, logout and a second login with MFA; a customer user
//! who cannot open another tenant's page; keyboard navigation and a
//! phone-width layout.

mod common;

use common::{Garrison, first_login};
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

/// The corpus, from `GARRISON_CORPUS` or beside the workspace.
fn corpus(rel: &str) -> std::path::PathBuf {
    let base = std::env::var("GARRISON_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus").to_owned()
    });
    let path = std::path::PathBuf::from(base).join(rel);
    // Chromium takes only canonical paths for a file input.
    path.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}; set GARRISON_CORPUS", path.display()))
}

#[tokio::test]
async fn a_responder_uploads_a_scan_and_finds_the_host_in_chromium() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "initech", "--name", "Initech"]);
    let user: Value = serde_json::from_str(&g.ok(&[
        "user",
        "create",
        "responder@initech.example",
        "--role",
        "customer-responder",
        "--tenant",
        "initech",
        "--json",
    ]))
    .expect("json");
    let server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    let url = server.url.clone();
    let scan = corpus("scans/nessus/nessus_with_cvssv3.nessus");
    let text = std::fs::read_to_string(&scan).expect("scan");
    // The host the file reports, read from the file itself.
    let host = text
        .split("<ReportHost name=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a ReportHost")
        .to_owned();

    let driver = Driver::start().await;
    let b = driver.session().await;
    first_login(
        &b,
        &url,
        "responder@initech.example",
        user["one_time_password"].as_str().expect("password"),
        NEW_PASSWORD,
    )
    .await;

    // Upload: the page follows the background import until it ends.
    b.goto(&format!("{url}/imports")).await;
    b.type_into("#u-file", &scan.to_string_lossy()).await;
    b.click("#upload-form button[type=submit]").await;
    b.wait_text("#import-status", "completed", 60).await;
    assert_eq!(b.text("#import-percent").await, "100%");
    let hosts = b.text("#import-counts [data-count=hosts]").await;
    assert_eq!(hosts, "1", "the file has one host");
    let new: u64 = b
        .text("#import-counts [data-count=findings_new]")
        .await
        .parse()
        .expect("a number");
    assert!(new > 0, "the scan's findings are new");

    // The list shows the host; its page shows the findings.
    b.click("nav a[href='/assets']").await;
    b.wait_url("/assets").await;
    assert_eq!(b.text("table.assets tbody tr td a").await, host);
    b.click("table.assets tbody tr td a").await;
    b.wait_text("h1", &host, 10).await;
    let open_rows = b
        .eval("return document.querySelectorAll('table.findings tbody tr').length;")
        .await;
    assert!(
        open_rows.as_u64().is_some_and(|n| n > 0),
        "open findings are listed: {open_rows}"
    );
    assert!(
        b.source().await.contains("scan:nessus"),
        "sources are shown"
    );

    // Phone width: the inventory pages do not overflow sideways.
    b.resize(390, 844).await;
    let here = b.url().await;
    for page in [
        format!("{url}/assets"),
        format!("{url}/findings"),
        format!("{url}/imports"),
        here,
    ] {
        b.goto(&page).await;
        let overflow = b
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            .await;
        if overflow.as_i64().is_none_or(|o| o > 0) {
            // Name the elements that stick out, to make the failure useful.
            let wide = b
                .eval("return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ');")
                .await;
            panic!("{page}: horizontal overflow {overflow}: {wide}");
        }
    }
    b.quit().await;
}

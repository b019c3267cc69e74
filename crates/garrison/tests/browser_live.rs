//! The live event view in real headless Chromium: `garrison serve` with a
//! TCP syslog listener per tenant, a customer user on the events page, and
//! a line sent with util-linux `logger --tcp` appearing on the page while
//! it is open; a line sent to the other tenant's listener never does.

mod common;

use std::time::Duration;

use common::{Garrison, first_login, free_port, logger};
use garrison_testkit::webdriver::Driver;
use garrison_testkit::{https_client, wait_for};
use serde_json::Value;

const NEW_PASSWORD: &str = "harbour lights over a quiet sea";

/// A guard against a hanging test, not a timing requirement.
const SECS: u64 = 20;

#[tokio::test]
async fn a_line_sent_with_logger_appears_on_the_live_page_in_chromium() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "initech", "--name", "Initech"]);
    g.ok(&["tenant", "create", "umbrella", "--name", "Umbrella"]);
    let viewer: Value = serde_json::from_str(&g.ok(&[
        "user",
        "create",
        "viewer@initech.example",
        "--role",
        "customer-viewer",
        "--tenant",
        "initech",
        "--json",
    ]))
    .expect("json");
    g.ok(&[
        "user",
        "create",
        "admin@umbrella.example",
        "--role",
        "customer-admin",
        "--tenant",
        "umbrella",
    ]);
    let umbrella_token = g
        .ok(&[
            "token",
            "create",
            "--user",
            "admin@umbrella.example",
            "--name",
            "live-test",
        ])
        .trim()
        .to_owned();

    let (initech_port, umbrella_port) = (free_port(false), free_port(false));
    let config = g.dir.path().join("garrison.toml");
    std::fs::write(
        &config,
        format!(
            "[[ingest.listeners]]\nid = \"initech-tcp\"\ntenant = \"initech\"\nkind = \"tcp\"\n\
             listen = \"127.0.0.1:{initech_port}\"\n\n\
             [[ingest.listeners]]\nid = \"umbrella-tcp\"\ntenant = \"umbrella\"\nkind = \"tcp\"\n\
             listen = \"127.0.0.1:{umbrella_port}\"\n"
        ),
    )
    .expect("write config");
    let server = g.start(&[
        "--config",
        config.to_str().expect("utf-8 path"),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    let url = server.url.clone();

    let driver = Driver::start().await;
    let b = driver.session().await;
    first_login(
        &b,
        &url,
        "viewer@initech.example",
        viewer["one_time_password"].as_str().expect("password"),
        NEW_PASSWORD,
    )
    .await;

    // The navigation leads to the events page, whose stream is open once
    // it says "Live".
    b.click("nav a[href='/events']").await;
    b.wait_url("/events").await;
    b.wait_text("#live-status", "Live:", SECS).await;

    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let marker = format!("live-marker-{unique}");
    let foreign = format!("umbrella-only-{unique}");

    // A line for the other tenant, stored before ours is sent.
    logger("--tcp", umbrella_port, &foreign);
    let http = https_client(None);
    let search = format!("{url}/api/v1/events?q={foreign}");
    let stored = wait_for(Duration::from_secs(SECS), || async {
        let r = http
            .get(&search)
            .bearer_auth(&umbrella_token)
            .send()
            .await
            .ok()?;
        let v: Value = r.json().await.ok()?;
        (v["total"].as_u64() == Some(1)).then_some(())
    })
    .await;
    assert!(stored.is_some(), "the other tenant's line was not stored");

    // Our line appears without a reload.
    logger(
        "--tcp",
        initech_port,
        &format!("{marker} <b>not markup</b>"),
    );
    let rows = b.wait_text("#event-rows", &marker, SECS).await;
    assert!(rows.contains("<b>not markup</b>"), "shown as text: {rows}");
    assert!(!rows.contains(&foreign), "another tenant's event: {rows}");
    let bold = b
        .eval("return document.querySelectorAll('#event-rows b').length;")
        .await;
    assert_eq!(
        bold.as_i64(),
        Some(0),
        "the message was not parsed as markup"
    );
    assert!(
        b.url().await.ends_with("/events"),
        "the page was not reloaded"
    );

    // The new row links to the event's page, with its original message.
    b.click("#event-rows tr:first-child a").await;
    let original = b.wait_text("#original", &marker, SECS).await;
    assert!(original.contains("garrison-test"), "{original}");
    assert!(original.contains("<b>not markup</b>"), "{original}");
    assert!(b.url().await.contains("/events/"));

    // Back on the live page, CEF and LEEF lines sent over a plain TCP
    // connection appear too.
    b.goto(&format!("{url}/events")).await;
    b.wait_text("#live-status", "Live:", SECS).await;
    {
        use std::io::Write as _;
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", initech_port)).expect("connect");
        tcp.write_all(
            format!(
                "CEF:0|Acme|FW|1.0|100|{marker}-cef blocked|7|src=10.1.2.3 dst=10.1.2.4\n\
                 LEEF:2.0|Acme|IDS|1.0|4625|^|src=10.1.2.5^usrName=bob^msg={marker}-leef\n"
            )
            .as_bytes(),
        )
        .expect("send CEF and LEEF");
    }
    b.wait_text("#event-rows", &format!("{marker}-cef"), SECS)
        .await;
    b.wait_text("#event-rows", &format!("{marker}-leef"), SECS)
        .await;

    b.quit().await;
    drop(server);
}

//! A ticket page in real headless Chromium: an attack replayed with
//! `garrison ingest`, its offense escalated by the MSSP through the API,
//! then the customer's responder finds the ticket in the queue with its SLA
//! clocks, reads its owners, acknowledges it from the page and sees the
//! move in its history and comments; closing is not offered to the
//! responder (the plan gives it to the customer's admin).

mod common;

use common::{Garrison, first_login};
use garrison_testkit::https_client;
use garrison_testkit::webdriver::Driver;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "lanterns along the old harbour wall";

/// A guard against a hanging test, not a timing requirement.
const SECS: u64 = 20;

#[tokio::test]
async fn a_customer_acknowledges_an_escalated_ticket_from_its_page() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme", "--name", "Acme"]);
    let responder: Value = serde_json::from_str(&g.ok(&[
        "user",
        "create",
        "soc@acme.example",
        "--role",
        "customer-responder",
        "--tenant",
        "acme",
        "--json",
    ]))
    .expect("json");
    g.ok(&[
        "user",
        "create",
        "lead@mssp.example",
        "--role",
        "mssp-admin",
    ]);
    let token = g
        .ok(&[
            "token",
            "create",
            "--user",
            "lead@mssp.example",
            "--name",
            "escalate",
        ])
        .trim()
        .to_owned();
    let eve = g.dir.path().join("eve.json");
    std::fs::write(
        &eve,
        r#"{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"alert","src_ip":"203.0.113.9","src_port":51515,"dest_ip":"10.0.0.5","dest_port":3389,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2027512,"rev":1,"signature":"ET EXPLOIT <i>BlueKeep</i> RDP exploit","category":"Attempted Administrator Privilege Gain","severity":1}}"#,
    )
    .expect("write");
    g.ok(&[
        "ingest",
        eve.to_str().expect("path"),
        "--tenant",
        "acme",
        "--format",
        "suricata",
    ]);

    let server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    let url = server.url.clone();
    let http = https_client(None);
    let offenses: Value = http
        .get(format!("{url}/api/v1/offenses"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("offenses")
        .json()
        .await
        .expect("json");
    let offense = offenses["items"][0]["id"]
        .as_str()
        .expect("offense")
        .to_owned();
    let r = http
        .post(format!("{url}/api/v1/offenses/{offense}/escalate"))
        .bearer_auth(&token)
        .json(&json!({ "reason": "RDP exploit against the gateway" }))
        .send()
        .await
        .expect("escalate");
    assert_eq!(r.status(), 200);

    let driver = Driver::start().await;
    let b = driver.session().await;
    first_login(
        &b,
        &url,
        "soc@acme.example",
        responder["one_time_password"].as_str().expect("password"),
        NEW_PASSWORD,
    )
    .await;
    b.click("nav a[href='/tickets']").await;
    b.wait_url("/tickets").await;
    let queue = b.wait_text("#tickets", "BlueKeep", SECS).await;
    assert!(queue.contains("<i>BlueKeep</i>"), "shown as text: {queue}");
    assert!(queue.contains("acknowledge: running"), "{queue}");
    assert_eq!(
        b.eval("return document.querySelectorAll('#tickets i').length;")
            .await
            .as_i64(),
        Some(0),
        "alert text was not parsed as markup"
    );

    b.click("#tickets tbody tr:first-child a").await;
    b.wait_text("#status", "new", SECS).await;
    let plan = b.text("#plan").await;
    assert!(
        plan.contains("customer-admin"),
        "closure is the admin's: {plan}"
    );
    assert!(b.text("#clocks").await.contains("resolve"));
    // The responder may acknowledge; closing is not offered.
    assert_eq!(
        b.eval("return document.querySelectorAll('#move-closed').length;")
            .await
            .as_i64(),
        Some(0)
    );
    b.type_into("#reason-acknowledged", "looking at the gateway now")
        .await;
    b.click("#move-acknowledged button").await;
    b.wait_text("#status", "acknowledged", SECS).await;
    let history = b.text("#history").await;
    assert!(
        history.contains("soc@acme.example") && history.contains("looking at the gateway now"),
        "{history}"
    );
    let clocks = b.text("#clocks").await;
    assert!(clocks.contains("acknowledge: met"), "{clocks}");
    // A comment, shown as text.
    b.type_into("#comment-body", "rebooted <script>x()</script> the gateway")
        .await;
    b.click("#comment-form button").await;
    let comments = b.wait_text("#comments", "rebooted", SECS).await;
    assert!(comments.contains("<script>x()</script>"), "{comments}");

    b.quit().await;
    drop(server);
}

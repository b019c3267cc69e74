//! From a replayed attack to its offense page, in real headless Chromium:
//! Suricata alerts replayed with `garrison ingest` (one aimed at a CVE open
//! on the target), then a customer user opens the offense queue, finds the
//! attack at the top and reads on its page why it ranks there; text from
//! the alert is shown as text.

mod common;

use common::{Garrison, first_login};
use garrison_testkit::webdriver::Driver;
use serde_json::Value;

const NEW_PASSWORD: &str = "lanterns along the old harbour wall";

/// A guard against a hanging test, not a timing requirement.
const SECS: u64 = 20;

fn alert(src: &str, dest: &str, sid: u32, signature: &str) -> String {
    format!(
        r#"{{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"alert","src_ip":"{src}","src_port":51515,"dest_ip":"{dest}","dest_port":3389,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":1,"signature":"{signature}","category":"Attempted Administrator Privilege Gain","severity":1}}}}"#
    )
}

#[tokio::test]
async fn a_replayed_attack_leads_to_its_offense_page() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme", "--name", "Acme"]);
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
    let assets = g.dir.path().join("assets.csv");
    std::fs::write(&assets, "ip,hostname,criticality\n10.0.0.5,rdp-gw,high\n").expect("write");
    g.ok(&[
        "import",
        "assets",
        assets.to_str().expect("path"),
        "--tenant",
        "acme",
    ]);
    let scan = g.dir.path().join("scan.csv");
    std::fs::write(
        &scan,
        "Plugin ID,CVE,Risk,Host,Protocol,Port,Name\n\
         125313,CVE-2019-0708,Critical,10.0.0.5,tcp,3389,Remote Desktop Services RCE (BlueKeep)\n",
    )
    .expect("write");
    g.ok(&[
        "import",
        "scan",
        scan.to_str().expect("path"),
        "--tenant",
        "acme",
    ]);
    let eve = g.dir.path().join("eve.json");
    std::fs::write(
        &eve,
        [
            alert(
                "203.0.113.9",
                "10.0.0.5",
                2_027_512,
                "ET EXPLOIT Possible BlueKeep RDP exploit (CVE-2019-0708)",
            ),
            alert(
                "198.51.100.7",
                "10.9.9.9",
                9_000_001,
                "odd <b>bold</b> rule",
            ),
        ]
        .join("\n"),
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
    let driver = Driver::start().await;
    let b = driver.session().await;
    first_login(
        &b,
        &url,
        "viewer@acme.example",
        viewer["one_time_password"].as_str().expect("password"),
        NEW_PASSWORD,
    )
    .await;

    b.click("nav a[href='/offenses']").await;
    b.wait_url("/offenses").await;
    let queue = b.wait_text("#offenses", "BlueKeep", SECS).await;
    assert!(
        queue.contains("odd <b>bold</b> rule"),
        "shown as text: {queue}"
    );
    let bold = b
        .eval("return document.querySelectorAll('#offenses b').length;")
        .await;
    assert_eq!(
        bold.as_i64(),
        Some(0),
        "alert text was not parsed as markup"
    );
    // The attack on the open CVE is first: the highest magnitude.
    let first = b.text("#offenses tbody tr:first-child").await;
    assert!(first.contains("BlueKeep"), "{first}");

    b.click("#offenses tbody tr:first-child a").await;
    let why = b.wait_text("#breakdown", "CVE-2019-0708", SECS).await;
    assert!(why.contains("open on the destination"), "{why}");
    assert!(why.contains("rdp-gw"), "{why}");
    let magnitude = b.text("#magnitude").await;
    assert_eq!(magnitude.trim(), "8.2", "the figure docs/scoring.md gives");
    assert!(b.text("#offense-assets").await.contains("rdp-gw"));
    assert!(b.url().await.contains("/offenses/"));
    // A customer reads; the triage forms are the MSSP's.
    assert_eq!(
        b.eval("return document.querySelectorAll('#close-form').length;")
            .await
            .as_i64(),
        Some(0)
    );

    b.quit().await;
    drop(server);
}

//! Offenses end to end on the real store (SQLite, and PostgreSQL on the
//! second pass): Suricata alerts ingested through the pipeline become
//! offenses grouped by signature and source; the one aimed at an asset with
//! the named CVE open outranks the same alert aimed at an asset without
//! it, and its breakdown says why; the API and the portal show them to the
//! tenant's people only, with attacker-controlled text escaped.

use std::path::Path;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use garrison_app::events::ingest::Format;
use garrison_app::inventory::Progress;
use garrison_core::asset::ImportKind;
use garrison_core::{Role, TenantId};
use garrison_store::OffenseQuery;
use garrison_testkit::TestApp;
use serde_json::Value;

fn alert(src: &str, dest: &str, sid: u32, signature: &str) -> String {
    let signature = signature.replace('"', "\\\"");
    format!(
        r#"{{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"alert","src_ip":"{src}","src_port":51515,"dest_ip":"{dest}","dest_port":3389,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":1,"signature":"{signature}","category":"Attempted Administrator Privilege Gain","severity":1}}}}"#
    )
}

async fn ingest(t: &TestApp, tenant: TenantId, lines: &[String]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("eve.json");
    std::fs::write(&path, lines.join("\n")).expect("write");
    let summary = t
        .app
        .ingest_file(
            &t.operator(),
            tenant,
            Path::new(&path),
            Format::SuricataEve,
            Arc::new(Progress::default()),
        )
        .await
        .expect("ingest");
    assert_eq!(summary.failed, 0, "{summary:?}");
}

const BLUEKEEP: &str = "ET EXPLOIT Possible BlueKeep RDP exploit (CVE-2019-0708)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attack_on_an_open_cve_outranks_the_same_attack_elsewhere_and_says_why() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    t.import_text(
        acme,
        "assets.csv",
        ImportKind::Assets,
        "ip,hostname,criticality\n10.0.0.5,rdp-gw,high\n10.0.0.6,rdp-2,high\n",
    )
    .await;
    t.import_text(
        acme,
        "scan.csv",
        ImportKind::Scan,
        "Plugin ID,CVE,Risk,Host,Protocol,Port,Name\n\
         125313,CVE-2019-0708,Critical,10.0.0.5,tcp,3389,Remote Desktop Services RCE (BlueKeep)\n",
    )
    .await;
    ingest(
        &t,
        acme,
        &[
            alert("203.0.113.9", "10.0.0.5", 2_027_512, BLUEKEEP),
            alert("198.51.100.7", "10.0.0.6", 2_027_512, BLUEKEEP),
            // A second alert of the first source: same offense.
            alert("203.0.113.9", "10.0.0.5", 2_027_512, BLUEKEEP),
            // Script in a signature is text, nothing more.
            alert(
                "192.0.2.1",
                "10.0.0.6",
                9_000_001,
                "<script>alert(1)</script> odd rule",
            ),
        ],
    )
    .await;
    // Globex gets the same attack on its own address space.
    ingest(
        &t,
        globex,
        &[alert("203.0.113.9", "10.0.0.5", 2_027_512, BLUEKEEP)],
    )
    .await;

    let op = t.operator();
    let page = t
        .app
        .list_offenses(
            &op,
            &OffenseQuery {
                tenant: Some(acme),
                ..OffenseQuery::default()
            },
        )
        .await
        .expect("offenses");
    assert_eq!(page.total, 3, "{:#?}", page.items);
    let on_cve = page
        .items
        .iter()
        .find(|o| o.key.value == "203.0.113.9")
        .expect("the offense of 203.0.113.9");
    let elsewhere = page
        .items
        .iter()
        .find(|o| o.key.value == "198.51.100.7")
        .expect("the offense of 198.51.100.7");
    assert_eq!(on_cve.event_count, 2);
    assert_eq!(on_cve.detector.key, "suricata:2027512");
    assert!(
        on_cve.magnitude() > elsewhere.magnitude(),
        "{} vs {}",
        on_cve.magnitude(),
        elsewhere.magnitude()
    );
    assert_eq!(page.items[0].id, on_cve.id, "the queue puts it first");
    // The figures docs/scoring.md gives for this example.
    assert!(
        (on_cve.magnitude() - 8.2).abs() < 1e-9,
        "{}",
        on_cve.magnitude()
    );
    assert!(
        (elsewhere.magnitude() - 6.6).abs() < 1e-9,
        "{}",
        elsewhere.magnitude()
    );
    let why = on_cve.breakdown.explain().join("\n");
    assert!(
        why.contains("CVE-2019-0708") && why.contains("open on the destination"),
        "{why}"
    );
    assert!(
        !elsewhere
            .breakdown
            .explain()
            .join("\n")
            .contains("CVE-2019-0708 which is open")
    );
    assert_eq!(
        on_cve
            .assets
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["rdp-gw"]
    );

    // The API: the customer of acme sees the breakdown and events; the
    // customer of globex does not find acme's offense, and sees its own.
    let (acme_user, _) = t
        .user("viewer@acme.test", Role::CustomerViewer, Some(acme))
        .await;
    let acme_api = t.client().with_bearer(&t.token_for(&acme_user.email).await);
    let r = acme_api
        .api(
            Method::GET,
            &format!("/api/v1/offenses/{}", on_cve.id),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body: Value = r.json();
    assert_eq!(body["event_count"], 2);
    assert_eq!(body["events"].as_array().map(Vec::len), Some(2));
    assert!(
        body["explanation"][2]
            .as_str()
            .is_some_and(|s| s.contains("CVE-2019-0708")),
        "{body}"
    );
    assert_eq!(body["breakdown"]["relevance"]["value"], 10.0);

    let (globex_user, _) = t
        .user("viewer@globex.test", Role::CustomerViewer, Some(globex))
        .await;
    let globex_api = t
        .client()
        .with_bearer(&t.token_for(&globex_user.email).await);
    let r = globex_api
        .api(
            Method::GET,
            &format!("/api/v1/offenses/{}", on_cve.id),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = globex_api.api(Method::GET, "/api/v1/offenses", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let list: Value = r.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["tenant_id"], globex.to_string());
    // Globex's destination is not in its inventory: the attack is less
    // relevant there.
    assert!(list["items"][0]["magnitude"].as_f64() < Some(on_cve.magnitude()));
    let r = acme_api
        .api(Method::GET, "/api/v1/offenses?min_magnitude=11", None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The portal: the queue and the offense page, escaped.
    let admin = t.signed_in("admin@mssp.test", Role::MsspAdmin, None).await;
    let r = admin.client.get("/offenses?status=all").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Possible BlueKeep"));
    assert!(
        r.body.contains("&#60;script&#62;alert(1)"),
        "escaped, not dropped"
    );
    assert!(!r.body.contains("<script>alert(1)"));
    let r = admin.client.get(&format!("/offenses/{}", on_cve.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("CVE-2019-0708"));
    assert!(r.body.contains("rdp-gw"));
    assert!(r.body.contains("id=\"breakdown\""));
    let at = r.body.find("id=\"offense-timeline\"").expect("a timeline");
    let timeline = &r.body[at..at + r.body[at..].find("</ol>").expect("its end")];
    assert!(timeline.contains("offense opened"), "{timeline}");
    assert!(timeline.contains("BlueKeep"), "{timeline}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_false_positive_suppression_counts_what_it_stops_and_expires_on_time() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let scanner = "203.0.113.50";
    let rule = "ET SCAN Nmap Scripting Engine User-Agent Detected";
    ingest(&t, acme, &[alert(scanner, "10.0.0.5", 2_009_358, rule)]).await;
    let op = t.operator();
    let all = |t: &TestApp| {
        let op = op.clone();
        let app = t.app.clone();
        async move {
            app.list_offenses(
                &op,
                &OffenseQuery {
                    tenant: Some(acme),
                    status: None,
                    ..OffenseQuery::default()
                },
            )
            .await
            .expect("offenses")
        }
    };
    let first = all(&t).await.items[0].clone();

    let (analyst, _) = t.user("analyst@mssp.test", Role::MsspAnalyst, None).await;
    t.app
        .assign_staff(&op, analyst.id, acme)
        .await
        .expect("assign the analyst to acme");
    let api = t.client().with_bearer(&t.token_for(&analyst.email).await);
    let r = api
        .api(
            Method::POST,
            &format!("/api/v1/offenses/{}/close", first.id),
            Some(serde_json::json!({
                "resolution": "false-positive",
                "reason": "acme's own vulnerability scanner",
                "suppress_days": 7
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "closed");
    for (body, shared) in [
        ("internal: scanner at 203.0.113.50", false),
        ("We closed this: your scanner.", true),
    ] {
        let r = api
            .api(
                Method::POST,
                &format!("/api/v1/offenses/{}/comments", first.id),
                Some(serde_json::json!({ "body": body, "shared": shared })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    // The scanner goes on: counted on the suppression, no offense.
    ingest(
        &t,
        acme,
        &[
            alert(scanner, "10.0.0.5", 2_009_358, rule),
            alert(scanner, "10.0.0.6", 2_009_358, rule),
            alert(scanner, "10.0.0.7", 2_009_358, rule),
            // Another source is not in the suppression's scope.
            alert("198.51.100.99", "10.0.0.5", 2_009_358, rule),
        ],
    )
    .await;
    let page = all(&t).await;
    assert_eq!(page.total, 2, "{:#?}", page.items);
    assert!(page.items.iter().any(|o| o.key.value == "198.51.100.99"));
    let r = api
        .api(
            Method::GET,
            &format!("/api/v1/suppressions?tenant={acme}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let sups = r.json();
    assert_eq!(sups[0]["suppressed"], 3, "{sups}");
    assert_eq!(sups[0]["key_value"], scanner);

    // The customer sees the shared comment only.
    let (viewer, _) = t
        .user("viewer@acme.test", Role::CustomerViewer, Some(acme))
        .await;
    let customer = t.client().with_bearer(&t.token_for(&viewer.email).await);
    let r = customer
        .api(Method::GET, &format!("/api/v1/offenses/{}", first.id), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("We closed this"));
    assert!(!r.body.contains("internal: scanner"), "{}", r.body);
    let r = customer
        .api(
            Method::POST,
            &format!("/api/v1/offenses/{}/reopen", first.id),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "customers read, MSSP analysts triage"
    );

    // Eight days later the suppression has expired: the scanner raises an
    // offense again (a new one: the old stays closed).
    t.clock.advance(std::time::Duration::from_secs(8 * 86_400));
    ingest(&t, acme, &[alert(scanner, "10.0.0.5", 2_009_358, rule)]).await;
    let page = all(&t).await;
    assert_eq!(page.total, 3);
    let open_again = page.items.iter().filter(|o| o.key.value == scanner).count();
    assert_eq!(open_again, 2);
    let r = api
        .api(
            Method::GET,
            &format!("/api/v1/suppressions?tenant={acme}"),
            None,
        )
        .await;
    assert_eq!(r.json()[0]["suppressed"], 3, "nothing counted after expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_weights_change_the_magnitude_of_its_new_offenses() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    let (admin, _) = t
        .user("admin@acme.test", Role::CustomerAdmin, Some(acme))
        .await;
    let api = t.client().with_bearer(&t.token_for(&admin.email).await);
    let path = format!("/api/v1/tenants/{acme}/magnitude-weights");
    let r = api.api(Method::GET, &path, None).await;
    assert_eq!(r.json()["relevance"], 4, "the defaults: {}", r.body);
    let r = api
        .api(
            Method::PUT,
            &path,
            Some(serde_json::json!({"severity": 1, "credibility": 0, "relevance": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api
        .api(
            Method::PUT,
            &path,
            Some(serde_json::json!({"severity": 0, "credibility": 0, "relevance": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = api
        .api(
            Method::PUT,
            &format!("/api/v1/tenants/{globex}/magnitude-weights"),
            Some(serde_json::json!({"severity": 1, "credibility": 1, "relevance": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Severity alone counts now: a Suricata priority-1 alert is 8.0,
    // whatever it aims at (the pipeline picks the weights up at once for a
    // tenant it has not seen yet).
    ingest(&t, acme, &[alert("203.0.113.9", "10.9.9.9", 1, BLUEKEEP)]).await;
    ingest(&t, globex, &[alert("203.0.113.9", "10.9.9.9", 1, BLUEKEEP)]).await;
    let op = t.operator();
    let mine = t
        .app
        .list_offenses(
            &op,
            &OffenseQuery {
                tenant: Some(acme),
                ..OffenseQuery::default()
            },
        )
        .await
        .expect("offenses");
    assert!(
        (mine.items[0].magnitude() - 8.0).abs() < 1e-9,
        "{:?}",
        mine.items[0].breakdown
    );
    assert_eq!(mine.items[0].breakdown.weights.relevance, 0);
    let theirs = t
        .app
        .list_offenses(
            &op,
            &OffenseQuery {
                tenant: Some(globex),
                ..OffenseQuery::default()
            },
        )
        .await
        .expect("offenses");
    assert_eq!(
        theirs.items[0].breakdown.weights.relevance, 4,
        "globex keeps the defaults"
    );
}

//! Detection in the pipeline on the real store (SQLite, and PostgreSQL on
//! the second pass): a SigmaHQ rule loaded with `import_rules` fires on its
//! regression events and raises an offense; a tenant that switched it off
//! gets none; a tenant's own indicator never fires on another tenant's
//! events and each match is a sighting; the built-in sequence rule sees
//! failed Windows logons followed by a success.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use garrison_app::events::ingest::Format;
use garrison_app::inventory::Progress;
use garrison_core::offense::{DetectorKind, Offense};
use garrison_core::{Role, TenantId};
use garrison_store::OffenseQuery;
use garrison_testkit::TestApp;

fn corpus() -> PathBuf {
    std::env::var_os("GARRISON_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

async fn ingest(t: &TestApp, tenant: TenantId, lines: &[String], format: Format) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.json");
    std::fs::write(&path, lines.join("\n")).expect("write");
    let summary = t
        .app
        .ingest_file(
            &t.operator(),
            tenant,
            &path,
            format,
            Arc::new(Progress::default()),
        )
        .await
        .expect("ingest");
    assert_eq!(summary.failed, 0, "{summary:?}");
}

async fn offenses(t: &TestApp, tenant: TenantId) -> Vec<Offense> {
    t.app
        .list_offenses(
            &t.operator(),
            &OffenseQuery {
                tenant: Some(tenant),
                status: None,
                ..OffenseQuery::default()
            },
        )
        .await
        .expect("offenses")
        .items
}

/// The regression events of a SigmaHQ rule, one compact JSON object a
/// line (the corpus file holds pretty-printed objects one after another).
fn regression_lines(case: &str) -> (String, Vec<String>) {
    let dir = corpus()
        .join("events/windows-json/sigmahq-regression")
        .join(case);
    let json = std::fs::read_dir(&dir)
        .expect("case dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a json file");
    let rule_id = json
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(&json).expect("read");
    let lines = serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(|v| v.expect("json").to_string())
        .collect();
    (rule_id, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loaded_sigma_rule_raises_offenses_where_it_is_enabled() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    let rule = corpus()
        .join("sigma/sigmahq/rules/windows/file/file_event/file_event_win_anydesk_artefact.yml");
    let text = std::fs::read_to_string(&rule).expect("rule file; set GARRISON_CORPUS");
    let broken = "title: no detection\nid: 6f2c9c9e-0000-4000-8000-000000000001\nlogsource: {product: windows}\n";
    let summary = t
        .app
        .import_rules(
            &t.operator(),
            vec![
                ("file_event_win_anydesk_artefact.yml".to_owned(), text),
                ("broken.yml".to_owned(), broken.to_owned()),
            ],
        )
        .await
        .expect("import");
    assert_eq!((summary.stored.new, summary.rules), (1, 1), "{summary:?}");
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].origin, "broken.yml");
    assert!(
        summary.failed[0].reason.contains("detection"),
        "{summary:?}"
    );

    let (rule_id, lines) = regression_lines("file_event_win_anydesk_artefact");
    // Globex switched the rule off; a customer viewer may not.
    let (viewer, _) = t
        .user("viewer@globex.test", Role::CustomerViewer, Some(globex))
        .await;
    let viewer = garrison_core::Principal::authenticated(
        viewer.id,
        viewer.email,
        viewer.role,
        viewer.tenant_id,
        [],
        garrison_core::tenancy::AuthMethod::System,
    )
    .expect("principal");
    assert!(
        t.app
            .set_tenant_rule(&viewer, globex, &rule_id, false, Vec::new())
            .await
            .is_err()
    );
    t.app
        .set_tenant_rule(&t.operator(), globex, &rule_id, false, Vec::new())
        .await
        .expect("switch off");
    assert!(
        t.app
            .set_tenant_rule(&t.operator(), globex, "no-such-rule", false, Vec::new())
            .await
            .is_err()
    );

    ingest(&t, acme, &lines, Format::WindowsJson).await;
    ingest(&t, globex, &lines, Format::WindowsJson).await;
    let acme_offenses = offenses(&t, acme).await;
    let sigma: Vec<&Offense> = acme_offenses
        .iter()
        .filter(|o| o.detector.kind == DetectorKind::Sigma)
        .collect();
    assert_eq!(sigma.len(), 1, "{acme_offenses:#?}");
    assert_eq!(sigma[0].detector.key, rule_id);
    assert_eq!(sigma[0].detector.title, "Anydesk Temporary Artefact");
    assert!(
        sigma[0].breakdown.explain()[0].contains("Anydesk Temporary Artefact"),
        "{:?}",
        sigma[0].breakdown.explain()
    );
    assert!(
        offenses(&t, globex)
            .await
            .iter()
            .all(|o| o.detector.kind != DetectorKind::Sigma),
        "switched off for globex"
    );

    let overview = t.app.rules_overview(&t.operator()).await.expect("overview");
    assert!(
        overview
            .rules
            .iter()
            .any(|r| r.id == rule_id && r.kind == "sigma")
    );
    assert!(
        overview
            .rules
            .iter()
            .any(|r| r.id == "garrison-windows-bruteforce-then-logon" && r.kind == "sequence")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_indicator_fires_only_on_its_events_and_is_sighted() {
    use garrison_app::intel::feed::{FeedDefaults, FeedFormat};
    use garrison_app::intel::{IntelImport, IntelTarget};
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    let dir = tempfile::tempdir().expect("temp dir");
    let feed = dir.path().join("acme-feed.txt");
    std::fs::write(&feed, "198.51.100.66\n").expect("feed");
    let done = t
        .app
        .import_intel(
            &t.operator(),
            IntelImport {
                path: feed,
                file_name: "acme-feed.txt".to_owned(),
                format: FeedFormat::Txt,
                target: IntelTarget::Tenant(acme),
                defaults: FeedDefaults::new("acme-feed"),
            },
            Arc::new(Progress::default()),
        )
        .await
        .expect("intel");
    assert_eq!(done.accepted, 1, "{done:?}");
    let line = r#"{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"flow","src_ip":"10.0.0.5","src_port":51515,"dest_ip":"198.51.100.66","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":300,"bytes_toclient":200}}"#.to_owned();
    ingest(&t, acme, std::slice::from_ref(&line), Format::SuricataEve).await;
    ingest(&t, globex, &[line], Format::SuricataEve).await;
    let hits: Vec<Offense> = offenses(&t, acme)
        .await
        .into_iter()
        .filter(|o| o.detector.kind == DetectorKind::Indicator)
        .collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].key.field, "destination.ip");
    assert_eq!(hits[0].key.value, "198.51.100.66");
    assert!(
        offenses(&t, globex)
            .await
            .iter()
            .all(|o| o.detector.kind != DetectorKind::Indicator),
        "acme's indicator never fires on globex's events"
    );
    let indicator: garrison_core::IndicatorId = hits[0].detector.key.parse().expect("id");
    let counts = t
        .store
        .sighting_counts(&t.operator().access(), &[indicator])
        .await
        .expect("sightings");
    assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 1, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_windows_logons_then_a_success_make_a_sequence_offense() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let logon = |id: u32, sec: u32| {
        format!(
            r#"{{"@timestamp":"2026-11-23T07:00:{sec:02}.000Z","winlog":{{"event_id":{id},"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"dc-01","event_data":{{"TargetUserName":"alice","IpAddress":"203.0.113.7","LogonType":"3"}}}}}}"#
        )
    };
    let mut lines: Vec<String> = (0..6).map(|i| logon(4625, i)).collect();
    lines.push(logon(4624, 10));
    ingest(&t, acme, &lines, Format::WindowsJson).await;
    let seq: Vec<Offense> = offenses(&t, acme)
        .await
        .into_iter()
        .filter(|o| o.detector.kind == DetectorKind::Sequence)
        .collect();
    assert_eq!(seq.len(), 1, "{seq:#?}");
    assert_eq!(
        seq[0].detector.key,
        "garrison-windows-bruteforce-then-logon"
    );
    assert_eq!(seq[0].key.value, "203.0.113.7");
    // The offense links the failures that made the sequence, not only the
    // logon that completed it; it counts one detection.
    assert_eq!(seq[0].event_count, 1);
    let detail = t
        .app
        .offense(&t.operator(), seq[0].id)
        .await
        .expect("offense");
    let ids: Vec<Option<i64>> = detail
        .events
        .iter()
        .map(|e| e.fields.get("winlog.event_id").and_then(|v| v.as_i64()))
        .collect();
    assert!(
        ids.iter().filter(|i| **i == Some(4625)).count() >= 5,
        "{ids:?}"
    );
    assert_eq!(ids.last(), Some(&Some(4624)), "{ids:?}");

    // Testing the rule over the stored events finds the same, through the
    // API; a customer of another tenant cannot test against acme's.
    let (engineer, _) = t.user("eng@mssp.test", Role::MsspEngineer, None).await;
    t.app
        .assign_staff(&t.operator(), engineer.id, acme)
        .await
        .expect("assign");
    let api = t.client().with_bearer(&t.token_for(&engineer.email).await);
    let test_path =
        format!("/api/v1/tenants/{acme}/rules/garrison-windows-bruteforce-then-logon/test");
    let r = api
        .api(
            axum::http::Method::POST,
            &test_path,
            Some(serde_json::json!({ "hours": 24 })),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
    let found = r.json();
    assert_eq!(found["scanned"], 7, "{found}");
    assert_eq!(found["matched"], 1, "{found}");
    let globex = t.tenant("globex").await.id;
    let (viewer, _) = t
        .user("viewer@globex.test", Role::CustomerViewer, Some(globex))
        .await;
    let other = t.client().with_bearer(&t.token_for(&viewer.email).await);
    let r = other
        .api(
            axum::http::Method::POST,
            &test_path,
            Some(serde_json::json!({ "hours": 24 })),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::NOT_FOUND);

    // Switched off for acme, the same attack raises nothing new once the
    // pipeline has re-read the rules (within seconds).
    let r = api
        .api(
            axum::http::Method::PUT,
            &format!("/api/v1/tenants/{acme}/rules/garrison-windows-bruteforce-then-logon"),
            Some(serde_json::json!({ "enabled": false })),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut quiet = false;
    let mut round = 0_u32;
    while !quiet && std::time::Instant::now() < deadline {
        round += 1;
        let base = 20 + (round % 3) * 12;
        let before = sequence_events(&t, acme).await;
        let mut more: Vec<String> = (base..base + 6).map(|i| logon(4625, i)).collect();
        more.push(logon(4624, base + 8));
        ingest(&t, acme, &more, Format::WindowsJson).await;
        quiet = sequence_events(&t, acme).await == before;
        if !quiet {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    assert!(quiet, "the switched-off rule kept firing");
}

/// Events in the tenant's sequence offenses.
async fn sequence_events(t: &TestApp, tenant: TenantId) -> u64 {
    offenses(t, tenant)
        .await
        .iter()
        .filter(|o| o.detector.kind == DetectorKind::Sequence)
        .map(|o| o.event_count)
        .sum()
}

/// acme's setting of the rule the rules-page test loads.
async fn portal_scan_setting(t: &TestApp, tenant: TenantId) -> garrison_store::TenantRule {
    t.app
        .tenant_rules(&t.operator(), tenant)
        .await
        .expect("settings")
        .into_iter()
        .find(|s| s.rule_id == "portal-scan")
        .expect("stored")
}

/// The rules page loads a pasted rule file (checked first: a failing file
/// is shown with its reason and stored nowhere; markup in it is escaped),
/// and edits a rule's exceptions for a tenant (a bad line is named);
/// customers can do neither.
#[tokio::test]
async fn the_rules_page_loads_rule_files_and_edits_exceptions() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    // An engineer assigned to acme (MSSP staff see the tenants they serve).
    let (eng, one_time) = t.user("eng@mssp.test", Role::MsspEngineer, None).await;
    t.app
        .assign_staff(&t.operator(), eng.id, acme.id)
        .await
        .expect("assign");
    let engineer = t.first_login(t.client(), &eng, &one_time).await;
    let c = &engineer.client;
    let rule = "id: portal-scan\ntitle: \"Scan <script>alert(1)</script>\"\nkind: threshold\n\
                level: low\nwhere: { event.category: network }\ngroup_by: [source.ip]\n\
                distinct: destination.port\ncount: 50\nwindow: 1m\n";

    // A file that does not load: the reason, what was typed, nothing stored.
    let broken = rule.replace("window: 1m", "window: sometimes");
    let r = c
        .post_form(
            "/rules",
            &[
                ("name", "scan.yml"),
                ("body", &broken),
                ("csrf", &engineer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errors = r.text_of("load-errors");
    assert!(
        errors.contains("window"),
        "the reason names the field: {errors}"
    );
    assert!(r.body.contains("value=\"scan.yml\""), "keeps the name");
    assert!(!r.body.contains("<script>alert(1)"), "escaped");
    let overview = t.app.rules_overview(&t.operator()).await.expect("overview");
    assert!(overview.rules.iter().all(|r| r.id != "portal-scan"));

    // A bad name is refused before anything is read.
    let r = c
        .post_form(
            "/rules",
            &[("name", "../x"), ("body", rule), ("csrf", &engineer.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text_of("load-errors").contains("name the file"));

    // The good file loads and is listed, its title escaped.
    let r = c
        .post_form(
            "/rules",
            &[
                ("name", "scan.yml"),
                ("body", rule),
                ("csrf", &engineer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/rules?q=portal-scan").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("portal/scan.yml"), "{}", page.body);
    assert!(
        garrison_testkit::html::unescape(&page.body).contains("Scan <script>alert(1)</script>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));

    // Exceptions for acme: a bad line is named, a good form is stored.
    let path = format!("/tenants/{}/rules", acme.id);
    let r = c
        .post_form(
            &path,
            &[
                ("rule_id", "portal-scan"),
                ("exceptions", "source.ip = 10.0.0.5\nnot a condition"),
                ("csrf", &engineer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.text_of("edit-error").contains("line 2"), "{}", r.body);
    let r = c
        .post_form(
            &path,
            &[
                ("rule_id", "portal-scan"),
                (
                    "exceptions",
                    "source.ip = 10.0.0.5\n\nsource.ip = 10.0.0.6; user.name = backup\n",
                ),
                ("csrf", &engineer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let s = portal_scan_setting(&t, acme.id).await;
    assert!(s.enabled, "the switch is kept");
    assert_eq!(s.exceptions.len(), 2);
    assert_eq!(s.exceptions[1]["user.name"], "backup");
    let page = c
        .get(&format!("/rules?tenant={}&edit=portal-scan", acme.id))
        .await;
    assert!(
        page.body
            .contains("source.ip = 10.0.0.6; user.name = backup"),
        "the form shows them back: {}",
        page.body
    );
    // Switching keeps the exceptions.
    let r = c
        .post_form(
            &path,
            &[
                ("rule_id", "portal-scan"),
                ("state", "off"),
                ("csrf", &engineer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let s = portal_scan_setting(&t, acme.id).await;
    assert_eq!((s.enabled, s.exceptions.len()), (false, 2));

    // A customer admin can do neither, even for its own tenant.
    let customer = t
        .signed_in("admin@acme.test", Role::CustomerAdmin, Some(acme.id))
        .await;
    let r = customer
        .client
        .post_form(
            "/rules",
            &[
                ("name", "mine.yml"),
                ("body", rule),
                ("csrf", &customer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = customer
        .client
        .post_form(
            &path,
            &[
                ("rule_id", "portal-scan"),
                ("exceptions", ""),
                ("csrf", &customer.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = customer.client.get("/rules").await;
    assert!(!page.body.contains("id=\"rule-load\""), "no load form");
}

/// Exceptions the form cannot write back exactly (set through the API with
/// a `;` in a value) are shown read-only, so saving the form never splits
/// them.
#[tokio::test]
async fn exceptions_the_form_cannot_hold_are_not_offered_for_editing() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let admin = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let exception: std::collections::BTreeMap<String, String> =
        [("process.command_line".to_owned(), "a; b".to_owned())].into();
    t.app
        .set_tenant_rule(
            &t.operator(),
            acme.id,
            "garrison-port-scan",
            true,
            vec![exception],
        )
        .await
        .expect("set through the app");
    let page = admin
        .client
        .get(&format!(
            "/rules?tenant={}&edit=garrison-port-scan",
            acme.id
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"exceptions-readonly\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"exceptions\""), "no form");
    // A plain one is editable.
    t.app
        .set_tenant_rule(
            &t.operator(),
            acme.id,
            "garrison-port-scan",
            true,
            vec![[("source.ip".to_owned(), "10.0.0.5".to_owned())].into()],
        )
        .await
        .expect("set");
    let page = admin
        .client
        .get(&format!(
            "/rules?tenant={}&edit=garrison-port-scan",
            acme.id
        ))
        .await;
    assert!(page.body.contains("name=\"exceptions\""), "{}", page.body);
}

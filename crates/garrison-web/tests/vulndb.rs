//! Vulnerability data from offline files, on the real application and
//! database: NVD, KEV and EPSS imports from the corpus, what they add to
//! findings and risk, CPE matching of installed software, bad input, and
//! who may import and see this MSSP-wide data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use garrison_app::AppError;
use garrison_app::inventory::{CPE_MATCH_SCANNER, ImportFile, Progress, VulnImportSummary};
use garrison_core::asset::{Finding, FindingStatus, ImportKind, ImportStatus};
use garrison_core::{Principal, Role, TenantId};
use garrison_store::{AssetQuery, AssetRisk, FindingQuery};
use garrison_testkit::TestApp;
use serde_json::Value;

fn corpus() -> PathBuf {
    std::env::var_os("GARRISON_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    )
}

fn progress() -> Arc<Progress> {
    Arc::new(Progress::default())
}

async fn vulndb(t: &TestApp, path: &Path) -> VulnImportSummary {
    t.app
        .import_vulndb(&t.operator(), path, None, progress())
        .await
        .unwrap_or_else(|e| panic!("import {}: {e}", path.display()))
}

async fn import(t: &TestApp, tenant: TenantId, path: &Path, kind: ImportKind) {
    let file = ImportFile {
        tenant,
        path: path.to_owned(),
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        format: None,
        zone: None,
        kind,
        delete_after: false,
    };
    let done = t
        .app
        .run_import(&t.operator(), file, progress())
        .await
        .expect("import");
    assert!(
        matches!(done.status, ImportStatus::Completed),
        "{}: {:?} {:?}",
        path.display(),
        done.status,
        done.error
    );
}

async fn findings(t: &TestApp, tenant: TenantId, cve: Option<&str>) -> Vec<Finding> {
    let q = FindingQuery {
        tenant: Some(tenant),
        cve: cve.map(str::to_owned),
        limit: 1000,
        ..FindingQuery::default()
    };
    t.app
        .list_findings(&t.operator(), &q)
        .await
        .expect("findings")
        .items
}

async fn risk_of(t: &TestApp, tenant: TenantId, asset: garrison_core::AssetId) -> AssetRisk {
    t.app
        .asset_detail(&t.operator(), tenant, asset)
        .await
        .expect("asset")
        .row
        .risk
}

/// The unrounded threat part of an asset's risk.
async fn threat_of(t: &TestApp, tenant: TenantId, asset: garrison_core::AssetId) -> f64 {
    t.app
        .asset_detail(&t.operator(), tenant, asset)
        .await
        .expect("asset")
        .risk
        .threat
}

/// A one-host Nessus report whose few findings name CVEs but give no CVSS
/// (one of them in KEV, one scored by EPSS, one by NVD).
fn scan_without_scores(dir: &Path) -> PathBuf {
    let path = dir.join("scores.nessus");
    std::fs::write(
        &path,
        "<?xml version=\"1.0\" ?>\n<NessusClientData_v2><Report name=\"t\"><ReportHost name=\"db1\"><HostProperties>\
         <tag name=\"host-ip\">10.9.0.7</tag></HostProperties>\
         <ReportItem port=\"22\" svc_name=\"ssh\" protocol=\"tcp\" severity=\"2\" pluginID=\"9001\" pluginName=\"Old thing\">\
         <cve>CVE-1999-0005</cve></ReportItem>\
         <ReportItem port=\"0\" svc_name=\"general\" protocol=\"tcp\" severity=\"3\" pluginID=\"9002\" pluginName=\"xz backdoor\">\
         <cve>CVE-2024-3094</cve></ReportItem>\
         <ReportItem port=\"80\" svc_name=\"www\" protocol=\"tcp\" severity=\"3\" pluginID=\"9003\" pluginName=\"PHP-CGI\">\
         <cve>CVE-2012-1823</cve></ReportItem>\
         </ReportHost></Report></NessusClientData_v2>\n",
    )
    .expect("write");
    path
}

/// The API's view of one tenant's findings, as the MSSP admin sees it.
async fn api_findings(t: &TestApp, tenant: TenantId, query: &str) -> Vec<Value> {
    let api = t.client().with_bearer(&t.token_for("root@mssp.test").await);
    let r = api
        .api(
            Method::GET,
            &format!("/api/v1/findings?tenant={tenant}&{query}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kev_epss_and_nvd_weigh_and_describe_findings() {
    let t = TestApp::new().await;
    t.user("root@mssp.test", Role::MsspAdmin, None).await;
    let acme = t.tenant("acme").await.id;
    import(
        &t,
        acme,
        &corpus().join("scans/nessus/nessus_with_cvssv3.nessus"),
        ImportKind::Scan,
    )
    .await;
    let exploited = findings(&t, acme, Some("CVE-2012-1823")).await;
    assert!(!exploited.is_empty(), "the scan reports CVE-2012-1823");
    let asset = exploited[0].asset_id;
    let before = risk_of(&t, acme, asset).await;
    let threat_before = threat_of(&t, acme, asset).await;
    assert_eq!(before.kev_findings, 0);
    // A host with few findings, none scored by its scanner.
    let dir = tempfile::tempdir().expect("dir");
    import(&t, acme, &scan_without_scores(dir.path()), ImportKind::Scan).await;
    let old = findings(&t, acme, Some("CVE-1999-0005")).await;
    assert_eq!(old.len(), 1);
    let db1 = old[0].asset_id;
    let db1_before = risk_of(&t, acme, db1).await;

    // The KEV catalogue: every entry of the file is stored.
    let kev_path = corpus().join("cve/kev/known_exploited_vulnerabilities-2025-03-03.json");
    let kev: Value =
        serde_json::from_slice(&std::fs::read(&kev_path).expect("kev")).expect("kev json");
    let entries = kev["vulnerabilities"].as_array().expect("entries");
    let done = vulndb(&t, &kev_path).await;
    assert_eq!(done.import.status, ImportStatus::Completed, "{done:?}");
    assert_eq!(done.import.kind, ImportKind::VulnDb);
    assert_eq!(done.import.tenant_id, None);
    assert_eq!(done.import.format, "kev");
    assert_eq!(done.records, entries.len() as u64);
    assert_eq!(done.inserted, entries.len() as u64);
    assert_eq!(done.skipped, 0);
    assert_eq!(
        done.version,
        kev["catalogVersion"].as_str().map(str::to_owned)
    );
    assert!(done.assets_rescored >= 1, "{done:?}");

    // The finding is in KEV, so its asset's risk rose. The scanned host
    // has so many findings that its score is near its ceiling, so the
    // rise shows in the threat; on the host with few it shows in the
    // score itself.
    let after = risk_of(&t, acme, asset).await;
    assert!(after.kev_findings >= 1, "{after:?}");
    assert!(after.score >= before.score);
    assert!(threat_of(&t, acme, asset).await > threat_before);
    let db1_after = risk_of(&t, acme, db1).await;
    assert_eq!(db1_after.kev_findings, 1);
    assert!(
        db1_after.score > db1_before.score,
        "{} -> {}",
        db1_before.score,
        db1_after.score
    );
    let has_kev = AssetQuery {
        tenant: Some(acme),
        has_kev: true,
        ..AssetQuery::default()
    };
    let listed = t
        .app
        .list_assets(&t.operator(), &has_kev)
        .await
        .expect("list");
    let mut ids: Vec<_> = listed.items.iter().map(|r| r.asset.id).collect();
    ids.sort();
    let mut want = vec![asset, db1];
    want.sort();
    assert_eq!(ids, want);

    let entry = entries
        .iter()
        .find(|e| e["cveID"] == "CVE-2012-1823")
        .expect("CVE-2012-1823 is in KEV");
    let items = api_findings(&t, acme, "cve=CVE-2012-1823").await;
    assert_eq!(items.len(), exploited.len() + 1);
    for item in &items {
        assert_eq!(item["kev"]["added"], entry["dateAdded"], "{item}");
        assert_eq!(item["kev"]["due"], entry["dueDate"], "{item}");
        assert_eq!(
            item["kev"]["ransomware"],
            entry["knownRansomwareCampaignUse"] == "Known"
        );
        assert!(item["epss"].is_null());
    }
    // Findings of CVEs outside KEV say so.
    let all = api_findings(&t, acme, "limit=1000").await;
    assert!(all.iter().any(|f| f["kev"].is_null()));

    // EPSS and NVD for the host whose scanner gave no scores.
    let unscored = risk_of(&t, acme, db1).await;

    let epss_path = corpus().join("cve/epss/vunnel-epss-example-1.csv");
    let text = std::fs::read_to_string(&epss_path).expect("epss");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("CVE-")).collect();
    let done = vulndb(&t, &epss_path).await;
    assert_eq!(done.import.status, ImportStatus::Completed, "{done:?}");
    assert_eq!(
        (done.records, done.inserted),
        (rows.len() as u64, rows.len() as u64)
    );
    let version = done.version.expect("model and date");
    assert!(
        version.contains("v2023.03.01") && version.contains("2025-02-20"),
        "{version}"
    );
    let fields: Vec<&str> = rows
        .iter()
        .find(|r| r.starts_with("CVE-1999-0005,"))
        .expect("row")
        .split(',')
        .collect();
    let items = api_findings(&t, acme, "cve=CVE-1999-0005").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["epss"]["score"].as_f64(), fields[1].parse().ok());
    assert_eq!(
        items[0]["epss"]["percentile"].as_f64(),
        fields[2].parse().ok()
    );
    assert!(items[0]["cvss3"].is_null(), "no score anywhere yet");
    assert!(
        risk_of(&t, acme, db1).await.score > unscored.score,
        "EPSS weighs"
    );

    // NVD's CVSS shows where the scanner gave none, and says so; it also
    // weighs the finding instead of the scanner's severity.
    let threat_by_severity = threat_of(&t, acme, db1).await;
    let done = vulndb(&t, &corpus().join("cve/nvd/CVE-2024-3094.json")).await;
    assert!(threat_of(&t, acme, db1).await > threat_by_severity);
    assert_eq!((done.records, done.inserted), (1, 1));
    let items = api_findings(&t, acme, "cve=CVE-2024-3094").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["cvss3"]["score"].as_f64(), Some(10.0));
    assert_eq!(items[0]["cvss_source"], "nvd");
    // Every other score is the scanner's own.
    for f in api_findings(&t, acme, "limit=1000").await {
        let from_nvd = f["cves"] == serde_json::json!(["CVE-2024-3094"]);
        match (f["cvss3"].is_object(), from_nvd) {
            (true, false) => assert_eq!(f["cvss_source"], "scanner", "{f}"),
            (false, _) => assert!(f["cvss_source"].is_null(), "{f}"),
            (true, true) => assert_eq!(f["cvss_source"], "nvd", "{f}"),
        }
    }
    // The asset page carries the same facts.
    let api = t.client().with_bearer(&t.token_for("root@mssp.test").await);
    let page = api
        .api(
            Method::GET,
            &format!("/api/v1/tenants/{acme}/assets/{asset}"),
            None,
        )
        .await
        .json();
    assert!(
        page["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["kev"]["added"] == entry["dateAdded"])
    );

    // The audit trail names both ends of every vulnerability data import.
    let audit = api.api(Method::GET, "/api/v1/audit", None).await.body;
    assert!(audit.contains("inventory.import_started"));
    assert!(audit.contains(&format!("import:{}", done.import.id)));
}

/// An inventory of one host whose package `name` is at `version`.
fn one_package(dir: &Path, name: &str, version: &str) -> PathBuf {
    let path = dir.join(format!("{name}-{version}.csv").replace(':', "_"));
    std::fs::write(
        &path,
        format!(
            "hostname,ip,os,os_version,package,version,architecture\nvm,127.0.0.1,Debian GNU/Linux,12.11,{name},{version},amd64\n"
        ),
    )
    .expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_packages_are_matched_to_cves_by_version() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let inventory = corpus().join("scans/csv/assets-vm-dpkg-inventory.csv");
    // What the inventory says libxpm4 is, read from the file itself.
    let libxpm_version = std::fs::read_to_string(&inventory)
        .expect("inventory")
        .lines()
        .find_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols.get(4) == Some(&"libxpm4")).then(|| cols[5].to_owned())
        })
        .expect("libxpm4 is installed");
    import(&t, acme, &inventory, ImportKind::Assets).await;

    // xz 5.4.1 is not one of the two backdoored releases: no finding.
    let done = vulndb(&t, &corpus().join("cve/nvd/CVE-2024-3094.json")).await;
    assert_eq!(done.matches.new, 0, "{done:?}");
    assert!(done.matches.assets_matched >= 1, "{done:?}");
    assert!(findings(&t, acme, Some("CVE-2024-3094")).await.is_empty());

    // libXpm before 3.5.15: Debian's 3.5.12 build may carry the fix, so
    // the match is only possible, one step below NVD's high.
    let done = vulndb(&t, &corpus().join("cve/nvd/CVE-2022-46285.json")).await;
    assert_eq!(done.matches.new, 1, "{done:?}");
    assert_eq!(done.import.counts.findings_new, 1);
    let check = |list: Vec<Finding>| {
        assert_eq!(list.len(), 1, "{list:?}");
        let f = list.into_iter().next().expect("finding");
        assert_eq!(f.scanner, CPE_MATCH_SCANNER);
        assert_eq!(f.plugin_id, "CVE-2022-46285");
        assert_eq!(
            f.title,
            format!("libxpm4 {libxpm_version}: CVE-2022-46285 (matched by version)")
        );
        assert_eq!(f.severity.as_str(), "medium");
        assert_eq!(f.cvss3.as_ref().map(|s| s.score), Some(7.5));
        let evidence = f.evidence.clone().unwrap_or_default();
        assert!(evidence.contains("libxpm4"), "{evidence}");
        assert!(evidence.contains(&libxpm_version), "{evidence}");
        assert!(evidence.contains("cpe:2.3:a:x.org:libxpm"), "{evidence}");
        assert!(evidence.contains("before 3.5.15"), "{evidence}");
        assert!(
            evidence.contains("possible (the distribution may have back-ported the fix)"),
            "{evidence}"
        );
        f
    };
    let first = check(findings(&t, acme, Some("CVE-2022-46285")).await);
    assert_eq!(first.status, FindingStatus::Open);

    // Importing either file again changes nothing.
    let done = vulndb(&t, &corpus().join("cve/nvd/CVE-2022-46285.json")).await;
    assert_eq!((done.matches.new, done.matches.unchanged), (0, 1));
    import(&t, acme, &inventory, ImportKind::Assets).await;
    let again = check(findings(&t, acme, Some("CVE-2022-46285")).await);
    assert_eq!(again.id, first.id);
    assert_eq!(findings(&t, acme, None).await.len(), 1);

    // An upgrade past the fix marks the match fixed; a downgrade reopens it.
    let dir = tempfile::tempdir().expect("dir");
    import(
        &t,
        acme,
        &one_package(dir.path(), "libxpm4", "1:3.5.17-1"),
        ImportKind::Assets,
    )
    .await;
    let fixed = findings(&t, acme, Some("CVE-2022-46285")).await;
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0].status, FindingStatus::Fixed);
    import(
        &t,
        acme,
        &one_package(dir.path(), "libxpm4", "3.5.12"),
        ImportKind::Assets,
    )
    .await;
    let back = findings(&t, acme, Some("CVE-2022-46285")).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].status, FindingStatus::Reopened);
    assert_eq!(back[0].id, first.id);
    assert_eq!(
        back[0].severity.as_str(),
        "high",
        "3.5.12 is plainly affected"
    );

    // Matching after an asset import: a tenant imported after the NVD data.
    let bravo = t.tenant("bravo").await.id;
    import(&t, bravo, &inventory, ImportKind::Assets).await;
    let matched = findings(&t, bravo, None).await;
    assert_eq!(matched.len(), 1, "{matched:?}");
    assert_eq!(matched[0].plugin_id, "CVE-2022-46285");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_vulnerability_data_is_refused_or_skipped_with_reasons() {
    let t = TestApp::new().await;
    let op = t.operator();

    // A broken EPSS header: nothing is imported, and the import says why.
    let done = vulndb(
        &t,
        &corpus().join("cve/epss/vunnel-epss-invalid-header.csv"),
    )
    .await;
    assert_eq!(done.import.status, ImportStatus::Failed, "{done:?}");
    assert_eq!(done.inserted + done.updated, 0);
    let error = done.import.error.clone().unwrap_or_default();
    assert!(error.contains("cve,epss,percentile"), "{error}");
    assert!(error.contains("vunnel-epss-invalid-header.csv"), "{error}");
    let row = t.app.import_status(&op, done.import.id).await.expect("row");
    assert_eq!(row.status, ImportStatus::Failed);

    // A bad record is skipped and named by its position; the rest import.
    let dir = tempfile::tempdir().expect("dir");
    let nvd = dir.path().join("nvd.json");
    std::fs::write(
        &nvd,
        r#"{"format": "NVD_CVE", "vulnerabilities": [
            {"cve": {"id": "CVE-2024-0001", "descriptions": [{"lang": "en", "value": "one"}]}},
            {"cve": {"id": "not-a-cve"}},
            {"cve": {"id": "CVE-2024-0002"}}
        ]}"#,
    )
    .expect("write");
    let done = vulndb(&t, &nvd).await;
    assert_eq!(done.import.status, ImportStatus::Partial, "{done:?}");
    assert_eq!((done.records, done.inserted, done.skipped), (3, 2, 1));
    assert_eq!(done.skips[0].index, Some(1));
    assert!(
        done.skips[0].reason.contains("not a CVE id"),
        "{:?}",
        done.skips
    );
    let row = t.app.import_status(&op, done.import.id).await.expect("row");
    assert_eq!(row.counts.rejected, 1);
    assert!(row.rejections[0].reason.starts_with("record 1"), "{row:?}");

    // A file that breaks off keeps the records read before the break.
    let full = std::fs::read(corpus().join("cve/nvd/vunnel-full-page.json")).expect("page");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &full[..full.len() * 3 / 5]).expect("write");
    let done = vulndb(&t, &cut).await;
    assert_eq!(done.import.status, ImportStatus::Partial, "{done:?}");
    assert!(done.inserted > 0, "{done:?}");
    assert!(
        done.import
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("ends before"),
        "{done:?}"
    );

    // A scan report is not vulnerability data.
    let err = t
        .app
        .import_vulndb(
            &op,
            &corpus().join("scans/nessus/nessus_many_vuln.xml"),
            None,
            progress(),
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, AppError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("garrison import scan"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_vuln_data_managers_import_it_and_only_they_see_its_imports() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let mut principals: Vec<(Role, Principal, String)> = Vec::new();
    for role in Role::ALL {
        let email = format!("{}@vulndb.test", role.as_str());
        let tenant = (!role.is_mssp()).then_some(acme);
        let (user, _) = t.user(&email, role, tenant).await;
        if matches!(role, Role::MsspAnalyst | Role::MsspEngineer) {
            t.app
                .assign_staff(&t.operator(), user.id, acme)
                .await
                .expect("assign");
        }
        let token = t.token_for(&email).await;
        let p = t
            .app
            .authenticate_token(&token, None)
            .await
            .expect("principal");
        principals.push((role, p, token));
    }
    let epss = corpus().join("cve/epss/vunnel-epss-example-1.csv");
    let mut imported = Vec::new();
    for (role, p, _) in &principals {
        let r = t.app.import_vulndb(p, &epss, None, progress()).await;
        if matches!(role, Role::MsspAdmin | Role::MsspEngineer) {
            imported.push(r.expect("allowed").import.id);
        } else {
            let err = r.expect_err("refused");
            assert!(matches!(err, AppError::Forbidden(_)), "{role}: {err}");
            assert_eq!(err.code(), garrison_core::ErrorCode::Forbidden);
        }
    }
    assert_eq!(imported.len(), 2);

    // The rows belong to no tenant: only those who may import see them.
    for (role, _, token) in &principals {
        let api = t.client().with_bearer(token);
        for id in &imported {
            let r = api
                .api(Method::GET, &format!("/api/v1/imports/{id}"), None)
                .await;
            let expected = if matches!(role, Role::MsspAdmin | Role::MsspEngineer) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(r.status, expected, "{role} GET import {id}: {}", r.body);
        }
        let list = api
            .api(Method::GET, &format!("/api/v1/imports?tenant={acme}"), None)
            .await;
        assert_eq!(list.status, StatusCode::OK);
        for id in &imported {
            assert!(
                !list.body.contains(&id.to_string()),
                "{role}: {}",
                list.body
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_new_finding_fields() {
    let t = TestApp::new().await;
    let doc = t.client().get("/api/v1/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    let finding = &schemas["FindingDto"]["properties"];
    for field in ["kev", "epss", "cvss3", "cvss_source"] {
        assert!(finding[field].is_object(), "FindingDto.{field}: {finding}");
    }
    for (name, fields) in [
        ("KevDto", &["added", "due", "ransomware"][..]),
        ("EpssDto", &["score", "percentile"][..]),
    ] {
        for field in fields {
            assert!(
                schemas[name]["properties"][field].is_object(),
                "{name}.{field} is described"
            );
        }
    }
}

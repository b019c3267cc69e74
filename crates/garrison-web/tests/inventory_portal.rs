//! The inventory pages doing their jobs: an upload that runs in the
//! background and lands in the lists, an edit that keeps the scanner's
//! fields the scanner's, a status change that needs a reason, bulk edits,
//! escaping of what scanners write, and CSV exports that a spreadsheet
//! cannot turn into formulas.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use garrison_core::Role;
use garrison_testkit::{SignedIn, TestApp, wait_for};
use serde_json::json;

const BOUNDARY: &str = "inventory-portal-boundary";

/// A Nessus report whose host name carries markup and whose finding
/// carries a formula, as a hostile or careless scanner might write them.
fn nessus(findings: &[(&str, &str)]) -> String {
    let items: String = findings
        .iter()
        .map(|(id, name)| {
            format!(
                "<ReportItem port=\"443\" svc_name=\"www\" protocol=\"tcp\" severity=\"3\" pluginID=\"{id}\" pluginName=\"{name}\">\
                 <cvss3_base_score>7.5</cvss3_base_score><cve>CVE-2021-44228</cve><plugin_output>&lt;img src=x onerror=alert(1)&gt;</plugin_output></ReportItem>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" ?>\n<NessusClientData_v2><Report name=\"weekly\"><ReportHost name=\"10.9.0.7\"><HostProperties>\
         <tag name=\"host-ip\">10.9.0.7</tag><tag name=\"hostname\">web&lt;script&gt;alert(1)&lt;/script&gt;</tag>\
         <tag name=\"operating-system\">Debian GNU/Linux 12</tag></HostProperties>{items}</ReportHost></Report></NessusClientData_v2>\n"
    )
}

fn multipart(fields: &[(&str, &str)], file_name: &str, content: &str) -> Vec<u8> {
    let mut out = String::new();
    for (k, v) in fields {
        out.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    out.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    ));
    out.into_bytes()
}

/// Uploads through the portal's form and waits for the import to finish;
/// returns the import page's path.
async fn upload(s: &SignedIn, tenant: &str, kind: &str, name: &str, content: &str) -> String {
    let body = multipart(
        &[("csrf", &s.csrf), ("tenant", tenant), ("kind", kind)],
        name,
        content,
    );
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = s
        .client
        .send(Method::POST, "/imports", Some((&ct, body)))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location().expect("location").to_owned();
    assert!(page.starts_with("/imports/"), "{page}");
    let id = page.trim_start_matches("/imports/").to_owned();
    let done = wait_for(Duration::from_secs(30), || async {
        let r = s.client.get(&format!("/api/v1/imports/{id}")).await;
        let status = r.json()["status"].as_str().unwrap_or_default().to_owned();
        (status != "queued" && status != "running").then_some((status, r.body))
    })
    .await
    .expect("the import finished");
    assert_eq!(done.0, "completed", "{}", done.1);
    page
}

fn asset_link(page: &str) -> String {
    let start = page
        .find("/tenants/")
        .and_then(|i| page[i..].find("/assets/").map(|j| i + j))
        .expect("an asset link");
    let from = page[..start].rfind("href=\"").expect("href") + 6;
    let end = page[from..].find('"').expect("end") + from;
    page[from..end].to_owned()
}

#[tokio::test]
async fn an_uploaded_scan_lands_in_the_lists_and_the_asset_page() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let s = t
        .signed_in("analyst@mssp.test", Role::MsspAdmin, None)
        .await;
    let tenant = acme.id.to_string();

    let import_page = upload(
        &s,
        &tenant,
        "scan",
        "weekly.nessus",
        &nessus(&[
            ("1001", "Apache Log4j RCE"),
            ("1002", "=HYPERLINK(&quot;http://x&quot;)"),
        ]),
    )
    .await;
    let page = s.client.get(&import_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("completed"), "{}", page.body);
    assert!(
        page.body
            .contains("<dt>New findings</dt><dd data-count=\"findings_new\">2</dd>"),
        "the summary counts: {}",
        page.body
    );

    // The list shows the asset, with the scanner's markup escaped.
    let list = s.client.get(&format!("/assets?tenant={tenant}")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("web&#60;script&#62;"), "{}", list.body);
    assert!(!list.body.contains("web<script>"));
    assert!(list.body.contains("10.9.0.7"));

    // The asset page: profile with sources, findings, evidence escaped.
    let asset = asset_link(&list.body);
    let page = s.client.get(&asset).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Apache Log4j RCE"));
    assert!(page.body.contains("CVE-2021-44228"));
    assert!(page.body.contains("Debian GNU/Linux 12"));
    assert!(
        page.body.contains("scan:nessus"),
        "the OS's source is shown"
    );
    assert!(!page.body.contains("<img src=x"), "evidence is escaped");
    assert!(page.body.contains("&#60;img src=x onerror=alert(1)&#62;"));

    // The findings list and its export.
    let findings = s.client.get(&format!("/findings?tenant={tenant}")).await;
    assert!(findings.body.contains("Apache Log4j RCE"));
    assert!(findings.body.contains("2 findings"), "{}", findings.body);
    let csv = s
        .client
        .get(&format!("/findings.csv?tenant={tenant}"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    assert!(
        csv.body.contains("'=HYPERLINK"),
        "a formula is neutralised: {}",
        csv.body
    );
    assert!(!csv.body.contains(",=HYPERLINK") && !csv.body.contains("\"=HYPERLINK"));
}

#[tokio::test]
async fn editing_keeps_the_scanners_fields_and_status_changes_need_a_reason() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let s = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let tenant = acme.id.to_string();
    upload(
        &s,
        &tenant,
        "scan",
        "a.nessus",
        &nessus(&[("1001", "Apache Log4j RCE")]),
    )
    .await;
    let list = s.client.get(&format!("/assets?tenant={tenant}")).await;
    let asset = asset_link(&list.body);
    let page = s.client.get(&asset).await;
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let i = page.body.find(&marker).map(|i| i + marker.len());
        i.map(|i| page.body[i..i + page.body[i..].find('"').expect("end")].to_owned())
            .unwrap_or_default()
    };
    // Post the whole form back with only the owner and criticality changed.
    let hostname = field("hostname");
    let os = field("os");
    let ips = field("ips");
    let r = s
        .client
        .post_form(
            &asset,
            &[
                ("csrf", &s.csrf),
                ("hostname", &html_unescape(&hostname)),
                ("os", &os),
                ("ips", &ips),
                ("owner", "Web Team"),
                ("criticality", "critical"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.client.get(r.location().expect("location")).await;
    assert!(page.body.contains("The asset was saved"));
    let row = |label: &str| {
        let i = page
            .body
            .find(&format!("<th scope=\"row\">{label}</th>"))
            .expect(label);
        let end = page.body[i..].find("</tr>").expect("row end") + i;
        page.body[i..end].to_owned()
    };
    assert!(row("Owner").contains("manual"), "{}", row("Owner"));
    assert!(row("Criticality").contains("manual"));
    assert!(
        row("Operating system").contains("scan:nessus"),
        "an unchanged field keeps its source: {}",
        row("Operating system")
    );
    assert!(row("Host name").contains("scan:nessus"));

    // A status change without a reason is refused on the page.
    let finding_form = page
        .body
        .find("/findings/")
        .map(|i| {
            let from = page.body[..i].rfind("action=\"").expect("action") + 8;
            let end = page.body[from..].find('"').expect("end") + from;
            page.body[from..end].to_owned()
        })
        .expect("a status form");
    let asset_id = asset.rsplit('/').next().expect("id").to_owned();
    let r = s
        .client
        .post_form(
            &finding_form,
            &[
                ("csrf", &s.csrf),
                ("asset", &asset_id),
                ("status", "false_positive"),
                ("reason", "  "),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("reason"), "the page says why: {}", r.body);
    assert!(r.body.contains("Apache Log4j RCE"), "on the asset's page");

    // Accepting a risk needs an end date; with both it is accepted.
    let r = s
        .client
        .post_form(
            &finding_form,
            &[
                ("csrf", &s.csrf),
                ("asset", &asset_id),
                ("status", "accepted_risk"),
                ("reason", "compensating WAF rule"),
                ("accepted_until", "2099-01-31"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.client.get(&asset).await;
    assert!(page.body.contains("No open findings."));
    assert!(page.body.contains("compensating WAF rule"));

    // Bulk: tag every selected asset; the filter by tag finds it.
    let r = s
        .client
        .post_form(
            "/assets/bulk",
            &[
                ("csrf", &s.csrf),
                ("tenant", &tenant),
                ("asset", &asset_id),
                ("add_tags", "dmz"),
                ("criticality", "high"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let tagged = s
        .client
        .get(&format!("/assets?tenant={tenant}&tag=dmz"))
        .await;
    assert!(tagged.body.contains("1 asset<"), "{}", tagged.body);
    let untagged = s
        .client
        .get(&format!("/assets?tenant={tenant}&tag=nothing"))
        .await;
    assert!(untagged.body.contains("0 assets"));
    assert!(untagged.body.contains("No assets match"));
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_import_or_edit() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let admin = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let tenant = acme.id.to_string();
    upload(
        &admin,
        &tenant,
        "assets",
        "list.csv",
        "hostname,ip,criticality\nfile01,10.1.1.1,high\n",
    )
    .await;
    let viewer = t
        .signed_in("viewer@acme.test", Role::CustomerViewer, Some(acme.id))
        .await;
    let list = viewer.client.get("/assets").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("file01"));
    assert!(
        !list.body.contains("Add an asset by hand")
            && !list.body.contains("action=\"/assets/bulk\""),
        "no edit forms for a viewer"
    );
    let imports = viewer.client.get("/imports").await;
    assert!(imports.body.contains("list.csv"));
    assert!(!imports.body.contains("id=\"upload-form\""));
    let body = multipart(
        &[
            ("csrf", &viewer.csrf),
            ("tenant", &tenant),
            ("kind", "assets"),
        ],
        "x.csv",
        "hostname\nsneaky\n",
    );
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = viewer
        .client
        .send(Method::POST, "/imports", Some((&ct, body)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let list = viewer.client.get("/assets").await;
    assert!(!list.body.contains("sneaky"));
}

#[tokio::test]
async fn an_upload_with_a_bad_token_or_no_tenant_stores_nothing() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let s = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = multipart(
        &[("csrf", "forged"), ("tenant", &acme.id.to_string())],
        "x.csv",
        "hostname\nforged\n",
    );
    let r = s
        .client
        .send(Method::POST, "/imports", Some((&ct, body)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let body = multipart(&[("csrf", &s.csrf)], "x.csv", "hostname\nnotenant\n");
    let r = s
        .client
        .send(Method::POST, "/imports", Some((&ct, body)))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("choose the tenant"), "{}", r.body);
    let imports = s.client.get("/api/v1/imports").await;
    assert_eq!(imports.json().as_array().map(Vec::len), Some(0));
    let uploads = std::fs::read_dir(&t.web_config().upload_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(uploads, 0, "no upload was left on disk");
}

fn html_unescape(s: &str) -> String {
    s.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

#[tokio::test]
async fn a_tenants_risk_weights_rescore_its_assets_and_are_checked() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await;
    let admin = t.signed_in("root@mssp.test", Role::MsspAdmin, None).await;
    let tenant = acme.id.to_string();
    upload(
        &admin,
        &tenant,
        "assets",
        "list.csv",
        "hostname,ip,criticality\ndb01,10.1.1.1,critical\nkiosk,10.1.1.2,low\n",
    )
    .await;
    let api = t.client().with_bearer(&t.token_for("root@mssp.test").await);
    let score_of = |name: &'static str| {
        let api = api.clone();
        let tenant = tenant.clone();
        async move {
            let page = api
                .get(&format!("/api/v1/assets?tenant={tenant}&q={name}"))
                .await
                .json();
            page["items"][0]["risk_score"].as_f64().expect("score")
        }
    };
    let (db, kiosk) = (score_of("db01").await, score_of("kiosk").await);
    assert!(db > kiosk, "critical above low with the defaults");

    let path = format!("/api/v1/tenants/{tenant}/risk-weights");
    let w = api.get(&path).await.json();
    assert_eq!(w["defaults"], true);
    assert_eq!(w["kev"], 2.0);

    // Bad weights are refused with the field named; nothing changes.
    for (body, field) in [
        (json!({"kev": -1}), "kev"),
        (json!({"saturation": 0}), "saturation"),
        (json!({"baseline": 1.5}), "baseline"),
    ] {
        let r = api.api(Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.json()["error"]["field"], field, "{}", r.body);
    }
    let r = api.api(Method::PUT, &path, Some(json!({"kve": 3}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("kve"),
        "the unknown key is named: {}",
        r.body
    );
    assert_eq!(api.get(&path).await.json()["defaults"], true);

    // Turning the criticality weights around rescores every asset.
    let r = api
        .api(
            Method::PUT,
            &path,
            Some(json!({"criticality": [4.0, 3.0, 2.0, 1.0]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["defaults"], false);
    assert_eq!(r.json()["kev"], 2.0, "left-out keys keep their defaults");
    let (db, kiosk) = (score_of("db01").await, score_of("kiosk").await);
    assert!(kiosk > db, "the tenant's weights are used: {kiosk} vs {db}");
    let audit = api
        .get(&format!("/api/v1/audit?tenant={tenant}"))
        .await
        .body;
    assert!(audit.contains("tenant.risk_weights_changed"));

    // The tenant page shows them; its reset button restores the defaults.
    let page = admin.client.get(&format!("/tenants/{tenant}")).await;
    assert!(page.body.contains("This tenant has its own weights."));
    assert!(page.body.contains("id=\"w-criticality_low\" name=\"criticality_low\" type=\"number\" step=\"any\" min=\"0\" max=\"100\" required value=\"4\""), "{}", page.body);
    let r = admin
        .client
        .post_form(
            &format!("/tenants/{tenant}/risk-weights"),
            &[("csrf", &admin.csrf), ("reset", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(api.get(&path).await.json()["defaults"], true);
    let (db, kiosk) = (score_of("db01").await, score_of("kiosk").await);
    assert!(db > kiosk);

    // A typo in the form is shown on the page.
    let r = admin
        .client
        .post_form(
            &format!("/tenants/{tenant}/risk-weights"),
            &[("csrf", &admin.csrf), ("kev", "lots")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is not a number"), "{}", r.body);

    // A responder of the tenant reads them but cannot change them.
    let responder = t
        .signed_in("resp@acme.test", Role::CustomerResponder, Some(acme.id))
        .await;
    let page = responder.client.get(&format!("/tenants/{tenant}")).await;
    assert!(page.body.contains("Risk weights"));
    assert!(
        !page.body.contains("/risk-weights\""),
        "no weights form for a responder"
    );
}

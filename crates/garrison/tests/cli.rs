//! End to end: the real binary on a temporary data directory, driven as an
//! operator would drive it.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{Garrison, login};
use garrison_testkit::https_client;
use serde_json::Value;

#[tokio::test]
async fn cli_creates_a_tenant_a_user_and_a_token_that_sees_only_its_tenant() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme", "--name", "Acme Corp"]);
    g.ok(&["tenant", "create", "bravo"]);
    let out = g.ok(&[
        "user",
        "create",
        "a@acme.test",
        "--role",
        "customer-admin",
        "--tenant",
        "acme",
    ]);
    assert!(out.contains("One-time password:"), "{out}");
    let other = g.ok(&[
        "user",
        "create",
        "b@bravo.test",
        "--role",
        "customer-viewer",
        "--tenant",
        "bravo",
        "--json",
    ]);
    let other: Value = serde_json::from_str(&other).expect("json");
    let token = g
        .ok(&["token", "create", "--user", "a@acme.test", "--name", "ci"])
        .trim()
        .to_owned();
    assert!(token.starts_with("grn_"), "{token}");

    let tenants: Value = serde_json::from_str(&g.ok(&["tenant", "list", "--json"])).expect("json");
    let bravo_id = tenants
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["slug"] == "bravo")
        .and_then(|t| t["id"].as_str())
        .expect("bravo")
        .to_owned();

    let server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        server.url.starts_with("https://"),
        "HTTPS by default: {}",
        server.url
    );
    let http = https_client(None);
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", server.url);
        let token = token.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
        }
    };
    let r = get("/api/v1/tenants".to_owned()).await;
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().await.expect("json");
    let slugs: Vec<_> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["slug"].clone())
        .collect();
    assert_eq!(slugs, [Value::from("acme")]);
    for path in [
        format!("/api/v1/tenants/{bravo_id}"),
        format!("/api/v1/tenants/{bravo_id}/staff"),
        format!("/api/v1/users/{}", other["id"].as_str().expect("id")),
        format!("/api/v1/users?tenant={bravo_id}"),
        format!("/api/v1/audit?tenant={bravo_id}"),
    ] {
        assert_eq!(get(path.clone()).await.status(), 404, "{path}");
    }
    let hsts = get("/api/v1/me".to_owned()).await;
    assert!(hsts.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn audit_verify_names_an_edited_a_deleted_and_an_inserted_record() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme"]);
    g.ok(&["tenant", "create", "bravo"]);
    g.ok(&[
        "user",
        "create",
        "a@acme.test",
        "--role",
        "customer-viewer",
        "--tenant",
        "acme",
    ]);
    let ok = g.ok(&["audit", "verify"]);
    assert!(ok.contains("intact: 3 record"), "{ok}");

    sqlx::any::install_default_drivers();
    let url = g
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", g.data_dir().join("garrison.db").display()));
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    let record2_id: String = sqlx::query_scalar("SELECT id FROM audit_log WHERE seq = 2")
        .fetch_one(&pool)
        .await
        .expect("record 2");

    // Edit one byte: "bravo" becomes "bravp" in the details of record 2.
    sqlx::query("UPDATE audit_log SET details = replace(details, 'bravo', 'bravp') WHERE seq = 2")
        .execute(&pool)
        .await
        .expect("edit");
    let out = g.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record #2") && err.contains(&record2_id) && err.contains("altered"),
        "{err}"
    );
    sqlx::query("UPDATE audit_log SET details = replace(details, 'bravp', 'bravo') WHERE seq = 2")
        .execute(&pool)
        .await
        .expect("restore");
    assert!(g.run(&["audit", "verify"]).status.success(), "restored");

    // Delete a record in the middle.
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&pool)
        .await
        .expect("delete");
    let out = g.run(&["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    let faults = report["faults"].as_array().expect("faults");
    assert!(
        faults
            .iter()
            .any(|f| f["fault"] == "missing" && f["from_seq"] == 2),
        "{report}"
    );
    assert!(
        faults
            .iter()
            .any(|f| f["fault"] == "broken_link" && f["seq"] == 3),
        "{report}"
    );

    // Insert a forged record at the end.
    sqlx::query(
        "INSERT INTO audit_log (seq, id, at, actor_label, action, target, outcome, details, prev_hash, hash)
         SELECT 99, '01a00000-0000-7000-8000-000000000000', at, 'mallory', 'user.created', 'user:x', 'success', '{}', hash, hash
         FROM audit_log WHERE seq = 3",
    )
    .execute(&pool)
    .await
    .expect("insert");
    let out = g.run(&["audit", "verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record #99") && err.contains("01a00000-0000-7000-8000-000000000000"),
        "{err}"
    );
    pool.close().await;
}

#[tokio::test]
async fn configuration_errors_exit_2_and_say_what_is_wrong() {
    let g = Garrison::new().await;
    std::fs::create_dir_all(g.data_dir()).expect("dir");
    std::fs::write(
        g.data_dir().join("garrison.toml"),
        "[server]\nlisten = \"not an address\"\n",
    )
    .expect("write");
    let out = g.run(&["tenant", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.listen") && err.contains("not an address"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    std::fs::remove_file(g.data_dir().join("garrison.toml")).expect("rm");
    let out = g.run(&["user", "create", "x@y.test", "--role", "root"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown role `root`"), "{err}");
    let out = g.run(&[
        "user",
        "create",
        "x@y.test",
        "--role",
        "customer-viewer",
        "--tenant",
        "nope",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant has the slug `nope`"));
    let out = g.run(&["serve", "--role", "correlate"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not available"),
        "roles of later versions are named"
    );
}

#[tokio::test]
async fn migrate_reports_the_schema_version() {
    let g = Garrison::new().await;
    let first: Value = serde_json::from_str(&g.ok(&["migrate", "--json"])).expect("json");
    let current = first["current"].as_i64().expect("current");
    assert!(current >= 2, "{first}");
    assert_eq!(
        first["applied"].as_array().map(Vec::len),
        Some(usize::try_from(current).expect("count"))
    );
    let again = g.ok(&["migrate"]);
    assert!(
        again.contains(&format!("up to date (schema version {current})")),
        "{again}"
    );
}

#[tokio::test]
async fn a_throttled_address_does_not_lock_the_user_out_from_another() {
    let g = Garrison::new().await;
    let created = g.ok(&[
        "user",
        "create",
        "ops@mssp.test",
        "--role",
        "mssp-admin",
        "--json",
    ]);
    let password = serde_json::from_str::<Value>(&created).expect("json")["one_time_password"]
        .as_str()
        .expect("pw")
        .to_owned();
    let server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    let attacker = https_client(Some("127.0.0.1".parse::<IpAddr>().expect("ip")));
    let mut last = None;
    for _ in 0..20 {
        let r = login(&attacker, &server.url, "ops@mssp.test", "wrong wrong wrong").await;
        last = Some((r.status().as_u16(), r.headers().get("retry-after").cloned()));
    }
    let (status, retry) = last.expect("responses");
    assert_eq!(status, 429);
    assert!(retry.is_some(), "Retry-After is sent");

    let user = https_client(Some("127.0.0.2".parse::<IpAddr>().expect("ip")));
    let r = login(&user, &server.url, "ops@mssp.test", &password).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login/password");
}

#[tokio::test]
async fn demo_is_idempotent_and_each_run_prints_a_working_password() {
    let g = Garrison::new().await;
    let first = g.start(&["demo", "--listen", "127.0.0.1:0"]);
    let pw1 = first.printed("Password:").expect("password printed");
    assert_eq!(
        first.printed("Login:").as_deref(),
        Some("admin@mssp.example")
    );
    drop(first);
    let second = g.start(&["demo", "--listen", "127.0.0.1:0"]);
    let pw2 = second.printed("Password:").expect("password printed");
    assert_ne!(pw1, pw2);
    let http = https_client(None);
    assert_eq!(
        login(&http, &second.url, "admin@mssp.example", &pw1)
            .await
            .status(),
        401
    );
    let r = login(&http, &second.url, "admin@mssp.example", &pw2).await;
    assert_eq!(r.headers()["location"], "/login/password");

    // The demo's sensors stream events into each tenant, made from its
    // own hosts; a customer sees only its own.
    let acme_token = g
        .ok(&[
            "token",
            "create",
            "--user",
            "it-lead@acme.example",
            "--name",
            "events",
        ])
        .trim()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let events = loop {
        let page: Value = http
            .get(format!("{}/api/v1/events?limit=500", second.url))
            .bearer_auth(&acme_token)
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("json");
        let sources: std::collections::BTreeSet<String> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["source_id"].as_str().map(str::to_owned))
            .collect();
        // A failure guard, not a timing assertion.
        if sources.len() >= 3 || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let items = events["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|e| e["source_id"] == "demo:edge-fw" && e["parser"] == "cef"),
        "the edge firewall streams CEF: {events}"
    );
    let listed: Value = serde_json::from_str(&g.ok(&["tenant", "list", "--json"])).expect("json");
    let acme_id = listed
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["slug"] == "acme"))
        .map(|t| t["id"].clone())
        .expect("acme");
    assert!(
        items.iter().all(|e| e["tenant_id"] == acme_id),
        "acme's events only"
    );
    // The stream raises offenses: attacks from the MSSP's threat feed and
    // exploits of CVEs open on acme's hosts; acme sees its own only.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let offenses = loop {
        let page: Value = http
            .get(format!("{}/api/v1/offenses?limit=200", second.url))
            .bearer_auth(&acme_token)
            .send()
            .await
            .expect("offenses")
            .json()
            .await
            .expect("json");
        let items = page["items"].as_array().expect("items");
        let indicator = items.iter().any(|o| o["detector_kind"] == "indicator");
        let exploit = items.iter().any(|o| {
            o["detector_kind"] == "sensor"
                && o["explanation"][2]
                    .as_str()
                    .is_some_and(|w| w.contains("open on the destination"))
        });
        // A failure guard, not a timing assertion: the stream sends an
        // exploit of an open CVE every few seconds.
        if (indicator && exploit) || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let list = offenses["items"].as_array().expect("items");
    assert!(
        list.iter().any(|o| o["detector_kind"] == "indicator"),
        "the demo feed's addresses are seen: {offenses}"
    );
    assert!(
        list.iter().any(|o| o["detector_kind"] == "sensor"
            && o["explanation"][2]
                .as_str()
                .is_some_and(|w| w.contains("open on the destination"))),
        "an exploit of an open CVE ranks with its reason: {offenses}"
    );
    assert!(list.iter().all(|o| o["tenant_id"] == acme_id));
    drop(second);
    let tenants: Value = serde_json::from_str(&g.ok(&["tenant", "list", "--json"])).expect("json");
    assert_eq!(
        tenants.as_array().map(Vec::len),
        Some(2),
        "no duplicates: {tenants}"
    );
    let users: Value = serde_json::from_str(&g.ok(&["user", "list", "--json"])).expect("json");
    assert_eq!(users.as_array().map(Vec::len), Some(7), "{users}");

    // The demo inventory: imported once, through the real importers.
    let server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    let get = |who: &'static str, path: String| {
        let http = http.clone();
        let url = format!("{}{path}", server.url);
        let token = g
            .ok(&["token", "create", "--user", who, "--name", "demo-check"])
            .trim()
            .to_owned();
        async move {
            let r = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        }
    };
    let id_of = |slug: &str| {
        tenants
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["slug"] == slug))
            .and_then(|t| t["id"].as_str())
            .expect("tenant")
            .to_owned()
    };
    let (acme, globex) = (id_of("acme"), id_of("globex"));
    let week1 = include_str!("../demo/acme-nessus-week1.nessus");
    let hosts = week1.matches("<tag name=\"host-ip\">").count();
    let assets = get(
        "analyst@mssp.example",
        format!("/api/v1/assets?tenant={acme}&limit=500"),
    )
    .await;
    assert_eq!(
        assets["total"].as_u64(),
        Some(hosts as u64),
        "one asset per scanned host, CMDB rows merged into them"
    );
    let top = &assets["items"][0];
    assert!(
        top["kev_findings"].as_u64().is_some_and(|k| k > 0),
        "the riskiest asset has a known-exploited finding: {top}"
    );
    let file01 = assets["items"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["hostname"] == "file-01"))
        .expect("file-01");
    assert_eq!(file01["criticality"], "critical");
    assert_eq!(file01["sources"]["criticality"], "manual");
    let fixed = get(
        "analyst@mssp.example",
        format!("/api/v1/findings?tenant={acme}&status=fixed"),
    )
    .await;
    assert!(
        fixed["total"].as_u64().is_some_and(|n| n > 0),
        "week 2 fixed some of week 1's findings"
    );
    let accepted = get(
        "analyst@mssp.example",
        format!("/api/v1/findings?tenant={acme}&status=accepted_risk"),
    )
    .await;
    assert_eq!(accepted["total"], 1);
    let imports = get("analyst@mssp.example", "/api/v1/imports".to_owned()).await;
    // The KEV excerpt is platform data, not a tenant's import, so the
    // analyst's list holds the six tenant files, each imported once.
    let imports = imports.as_array().expect("imports");
    assert_eq!(imports.len(), 6, "six demo files, once: {imports:?}");
    assert!(
        imports.iter().all(|i| i["status"] == "completed"),
        "{imports:?}"
    );
    let globex_assets = get("ciso@globex.example", "/api/v1/assets?limit=500".to_owned()).await;
    assert!(globex_assets["total"].as_u64().is_some_and(|n| n > 0));
    assert!(
        globex_assets["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|a| a["tenant_id"] == globex.as_str()),
        "a customer sees only its own inventory"
    );
}

#[tokio::test]
async fn insecure_http_serves_plain_http_for_a_proxy() {
    let g = Garrison::new().await;
    let server = g.start(&["serve", "--listen", "127.0.0.1:0", "--insecure-http"]);
    assert!(server.url.starts_with("http://"), "{}", server.url);
    let r = https_client(None)
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    assert!(
        !g.data_dir().join("tls").exists(),
        "no certificate is generated"
    );
}

#[tokio::test]
async fn a_change_whose_audit_record_cannot_be_written_does_not_happen() {
    let g = Garrison::new().await;
    g.ok(&["migrate"]);
    sqlx::any::install_default_drivers();
    let url = g
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", g.data_dir().join("garrison.db").display()));
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    let block = if url.starts_with("postgres") {
        "CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$;
         CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION no_audit();"
    } else {
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END;"
    };
    sqlx::raw_sql(block)
        .execute(&pool)
        .await
        .expect("block audit writes");

    let out = g.run(&["tenant", "create", "acme"]);
    assert_eq!(out.status.code(), Some(1), "the action fails");
    let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(tenants, 0, "and leaves nothing behind");

    let unblock = if url.starts_with("postgres") {
        "DROP TRIGGER no_audit ON audit_log"
    } else {
        "DROP TRIGGER no_audit"
    };
    sqlx::raw_sql(unblock)
        .execute(&pool)
        .await
        .expect("unblock");
    pool.close().await;
    g.ok(&["tenant", "create", "acme"]);
    assert!(g.ok(&["audit", "verify"]).contains("intact"));
}

#[tokio::test]
async fn given_certificate_files_are_served() {
    let first = Garrison::new().await;
    let server = first.start(&["serve", "--listen", "127.0.0.1:0"]);
    let fingerprint = server
        .lines
        .iter()
        .find_map(|l| {
            l.strip_prefix("TLS certificate SHA-256 fingerprint: ")
                .map(str::to_owned)
        })
        .expect("fingerprint printed");
    drop(server);
    let tls = first.data_dir().join("tls");
    let second = Garrison::new().await;
    let cert = tls.join("cert.pem");
    let key = tls.join("key.pem");
    let server = second.start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(
        server.lines.iter().any(|l| l.ends_with(&fingerprint)),
        "the given certificate is used: {:?}",
        server.lines
    );
    assert!(
        !second.data_dir().join("tls").exists(),
        "no certificate was generated"
    );
    let r = https_client(None)
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn ingest_stores_a_log_file_and_prints_a_summary() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme"]);
    let file = g.dir.path().join("small.log");
    std::fs::write(
        &file,
        "<36>1 2026-11-22T21:34:50+00:00 vm sshd 2214 - -  Failed password for admin\n\
         <38>1 2026-11-22T21:34:51+00:00 vm sshd 2214 - -  Connection closed\n\
         \n\
         <36>1 2026-11-22T21:34:52+00:00 vm sshd 2215 - -  Failed password for root\n\
         this is not syslog\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf-8 path");
    let out = g.ok(&["ingest", path, "--tenant", "acme", "--format", "rfc5424"]);
    assert!(out.contains("4 lines: 3 stored, 1 failed"), "{out}");
    assert!(out.contains("small.log:5: rfc5424: "), "{out}");

    let json: Value = serde_json::from_str(&g.ok(&[
        "ingest", path, "--tenant", "acme", "--format", "rfc5424", "--json",
    ]))
    .expect("json");
    assert_eq!(json["tenant"], "acme", "{json}");
    assert_eq!(json["stored"], 3, "{json}");
    assert_eq!(json["failures"][0]["line"], 5, "{json}");

    let out = g.run(&["ingest", path, "--tenant", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no tenant has the slug `nope`"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let out = g.run(&["ingest", path, "--tenant", "acme", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2), "a bad format is a usage error");

    let help = g.ok(&["ingest", "--help"]);
    for name in [
        "auto", "rfc3164", "cef", "leef", "suricata", "zeek", "windows",
    ] {
        assert!(help.contains(name), "{name}: {help}");
    }
}

#[tokio::test]
async fn events_purge_deletes_what_is_past_retention_and_prints_a_summary() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme"]);
    g.ok(&["tenant", "create", "bravo"]);
    let file = g.dir.path().join("old.log");
    // Two events of 2020, one of a minute ago (RFC 5424 with no time:
    // the receive time).
    std::fs::write(
        &file,
        "<36>1 2020-01-01T00:00:00+00:00 vm sshd 1 - -  old one\n\
         <36>1 2020-06-01T00:00:00+00:00 vm sshd 1 - -  old two\n\
         <36>1 - vm sshd 1 - -  recent\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf-8 path");
    for tenant in ["acme", "bravo"] {
        g.ok(&["ingest", path, "--tenant", tenant, "--format", "rfc5424"]);
    }
    let out = g.ok(&["events", "retention"]);
    assert!(out.contains("acme: events kept 90 days"), "{out}");
    let out = g.ok(&["events", "retention", "--tenant", "acme", "--days", "30"]);
    assert_eq!(out.trim(), "acme: events kept 30 days");

    let out = g.ok(&["events", "purge", "--tenant", "acme"]);
    assert!(
        out.contains("acme: 2 events older than 30 days deleted"),
        "{out}"
    );
    assert!(out.contains("Purged 2 events in 1 tenant."), "{out}");
    assert!(!out.contains("bravo"), "{out}");
    let json: Value = serde_json::from_str(&g.ok(&["events", "purge", "--json"])).expect("json");
    assert_eq!(
        json["purged"], 2,
        "bravo's two, acme's already gone: {json}"
    );
    assert_eq!(json["failed"], 0, "{json}");
    assert_eq!(json["tenants"].as_array().map(Vec::len), Some(2), "{json}");

    let out = g.run(&["events", "purge", "--tenant", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no tenant has the slug `nope`"), "{err}");
    let out = g.run(&["events", "retention", "--tenant", "acme", "--days", "0"]);
    assert!(!out.status.success());
    let out = g.run(&["events", "retention", "--days", "7"]);
    assert_eq!(out.status.code(), Some(2), "--days needs --tenant");
}

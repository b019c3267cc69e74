//! End to end: `garrison serve` with syslog listeners from `garrison.toml`,
//! fed by util-linux `logger` and a raw TCP connection, and the events
//! read back through the API as the tenant's users would.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Garrison, free_port, logger};
use garrison_testkit::https_client;
use serde_json::Value;

fn user_token(g: &Garrison, email: &str, tenant: &str) -> String {
    g.ok(&[
        "user",
        "create",
        email,
        "--role",
        "customer-admin",
        "--tenant",
        tenant,
    ]);
    g.ok(&["token", "create", "--user", email, "--name", "syslog-test"])
        .trim()
        .to_owned()
}

#[tokio::test]
async fn serve_receives_syslog_over_tcp_and_udp_into_the_listeners_tenant() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme"]);
    g.ok(&["tenant", "create", "bravo"]);
    let acme_token = user_token(&g, "a@acme.test", "acme");
    let bravo_token = user_token(&g, "b@bravo.test", "bravo");
    let tenants: Value = serde_json::from_str(&g.ok(&["tenant", "list", "--json"])).expect("json");
    let acme_id = tenants
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["slug"] == "acme")
        .and_then(|t| t["id"].as_str())
        .expect("acme")
        .to_owned();

    let (tcp, udp) = (free_port(false), free_port(true));
    let config = g.dir.path().join("garrison.toml");
    std::fs::write(
        &config,
        format!(
            "[[ingest.listeners]]\nid = \"acme-tcp\"\ntenant = \"acme\"\nkind = \"tcp\"\n\
             listen = \"127.0.0.1:{tcp}\"\n\n\
             [[ingest.listeners]]\nid = \"acme-udp\"\ntenant = \"acme\"\nkind = \"udp\"\n\
             listen = \"127.0.0.1:{udp}\"\nallow = [\"127.0.0.0/8\"]\n"
        ),
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path").to_owned();

    // An unknown tenant is a configuration error, found before serving.
    let bad = g.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[[ingest.listeners]]\nid = \"x\"\ntenant = \"nope\"\nkind = \"tcp\"\n\
             listen = \"127.0.0.1:{tcp}\"\n"
        ),
    )
    .expect("write config");
    let out = g.run(&[
        "--config",
        bad.to_str().expect("utf-8 path"),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2), "a configuration error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ingest.listeners[0].tenant") && err.contains("`nope`"),
        "{err}"
    );

    let server = g.start(&["--config", &config, "serve", "--listen", "127.0.0.1:0"]);

    logger("--tcp", tcp, "unique-id-1 over tcp");
    logger("--udp", udp, "unique-id-2 over udp");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", tcp)).expect("connect");
    stream
        .write_all(b"CEF:0|Garrison|Test|1.0|100|unique-id-3 over cef|5|src=10.1.2.3 suser=alice\n")
        .expect("send CEF");
    stream
        .write_all(
            b"LEEF:2.0|Garrison|Test|1.0|4625|^|src=10.1.2.4^usrName=bob^msg=unique-id-4 over leef\n",
        )
        .expect("send LEEF");
    drop(stream);

    let http = https_client(None);
    let search = |token: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/events?f=q%3Dunique-id-&limit=100", server.url);
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
    // A failure guard, not a performance assertion.
    let deadline = Instant::now() + Duration::from_secs(10);
    let page = loop {
        let page = search(acme_token.clone()).await;
        if page["items"].as_array().is_some_and(|i| i.len() >= 4) || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let items = page["items"].as_array().expect("items");
    for (id, source) in [
        ("unique-id-1", "acme-tcp"),
        ("unique-id-2", "acme-udp"),
        ("unique-id-3", "acme-tcp"),
        ("unique-id-4", "acme-tcp"),
    ] {
        let event = items
            .iter()
            .find(|e| e["original"].as_str().is_some_and(|o| o.contains(id)))
            .unwrap_or_else(|| panic!("{id} not stored: {page}"));
        assert_eq!(event["tenant_id"], acme_id.as_str(), "{event}");
        assert_eq!(event["source_id"], source, "{event}");
    }
    let cef = items
        .iter()
        .find(|e| {
            e["original"]
                .as_str()
                .is_some_and(|o| o.contains("unique-id-3"))
        })
        .expect("cef");
    assert_eq!(cef["parser"], "cef", "{cef}");
    let leef = items
        .iter()
        .find(|e| {
            e["original"]
                .as_str()
                .is_some_and(|o| o.contains("unique-id-4"))
        })
        .expect("leef");
    assert_eq!(leef["parser"], "leef", "{leef}");
    assert_eq!(leef["fields"]["user.name"], "bob", "{leef}");

    let other = search(bravo_token).await;
    assert_eq!(other["total"], 0, "another tenant sees none: {other}");
    assert_eq!(other["items"].as_array().map(Vec::len), Some(0), "{other}");

    // The listeners are registered for /metrics, per tenant and source.
    let metrics = http
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    for series in [
        format!(
            "garrison_ingest_listener_frames_total{{tenant=\"{acme_id}\",source=\"acme-tcp\",transport=\"tcp\"}} 3"
        ),
        format!(
            "garrison_ingest_listener_frames_total{{tenant=\"{acme_id}\",source=\"acme-udp\",transport=\"udp\"}} 1"
        ),
        format!(
            "garrison_ingest_stored_events_total{{tenant=\"{acme_id}\",source=\"acme-tcp\"}} 3"
        ),
        format!(
            "garrison_ingest_dropped_total{{tenant=\"{acme_id}\",source=\"acme-udp\",reason=\"overload\"}} 0"
        ),
    ] {
        assert!(
            metrics.lines().any(|l| l == series),
            "{series} in\n{metrics}"
        );
    }
    drop(server);
}

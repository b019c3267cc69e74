//! End to end: `garrison serve` taking events over HTTP from concurrent
//! senders is killed with SIGKILL in the middle of the run; after a
//! restart every event whose request was answered 2xx is stored (each
//! event carries a unique number, and every acknowledged number is looked
//! for). Requests cut off by the kill may or may not have been stored:
//! the sender was never told they were.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::Garrison;
use garrison_testkit::https_client;
use serde_json::Value;
use tokio::sync::Mutex;

const SENDERS: u64 = 4;
const PER_REQUEST: u64 = 200;

/// Sends requests of `PER_REQUEST` numbered events until `stop`; returns
/// the numbers of the events whose request was answered 200.
async fn sender(
    url: String,
    token: String,
    next: Arc<AtomicU64>,
    acked: Arc<Mutex<BTreeSet<u64>>>,
    stop: Arc<AtomicBool>,
) -> (u64, u64) {
    let http = https_client(None);
    let (mut ok, mut failed) = (0_u64, 0_u64);
    while !stop.load(Ordering::SeqCst) {
        let first = next.fetch_add(PER_REQUEST, Ordering::SeqCst);
        let body: String = (first..first + PER_REQUEST)
            .map(|n| format!("{{\"seq\":{n},\"message\":\"kill-test event {n}\",\"source.ip\":\"10.9.{}.{}\"}}\n", n % 250, n % 200))
            .collect();
        let r = http
            .post(format!("{url}/ingest/v1/events"))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 200 => {
                let out: Value = r.json().await.unwrap_or(Value::Null);
                // Only a complete answer counts as an acknowledgement.
                if out["accepted"] == PER_REQUEST && out["failed"] == 0 {
                    acked.lock().await.extend(first..first + PER_REQUEST);
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
            _ => {
                failed += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    (ok, failed)
}

/// Every `seq` (kept as `labels.seq`: the schema does not know it) stored in the tenant, read through the search API page by
/// page.
async fn stored_seqs(url: &str, token: &str) -> BTreeSet<u64> {
    let http = https_client(None);
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = format!("{url}/api/v1/events?limit=1000&f=q%3Dkill-test");
        if let Some(c) = &cursor {
            page_url.push_str("&cursor=");
            page_url.push_str(&garrison_testkit::urlencode(c));
        }
        let r = http
            .get(page_url)
            .bearer_auth(token)
            .send()
            .await
            .expect("search");
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.expect("json");
        for e in page["items"].as_array().expect("items") {
            let seq = e["fields"]["labels.seq"]
                .as_u64()
                .unwrap_or_else(|| panic!("no seq field: {e}"));
            assert!(seen.insert(seq), "event {seq} stored twice");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_http_ingest_loses_no_acknowledged_event() {
    let g = Garrison::new().await;
    g.ok(&["tenant", "create", "acme"]);
    g.ok(&["user", "create", "soc@mssp.test", "--role", "mssp-admin"]);
    let api_token = g
        .ok(&[
            "token",
            "create",
            "--user",
            "soc@mssp.test",
            "--name",
            "check",
        ])
        .trim()
        .to_owned();
    let ingest_token = g
        .ok(&[
            "ingest-token",
            "create",
            "--tenant",
            "acme",
            "--name",
            "loadgen",
            "--format",
            "json",
        ])
        .trim()
        .to_owned();
    assert!(ingest_token.starts_with("gri_"), "{ingest_token}");

    let mut server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    let next = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            tokio::spawn(sender(
                server.url.clone(),
                ingest_token.clone(),
                next.clone(),
                acked.clone(),
                stop.clone(),
            ))
        })
        .collect();

    // Kill once a fair number of requests were acknowledged (a guard of
    // 60 s against a server that takes nothing).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().await.len() < 50 * PER_REQUEST as usize
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    // Let the senders see the dead server, then stop them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut failed_requests = 0;
    for s in senders {
        failed_requests += s.await.expect("sender").1;
    }
    let acked = acked.lock().await.clone();
    assert!(
        acked.len() >= 50 * PER_REQUEST as usize,
        "only {} events acknowledged before the kill",
        acked.len()
    );
    assert!(failed_requests > 0, "the kill cut off requests in flight");

    // Restart on the same data and look for every acknowledged event.
    drop(server);
    let server = g.start(&["serve", "--listen", "127.0.0.1:0"]);
    let stored = stored_seqs(&server.url, &api_token).await;
    let lost: Vec<u64> = acked.difference(&stored).copied().collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost (of {}), e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(10)]
    );
    let sent = next.load(Ordering::SeqCst);
    assert!(
        stored.iter().all(|s| *s < sent),
        "nothing stored that was never sent"
    );
    eprintln!(
        "acknowledged {}, stored {} (the difference: requests cut off by the kill)",
        acked.len(),
        stored.len()
    );
    drop(server);
}

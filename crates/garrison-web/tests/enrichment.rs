//! Enrichment in the ingest pipeline, on the real store (SQLite, and
//! PostgreSQL on the second pass): an event's destination resolved to the
//! tenant's asset with the findings open on its port and the CVEs the event
//! names that are open there; the same address in another tenant resolved
//! to that tenant's asset only; an inventory change picked up without
//! stopping ingestion.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use garrison_app::events::ingest::Format;
use garrison_app::inventory::Progress;
use garrison_core::asset::ImportKind;
use garrison_core::event::{Event, Value};
use garrison_core::{Principal, TenantId};
use garrison_store::{EventQuery, MAX_EVENT_PAGE};
use garrison_testkit::{TestApp, wait_for};

/// A Suricata alert from the internet to `dest` naming `cve` in its
/// signature.
fn alert(dest: &str, port: u16, cve: &str) -> String {
    format!(
        r#"{{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"alert","src_ip":"203.0.113.9","src_port":51515,"dest_ip":"{dest}","dest_port":{port},"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":2027512,"rev":1,"signature":"ET EXPLOIT Possible BlueKeep RDP exploit ({cve})","category":"Attempted Administrator Privilege Gain","severity":1}}}}"#
    )
}

/// Ingests `lines` into the tenant and returns its stored events, newest
/// first.
async fn ingest(t: &TestApp, tenant: TenantId, lines: &[String]) -> Vec<Event> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("eve.json");
    std::fs::write(&path, lines.join("\n")).expect("write");
    let op = t.operator();
    let summary = t
        .app
        .ingest_file(
            &op,
            tenant,
            Path::new(&path),
            Format::SuricataEve,
            Arc::new(Progress::default()),
        )
        .await
        .expect("ingest");
    assert_eq!(summary.failed, 0, "{summary:?}");
    events(t, &op, tenant).await
}

async fn events(t: &TestApp, p: &Principal, tenant: TenantId) -> Vec<Event> {
    let q = EventQuery {
        tenant: Some(tenant),
        limit: MAX_EVENT_PAGE,
        ..EventQuery::default()
    };
    t.store
        .search_events(&p.access(), &q)
        .await
        .expect("search")
        .items
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::Str((*s).to_owned())).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_carry_their_tenants_asset_context() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    t.import_text(
        acme,
        "assets.csv",
        ImportKind::Assets,
        "ip,hostname,criticality,regulations\n10.0.0.5,rdp-gw,critical,pci-dss\n",
    )
    .await;
    t.import_text(
        acme,
        "scan.csv",
        ImportKind::Scan,
        "Plugin ID,CVE,Risk,Host,Protocol,Port,Name\n\
         125313,CVE-2019-0708,Critical,10.0.0.5,tcp,3389,Remote Desktop Services RCE (BlueKeep)\n\
         97833,CVE-2017-0144,Critical,10.0.0.5,tcp,445,MS17-010\n",
    )
    .await;
    // The same address in another tenant: another asset, nothing open.
    t.import_text(
        globex,
        "assets.csv",
        ImportKind::Assets,
        "ip,hostname,criticality\n10.0.0.5,kiosk,low\n",
    )
    .await;

    let line = alert("10.0.0.5", 3389, "CVE-2019-0708");
    let got = ingest(&t, acme, std::slice::from_ref(&line)).await;
    assert_eq!(got.len(), 1);
    let f = &got[0].fields;
    assert_eq!(f.get_str("garrison.destination.asset.name"), Some("rdp-gw"));
    assert_eq!(
        f.get_str("garrison.destination.asset.criticality"),
        Some("critical")
    );
    assert_eq!(
        f.get("garrison.destination.asset.regulations"),
        Some(&list(&["PCI-DSS"]))
    );
    assert_eq!(
        f.get("garrison.destination.asset.port_findings"),
        Some(&Value::Int(1))
    );
    assert_eq!(
        f.get("garrison.destination.asset.port_cves"),
        Some(&list(&["CVE-2019-0708"]))
    );
    assert_eq!(
        f.get("garrison.vulnerability.open_on_destination"),
        Some(&list(&["CVE-2019-0708"]))
    );
    assert!(f.get("garrison.source.asset.id").is_none());

    let got = ingest(&t, globex, &[line]).await;
    assert_eq!(got.len(), 1);
    let f = &got[0].fields;
    assert_eq!(
        f.get_str("garrison.destination.asset.name"),
        Some("kiosk"),
        "globex's own asset, never acme's"
    );
    assert!(f.get("garrison.destination.asset.port_findings").is_none());
    assert!(
        f.get("garrison.vulnerability.open_on_destination")
            .is_none()
    );

    // An attack on a CVE that is not open there is not marked.
    let got = ingest(&t, acme, &[alert("10.0.0.5", 3389, "CVE-2021-44228")]).await;
    assert!(
        got[0]
            .fields
            .get("garrison.vulnerability.open_on_destination")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_change_reaches_enrichment_without_stopping_ingestion() {
    let t = TestApp::new().await;
    let acme = t.tenant("acme").await.id;
    t.import_text(
        acme,
        "assets.csv",
        ImportKind::Assets,
        "ip,hostname\n10.0.0.5,first\n",
    )
    .await;
    let got = ingest(&t, acme, &[alert("10.0.0.9", 80, "CVE-2021-44228")]).await;
    assert!(got[0].fields.get("garrison.destination.asset.id").is_none());

    t.import_text(
        acme,
        "more.csv",
        ImportKind::Assets,
        "ip,hostname\n10.0.0.9,second\n",
    )
    .await;
    // Ingestion goes on with the old index while the new one is built;
    // within a few seconds the new asset is seen.
    let seen = wait_for(Duration::from_secs(20), || async {
        let got = ingest(&t, acme, &[alert("10.0.0.9", 80, "CVE-2021-44228")]).await;
        (got[0].fields.get_str("garrison.destination.asset.name") == Some("second")).then_some(())
    })
    .await;
    assert!(seen.is_some(), "the new asset never reached enrichment");
}

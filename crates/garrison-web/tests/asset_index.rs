//! The asset index the correlation engine will use, through the app on the
//! real store (SQLite, and PostgreSQL on the second pass): it answers from
//! an import, follows edits, deletions and new ranges, and keeps tenants
//! apart.

use std::net::IpAddr;
use std::sync::Arc;

use garrison_app::AppError;
use garrison_app::inventory::{AssetInput, DEFAULT_ZONE, ImportFile, Lookup, Progress};
use garrison_core::asset::{Criticality, ImportKind, ImportStatus};
use garrison_core::tenancy::AuthMethod;
use garrison_core::{Principal, Role, TenantId};
use garrison_testkit::TestApp;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// Imports an asset list written as CSV.
async fn import_csv(t: &TestApp, p: &Principal, tenant: TenantId, csv: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("assets.csv");
    std::fs::write(&path, csv).expect("write csv");
    let import = t
        .app
        .run_import(
            p,
            ImportFile {
                tenant,
                path,
                file_name: "assets.csv".to_owned(),
                format: None,
                zone: None,
                kind: ImportKind::Assets,
                delete_after: false,
            },
            Arc::new(Progress::default()),
        )
        .await
        .expect("import");
    assert_eq!(import.status, ImportStatus::Completed, "{import:?}");
}

/// A signed-in customer of `tenant`, as the app sees them.
async fn customer(t: &TestApp, email: &str, tenant: TenantId) -> Principal {
    let (user, _) = t.user(email, Role::CustomerViewer, Some(tenant)).await;
    Principal::authenticated(
        user.id,
        user.email,
        user.role,
        user.tenant_id,
        [],
        AuthMethod::System,
    )
    .expect("principal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_the_inventory() {
    let t = TestApp::new().await;
    let op = t.operator();
    let acme = t.tenant("acme").await.id;
    t.app
        .create_range(
            &op,
            acme,
            "10.0.0.0/16",
            "hq",
            Some(Criticality::Medium),
            None,
        )
        .await
        .expect("range");
    let empty = t.app.asset_index(&op, acme).await.expect("index");
    assert_eq!((empty.len(), empty.ranges_len()), (0, 1));

    import_csv(
        &t,
        &op,
        acme,
        "hostname,ip,criticality\n\
         web01,10.0.1.10,critical\n\
         db01,10.0.2.20,high\n\
         kiosk,198.51.100.7,low\n",
    )
    .await;
    let index = t.app.asset_index(&op, acme).await.expect("index");
    assert_eq!(index.len(), 3);
    let web = match index.lookup(ip("10.0.1.10")) {
        Lookup::Asset { asset, range } => {
            assert_eq!(asset.name, "web01");
            assert_eq!(asset.zone, "hq", "placed by the range at import");
            assert_eq!(asset.criticality, Some(Criticality::Critical));
            assert_eq!(range.map(|r| r.cidr.as_str()), Some("10.0.0.0/16"));
            asset.id
        }
        other => panic!("10.0.1.10: {other:?}"),
    };
    let kiosk = index.lookup(ip("198.51.100.7"));
    assert_eq!(
        (
            kiosk.asset().map(|a| a.zone.as_str()),
            kiosk.range(),
            kiosk.criticality()
        ),
        (Some(DEFAULT_ZONE), None, Some(Criticality::Low)),
        "outside every range: the default zone"
    );
    let db = index
        .lookup(ip("10.0.2.20"))
        .asset()
        .map(|a| a.id)
        .expect("db01");
    let free = index.lookup(ip("10.0.9.9"));
    assert!(
        matches!(free, Lookup::Range(r) if r.zone == "hq"),
        "{free:?}"
    );
    assert_eq!(free.criticality(), Some(Criticality::Medium));
    assert_eq!(index.lookup(ip("192.0.2.1")), Lookup::Unknown);
    assert!(
        Arc::ptr_eq(&index, &t.app.asset_index(&op, acme).await.expect("index")),
        "an unchanged inventory is not rebuilt"
    );

    // An edit is seen on the next call.
    t.app
        .update_asset(
            &op,
            acme,
            web,
            AssetInput {
                criticality: Some(Criticality::Low),
                ..AssetInput::default()
            },
        )
        .await
        .expect("edit");
    let index = t.app.asset_index(&op, acme).await.expect("index");
    assert_eq!(
        index.lookup(ip("10.0.1.10")).criticality(),
        Some(Criticality::Low)
    );

    // A deleted asset is gone; its range still answers.
    t.app.delete_asset(&op, acme, db).await.expect("delete");
    let index = t.app.asset_index(&op, acme).await.expect("index");
    assert_eq!(index.len(), 2);
    assert!(index.get(db).is_none());
    assert!(matches!(index.lookup(ip("10.0.2.20")), Lookup::Range(_)));

    // New ranges: one nested in hq, one elsewhere.
    t.app
        .create_range(
            &op,
            acme,
            "10.0.1.0/24",
            "hq",
            Some(Criticality::High),
            None,
        )
        .await
        .expect("range");
    t.app
        .create_range(&op, acme, "2001:db8:5::/48", "lab", None, None)
        .await
        .expect("range");
    let index = t.app.asset_index(&op, acme).await.expect("index");
    assert_eq!(index.ranges_len(), 3);
    assert_eq!(
        index
            .lookup(ip("10.0.1.10"))
            .range()
            .map(|r| r.cidr.as_str()),
        Some("10.0.1.0/24"),
        "the most specific range"
    );
    assert_eq!(
        index
            .lookup(ip("2001:db8:5::1"))
            .range()
            .map(|r| r.zone.as_str()),
        Some("lab")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_have_their_own_index() {
    let t = TestApp::new().await;
    let op = t.operator();
    let acme = t.tenant("acme").await.id;
    let bravo = t.tenant("bravo").await.id;
    // The same address in both tenants.
    import_csv(&t, &op, acme, "hostname,ip\nacme-web,10.0.0.5\n").await;
    import_csv(
        &t,
        &op,
        bravo,
        "hostname,ip\nbravo-web,10.0.0.5\nbravo-db,10.0.0.6\n",
    )
    .await;

    let in_bravo = customer(&t, "viewer@bravo.test", bravo).await;
    assert!(
        matches!(
            t.app.asset_index(&in_bravo, acme).await,
            Err(AppError::NotFound)
        ),
        "another tenant's index is not found"
    );
    let theirs = t
        .app
        .asset_index(&in_bravo, bravo)
        .await
        .expect("own index");
    assert_eq!(theirs.len(), 2);
    assert_eq!(
        theirs
            .lookup(ip("10.0.0.5"))
            .asset()
            .map(|a| a.name.as_str()),
        Some("bravo-web")
    );

    let ours = t.app.asset_index(&op, acme).await.expect("index");
    assert_eq!(ours.tenant(), acme);
    assert_eq!(ours.len(), 1);
    assert!(ours.assets().all(|a| a.tenant_id == acme));
    assert_eq!(
        ours.lookup(ip("10.0.0.5")).asset().map(|a| a.name.as_str()),
        Some("acme-web")
    );
    assert_eq!(ours.lookup(ip("10.0.0.6")), Lookup::Unknown);

    // A change in one tenant leaves the other's index as it was.
    import_csv(&t, &op, bravo, "hostname,ip\nbravo-new,10.0.0.7\n").await;
    assert!(Arc::ptr_eq(
        &ours,
        &t.app.asset_index(&op, acme).await.expect("index")
    ));
    assert_eq!(
        t.app
            .asset_index(&in_bravo, bravo)
            .await
            .expect("index")
            .len(),
        3
    );
}

//! `garrison demo`: a demo MSSP with two customers, served at once.
//! Idempotent: what exists is kept, and the admin gets a fresh one-time
//! password on every run so that there is always a way in.
//!
//! Each customer gets a realistic inventory through the real importers:
//! network ranges, a CMDB export, scanner reports (two weekly Nessus scans
//! and an Nmap scan of the DMZ for Acme, an OpenVAS report for Globex) and
//! an excerpt of the CISA KEV catalogue for the CVEs they report. The files
//! are in `crates/garrison/demo/`, written by `scripts/demo-data.py`.

use std::sync::Arc;

use anyhow::{Context, Result};
use garrison_app::App;
use garrison_app::admin::CreateUser;
use garrison_app::inventory::{AssetInput, ImportFile, Progress};
use garrison_core::asset::{Criticality, FindingStatus, ImportKind};
use garrison_core::{Principal, Role, Secret, SystemClock, TenantId, Timestamp};
use garrison_store::{AssetQuery, FindingQuery};

use crate::commands::serve::{self, Roles};
use crate::config::Config;
use crate::demo_events;
use crate::runtime;

pub const ADMIN_EMAIL: &str = "admin@mssp.example";

type DemoRange = (
    &'static str,
    &'static str,
    Option<Criticality>,
    &'static str,
);

struct DemoTenant {
    slug: &'static str,
    name: &'static str,
    users: &'static [(&'static str, Role)],
    ranges: &'static [DemoRange],
    /// File name, kind and content, imported in this order.
    files: &'static [(&'static str, ImportKind, &'static str)],
}

const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        slug: "acme",
        name: "Acme Manufacturing",
        users: &[
            ("it-lead@acme.example", Role::CustomerAdmin),
            ("oncall@acme.example", Role::CustomerResponder),
        ],
        ranges: &[
            (
                "10.10.0.0/16",
                "hq",
                None,
                "Leeds HQ offices and server room",
            ),
            (
                "10.20.0.0/16",
                "plant",
                Some(Criticality::High),
                "Sheffield plant OT network",
            ),
            (
                "203.0.113.0/24",
                "dmz",
                Some(Criticality::High),
                "Internet-facing DMZ",
            ),
        ],
        files: &[
            (
                "acme-cmdb.csv",
                ImportKind::Assets,
                include_str!("../../demo/acme-cmdb.csv"),
            ),
            (
                "acme-nessus-week1.nessus",
                ImportKind::Scan,
                include_str!("../../demo/acme-nessus-week1.nessus"),
            ),
            (
                "acme-nessus-week2.nessus",
                ImportKind::Scan,
                include_str!("../../demo/acme-nessus-week2.nessus"),
            ),
            (
                "acme-dmz-nmap.xml",
                ImportKind::Scan,
                include_str!("../../demo/acme-dmz-nmap.xml"),
            ),
        ],
    },
    DemoTenant {
        slug: "globex",
        name: "Globex Health",
        users: &[
            ("ciso@globex.example", Role::CustomerAdmin),
            ("auditor@globex.example", Role::CustomerViewer),
        ],
        ranges: &[
            (
                "172.16.0.0/16",
                "clinic",
                None,
                "Manchester data centre and wards",
            ),
            (
                "198.51.100.0/24",
                "dmz",
                Some(Criticality::High),
                "Patient portal and file transfer",
            ),
        ],
        files: &[
            (
                "globex-assets.json",
                ImportKind::Assets,
                include_str!("../../demo/globex-assets.json"),
            ),
            (
                "globex-openvas.xml",
                ImportKind::Scan,
                include_str!("../../demo/globex-openvas.xml"),
            ),
        ],
    },
];

/// The MSSP's demo blocklist: addresses the demo's attacks come from (a
/// Tor exit and scanners seen in public honeypot data), MSSP-wide.
const DEMO_FEED: &str = "type,value,confidence,source,tlp,tags\n\
ipv4,185.220.101.34,90,mssp-blocklist,green,tor-exit\n\
ipv4,45.155.205.233,80,mssp-blocklist,green,scanner\n\
ipv4,193.142.146.7,75,mssp-blocklist,amber,brute-force\n";

/// CISA KEV entries (CC0) for the CVEs the demo scans report.
const KEV_EXCERPT: &str = include_str!("../../demo/kev-excerpt.json");

const STAFF: &[(&str, Role)] = &[
    ("analyst@mssp.example", Role::MsspAnalyst),
    ("engineer@mssp.example", Role::MsspEngineer),
];

async fn ensure_user(
    app: &App,
    op: &Principal,
    email: &str,
    role: Role,
    tenant: Option<TenantId>,
) -> Result<Option<Secret<String>>> {
    match app.user_by_email(op, email).await {
        Ok(_) => Ok(None),
        Err(garrison_app::AppError::NotFound) => {
            let created = app
                .create_user(
                    op,
                    CreateUser {
                        email: email.to_owned(),
                        display_name: None,
                        role,
                        tenant,
                    },
                )
                .await?;
            Ok(Some(created.one_time_password))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates what is missing and returns the admin's one-time password.
pub async fn seed(app: &App) -> Result<Secret<String>> {
    let op = Principal::system("demo");
    let mut tenant_ids = Vec::new();
    for t in TENANTS {
        let tenant = match app.tenant_by_slug(&op, t.slug).await {
            Ok(existing) => existing,
            Err(garrison_app::AppError::NotFound) => app.create_tenant(&op, t.slug, t.name).await?,
            Err(e) => return Err(e.into()),
        };
        tenant_ids.push(tenant.id);
        for (email, role) in t.users {
            ensure_user(app, &op, email, *role, Some(tenant.id)).await?;
        }
    }
    seed_inventory(app, &op, &tenant_ids)
        .await
        .context("seeding the demo inventory")?;
    for (email, role) in STAFF {
        ensure_user(app, &op, email, *role, None).await?;
        let staff = app.user_by_email(&op, email).await?;
        for t in &tenant_ids {
            app.assign_staff(&op, staff.id, *t).await?;
        }
    }
    match ensure_user(app, &op, ADMIN_EMAIL, Role::MsspAdmin, None).await? {
        Some(pw) => Ok(pw),
        None => {
            let admin = app.user_by_email(&op, ADMIN_EMAIL).await?;
            Ok(app.reset_password(&op, admin.id).await?)
        }
    }
}

/// Imports each demo tenant's files once (a tenant with imports already is
/// left alone), then the KEV excerpt, then a few decisions a person would
/// have made: a criticality set by hand and an accepted risk.
async fn seed_inventory(app: &App, op: &Principal, tenant_ids: &[TenantId]) -> Result<()> {
    let dir = tempfile::tempdir().context("a temporary directory for the demo files")?;
    let mut seeded = false;
    for (t, id) in TENANTS.iter().zip(tenant_ids) {
        if !app.list_imports(op, Some(*id)).await?.is_empty() {
            continue;
        }
        seeded = true;
        for (cidr, zone, crit, description) in t.ranges {
            app.create_range(op, *id, cidr, zone, *crit, Some((*description).to_owned()))
                .await?;
        }
        for (name, kind, text) in t.files {
            let path = dir.path().join(name);
            std::fs::write(&path, text)?;
            let file = ImportFile {
                tenant: *id,
                path,
                file_name: (*name).to_owned(),
                format: None,
                zone: None,
                kind: *kind,
                delete_after: true,
            };
            let import = app
                .run_import(op, file, Arc::new(Progress::default()))
                .await?;
            anyhow::ensure!(
                import.counts.rejected == 0 && import.error.is_none(),
                "demo file {name} did not import cleanly: {:?} {:?}",
                import.error,
                import.rejections
            );
        }
    }
    if !seeded {
        return Ok(());
    }
    let kev = dir.path().join("kev-excerpt.json");
    std::fs::write(&kev, KEV_EXCERPT)?;
    app.import_vulndb(op, &kev, None, Arc::new(Progress::default()))
        .await?;
    // The MSSP's own threat feed: some of the addresses the demo's attacks
    // come from, so that their events match indicators (and are sighted).
    let feed = dir.path().join("mssp-blocklist.csv");
    std::fs::write(&feed, DEMO_FEED)?;
    let mut defaults = garrison_app::intel::feed::FeedDefaults::new("mssp-blocklist");
    defaults.confidence = 80;
    app.import_intel(
        op,
        garrison_app::intel::IntelImport {
            path: feed,
            file_name: "mssp-blocklist.csv".to_owned(),
            format: garrison_app::intel::feed::FeedFormat::Csv,
            target: garrison_app::intel::IntelTarget::Mssp,
            defaults,
        },
        Arc::new(Progress::default()),
    )
    .await
    .context("importing the demo threat feed")?;

    // Decisions people made: Acme's file server holds the finance share,
    // so someone raised it to critical; the line 3 HMI cannot be patched
    // until the vendor replaces it, so BlueKeep there is an accepted risk.
    let acme = tenant_ids[0];
    let find = |name: &'static str| AssetQuery {
        tenant: Some(acme),
        text: Some(name.to_owned()),
        ..AssetQuery::default()
    };
    if let Some(file01) = app.list_assets(op, &find("file-01")).await?.items.first() {
        let input = AssetInput {
            criticality: Some(Criticality::Critical),
            ..AssetInput::default()
        };
        app.update_asset(op, acme, file01.asset.id, input).await?;
    }
    let bluekeep = app
        .list_findings(
            op,
            &FindingQuery {
                tenant: Some(acme),
                cve: Some("CVE-2019-0708".to_owned()),
                ..FindingQuery::default()
            },
        )
        .await?;
    if let Some(f) = bluekeep.items.first() {
        let until = Timestamp::parse("2027-03-31T00:00:00Z").context("demo date")?;
        app.set_finding_status(
            op,
            acme,
            f.id,
            FindingStatus::AcceptedRisk,
            "Isolated OT VLAN with no RDP from the office network; the vendor replaces the HMI in Q1 2027",
            Some(until),
        )
        .await?;
    }
    Ok(())
}

/// `garrison demo`.
pub async fn demo(config: &Config) -> Result<()> {
    let opened = runtime::open(config).await?;
    let prepared = serve::prepare(config, &opened)?;
    let password = seed(&prepared.app).await?;
    let listeners = serve::listeners(config, &prepared).await?;
    let op = Principal::system("demo");
    let mut scenes = Vec::new();
    for t in TENANTS {
        let tenant = prepared.app.tenant_by_slug(&op, t.slug).await?;
        scenes.push(demo_events::scene(&prepared.app, &op, tenant.id).await?);
    }
    demo_events::spawn(prepared.app.clone(), Arc::new(SystemClock), scenes);
    println!("Garrison demo is ready.");
    println!();
    println!("  Portal:    {}", prepared.url());
    println!("  Login:     {ADMIN_EMAIL}");
    println!("  Password:  {}", password.expose());
    println!();
    println!("The password works once: at first login you choose your own and set up MFA");
    println!("with an authenticator app. Demo tenants: acme (Acme Manufacturing) and globex");
    println!("(Globex Health), with their users, network ranges, asset inventories, scan");
    println!("findings and risk scores; MSSP analyst and engineer are assigned to both.");
    println!("Their sensors stream events live: firewall, IDS, SSH, domain controller and DNS");
    println!("logs made from their own hosts (see Events in the portal, or /api/v1/events).");
    if let Some(fp) = prepared.fingerprint() {
        println!();
        println!("The certificate is self-signed; your browser will ask you to accept it.");
        println!("Its SHA-256 fingerprint is {fp}");
    }
    println!();
    println!(
        "Garrison is listening on {} (Ctrl-C stops it).",
        prepared.url()
    );
    serve::run(config, prepared, Roles::ALL, listeners).await
}

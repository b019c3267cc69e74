//! The NVD, KEV and EPSS readers against the corpus files, with counts
//! taken from the files themselves by a simpler method (serde_json values,
//! the csv crate, counting lines) and spot checks from the corpus MANIFEST.

use std::collections::BTreeSet;
use std::fs;
use std::io::Cursor;
use std::path::PathBuf;

use garrison_scan::Counted;
use garrison_scan::error::ErrorKind;
use garrison_scan::vulndb::{EpssScore, NvdRecord, read_epss, read_kev, read_nvd};
use serde_json::Value;

fn corpus() -> PathBuf {
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

fn read(rel: &str) -> Vec<u8> {
    fs::read(corpus().join(rel)).expect("corpus file")
}

fn nvd(bytes: &[u8]) -> (Vec<NvdRecord>, garrison_scan::vulndb::NvdStats) {
    let mut records = Vec::new();
    let stats = read_nvd(bytes, |r| records.push(r)).expect("nvd");
    (records, stats)
}

/// The vulnerable criteria of a record counted from its JSON value:
/// non-negated nodes, `vulnerable: true`, distinct criteria and bounds.
fn vulnerable_criteria(cve: &Value) -> usize {
    let mut seen = BTreeSet::new();
    for config in cve["configurations"].as_array().into_iter().flatten() {
        for node in config["nodes"].as_array().into_iter().flatten() {
            if node["negate"] == Value::Bool(true) {
                continue;
            }
            for m in node["cpeMatch"].as_array().into_iter().flatten() {
                if m["vulnerable"] == Value::Bool(true) {
                    let mut m = m.clone();
                    if let Some(o) = m.as_object_mut() {
                        o.remove("matchCriteriaId");
                    }
                    seen.insert(m.to_string());
                }
            }
        }
    }
    seen.len()
}

#[test]
fn every_corpus_nvd_file_reads_whole() {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus().join("cve/nvd"))
        .expect("nvd dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 16);
    for path in files {
        let bytes = fs::read(&path).expect("read");
        let doc: Value = serde_json::from_slice(&bytes).expect("json");
        let expected = doc["vulnerabilities"].as_array().expect("array");
        let (records, stats) = nvd(&bytes);
        assert!(stats.skips.is_empty(), "{path:?}: {:?}", stats.skips);
        assert_eq!(stats.skipped, 0);
        assert_eq!(records.len(), expected.len(), "{path:?}");
        assert_eq!(stats.records, expected.len() as u64);
        assert_eq!(stats.total_results, doc["totalResults"].as_u64());
        for (record, value) in records.iter().zip(expected) {
            let cve = &value["cve"];
            assert_eq!(Some(record.id.as_str()), cve["id"].as_str());
            assert_eq!(record.status.as_deref(), cve["vulnStatus"].as_str());
            assert_eq!(
                record.matches.len(),
                vulnerable_criteria(cve),
                "{}",
                record.id
            );
            assert!(record.matches.iter().all(|m| m.vulnerable));
        }
    }
}

#[test]
fn single_records_match_the_manifest() {
    // (file, status, CVSS version, score, vulnerable criteria), from the
    // MANIFEST section for cve/nvd.
    let table = [
        ("CVE-2014-1424", "Deferred", 2, 6.4, 2),
        ("CVE-2016-1585", "Analyzed", 3, 9.8, 3),
        ("CVE-2017-6507", "Deferred", 3, 5.9, 3),
        ("CVE-2021-28429", "Analyzed", 3, 5.5, 1),
        ("CVE-2022-0090", "Analyzed", 3, 6.5, 6),
        ("CVE-2022-1122", "Modified", 3, 5.5, 5),
        ("CVE-2022-29194", "Analyzed", 3, 5.5, 6),
        ("CVE-2022-2956", "Modified", 3, 6.1, 1),
        ("CVE-2022-32746", "Modified", 3, 5.4, 3),
        ("CVE-2022-36037", "Analyzed", 3, 5.4, 1),
        ("CVE-2022-36749", "Analyzed", 3, 9.8, 1),
        ("CVE-2022-46285", "Modified", 3, 7.5, 1),
        ("CVE-2023-5341", "Undergoing Analysis", 3, 6.2, 0),
        ("CVE-2024-3094", "Modified", 3, 10.0, 2),
        ("CVE-2024-47177", "Awaiting Analysis", 3, 9.0, 0),
    ];
    for (id, status, version, score, criteria) in table {
        let (records, _) = nvd(&read(&format!("cve/nvd/{id}.json")));
        let [record] = records.as_slice() else {
            panic!("{id}: {} records", records.len());
        };
        assert_eq!(record.id, id);
        assert_eq!(record.status.as_deref(), Some(status), "{id}");
        let cvss = if version == 2 {
            &record.cvss2
        } else {
            &record.cvss3
        };
        let cvss = cvss.as_ref().expect("cvss");
        assert!((cvss.score - score).abs() < 1e-6, "{id}: {}", cvss.score);
        assert_eq!(record.matches.len(), criteria, "{id}");
        // None of these records carries a KEV date (manifest).
        assert_eq!(record.cisa_exploit_add, None, "{id}");
    }
}

#[test]
fn the_xz_record_in_detail() {
    let (records, _) = nvd(&read("cve/nvd/CVE-2024-3094.json"));
    let xz = &records[0];
    let cvss3 = xz.cvss3.as_ref().expect("cvss 3.1");
    assert!((cvss3.score - 10.0).abs() < f32::EPSILON);
    assert_eq!(
        cvss3.vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    );
    assert_eq!(xz.cvss2, None);
    assert_eq!(xz.published.as_deref(), Some("2024-03-29T17:15:21.150"));
    assert_eq!(xz.cwes, ["CWE-506"]);
    let description = xz.description.as_deref().expect("description");
    assert!(
        description.starts_with("Malicious code was discovered in the upstream tarballs of xz")
    );
    let criteria: Vec<String> = xz.matches.iter().map(|m| m.criteria.to_string()).collect();
    assert_eq!(
        criteria,
        [
            "cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:*",
            "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"
        ]
    );
    assert_eq!(
        xz.matches[0].match_criteria_id.as_deref(),
        Some("73F1DAD7-F362-4C5B-B980-2E5313C369DA")
    );
}

#[test]
fn the_api_page_matches_the_manifest() {
    let (records, stats) = nvd(&read("cve/nvd/vunnel-full-page.json"));
    assert_eq!(records.len(), 38);
    assert_eq!(stats.total_results, Some(38));
    let find = |id: &str| records.iter().find(|r| r.id == id).expect(id);
    let ontap = find("CVE-2023-27314");
    assert_eq!(ontap.status.as_deref(), Some("Analyzed"));
    assert!((ontap.cvss3.as_ref().expect("cvss").score - 7.5).abs() < 1e-6);
    assert_eq!(ontap.matches.len(), 9);
    assert!(
        ontap
            .matches
            .iter()
            .all(|m| m.criteria.vendor.value() == Some("netapp"))
    );
    let whitepage = find("CVE-2023-45109");
    assert!((whitepage.cvss3.as_ref().expect("cvss").score - 8.8).abs() < 1e-6);
    assert_eq!(whitepage.matches.len(), 1);
}

#[test]
fn a_truncated_file_delivers_what_came_before_then_fails() {
    let bytes = read("cve/nvd/vunnel-full-page.json");
    let (all, _) = nvd(&bytes);
    let cut = &bytes[..bytes.len() * 3 / 5];
    let mut delivered = Vec::new();
    let err = read_nvd(cut, |r| delivered.push(r.id)).expect_err("truncated");
    assert_eq!(err.kind, ErrorKind::Truncated, "{err}");
    assert!(err.message.contains("ends before"), "{err}");
    assert!(!delivered.is_empty() && delivered.len() < all.len());
    let first: Vec<String> = all
        .iter()
        .take(delivered.len())
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(delivered, first);
}

#[test]
fn structural_errors_say_what_is_wrong() {
    let cases: [(&str, ErrorKind, &str); 7] = [
        ("this is not json", ErrorKind::Malformed, "not valid JSON"),
        (
            "[1, 2]",
            ErrorKind::Malformed,
            "NVD CVE API 2.0 response object",
        ),
        (
            r#"{"format": "NVD_CVE"}"#,
            ErrorKind::Malformed,
            "no `vulnerabilities` array",
        ),
        (r#"{"CVE_Items": []}"#, ErrorKind::Malformed, "NVD JSON 1.1"),
        (
            r#"{"format": "MITRE", "vulnerabilities": []}"#,
            ErrorKind::Malformed,
            "`format` is `MITRE`",
        ),
        (
            r#"{"vulnerabilities": 5}"#,
            ErrorKind::Malformed,
            "an array of CVE records",
        ),
        (
            r#"{"vulnerabilities": []} trailing"#,
            ErrorKind::Malformed,
            "trailing",
        ),
    ];
    for (input, kind, needle) in cases {
        let err = read_nvd(input.as_bytes(), |_| {}).expect_err(input);
        assert_eq!(err.kind, kind, "{input}: {err}");
        assert!(err.message.contains(needle), "{input}: {err}");
    }
    let err = read_nvd(
        "{\n\"vulnerabilities\": [\n{\"cve\": {\"id\": \"CVE-2024-0001\"}},\n".as_bytes(),
        |_| {},
    )
    .expect_err("eof");
    assert_eq!(err.kind, ErrorKind::Truncated);
    assert_eq!(err.line, 4);
    assert_eq!(
        read_nvd(&b""[..], |_| {}).expect_err("empty").kind,
        ErrorKind::Truncated
    );
}

#[test]
fn bad_records_are_skipped_and_the_rest_go_on() {
    let doc = r#"{
      "format": "NVD_CVE",
      "vulnerabilities": [
        {"cve": {"id": "CVE-2024-0001", "vulnStatus": "Analyzed"}},
        {"cve": {"id": "CVE-2024-0002", "metrics": {"cvssMetricV31": [
            {"type": "Primary", "cvssData": {"baseScore": "high"}}]}}},
        {"cve": {"sourceIdentifier": "nobody"}},
        42,
        {"cve": {"id": "CVE-2024-0005", "configurations": [{"nodes": [{"operator": "OR",
            "cpeMatch": [{"vulnerable": true, "criteria": "cpe:2.3:a:broken"}]}]}]}},
        {"cve": {"id": "CVE-2024-0006", "metrics": {"cvssMetricV2": [
            {"type": "Primary", "cvssData": {"baseScore": 11.0}}]}}},
        {"cve": {"id": "not-a-cve"}},
        {"cve": {"id": "CVE-2024-0008", "published": "2024-01-01T00:00:00.000"}}
      ]
    }"#;
    let (records, stats) = nvd(doc.as_bytes());
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2024-0001", "CVE-2024-0008"]);
    assert_eq!(stats.records, 2);
    assert_eq!(stats.skipped, 6);
    let skips: Vec<(u64, Option<&str>)> = stats
        .skips
        .iter()
        .map(|s| (s.index, s.id.as_deref()))
        .collect();
    assert_eq!(
        skips,
        [
            (1, Some("CVE-2024-0002")),
            (2, None),
            (3, None),
            (4, Some("CVE-2024-0005")),
            (5, Some("CVE-2024-0006")),
            (6, Some("not-a-cve")),
        ]
    );
    let reasons: Vec<&str> = stats.skips.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        reasons[0].contains("cvssMetricV31[0].cvssData.baseScore: expected a number"),
        "{}",
        reasons[0]
    );
    assert!(reasons[1].contains("cve.id is missing"), "{}", reasons[1]);
    assert!(reasons[2].contains("expected an object"), "{}", reasons[2]);
    assert!(
        reasons[3].contains("criteria") && reasons[3].contains("components"),
        "{}",
        reasons[3]
    );
    assert!(reasons[4].contains("outside 0 to 10"), "{}", reasons[4]);
    assert!(reasons[5].contains("not a CVE id"), "{}", reasons[5]);
    assert!(
        stats.skips[0]
            .to_string()
            .starts_with("record 1 (CVE-2024-0002): ")
    );
}

#[test]
fn metrics_descriptions_and_configurations_are_chosen_carefully() {
    let doc = r#"{"cve": {
      "id": "cve-2024-1234",
      "descriptions": [{"lang": "es", "value": "hola"}, {"lang": "en", "value": "hello"}],
      "metrics": {
        "cvssMetricV30": [{"type": "Primary", "cvssData": {"baseScore": 1.0}}],
        "cvssMetricV31": [
          {"source": "cna", "type": "Secondary", "cvssData": {"baseScore": 9.1, "vectorString": "CVSS:3.1/secondary"}},
          {"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"baseScore": 7.2, "vectorString": "CVSS:3.1/primary"}}
        ],
        "cvssMetricV40": [{"type": "Secondary", "cvssData": {"baseScore": 8.7, "vectorString": "CVSS:4.0/x"}}]
      },
      "weaknesses": [
        {"description": [{"lang": "en", "value": "NVD-CWE-noinfo"}, {"lang": "en", "value": "CWE-79"}]},
        {"description": [{"lang": "en", "value": "CWE-79"}, {"lang": "en", "value": "CWE-20"}]}
      ],
      "configurations": [
        {"operator": "AND", "nodes": [
          {"operator": "OR", "negate": false, "cpeMatch": [
            {"vulnerable": true, "criteria": "cpe:2.3:a:acme:app:*:*:*:*:*:*:*:*", "versionEndExcluding": "2.0"}]},
          {"operator": "OR", "negate": false, "cpeMatch": [
            {"vulnerable": false, "criteria": "cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"}]}
        ]},
        {"nodes": [
          {"operator": "OR", "negate": true, "cpeMatch": [
            {"vulnerable": true, "criteria": "cpe:2.3:a:acme:app:1.5:*:*:*:*:*:*:*"}]},
          {"operator": "OR", "cpeMatch": [
            {"vulnerable": true, "criteria": "cpe:2.3:a:acme:app:*:*:*:*:*:*:*:*", "versionEndExcluding": "2.0"}]}
        ]}
      ],
      "cisaExploitAdd": "2024-05-01"
    }}"#;
    let (records, stats) = nvd(doc.as_bytes());
    assert_eq!(stats.records, 1, "{:?}", stats.skips);
    let r = &records[0];
    assert_eq!(r.id, "CVE-2024-1234");
    assert_eq!(r.description.as_deref(), Some("hello"));
    let cvss3 = r.cvss3.as_ref().expect("cvss3");
    assert!((cvss3.score - 7.2).abs() < 1e-6);
    assert_eq!(cvss3.vector.as_deref(), Some("CVSS:3.1/primary"));
    assert!((r.cvss4.as_ref().expect("cvss4").score - 8.7).abs() < 1e-6);
    assert_eq!(r.cwes, ["CWE-79", "CWE-20"]);
    assert_eq!(r.matches.len(), 1);
    assert_eq!(r.matches[0].version_end_excluding.as_deref(), Some("2.0"));
    assert_eq!(r.cisa_exploit_add.as_deref(), Some("2024-05-01"));
}

#[test]
fn the_kev_catalog_matches_its_own_count_and_the_manifest() {
    let bytes = read("cve/kev/known_exploited_vulnerabilities-2025-03-03.json");
    let doc: Value = serde_json::from_slice(&bytes).expect("json");
    let list = doc["vulnerabilities"].as_array().expect("array");
    let known = list
        .iter()
        .filter(|v| v["knownRansomwareCampaignUse"] == "Known")
        .count();

    let kev = read_kev(bytes.as_slice()).expect("kev");
    assert!(kev.skipped.is_empty(), "{:?}", kev.skipped);
    assert_eq!(kev.catalog_version, "2025.03.03");
    assert_eq!(
        kev.date_released,
        "2025-03-03T15:04:15.9276Z"
            .parse::<jiff::Timestamp>()
            .expect("ts")
    );
    assert_eq!(Some(kev.count), doc["count"].as_u64());
    assert_eq!(kev.count, 1285);
    assert_eq!(kev.entries.len(), list.len());
    assert_eq!(kev.entries.len(), 1285);
    let ransomware = kev
        .entries
        .iter()
        .filter(|e| e.known_ransomware_campaign_use)
        .count();
    assert_eq!(ransomware, known);
    assert_eq!(ransomware, 246);

    let first = &kev.entries[0];
    assert_eq!(first.cve_id, "CVE-2024-4885");
    assert_eq!(first.vendor_project, "Progress");
    assert_eq!(first.product, "WhatsUp Gold");
    assert_eq!(first.date_added, jiff::civil::date(2025, 3, 3));
    assert_eq!(first.due_date, jiff::civil::date(2025, 3, 24));
    assert!(!first.known_ransomware_campaign_use);
    assert_eq!(first.cwes, ["CWE-22"]);

    // The CSV of the same snapshot lists the same CVEs (manifest).
    let mut csv = csv::Reader::from_path(
        corpus().join("cve/kev/known_exploited_vulnerabilities-2025-03-03.csv"),
    )
    .expect("csv");
    let column = csv
        .headers()
        .expect("headers")
        .iter()
        .position(|h| h == "cveID")
        .expect("cveID column");
    let from_csv: BTreeSet<String> = csv
        .records()
        .map(|r| r.expect("row")[column].to_owned())
        .collect();
    let from_json: BTreeSet<String> = kev.entries.iter().map(|e| e.cve_id.clone()).collect();
    assert_eq!(from_csv, from_json);
}

#[test]
fn bad_kev_entries_are_listed_and_bad_catalogs_refused() {
    let doc = r#"{"title": "t", "catalogVersion": "1", "dateReleased": "2025-01-01T00:00:00Z", "count": 4,
      "vulnerabilities": [
        {"cveID": "CVE-2024-0001", "vendorProject": "v", "product": "p", "vulnerabilityName": "n",
         "dateAdded": "2025-01-01", "shortDescription": "s", "requiredAction": "r", "dueDate": "2025-01-22",
         "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": []},
        {"cveID": "CVE-2024-0002", "vendorProject": "v", "product": "p", "vulnerabilityName": "n",
         "dateAdded": "01/01/2025", "shortDescription": "s", "requiredAction": "r", "dueDate": "2025-01-22"},
        {"vendorProject": "v"},
        {"cveID": "CVE-2024-0004", "vendorProject": "v", "product": "p", "vulnerabilityName": "n",
         "dateAdded": "2025-01-01", "shortDescription": "s", "requiredAction": "r", "dueDate": "2025-01-22",
         "knownRansomwareCampaignUse": "Maybe"}
      ]}"#;
    let kev = read_kev(doc.as_bytes()).expect("kev");
    assert_eq!(kev.entries.len(), 1);
    assert!(kev.entries[0].known_ransomware_campaign_use);
    let skipped: Vec<(u64, Option<&str>)> = kev
        .skipped
        .iter()
        .map(|s| (s.index, s.id.as_deref()))
        .collect();
    assert_eq!(
        skipped,
        [
            (1, Some("CVE-2024-0002")),
            (2, None),
            (3, Some("CVE-2024-0004"))
        ]
    );
    assert!(
        kev.skipped[0]
            .reason
            .contains("dateAdded `01/01/2025` is not a date")
    );
    assert!(kev.skipped[1].reason.contains("cveID is missing"));
    assert!(kev.skipped[2].reason.contains("Maybe"));

    let refused = [
        (
            r#"{"vulnerabilities": []}"#,
            ErrorKind::Malformed,
            "catalogVersion is missing",
        ),
        (
            r#"{"catalogVersion": "1", "dateReleased": "yesterday", "count": 0, "vulnerabilities": []}"#,
            ErrorKind::Malformed,
            "not a timestamp",
        ),
        (
            r#"{"catalogVersion": "1", "dateReleased": "2025-01-01T00:00:00Z", "count": 0}"#,
            ErrorKind::Malformed,
            "no `vulnerabilities` array",
        ),
        (
            r#"{"catalogVersion": "1", "vulnerabilities": ["#,
            ErrorKind::Truncated,
            "ends before",
        ),
        ("<html>", ErrorKind::Malformed, "not valid JSON"),
    ];
    for (input, kind, needle) in refused {
        let err = read_kev(input.as_bytes()).expect_err(input);
        assert_eq!(err.kind, kind, "{input}: {err}");
        assert!(err.message.contains(needle), "{input}: {err}");
    }
}

fn epss(
    input: &[u8],
) -> Result<(Vec<(u64, EpssScore)>, garrison_scan::vulndb::EpssStats), garrison_scan::ScanError> {
    let counted = Counted::new(Cursor::new(input.to_vec()));
    let progress = counted.progress();
    let mut rows = Vec::new();
    // The line a row ends on is one before the counter's current line.
    let stats = read_epss(counted, |r| rows.push((progress.line() - 1, r)))?;
    Ok((rows, stats))
}

#[test]
fn the_epss_sample_reads_with_its_model_and_date() {
    let bytes = read("cve/epss/vunnel-epss-example-1.csv");
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    // Independent count: non-empty lines that are neither the comment nor
    // the header.
    let data_lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("cve,"))
        .count();
    let (rows, stats) = epss(&bytes).expect("epss");
    assert_eq!(rows.len(), data_lines);
    assert_eq!(rows.len(), 5);
    assert_eq!(stats.rows, 5);
    assert!(stats.rejections.is_empty());
    assert_eq!(stats.model_version.as_deref(), Some("v2023.03.01"));
    assert_eq!(stats.score_date, Some(jiff::civil::date(2025, 2, 20)));
    let (_, last) = rows
        .iter()
        .find(|(_, r)| r.cve == "CVE-1999-0005")
        .expect("row");
    assert_eq!(last.epss, 0.91963_f32);
    assert_eq!(last.percentile, 0.99214_f32);
    assert_eq!(rows[0].1.cve, "CVE-1999-0001");
    assert_eq!(rows[0].0, 3);
}

#[test]
fn the_epss_file_with_a_broken_header_is_refused() {
    let err = epss(&read("cve/epss/vunnel-epss-invalid-header.csv")).expect_err("refused");
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert_eq!(err.line, 2);
    assert!(err.message.contains("cve,epss,percentile"), "{err}");
    assert!(err.message.contains("invalid,header,format"), "{err}");

    let err = epss(b"cve,score\nCVE-2024-0001,0.5\n").expect_err("line 1");
    assert_eq!(err.line, 1);
    assert_eq!(epss(b"").expect_err("empty").kind, ErrorKind::Truncated);
    assert_eq!(epss(b"#model_version:v1\n").expect_err("no header").line, 2);
    let err = epss(&[0x1f, 0x8b, 8, 0]).expect_err("gzip");
    assert!(err.message.contains("gzip"), "{err}");
    let err = epss(b"#score_date:soon\ncve,epss,percentile\n").expect_err("date");
    assert!(err.message.contains("score_date `soon`"), "{err}");
}

#[test]
fn bad_epss_rows_are_skipped_by_line() {
    let input = b"\xef\xbb\xbfcve,epss,percentile\r\n\
CVE-2024-0001,0.1,0.2\r\n\
\r\n\
CVE-2024-0002,1.5,0.2\n\
CVE-2024-0003,abc,0.2\n\
CVE-2024-0004,0.1\n\
NOT-A-CVE,0.1,0.2\n\
CVE-2024-0007,0.1,-0.01\n\
cve-2024-0008,1,0\n\
CVE-2024-0009,NaN,0.5";
    let (rows, stats) = epss(input).expect("epss");
    let cves: Vec<&str> = rows.iter().map(|(_, r)| r.cve.as_str()).collect();
    assert_eq!(cves, ["CVE-2024-0001", "CVE-2024-0008"]);
    assert_eq!(stats.model_version, None);
    assert_eq!(stats.skipped, 6);
    let lines: Vec<u64> = stats.rejections.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 8, 10]);
    assert!(
        stats.rejections[0]
            .reason
            .contains("epss 1.5 is outside 0 to 1")
    );
    assert!(stats.rejections[1].reason.contains("not a number"));
    assert!(stats.rejections[2].reason.contains("expected 3 fields"));
    assert!(stats.rejections[3].reason.contains("not a CVE id"));
    assert!(stats.rejections[4].reason.contains("percentile"));
}

//! CPE parsing, version order and matching, checked against the corpus:
//! the Debian 12 package inventory of a real VM and NVD's own records for
//! CVE-2024-3094 (xz) and others.

use std::cmp::Ordering;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use garrison_scan::Software;
use garrison_scan::cpe::{Certainty, Cpe, CpeMatch, compare_versions, matches};
use garrison_scan::vulndb::{NvdRecord, read_nvd};

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

/// The packages of `scans/csv/assets-vm-dpkg-inventory.csv`, read with
/// the csv crate directly (not through Garrison's asset reader).
fn inventory() -> Vec<Software> {
    let path = corpus().join("scans/csv/assets-vm-dpkg-inventory.csv");
    let mut reader = csv::Reader::from_path(&path).expect("inventory");
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .expect("inventory column")
    };
    let (package, version) = (column("package"), column("version"));
    let packages: Vec<Software> = reader
        .records()
        .map(|row| {
            let row = row.expect("row");
            Software {
                name: row[package].to_owned(),
                version: Some(row[version].to_owned()),
                cpe: None,
            }
        })
        .collect();
    // The manifest describes 764 packages; the file is the authority.
    assert!(packages.len() > 700, "{} packages", packages.len());
    packages
}

fn nvd_file(name: &str) -> Vec<NvdRecord> {
    let file = File::open(corpus().join("cve/nvd").join(name)).expect("nvd file");
    let mut records = Vec::new();
    let stats = read_nvd(BufReader::new(file), |r| records.push(r)).expect("read");
    assert_eq!(stats.skipped, 0, "{:?}", stats.skips);
    records
}

fn software(name: &str, version: &str) -> Software {
    Software {
        name: name.to_owned(),
        version: Some(version.to_owned()),
        cpe: None,
    }
}

fn criteria(cpe: &str) -> CpeMatch {
    CpeMatch {
        criteria: Cpe::parse(cpe).expect("criteria"),
        version_start_including: None,
        version_start_excluding: None,
        version_end_including: None,
        version_end_excluding: None,
        vulnerable: true,
        match_criteria_id: None,
    }
}

fn libwebp_before_1_3_2() -> CpeMatch {
    CpeMatch {
        version_end_excluding: Some("1.3.2".to_owned()),
        ..criteria("cpe:2.3:a:webmproject:libwebp:*:*:*:*:*:*:*:*")
    }
}

#[test]
fn versions_compare_as_people_expect() {
    let cases = [
        ("1.10", "1.9", Ordering::Greater),
        ("1.2.3", "1.2.10", Ordering::Less),
        ("2.0", "2.0~rc1", Ordering::Greater),
        ("5.4.1", "5.6.0", Ordering::Less),
        ("1:1.0", "2.0", Ordering::Greater),
        ("7.88.1", "7.88.10", Ordering::Less),
        ("5.6.1", "5.6.1", Ordering::Equal),
        ("3.0.19", "3.0.2", Ordering::Greater),
        ("1.2.4", "1.3.2", Ordering::Less),
        ("9.2p1", "9.3p2", Ordering::Less),
        ("2.0.0-rc1", "2.0.0", Ordering::Less),
    ];
    for (a, b, want) in cases {
        assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
    }
}

#[test]
fn no_package_of_the_inventory_has_the_xz_backdoor() {
    let records = nvd_file("CVE-2024-3094.json");
    assert_eq!(records.len(), 1);
    let xz = &records[0];
    assert_eq!(xz.id, "CVE-2024-3094");
    // NVD lists exactly the two backdoored releases, 5.6.0 and 5.6.1.
    let versions: Vec<&str> = xz
        .matches
        .iter()
        .filter_map(|m| m.criteria.version.value())
        .collect();
    assert_eq!(versions, ["5.6.0", "5.6.1"]);

    let packages = inventory();
    for package in &packages {
        for m in &xz.matches {
            assert_eq!(matches(package, m), None, "{package:?} vs {m:?}");
        }
    }

    // The packages are recognised as xz, so the verdict above comes from
    // their version (5.4.1-1), not from failing to recognise them.
    for name in ["xz-utils", "liblzma5"] {
        let installed = packages
            .iter()
            .find(|p| p.name == name)
            .expect("xz package");
        assert_eq!(installed.version.as_deref(), Some("5.4.1-1"));
        let backdoored = software(name, "5.6.1-1");
        assert!(
            xz.matches
                .iter()
                .any(|m| matches(&backdoored, m) == Some(Certainty::Possible)),
            "{name} 5.6.1-1"
        );
        let upstream = software(name, "5.6.0");
        assert!(
            xz.matches
                .iter()
                .any(|m| matches(&upstream, m) == Some(Certainty::Affected)),
            "{name} 5.6.0"
        );
    }
    // Neither the development headers nor a look-alike name match.
    for name in ["liblzma-dev", "xz-java", "xzdec", "python3-xz"] {
        let s = software(name, "5.6.0");
        assert!(
            xz.matches.iter().all(|m| matches(&s, m).is_none()),
            "{name}"
        );
    }
}

#[test]
fn debian_libwebp_with_the_backported_fix_is_only_possible() {
    let m = libwebp_before_1_3_2();
    let installed = inventory()
        .into_iter()
        .find(|p| p.name == "libwebp7")
        .expect("libwebp7 in the inventory");
    assert_eq!(installed.version.as_deref(), Some("1.2.4-0.2+deb12u1"));
    assert_eq!(matches(&installed, &m), Some(Certainty::Possible));
    assert_eq!(
        matches(&software("libwebp", "1.2.4"), &m),
        Some(Certainty::Affected)
    );
    assert_eq!(
        matches(&software("libwebp7", "1.2.4"), &m),
        Some(Certainty::Affected)
    );
    assert_eq!(matches(&software("libwebp7", "1.3.2"), &m), None);
    assert_eq!(matches(&software("libwebp7", "1.3.2-0.1"), &m), None);
    assert_eq!(
        matches(&software("libwebp", "1.3.1-rc2"), &m),
        Some(Certainty::Affected)
    );
}

#[test]
fn the_corpus_cves_against_the_inventory() {
    let packages = inventory();
    let mut found = Vec::new();
    let mut dir: Vec<PathBuf> = std::fs::read_dir(corpus().join("cve/nvd"))
        .expect("nvd dir")
        .map(|e| e.expect("entry").path())
        .collect();
    dir.sort();
    for path in dir {
        let file = File::open(&path).expect("open");
        read_nvd(BufReader::new(file), |record| {
            for package in &packages {
                if let Some(c) = record.matches.iter().find_map(|m| matches(package, m)) {
                    found.push((record.id.clone(), package.name.clone(), c));
                }
            }
        })
        .expect("read");
    }
    // Every package carries a Debian revision, so nothing can be more than
    // `Possible`; libxpm4 1:3.5.12-1.1+deb12u1 falls inside NVD's range for
    // CVE-2022-46285 (< 3.5.15) by its upstream version.
    assert!(
        found.iter().all(|(_, _, c)| *c == Certainty::Possible),
        "{found:?}"
    );
    // It is the only match: libapparmor1 is not taken for canonical:apparmor
    // (a library package is not the product unless its name says so), and
    // the other products are not installed.
    assert_eq!(
        found,
        [(
            "CVE-2022-46285".to_owned(),
            "libxpm4".to_owned(),
            Certainty::Possible
        )]
    );
}

#[test]
fn software_with_its_own_cpe_is_identified_by_it() {
    let m = criteria("cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*");
    let by_cpe = |cpe: &str, version: Option<&str>| Software {
        name: "something else".to_owned(),
        version: version.map(str::to_owned),
        cpe: Some(cpe.to_owned()),
    };
    assert_eq!(
        matches(
            &by_cpe("cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*", None),
            &m
        ),
        Some(Certainty::Affected)
    );
    // The CPE's version is `*`, so the software's own version decides.
    assert_eq!(
        matches(
            &by_cpe("cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*", Some("5.6.1-1")),
            &m
        ),
        Some(Certainty::Possible)
    );
    assert_eq!(
        matches(&by_cpe("cpe:/a:tukaani:xz:5.6.1", None), &m),
        Some(Certainty::Affected)
    );
    assert_eq!(
        matches(&by_cpe("cpe:2.3:a:other:xz:5.6.1:*:*:*:*:*:*:*", None), &m),
        None
    );
    // An unknown vendor in the software's CPE does not match a named one.
    assert_eq!(
        matches(&by_cpe("cpe:2.3:a:*:xz:5.6.1:*:*:*:*:*:*:*", None), &m),
        None
    );
    // A name that would match is not consulted when the CPE says otherwise.
    let named_xz = Software {
        name: "xz-utils".to_owned(),
        version: Some("5.6.1".to_owned()),
        cpe: Some("cpe:2.3:a:acme:xz_clone:5.6.1:*:*:*:*:*:*:*".to_owned()),
    };
    assert_eq!(matches(&named_xz, &m), None);
    // An update attribute joins the version: OpenSSH 9.2 p1.
    let openssh = CpeMatch {
        version_end_excluding: Some("9.3p2".to_owned()),
        ..criteria("cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*")
    };
    assert_eq!(
        matches(
            &by_cpe("cpe:2.3:a:openbsd:openssh:9.3:p2:*:*:*:*:*:*", None),
            &openssh
        ),
        None
    );
    assert_eq!(
        matches(
            &by_cpe("cpe:2.3:a:openbsd:openssh:9.3:p1:*:*:*:*:*:*", None),
            &openssh
        ),
        Some(Certainty::Affected)
    );
}

#[test]
fn names_match_only_by_the_documented_rules() {
    let openssl = CpeMatch {
        version_start_including: Some("3.0.0".to_owned()),
        version_end_excluding: Some("3.0.20".to_owned()),
        ..criteria("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*")
    };
    assert_eq!(
        matches(&software("libssl3", "3.0.19-1~deb12u2"), &openssl),
        Some(Certainty::Possible)
    );
    assert_eq!(
        matches(&software("libssl3t64", "3.0.19-1"), &openssl),
        Some(Certainty::Possible)
    );
    assert_eq!(
        matches(&software("OpenSSL", "3.0.19"), &openssl),
        Some(Certainty::Affected)
    );
    assert_eq!(matches(&software("libssl-dev", "3.0.19-1"), &openssl), None);
    assert_eq!(matches(&software("openssl", "3.0.20"), &openssl), None);
    assert_eq!(matches(&software("openssl", "1.1.1w"), &openssl), None);
    // The alias table holds for the vendor it names only.
    let other_vendor = CpeMatch {
        version_end_excluding: Some("4".to_owned()),
        ..criteria("cpe:2.3:a:someone:openssl:*:*:*:*:*:*:*:*")
    };
    assert_eq!(
        matches(&software("libssl3", "3.0.19-1"), &other_vendor),
        None
    );

    // `vendor product` names, case, `-` for `_`, multiarch suffixes.
    let tomcat = CpeMatch {
        version_end_excluding: Some("9.0.90".to_owned()),
        ..criteria("cpe:2.3:a:apache:tomcat:*:*:*:*:*:*:*:*")
    };
    assert_eq!(
        matches(&software("Apache Tomcat", "9.0.80"), &tomcat),
        Some(Certainty::Affected)
    );
    assert_eq!(
        matches(&software("Apache Tomcat Native", "9.0.80"), &tomcat),
        None
    );
    let jukebox = criteria("cpe:2.3:a:sourcefabric:rpi-jukebox-rfid:2.3.0:*:*:*:*:*:*:*");
    assert_eq!(
        matches(&software("RPi_Jukebox_RFID", "2.3.0"), &jukebox),
        Some(Certainty::Affected)
    );
    let curl = CpeMatch {
        version_end_including: Some("8.0.0".to_owned()),
        ..criteria("cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*")
    };
    assert_eq!(
        matches(&software("libcurl4:amd64", "7.88.1-10+deb12u15"), &curl),
        Some(Certainty::Possible)
    );
    assert_eq!(
        matches(&software("curl", "7.88.1-10+deb12u15"), &curl),
        Some(Certainty::Possible)
    );

    // A Jenkins plugin named `git` is not the `git` package.
    let plugin = criteria("cpe:2.3:a:jenkins:git:*:*:*:*:*:jenkins:*:*");
    assert_eq!(
        matches(&software("git", "1:2.39.5-0+deb12u2"), &plugin),
        None
    );
    // Hardware is never matched by name.
    assert_eq!(
        matches(
            &software("xz", "1"),
            &criteria("cpe:2.3:h:tukaani:xz:*:*:*:*:*:*:*:*")
        ),
        None
    );
    // Platform entries are not vulnerable themselves.
    let platform = CpeMatch {
        vulnerable: false,
        ..criteria("cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*")
    };
    assert_eq!(matches(&software("xz", "5.6.0"), &platform), None);
}

#[test]
fn versions_and_ranges() {
    let any = criteria("cpe:2.3:a:noxen_project:noxen:*:*:*:*:*:*:*:*");
    // No version and no range: every version, even an unknown one.
    assert_eq!(
        matches(&software("noxen", "0.1"), &any),
        Some(Certainty::Affected)
    );
    let unknown = Software {
        name: "noxen".to_owned(),
        version: None,
        cpe: None,
    };
    assert_eq!(matches(&unknown, &any), Some(Certainty::Affected));
    let ranged = CpeMatch {
        version_start_excluding: Some("1.0".to_owned()),
        version_end_including: Some("2.0".to_owned()),
        ..any.clone()
    };
    assert_eq!(matches(&unknown, &ranged), None);
    assert_eq!(matches(&software("noxen", "1.0"), &ranged), None);
    assert_eq!(matches(&software("noxen", "1.0.0"), &ranged), None);
    assert_eq!(
        matches(&software("noxen", "1.0.1"), &ranged),
        Some(Certainty::Affected)
    );
    assert_eq!(
        matches(&software("noxen", "v2.0"), &ranged),
        Some(Certainty::Affected)
    );
    assert_eq!(matches(&software("noxen", "2.0.1"), &ranged), None);
    assert_eq!(
        matches(&software("noxen", "2:1.5-3"), &ranged),
        Some(Certainty::Possible)
    );
    // A named criteria version with an update: `5.6.0:beta`.
    let beta = criteria("cpe:2.3:a:noxen_project:noxen:5.6.0:beta:*:*:*:*:*:*");
    assert_eq!(
        matches(&software("noxen", "5.6.0-beta"), &beta),
        Some(Certainty::Affected)
    );
    assert_eq!(matches(&software("noxen", "5.6.0"), &beta), None);
}

//! `garrison import vulndb` on the real binary: the summary, JSON output,
//! and a refused file's exit status and message.

mod common;

use std::path::PathBuf;

use common::Garrison;
use serde_json::Value;

fn corpus(rel: &str) -> String {
    std::env::var_os("GARRISON_CORPUS")
        .map_or_else(
            || {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/corpus"
                ))
            },
            PathBuf::from,
        )
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn vulnerability_data_imports_with_a_summary_and_bad_files_fail_clearly() {
    let g = Garrison::new().await;
    let kev = corpus("cve/kev/known_exploited_vulnerabilities-2025-03-03.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&kev).expect("kev")).expect("kev json");
    let entries = doc["vulnerabilities"].as_array().expect("entries").len();

    let out = g.ok(&["import", "vulndb", &kev]);
    assert!(out.contains("(kev 2025.03.03): completed"), "{out}");
    assert!(
        out.contains(&format!(
            "records {entries}: CVEs inserted {entries}, updated 0"
        )),
        "{out}"
    );

    let out = g.ok(&[
        "import",
        "vulndb",
        &corpus("cve/nvd/vunnel-full-page.json"),
        "--format",
        "nvd",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["format"], "nvd");
    // A CVE already in KEV is updated, the others inserted.
    assert_eq!(
        v["records"].as_u64(),
        Some(v["inserted"].as_u64().unwrap_or(0) + v["updated"].as_u64().unwrap_or(0))
    );
    assert_eq!(v["skipped"], 0);
    assert!(v["matches"]["new"].is_u64(), "{v}");

    let bad = g.run(&[
        "import",
        "vulndb",
        &corpus("cve/epss/vunnel-epss-invalid-header.csv"),
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("vunnel-epss-invalid-header.csv: line 2: expected the EPSS header"),
        "{err}"
    );

    let wrong = g.run(&["import", "vulndb", &kev, "--format", "nessus"]);
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("use nvd, kev or epss"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
}

//! Recognising a file's format from its first bytes.

/// The formats Garrison reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Nmap,
    Nessus,
    Openvas,
    /// Qualys VM scan report (`ASSET_DATA_REPORT`), infrastructure scan
    /// (`SCAN`) or host detection list (`HOST_LIST_VM_DETECTION_OUTPUT`).
    Qualys,
    /// Scanner findings exported as CSV, one row per finding (Nessus,
    /// Tenable, OpenVAS, Qualys or a generic list); see
    /// [`crate::findings_csv`].
    FindingsCsv,
    AssetsCsv,
    AssetsJson,
    NvdJson,
    KevJson,
    EpssCsv,
}

impl Format {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nmap => "nmap",
            Self::Nessus => "nessus",
            Self::Openvas => "openvas",
            Self::Qualys => "qualys",
            Self::FindingsCsv => "scan-csv",
            Self::AssetsCsv => "csv",
            Self::AssetsJson => "json",
            Self::NvdJson => "nvd",
            Self::KevJson => "kev",
            Self::EpssCsv => "epss",
        }
    }

    /// From a `--format` value.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "nmap" => Self::Nmap,
            "nessus" => Self::Nessus,
            "openvas" | "gvm" => Self::Openvas,
            "qualys" => Self::Qualys,
            "scan-csv" | "findings-csv" => Self::FindingsCsv,
            "csv" => Self::AssetsCsv,
            "json" => Self::AssetsJson,
            "nvd" => Self::NvdJson,
            "kev" => Self::KevJson,
            "epss" => Self::EpssCsv,
            _ => return None,
        })
    }
}

/// Guesses the format from the first few kilobytes of a file; `None` when
/// nothing fits (the caller then asks for `--format`).
#[must_use]
pub fn detect(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        // The root element: the first start tag that is not a declaration,
        // comment or doctype.
        let root = text
            .match_indices('<')
            .map(|(i, _)| &text[i + 1..])
            .find(|rest| !rest.starts_with('?') && !rest.starts_with('!'))?;
        let name: String = root
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return match name.as_str() {
            "nmaprun" => Some(Format::Nmap),
            "NessusClientData_v2" => Some(Format::Nessus),
            "report" | "get_reports_response" => Some(Format::Openvas),
            "ASSET_DATA_REPORT" | "SCAN" | "HOST_LIST_VM_DETECTION_OUTPUT" => Some(Format::Qualys),
            _ => None,
        };
    }
    if text.starts_with('{') || text.starts_with('[') {
        if text.contains("\"vulnerabilities\"")
            && (text.contains("\"cveID\"") || text.contains("catalogVersion"))
        {
            return Some(Format::KevJson);
        }
        if text.contains("\"vulnerabilities\"")
            || text.contains("\"CVE_Items\"")
            || text.contains("\"cve\"")
        {
            return Some(Format::NvdJson);
        }
        return Some(Format::AssetsJson);
    }
    let first_line = text
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if text.starts_with("#model_version") || first_line.starts_with("cve,epss") {
        return Some(Format::EpssCsv);
    }
    // A findings CSV names a host and a finding (a plugin id or a title) in
    // its header, which may follow a preamble; an asset list names hosts
    // only.
    if crate::findings_csv::sniff(text.as_bytes()).is_some() {
        return Some(Format::FindingsCsv);
    }
    if first_line.contains(',') || first_line.contains(';') {
        return Some(Format::AssetsCsv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_headers() {
        let cases: &[(&str, Option<Format>)] = &[
            (
                "<?xml version=\"1.0\"?>\n<!-- x -->\n<nmaprun scanner=\"nmap\">",
                Some(Format::Nmap),
            ),
            (
                "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>",
                Some(Format::Nessus),
            ),
            ("<report id=\"x\">", Some(Format::Openvas)),
            (
                "<?xml version=\"1.0\"?><!DOCTYPE ASSET_DATA_REPORT SYSTEM \"x.dtd\"><ASSET_DATA_REPORT>",
                Some(Format::Qualys),
            ),
            ("<SCAN value=\"scan/1\">", Some(Format::Qualys)),
            (
                "{\"title\": \"CISA Catalog\", \"catalogVersion\": \"2025.03.03\", \"vulnerabilities\": [",
                Some(Format::KevJson),
            ),
            (
                "{\"resultsPerPage\": 1, \"vulnerabilities\": [{\"cve\": {",
                Some(Format::NvdJson),
            ),
            ("[{\"hostname\": \"web1\"}]", Some(Format::AssetsJson)),
            (
                "#model_version:v2023.03.01,score_date:2025-02-20\ncve,epss,percentile\n",
                Some(Format::EpssCsv),
            ),
            (
                "hostname,ip,criticality\nweb1,10.0.0.1,high\n",
                Some(Format::AssetsCsv),
            ),
            // Qualys_Sample_Report.csv
            (
                "\"IP\",\"Network\",\"DNS\",\"NetBIOS\",\"Tracking Method\",\"OS\",\"IP Status\",\"QID\",\"Title\",\"Vuln Status\",\"Type\",\"Severity\",\"Port\",\"Protocol\",\"FQDN\",\"SSL\",\"First Detected\",\"Last Detected\",\"Times Detected\",\"Date Last Fixed\",\"CVE ID\",\"Vendor Reference\",\"Bugtraq ID\",\"CVSS3\",\"CVSS3 Base\",\"CVSS3 Temporal\",\"Threat\",\"Impact\",\"Solution\",\"Exploitability\",\"Associated Malware\",\"PCI Vuln\",\"Ticket State\",\"Instance\",\"OS CPE\",\"Category\",\"Associated Tags\"\n",
                Some(Format::FindingsCsv),
            ),
            // generic_csv_with_epss.csv
            (
                "Date,Title,CweId,epss_score,epss_percentile, Url,Severity,Description,Mitigation,Impact,References,Active,Verified,FalsePositive,Duplicate\n",
                Some(Format::FindingsCsv),
            ),
            // generic_report1.csv
            (
                "Date,Title,CweId,Url,Severity,Description,Mitigation,Impact,References,Active,Verified,FalsePositive,Duplicate\n",
                Some(Format::FindingsCsv),
            ),
            // nessus-template.csv
            (
                "Plugin ID,CVE,CVSS v2.0 Base Score,Risk,Host,Protocol,Port,Name,Synopsis,Description,Solution,See Also,Plugin Output,STIG Severity,CVSS v4.0 Base Score,CVSS v4.0 Base+Threat Score,CVSS v3.0 Base Score,CVSS v2.0 Temporal Score,CVSS v3.0 Temporal Score,VPR Score,EPSS Score,Risk Factor,BID,XREF,MSKB,Plugin Publication Date,Plugin Modification Date,Metasploit,Core Impact,CANVAS\n",
                Some(Format::FindingsCsv),
            ),
            // nessus_many_vuln.csv
            (
                "Plugin,Plugin Name,Family,Severity,IP Address,Protocol,Port,Exploit?,Repository,MAC Address,DNS Name,NetBIOS Name,Plugin Text,First Discovered,Last Observed,Exploit Frameworks,Synopsis,Description,Solution,See Also,Risk Factor,STIG Severity,Vulnerability Priority Rating,CVSS V2 Base Score,CVSS V3 Base Score,CVSS V2 Temporal Score,CVSS V3 Temporal Score,CVSS V2 Vector,CVSS V3 Vector,CPE,CVE,BID,Cross References,Vuln Publication Date,Patch Publication Date,Plugin Publication Date,Plugin Modification Date,Exploit Ease,Check Type,Version\n",
                Some(Format::FindingsCsv),
            ),
            // nessus_many_vuln2-default.csv
            (
                "Plugin ID,CVE,CVSS,Risk,Host,Protocol,Port,Name,Synopsis,Description,Solution,See Also,Plugin Output\n",
                Some(Format::FindingsCsv),
            ),
            // openvas_many_vuln.csv
            (
                "IP,Hostname,Port,Port Protocol,CVSS,Severity,Solution Type,NVT Name,Summary,Specific Result,NVT OID,CVEs,Task ID,Task Name,Timestamp,Result ID,Impact,Solution,Affected Software/OS,Vulnerability Insight,Vulnerability Detection Method,Product Detection Result,BIDs,CERTs,Other References\n",
                Some(Format::FindingsCsv),
            ),
            // openvas_one_vuln.csv
            (
                "IP,Hostname,Port,Port Protocol,CVSS,Severity,Solution Type,NVT Name,Summary,Specific Result,NVT OID,CVEs,Task ID,Task Name,Timestamp,Result ID,Impact,Solution,Affected Software/OS,Vulnerability Insight,Vulnerability Detection Method,Product Detection Result,BIDs,CERTs,Other References\n",
                Some(Format::FindingsCsv),
            ),
            // openvas_report_using_CVE.csv
            (
                "IP,Hostname,Port,Port Protocol,CVSS,Severity,QoD,Solution Type,NVT Name,Summary,Specific Result,NVT OID,CVEs,Task ID,Task Name,Timestamp,Result ID,Impact,Solution,Affected Software/OS,Vulnerability Insight,Vulnerability Detection Method,Product Detection Result,BIDs,CERTs,Other References\n",
                Some(Format::FindingsCsv),
            ),
            // qualys_vmdr_many_vulns_qid.csv
            (
                "\"Asset Vuln Datalist Report\",\"04 Feb 2026 10:00AM GMT-0500\",\"1\"\n\"TestCompany\",\"123 Test Street\",\"Test City\",\"None\",\"12345\",\"USA\"\n\"Test User\",\"testuser\",\"IDM - Scanner VMDR\"\n\"QID\",\"Title\",\"Severity\",\"KB Severity\",\"Type Detected\",\"Last Detected\",\"First Detected\",\"Protocol\",\"Port\",\"Status\",\"Asset Id\",\"Asset Name\",\"Asset IPV4\",\"Asset IPV6\",\"Solution\",\"Asset Tags\",\"Disabled\",\"Ignored\",\"QDS\",\"QDS Severity\",\"Detection AGE\",\"Published Date\",\"Patch Released\",\"Category\",\"RTI\",\"Operating System\",\"Last Fixed\",\"Last Reopened\",\"Times Detected\",\"Threat\",\"Vuln Patchable\",\"Asset Critical Score\",\"TruRisk Score\",\"Vulnerability Tags\",\"Results\",\"Deep Scan Result\",\"Detection Source\",\"MITRE ATT&CK TACTIC ID\",\"MITRE ATT&CK TACTIC NAME\",\"MITRE ATT&CK TECHNIQUE ID\",\"MITRE ATT&CK TECHNIQUE NAME\"\n",
                Some(Format::FindingsCsv),
            ),
            // qualys_vmdr_one_vuln_cve.csv
            (
                "\"Asset Vuln Datalist Report\",\"04 Feb 2026 10:00AM GMT-0500\",\"1\"\n\"TestCompany\",\"123 Test Street\",\"Test City\",\"None\",\"12345\",\"USA\"\n\"Test User\",\"testuser\",\"IDM - Scanner VMDR\"\n\"CVE\",\"CVE-Description\",\"CVSSv2 Base (nvd)\",\"CVSSv3.1 Base (nvd)\",\"QID\",\"Title\",\"Severity\",\"KB Severity\",\"Type Detected\",\"Last Detected\",\"First Detected\",\"Protocol\",\"Port\",\"Status\",\"Asset Id\",\"Asset Name\",\"Asset IPV4\",\"Asset IPV6\",\"Solution\",\"Asset Tags\",\"Disabled\",\"Ignored\",\"QVS Score\",\"Detection AGE\",\"Published Date\",\"Patch Released\",\"Category\",\"CVSS Rating Labels\",\"RTI\",\"Operating System\",\"Last Fixed\",\"Last Reopened\",\"Times Detected\",\"Threat\",\"Vuln Patchable\",\"Asset Critical Score\",\"TruRisk Score\",\"Vulnerability Tags\",\"Results\",\"Deep Scan Result\",\"Detection Source\"\n",
                Some(Format::FindingsCsv),
            ),
            // tenable_many_vuln.csv
            (
                "Plugin ID,CVE,CVSS,Risk,Host,Protocol,Port,Name,Synopsis,Description,Solution,See Also,Plugin Output,,Vulnerability State,IP Address,FQDN,NetBios,OS,,Plugin Family,CVSS Base Score,CVSS Temporal Score,CVSS Temporal Vector,CVSS Vector,CVSS3 Base Score,CVSS3 Temporal Score,CVSS3 Temporal Vector,CVSS3 Vector,System Type,Host Start,Host End,Vulnerability Priority Rating (VPR),First Found,Last Found,Host Scan Schedule ID,Host Scan ID,Indexed At,Last Authenticated Results Date,Last Unauthenticated Results Date,Tracked,Risk Factor,Severity,Original Severity,Modification,Plugin Family ID,Plugin Type,Plugin Version,Service,Plugin Modification Date,Plugin Publication Date,Checks for Malware,Exploit Available,Exploited by Malware,Exploited by Nessus,CANVAS,D2 Elliot,Metasploit,Core Exploits,ExploitHub,Default Account,Patch Available,In The News,Unsupported By Vendor,Last Fixed\n",
                Some(Format::FindingsCsv),
            ),
            // scans/csv/assets-vm-dpkg-inventory.csv: hosts, but no findings.
            (
                "hostname,ip,os,os_version,package,version,architecture\nvm,127.0.0.1,Debian GNU/Linux,12.11,adduser,3.134,all\n",
                Some(Format::AssetsCsv),
            ),
            (
                "name,ip,owner\nweb1,10.0.0.1,ops\n",
                Some(Format::AssetsCsv),
            ),
            ("<html>", None),
            ("just words", None),
        ];
        for (head, want) in cases {
            assert_eq!(detect(head.as_bytes()), *want, "{head}");
        }
    }
}

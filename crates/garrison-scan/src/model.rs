//! What the readers produce: hosts as a scanner saw them, with their
//! services, software and findings. Importers reconcile these with the
//! inventory; nothing here knows about tenants or storage.

use std::net::IpAddr;

use garrison_core::Timestamp;
use serde::Serialize;

/// The tool that produced a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scanner {
    Nmap,
    Nessus,
    Openvas,
    Qualys,
    /// A findings CSV of no scanner Garrison knows (a DefectDojo "generic
    /// findings" export, say).
    Csv,
    /// A CSV or JSON asset list (a CMDB export, say).
    AssetList,
}

impl Scanner {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nmap => "nmap",
            Self::Nessus => "nessus",
            Self::Openvas => "openvas",
            Self::Qualys => "qualys",
            Self::Csv => "csv",
            Self::AssetList => "asset-list",
        }
    }
}

/// Severity on one scale for every scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// From a CVSS base score, by the CVSS v3 bands.
    #[must_use]
    pub fn from_cvss(score: f32) -> Self {
        match score {
            s if s >= 9.0 => Self::Critical,
            s if s >= 7.0 => Self::High,
            s if s >= 4.0 => Self::Medium,
            s if s > 0.0 => Self::Low,
            _ => Self::Info,
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" | "none" | "log" => Self::Info,
            "low" => Self::Low,
            "medium" | "moderate" => Self::Medium,
            "high" => Self::High,
            "critical" | "urgent" => Self::Critical,
            _ => return None,
        })
    }
}

/// A CVSS base score with its vector when the report gives one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cvss {
    pub score: f32,
    pub vector: Option<String>,
}

/// A listening service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub port: u16,
    /// `tcp` or `udp` (lower case).
    pub protocol: String,
    /// Service name as the scanner calls it (`http`, `ssh`, ...).
    pub name: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
}

/// Installed software.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Software {
    pub name: String,
    pub version: Option<String>,
    /// A CPE 2.3 formatted string, when known.
    pub cpe: Option<String>,
}

/// One vulnerability (or informational item) reported on a host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScannedFinding {
    /// Line of the report where the finding starts.
    pub line: u64,
    pub scanner: Scanner,
    /// The scanner's id for the check: Nessus plugin id, OpenVAS NVT OID,
    /// Qualys QID, Nmap script id.
    pub plugin_id: String,
    pub title: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    /// Upper-case `CVE-YYYY-NNNN` ids, without duplicates.
    pub cves: Vec<String>,
    pub severity: Severity,
    pub cvss2: Option<Cvss>,
    pub cvss3: Option<Cvss>,
    pub cvss4: Option<Cvss>,
    pub description: Option<String>,
    pub solution: Option<String>,
    /// What the scanner saw (plugin output, result text), size-capped.
    pub evidence: Option<String>,
}

/// A host as one report describes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ScannedHost {
    /// Line of the report where the host starts.
    pub line: u64,
    pub ips: Vec<IpAddr>,
    /// Lower-case, colon-separated (`00:11:22:aa:bb:cc`).
    pub macs: Vec<String>,
    /// Short host name (no domain), lower case.
    pub hostname: Option<String>,
    /// Fully qualified name, lower case.
    pub fqdn: Option<String>,
    pub os: Option<String>,
    pub services: Vec<Service>,
    pub software: Vec<Software>,
    pub findings: Vec<ScannedFinding>,
    /// When the scanner looked at the host.
    pub scanned_at: Option<Timestamp>,
}

/// What a scanner says about one of its checks, given apart from the
/// hosts (Qualys lists its knowledge base after the hosts). Findings with
/// the same scanner and `plugin_id` take their title, severity, CVEs,
/// scores and texts from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingDefinition {
    pub scanner: Scanner,
    pub plugin_id: String,
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub cves: Vec<String>,
    pub cvss2: Option<Cvss>,
    pub cvss3: Option<Cvss>,
    pub description: Option<String>,
    pub solution: Option<String>,
}

/// What a reader yields.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanItem {
    Host(Box<ScannedHost>),
    Definition(Box<FindingDefinition>),
    Rejected(crate::Rejection),
}

/// Upper-cases and de-duplicates CVE ids found in free text, keeping order.
#[must_use]
pub fn cves_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut i = 0;
    while let Some(pos) = upper[i..].find("CVE-") {
        let start = i + pos;
        let mut end = start + 4;
        let year_end = end + 4;
        if year_end <= bytes.len()
            && bytes[end..year_end].iter().all(u8::is_ascii_digit)
            && bytes.get(year_end) == Some(&b'-')
        {
            end = year_end + 1;
            let digits_start = end;
            while end < bytes.len() && bytes[end].is_ascii_digit() && end - digits_start < 8 {
                end += 1;
            }
            if end - digits_start >= 4 {
                let id = upper[start..end].to_owned();
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        i = start + 4;
    }
    out
}

/// Normalises a MAC address to lower-case colon form; `None` if it is not
/// one.
#[must_use]
pub fn normalise_mac(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    let separators_ok = s
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'));
    if hex.len() != 12 || !separators_ok {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    Some(
        lower
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Caps free text (plugin output and the like) at `max` bytes on a
/// character boundary, marking the cut.
#[must_use]
pub fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated]", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_are_found_once_in_order() {
        assert_eq!(
            cves_in(
                "see cve-2021-44228, CVE-2014-0160 and CVE-2021-44228; not CVE-21-1 or CVE-2020-12"
            ),
            ["CVE-2021-44228", "CVE-2014-0160"]
        );
        assert!(cves_in("").is_empty());
    }

    #[test]
    fn macs() {
        assert_eq!(
            normalise_mac("00-1A-2b-3C-4d-5E").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("001a.2b3c.4d5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(normalise_mac("zz:1a:2b:3c:4d:5e"), None);
        assert_eq!(normalise_mac("00:1a:2b"), None);
    }

    #[test]
    fn severities() {
        assert_eq!(Severity::from_cvss(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss(0.0), Severity::Info);
        assert_eq!(Severity::parse("Moderate"), Some(Severity::Medium));
    }

    #[test]
    fn capping_respects_characters() {
        assert_eq!(cap("héllo", 2), "h… [truncated]");
        assert_eq!(cap("short", 10), "short");
    }
}

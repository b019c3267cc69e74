//! The asset inventory: assets with their risk profile and the source of
//! every field, network ranges, findings and imports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AssetId, FindingId, ImportId, RangeId, TenantId, UserId};
use crate::time::Timestamp;
use crate::validate::Invalid;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
                match norm.as_str() {
                    $($text $(| $alias)* => Ok(Self::$variant),)+
                    _ => Err(Invalid::new(
                        stringify!($name),
                        format!(
                            "`{}` is not one of: {}",
                            s.escape_default(),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// What kind of thing an asset is.
    AssetType {
        Server => "server",
        Workstation => "workstation" | "desktop" | "laptop",
        NetworkDevice => "network-device" | "router" | "switch",
        Firewall => "firewall",
        CloudResource => "cloud-resource" | "cloud",
        IotOt => "iot-ot" | "iot" | "ot" | "ics",
        Mobile => "mobile",
        Printer => "printer",
        Other => "other",
    }
);

text_enum!(
    /// How much the business depends on an asset.
    Criticality {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

text_enum!(
    /// The most sensitive data an asset holds.
    Sensitivity {
        Public => "public",
        Internal => "internal",
        Confidential => "confidential",
        Restricted => "restricted",
    }
);

text_enum!(
    /// Where a finding stands.
    FindingStatus {
        Open => "open",
        Fixed => "fixed",
        Reopened => "reopened",
        AcceptedRisk => "accepted-risk" | "accepted",
        FalsePositive => "false-positive",
    }
);

text_enum!(
    /// Severity of a finding.
    FindingSeverity {
        Info => "info" | "informational",
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

impl FindingStatus {
    /// Whether the finding still counts against the asset.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::Reopened)
    }
}

/// Regulations that every tenant can use; tenants may add their own names.
pub const STANDARD_REGULATIONS: &[&str] = &["PCI-DSS", "HIPAA", "GDPR", "NIS2", "SOX", "ISO-27001"];

/// Normalises a regulation name: the standard ones in their usual spelling,
/// others upper-cased. Names are 1–32 letters, digits and hyphens.
///
/// # Errors
/// When the name has other characters or is too long.
pub fn regulation(input: &str) -> Result<String, Invalid> {
    let s = input.trim();
    let key: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    if let Some(std) = STANDARD_REGULATIONS.iter().find(|r| {
        r.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            == key
    }) {
        return Ok((*std).to_owned());
    }
    let ok =
        !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(Invalid::new(
            "regulation",
            format!(
                "`{}` is not a regulation name (1 to 32 letters, digits, hyphens)",
                s.escape_default()
            ),
        ))
    }
}

/// Normalises a tag: 1–64 characters, no control characters, lower case.
///
/// # Errors
/// When empty, too long or holding control characters.
pub fn tag(input: &str) -> Result<String, Invalid> {
    let s = input.trim();
    if s.is_empty()
        || s.chars().count() > 64
        || s.chars().any(char::is_control)
        || s.contains([',', ';'])
    {
        return Err(Invalid::new(
            "tag",
            format!(
                "`{}` is not a tag (1 to 64 characters, no commas or semicolons)",
                s.escape_default()
            ),
        ));
    }
    Ok(s.to_lowercase())
}

/// Who set a field's value. Precedence: a person beats an asset list (a
/// CMDB export), which beats a scanner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Source {
    Scanner(String),
    AssetList(String),
    Manual,
}

impl Source {
    /// Rank for precedence: higher wins.
    #[must_use]
    pub const fn rank(&self) -> u8 {
        match self {
            Self::Scanner(_) => 1,
            Self::AssetList(_) => 2,
            Self::Manual => 3,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manual => f.write_str("manual"),
            Self::AssetList(n) => write!(f, "list:{n}"),
            Self::Scanner(n) => write!(f, "scan:{n}"),
        }
    }
}

impl From<Source> for String {
    fn from(s: Source) -> Self {
        s.to_string()
    }
}

impl TryFrom<String> for Source {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s == "manual" {
            Ok(Self::Manual)
        } else if let Some(n) = s.strip_prefix("list:") {
            Ok(Self::AssetList(n.to_owned()))
        } else if let Some(n) = s.strip_prefix("scan:") {
            Ok(Self::Scanner(n.to_owned()))
        } else {
            Err(format!("unknown source `{s}`"))
        }
    }
}

/// A listening service on an asset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AssetService {
    pub port: u16,
    pub protocol: String,
    pub name: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
}

/// Installed software on an asset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AssetSoftware {
    pub name: String,
    pub version: Option<String>,
    pub cpe: Option<String>,
}

/// Names of the fields whose source is tracked.
pub mod field {
    pub const HOSTNAME: &str = "hostname";
    pub const FQDN: &str = "fqdn";
    pub const OS: &str = "os";
    pub const ASSET_TYPE: &str = "asset_type";
    pub const OWNER: &str = "owner";
    pub const BUSINESS_UNIT: &str = "business_unit";
    pub const LOCATION: &str = "location";
    pub const CRITICALITY: &str = "criticality";
    pub const SENSITIVITY: &str = "sensitivity";
    pub const REGULATIONS: &str = "regulations";
    pub const TAGS: &str = "tags";
    pub const INTERNET_EXPOSED: &str = "internet_exposed";
    pub const ADDRESSES: &str = "addresses";
    pub const SERVICES: &str = "services";
    pub const SOFTWARE: &str = "software";
}

/// An asset of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: AssetId,
    pub tenant_id: TenantId,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub ips: Vec<IpAddr>,
    pub macs: Vec<String>,
    /// The network zone its addresses belong to (from the tenant's ranges
    /// or the import), so that the same private address at two sites are
    /// two assets.
    pub zone: String,
    pub os: Option<String>,
    pub asset_type: Option<AssetType>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub location: Option<String>,
    pub services: Vec<AssetService>,
    pub software: Vec<AssetSoftware>,
    pub tags: BTreeSet<String>,
    pub criticality: Option<Criticality>,
    pub sensitivity: Option<Sensitivity>,
    pub regulations: BTreeSet<String>,
    pub internet_exposed: Option<bool>,
    /// Who set each field (see [`field`]).
    pub sources: BTreeMap<String, Source>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Asset {
    /// A name for people: the FQDN, hostname or first address.
    #[must_use]
    pub fn display_name(&self) -> String {
        self.fqdn
            .clone()
            .or_else(|| self.hostname.clone())
            .or_else(|| self.ips.first().map(ToString::to_string))
            .or_else(|| self.macs.first().cloned())
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// A tenant network range: addresses in it belong to a zone and, until an
/// asset says otherwise, have a default criticality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRange {
    pub id: RangeId,
    pub tenant_id: TenantId,
    /// Normalised CIDR, e.g. `10.1.0.0/16`.
    pub cidr: String,
    pub zone: String,
    pub default_criticality: Option<Criticality>,
    pub description: Option<String>,
}

/// A CVSS score with its vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub score: f32,
    pub vector: Option<String>,
}

/// A vulnerability on an asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: FindingId,
    pub tenant_id: TenantId,
    pub asset_id: AssetId,
    /// `scanner|plugin_id|port|protocol`: the same check on the same port
    /// of the same asset is the same finding across scans.
    pub dedup_key: String,
    pub scanner: String,
    pub plugin_id: String,
    pub title: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub cves: Vec<String>,
    pub severity: FindingSeverity,
    pub cvss2: Option<Score>,
    pub cvss3: Option<Score>,
    pub cvss4: Option<Score>,
    pub description: Option<String>,
    pub solution: Option<String>,
    pub evidence: Option<String>,
    pub status: FindingStatus,
    pub status_reason: Option<String>,
    /// For accepted risk: when the acceptance ends.
    pub accepted_until: Option<Timestamp>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub fixed_at: Option<Timestamp>,
    pub last_import: Option<ImportId>,
}

/// What correlation needs of an open finding: where it is exposed and
/// which CVEs it names (the rest stays in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenExposure {
    pub asset_id: AssetId,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub title: String,
    pub cves: Vec<String>,
    pub severity: FindingSeverity,
}

/// The key findings are deduplicated by.
#[must_use]
pub fn finding_key(
    scanner: &str,
    plugin_id: &str,
    port: Option<u16>,
    protocol: Option<&str>,
) -> String {
    format!(
        "{scanner}|{plugin_id}|{}|{}",
        port.map(|p| p.to_string()).unwrap_or_default(),
        protocol.unwrap_or_default()
    )
}

text_enum!(
    /// What an import reads.
    ImportKind {
        Assets => "assets",
        Scan => "scan",
        VulnDb => "vulndb",
    }
);

text_enum!(
    /// Where an import stands. `Partial`: finished, but some records were
    /// rejected or the file ended early.
    ImportStatus {
        Queued => "queued",
        Running => "running",
        Completed => "completed",
        Partial => "partial",
        Failed => "failed",
    }
);

/// Counts of what an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub hosts: u64,
    pub assets_created: u64,
    pub assets_updated: u64,
    pub assets_unchanged: u64,
    pub findings_new: u64,
    pub findings_reopened: u64,
    pub findings_fixed: u64,
    pub findings_unchanged: u64,
    pub records: u64,
    pub rejected: u64,
}

/// A record skipped by an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRejection {
    pub line: u64,
    pub reason: String,
}

/// One import of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub id: ImportId,
    /// `None` for vulnerability data, which all tenants share.
    pub tenant_id: Option<TenantId>,
    pub kind: ImportKind,
    pub format: String,
    pub file_name: String,
    pub status: ImportStatus,
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub counts: ImportCounts,
    /// The first rejections (at most a few hundred are kept).
    pub rejections: Vec<ImportRejection>,
    pub error: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_with_aliases_and_say_what_is_allowed() {
        assert_eq!(
            "Network Device".parse::<AssetType>().expect("ok"),
            AssetType::NetworkDevice
        );
        assert_eq!("IOT".parse::<AssetType>().expect("ok"), AssetType::IotOt);
        assert_eq!(
            "CRITICAL".parse::<Criticality>().expect("ok"),
            Criticality::Critical
        );
        let err = "urgent".parse::<Criticality>().expect_err("bad");
        assert!(err.reason.contains("low, medium, high, critical"), "{err}");
        assert_eq!(
            "accepted".parse::<FindingStatus>().expect("ok"),
            FindingStatus::AcceptedRisk
        );
    }

    #[test]
    fn regulations_and_tags() {
        assert_eq!(regulation("pci dss").expect("ok"), "PCI-DSS");
        assert_eq!(regulation("iso27001").expect("ok"), "ISO-27001");
        assert_eq!(regulation("dora").expect("ok"), "DORA");
        assert!(regulation("<script>").is_err());
        assert_eq!(tag(" Prod ").expect("ok"), "prod");
        assert!(tag("a;b").is_err());
    }

    #[test]
    fn sources_round_trip_and_rank() {
        for s in [
            Source::Manual,
            Source::AssetList("csv".into()),
            Source::Scanner("nessus".into()),
        ] {
            let text: String = s.clone().into();
            assert_eq!(Source::try_from(text).expect("parses"), s);
        }
        assert!(Source::Manual.rank() > Source::AssetList("x".into()).rank());
        assert!(Source::AssetList("x".into()).rank() > Source::Scanner("y".into()).rank());
    }
}

//! Storage port for vulnerability data: what NVD, the CISA KEV catalogue
//! and FIRST EPSS say about CVEs.
//!
//! This data belongs to no tenant: the MSSP imports it once and every
//! tenant's findings read it. So no method takes a scope; the application
//! decides who may write it (`Permission::VulnDataManage`).
//!
//! The three sources fill separate columns of one row per CVE. Each upsert
//! writes only its own columns, so importing NVD records keeps what KEV and
//! EPSS said about the same CVEs, and the other way round.

use async_trait::async_trait;
use garrison_core::Timestamp;
use garrison_core::asset::Score;
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// One vulnerable CPE criterion of a CVE's configurations, as NVD gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnMatch {
    /// A CPE 2.3 formatted string (`cpe:2.3:a:tukaani:xz:5.6.0:*:...`).
    pub criteria: String,
    /// Affected versions start at this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_including: Option<String>,
    /// Affected versions start after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_excluding: Option<String>,
    /// Affected versions end at this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_including: Option<String>,
    /// Affected versions end before this one (usually the fixed release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_excluding: Option<String>,
}

/// What NVD says about one CVE.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdVuln {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub cve_id: String,
    /// As NVD writes it (`2024-03-29T17:15:21.150`).
    pub published: Option<String>,
    /// The English description.
    pub description: Option<String>,
    /// NVD's CVSS v2 base score and vector.
    pub cvss2: Option<Score>,
    /// NVD's CVSS v3.1 (else v3.0) base score and vector.
    pub cvss3: Option<Score>,
    /// NVD's CVSS v4.0 base score and vector.
    pub cvss4: Option<Score>,
    /// The vulnerable criteria of every configuration.
    pub matches: Vec<VulnMatch>,
    /// Normalised product names the criteria name (see
    /// `garrison_scan::cpe::product_key`), by which installed software
    /// finds its candidate CVEs. They replace the CVE's previous ones.
    pub products: Vec<String>,
}

/// A CVE's entry in the CISA Known Exploited Vulnerabilities catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevStatus {
    /// When CISA listed it (`YYYY-MM-DD`).
    pub added: String,
    /// When US federal agencies must have acted (`YYYY-MM-DD`).
    pub due: String,
    /// Whether it is known to be used in ransomware campaigns.
    pub ransomware: bool,
}

/// One KEV entry to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevFact {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub cve_id: String,
    /// What the catalogue says about it.
    pub status: KevStatus,
}

/// A CVE's FIRST EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssStatus {
    /// Probability of exploitation in the next 30 days, 0 to 1.
    pub score: f64,
    /// Rank among all scored CVEs, 0 to 1.
    pub percentile: f64,
}

/// One EPSS row to store.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssFact {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub cve_id: String,
    /// Its score and percentile.
    pub status: EpssStatus,
}

/// Everything stored about one CVE. The NVD fields are empty until an NVD
/// record for it was imported, `kev` and `epss` until KEV or EPSS data.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnRecord {
    /// Upper-case `CVE-YYYY-NNNN`.
    pub cve_id: String,
    /// As NVD writes it.
    pub published: Option<String>,
    /// NVD's English description.
    pub description: Option<String>,
    /// NVD's CVSS v2.
    pub cvss2: Option<Score>,
    /// NVD's CVSS v3.x.
    pub cvss3: Option<Score>,
    /// NVD's CVSS v4.0.
    pub cvss4: Option<Score>,
    /// Its CISA KEV entry, while the catalogue lists it.
    pub kev: Option<KevStatus>,
    /// Its FIRST EPSS score.
    pub epss: Option<EpssStatus>,
    /// NVD's vulnerable criteria; empty when read with
    /// [`VulnDetail::Facts`].
    pub matches: Vec<VulnMatch>,
    /// When any source last wrote the row.
    pub updated_at: Timestamp,
}

/// How much of a record a lookup reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VulnDetail {
    /// Scores, KEV and EPSS, without the CPE criteria (which can be long):
    /// enough to show and weigh findings.
    #[default]
    Facts,
    /// Also the CPE criteria, for matching installed software.
    WithMatches,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// CVEs that had no row before.
    pub inserted: u64,
    /// CVEs whose row was updated.
    pub updated: u64,
    /// CVEs that lost their KEV status (only [`VulnStore::replace_kev`]).
    pub removed: u64,
}

/// How much vulnerability data is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VulnCounts {
    /// CVEs with a row.
    pub cves: u64,
    /// CVEs with CPE criteria from NVD.
    pub with_matches: u64,
    /// CVEs in the KEV catalogue.
    pub kev: u64,
    /// CVEs with an EPSS score.
    pub epss: u64,
}

/// Vulnerability data, shared by every tenant.
#[async_trait]
pub trait VulnStore: Send + Sync {
    /// Inserts or updates NVD records in one transaction, replacing their
    /// scores, texts, criteria and products and keeping their KEV and EPSS
    /// columns. A CVE given twice counts once, its last record winning.
    async fn upsert_nvd(&self, records: &[NvdVuln], at: Timestamp) -> StoreResult<UpsertCounts>;
    /// Makes `entries` the whole KEV catalogue, in one transaction: their
    /// KEV columns are set (NVD and EPSS columns kept), and CVEs no longer
    /// listed lose their KEV status (counted as `removed`).
    async fn replace_kev(&self, entries: &[KevFact], at: Timestamp) -> StoreResult<UpsertCounts>;
    /// Inserts or updates EPSS scores in one transaction, keeping the NVD
    /// and KEV columns. Callers send a few thousand rows per call.
    async fn upsert_epss(&self, scores: &[EpssFact], at: Timestamp) -> StoreResult<UpsertCounts>;
    /// The records of these CVEs that exist (ids are compared upper-case),
    /// in id order.
    async fn find_vulns(&self, cves: &[String], detail: VulnDetail)
    -> StoreResult<Vec<VulnRecord>>;
    /// Records, with their criteria, of the CVEs whose configurations name
    /// one of these normalised products, in id order.
    async fn vulns_for_products(&self, products: &[String]) -> StoreResult<Vec<VulnRecord>>;
    /// How much vulnerability data is stored.
    async fn count_vulns(&self) -> StoreResult<VulnCounts>;
}

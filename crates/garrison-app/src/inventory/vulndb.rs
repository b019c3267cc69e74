//! Vulnerability data from offline files (NVD CVE JSON 2.0, the CISA KEV
//! catalogue, FIRST EPSS scores) and what it does to findings and risk.
//!
//! - **Import** ([`App::import_vulndb`]): the file is read on a blocking
//!   thread and written in batches (a few hundred NVD records or a few
//!   thousand EPSS rows per transaction); a KEV catalogue replaces the
//!   previous one. The data belongs to no tenant: only
//!   `Permission::VulnDataManage` may import it, the import row has no
//!   tenant, and every tenant's findings read it.
//! - **Enrichment** ([`App::vuln_facts`], [`App::finding_facts`]): KEV and
//!   EPSS weigh findings in the risk score, and findings show KEV status,
//!   EPSS and NVD's CVSS where the scanner gave none. After a KEV or EPSS
//!   import every asset's stored risk is recomputed.
//! - **CPE matching**: installed software is matched against the CVEs
//!   whose configurations name its product ([`garrison_scan::cpe::matches`]),
//!   after an NVD import (every tenant) and after an import that brings
//!   software (its assets). A match no scanner reported on the asset
//!   becomes a finding of scanner [`CPE_MATCH_SCANNER`] whose plugin id is
//!   the CVE, so its deduplication key (`cpe-match|CVE-…||`) makes a re-run
//!   update it instead of adding one. A match that no longer holds (the
//!   software was upgraded) marks the finding fixed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use garrison_core::asset::{
    Asset, AssetSoftware, Finding, FindingSeverity, FindingStatus, Import, ImportCounts,
    ImportKind, ImportRejection, ImportStatus, Score, finding_key,
};
use garrison_core::audit::{Action, AuditEntry};
use garrison_core::{FindingId, ImportId, Permission, Principal, TenantScope, Timestamp};
use garrison_scan::cpe::{self, Certainty, Cpe, CpeMatch};
use garrison_scan::vulndb::{self, EpssScore, KevCatalog, NvdRecord, SkippedRecord};
use garrison_scan::{Counted, Format, Progress, ScanError, Severity, Software};
use garrison_store::{
    AssetQuery, AssetRow, AssetSort, AssetWrite, EpssFact, EpssStatus, ImportProgress,
    InventoryBatch, KevFact, KevStatus, NvdVuln, UpsertCounts, VulnDetail, VulnMatch, VulnRecord,
};
use serde::Serialize;
use serde_json::json;

use super::risk::{self, CveFacts, RiskBreakdown, RiskWeights};
use super::sources;
use crate::{App, AppError, AppResult};

/// The scanner name of findings made by matching installed software.
pub const CPE_MATCH_SCANNER: &str = "cpe-match";

/// NVD records per write transaction (records can carry long criteria).
const NVD_BATCH: usize = 500;
/// EPSS rows per write transaction: a full file of ~250,000 rows is about
/// fifty transactions.
const EPSS_BATCH: usize = 5_000;
/// Assets re-scored (and matched) per step.
const ASSET_PAGE: u32 = 200;
/// Skipped records kept on the import row and in the summary.
const KEPT_SKIPS: usize = 200;

/// A record the import skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnSkip {
    /// The line, for EPSS files.
    pub line: Option<u64>,
    /// The 0-based position in the `vulnerabilities` array, for NVD and
    /// KEV files.
    pub index: Option<u64>,
    /// The record's CVE id, when it has a readable one.
    pub cve: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for VulnSkip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.index, &self.cve) {
            (Some(line), _, _) => write!(f, "line {line}: {}", self.reason),
            (None, Some(i), Some(cve)) => write!(f, "record {i} ({cve}): {}", self.reason),
            (None, Some(i), None) => write!(f, "record {i}: {}", self.reason),
            (None, None, _) => f.write_str(&self.reason),
        }
    }
}

/// What CPE matching did to findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MatchCounts {
    /// Assets whose installed software was matched.
    pub assets_matched: u64,
    /// Matches that became new findings.
    pub new: u64,
    /// Fixed findings whose match holds again.
    pub reopened: u64,
    /// Findings whose match no longer holds, or that a scanner now reports.
    pub fixed: u64,
    /// Findings whose match still holds.
    pub unchanged: u64,
}

impl MatchCounts {
    fn add(&mut self, other: Self) {
        self.assets_matched += other.assets_matched;
        self.new += other.new;
        self.reopened += other.reopened;
        self.fixed += other.fixed;
        self.unchanged += other.unchanged;
    }
}

/// What an import of vulnerability data did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnImportSummary {
    /// The import's row as it ended (tenant `None`, kind `vulndb`).
    pub import: Import,
    /// Records read, good and bad.
    pub records: u64,
    /// CVEs that had no row before.
    pub inserted: u64,
    /// CVEs whose row was updated.
    pub updated: u64,
    /// CVEs that lost their KEV status because the catalogue no longer
    /// lists them.
    pub removed_from_kev: u64,
    /// Records skipped as bad.
    pub skipped: u64,
    /// The first skipped records, with where and why.
    pub skips: Vec<VulnSkip>,
    /// The KEV catalogue's version or the EPSS model and score date.
    pub version: Option<String>,
    /// CPE matching after an NVD import.
    pub matches: MatchCounts,
    /// Assets whose stored risk changed.
    pub assets_rescored: u64,
}

/// Where a finding's CVSS v3 comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CvssSource {
    /// The scanner reported it.
    Scanner,
    /// NVD's score for the finding's CVE (the scanner gave none, or the
    /// finding is a software match).
    Nvd,
}

impl CvssSource {
    /// `scanner` or `nvd`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scanner => "scanner",
            Self::Nvd => "nvd",
        }
    }
}

/// What the vulnerability data adds to a finding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFacts {
    /// The KEV entry of the finding's CVE that is due first.
    pub kev: Option<KevStatus>,
    /// The highest EPSS score among the finding's CVEs.
    pub epss: Option<EpssStatus>,
    /// The scanner's CVSS v3, else the highest NVD gives for the
    /// finding's CVEs.
    pub cvss3: Option<Score>,
    /// Where `cvss3` comes from; `None` when there is none.
    pub cvss_source: Option<CvssSource>,
}

/// A message from the reading thread.
enum Batch {
    Nvd(Vec<NvdRecord>),
    Kev(Box<KevCatalog>),
    Epss(Vec<EpssScore>),
    NvdDone(vulndb::NvdStats),
    EpssDone(vulndb::EpssStats),
    Failed(ScanError),
}

fn require(p: &Principal, permission: Permission) -> AppResult<()> {
    if p.can(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden("your role does not allow this"))
    }
}

fn skip_of(s: &SkippedRecord) -> VulnSkip {
    VulnSkip {
        line: None,
        index: Some(s.index),
        cve: s.id.clone(),
        reason: s.reason.clone(),
    }
}

/// An f32 from a reader as the f64 its text says (`0.91963`, not
/// `0.9196299910545349`).
fn widen(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

fn nvd_vuln(r: NvdRecord) -> NvdVuln {
    let score = |c: Option<garrison_scan::Cvss>| {
        c.map(|c| Score {
            score: c.score,
            vector: c.vector,
        })
    };
    let mut products: Vec<String> = Vec::new();
    let matches = r
        .matches
        .iter()
        .map(|m| {
            if let Some(p) = m.criteria.product.value().map(cpe::product_key)
                && !products.contains(&p)
            {
                products.push(p);
            }
            VulnMatch {
                criteria: m.criteria.to_string(),
                version_start_including: m.version_start_including.clone(),
                version_start_excluding: m.version_start_excluding.clone(),
                version_end_including: m.version_end_including.clone(),
                version_end_excluding: m.version_end_excluding.clone(),
            }
        })
        .collect();
    NvdVuln {
        cve_id: r.id,
        published: r.published,
        description: r.description,
        cvss2: score(r.cvss2),
        cvss3: score(r.cvss3),
        cvss4: score(r.cvss4),
        matches,
        products,
    }
}

/// A stored criterion back as a [`CpeMatch`]; `None` when the stored CPE
/// no longer parses (it was written by this code, so only by corruption).
fn cpe_match(m: &VulnMatch) -> Option<CpeMatch> {
    Some(CpeMatch {
        criteria: Cpe::parse(&m.criteria).ok()?,
        version_start_including: m.version_start_including.clone(),
        version_start_excluding: m.version_start_excluding.clone(),
        version_end_including: m.version_end_including.clone(),
        version_end_excluding: m.version_end_excluding.clone(),
        vulnerable: true,
        match_criteria_id: None,
    })
}

/// The version range of a criterion in words, for evidence.
fn range_text(m: &VulnMatch) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &m.version_start_including {
        parts.push(format!("from {v}"));
    }
    if let Some(v) = &m.version_start_excluding {
        parts.push(format!("after {v}"));
    }
    if let Some(v) = &m.version_end_including {
        parts.push(format!("up to {v}"));
    }
    if let Some(v) = &m.version_end_excluding {
        parts.push(format!("before {v}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" (versions {})", parts.join(", "))
    }
}

const fn severity_of(s: Severity) -> FindingSeverity {
    match s {
        Severity::Info => FindingSeverity::Info,
        Severity::Low => FindingSeverity::Low,
        Severity::Medium => FindingSeverity::Medium,
        Severity::High => FindingSeverity::High,
        Severity::Critical => FindingSeverity::Critical,
    }
}

const fn one_step_lower(s: FindingSeverity) -> FindingSeverity {
    match s {
        FindingSeverity::Critical => FindingSeverity::High,
        FindingSeverity::High => FindingSeverity::Medium,
        FindingSeverity::Medium => FindingSeverity::Low,
        FindingSeverity::Low | FindingSeverity::Info => FindingSeverity::Info,
    }
}

/// The severity NVD's scores give a CVE (v3, else v4, else v2); medium
/// when NVD has not scored it yet.
fn nvd_severity(r: &VulnRecord) -> FindingSeverity {
    r.cvss3
        .as_ref()
        .or(r.cvss4.as_ref())
        .or(r.cvss2.as_ref())
        .map_or(FindingSeverity::Medium, |s| {
            severity_of(Severity::from_cvss(s.score))
        })
}

/// One installed package that matches one of a CVE's criteria.
#[derive(Debug, Clone)]
struct Hit {
    software: AssetSoftware,
    criteria: VulnMatch,
    certainty: Certainty,
}

fn software_of(s: &AssetSoftware) -> Software {
    Software {
        name: s.name.clone(),
        version: s.version.clone(),
        cpe: s.cpe.clone(),
    }
}

/// The matches of an asset's software against `records`, by CVE: for each
/// package, its first criterion that holds, an `Affected` one preferred.
fn match_software(asset: &Asset, records: &[&VulnRecord]) -> BTreeMap<String, Vec<Hit>> {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    let installed: Vec<Software> = asset.software.iter().map(software_of).collect();
    for (i, s) in installed.iter().enumerate() {
        for key in cpe::candidate_products(s) {
            by_key.entry(key).or_default().push(i);
        }
    }
    let mut out = BTreeMap::new();
    for r in records {
        let mut best: BTreeMap<usize, Hit> = BTreeMap::new();
        for stored in &r.matches {
            let Some(m) = cpe_match(stored) else {
                continue;
            };
            let Some(key) = m.criteria.product.value().map(cpe::product_key) else {
                continue;
            };
            for &i in by_key.get(&key).into_iter().flatten() {
                let Some(certainty) = cpe::matches(&installed[i], &m) else {
                    continue;
                };
                let better = best.get(&i).is_none_or(|h| {
                    h.certainty == Certainty::Possible && certainty == Certainty::Affected
                });
                if better {
                    best.insert(
                        i,
                        Hit {
                            software: asset.software[i].clone(),
                            criteria: stored.clone(),
                            certainty,
                        },
                    );
                }
            }
        }
        if !best.is_empty() {
            out.insert(r.cve_id.clone(), best.into_values().collect());
        }
    }
    out
}

/// The finding a CVE's matches make on an asset, or the existing one
/// brought up to date.
fn match_finding(
    asset: &Asset,
    record: &VulnRecord,
    hits: &mut [Hit],
    existing: Option<Finding>,
    now: Timestamp,
    import: Option<ImportId>,
) -> Finding {
    // Affected packages first, then by name: the first names the finding.
    hits.sort_by(|a, b| {
        let rank = |h: &Hit| u8::from(h.certainty == Certainty::Possible);
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.software.name.cmp(&b.software.name))
    });
    let affected = hits.iter().any(|h| h.certainty == Certainty::Affected);
    let cve = &record.cve_id;
    let first = &hits[0].software;
    let version = first.version.as_deref().unwrap_or("(version unknown)");
    let title = format!("{} {version}: {cve} (matched by version)", first.name);
    let nvd = nvd_severity(record);
    let severity = if affected { nvd } else { one_step_lower(nvd) };
    let mut evidence: Vec<String> = hits
        .iter()
        .map(|h| {
            let how = match h.certainty {
                Certainty::Affected => "affected",
                Certainty::Possible => "possible (the distribution may have back-ported the fix)",
            };
            format!(
                "Package {} version {} matches {}{}: {how}.",
                h.software.name,
                h.software.version.as_deref().unwrap_or("(unknown)"),
                h.criteria.criteria,
                range_text(&h.criteria)
            )
        })
        .collect();
    if !affected {
        evidence.push(format!(
            "The match is only possible, so the severity is one step lower than NVD's {}.",
            nvd.as_str()
        ));
    }
    let solution = format!(
        "Upgrade {} to a version outside the affected range, or confirm from the distribution's advisory for {cve} that its package carries the fix.",
        first.name
    );
    let mut f = existing.unwrap_or_else(|| Finding {
        id: FindingId::new(),
        tenant_id: asset.tenant_id,
        asset_id: asset.id,
        dedup_key: finding_key(CPE_MATCH_SCANNER, cve, None, None),
        scanner: CPE_MATCH_SCANNER.to_owned(),
        plugin_id: cve.clone(),
        title: String::new(),
        port: None,
        protocol: None,
        cves: vec![cve.clone()],
        severity,
        cvss2: None,
        cvss3: None,
        cvss4: None,
        description: None,
        solution: None,
        evidence: None,
        status: FindingStatus::Open,
        status_reason: None,
        accepted_until: None,
        first_seen: now,
        last_seen: now,
        fixed_at: None,
        last_import: import,
    });
    f.title = title;
    f.cves = vec![cve.clone()];
    f.severity = severity;
    f.cvss2.clone_from(&record.cvss2);
    f.cvss3.clone_from(&record.cvss3);
    f.cvss4.clone_from(&record.cvss4);
    f.description.clone_from(&record.description);
    f.solution = Some(solution);
    f.evidence = Some(evidence.join("\n"));
    f.last_seen = now;
    if import.is_some() {
        f.last_import = import;
    }
    f
}

/// Whether two versions of a finding differ in what people see.
fn differs(a: &Finding, b: &Finding) -> bool {
    a.title != b.title
        || a.severity != b.severity
        || a.status != b.status
        || a.evidence != b.evidence
        || a.cvss3 != b.cvss3
        || a.cvss2 != b.cvss2
        || a.cvss4 != b.cvss4
        || a.description != b.description
}

/// Re-matches one asset: the cpe-match findings to write, counted.
fn rematch_asset(
    asset: &Asset,
    findings: &mut [Finding],
    records: &[&VulnRecord],
    now: Timestamp,
    import: Option<ImportId>,
    counts: &mut MatchCounts,
) -> Vec<Finding> {
    let reported_by_scanners: HashSet<String> = findings
        .iter()
        .filter(|f| f.scanner != CPE_MATCH_SCANNER)
        .flat_map(|f| f.cves.iter().cloned())
        .collect();
    let mut hits = match_software(asset, records);
    let known: HashSet<&str> = records.iter().map(|r| r.cve_id.as_str()).collect();
    let by_cve: HashMap<&str, &VulnRecord> =
        records.iter().map(|r| (r.cve_id.as_str(), *r)).collect();
    let mut changed = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for f in findings.iter_mut() {
        if f.scanner != CPE_MATCH_SCANNER {
            continue;
        }
        let cve = f.plugin_id.clone();
        seen.insert(cve.clone());
        let superseded = reported_by_scanners.contains(&cve);
        match (hits.get_mut(&cve), by_cve.get(cve.as_str())) {
            (Some(h), Some(record)) if !superseded => {
                let before = f.clone();
                let mut updated = match_finding(asset, record, h, Some(f.clone()), now, import);
                if updated.status == FindingStatus::Fixed {
                    updated.status = FindingStatus::Reopened;
                    updated.fixed_at = None;
                    updated.status_reason =
                        Some("the installed version matches the CVE again".to_owned());
                    counts.reopened += 1;
                } else {
                    counts.unchanged += 1;
                }
                if differs(&before, &updated) || before.last_import != updated.last_import {
                    changed.push(updated.clone());
                }
                *f = updated;
            }
            _ if f.status.is_open() && (superseded || known.contains(cve.as_str())) => {
                // The CVE was looked at and no package matches it now (or
                // a scanner reports it, whose finding takes over); a CVE
                // not among the records was not looked at and proves
                // nothing.
                f.status = FindingStatus::Fixed;
                f.fixed_at = Some(now);
                f.status_reason = Some(if superseded {
                    "a scanner reports this CVE on the asset; its finding replaces this match"
                        .to_owned()
                } else {
                    "the installed software no longer matches the CVE's affected versions"
                        .to_owned()
                });
                counts.fixed += 1;
                changed.push(f.clone());
            }
            _ => {}
        }
    }
    for (cve, h) in &mut hits {
        if seen.contains(cve) || reported_by_scanners.contains(cve) {
            continue;
        }
        let Some(record) = by_cve.get(cve.as_str()) else {
            continue;
        };
        let f = match_finding(asset, record, h, None, now, import);
        counts.new += 1;
        changed.push(f);
    }
    counts.assets_matched += 1;
    changed
}

impl App {
    /// What the vulnerability data says about these CVEs, for risk
    /// weighting. CVEs it does not know are absent. The data is MSSP-wide
    /// and public (NVD, CISA, FIRST), so no principal is needed.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn vuln_facts(&self, cves: &[String]) -> AppResult<HashMap<String, CveFacts>> {
        if cves.is_empty() {
            return Ok(HashMap::new());
        }
        let records = self.store.find_vulns(cves, VulnDetail::Facts).await?;
        Ok(records
            .into_iter()
            .map(|r| {
                (
                    r.cve_id,
                    CveFacts {
                        in_kev: r.kev.is_some(),
                        epss: r.epss.map(|e| e.score),
                        nvd_cvss: r
                            .cvss3
                            .as_ref()
                            .or(r.cvss4.as_ref())
                            .or(r.cvss2.as_ref())
                            .map(|s| f64::from(s.score)),
                    },
                )
            })
            .collect())
    }

    /// Facts for the CVEs of these findings.
    pub(crate) async fn facts_of<'f>(
        &self,
        findings: impl IntoIterator<Item = &'f Finding>,
    ) -> AppResult<HashMap<String, CveFacts>> {
        let cves: BTreeSet<String> = findings
            .into_iter()
            .filter(|f| f.status.is_open())
            .flat_map(|f| f.cves.iter().cloned())
            .collect();
        self.vuln_facts(&cves.into_iter().collect::<Vec<_>>()).await
    }

    /// Scores an asset with the vulnerability data's facts.
    pub(crate) async fn risk_with_facts(
        &self,
        asset: &Asset,
        findings: &[&Finding],
        weights: &RiskWeights,
    ) -> AppResult<RiskBreakdown> {
        let facts = self.facts_of(findings.iter().copied()).await?;
        Ok(risk::score(
            asset,
            findings,
            |cve: &str| facts.get(cve).copied().unwrap_or_default(),
            weights,
        ))
    }

    /// What the vulnerability data adds to each finding (same order): KEV
    /// status, EPSS, and NVD's CVSS v3 where the scanner gave none.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn finding_facts(&self, findings: &[Finding]) -> AppResult<Vec<FindingFacts>> {
        let cves: BTreeSet<String> = findings.iter().flat_map(|f| f.cves.clone()).collect();
        let records = if cves.is_empty() {
            Vec::new()
        } else {
            self.store
                .find_vulns(&cves.into_iter().collect::<Vec<_>>(), VulnDetail::Facts)
                .await?
        };
        let by_cve: HashMap<&str, &VulnRecord> =
            records.iter().map(|r| (r.cve_id.as_str(), r)).collect();
        Ok(findings
            .iter()
            .map(|f| {
                let known: Vec<&VulnRecord> = f
                    .cves
                    .iter()
                    .filter_map(|c| by_cve.get(c.as_str()).copied())
                    .collect();
                let kev = known
                    .iter()
                    .filter_map(|r| r.kev.clone())
                    .min_by(|a, b| a.due.cmp(&b.due));
                let epss = known
                    .iter()
                    .filter_map(|r| r.epss)
                    .max_by(|a, b| a.score.total_cmp(&b.score));
                let nvd = known
                    .iter()
                    .filter_map(|r| r.cvss3.clone())
                    .max_by(|a, b| a.score.total_cmp(&b.score));
                let (cvss3, cvss_source) = match (&f.cvss3, nvd) {
                    // A software match carries NVD's own score.
                    (Some(s), _) if f.scanner == CPE_MATCH_SCANNER => {
                        (Some(s.clone()), Some(CvssSource::Nvd))
                    }
                    (Some(s), _) => (Some(s.clone()), Some(CvssSource::Scanner)),
                    (None, Some(n)) => (Some(n), Some(CvssSource::Nvd)),
                    (None, None) => (None, None),
                };
                FindingFacts {
                    kev,
                    epss,
                    cvss3,
                    cvss_source,
                }
            })
            .collect())
    }

    /// Imports an NVD CVE JSON 2.0 file, a CISA KEV catalogue (JSON) or a
    /// FIRST EPSS file (CSV), detected from the file unless `format` says.
    /// The import is recorded (without a tenant) and audited; bad records
    /// are skipped, counted and listed. Afterwards every tenant's assets
    /// are re-scored, and after NVD data their installed software is
    /// matched against the new records.
    ///
    /// # Errors
    /// `Forbidden` without `Permission::VulnDataManage`; `Invalid` when the
    /// file cannot be read or is not vulnerability data. A file that breaks
    /// off is not an error: the summary's import is `failed` (nothing was
    /// read) or `partial`, with the reason.
    pub async fn import_vulndb(
        &self,
        p: &Principal,
        path: &Path,
        format: Option<Format>,
        progress: Arc<Progress>,
    ) -> AppResult<VulnImportSummary> {
        require(p, Permission::VulnDataManage)?;
        let format = match format {
            Some(f) => f,
            None => sources::detect_file(path)?,
        };
        if !matches!(format, Format::NvdJson | Format::KevJson | Format::EpssCsv) {
            return Err(AppError::invalid(
                "format",
                format!(
                    "{} is a {} file, not vulnerability data (nvd, kev or epss): import it with `garrison import scan` or `garrison import assets`",
                    path.display(),
                    format.as_str()
                ),
            ));
        }
        let file = File::open(path).map_err(|e| {
            AppError::invalid("file", format!("cannot open {}: {e}", path.display()))
        })?;
        let bytes_total = file.metadata().map_or(0, |m| m.len());
        let file_name = path.file_name().map_or_else(
            || "vulndb".to_owned(),
            |n| n.to_string_lossy().chars().take(255).collect(),
        );
        let now = self.clock.now();
        let import = Import {
            id: ImportId::new(),
            tenant_id: None,
            kind: ImportKind::VulnDb,
            format: format.as_str().to_owned(),
            file_name: file_name.clone(),
            status: ImportStatus::Running,
            bytes_total,
            bytes_done: 0,
            counts: ImportCounts::default(),
            rejections: Vec::new(),
            error: None,
            created_by: p.user_id(),
            created_at: now,
            finished_at: None,
        };
        let entry = AuditEntry::by(p, now, Action::ImportStarted)
            .target(format!("import:{}", import.id))
            .details(&json!({ "file": file_name, "format": format.as_str(), "kind": ImportKind::VulnDb.as_str(), "bytes": bytes_total }));
        self.store.create_import(&import, Some(&entry)).await?;

        let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
        let input = Counted::new(BufReader::with_capacity(256 * 1024, file))
            .with_progress(progress.clone());
        let reader = tokio::task::spawn_blocking(move || read_file(format, input, &tx));

        let mut run = Run {
            summary: VulnImportSummary {
                import: import.clone(),
                records: 0,
                inserted: 0,
                updated: 0,
                removed_from_kev: 0,
                skipped: 0,
                skips: Vec::new(),
                version: None,
                matches: MatchCounts::default(),
                assets_rescored: 0,
            },
            products: HashSet::new(),
            written: 0,
        };
        let mut fatal: Option<ScanError> = None;
        let mut last_update = std::time::Instant::now();
        let written = loop {
            let Some(batch) = rx.recv().await else {
                break Ok(());
            };
            if let Batch::Failed(e) = batch {
                fatal = Some(e);
                continue;
            }
            if let Err(e) = self.write_batch(batch, &mut run).await {
                break Err(e);
            }
            if last_update.elapsed() >= std::time::Duration::from_millis(500) {
                let running = run.progress(ImportStatus::Running, progress.bytes(), None, None);
                self.store.update_import(import.id, &running).await?;
                last_update = std::time::Instant::now();
            }
        };
        drop(rx);
        let _ = reader.await;
        if let Err(e) = written {
            let failed = run.progress(
                ImportStatus::Failed,
                progress.bytes(),
                Some(crate::error::public(&e)),
                Some(self.clock.now()),
            );
            let _ = self.store.update_import(import.id, &failed).await;
            return Err(e);
        }

        // What the new data changes for every tenant.
        if run.written > 0 {
            let nvd = format == Format::NvdJson;
            let only = nvd.then_some(&run.products);
            let (matches, rescored) = self.refresh_all_tenants(nvd, only, import.id).await?;
            run.summary.matches = matches;
            run.summary.assets_rescored = rescored;
        }

        let (status, error) = match &fatal {
            Some(e) if run.written == 0 => (
                ImportStatus::Failed,
                Some(format!("{file_name}: {e}; nothing was imported")),
            ),
            Some(e) => (
                ImportStatus::Partial,
                Some(format!(
                    "{file_name}: {e}; the records before it were imported"
                )),
            ),
            None if run.summary.skipped > 0 => (ImportStatus::Partial, None),
            None => (ImportStatus::Completed, None),
        };
        let done = run.progress(status, progress.bytes(), error, Some(self.clock.now()));
        self.store.update_import(import.id, &done).await?;
        let s = &mut run.summary;
        s.import = Import {
            status: done.status,
            bytes_done: done.bytes_done,
            counts: done.counts,
            rejections: done.rejections,
            error: done.error,
            finished_at: done.finished_at,
            ..import
        };
        let entry = AuditEntry::by(p, self.clock.now(), Action::ImportFinished)
            .target(format!("import:{}", s.import.id))
            .details(&json!({
                "status": s.import.status.as_str(), "format": format.as_str(),
                "records": s.records, "inserted": s.inserted, "updated": s.updated,
                "removed_from_kev": s.removed_from_kev, "skipped": s.skipped,
                "matches": s.matches, "assets_rescored": s.assets_rescored,
            }));
        self.store.append_audit(&entry).await?;
        Ok(run.summary)
    }

    async fn write_batch(&self, batch: Batch, run: &mut Run) -> AppResult<()> {
        let now = self.clock.now();
        let s = &mut run.summary;
        let done: UpsertCounts = match batch {
            Batch::Nvd(records) => {
                let vulns: Vec<NvdVuln> = records.into_iter().map(nvd_vuln).collect();
                for v in &vulns {
                    run.products.extend(v.products.iter().cloned());
                }
                self.store.upsert_nvd(&vulns, now).await?
            }
            Batch::Kev(catalog) => {
                s.version = Some(catalog.catalog_version.clone());
                s.records += (catalog.entries.len() + catalog.skipped.len()) as u64;
                s.skipped += catalog.skipped.len() as u64;
                s.skips
                    .extend(catalog.skipped.iter().take(KEPT_SKIPS).map(skip_of));
                let facts: Vec<KevFact> = catalog
                    .entries
                    .iter()
                    .map(|e| KevFact {
                        cve_id: e.cve_id.clone(),
                        status: KevStatus {
                            added: e.date_added.to_string(),
                            due: e.due_date.to_string(),
                            ransomware: e.known_ransomware_campaign_use,
                        },
                    })
                    .collect();
                if facts.is_empty() {
                    // An empty catalogue is a broken file, not the news
                    // that nothing is exploited: keep the stored one.
                    return Err(AppError::invalid(
                        "file",
                        "the KEV catalogue lists no valid entry; the stored catalogue is kept",
                    ));
                }
                self.store.replace_kev(&facts, now).await?
            }
            Batch::Epss(rows) => {
                let facts: Vec<EpssFact> = rows
                    .into_iter()
                    .map(|r| EpssFact {
                        cve_id: r.cve,
                        status: EpssStatus {
                            score: widen(r.epss),
                            percentile: widen(r.percentile),
                        },
                    })
                    .collect();
                self.store.upsert_epss(&facts, now).await?
            }
            Batch::NvdDone(stats) => {
                s.records += stats.records + stats.skipped;
                s.skipped += stats.skipped;
                let room = KEPT_SKIPS.saturating_sub(s.skips.len());
                s.skips.extend(stats.skips.iter().take(room).map(skip_of));
                return Ok(());
            }
            Batch::EpssDone(stats) => {
                s.records += stats.rows + stats.skipped;
                s.skipped += stats.skipped;
                s.version = Some(format!(
                    "{} {}",
                    stats.model_version.as_deref().unwrap_or("model unknown"),
                    stats
                        .score_date
                        .map_or_else(|| "date unknown".to_owned(), |d| d.to_string())
                ));
                let room = KEPT_SKIPS.saturating_sub(s.skips.len());
                s.skips
                    .extend(stats.rejections.iter().take(room).map(|r| VulnSkip {
                        line: Some(r.line),
                        index: None,
                        cve: None,
                        reason: r.reason.clone(),
                    }));
                return Ok(());
            }
            Batch::Failed(_) => return Ok(()),
        };
        s.inserted += done.inserted;
        s.updated += done.updated;
        s.removed_from_kev += done.removed;
        run.written += done.inserted + done.updated;
        Ok(())
    }

    /// Re-scores every asset of every tenant, and with `rematch` matches
    /// their software again (only assets with software whose products are
    /// in `only`, when given). Returns the match counts and how many
    /// assets' stored risk changed.
    async fn refresh_all_tenants(
        &self,
        rematch: bool,
        only: Option<&HashSet<String>>,
        import: ImportId,
    ) -> AppResult<(MatchCounts, u64)> {
        // Vulnerability data is MSSP-wide, and so are its consequences: the
        // refresh acts for the system in every tenant, whoever imported.
        let system = Principal::system(format!("import:{import}"));
        let access = system.access();
        let mut counts = MatchCounts::default();
        let mut rescored = 0;
        for tenant in self.store.list_tenants(&access).await? {
            let Some(scope) = system.scope(tenant.id) else {
                continue;
            };
            let mut offset = 0;
            loop {
                let query = AssetQuery {
                    tenant: Some(tenant.id),
                    sort: AssetSort::Name,
                    limit: ASSET_PAGE,
                    offset,
                    ..AssetQuery::default()
                };
                let page = self.store.list_assets(&access, &query).await?;
                let n = page.items.len();
                let (c, r) = self
                    .refresh_assets(&scope, page.items, rematch, only, Some(import))
                    .await?;
                counts.add(c);
                rescored += r;
                if n < ASSET_PAGE as usize {
                    break;
                }
                offset += ASSET_PAGE;
            }
        }
        Ok((counts, rescored))
    }

    /// Matches the software of these assets (with `rematch`) and re-scores
    /// them, writing what changed. Returns the match counts and how many
    /// assets' stored risk changed.
    pub(crate) async fn refresh_assets(
        &self,
        scope: &TenantScope,
        rows: Vec<AssetRow>,
        rematch: bool,
        only: Option<&HashSet<String>>,
        import: Option<ImportId>,
    ) -> AppResult<(MatchCounts, u64)> {
        if rows.is_empty() {
            return Ok((MatchCounts::default(), 0));
        }
        let now = self.clock.now();
        let weights = self.weights_of(scope).await?;
        let ids: Vec<_> = rows.iter().map(|r| r.asset.id).collect();
        let mut by_asset: HashMap<_, Vec<Finding>> = HashMap::new();
        for f in self.store.findings_of_assets(scope, &ids).await? {
            by_asset.entry(f.asset_id).or_default().push(f);
        }
        let mut counts = MatchCounts::default();
        let mut batch = InventoryBatch::default();

        // Which assets to match, and the candidate CVEs of all of them:
        // by their products, plus the CVEs of their earlier matches so that
        // a match that no longer holds is seen.
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let mut earlier: BTreeSet<String> = BTreeSet::new();
        let mut to_match: HashSet<_> = HashSet::new();
        if rematch {
            for r in &rows {
                let asset_keys: Vec<String> = r
                    .asset
                    .software
                    .iter()
                    .flat_map(|s| cpe::candidate_products(&software_of(s)))
                    .collect();
                let relevant = only.is_none_or(|o| asset_keys.iter().any(|k| o.contains(k)));
                let previous: Vec<String> = by_asset
                    .get(&r.asset.id)
                    .into_iter()
                    .flatten()
                    .filter(|f| f.scanner == CPE_MATCH_SCANNER)
                    .map(|f| f.plugin_id.clone())
                    .collect();
                if relevant && (!asset_keys.is_empty() || !previous.is_empty()) {
                    to_match.insert(r.asset.id);
                    keys.extend(asset_keys);
                    earlier.extend(previous);
                }
            }
        }
        let mut records: BTreeMap<String, VulnRecord> = BTreeMap::new();
        if !to_match.is_empty() {
            let keys: Vec<String> = keys.into_iter().collect();
            for r in self.store.vulns_for_products(&keys).await? {
                records.insert(r.cve_id.clone(), r);
            }
            let missing: Vec<String> = earlier
                .into_iter()
                .filter(|c| !records.contains_key(c))
                .collect();
            if !missing.is_empty() {
                for r in self
                    .store
                    .find_vulns(&missing, VulnDetail::WithMatches)
                    .await?
                {
                    records.insert(r.cve_id.clone(), r);
                }
            }
        }
        let record_refs: Vec<&VulnRecord> = records.values().collect();

        let mut rescored = 0;
        for row in rows {
            let mut findings = by_asset.remove(&row.asset.id).unwrap_or_default();
            let changed = if to_match.contains(&row.asset.id) {
                rematch_asset(
                    &row.asset,
                    &mut findings,
                    &record_refs,
                    now,
                    import,
                    &mut counts,
                )
            } else {
                Vec::new()
            };
            // New findings join the asset's list before it is scored.
            let known: HashSet<FindingId> = findings.iter().map(|f| f.id).collect();
            for f in &changed {
                if !known.contains(&f.id) {
                    findings.push(f.clone());
                }
            }
            let refs: Vec<&Finding> = findings.iter().collect();
            let b = self.risk_with_facts(&row.asset, &refs, &weights).await?;
            let risk = garrison_store::AssetRisk {
                score: b.score,
                open_findings: b.open_findings,
                max_severity: b.max_severity,
                kev_findings: b.kev_findings,
            };
            if risk != row.risk || !changed.is_empty() {
                if risk != row.risk {
                    rescored += 1;
                }
                batch.assets.push(AssetWrite {
                    asset: row.asset,
                    is_new: false,
                    events: Vec::new(),
                    risk,
                });
            }
            batch.findings.extend(changed);
        }
        if !batch.assets.is_empty() || !batch.findings.is_empty() {
            self.store.write_inventory(scope, &batch, None).await?;
        }
        Ok((counts, rescored))
    }

    /// Whether any CVE has CPE criteria to match software against.
    pub(crate) async fn has_cpe_data(&self) -> AppResult<bool> {
        Ok(self.store.count_vulns().await?.with_matches > 0)
    }
}

/// State of one vulnerability data import.
struct Run {
    summary: VulnImportSummary,
    /// Products named by the NVD records written, for matching.
    products: HashSet<String>,
    /// CVE rows written.
    written: u64,
}

impl Run {
    fn progress(
        &self,
        status: ImportStatus,
        bytes: u64,
        error: Option<String>,
        finished_at: Option<Timestamp>,
    ) -> ImportProgress {
        let s = &self.summary;
        ImportProgress {
            status,
            bytes_done: bytes,
            counts: ImportCounts {
                assets_updated: s.assets_rescored,
                findings_new: s.matches.new,
                findings_reopened: s.matches.reopened,
                findings_fixed: s.matches.fixed,
                findings_unchanged: s.matches.unchanged,
                records: s.records,
                rejected: s.skipped,
                ..ImportCounts::default()
            },
            // Records of JSON files have no useful line: the reason names
            // the record's position and CVE instead.
            rejections: s
                .skips
                .iter()
                .map(|k| ImportRejection {
                    line: k.line.unwrap_or(0),
                    reason: match k.line {
                        Some(_) => k.reason.clone(),
                        None => k.to_string(),
                    },
                })
                .collect(),
            error,
            finished_at,
        }
    }
}

/// Reads the file on a blocking thread, sending batches to `tx`. Stops
/// early when the receiver is gone (the import failed).
fn read_file(
    format: Format,
    input: Counted<BufReader<File>>,
    tx: &tokio::sync::mpsc::Sender<Batch>,
) {
    match format {
        Format::NvdJson => {
            let mut buf: Vec<NvdRecord> = Vec::new();
            let mut open = true;
            let result = vulndb::read_nvd(input, |r| {
                if !open {
                    return;
                }
                buf.push(r);
                if buf.len() >= NVD_BATCH {
                    open = tx
                        .blocking_send(Batch::Nvd(std::mem::take(&mut buf)))
                        .is_ok();
                }
            });
            if open && !buf.is_empty() {
                open = tx.blocking_send(Batch::Nvd(buf)).is_ok();
            }
            if open {
                let _ = tx.blocking_send(match result {
                    Ok(stats) => Batch::NvdDone(stats),
                    Err(e) => Batch::Failed(e),
                });
            }
        }
        Format::KevJson => {
            let _ = tx.blocking_send(match vulndb::read_kev(input) {
                Ok(catalog) => Batch::Kev(Box::new(catalog)),
                Err(e) => Batch::Failed(e),
            });
        }
        Format::EpssCsv => {
            let mut buf: Vec<EpssScore> = Vec::new();
            let mut open = true;
            let result = vulndb::read_epss(input, |r| {
                if !open {
                    return;
                }
                buf.push(r);
                if buf.len() >= EPSS_BATCH {
                    open = tx
                        .blocking_send(Batch::Epss(std::mem::take(&mut buf)))
                        .is_ok();
                }
            });
            if open && !buf.is_empty() {
                open = tx.blocking_send(Batch::Epss(buf)).is_ok();
            }
            if open {
                let _ = tx.blocking_send(match result {
                    Ok(stats) => Batch::EpssDone(stats),
                    Err(e) => Batch::Failed(e),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn possible_matches_are_one_step_lower() {
        assert_eq!(
            one_step_lower(FindingSeverity::Critical),
            FindingSeverity::High
        );
        assert_eq!(one_step_lower(FindingSeverity::Low), FindingSeverity::Info);
        assert_eq!(one_step_lower(FindingSeverity::Info), FindingSeverity::Info);
    }

    #[test]
    fn scores_keep_the_digits_the_file_had() {
        assert!((widen(0.91963_f32) - 0.91963).abs() < 1e-12);
    }

    #[test]
    fn ranges_read_as_words() {
        let m = VulnMatch {
            criteria: "cpe:2.3:a:x.org:libxpm:*:*:*:*:*:*:*:*".to_owned(),
            version_start_including: None,
            version_start_excluding: None,
            version_end_including: None,
            version_end_excluding: Some("3.5.15".to_owned()),
        };
        assert_eq!(range_text(&m), " (versions before 3.5.15)");
    }
}

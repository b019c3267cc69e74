//! The risk score of an asset: what it is worth (criticality, data
//! sensitivity, regulations, exposure) times how threatened it is (its open
//! findings, weighted by CVSS, CISA KEV and EPSS). The formula is written
//! out in `docs/scoring.md`; keep the two in step.

use garrison_core::asset::{Asset, Criticality, Finding, FindingSeverity, Sensitivity};
use serde::{Deserialize, Serialize};

/// Tenant-tunable weights. Keys left out of a JSON object keep their
/// defaults; unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskWeights {
    pub criticality: [f64; 4],
    pub criticality_unknown: f64,
    pub sensitivity: [f64; 4],
    pub sensitivity_unknown: f64,
    /// Added per regulation in scope, up to `regulation_cap`.
    pub per_regulation: f64,
    pub regulation_cap: f64,
    pub exposed: f64,
    /// Multiplier for a finding whose CVE is in CISA KEV.
    pub kev: f64,
    /// Multiplier `1 + epss * epss_factor` for a finding's EPSS probability.
    pub epss_factor: f64,
    /// How quickly the threat saturates: `1 - exp(-threat / saturation)`.
    pub saturation: f64,
    /// The share of the score an asset has with no open finding at all.
    pub baseline: f64,
}

impl Default for RiskWeights {
    fn default() -> Self {
        Self {
            criticality: [1.0, 2.0, 3.0, 4.0],
            criticality_unknown: 2.0,
            sensitivity: [1.0, 1.1, 1.25, 1.5],
            sensitivity_unknown: 1.1,
            per_regulation: 0.1,
            regulation_cap: 1.5,
            exposed: 1.5,
            kev: 2.0,
            epss_factor: 1.0,
            saturation: 3.0,
            baseline: 0.1,
        }
    }
}

impl RiskWeights {
    /// Checks that every weight is a sensible number: finite, between 0 and
    /// 100, a saturation above 0, a baseline share of at most 1 and a
    /// regulation cap of at least 1.
    ///
    /// # Errors
    /// `Invalid` naming the first bad weight.
    pub fn validate(&self) -> Result<(), garrison_core::validate::Invalid> {
        use garrison_core::validate::Invalid;
        let mut all: Vec<(&'static str, f64)> = vec![
            ("criticality_unknown", self.criticality_unknown),
            ("sensitivity_unknown", self.sensitivity_unknown),
            ("per_regulation", self.per_regulation),
            ("regulation_cap", self.regulation_cap),
            ("exposed", self.exposed),
            ("kev", self.kev),
            ("epss_factor", self.epss_factor),
            ("saturation", self.saturation),
            ("baseline", self.baseline),
        ];
        all.extend(self.criticality.iter().map(|v| ("criticality", *v)));
        all.extend(self.sensitivity.iter().map(|v| ("sensitivity", *v)));
        for (name, v) in all {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(Invalid::new(
                    name,
                    format!("{v} is not a number from 0 to 100"),
                ));
            }
        }
        if self.saturation <= 0.0 {
            return Err(Invalid::new("saturation", "must be above 0"));
        }
        if self.baseline > 1.0 {
            return Err(Invalid::new("baseline", "is a share: at most 1"));
        }
        if self.regulation_cap < 1.0 {
            return Err(Invalid::new("regulation_cap", "must be at least 1"));
        }
        if self
            .criticality
            .iter()
            .chain(&self.sensitivity)
            .all(|v| *v == 0.0)
        {
            return Err(Invalid::new(
                "criticality",
                "not every value weight may be 0",
            ));
        }
        Ok(())
    }
}

/// What the vulnerability data says about a CVE, for weighting.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CveFacts {
    pub in_kev: bool,
    pub epss: Option<f64>,
    /// NVD's CVSS base score (v3.x, else v4, else v2), 0 to 10: a
    /// finding's weight when its scanner gave no score.
    pub nvd_cvss: Option<f64>,
}

/// The score and how it was reached, for people to check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskBreakdown {
    pub score: f64,
    pub value: f64,
    pub value_max: f64,
    pub criticality: f64,
    pub sensitivity: f64,
    pub regulation: f64,
    pub exposure: f64,
    pub threat: f64,
    pub threat_saturated: f64,
    pub open_findings: u32,
    pub kev_findings: u32,
    pub max_severity: Option<FindingSeverity>,
}

const fn criticality_index(c: Criticality) -> usize {
    match c {
        Criticality::Low => 0,
        Criticality::Medium => 1,
        Criticality::High => 2,
        Criticality::Critical => 3,
    }
}

const fn sensitivity_index(s: Sensitivity) -> usize {
    match s {
        Sensitivity::Public => 0,
        Sensitivity::Internal => 1,
        Sensitivity::Confidential => 2,
        Sensitivity::Restricted => 3,
    }
}

/// The weight of one open finding, before KEV and EPSS: its CVSS score,
/// else `nvd_cvss` (NVD's score for its CVEs), else its severity.
#[must_use]
pub fn base_weight(f: &Finding, nvd_cvss: Option<f64>) -> f64 {
    let cvss = f
        .cvss3
        .as_ref()
        .or(f.cvss4.as_ref())
        .or(f.cvss2.as_ref())
        .map(|s| f64::from(s.score))
        .or(nvd_cvss)
        .map(|score| score / 10.0);
    cvss.unwrap_or(match f.severity {
        FindingSeverity::Info => 0.0,
        FindingSeverity::Low => 0.2,
        FindingSeverity::Medium => 0.5,
        FindingSeverity::High => 0.8,
        FindingSeverity::Critical => 1.0,
    })
    .clamp(0.0, 1.0)
}

/// Scores an asset from its profile and findings (only open ones count).
#[must_use]
pub fn score(
    asset: &Asset,
    findings: &[&Finding],
    facts: impl Fn(&str) -> CveFacts,
    w: &RiskWeights,
) -> RiskBreakdown {
    let criticality = asset.criticality.map_or(w.criticality_unknown, |c| {
        w.criticality[criticality_index(c)]
    });
    let sensitivity = asset.sensitivity.map_or(w.sensitivity_unknown, |s| {
        w.sensitivity[sensitivity_index(s)]
    });
    #[expect(clippy::cast_precision_loss, reason = "a handful of regulations")]
    let regulation =
        (1.0 + w.per_regulation * asset.regulations.len() as f64).min(w.regulation_cap);
    let exposure = if asset.internet_exposed == Some(true) {
        w.exposed
    } else {
        1.0
    };
    let value = criticality * sensitivity * regulation * exposure;
    let value_max = w.criticality.iter().copied().fold(0.0, f64::max)
        * w.sensitivity.iter().copied().fold(0.0, f64::max)
        * w.regulation_cap
        * w.exposed.max(1.0);

    let mut threat = 0.0;
    let mut open = 0;
    let mut kev = 0;
    let mut max_severity = None;
    for f in findings.iter().filter(|f| f.status.is_open()) {
        open += 1;
        max_severity = max_severity.max(Some(f.severity));
        let mut in_kev = false;
        let mut epss: f64 = 0.0;
        let mut nvd_cvss: Option<f64> = None;
        for cve in &f.cves {
            let fact = facts(cve);
            in_kev |= fact.in_kev;
            epss = epss.max(fact.epss.unwrap_or(0.0));
            if let Some(n) = fact.nvd_cvss {
                nvd_cvss = Some(nvd_cvss.map_or(n, |m: f64| m.max(n)));
            }
        }
        let mut weight = base_weight(f, nvd_cvss);
        if in_kev {
            kev += 1;
            weight *= w.kev;
        }
        weight *= 1.0 + epss.clamp(0.0, 1.0) * w.epss_factor;
        threat += weight;
    }
    let threat_saturated = if w.saturation > 0.0 {
        1.0 - (-threat / w.saturation).exp()
    } else {
        0.0
    };
    let share = w.baseline + (1.0 - w.baseline) * threat_saturated;
    let score = if value_max > 0.0 {
        100.0 * value / value_max * share
    } else {
        0.0
    };
    RiskBreakdown {
        score: (score * 10.0).round() / 10.0,
        value,
        value_max,
        criticality,
        sensitivity,
        regulation,
        exposure,
        threat,
        threat_saturated,
        open_findings: open,
        kev_findings: kev,
        max_severity,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use garrison_core::asset::{FindingStatus, Score};
    use garrison_core::{AssetId, FindingId, TenantId, Timestamp};

    use super::*;

    fn asset(c: Option<Criticality>, exposed: bool, regs: &[&str]) -> Asset {
        Asset {
            id: AssetId::new(),
            tenant_id: TenantId::new(),
            hostname: None,
            fqdn: None,
            ips: Vec::new(),
            macs: Vec::new(),
            zone: "default".into(),
            os: None,
            asset_type: None,
            owner: None,
            business_unit: None,
            location: None,
            services: Vec::new(),
            software: Vec::new(),
            tags: BTreeSet::new(),
            criticality: c,
            sensitivity: None,
            regulations: regs.iter().map(|s| (*s).to_owned()).collect(),
            internet_exposed: Some(exposed),
            sources: BTreeMap::new(),
            first_seen: Timestamp::from_millis(0),
            last_seen: Timestamp::from_millis(0),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    fn finding(cvss: f32, cve: &str, status: FindingStatus) -> Finding {
        Finding {
            id: FindingId::new(),
            tenant_id: TenantId::new(),
            asset_id: AssetId::new(),
            dedup_key: String::new(),
            scanner: "x".into(),
            plugin_id: "1".into(),
            title: "t".into(),
            port: None,
            protocol: None,
            cves: vec![cve.to_owned()],
            severity: FindingSeverity::High,
            cvss2: None,
            cvss3: Some(Score {
                score: cvss,
                vector: None,
            }),
            cvss4: None,
            description: None,
            solution: None,
            evidence: None,
            status,
            status_reason: None,
            accepted_until: None,
            first_seen: Timestamp::from_millis(0),
            last_seen: Timestamp::from_millis(0),
            fixed_at: None,
            last_import: None,
        }
    }

    fn none(_: &str) -> CveFacts {
        CveFacts::default()
    }

    #[test]
    fn an_attack_on_a_critical_exposed_regulated_asset_rises_to_the_top() {
        let w = RiskWeights::default();
        let vuln = finding(9.8, "CVE-1", FindingStatus::Open);
        let crown = asset(Some(Criticality::Critical), true, &["PCI-DSS", "GDPR"]);
        let lab = asset(Some(Criticality::Low), false, &[]);
        let top = score(&crown, &[&vuln], none, &w);
        let low = score(&lab, &[&vuln], none, &w);
        assert!(top.score > 3.0 * low.score, "{top:?} vs {low:?}");
        let kev = score(
            &crown,
            &[&vuln],
            |_| CveFacts {
                in_kev: true,
                epss: Some(0.9),
                nvd_cvss: None,
            },
            &w,
        );
        assert!(kev.score > top.score);
        assert_eq!(kev.kev_findings, 1);
        assert!(kev.score <= 100.0);
    }

    #[test]
    fn nvd_scores_weigh_findings_whose_scanner_gave_none() {
        let w = RiskWeights::default();
        let a = asset(Some(Criticality::High), false, &[]);
        let mut unscored = finding(0.0, "CVE-1", FindingStatus::Open);
        unscored.cvss3 = None;
        unscored.severity = FindingSeverity::Low;
        let by_severity = score(&a, &[&unscored], none, &w);
        let by_nvd = score(
            &a,
            &[&unscored],
            |_| CveFacts {
                nvd_cvss: Some(10.0),
                ..CveFacts::default()
            },
            &w,
        );
        assert!(by_nvd.threat > by_severity.threat, "{by_nvd:?}");
        // The scanner's own score wins over NVD's.
        let scored = finding(2.0, "CVE-1", FindingStatus::Open);
        let kept = score(
            &a,
            &[&scored],
            |_| CveFacts {
                nvd_cvss: Some(10.0),
                ..CveFacts::default()
            },
            &w,
        );
        assert!((kept.threat - 0.2).abs() < 1e-9, "{kept:?}");
    }

    #[test]
    fn fixed_and_accepted_findings_do_not_count() {
        let w = RiskWeights::default();
        let a = asset(Some(Criticality::High), false, &[]);
        let fixed = finding(9.8, "CVE-1", FindingStatus::Fixed);
        let accepted = finding(9.8, "CVE-2", FindingStatus::AcceptedRisk);
        let r = score(&a, &[&fixed, &accepted], none, &w);
        assert_eq!(r.open_findings, 0);
        let baseline = score(&a, &[], none, &w);
        assert!((r.score - baseline.score).abs() < f64::EPSILON);
        assert!(baseline.score > 0.0, "a valuable asset has a baseline");
    }

    /// The worked example of `docs/scoring.md`, so the document and the code
    /// cannot drift apart.
    #[test]
    fn the_documented_worked_example_holds() {
        let mut a = asset(Some(Criticality::High), true, &["PCI-DSS"]);
        a.sensitivity = Some(Sensitivity::Confidential);
        let f = finding(9.8, "CVE-1", FindingStatus::Open);
        let r = score(
            &a,
            &[&f],
            |_| CveFacts {
                in_kev: true,
                epss: Some(0.94),
                nvd_cvss: None,
            },
            &RiskWeights::default(),
        );
        assert!((r.value - 6.1875).abs() < 1e-9, "{r:?}");
        assert!((r.value_max - 13.5).abs() < 1e-9, "{r:?}");
        assert!((r.threat - 3.8024).abs() < 1e-3, "{r:?}");
        assert!((r.threat_saturated - 0.718).abs() < 1e-3, "{r:?}");
        assert!((r.score - 34.2).abs() < 1e-9, "{r:?}");
    }

    #[test]
    fn more_findings_raise_the_score_with_diminishing_returns() {
        let w = RiskWeights::default();
        let a = asset(Some(Criticality::Medium), false, &[]);
        let f: Vec<Finding> = (0..20)
            .map(|i| finding(5.0, &format!("CVE-{i}"), FindingStatus::Open))
            .collect();
        let one = score(&a, &[&f[0]], none, &w).score;
        let five = score(&a, &f.iter().take(5).collect::<Vec<_>>(), none, &w).score;
        let twenty = score(&a, &f.iter().collect::<Vec<_>>(), none, &w).score;
        assert!(one < five && five < twenty);
        assert!(twenty - five < five - one);
    }
}

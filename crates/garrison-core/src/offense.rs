//! Alerts and offenses: what detection found, grouped for an analyst, with
//! a magnitude 0–10 and its breakdown in words and numbers.
//!
//! A detector (a sensor's own alert, a Sigma rule, a threshold or
//! sequence rule, a threat-intel indicator) turns an event into an
//! [`NewAlert`]. Alerts of one detector, one tenant and one offense key
//! (the attacking source address, else the host or user) that arrive
//! within the grouping window join one [`Offense`], which counts them,
//! links the first events, keeps the assets involved and re-evaluates its
//! magnitude as they arrive: each part is the highest any of its alerts
//! had (with that alert's reasons), and credibility gains a little from
//! repetition ([`repetition_bonus`]). The formula is in `docs/scoring.md`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AssetId, EventId, OffenseId, SuppressionId, TenantId, UserId};
use crate::time::Timestamp;
use crate::validate::Invalid;

/// The weight of each part in the magnitude; tenant-tunable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    pub severity: u8,
    pub credibility: u8,
    pub relevance: u8,
}

impl Default for Weights {
    /// Relevance weighs most: the same attack matters more on a critical,
    /// vulnerable, regulated asset.
    fn default() -> Self {
        Self {
            severity: 3,
            credibility: 3,
            relevance: 4,
        }
    }
}

impl Weights {
    /// Weights that are all zero cannot average anything.
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        self.severity as u16 + self.credibility as u16 + self.relevance as u16 > 0
    }
}

/// One part's value and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Part {
    /// 0–10.
    pub value: f64,
    /// Each reason with the points it gave (or the value it set).
    pub reasons: Vec<Reason>,
}

/// A line of a breakdown: what was seen and what it did to the part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub text: String,
    /// The part's value after this reason.
    pub value: f64,
}

impl Part {
    /// Sets the value (clamped to 0–10) with its reason.
    pub fn set(&mut self, value: f64, text: impl Into<String>) {
        self.value = clamp(value);
        self.reasons.push(Reason {
            text: text.into(),
            value: self.value,
        });
    }

    /// Adds points (the result clamped to 0–10) with their reason.
    pub fn add(&mut self, points: f64, text: impl Into<String>) {
        self.set(self.value + points, text);
    }

    /// A part made of one reason.
    #[must_use]
    pub fn of(value: f64, text: impl Into<String>) -> Self {
        let mut p = Self::default();
        p.set(value, text);
        p
    }
}

fn clamp(v: f64) -> f64 {
    v.clamp(0.0, 10.0)
}

/// The three parts of a score and the magnitude they make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Breakdown {
    pub severity: Part,
    pub credibility: Part,
    pub relevance: Part,
    /// 0–10, one decimal.
    pub magnitude: f64,
    /// The weights the magnitude was computed with (the tenant's).
    #[serde(default)]
    pub weights: Weights,
}

impl Breakdown {
    /// Combines the parts with `weights`.
    #[must_use]
    pub fn new(severity: Part, credibility: Part, relevance: Part, weights: Weights) -> Self {
        let mut b = Self {
            severity,
            credibility,
            relevance,
            magnitude: 0.0,
            weights,
        };
        b.magnitude = b.magnitude_with(weights);
        b
    }

    /// The weighted mean of the parts, rounded to one decimal.
    #[must_use]
    pub fn magnitude_with(&self, w: Weights) -> f64 {
        if !w.is_valid() {
            return 0.0;
        }
        let total = f64::from(w.severity) + f64::from(w.credibility) + f64::from(w.relevance);
        let m = (f64::from(w.severity) * self.severity.value
            + f64::from(w.credibility) * self.credibility.value
            + f64::from(w.relevance) * self.relevance.value)
            / total;
        (clamp(m) * 10.0).round() / 10.0
    }

    /// The breakdown in words, one line per part.
    #[must_use]
    pub fn explain(&self) -> Vec<String> {
        let line = |name: &str, p: &Part| {
            let why: Vec<&str> = p.reasons.iter().map(|r| r.text.as_str()).collect();
            format!("{name} {:.1}: {}", p.value, why.join("; "))
        };
        vec![
            line("severity", &self.severity),
            line("credibility", &self.credibility),
            line("relevance", &self.relevance),
        ]
    }
}

/// Credibility an offense gains from the events behind it: +1 from 10
/// events, +2 from 100.
#[must_use]
pub fn repetition_bonus(events: u64) -> f64 {
    match events {
        0..=9 => 0.0,
        10..=99 => 1.0,
        _ => 2.0,
    }
}

impl Breakdown {
    /// Part by part, the higher of two breakdowns (each part keeps the
    /// reasons of the breakdown it came from), with the magnitude
    /// recomputed with `other`'s weights (the newer).
    #[must_use]
    pub fn peak(&self, other: &Self) -> Self {
        let weights = other.weights;
        let pick = |a: &Part, b: &Part| {
            if b.value > a.value {
                b.clone()
            } else {
                a.clone()
            }
        };
        Self::new(
            pick(&self.severity, &other.severity),
            pick(&self.credibility, &other.credibility),
            pick(&self.relevance, &other.relevance),
            weights,
        )
    }

    /// The breakdown with credibility raised for `events` events (see
    /// [`repetition_bonus`]), magnitude recomputed.
    #[must_use]
    pub fn with_repetition(&self, events: u64) -> Self {
        let weights = self.weights;
        let bonus = repetition_bonus(events);
        let mut b = self.clone();
        if bonus > 0.0 {
            b.credibility.add(bonus, format!("seen in {events} events"));
        }
        b.magnitude = b.magnitude_with(weights);
        b
    }
}

/// What kind of detector raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DetectorKind {
    /// The sensor's own alert (an IDS signature, a firewall threat event).
    Sensor,
    Sigma,
    Threshold,
    Sequence,
    Indicator,
}

impl DetectorKind {
    pub const ALL: &'static [Self] = &[
        Self::Sensor,
        Self::Sigma,
        Self::Threshold,
        Self::Sequence,
        Self::Indicator,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sensor => "sensor",
            Self::Sigma => "sigma",
            Self::Threshold => "threshold",
            Self::Sequence => "sequence",
            Self::Indicator => "indicator",
        }
    }
}

impl fmt::Display for DetectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DetectorKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Invalid::new(
                    "detector",
                    format!("`{}` is not a detector kind", s.escape_default()),
                )
            })
    }
}

/// The detector behind an alert: its kind, its stable key (rule id,
/// signature id, indicator id) and a title for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detector {
    pub kind: DetectorKind,
    pub key: String,
    pub title: String,
}

/// What an offense groups its alerts by, besides the detector: a field of
/// the events and its value (`source.ip` = `203.0.113.9`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffenseKey {
    pub field: String,
    pub value: String,
}

/// An asset an offense involves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InvolvedAsset {
    pub id: AssetId,
    pub name: String,
}

/// One detection on one event, before it joins an offense.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAlert {
    pub tenant_id: TenantId,
    pub event_id: EventId,
    /// The event's time.
    pub at: Timestamp,
    pub detector: Detector,
    pub key: OffenseKey,
    pub assets: Vec<InvolvedAsset>,
    /// The alert's own score (no repetition bonus).
    pub breakdown: Breakdown,
    /// Other events that made the detection (a threshold or sequence
    /// rule's earlier events: time and id), linked to the offense with it
    /// but not counted as alerts of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributing: Vec<(Timestamp, EventId)>,
}

/// Whether an offense still gathers alerts and needs work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OffenseStatus {
    Open,
    Closed,
}

impl OffenseStatus {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

impl FromStr for OffenseStatus {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            _ => Err(Invalid::new(
                "status",
                format!("`{}` is not an offense status", s.escape_default()),
            )),
        }
    }
}

/// Alerts of one detector, tenant and key, with their score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offense {
    pub id: OffenseId,
    pub tenant_id: TenantId,
    pub detector: Detector,
    pub key: OffenseKey,
    pub status: OffenseStatus,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Alerts (one per event) grouped here.
    pub event_count: u64,
    pub assets: Vec<InvolvedAsset>,
    /// Part by part the highest of its alerts', with the repetition bonus:
    /// what the magnitude is made of.
    pub breakdown: Breakdown,
    /// Triage: who works on it, how and why it was closed, whether an
    /// escalation was asked for.
    pub assignee: Option<UserId>,
    pub resolution: Option<Resolution>,
    pub resolution_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
    pub escalation_requested_at: Option<Timestamp>,
    pub escalation_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Offense {
    /// 0–10, one decimal.
    #[must_use]
    pub fn magnitude(&self) -> f64 {
        self.breakdown.magnitude
    }
}

/// How an offense was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// The detection was wrong.
    FalsePositive,
    /// The activity was real but harmless (a scan by the tenant's own
    /// auditor, an admin's script).
    Benign,
    /// A real attack, handled.
    TruePositive,
}

impl Resolution {
    pub const ALL: &'static [Self] = &[Self::FalsePositive, Self::Benign, Self::TruePositive];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FalsePositive => "false-positive",
            Self::Benign => "benign",
            Self::TruePositive => "true-positive",
        }
    }
}

impl FromStr for Resolution {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Invalid::new(
                    "resolution",
                    format!(
                        "`{}` is not one of: false-positive, benign, true-positive",
                        s.escape_default()
                    ),
                )
            })
    }
}

/// A triage step on an offense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageAction {
    /// To this user (an MSSP analyst), or nobody.
    Assign(Option<UserId>),
    Close {
        resolution: Resolution,
        reason: String,
    },
    Reopen,
    /// Ask for the offense to be escalated to the customer (a ticket, once
    /// tickets exist; recorded as a request until then).
    RequestEscalation {
        reason: String,
    },
}

/// A comment on an offense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffenseComment {
    pub id: crate::ids::CommentId,
    pub offense_id: OffenseId,
    pub tenant_id: TenantId,
    pub author_id: Option<UserId>,
    pub author: String,
    pub body: String,
    /// Shown to the tenant's people; otherwise MSSP-internal.
    pub shared: bool,
    pub created_at: Timestamp,
}

/// Comments are cut at this many bytes.
pub const MAX_COMMENT_BYTES: usize = 8 * 1024;

/// "This detector for this key is a false positive until then": matching
/// alerts are counted here instead of raising offenses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: SuppressionId,
    pub tenant_id: TenantId,
    pub detector_kind: DetectorKind,
    pub detector_key: String,
    pub key: OffenseKey,
    pub reason: String,
    /// The offense it was made from.
    pub offense_id: Option<OffenseId>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Alerts it swallowed.
    pub suppressed: u64,
    pub last_suppressed_at: Option<Timestamp>,
}

impl Suppression {
    /// Whether it still applies at `at`.
    #[must_use]
    pub fn active_at(&self, at: Timestamp) -> bool {
        at < self.expires_at
    }
}

/// Suppressions last at most this many days.
pub const MAX_SUPPRESSION_DAYS: u32 = 365;

/// Offenses link at most this many of their events (the first ones); the
/// count goes on.
pub const OFFENSE_EVENT_LINKS: u64 = 100;

/// Assets one offense keeps at most.
pub const OFFENSE_ASSETS: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_keep_each_parts_reasons_and_repetition_adds_once() {
        let w = Weights::default();
        let a = Breakdown::new(
            Part::of(7.0, "high rule"),
            Part::of(5.0, "experimental"),
            Part::of(2.0, "low asset"),
            w,
        );
        let b = Breakdown::new(
            Part::of(3.0, "low rule"),
            Part::of(8.0, "stable"),
            Part::of(10.0, "open CVE"),
            w,
        );
        let p = a.peak(&b);
        assert_eq!(p.severity.reasons[0].text, "high rule");
        assert_eq!(p.credibility.reasons[0].text, "stable");
        assert_eq!(p.relevance.reasons[0].text, "open CVE");
        assert!(p.magnitude > a.magnitude && p.magnitude > b.magnitude);
        let r = p.with_repetition(150);
        assert!((r.credibility.value - 10.0).abs() < f64::EPSILON);
        assert!(
            r.credibility
                .reasons
                .last()
                .is_some_and(|x| x.text.contains("150"))
        );
        // The peak is kept without the bonus, so it never compounds.
        assert!((p.credibility.value - 8.0).abs() < f64::EPSILON);
        for k in DetectorKind::ALL {
            assert_eq!(k.as_str().parse::<DetectorKind>().ok(), Some(*k));
        }
    }
}

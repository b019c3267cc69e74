//! Magnitude: how much an alert or an offense deserves an analyst's time,
//! 0–10, from three parts each 0–10 — **severity** (how bad the detected
//! activity is if true), **credibility** (how much we trust the detection)
//! and **relevance** (how much it matters to this tenant: the assets
//! involved, what is open on them) — with every point explained in words.
//! The formula and its tables are in `docs/scoring.md`; keep the two in
//! step.
//!
//! Relevance reads only the enrichment fields an event carries
//! (`garrison.*`, see [`crate::enrich`]), so a stored event scores the same
//! later as when it arrived.

use garrison_core::event::{Fields, Value};
pub use garrison_core::offense::{Breakdown, Part, Reason, Weights, repetition_bonus};

use crate::enrich::{OPEN_ON_DESTINATION, PORT_FINDINGS};

/// Severity of a Sigma rule's level.
#[must_use]
pub fn sigma_level_severity(level: &str) -> f64 {
    match level.to_ascii_lowercase().as_str() {
        "informational" => 1.0,
        "low" => 3.0,
        "medium" => 5.0,
        "high" => 7.0,
        "critical" => 9.0,
        _ => 5.0,
    }
}

/// Credibility of a Sigma rule's status.
#[must_use]
pub fn sigma_status_credibility(status: Option<&str>) -> f64 {
    match status.map(str::to_ascii_lowercase).as_deref() {
        Some("stable") => 8.0,
        Some("test") => 7.0,
        Some("experimental") => 5.0,
        Some("deprecated" | "unsupported") => 3.0,
        _ => 5.0,
    }
}

/// Relevance points of a criticality (`low` … `critical`).
fn criticality_points(c: &str) -> f64 {
    match c {
        "critical" => 8.0,
        "high" => 6.0,
        "medium" => 4.0,
        "low" => 2.0,
        _ => 3.0,
    }
}

/// One side's relevance from its enrichment fields, `None` when the
/// inventory knows nothing of the address.
fn side_relevance(fields: &Fields, side: &str) -> Option<Part> {
    let get = |name: &str| fields.get(&format!("garrison.{side}.{name}"));
    let text = |name: &str| get(name).and_then(Value::as_str);
    let mut p = Part::default();
    if let Some(asset) = text("asset.name") {
        match text("asset.criticality") {
            Some(c) => p.set(
                criticality_points(c),
                format!("{side} asset {asset} is of {c} criticality"),
            ),
            None => p.set(3.0, format!("{side} asset {asset} (criticality not set)")),
        }
        if let Some(Value::List(regs)) = get("asset.regulations") {
            let names: Vec<&str> = regs.iter().filter_map(Value::as_str).collect();
            if !names.is_empty() {
                p.add(1.0, format!("in scope of {}", names.join(", ")));
            }
        }
        if let Some(s @ ("confidential" | "restricted")) = text("asset.sensitivity") {
            p.add(1.0, format!("holds {s} data"));
        }
        if side == "destination" && get("asset.internet_exposed") == Some(&Value::Bool(true)) {
            p.add(1.0, "exposed to the internet");
        }
    } else if let Some(cidr) = text("network.cidr") {
        match text("network.criticality") {
            Some(c) => p.set(
                criticality_points(c),
                format!("{side} address in {cidr}, of {c} criticality"),
            ),
            None => p.set(2.0, format!("{side} address in the known network {cidr}")),
        }
    } else {
        return None;
    }
    Some(p)
}

/// Relevance of an event to its tenant, from its enrichment: the more
/// relevant of its destination and source, raised by findings open on the
/// attacked port, and 10 when the event names a CVE open on its
/// destination.
#[must_use]
pub fn relevance(fields: &Fields) -> Part {
    let dest = side_relevance(fields, "destination");
    let src = side_relevance(fields, "source");
    let mut p = match (dest, src) {
        (Some(d), Some(s)) if s.value > d.value => s,
        (Some(d), _) => d,
        (None, Some(s)) => s,
        (None, None) => Part::of(1.0, "no known asset or network involved"),
    };
    if let Some(n) = fields.get(PORT_FINDINGS).and_then(Value::as_i64) {
        let port = fields
            .get("destination.port")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        p.add(
            1.0,
            format!("{n} finding(s) open on the attacked port {port}"),
        );
    }
    if let Some(Value::List(cves)) = fields.get(OPEN_ON_DESTINATION) {
        let names: Vec<&str> = cves.iter().filter_map(Value::as_str).collect();
        if !names.is_empty() {
            p.set(
                10.0,
                format!(
                    "the attack names {} which is open on the destination",
                    names.join(", ")
                ),
            );
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enriched(crit: &str, cve_open: bool) -> Fields {
        let mut f = Fields::new();
        f.set("destination.port", Value::Int(3389));
        f.set("garrison.destination.asset.name", "rdp-gw");
        f.set("garrison.destination.asset.criticality", crit);
        f.set(
            "garrison.destination.asset.regulations",
            Value::List(vec![Value::Str("PCI-DSS".into())]),
        );
        if cve_open {
            f.set(PORT_FINDINGS, Value::Int(1));
            f.set(
                OPEN_ON_DESTINATION,
                Value::List(vec![Value::Str("CVE-2019-0708".into())]),
            );
        }
        f
    }

    #[test]
    fn an_open_cve_makes_relevance_ten_and_says_so() {
        let with = relevance(&enriched("medium", true));
        let without = relevance(&enriched("medium", false));
        assert!((with.value - 10.0).abs() < f64::EPSILON);
        assert!((without.value - 5.0).abs() < f64::EPSILON, "{without:?}");
        assert!(
            with.reasons
                .last()
                .is_some_and(|r| r.text.contains("CVE-2019-0708"))
        );
        let w = Weights::default();
        let s = Part::of(7.0, "sev");
        let c = Part::of(6.0, "cred");
        let a = Breakdown::new(s.clone(), c.clone(), with, w);
        let b = Breakdown::new(s, c, without, w);
        assert!(
            a.magnitude > b.magnitude,
            "{} vs {}",
            a.magnitude,
            b.magnitude
        );
        assert!(a.explain()[2].contains("open on the destination"));
    }

    #[test]
    fn the_more_critical_side_decides() {
        let mut f = Fields::new();
        f.set("garrison.source.asset.name", "dc-01");
        f.set("garrison.source.asset.criticality", "critical");
        f.set("garrison.destination.network.cidr", "10.0.0.0/24");
        let p = relevance(&f);
        assert!((p.value - 8.0).abs() < f64::EPSILON);
        assert!(p.reasons[0].text.contains("dc-01"));
        assert!((relevance(&Fields::new()).value - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn magnitude_is_the_weighted_mean_in_range() {
        let b = Breakdown::new(
            Part::of(10.0, "s"),
            Part::of(10.0, "c"),
            Part::of(10.0, "r"),
            Weights::default(),
        );
        assert!((b.magnitude - 10.0).abs() < f64::EPSILON);
        let b = Breakdown::new(
            Part::of(9.0, "s"),
            Part::of(0.0, "c"),
            Part::of(0.0, "r"),
            Weights {
                severity: 1,
                credibility: 1,
                relevance: 1,
            },
        );
        assert!((b.magnitude - 3.0).abs() < f64::EPSILON);
        let zero = Weights {
            severity: 0,
            credibility: 0,
            relevance: 0,
        };
        assert!(!zero.is_valid());
        assert!(b.magnitude_with(zero).abs() < f64::EPSILON);
        // Parts are clamped to 0–10.
        assert!((Part::of(42.0, "x").value - 10.0).abs() < f64::EPSILON);
    }

    #[test]
    fn repeated_events_raise_credibility_in_steps() {
        assert!(repetition_bonus(9).abs() < f64::EPSILON);
        assert!((repetition_bonus(10) - 1.0).abs() < f64::EPSILON);
        assert!((repetition_bonus(100) - 2.0).abs() < f64::EPSILON);
        assert!((sigma_level_severity("HIGH") - 7.0).abs() < f64::EPSILON);
        assert!((sigma_status_credibility(Some("stable")) - 8.0).abs() < f64::EPSILON);
    }
}

//! From an enriched event to an alert: the parts every detector shares (the
//! offense key, the assets involved, relevance) and the simplest detector,
//! the sensor's own alert.
//!
//! **Sensor alerts.** An event whose `event.kind` is `alert` (a Suricata
//! EVE alert, a Zeek notice) is already a detection: the sensor's
//! signature fired. It becomes an alert of detector kind `sensor`, keyed by
//! the parser and the signature (`suricata:2027512`), severity from the
//! event's severity, credibility 6 for a signature match (8 or 4 when the
//! rule's metadata says its confidence is high or low), relevance from the
//! enrichment ([`crate::scoring::relevance`]).

use garrison_core::event::{Event, Fields, Value};
use garrison_core::offense::{
    Breakdown, Detector, DetectorKind, InvolvedAsset, NewAlert, OFFENSE_ASSETS, OffenseKey, Part,
    Weights,
};

use crate::scoring::relevance;

/// The fields an offense key is taken from, in order of preference: the
/// attacker's address, then the host, then the account.
const KEY_FIELDS: &[&str] = &["source.ip", "host.name", "user.name", "destination.ip"];

/// What an offense of this event groups by.
#[must_use]
pub fn offense_key(fields: &Fields) -> OffenseKey {
    for name in KEY_FIELDS {
        let value = match fields.get(name) {
            Some(Value::Ip(ip)) => ip.to_string(),
            Some(Value::Str(s)) if !s.is_empty() => s.clone(),
            _ => continue,
        };
        return OffenseKey {
            field: (*name).to_owned(),
            value,
        };
    }
    OffenseKey {
        field: "event".to_owned(),
        value: "-".to_owned(),
    }
}

/// The tenant's assets the event involves (from its enrichment).
#[must_use]
pub fn involved_assets(fields: &Fields) -> Vec<InvolvedAsset> {
    let mut out = Vec::new();
    for side in ["destination", "source"] {
        let id = fields
            .get_str(&format!("garrison.{side}.asset.id"))
            .and_then(|s| s.parse().ok());
        let name = fields.get_str(&format!("garrison.{side}.asset.name"));
        if let (Some(id), Some(name)) = (id, name)
            && !out.iter().any(|a: &InvolvedAsset| a.id == id)
        {
            out.push(InvolvedAsset {
                id,
                name: name.to_owned(),
            });
        }
    }
    out.truncate(OFFENSE_ASSETS);
    out
}

/// The alert a detector raises on `event`, scored with `weights`.
#[must_use]
pub fn alert(
    event: &Event,
    detector: Detector,
    severity: Part,
    credibility: Part,
    weights: Weights,
) -> NewAlert {
    NewAlert {
        tenant_id: event.tenant_id,
        event_id: event.id,
        at: event.timestamp,
        detector,
        key: offense_key(&event.fields),
        assets: involved_assets(&event.fields),
        breakdown: Breakdown::new(severity, credibility, relevance(&event.fields), weights),
        contributing: Vec::new(),
    }
}

/// The sensor's own alert, when the event is one.
#[must_use]
pub fn sensor_alert(event: &Event, weights: Weights) -> Option<NewAlert> {
    let f = &event.fields;
    if f.get_str("event.kind") != Some("alert") {
        return None;
    }
    let name = f
        .get_str("rule.name")
        .or_else(|| f.get_str("message"))
        .unwrap_or("sensor alert");
    let id = match f.get("rule.id") {
        Some(Value::Int(n)) => n.to_string(),
        Some(Value::Str(s)) => s.clone(),
        _ => name.to_owned(),
    };
    let detector = Detector {
        kind: DetectorKind::Sensor,
        key: format!("{}:{id}", event.parser),
        title: name.to_owned(),
    };
    let severity = Part::of(
        f64::from(event.severity) / 10.0,
        format!(
            "{} rates it {} of 100",
            sensor_name(&event.parser),
            event.severity
        ),
    );
    let confidence = f
        .get_str("alert.metadata.confidence")
        .or_else(|| match f.get("alert.metadata.confidence") {
            Some(Value::List(items)) => items.first().and_then(Value::as_str),
            _ => None,
        })
        .map(str::to_ascii_lowercase);
    let credibility = match confidence.as_deref() {
        Some("high") => Part::of(8.0, "signature match; the rule's confidence is high"),
        Some("low") => Part::of(4.0, "signature match; the rule's confidence is low"),
        _ => Part::of(6.0, "signature match by the sensor"),
    };
    Some(alert(event, detector, severity, credibility, weights))
}

fn sensor_name(parser: &str) -> &str {
    match parser {
        "suricata" => "Suricata",
        "zeek" => "Zeek",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use garrison_core::{EventId, TenantId, Timestamp};

    use super::*;

    fn eve_alert(fields: Fields) -> Event {
        Event {
            id: EventId::new(),
            tenant_id: TenantId::new(),
            timestamp: Timestamp::from_millis(1_000),
            received_at: Timestamp::from_millis(1_001),
            source_id: "test".to_owned(),
            parser: "suricata".to_owned(),
            severity: 80,
            fields,
            original: String::new(),
        }
    }

    #[test]
    fn an_eve_alert_becomes_a_sensor_alert_keyed_by_its_source() {
        let mut f = Fields::new();
        f.set("event.kind", "alert");
        f.set("rule.name", "ET EXPLOIT BlueKeep");
        f.set("rule.id", "2027512");
        f.set_ip("source.ip", "203.0.113.9");
        f.set_ip("destination.ip", "10.0.0.5");
        let id = garrison_core::AssetId::new();
        f.set("garrison.destination.asset.id", id.to_string());
        f.set("garrison.destination.asset.name", "rdp-gw");
        f.set("garrison.destination.asset.criticality", "high");
        let a = sensor_alert(&eve_alert(f), Weights::default()).expect("an alert");
        assert_eq!(a.detector.key, "suricata:2027512");
        assert_eq!(a.detector.title, "ET EXPLOIT BlueKeep");
        assert_eq!(
            (a.key.field.as_str(), a.key.value.as_str()),
            ("source.ip", "203.0.113.9")
        );
        assert_eq!(a.assets.len(), 1);
        assert_eq!(a.assets[0].name, "rdp-gw");
        assert!((a.breakdown.severity.value - 8.0).abs() < f64::EPSILON);
        assert!((a.breakdown.relevance.value - 6.0).abs() < f64::EPSILON);
        assert!(a.breakdown.magnitude > 0.0);
    }

    #[test]
    fn other_events_raise_nothing() {
        let mut f = Fields::new();
        f.set("event.kind", "event");
        assert!(sensor_alert(&eve_alert(f), Weights::default()).is_none());
        assert_eq!(offense_key(&Fields::new()).field, "event");
    }
}

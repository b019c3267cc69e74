//! Enrichment: an event's addresses resolved to the tenant's assets and
//! networks, and the CVEs it names matched against what is open on its
//! destination.
//!
//! [`enrich`] adds fields under `garrison.` (ECS has no place for an
//! inventory's view of an address), for each of `source` and
//! `destination` whose `.ip` is an address:
//!
//! | field | when | value |
//! |---|---|---|
//! | `garrison.<side>.asset.id`, `.name` | an asset has the address | the asset |
//! | `garrison.<side>.asset.criticality`, `.sensitivity` | set on the asset | `low` … `critical` |
//! | `garrison.<side>.asset.regulations` | any | list, e.g. `pci-dss`, `gdpr` |
//! | `garrison.<side>.asset.internet_exposed` | known | boolean |
//! | `garrison.<side>.asset.open_findings`, `.kev_findings` | an asset | counts of open findings |
//! | `garrison.<side>.network.cidr`, `.zone`, `.criticality` | a range contains the address | the most specific range (its default criticality when set) |
//! | `garrison.destination.asset.port_findings` | findings open on `destination.port` | their count |
//! | `garrison.destination.asset.port_cves` | the same, naming CVEs | list of CVEs |
//! | `garrison.vulnerability.open_on_destination` | `vulnerability.id` names a CVE open on the destination asset (any port) | list of those CVEs |
//!
//! The last one is what makes an attack on a known hole the most relevant
//! thing an analyst can see (see `docs/scoring.md`).
//!
//! Pure and cheap: two index lookups and a few fields per event; nothing is
//! added for an address the inventory does not know.

use garrison_core::event::{Fields, Value};

use crate::asset_index::{AssetIndex, AssetProfile, DEFAULT_ZONE, Lookup};

/// Field names per side, built once (they are `&'static str`).
struct Side {
    ip: &'static str,
    id: &'static str,
    name: &'static str,
    criticality: &'static str,
    sensitivity: &'static str,
    regulations: &'static str,
    exposed: &'static str,
    open: &'static str,
    kev: &'static str,
    cidr: &'static str,
    zone: &'static str,
    range_criticality: &'static str,
}

const SOURCE: Side = Side {
    ip: "source.ip",
    id: "garrison.source.asset.id",
    name: "garrison.source.asset.name",
    criticality: "garrison.source.asset.criticality",
    sensitivity: "garrison.source.asset.sensitivity",
    regulations: "garrison.source.asset.regulations",
    exposed: "garrison.source.asset.internet_exposed",
    open: "garrison.source.asset.open_findings",
    kev: "garrison.source.asset.kev_findings",
    cidr: "garrison.source.network.cidr",
    zone: "garrison.source.network.zone",
    range_criticality: "garrison.source.network.criticality",
};

const DESTINATION: Side = Side {
    ip: "destination.ip",
    id: "garrison.destination.asset.id",
    name: "garrison.destination.asset.name",
    criticality: "garrison.destination.asset.criticality",
    sensitivity: "garrison.destination.asset.sensitivity",
    regulations: "garrison.destination.asset.regulations",
    exposed: "garrison.destination.asset.internet_exposed",
    open: "garrison.destination.asset.open_findings",
    kev: "garrison.destination.asset.kev_findings",
    cidr: "garrison.destination.network.cidr",
    zone: "garrison.destination.network.zone",
    range_criticality: "garrison.destination.network.criticality",
};

/// Findings open on the destination port, and the CVEs they name.
pub const PORT_FINDINGS: &str = "garrison.destination.asset.port_findings";
pub const PORT_CVES: &str = "garrison.destination.asset.port_cves";
/// CVEs the event names that are open on its destination asset.
pub const OPEN_ON_DESTINATION: &str = "garrison.vulnerability.open_on_destination";
/// The field holding the CVEs an event names (EVE alert metadata, ...).
pub const EVENT_CVES: &str = "vulnerability.id";

/// Adds what `assets` knows about the event's source and destination (see
/// the module documentation). `assets` must be the event's tenant's index.
pub fn enrich(fields: &mut Fields, assets: &AssetIndex) {
    side(fields, assets, &SOURCE);
    if let Some(dest) = side(fields, assets, &DESTINATION) {
        destination(fields, dest);
    }
}

/// Sets one side's fields; the asset, if one has the address.
fn side<'a>(fields: &mut Fields, assets: &'a AssetIndex, s: &Side) -> Option<&'a AssetProfile> {
    let ip = fields.get(s.ip).and_then(Value::as_ip)?;
    match assets.lookup(ip) {
        Lookup::Unknown => None,
        Lookup::Range(range) => {
            fields.set(s.cidr, range.cidr.as_str());
            if range.zone != DEFAULT_ZONE {
                fields.set(s.zone, range.zone.as_str());
            }
            if let Some(c) = range.default_criticality {
                fields.set(s.range_criticality, c.as_str());
            }
            None
        }
        Lookup::Asset { asset, range } => {
            fields.set(s.id, asset.id.to_string());
            fields.set(s.name, asset.name.as_str());
            if let Some(c) = asset.criticality {
                fields.set(s.criticality, c.as_str());
            }
            if let Some(c) = asset.sensitivity {
                fields.set(s.sensitivity, c.as_str());
            }
            if !asset.regulations.is_empty() {
                fields.set(
                    s.regulations,
                    Value::List(
                        asset
                            .regulations
                            .iter()
                            .map(|r| Value::Str(r.clone()))
                            .collect(),
                    ),
                );
            }
            if let Some(e) = asset.internet_exposed {
                fields.set(s.exposed, Value::Bool(e));
            }
            fields.set(s.open, Value::Int(i64::from(asset.open_findings)));
            if asset.kev_findings > 0 {
                fields.set(s.kev, Value::Int(i64::from(asset.kev_findings)));
            }
            if let Some(range) = range {
                fields.set(s.cidr, range.cidr.as_str());
            }
            if asset.zone != DEFAULT_ZONE {
                fields.set(s.zone, asset.zone.as_str());
            }
            Some(asset)
        }
    }
}

/// Findings open on the destination port, and the event's CVEs open on
/// the destination asset.
fn destination(fields: &mut Fields, asset: &AssetProfile) {
    if asset.exposures.is_empty() {
        return;
    }
    let port = fields
        .get("destination.port")
        .and_then(Value::as_i64)
        .and_then(|p| u16::try_from(p).ok());
    if let Some(port) = port {
        let mut count = 0_i64;
        let mut cves: Vec<Value> = Vec::new();
        for x in asset.exposures.iter().filter(|x| x.port == Some(port)) {
            count += 1;
            for c in &x.cves {
                if !cves.iter().any(|v| v.as_str() == Some(c)) {
                    cves.push(Value::Str(c.clone()));
                }
            }
        }
        if count > 0 {
            fields.set(PORT_FINDINGS, Value::Int(count));
            if !cves.is_empty() {
                fields.set(PORT_CVES, Value::List(cves));
            }
        }
    }
    let named: Vec<&str> = match fields.get(EVENT_CVES) {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::Str(s)) => vec![s.as_str()],
        _ => return,
    };
    let open: Vec<Value> = named
        .iter()
        .filter(|c| {
            asset
                .exposures
                .iter()
                .any(|x| x.cves.iter().any(|o| o.eq_ignore_ascii_case(c)))
        })
        .map(|c| Value::Str(c.to_ascii_uppercase()))
        .collect();
    if !open.is_empty() {
        fields.set(OPEN_ON_DESTINATION, Value::List(open));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use garrison_core::asset::{Criticality, FindingSeverity, NetworkRange, OpenExposure};
    use garrison_core::{AssetId, RangeId, TenantId, Timestamp};

    use super::*;

    fn profile(tenant: TenantId, ip: &str) -> AssetProfile {
        AssetProfile {
            id: AssetId::new(),
            tenant_id: tenant,
            name: "db-01".to_owned(),
            zone: DEFAULT_ZONE.to_owned(),
            ips: vec![ip.parse().expect("ip")],
            asset_type: None,
            criticality: Some(Criticality::Critical),
            sensitivity: None,
            regulations: BTreeSet::from(["pci-dss".to_owned()]),
            internet_exposed: Some(true),
            tags: BTreeSet::new(),
            owner: None,
            risk_score: 0.0,
            open_findings: 2,
            kev_findings: 1,
            exposures: Vec::new(),
            last_seen: Timestamp::from_millis(0),
        }
    }

    fn exposure(asset: AssetId, port: u16, cves: &[&str]) -> OpenExposure {
        OpenExposure {
            asset_id: asset,
            port: Some(port),
            protocol: Some("tcp".to_owned()),
            title: "hole".to_owned(),
            cves: cves.iter().map(|c| (*c).to_owned()).collect(),
            severity: FindingSeverity::Critical,
        }
    }

    fn event(src: &str, dst: &str, port: i64, cves: &[&str]) -> Fields {
        let mut f = Fields::new();
        f.set_ip("source.ip", src);
        f.set_ip("destination.ip", dst);
        f.set("destination.port", Value::Int(port));
        if !cves.is_empty() {
            f.set(
                EVENT_CVES,
                Value::List(cves.iter().map(|c| Value::Str((*c).to_owned())).collect()),
            );
        }
        f
    }

    fn index(tenant: TenantId) -> AssetIndex {
        let mut db = profile(tenant, "10.0.0.5");
        let id = db.id;
        db = db.with_exposures(vec![
            exposure(id, 3389, &["CVE-2019-0708"]),
            exposure(id, 445, &["CVE-2017-0144"]),
        ]);
        let range = NetworkRange {
            id: RangeId::new(),
            tenant_id: tenant,
            cidr: "10.0.0.0/24".to_owned(),
            zone: DEFAULT_ZONE.to_owned(),
            default_criticality: Some(Criticality::High),
            description: None,
        };
        AssetIndex::build(tenant, [db], &[range])
    }

    #[test]
    fn a_destination_asset_with_the_named_cve_open_is_marked() {
        let t = TenantId::new();
        let idx = index(t);
        let mut f = event("203.0.113.9", "10.0.0.5", 3389, &["cve-2019-0708"]);
        enrich(&mut f, &idx);
        assert_eq!(f.get_str("garrison.destination.asset.name"), Some("db-01"));
        assert_eq!(
            f.get_str("garrison.destination.asset.criticality"),
            Some("critical")
        );
        assert_eq!(f.get(PORT_FINDINGS), Some(&Value::Int(1)));
        assert_eq!(
            f.get(PORT_CVES),
            Some(&Value::List(vec![Value::Str("CVE-2019-0708".into())]))
        );
        assert_eq!(
            f.get(OPEN_ON_DESTINATION),
            Some(&Value::List(vec![Value::Str("CVE-2019-0708".into())]))
        );
        // The source is outside every range: nothing about it.
        assert!(f.get("garrison.source.asset.id").is_none());
        assert!(f.get("garrison.source.network.cidr").is_none());
    }

    #[test]
    fn a_cve_not_open_on_the_destination_is_not_marked() {
        let t = TenantId::new();
        let idx = index(t);
        let mut f = event("203.0.113.9", "10.0.0.5", 80, &["CVE-2021-44228"]);
        enrich(&mut f, &idx);
        assert!(f.get(OPEN_ON_DESTINATION).is_none());
        assert!(f.get(PORT_FINDINGS).is_none(), "nothing open on port 80");
        assert_eq!(f.get_str("garrison.destination.asset.name"), Some("db-01"));
    }

    #[test]
    fn an_address_in_a_range_only_gets_the_range() {
        let t = TenantId::new();
        let idx = index(t);
        let mut f = event("10.0.0.77", "10.0.0.5", 445, &[]);
        enrich(&mut f, &idx);
        assert_eq!(
            f.get_str("garrison.source.network.cidr"),
            Some("10.0.0.0/24")
        );
        assert_eq!(
            f.get_str("garrison.source.network.criticality"),
            Some("high")
        );
        assert!(f.get("garrison.source.asset.id").is_none());
        assert_eq!(f.get(PORT_FINDINGS), Some(&Value::Int(1)));
        assert!(
            f.get(OPEN_ON_DESTINATION).is_none(),
            "the event names no CVE"
        );
    }

    #[test]
    fn an_event_without_addresses_is_left_alone() {
        let t = TenantId::new();
        let idx = index(t);
        let mut f = Fields::new();
        f.set("message", "hello");
        enrich(&mut f, &idx);
        assert_eq!(f.len(), 1);
    }
}

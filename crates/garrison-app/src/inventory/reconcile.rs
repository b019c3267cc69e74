//! Reconciliation: how what an import (or a person) says about a host is
//! merged into the inventory.
//!
//! Matching, in this order: a shared MAC address; else a shared FQDN or
//! host name; else a shared IP address in the same zone. Generic names
//! (`localhost`, ...) never match.
//!
//! Merging, field by field: every field remembers who set it. A value from
//! a source of equal or higher rank replaces it (a person beats an asset
//! list, which beats a scanner; a later scan replaces an earlier scan's
//! value); a different value from a lower-ranked source is not applied but
//! recorded as a conflict in the asset's history. Addresses, services and
//! software are observations and are merged (union, newer details win).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use garrison_core::asset::{
    Asset, AssetService, AssetSoftware, AssetType, Criticality, Sensitivity, Source, field,
};
use garrison_core::{AssetId, TenantId, Timestamp};
use serde_json::{Value, json};

/// What one source says about a host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    pub ips: Vec<IpAddr>,
    pub macs: Vec<String>,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub os: Option<String>,
    /// The zone the import says the host is in.
    pub zone: Option<String>,
    pub asset_type: Option<AssetType>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub location: Option<String>,
    pub criticality: Option<Criticality>,
    pub sensitivity: Option<Sensitivity>,
    pub regulations: Option<BTreeSet<String>>,
    pub tags: Option<BTreeSet<String>>,
    pub internet_exposed: Option<bool>,
    pub services: Vec<AssetService>,
    pub software: Vec<AssetSoftware>,
}

/// Names too generic to identify a host.
const GENERIC_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "localdomain",
    "unknown",
    "(none)",
];

impl Observation {
    /// Lower-case names usable for matching.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.fqdn
            .iter()
            .chain(self.hostname.iter())
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty() && !GENERIC_NAMES.contains(&n.as_str()))
            .collect()
    }

    #[must_use]
    pub fn has_identity(&self) -> bool {
        !self.ips.is_empty() || !self.macs.is_empty() || !self.names().is_empty()
    }
}

/// Which existing asset an observation is, if any, and what else matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub asset: Option<Asset>,
    /// Other assets that share an identifier: a conflict to record.
    pub also: Vec<AssetId>,
}

/// Picks the asset an observation describes among `candidates`.
#[must_use]
pub fn pick(candidates: Vec<Asset>, obs: &Observation, zone: &str) -> Matched {
    let names = obs.names();
    let by_mac = |a: &Asset| a.macs.iter().any(|m| obs.macs.contains(m));
    // A shared short name is not enough when the FQDNs say otherwise:
    // cloud images and default installs reuse host names.
    let fqdn_differs = |a: &Asset| match (&a.fqdn, &obs.fqdn) {
        (Some(x), Some(y)) => !x.trim().eq_ignore_ascii_case(y.trim()),
        _ => false,
    };
    let by_name = |a: &Asset| {
        !fqdn_differs(a)
            && a.fqdn
                .iter()
                .chain(a.hostname.iter())
                .any(|n| names.contains(&n.to_lowercase()))
    };
    let by_ip = |a: &Asset| a.zone == zone && a.ips.iter().any(|ip| obs.ips.contains(ip));
    let chosen = candidates
        .iter()
        .position(by_mac)
        .or_else(|| candidates.iter().position(by_name))
        .or_else(|| candidates.iter().position(by_ip));
    let mut rest = candidates;
    let asset = chosen.map(|i| rest.remove(i));
    let also = rest
        .into_iter()
        .filter(|a| by_mac(a) || by_name(a) || by_ip(a))
        .map(|a| a.id)
        .collect();
    Matched { asset, also }
}

/// The result of merging an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub asset: Asset,
    pub is_new: bool,
    /// Field → `{"old": .., "new": ..}` for what changed.
    pub changes: BTreeMap<String, Value>,
    /// Field → `{"kept": .., "offered": .., "kept_source": .., "offered_source": ..}`.
    pub conflicts: BTreeMap<String, Value>,
}

impl Merged {
    #[must_use]
    pub fn changed(&self) -> bool {
        self.is_new || !self.changes.is_empty()
    }
}

/// Decides field by field, recording changes, conflicts and sources.
struct Decider<'a> {
    sources: BTreeMap<String, Source>,
    source: &'a Source,
    changes: BTreeMap<String, Value>,
    conflicts: BTreeMap<String, Value>,
}

impl Decider<'_> {
    /// The value field `name` takes when `offered` meets `current`.
    fn decide<T: Clone + PartialEq + serde::Serialize>(
        &mut self,
        name: &str,
        current: Option<T>,
        offered: Option<&T>,
    ) -> Option<T> {
        let Some(offered) = offered else {
            return current;
        };
        let current_source = self.sources.get(name).cloned();
        match (current, current_source) {
            (Some(cur), Some(cur_src)) if &cur == offered => {
                // The same value, confirmed: a higher-ranked source takes
                // ownership of it.
                if self.source.rank() > cur_src.rank() {
                    self.sources.insert(name.to_owned(), self.source.clone());
                }
                Some(cur)
            }
            (Some(cur), Some(cur_src)) if self.source.rank() < cur_src.rank() => {
                self.conflicts.insert(
                    name.to_owned(),
                    json!({ "kept": cur, "offered": offered, "kept_source": cur_src, "offered_source": self.source }),
                );
                Some(cur)
            }
            (old, _) => {
                if old.as_ref() != Some(offered) {
                    self.changes
                        .insert(name.to_owned(), json!({ "old": old, "new": offered }));
                }
                self.sources.insert(name.to_owned(), self.source.clone());
                Some(offered.clone())
            }
        }
    }

    /// The same for a set, where empty means unset.
    fn decide_set(
        &mut self,
        name: &str,
        current: BTreeSet<String>,
        offered: Option<&BTreeSet<String>>,
    ) -> BTreeSet<String> {
        let current = Some(current).filter(|s| !s.is_empty());
        self.decide(name, current, offered).unwrap_or_default()
    }
}

/// Merges `obs` from `source` into `existing` (or a new asset).
#[must_use]
#[expect(
    clippy::too_many_arguments,
    reason = "each argument is a distinct fact of the merge"
)]
pub fn merge(
    existing: Option<Asset>,
    obs: &Observation,
    source: &Source,
    tenant: TenantId,
    zone: &str,
    default_criticality: Option<Criticality>,
    seen_at: Timestamp,
    now: Timestamp,
) -> Merged {
    let is_new = existing.is_none();
    let mut a = existing.unwrap_or_else(|| Asset {
        id: AssetId::new(),
        tenant_id: tenant,
        hostname: None,
        fqdn: None,
        ips: Vec::new(),
        macs: Vec::new(),
        zone: zone.to_owned(),
        os: None,
        asset_type: None,
        owner: None,
        business_unit: None,
        location: None,
        services: Vec::new(),
        software: Vec::new(),
        tags: BTreeSet::new(),
        criticality: None,
        sensitivity: None,
        regulations: BTreeSet::new(),
        internet_exposed: None,
        sources: BTreeMap::new(),
        first_seen: seen_at,
        last_seen: seen_at,
        created_at: now,
        updated_at: now,
    });
    let mut d = Decider {
        sources: std::mem::take(&mut a.sources),
        source,
        changes: BTreeMap::new(),
        conflicts: BTreeMap::new(),
    };
    a.hostname = d.decide(field::HOSTNAME, a.hostname.take(), obs.hostname.as_ref());
    a.fqdn = d.decide(field::FQDN, a.fqdn.take(), obs.fqdn.as_ref());
    a.os = d.decide(field::OS, a.os.take(), obs.os.as_ref());
    a.asset_type = d.decide(
        field::ASSET_TYPE,
        a.asset_type.take(),
        obs.asset_type.as_ref(),
    );
    a.owner = d.decide(field::OWNER, a.owner.take(), obs.owner.as_ref());
    a.business_unit = d.decide(
        field::BUSINESS_UNIT,
        a.business_unit.take(),
        obs.business_unit.as_ref(),
    );
    a.location = d.decide(field::LOCATION, a.location.take(), obs.location.as_ref());
    a.criticality = d.decide(
        field::CRITICALITY,
        a.criticality.take(),
        obs.criticality.as_ref(),
    );
    a.sensitivity = d.decide(
        field::SENSITIVITY,
        a.sensitivity.take(),
        obs.sensitivity.as_ref(),
    );
    a.internet_exposed = d.decide(
        field::INTERNET_EXPOSED,
        a.internet_exposed.take(),
        obs.internet_exposed.as_ref(),
    );
    a.tags = d.decide_set(field::TAGS, std::mem::take(&mut a.tags), obs.tags.as_ref());
    a.regulations = d.decide_set(
        field::REGULATIONS,
        std::mem::take(&mut a.regulations),
        obs.regulations.as_ref(),
    );
    let Decider {
        mut sources,
        mut changes,
        conflicts,
        ..
    } = d;
    if is_new
        && a.criticality.is_none()
        && let Some(c) = default_criticality
    {
        a.criticality = Some(c);
        sources.insert(
            field::CRITICALITY.to_owned(),
            Source::Scanner("network-range".to_owned()),
        );
    }

    // Observations: union, newer details win.
    let before = (a.ips.clone(), a.macs.clone());
    for ip in &obs.ips {
        if !a.ips.contains(ip) {
            a.ips.push(*ip);
        }
    }
    for mac in &obs.macs {
        if !a.macs.contains(mac) {
            a.macs.push(mac.clone());
        }
    }
    if (&a.ips, &a.macs) != (&before.0, &before.1) {
        changes.insert(
            field::ADDRESSES.to_owned(),
            json!({ "old": { "ips": before.0, "macs": before.1 }, "new": { "ips": a.ips, "macs": a.macs } }),
        );
        sources
            .entry(field::ADDRESSES.to_owned())
            .or_insert_with(|| source.clone());
    }
    let services_before = a.services.clone();
    for s in &obs.services {
        match a
            .services
            .iter_mut()
            .find(|x| x.port == s.port && x.protocol == s.protocol)
        {
            Some(x) => {
                if s.name.is_some() {
                    x.name.clone_from(&s.name);
                }
                if s.product.is_some() {
                    x.product.clone_from(&s.product);
                }
                if s.version.is_some() {
                    x.version.clone_from(&s.version);
                }
            }
            None => a.services.push(s.clone()),
        }
    }
    a.services.sort();
    if a.services != services_before {
        changes.insert(
            field::SERVICES.to_owned(),
            json!({ "old_count": services_before.len(), "new_count": a.services.len() }),
        );
        sources.insert(field::SERVICES.to_owned(), source.clone());
    }
    let software_before = a.software.len();
    let mut software_changed = false;
    for s in &obs.software {
        // Software with a CPE is that CPE; without one, its name (a
        // package is installed once, in one version).
        let same = |x: &AssetSoftware| match (&s.cpe, &x.cpe) {
            (Some(a), Some(b)) => a == b,
            (None, None) => x.name == s.name,
            _ => false,
        };
        match a.software.iter_mut().find(|x| same(x)) {
            Some(x) if x.version != s.version || (s.cpe.is_some() && x.cpe != s.cpe) => {
                x.version.clone_from(&s.version);
                if s.cpe.is_some() {
                    x.cpe.clone_from(&s.cpe);
                }
                software_changed = true;
            }
            Some(_) => {}
            None => {
                a.software.push(s.clone());
                software_changed = true;
            }
        }
    }
    if software_changed {
        a.software.sort();
        changes.insert(
            field::SOFTWARE.to_owned(),
            json!({ "old_count": software_before, "new_count": a.software.len() }),
        );
        sources.insert(field::SOFTWARE.to_owned(), source.clone());
    }
    a.sources = sources;
    if seen_at > a.last_seen {
        a.last_seen = seen_at;
    }
    if seen_at < a.first_seen {
        a.first_seen = seen_at;
    }
    if is_new || !changes.is_empty() {
        a.updated_at = now;
    }
    Merged {
        asset: a,
        is_new,
        changes,
        conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000)
    }

    fn scan(name: &str) -> Source {
        Source::Scanner(name.to_owned())
    }

    fn host(ip: &str) -> Observation {
        Observation {
            ips: vec![ip.parse().expect("ip")],
            hostname: Some("web".to_owned()),
            os: Some("Linux".to_owned()),
            ..Observation::default()
        }
    }

    #[test]
    fn a_shared_short_name_with_different_fqdns_is_two_hosts() {
        let t = TenantId::new();
        let seen = |ip: &str, fqdn: &str| Observation {
            ips: vec![ip.parse().expect("ip")],
            hostname: Some("EC2AMAZ-N4OQ6HS".to_owned()),
            fqdn: Some(fqdn.to_owned()),
            ..Observation::default()
        };
        let first = merge(
            None,
            &seen("10.98.57.151", "ip-10-98-57-151.internal"),
            &scan("qualys"),
            t,
            "default",
            None,
            now(),
            now(),
        )
        .asset;
        let other = seen("10.98.49.209", "ip-10-98-49-209.internal");
        assert!(
            pick(vec![first.clone()], &other, "default").asset.is_none(),
            "different FQDNs: not the same host"
        );
        // The same FQDN (any case), or no FQDN to contradict, still matches.
        let same = seen("10.98.1.1", "IP-10-98-57-151.internal");
        assert!(pick(vec![first.clone()], &same, "default").asset.is_some());
        let short = Observation {
            fqdn: None,
            ..other
        };
        assert!(pick(vec![first], &short, "default").asset.is_some());
    }

    #[test]
    fn a_new_asset_takes_the_observation_and_its_sources() {
        let t = TenantId::new();
        let m = merge(
            None,
            &host("10.0.0.1"),
            &scan("nmap"),
            t,
            "default",
            Some(Criticality::High),
            now(),
            now(),
        );
        assert!(m.is_new);
        assert_eq!(m.asset.hostname.as_deref(), Some("web"));
        assert_eq!(
            m.asset.criticality,
            Some(Criticality::High),
            "default from the network range"
        );
        assert_eq!(m.asset.sources.get("os"), Some(&scan("nmap")));
    }

    #[test]
    fn a_person_beats_a_list_which_beats_a_scanner() {
        let t = TenantId::new();
        let mut obs = host("10.0.0.1");
        obs.criticality = Some(Criticality::Low);
        let m = merge(
            None,
            &obs,
            &Source::AssetList("csv".into()),
            t,
            "default",
            None,
            now(),
            now(),
        );
        // A person raises it to critical.
        let manual = Observation {
            criticality: Some(Criticality::Critical),
            ..Observation::default()
        };
        let m = merge(
            Some(m.asset),
            &manual,
            &Source::Manual,
            t,
            "default",
            None,
            now(),
            now(),
        );
        assert_eq!(m.asset.criticality, Some(Criticality::Critical));
        assert_eq!(m.changes.len(), 1);
        // The next list import offers "low" again: kept critical, conflict recorded.
        let m = merge(
            Some(m.asset),
            &obs,
            &Source::AssetList("csv".into()),
            t,
            "default",
            None,
            now(),
            now(),
        );
        assert_eq!(m.asset.criticality, Some(Criticality::Critical));
        assert!(m.conflicts.contains_key("criticality"), "{:?}", m.conflicts);
        assert!(!m.changed(), "nothing changed: {:?}", m.changes);
        // A scanner's OS does not replace the list's OS either.
        let mut scanned = host("10.0.0.1");
        scanned.os = Some("Windows".to_owned());
        let m = merge(
            Some(m.asset),
            &scanned,
            &scan("nessus"),
            t,
            "default",
            None,
            now(),
            now(),
        );
        assert_eq!(m.asset.os.as_deref(), Some("Linux"));
        assert!(m.conflicts.contains_key("os"));
    }

    #[test]
    fn re_importing_the_same_observation_changes_nothing() {
        let t = TenantId::new();
        let mut obs = host("10.0.0.1");
        obs.services = vec![AssetService {
            port: 22,
            protocol: "tcp".into(),
            name: Some("ssh".into()),
            product: None,
            version: None,
        }];
        obs.tags = Some(["prod".to_owned()].into());
        let m1 = merge(None, &obs, &scan("nmap"), t, "default", None, now(), now());
        let m2 = merge(
            Some(m1.asset.clone()),
            &obs,
            &scan("nmap"),
            t,
            "default",
            None,
            now(),
            now(),
        );
        assert!(!m2.changed(), "{:?}", m2.changes);
        assert_eq!(m2.asset, m1.asset);
    }

    #[test]
    fn software_is_kept_once_per_cpe_or_name() {
        let t = TenantId::new();
        let sw = |name: &str, cpe: Option<&str>| AssetSoftware {
            name: name.into(),
            version: None,
            cpe: cpe.map(str::to_owned),
        };
        let mut obs = host("10.0.0.1");
        obs.software = vec![
            sw("windows", Some("cpe:/o:microsoft:windows_7")),
            sw("windows", Some("cpe:/o:microsoft:windows_10")),
            sw("curl", None),
        ];
        let m1 = merge(
            None,
            &obs,
            &scan("nessus"),
            t,
            "default",
            None,
            now(),
            now(),
        );
        assert_eq!(m1.asset.software.len(), 3);
        let m2 = merge(
            Some(m1.asset),
            &obs,
            &scan("nessus"),
            t,
            "default",
            None,
            now(),
            now(),
        );
        assert!(!m2.changed(), "{:?}", m2.changes);
    }

    #[test]
    fn matching_prefers_mac_then_name_then_ip_in_zone() {
        let t = TenantId::new();
        let mk = |hostname: &str, ip: &str, mac: Option<&str>, zone: &str| {
            let mut o = host(ip);
            o.hostname = Some(hostname.to_owned());
            o.macs = mac.into_iter().map(str::to_owned).collect();
            merge(None, &o, &scan("x"), t, zone, None, now(), now()).asset
        };
        let a = mk("alpha", "10.0.0.1", Some("00:00:00:00:00:01"), "default");
        let b = mk("bravo", "10.0.0.2", None, "default");
        let c = mk("charlie", "10.0.0.3", None, "default");
        let mut obs = host("10.0.0.3");
        obs.hostname = Some("bravo".to_owned());
        obs.macs = vec!["00:00:00:00:00:01".to_owned()];
        let m = pick(vec![c.clone(), b.clone(), a.clone()], &obs, "default");
        assert_eq!(m.asset.map(|x| x.id), Some(a.id), "the MAC wins");
        assert_eq!(m.also.len(), 2, "the others are conflicts");
        obs.macs.clear();
        assert_eq!(
            pick(vec![c.clone(), b.clone()], &obs, "default")
                .asset
                .map(|x| x.id),
            Some(b.id),
            "then the name"
        );
        obs.hostname = Some("localhost".to_owned());
        assert_eq!(
            pick(vec![c.clone()], &obs, "default").asset.map(|x| x.id),
            Some(c.id),
            "then the address"
        );
        assert!(
            pick(vec![c], &obs, "site-2").asset.is_none(),
            "but not in another zone"
        );
    }
}

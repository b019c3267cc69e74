//! The asset index: from an IP address to what the tenant's inventory knows
//! about it, in memory, for the correlation engine.
//!
//! # Zones
//!
//! Private addresses repeat from site to site, so an asset is known by an
//! address *in a zone*. An address's zone is that of the most specific
//! network range containing it, or [`DEFAULT_ZONE`] when no range does —
//! exactly as the importer places hosts. [`AssetIndex::lookup`] answers for
//! that zone; [`AssetIndex::lookup_in_zone`] for a zone the caller knows
//! (the site of the sensor that saw the event, say).
//!
//! An asset whose zone was given by an asset list or an import rather than
//! by a range is found only through [`AssetIndex::lookup_in_zone`] (or
//! through `lookup` once a range places its addresses in that zone). The
//! same holds for an asset's addresses outside the range that gave it its
//! zone: every address of an asset is indexed in the asset's one zone.
//!
//! # Two assets, one address
//!
//! When several assets of a zone claim the same address (a DHCP address that
//! moved, an inventory not yet reconciled), the lookup answers with the one
//! seen most recently (`last_seen`), and between equally recent ones the one
//! with the greater id (ids are UUIDv7, so the one created later). The
//! others stay in the index and take over if the winner is removed or moves.
//!
//! # Keeping it current
//!
//! The index is a snapshot. [`AssetIndex::upsert`] and [`AssetIndex::remove`]
//! change single assets cheaply; a change of ranges needs a new index
//! ([`AssetIndex::build`]). The application keeps one per tenant and builds
//! a new one when the store's inventory version moves.
//!
//! # Speed
//!
//! A lookup is a binary search over a flat array of interval starts (see
//! `ranges.rs`) followed by one hash-map probe keyed by (zone, address);
//! `benches/asset_index.rs` measures it with 100,000 assets and 10,000
//! ranges, and `docs/benchmarks.md` records the figures.

pub(crate) mod ranges;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use garrison_core::asset::{
    Asset, AssetType, Criticality, NetworkRange, OpenExposure, Sensitivity,
};
use garrison_core::{AssetId, RangeId, TenantId, Timestamp};

use self::ranges::{Block, Key, NONE, PrefixTable};

/// The zone of addresses that no range of the tenant contains (the
/// importer's default).
pub const DEFAULT_ZONE: &str = "default";

/// What the correlation engine needs to know about an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetProfile {
    pub id: AssetId,
    pub tenant_id: TenantId,
    /// A name for people: FQDN, host name or first address.
    pub name: String,
    pub zone: String,
    pub ips: Vec<IpAddr>,
    pub asset_type: Option<AssetType>,
    pub criticality: Option<Criticality>,
    pub sensitivity: Option<Sensitivity>,
    pub regulations: BTreeSet<String>,
    pub internet_exposed: Option<bool>,
    pub tags: BTreeSet<String>,
    pub owner: Option<String>,
    pub risk_score: f64,
    pub open_findings: u32,
    pub kev_findings: u32,
    /// Open findings: ports and CVEs an attack on the asset may aim at.
    pub exposures: Vec<OpenExposure>,
    /// Decides between two assets claiming the same address.
    pub last_seen: Timestamp,
}

impl AssetProfile {
    /// The profile of an asset, with no risk figures (see
    /// [`AssetProfile::with_risk`]).
    #[must_use]
    pub fn from_asset(asset: &Asset) -> Self {
        Self {
            id: asset.id,
            tenant_id: asset.tenant_id,
            name: asset.display_name(),
            zone: asset.zone.clone(),
            ips: asset.ips.clone(),
            asset_type: asset.asset_type,
            criticality: asset.criticality,
            sensitivity: asset.sensitivity,
            regulations: asset.regulations.clone(),
            internet_exposed: asset.internet_exposed,
            tags: asset.tags.clone(),
            owner: asset.owner.clone(),
            risk_score: 0.0,
            open_findings: 0,
            kev_findings: 0,
            exposures: Vec::new(),
            last_seen: asset.last_seen,
        }
    }

    /// The same profile with the asset's open findings.
    #[must_use]
    pub fn with_exposures(mut self, exposures: Vec<OpenExposure>) -> Self {
        self.exposures = exposures;
        self
    }

    /// The same profile with the asset's risk score and counts of open
    /// findings and of open findings listed in CISA KEV.
    #[must_use]
    pub const fn with_risk(mut self, score: f64, open_findings: u32, kev_findings: u32) -> Self {
        self.risk_score = score;
        self.open_findings = open_findings;
        self.kev_findings = kev_findings;
        self
    }

    /// Which of two assets claiming one address wins: the later seen, then
    /// the greater id.
    fn rank(&self) -> (Timestamp, AssetId) {
        (self.last_seen, self.id)
    }
}

/// What the correlation engine needs to know about a network range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProfile {
    pub id: RangeId,
    /// Normalised CIDR, e.g. `10.1.0.0/16`.
    pub cidr: String,
    pub zone: String,
    pub default_criticality: Option<Criticality>,
    pub description: Option<String>,
}

/// What the index knows about an address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup<'a> {
    /// An asset has the address; `range` is the most specific range of the
    /// asset's zone containing it, if any.
    Asset {
        asset: &'a AssetProfile,
        range: Option<&'a RangeProfile>,
    },
    /// No asset has the address, but a range contains it.
    Range(&'a RangeProfile),
    /// Neither.
    Unknown,
}

impl<'a> Lookup<'a> {
    #[must_use]
    pub const fn asset(&self) -> Option<&'a AssetProfile> {
        match self {
            Self::Asset { asset, .. } => Some(asset),
            _ => None,
        }
    }

    #[must_use]
    pub const fn range(&self) -> Option<&'a RangeProfile> {
        match self {
            Self::Asset { range, .. } => *range,
            Self::Range(range) => Some(range),
            Self::Unknown => None,
        }
    }

    /// The asset's criticality, else its range's default criticality.
    #[must_use]
    pub fn criticality(&self) -> Option<Criticality> {
        self.asset()
            .and_then(|a| a.criticality)
            .or_else(|| self.range().and_then(|r| r.default_criticality))
    }
}

/// An interned zone name.
type ZoneId = u32;

/// The zone id of [`DEFAULT_ZONE`]: interned first.
const DEFAULT_ZONE_ID: ZoneId = 0;

/// IP address and range → asset and range profile, for one tenant. See the
/// module documentation for the rules.
#[derive(Clone)]
pub struct AssetIndex {
    tenant: TenantId,
    /// Zone names, by id.
    zone_names: Vec<String>,
    zone_ids: HashMap<String, ZoneId>,
    /// Ranges sorted by address family, first address, size (larger first)
    /// and id.
    ranges: Vec<RangeProfile>,
    range_zone: Vec<ZoneId>,
    /// The next larger range containing each range, or `NONE`.
    range_parent: Vec<u32>,
    v4: PrefixTable<u32>,
    v6: PrefixTable<u128>,
    /// Assets by slot; a removed asset leaves its slot free for the next.
    slots: Vec<Option<AssetProfile>>,
    free: Vec<u32>,
    by_id: HashMap<AssetId, u32>,
    /// (zone, address) → the slot of the asset that wins the address.
    by_addr: HashMap<(ZoneId, IpAddr), u32>,
    /// Every claimant of an address that more than one asset claims.
    contested: HashMap<(ZoneId, IpAddr), Vec<u32>>,
}

impl fmt::Debug for AssetIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssetIndex")
            .field("tenant", &self.tenant)
            .field("assets", &self.len())
            .field("ranges", &self.ranges_len())
            .field("zones", &self.zone_names.len())
            .finish_non_exhaustive()
    }
}

/// Parses a CIDR such as `10.1.0.0/16` or `2001:db8::/32` (a bare address
/// is a block of one) into the canonical address and prefix length; host
/// bits are ignored. IPv4-mapped IPv6 blocks become IPv4 blocks.
fn parse_cidr(cidr: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match cidr.trim().split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (cidr.trim().parse::<IpAddr>().ok()?, None),
    };
    match addr {
        IpAddr::V4(_) => {
            let len = len.unwrap_or(32);
            (len <= 32).then_some((addr, len))
        }
        IpAddr::V6(v6) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return None;
            }
            match v6.to_ipv4_mapped() {
                Some(v4) if len >= 96 => Some((IpAddr::V4(v4), len - 96)),
                _ => Some((addr, len)),
            }
        }
    }
}

impl AssetIndex {
    /// Builds the index of a tenant's assets and ranges. Assets and ranges
    /// of other tenants, and ranges whose CIDR does not parse, are left
    /// out; of two profiles with the same id the later is kept.
    #[must_use]
    pub fn build(
        tenant: TenantId,
        assets: impl IntoIterator<Item = AssetProfile>,
        ranges: &[NetworkRange],
    ) -> Self {
        let mut index = Self {
            tenant,
            zone_names: Vec::new(),
            zone_ids: HashMap::new(),
            ranges: Vec::new(),
            range_zone: Vec::new(),
            range_parent: Vec::new(),
            v4: PrefixTable::build(&[], &mut []),
            v6: PrefixTable::build(&[], &mut []),
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            by_addr: HashMap::new(),
            contested: HashMap::new(),
        };
        let default = index.intern(DEFAULT_ZONE);
        debug_assert_eq!(default, DEFAULT_ZONE_ID);
        index.set_ranges(ranges);
        let assets = assets.into_iter();
        let (hint, _) = assets.size_hint();
        index.slots.reserve(hint);
        index.by_id.reserve(hint);
        index.by_addr.reserve(hint);
        for a in assets {
            // Another tenant's profile is left out, as documented.
            let _ = index.upsert(a);
        }
        index
    }

    fn set_ranges(&mut self, ranges: &[NetworkRange]) {
        // (is IPv6, first address, prefix length, id) sorts the ranges so
        // that each family's blocks come in the order the table wants.
        let mut parsed: Vec<(bool, u128, u8, &NetworkRange)> = ranges
            .iter()
            .filter(|r| r.tenant_id == self.tenant)
            .filter_map(|r| {
                let (addr, len) = parse_cidr(&r.cidr)?;
                Some(match addr {
                    IpAddr::V4(v4) => {
                        let (first, _) = u32::block(u32::from(v4), len);
                        (false, u128::from(first), len, r)
                    }
                    IpAddr::V6(v6) => {
                        let (first, _) = u128::block(u128::from(v6), len);
                        (true, first, len, r)
                    }
                })
            })
            .collect();
        parsed.sort_by_key(|&(v6, first, len, r)| (v6, first, len, r.id));
        let mut v4_blocks = Vec::new();
        let mut v6_blocks = Vec::new();
        for (i, &(v6, first, len, r)) in parsed.iter().enumerate() {
            let Ok(index) = u32::try_from(i) else { break };
            if v6 {
                let (first, last) = u128::block(first, len);
                v6_blocks.push(Block { first, last, index });
            } else {
                let (first, last) = u32::block(u32::try_from(first).unwrap_or(0), len);
                v4_blocks.push(Block { first, last, index });
            }
            let zone = self.intern(&r.zone);
            self.range_zone.push(zone);
            self.ranges.push(RangeProfile {
                id: r.id,
                cidr: r.cidr.clone(),
                zone: r.zone.clone(),
                default_criticality: r.default_criticality,
                description: r.description.clone(),
            });
        }
        self.range_parent = vec![NONE; self.ranges.len()];
        self.v4 = PrefixTable::build(&v4_blocks, &mut self.range_parent);
        self.v6 = PrefixTable::build(&v6_blocks, &mut self.range_parent);
    }

    fn intern(&mut self, zone: &str) -> ZoneId {
        if let Some(&id) = self.zone_ids.get(zone) {
            return id;
        }
        let id = ZoneId::try_from(self.zone_names.len()).unwrap_or(ZoneId::MAX);
        self.zone_names.push(zone.to_owned());
        self.zone_ids.insert(zone.to_owned(), id);
        id
    }

    /// The tenant whose assets these are.
    #[must_use]
    pub const fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The number of assets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The number of ranges (those whose CIDR parsed).
    #[must_use]
    pub fn ranges_len(&self) -> usize {
        self.ranges.len()
    }

    /// The assets, in no particular order.
    pub fn assets(&self) -> impl Iterator<Item = &AssetProfile> {
        self.slots.iter().flatten()
    }

    /// The ranges, by address.
    #[must_use]
    pub fn ranges(&self) -> &[RangeProfile] {
        &self.ranges
    }

    /// An asset by id.
    #[must_use]
    pub fn get(&self, id: AssetId) -> Option<&AssetProfile> {
        self.slot(*self.by_id.get(&id)?)
    }

    fn slot(&self, slot: u32) -> Option<&AssetProfile> {
        self.slots.get(usize::try_from(slot).ok()?)?.as_ref()
    }

    fn range(&self, i: u32) -> Option<&RangeProfile> {
        self.ranges.get(usize::try_from(i).ok()?)
    }

    fn range_zone(&self, i: u32) -> ZoneId {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.range_zone.get(i))
            .copied()
            .unwrap_or(DEFAULT_ZONE_ID)
    }

    /// The most specific range containing `ip` (already canonical).
    fn innermost(&self, ip: IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(v4) => self.v4.get(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.get(u128::from(v6)),
        }
    }

    /// The zone of an address: that of the most specific range containing
    /// it, else [`DEFAULT_ZONE`].
    #[must_use]
    pub fn zone_of(&self, ip: IpAddr) -> &str {
        let zone = self
            .innermost(ip.to_canonical())
            .map_or(DEFAULT_ZONE_ID, |r| self.range_zone(r));
        self.zone_names
            .get(usize::try_from(zone).unwrap_or(usize::MAX))
            .map_or(DEFAULT_ZONE, String::as_str)
    }

    /// What the index knows about `ip` in its zone (see the module
    /// documentation). IPv4-mapped IPv6 addresses are looked up as IPv4.
    #[must_use]
    pub fn lookup(&self, ip: IpAddr) -> Lookup<'_> {
        let ip = ip.to_canonical();
        let range = self.innermost(ip);
        let zone = range.map_or(DEFAULT_ZONE_ID, |r| self.range_zone(r));
        self.answer(ip, zone, range)
    }

    /// What the index knows about `ip` in `zone`: the asset with that
    /// address in that zone, and the most specific range of that zone
    /// containing the address.
    #[must_use]
    pub fn lookup_in_zone(&self, ip: IpAddr, zone: &str) -> Lookup<'_> {
        let ip = ip.to_canonical();
        let Some(&zone) = self.zone_ids.get(zone) else {
            return Lookup::Unknown;
        };
        let mut range = self.innermost(ip);
        while let Some(r) = range {
            if self.range_zone(r) == zone {
                break;
            }
            range = usize::try_from(r)
                .ok()
                .and_then(|i| self.range_parent.get(i))
                .copied()
                .filter(|&p| p != NONE);
        }
        self.answer(ip, zone, range)
    }

    fn answer(&self, ip: IpAddr, zone: ZoneId, range: Option<u32>) -> Lookup<'_> {
        let range = range.and_then(|r| self.range(r));
        match self
            .by_addr
            .get(&(zone, ip))
            .and_then(|&slot| self.slot(slot))
        {
            Some(asset) => Lookup::Asset { asset, range },
            None => range.map_or(Lookup::Unknown, Lookup::Range),
        }
    }

    /// Adds an asset, or replaces the one with its id. Returns `false`, and
    /// changes nothing, for an asset of another tenant.
    #[must_use = "an asset of another tenant is not added"]
    pub fn upsert(&mut self, asset: AssetProfile) -> bool {
        if asset.tenant_id != self.tenant {
            return false;
        }
        let slot = if let Some(&slot) = self.by_id.get(&asset.id) {
            self.unlink(slot);
            slot
        } else {
            let slot = self.free.pop().unwrap_or_else(|| {
                let n = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(None);
                n
            });
            self.by_id.insert(asset.id, slot);
            slot
        };
        let zone = self.intern(&asset.zone);
        let keys = Self::keys(&asset, zone);
        if let Some(s) = usize::try_from(slot)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
        {
            *s = Some(asset);
        }
        for key in keys {
            self.claim(key, slot);
        }
        true
    }

    /// Removes an asset; returns it if it was there.
    pub fn remove(&mut self, id: AssetId) -> Option<AssetProfile> {
        let slot = self.by_id.remove(&id)?;
        self.unlink(slot);
        self.free.push(slot);
        self.slots
            .get_mut(usize::try_from(slot).ok()?)
            .and_then(Option::take)
    }

    /// The distinct (zone, canonical address) keys of an asset.
    fn keys(asset: &AssetProfile, zone: ZoneId) -> Vec<(ZoneId, IpAddr)> {
        let mut keys: Vec<(ZoneId, IpAddr)> = asset
            .ips
            .iter()
            .map(|ip| (zone, ip.to_canonical()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Withdraws the claims of the asset in `slot`.
    fn unlink(&mut self, slot: u32) {
        let Some(asset) = self.slot(slot) else { return };
        let Some(&zone) = self.zone_ids.get(&asset.zone) else {
            return;
        };
        for key in Self::keys(asset, zone) {
            self.release(key, slot);
        }
    }

    fn claim(&mut self, key: (ZoneId, IpAddr), slot: u32) {
        let Some(&current) = self.by_addr.get(&key) else {
            self.by_addr.insert(key, slot);
            return;
        };
        if current == slot {
            return;
        }
        let claimants = self.contested.entry(key).or_insert_with(|| vec![current]);
        claimants.push(slot);
        let winner = best(&self.slots, claimants);
        self.by_addr.insert(key, winner);
    }

    fn release(&mut self, key: (ZoneId, IpAddr), slot: u32) {
        if let Some(claimants) = self.contested.get_mut(&key) {
            claimants.retain(|&s| s != slot);
            let winner = best(&self.slots, claimants);
            if claimants.len() <= 1 {
                self.contested.remove(&key);
            }
            if winner == NONE {
                self.by_addr.remove(&key);
            } else {
                self.by_addr.insert(key, winner);
            }
        } else if self.by_addr.get(&key) == Some(&slot) {
            self.by_addr.remove(&key);
        }
    }
}

/// The winning slot among claimants (`NONE` for none).
fn best(slots: &[Option<AssetProfile>], claimants: &[u32]) -> u32 {
    claimants
        .iter()
        .copied()
        .filter_map(|s| {
            let a = slots.get(usize::try_from(s).ok()?)?.as_ref()?;
            Some((a.rank(), s))
        })
        .max()
        .map_or(NONE, |(_, s)| s)
}

#[cfg(test)]
mod tests;

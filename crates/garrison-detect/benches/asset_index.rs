//! `AssetIndex` with 100,000 assets and 10,000 ranges: lookups by address
//! (target: at most 1 µs each) and the build.
//!
//! Run with `cargo bench -p garrison-detect`; the figures go to
//! `docs/benchmarks.md`.
//!
//! The ranges are what a mid-sized MSSP customer has: sites as /16s of
//! RFC 1918 space, /24 subnets in them, /28 segments (PCI, management)
//! inside some subnets, and IPv6 /48s with /64s. The assets sit in the
//! subnets, 5% of them IPv6-only in the /64s, 1% outside every range.
//! Each benchmark cycles through 4,096 different addresses picked at
//! random, so caches help no more than they would with real traffic.

use garrison_core::rng::Rng;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use garrison_core::asset::{Criticality, NetworkRange};
use garrison_core::{AssetId, RangeId, TenantId, Timestamp};
use garrison_detect::{AssetIndex, AssetProfile, Lookup};

const ASSETS: usize = 100_000;
const PROBES: usize = 4096;

fn range(tenant: TenantId, cidr: String, zone: String, crit: Option<Criticality>) -> NetworkRange {
    NetworkRange {
        id: RangeId::new(),
        tenant_id: tenant,
        cidr,
        zone,
        default_criticality: crit,
        description: None,
    }
}

struct Data {
    tenant: TenantId,
    ranges: Vec<NetworkRange>,
    assets: Vec<AssetProfile>,
    /// Addresses of assets.
    asset_ips: Vec<IpAddr>,
    /// Addresses in a range that no asset has.
    range_ips: Vec<IpAddr>,
    /// Addresses in no range and of no asset.
    unknown_ips: Vec<IpAddr>,
}

fn data() -> Data {
    let tenant = TenantId::new();
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    let mut ranges = Vec::new();
    // Sites: 10.0-99.0.0/16, 172.16-31.0.0/16 and 192.168.0.0/16 (117).
    let mut sites: Vec<[u8; 2]> = (0..100).map(|b| [10, b]).collect();
    sites.extend((16..32).map(|b| [172, b]));
    sites.push([192, 168]);
    for (i, s) in sites.iter().enumerate() {
        ranges.push(range(
            tenant,
            format!("{}.{}.0.0/16", s[0], s[1]),
            format!("site-{i}"),
            Some(Criticality::Low),
        ));
    }
    // Subnets: 6,000 /24s spread over the sites, most in their site's
    // zone, some in a DMZ of their own.
    let mut subnets: Vec<([u8; 3], String)> = Vec::new();
    while subnets.len() < 6000 {
        let i = rng.index(sites.len());
        let s = sites[i];
        let c = u8::try_from(rng.below(256)).expect("byte");
        if subnets.iter().any(|(n, _)| *n == [s[0], s[1], c]) {
            continue;
        }
        let zone = if rng.below(10) == 0 {
            format!("dmz-{i}")
        } else {
            format!("site-{i}")
        };
        subnets.push(([s[0], s[1], c], zone));
    }
    for (n, zone) in &subnets {
        ranges.push(range(
            tenant,
            format!("{}.{}.{}.0/24", n[0], n[1], n[2]),
            zone.clone(),
            Some(Criticality::Medium),
        ));
    }
    // Segments: 3,843 /28s inside subnets (PCI and management).
    let mut segments = 0;
    let mut segment_of = std::collections::HashSet::new();
    while segments < 3843 {
        let (n, zone) = rng.pick(&subnets).clone();
        let d = u8::try_from(rng.below(16) * 16).expect("byte");
        if !segment_of.insert((n, d)) {
            continue;
        }
        ranges.push(range(
            tenant,
            format!("{}.{}.{}.{d}/28", n[0], n[1], n[2]),
            format!("pci-{zone}"),
            Some(Criticality::Critical),
        ));
        segments += 1;
    }
    // IPv6: 8 /48s with 4 /64s each.
    for site in 0..8_u16 {
        ranges.push(range(
            tenant,
            format!("2001:db8:{site:x}::/48"),
            format!("site-{site}"),
            None,
        ));
        for net in 0..4_u16 {
            ranges.push(range(
                tenant,
                format!("2001:db8:{site:x}:{net:x}::/64"),
                format!("site-{site}"),
                Some(Criticality::High),
            ));
        }
    }
    assert_eq!(ranges.len(), 10_000);

    // Assets, in their zone as the importer would place them.
    let zones = AssetIndex::build(tenant, Vec::new(), &ranges);
    let mut taken = std::collections::HashSet::new();
    let mut assets = Vec::with_capacity(ASSETS);
    let mut asset_ips = Vec::new();
    while assets.len() < ASSETS {
        let ip = if rng.below(20) == 0 {
            // IPv6-only hosts in the /64s.
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                u16::try_from(rng.below(8)).expect("small"),
                u16::try_from(rng.below(4)).expect("small"),
                0,
                0,
                u16::try_from(rng.below(65_536)).expect("small"),
                u16::try_from(rng.below(65_536)).expect("small"),
            ))
        } else if rng.below(100) == 0 {
            // Outside every range: CGNAT space.
            IpAddr::V4(Ipv4Addr::new(
                100,
                64 + u8::try_from(rng.below(64)).expect("byte"),
                u8::try_from(rng.below(256)).expect("byte"),
                u8::try_from(rng.below(254) + 1).expect("byte"),
            ))
        } else {
            let (n, _) = rng.pick(&subnets);
            IpAddr::V4(Ipv4Addr::new(
                n[0],
                n[1],
                n[2],
                u8::try_from(rng.below(254) + 1).expect("byte"),
            ))
        };
        if !taken.insert(ip) {
            continue;
        }
        let n = assets.len();
        assets.push(AssetProfile {
            id: AssetId::new(),
            tenant_id: tenant,
            name: format!("host-{n}.corp.example"),
            zone: zones.zone_of(ip).to_owned(),
            ips: vec![ip],
            asset_type: None,
            criticality: [None, Some(Criticality::High)][n % 2],
            sensitivity: None,
            regulations: std::collections::BTreeSet::new(),
            internet_exposed: Some(n % 7 == 0),
            tags: ["prod".to_owned()].into(),
            owner: Some("Ops".to_owned()),
            risk_score: 10.0,
            open_findings: 2,
            kev_findings: 0,
            exposures: Vec::new(),
            last_seen: Timestamp::from_millis(1_800_000_000_000 + i64::try_from(n).expect("fits")),
        });
        asset_ips.push(ip);
    }
    let probe = |rng: &mut Rng, from: &[IpAddr]| -> Vec<IpAddr> {
        (0..PROBES).map(|_| *rng.pick(from)).collect()
    };
    let asset_ips = probe(&mut rng, &asset_ips);
    let mut range_ips = Vec::new();
    while range_ips.len() < PROBES {
        let (n, _) = rng.pick(&subnets);
        let a = IpAddr::V4(Ipv4Addr::new(
            n[0],
            n[1],
            n[2],
            u8::try_from(rng.below(256)).expect("byte"),
        ));
        if !taken.contains(&a) {
            range_ips.push(a);
        }
    }
    let unknown_ips: Vec<IpAddr> = (0..PROBES)
        .map(|i| {
            if i % 8 == 0 {
                IpAddr::V6(Ipv6Addr::new(
                    0x2a00,
                    u16::try_from(rng.below(65_536)).expect("small"),
                    0,
                    0,
                    0,
                    0,
                    0,
                    1,
                ))
            } else {
                // Public IPv4 space (no range covers 11.0.0.0 - 99.255.255.255).
                IpAddr::V4(Ipv4Addr::from(
                    u32::try_from(rng.below(89 << 24) + (11 << 24)).expect("fits"),
                ))
            }
        })
        .collect();
    Data {
        tenant,
        ranges,
        assets,
        asset_ips,
        range_ips,
        unknown_ips,
    }
}

fn lookups(c: &mut Criterion) {
    let d = data();
    let index = AssetIndex::build(d.tenant, d.assets.iter().cloned(), &d.ranges);
    assert_eq!((index.len(), index.ranges_len()), (ASSETS, 10_000));
    // The probes are what they claim to be.
    assert!(
        d.asset_ips
            .iter()
            .all(|ip| index.lookup(*ip).asset().is_some())
    );
    assert!(
        d.range_ips
            .iter()
            .all(|ip| matches!(index.lookup(*ip), Lookup::Range(_)))
    );
    assert!(
        d.unknown_ips
            .iter()
            .all(|ip| index.lookup(*ip) == Lookup::Unknown)
    );

    let mut g = c.benchmark_group("asset_index_lookup");
    for (name, probes) in [
        ("asset_ip", &d.asset_ips),
        ("range_only_ip", &d.range_ips),
        ("unknown_ip", &d.unknown_ips),
    ] {
        g.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % PROBES;
                black_box(index.lookup(black_box(probes[i])));
            });
        });
    }
    g.bench_function("asset_ip_in_zone", |b| {
        let zoned: Vec<(IpAddr, String)> = d
            .asset_ips
            .iter()
            .map(|ip| (*ip, index.zone_of(*ip).to_owned()))
            .collect();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % PROBES;
            let (ip, zone) = &zoned[i];
            black_box(index.lookup_in_zone(black_box(*ip), black_box(zone)));
        });
    });
    g.finish();

    let mut g = c.benchmark_group("asset_index_build");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("100k_assets_10k_ranges", |b| {
        b.iter_batched(
            || d.assets.clone(),
            |assets| AssetIndex::build(d.tenant, assets, black_box(&d.ranges)),
            BatchSize::LargeInput,
        );
    });
    g.bench_function("upsert_existing", |b| {
        let mut index = index.clone();
        let mut i = 0;
        b.iter_batched(
            || {
                i = (i + 7919) % ASSETS;
                d.assets[i].clone()
            },
            |a| {
                let _ = index.upsert(a);
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);

use super::*;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + ms)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn asset(tenant: TenantId, name: &str, ips: &[&str], zone: &str) -> AssetProfile {
    AssetProfile {
        id: AssetId::new(),
        tenant_id: tenant,
        name: name.to_owned(),
        zone: zone.to_owned(),
        ips: ips.iter().map(|s| ip(s)).collect(),
        asset_type: None,
        criticality: Some(Criticality::High),
        sensitivity: None,
        regulations: BTreeSet::new(),
        internet_exposed: None,
        tags: BTreeSet::new(),
        owner: None,
        risk_score: 0.0,
        open_findings: 0,
        kev_findings: 0,
        exposures: Vec::new(),
        last_seen: t(0),
    }
}

fn range(tenant: TenantId, cidr: &str, zone: &str, crit: Option<Criticality>) -> NetworkRange {
    NetworkRange {
        id: RangeId::new(),
        tenant_id: tenant,
        cidr: cidr.to_owned(),
        zone: zone.to_owned(),
        default_criticality: crit,
        description: None,
    }
}

fn name<'a>(l: &Lookup<'a>) -> Option<&'a str> {
    l.asset().map(|a| a.name.as_str())
}

fn cidr<'a>(l: &Lookup<'a>) -> Option<&'a str> {
    l.range().map(|r| r.cidr.as_str())
}

#[test]
fn an_empty_index_knows_nothing() {
    let tenant = TenantId::new();
    let index = AssetIndex::build(tenant, Vec::new(), &[]);
    assert_eq!((index.len(), index.ranges_len()), (0, 0));
    assert!(index.is_empty());
    assert_eq!(index.tenant(), tenant);
    for a in [
        "10.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "::",
        "2001:db8::1",
    ] {
        assert_eq!(index.lookup(ip(a)), Lookup::Unknown, "{a}");
        assert_eq!(index.zone_of(ip(a)), DEFAULT_ZONE);
    }
    assert_eq!(
        index.lookup_in_zone(ip("10.0.0.1"), "nowhere"),
        Lookup::Unknown
    );
}

#[test]
fn nested_ranges_the_most_specific_decides() {
    let x = TenantId::new();
    let ranges = [
        range(x, "10.0.0.0/8", "corp", Some(Criticality::Low)),
        range(x, "10.1.0.0/16", "dc1", Some(Criticality::Medium)),
        range(x, "10.1.2.0/24", "dc1", Some(Criticality::High)),
        range(x, "10.1.2.16/28", "pci", Some(Criticality::Critical)),
    ];
    let mut cde = asset(x, "cde", &["10.1.2.20"], "pci");
    cde.criticality = None;
    let web = asset(x, "web", &["10.1.2.5"], "dc1");
    let index = AssetIndex::build(x, [cde, web], &ranges);
    assert_eq!(index.ranges_len(), 4);

    let l = index.lookup(ip("10.1.2.20"));
    assert_eq!((name(&l), cidr(&l)), (Some("cde"), Some("10.1.2.16/28")));
    assert_eq!(
        l.criticality(),
        Some(Criticality::Critical),
        "no criticality of its own: the range's"
    );
    let l = index.lookup(ip("10.1.2.5"));
    assert_eq!((name(&l), cidr(&l)), (Some("web"), Some("10.1.2.0/24")));
    assert_eq!(l.criticality(), Some(Criticality::High));
    assert_eq!(cidr(&index.lookup(ip("10.1.2.31"))), Some("10.1.2.16/28"));
    assert_eq!(cidr(&index.lookup(ip("10.1.2.32"))), Some("10.1.2.0/24"));
    assert_eq!(cidr(&index.lookup(ip("10.1.3.0"))), Some("10.1.0.0/16"));
    assert_eq!(cidr(&index.lookup(ip("10.2.0.0"))), Some("10.0.0.0/8"));
    assert_eq!(index.zone_of(ip("10.1.2.17")), "pci");
    assert_eq!(index.zone_of(ip("10.200.0.1")), "corp");
    assert_eq!(index.zone_of(ip("11.0.0.1")), DEFAULT_ZONE);

    // In a zone the caller names, the most specific range of that zone.
    let l = index.lookup_in_zone(ip("10.1.2.20"), "dc1");
    assert_eq!((name(&l), cidr(&l)), (None, Some("10.1.2.0/24")));
    let l = index.lookup_in_zone(ip("10.1.2.20"), "corp");
    assert_eq!(cidr(&l), Some("10.0.0.0/8"));
    let l = index.lookup_in_zone(ip("10.1.2.20"), "pci");
    assert_eq!((name(&l), cidr(&l)), (Some("cde"), Some("10.1.2.16/28")));
    assert_eq!(index.lookup_in_zone(ip("11.0.0.1"), "pci"), Lookup::Unknown);
}

#[test]
fn the_same_address_in_two_zones_is_two_assets() {
    let x = TenantId::new();
    let ranges = [
        range(x, "192.168.1.0/24", "paris", None),
        range(x, "192.168.1.0/24", "lyon", None),
    ];
    // Two ranges with the same CIDR (the store refuses them; a caller may
    // not): the one with the greater id is the more specific.
    let winner = if ranges[0].id > ranges[1].id {
        "paris"
    } else {
        "lyon"
    };
    let paris = asset(x, "paris-fw", &["192.168.1.1"], "paris");
    let lyon = asset(x, "lyon-fw", &["192.168.1.1"], "lyon");
    let home = asset(x, "home", &["192.168.1.1"], "default");
    let index = AssetIndex::build(x, [paris, lyon, home], &ranges);
    assert_eq!(index.len(), 3);
    assert_eq!(
        name(&index.lookup_in_zone(ip("192.168.1.1"), "paris")),
        Some("paris-fw")
    );
    assert_eq!(
        name(&index.lookup_in_zone(ip("192.168.1.1"), "lyon")),
        Some("lyon-fw")
    );
    assert_eq!(
        name(&index.lookup_in_zone(ip("192.168.1.1"), DEFAULT_ZONE)),
        Some("home")
    );
    assert_eq!(
        index
            .lookup(ip("192.168.1.1"))
            .asset()
            .map(|a| a.zone.as_str()),
        Some(winner)
    );
    assert_eq!(index.zone_of(ip("192.168.1.1")), winner);
}

#[test]
fn ipv6_ranges_and_assets_and_mapped_addresses() {
    let x = TenantId::new();
    let ranges = [
        range(x, "2001:db8::/32", "v6", Some(Criticality::Low)),
        range(x, "2001:db8:1::/48", "v6-dc", Some(Criticality::High)),
        range(x, "10.0.0.0/8", "v4", None),
        range(x, "::ffff:172.16.0.0/108", "mapped", None),
    ];
    let a = asset(x, "dual", &["2001:db8:1::10", "::ffff:10.0.0.10"], "v6-dc");
    let b = asset(x, "v4", &["10.0.0.10"], "v4");
    let index = AssetIndex::build(x, [a, b], &ranges);
    let l = index.lookup(ip("2001:db8:1::10"));
    assert_eq!(
        (name(&l), cidr(&l)),
        (Some("dual"), Some("2001:db8:1::/48"))
    );
    assert_eq!(
        cidr(&index.lookup(ip("2001:db8:2::1"))),
        Some("2001:db8::/32")
    );
    assert_eq!(index.lookup(ip("2001:db9::1")), Lookup::Unknown);
    assert_eq!(index.lookup(ip("::")), Lookup::Unknown);
    assert_eq!(
        index.lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        Lookup::Unknown
    );
    // A mapped address is the IPv4 address, wherever it is written.
    assert_eq!(name(&index.lookup(ip("::ffff:10.0.0.10"))), Some("v4"));
    assert_eq!(
        name(&index.lookup_in_zone(ip("10.0.0.10"), "v6-dc")),
        Some("dual")
    );
    assert_eq!(index.zone_of(ip("172.16.5.5")), "mapped");
    assert_eq!(index.zone_of(ip("::ffff:172.16.5.5")), "mapped");
}

#[test]
fn an_asset_outside_every_range_is_in_the_default_zone() {
    let x = TenantId::new();
    let lone = asset(x, "lone", &["203.0.113.7"], DEFAULT_ZONE);
    let elsewhere = asset(x, "listed", &["203.0.113.8"], "branch");
    let index = AssetIndex::build(
        x,
        [lone, elsewhere],
        &[range(x, "10.0.0.0/8", "corp", None)],
    );
    let l = index.lookup(ip("203.0.113.7"));
    assert_eq!((name(&l), cidr(&l)), (Some("lone"), None));
    assert_eq!(l.criticality(), Some(Criticality::High));
    // An asset placed in a zone by its import, not by a range, is found in
    // that zone only.
    assert_eq!(index.lookup(ip("203.0.113.8")), Lookup::Unknown);
    assert_eq!(
        name(&index.lookup_in_zone(ip("203.0.113.8"), "branch")),
        Some("listed")
    );
}

#[test]
fn a_range_without_an_asset_and_an_unknown_address() {
    let x = TenantId::new();
    let index = AssetIndex::build(
        x,
        [asset(x, "web", &["10.0.0.5"], "corp")],
        &[range(x, "10.0.0.0/24", "corp", Some(Criticality::Medium))],
    );
    let l = index.lookup(ip("10.0.0.6"));
    assert!(matches!(l, Lookup::Range(r) if r.zone == "corp"), "{l:?}");
    assert_eq!(l.asset(), None);
    assert_eq!(l.criticality(), Some(Criticality::Medium));
    let l = index.lookup(ip("10.0.1.6"));
    assert_eq!(l, Lookup::Unknown);
    assert_eq!((l.asset(), l.range(), l.criticality()), (None, None, None));
}

#[test]
fn two_assets_on_one_address_the_latest_seen_wins_whatever_the_order() {
    let x = TenantId::new();
    let mut old = asset(x, "old", &["10.0.0.9"], DEFAULT_ZONE);
    old.last_seen = t(1);
    let mut new = asset(x, "new", &["10.0.0.9", "10.0.0.10"], DEFAULT_ZONE);
    new.last_seen = t(2);
    for order in [[old.clone(), new.clone()], [new.clone(), old.clone()]] {
        let index = AssetIndex::build(x, order, &[]);
        assert_eq!(name(&index.lookup(ip("10.0.0.9"))), Some("new"));
    }
    // Equally recent: the greater id.
    let mut a = asset(x, "a", &["10.0.0.9"], DEFAULT_ZONE);
    let mut b = asset(x, "b", &["10.0.0.9"], DEFAULT_ZONE);
    a.last_seen = t(5);
    b.last_seen = t(5);
    let greater = if a.id > b.id { "a" } else { "b" };
    for order in [[a.clone(), b.clone()], [b.clone(), a.clone()]] {
        let index = AssetIndex::build(x, order, &[]);
        assert_eq!(name(&index.lookup(ip("10.0.0.9"))), Some(greater));
    }

    // The others stay, and take over when the winner goes or moves.
    let mut index = AssetIndex::build(x, [old.clone(), new.clone()], &[]);
    assert_eq!(index.remove(new.id).map(|a| a.name), Some("new".to_owned()));
    assert_eq!(name(&index.lookup(ip("10.0.0.9"))), Some("old"));
    assert_eq!(index.lookup(ip("10.0.0.10")), Lookup::Unknown);
    assert!(index.upsert(new.clone()));
    assert_eq!(name(&index.lookup(ip("10.0.0.9"))), Some("new"));
    let mut moved = new.clone();
    moved.ips = vec![ip("10.0.0.10")];
    assert!(index.upsert(moved));
    assert_eq!(name(&index.lookup(ip("10.0.0.9"))), Some("old"));
    assert_eq!(name(&index.lookup(ip("10.0.0.10"))), Some("new"));
    // Seen again later, the old one wins the address back.
    let mut back = old.clone();
    back.ips = vec![ip("10.0.0.10")];
    back.last_seen = t(3);
    assert!(index.upsert(back));
    assert_eq!(index.lookup(ip("10.0.0.9")), Lookup::Unknown);
    assert_eq!(name(&index.lookup(ip("10.0.0.10"))), Some("old"));
    assert_eq!(index.remove(old.id).map(|a| a.name), Some("old".to_owned()));
    assert_eq!(name(&index.lookup(ip("10.0.0.10"))), Some("new"));
    assert!(index.contested.is_empty(), "no claims left behind");
    assert_eq!(index.len(), 1);
}

#[test]
fn upsert_and_remove_keep_the_index_current() {
    let x = TenantId::new();
    let web = asset(x, "web", &["10.0.0.5", "10.0.0.5"], "corp");
    let mut index = AssetIndex::build(x, [web.clone()], &[range(x, "10.0.0.0/24", "corp", None)]);
    let mut edited = web.clone();
    edited.criticality = Some(Criticality::Low);
    edited.zone = "lab".to_owned();
    assert!(index.upsert(edited));
    assert_eq!(index.len(), 1);
    assert!(
        matches!(index.lookup(ip("10.0.0.5")), Lookup::Range(_)),
        "moved out of corp"
    );
    let l = index.lookup_in_zone(ip("10.0.0.5"), "lab");
    assert_eq!(
        l.asset().and_then(|a| a.criticality),
        Some(Criticality::Low)
    );
    assert_eq!(index.get(web.id).map(|a| a.zone.as_str()), Some("lab"));
    assert!(index.remove(web.id).is_some());
    assert!(index.remove(web.id).is_none());
    assert!(index.is_empty());
    assert_eq!(index.lookup_in_zone(ip("10.0.0.5"), "lab"), Lookup::Unknown);
    // The freed slot is reused.
    assert!(index.upsert(asset(x, "next", &["10.0.0.7"], "corp")));
    assert_eq!(index.slots.len(), 1);
    assert_eq!(name(&index.lookup(ip("10.0.0.7"))), Some("next"));
    assert_eq!(index.assets().count(), 1);
}

#[test]
fn another_tenants_assets_and_ranges_are_left_out() {
    let x = TenantId::new();
    let y = TenantId::new();
    let mut index = AssetIndex::build(
        x,
        [asset(y, "theirs", &["10.0.0.5"], DEFAULT_ZONE)],
        &[
            range(y, "10.0.0.0/8", "theirs", None),
            range(x, "bogus", "x", None),
        ],
    );
    assert_eq!((index.len(), index.ranges_len()), (0, 0));
    assert_eq!(index.lookup(ip("10.0.0.5")), Lookup::Unknown);
    assert!(!index.upsert(asset(y, "theirs", &["10.0.0.6"], DEFAULT_ZONE)));
    assert!(index.is_empty());
}

#[test]
fn cidrs_parse_as_the_store_writes_them() {
    assert_eq!(parse_cidr("10.1.0.0/16"), Some((ip("10.1.0.0"), 16)));
    assert_eq!(parse_cidr("10.1.2.3"), Some((ip("10.1.2.3"), 32)));
    assert_eq!(parse_cidr("2001:db8::/32"), Some((ip("2001:db8::"), 32)));
    assert_eq!(parse_cidr("::ffff:10.0.0.0/104"), Some((ip("10.0.0.0"), 8)));
    for bad in [
        "10.0.0.0/33",
        "::/129",
        "10.0.0/8",
        "x/8",
        "10.0.0.0/-1",
        "",
    ] {
        assert_eq!(parse_cidr(bad), None, "{bad}");
    }
}

#[test]
fn profiles_come_from_assets() {
    let x = TenantId::new();
    let a = Asset {
        id: AssetId::new(),
        tenant_id: x,
        hostname: Some("web".to_owned()),
        fqdn: Some("web.corp.test".to_owned()),
        ips: vec![ip("10.0.0.5")],
        macs: Vec::new(),
        zone: "corp".to_owned(),
        os: None,
        asset_type: Some(AssetType::Server),
        owner: Some("Ops".to_owned()),
        business_unit: None,
        location: None,
        services: Vec::new(),
        software: Vec::new(),
        tags: ["prod".to_owned()].into(),
        criticality: Some(Criticality::Critical),
        sensitivity: Some(Sensitivity::Restricted),
        regulations: ["PCI-DSS".to_owned()].into(),
        internet_exposed: Some(true),
        sources: std::collections::BTreeMap::new(),
        first_seen: t(1),
        last_seen: t(2),
        created_at: t(1),
        updated_at: t(2),
    };
    let p = AssetProfile::from_asset(&a).with_risk(42.5, 3, 1);
    assert_eq!(p.name, "web.corp.test");
    assert_eq!(
        (p.risk_score, p.open_findings, p.kev_findings),
        (42.5, 3, 1)
    );
    assert_eq!(p.last_seen, t(2));
    assert_eq!(p.sensitivity, Some(Sensitivity::Restricted));
    assert!(p.tags.contains("prod") && p.regulations.contains("PCI-DSS"));
}

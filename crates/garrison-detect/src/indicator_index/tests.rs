use super::*;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + ms)
}

fn ind(scope: IndicatorScope, raw: &str) -> Indicator {
    let (kind, value) = IndicatorKind::detect(raw).expect("valid indicator");
    ind_of(scope, kind, &value)
}

fn ind_of(scope: IndicatorScope, kind: IndicatorKind, value: &str) -> Indicator {
    Indicator {
        id: IndicatorId::new(),
        scope,
        kind,
        value: value.to_owned(),
        confidence: 70,
        valid_from: t(0),
        valid_until: None,
        source: "test".into(),
        tlp: Tlp::Green,
        tags: vec![],
        created_at: t(0),
        updated_at: t(0),
        revoked: false,
    }
}

fn fields(pairs: &[(&'static str, Value)]) -> Fields {
    let mut f = Fields::new();
    for (n, v) in pairs {
        f.set(*n, v.clone());
    }
    f
}

fn ip(s: &str) -> Value {
    Value::Ip(s.parse().expect("ip"))
}

fn hits(index: &IndicatorIndex, tenant: TenantId, f: &Fields) -> Vec<IndicatorHit> {
    let mut out = Vec::new();
    let n = index.matches(tenant, f, &mut out);
    assert_eq!(n, out.len());
    out
}

fn ids(h: &[IndicatorHit]) -> Vec<IndicatorId> {
    let mut v: Vec<_> = h.iter().map(|h| h.indicator).collect();
    v.sort();
    v
}

const M: IndicatorScope = IndicatorScope::Mssp;

#[test]
fn exact_addresses_and_cidr_containment() {
    let tenant = TenantId::new();
    let a = ind(M, "192.0.2.7");
    let net = ind(M, "198.51.100.0/24");
    let wide = ind(M, "198.51.0.0/16");
    let v6 = ind(M, "2001:db8::/32");
    let v6host = ind(M, "2001:db8::1");
    let index = IndicatorIndex::build([&a, &net, &wide, &v6, &v6host], t(1));
    assert_eq!(index.len(), 5);

    let h = hits(&index, tenant, &fields(&[("source.ip", ip("192.0.2.7"))]));
    assert_eq!(ids(&h), ids(&[hit_of(&a)]));
    assert_eq!(h[0].field, "source.ip");
    assert_eq!(h[0].kind, IndicatorKind::Ipv4);
    assert_eq!((h[0].confidence, h[0].tlp), (70, Tlp::Green));

    // Nested networks: both contain the address, the most specific first.
    let h = hits(
        &index,
        tenant,
        &fields(&[("destination.ip", ip("198.51.100.9"))]),
    );
    assert_eq!(
        h.iter().map(|h| h.indicator).collect::<Vec<_>>(),
        [net.id, wide.id]
    );
    let h = hits(
        &index,
        tenant,
        &fields(&[("destination.ip", ip("198.51.7.9"))]),
    );
    assert_eq!(ids(&h), [wide.id]);
    assert!(
        hits(
            &index,
            tenant,
            &fields(&[("destination.ip", ip("198.52.0.1"))])
        )
        .is_empty()
    );

    // An address given as text, an IPv4-mapped IPv6 address, IPv6.
    let h = hits(
        &index,
        tenant,
        &fields(&[("client.ip", Value::from("192.0.2.7"))]),
    );
    assert_eq!(h.len(), 1);
    let h = hits(
        &index,
        tenant,
        &fields(&[("server.ip", ip("::ffff:192.0.2.7"))]),
    );
    assert_eq!(h.len(), 1);
    let h = hits(&index, tenant, &fields(&[("source.ip", ip("2001:db8::1"))]));
    assert_eq!(ids(&h), ids(&[hit_of(&v6), hit_of(&v6host)]));
    // Lists (resolved addresses) are looked at element by element.
    let h = hits(
        &index,
        tenant,
        &fields(&[(
            "dns.resolved_ip",
            Value::List(vec![ip("10.0.0.1"), ip("192.0.2.7")]),
        )]),
    );
    assert_eq!(h.len(), 1);
    // Fields that are not addresses are not looked at as addresses.
    assert!(
        hits(
            &index,
            tenant,
            &fields(&[("user.name", Value::from("192.0.2.7"))])
        )
        .is_empty()
    );
}

fn hit_of(i: &Indicator) -> IndicatorHit {
    IndicatorHit {
        indicator: i.id,
        kind: i.kind,
        scope: i.scope,
        confidence: i.confidence,
        tlp: i.tlp,
        field: String::new(),
    }
}

#[test]
fn domains_match_themselves_and_their_subdomains() {
    let tenant = TenantId::new();
    let d = ind(M, "Evil.Example");
    let index = IndicatorIndex::build([&d], t(1));
    for yes in [
        "evil.example",
        "EVIL.example.",
        "a.evil.example",
        "a.b.c.evil.example",
    ] {
        let h = hits(
            &index,
            tenant,
            &fields(&[("dns.question.name", Value::from(yes))]),
        );
        assert_eq!(ids(&h), [d.id], "{yes}");
    }
    for no in ["notevil.example", "evil.example.com", "example", "evil", ""] {
        assert!(
            hits(
                &index,
                tenant,
                &fields(&[("dns.question.name", Value::from(no))])
            )
            .is_empty(),
            "{no}"
        );
    }
    for field in [
        "url.domain",
        "tls.client.server_name",
        "destination.domain",
        "server.domain",
    ] {
        let f = one_field(field, "www.evil.example");
        assert_eq!(hits(&index, tenant, &f).len(), 1, "{field}");
    }
    // The host of a URL.
    let h = hits(
        &index,
        tenant,
        &fields(&[("url.full", Value::from("https://cdn.evil.example/x"))]),
    );
    assert_eq!(ids(&h), [d.id]);
}

fn one_field(name: &str, value: &str) -> Fields {
    let mut f = Fields::new();
    f.set(name.to_owned(), Value::from(value));
    f
}

#[test]
fn urls_hashes_emails_and_fingerprints() {
    let tenant = TenantId::new();
    let url = ind(M, "http://Evil.Example/Drop/x.exe?a=1");
    let md5 = ind(M, "D41D8CD98F00B204E9800998ECF8427E");
    let sha256 = ind(M, &"ab".repeat(32));
    let mail = ind(M, "Boss@Evil.Example");
    let (_, ja3v) = IndicatorKind::Ja3
        .normalize("e7d705a3286e19ea42f587b344ee6865")
        .expect("ja3");
    let ja3 = ind_of(M, IndicatorKind::Ja3, &ja3v);
    let ja4 = ind(M, "t13d1516h2_8daaf6152771_b186095e22b6");
    let index = IndicatorIndex::build([&url, &md5, &sha256, &mail, &ja3, &ja4], t(1));
    let one = |name: &'static str, v: Value| ids(&hits(&index, tenant, &fields(&[(name, v)])));

    assert_eq!(
        one(
            "url.full",
            Value::from("HTTP://evil.example:80/Drop/x.exe?a=1#f")
        ),
        [url.id]
    );
    assert!(
        one(
            "url.full",
            Value::from("http://evil.example/drop/x.exe?a=1")
        )
        .is_empty()
    );
    // A path with its host, as HTTP logs give them.
    let h = hits(
        &index,
        tenant,
        &fields(&[
            ("url.domain", Value::from("EVIL.example")),
            ("url.original", Value::from("/Drop/x.exe?a=1")),
        ]),
    );
    assert_eq!(ids(&h), [url.id]);
    assert_eq!(
        one(
            "file.hash.md5",
            Value::from("d41d8cd98f00b204e9800998ecf8427e")
        ),
        [md5.id]
    );
    assert_eq!(
        one("process.hash.md5", Value::from(md5.value.to_uppercase())),
        [md5.id]
    );
    assert_eq!(
        one("process.parent.hash.sha256", Value::from("AB".repeat(32))),
        [sha256.id]
    );
    // A JA3 of the same digits is not an MD5, nor the other way round.
    assert_eq!(one("tls.client.ja3", Value::from(ja3v.clone())), [ja3.id]);
    assert!(one("file.hash.md5", Value::from(ja3v)).is_empty());
    assert!(one("tls.client.ja3", Value::from(md5.value.clone())).is_empty());
    assert_eq!(
        one(
            "tls.client.ja4",
            Value::from("t13d1516h2_8daaf6152771_b186095e22b6")
        ),
        [ja4.id]
    );
    assert_eq!(
        one("email.from.address", Value::from("Boss@EVIL.example")),
        [mail.id]
    );
    assert_eq!(
        one(
            "email.to.address",
            Value::List(vec!["x@y.example".into(), "Boss@evil.example".into()])
        ),
        [mail.id]
    );
    assert!(one("email.from.address", Value::from("boss@evil.example")).is_empty());
    assert_eq!(
        one("user.email", Value::from("Boss@evil.example")),
        [mail.id]
    );
}

#[test]
fn tenant_indicators_match_only_their_tenant() {
    let (a, b, c) = (TenantId::new(), TenantId::new(), TenantId::new());
    let only_a = ind(IndicatorScope::Tenant(a), "192.0.2.1");
    let only_a_net = ind(IndicatorScope::Tenant(a), "10.0.0.0/8");
    let only_b = ind(IndicatorScope::Tenant(b), "evil.example");
    let everyone = ind(M, "evil.example");
    let index = IndicatorIndex::build([&only_a, &only_a_net, &only_b, &everyone], t(1));
    let f = fields(&[
        ("source.ip", ip("192.0.2.1")),
        ("destination.ip", ip("10.1.1.1")),
        ("dns.question.name", Value::from("x.evil.example")),
    ]);
    assert_eq!(
        ids(&hits(&index, a, &f)),
        ids(&[hit_of(&only_a), hit_of(&only_a_net), hit_of(&everyone)])
    );
    assert_eq!(
        ids(&hits(&index, b, &f)),
        ids(&[hit_of(&only_b), hit_of(&everyone)])
    );
    assert_eq!(ids(&hits(&index, c, &f)), [everyone.id]);
    let h = hits(&index, b, &f);
    let own = h.iter().find(|h| h.indicator == only_b.id).expect("hit");
    assert_eq!(own.scope, IndicatorScope::Tenant(b));
}

#[test]
fn expired_future_and_revoked_indicators_are_not_loaded() {
    let tenant = TenantId::new();
    let mut expired = ind(M, "192.0.2.1");
    expired.valid_until = Some(t(5));
    let mut future = ind(M, "192.0.2.2");
    future.valid_from = t(50);
    let mut revoked = ind(M, "192.0.2.3");
    revoked.revoked = true;
    let live = ind(M, "192.0.2.4");
    let index = IndicatorIndex::build([&expired, &future, &revoked, &live], t(10));
    assert_eq!(index.len(), 1);
    for (addr, n) in [
        ("192.0.2.1", 0),
        ("192.0.2.2", 0),
        ("192.0.2.3", 0),
        ("192.0.2.4", 1),
    ] {
        assert_eq!(
            hits(&index, tenant, &fields(&[("source.ip", ip(addr))])).len(),
            n,
            "{addr}"
        );
    }
}

#[test]
fn one_hit_per_indicator_and_nothing_allocated_on_a_miss() {
    let tenant = TenantId::new();
    let a = ind(M, "192.0.2.7");
    let a2 = ind(M, "192.0.2.7"); // same value from another feed
    let index = IndicatorIndex::build([&a, &a2], t(1));
    let f = fields(&[
        ("source.ip", ip("192.0.2.7")),
        ("client.ip", ip("192.0.2.7")),
    ]);
    let h = hits(&index, tenant, &f);
    assert_eq!(ids(&h), ids(&[hit_of(&a), hit_of(&a2)]));
    assert!(h.iter().all(|h| h.field == "source.ip"));

    let mut out = Vec::new();
    let miss = fields(&[
        ("source.ip", ip("203.0.113.1")),
        ("dns.question.name", Value::from("ok.example")),
    ]);
    assert_eq!(index.matches(tenant, &miss, &mut out), 0);
    assert_eq!(out.capacity(), 0, "a miss allocates nothing");
}

#[test]
fn empty_index_and_odd_values() {
    let tenant = TenantId::new();
    let index = IndicatorIndex::empty();
    assert!(index.is_empty());
    let f = fields(&[
        ("source.ip", ip("192.0.2.7")),
        ("url.full", Value::from("x")),
    ]);
    assert!(hits(&index, tenant, &f).is_empty());

    let d = ind(M, "evil.example");
    let index = IndicatorIndex::build([&d], t(1));
    let long = format!("{}.evil.example", "a".repeat(5000));
    for v in [long.as_str(), "..", ".", "\u{0}", "é.evil.example"] {
        let _ = hits(
            &index,
            tenant,
            &fields(&[("dns.question.name", Value::from(v))]),
        );
        let _ = hits(
            &index,
            tenant,
            &fields(&[("url.full", Value::from(format!("http://{v}/")))]),
        );
        let _ = hits(
            &index,
            tenant,
            &fields(&[("email.from.address", Value::from(format!("a@{v}")))]),
        );
    }
    let mut b = IndicatorIndexBuilder::new(t(1));
    assert_eq!(
        b.push_parts(
            IndicatorId::new(),
            M,
            IndicatorKind::Cidr,
            "nonsense",
            1,
            Tlp::Red
        ),
        Err(IndexError::BadValue(IndicatorKind::Cidr))
    );
    let mut bad = ind(M, "192.0.2.1");
    bad.value = "not an address".into();
    assert!(!b.push(&bad));
    assert_eq!(b.skipped(), 1);
}

#[test]
fn many_indicators_all_found() {
    // Enough entries to exercise the directory and, with more than a
    // million, the parallel sort (kept smaller here for test time).
    let tenant = TenantId::new();
    let mut b = IndicatorIndexBuilder::new(t(1));
    let mut want = Vec::new();
    for i in 0..20_000_u32 {
        let id = IndicatorId::new();
        let addr = std::net::Ipv4Addr::from(0x0a00_0000 + i * 7).to_string();
        b.push_parts(id, M, IndicatorKind::Ipv4, &addr, 50, Tlp::Amber)
            .expect("push");
        want.push((addr, id));
    }
    let index = b.finish();
    for (addr, id) in want.iter().step_by(97) {
        let h = hits(&index, tenant, &fields(&[("source.ip", ip(addr))]));
        assert_eq!(ids(&h), [*id], "{addr}");
    }
    assert!(hits(&index, tenant, &fields(&[("source.ip", ip("10.0.0.1"))])).is_empty());
}

#[test]
fn the_parallel_sort_keeps_every_entry() {
    let mut entries: Vec<Entry> = (0..1_200_000_u64)
        .map(|i| Entry {
            hash: i.wrapping_mul(K1),
            off: 0,
            len: 0,
            meta: Meta {
                id: IndicatorId::new(),
                tenant: MSSP,
                kind: 0,
                confidence: 0,
                tlp: 0,
            },
        })
        .collect();
    let bits = directory_bits(entries.len());
    sort_by_hash(&mut entries, bits);
    assert_eq!(entries.len(), 1_200_000);
    assert!(entries.windows(2).all(|w| w[0].hash <= w[1].hash));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text in any indicator-bearing field: no panic, and a hit
        /// only for an indicator whose value the text normalises to.
        #[test]
        fn any_field_text_is_matched_safely(
            name in proptest::sample::select(vec![
                "source.ip", "dns.question.name", "url.full", "url.original",
                "file.hash.sha256", "email.from.address", "tls.client.ja3",
                "tls.client.ja4", "related.hosts",
            ]),
            text in "\\PC{0,300}",
        ) {
            let d = ind(M, "evil.example");
            let a = ind(M, "192.0.2.1");
            let index = IndicatorIndex::build([&d, &a], t(1));
            let mut f = Fields::new();
            f.set(name, Value::from(text.as_str()));
            f.set("url.domain", Value::from(text.as_str()));
            let mut out = Vec::new();
            index.matches(TenantId::new(), &f, &mut out);
            for h in &out {
                let lower = text.to_ascii_lowercase();
                prop_assert!(
                    lower.contains("evil.example") || lower.contains("192.0.2.1"),
                    "{h:?} for {text:?}"
                );
            }
        }
    }
}

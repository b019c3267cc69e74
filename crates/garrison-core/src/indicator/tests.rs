use super::*;

fn norm(kind: IndicatorKind, raw: &str) -> (IndicatorKind, String) {
    kind.normalize(raw)
        .unwrap_or_else(|e| panic!("{kind} {raw}: {e}"))
}

fn refused(kind: IndicatorKind, raw: &str) -> String {
    match kind.normalize(raw) {
        Ok(v) => panic!("{kind} {raw} accepted as {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn kind_names_are_stable_and_round_trip() {
    let names: Vec<_> = IndicatorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "ipv4", "ipv6", "cidr", "domain", "url", "md5", "sha1", "sha256", "email", "ja3", "ja4"
        ]
    );
    for k in IndicatorKind::ALL {
        assert_eq!(k.as_str().parse::<IndicatorKind>().expect("parses"), k);
        assert_eq!(
            serde_json::to_string(&k).expect("json"),
            format!("\"{}\"", k.as_str())
        );
    }
    assert!("ipv5".parse::<IndicatorKind>().is_err());
}

#[test]
fn feed_type_names_are_understood() {
    use IndicatorKind as K;
    for (name, hint) in [
        ("ipv4-addr", KindHint::Exact(K::Ipv4)),
        ("domain-name", KindHint::Exact(K::Domain)),
        ("file:hashes.'SHA-256'", KindHint::Exact(K::Sha256)),
        ("file:hashes.MD5", KindHint::Exact(K::Md5)),
        ("ip-dst", KindHint::AnyIp),
        ("hostname", KindHint::Exact(K::Domain)),
        ("link", KindHint::Exact(K::Url)),
        ("email-src", KindHint::Exact(K::Email)),
        ("", KindHint::Detect),
        ("HASH", KindHint::AnyHash),
    ] {
        assert_eq!(KindHint::parse(name), Some(hint), "{name}");
    }
    assert_eq!(KindHint::parse("mutex"), None);
    assert_eq!(
        KindHint::AnyHash
            .normalize(&"A".repeat(64))
            .expect("hash")
            .0,
        K::Sha256
    );
    assert_eq!(
        KindHint::AnyIp.normalize("2001:DB8::1").expect("ip"),
        (K::Ipv6, "2001:db8::1".to_owned())
    );
}

#[test]
fn addresses_and_networks_are_canonical() {
    use IndicatorKind as K;
    assert_eq!(norm(K::Ipv4, " 192.0.2.1 "), (K::Ipv4, "192.0.2.1".into()));
    assert_eq!(
        norm(K::Ipv6, "2001:DB8:0:0::1"),
        (K::Ipv6, "2001:db8::1".into())
    );
    assert_eq!(
        norm(K::Ipv6, "::ffff:192.0.2.1"),
        (K::Ipv4, "192.0.2.1".into())
    );
    refused(K::Ipv4, "010.0.0.1");
    refused(K::Ipv4, "256.1.1.1");
    refused(K::Ipv4, "2001:db8::1");
    refused(K::Ipv6, "192.0.2.1");
    assert_eq!(norm(K::Cidr, "10.1.2.3/8"), (K::Cidr, "10.0.0.0/8".into()));
    assert_eq!(norm(K::Cidr, "10.1.2.3/32"), (K::Ipv4, "10.1.2.3".into()));
    assert_eq!(norm(K::Cidr, "10.1.2.3"), (K::Ipv4, "10.1.2.3".into()));
    assert_eq!(norm(K::Cidr, "0.0.0.0/0"), (K::Cidr, "0.0.0.0/0".into()));
    assert_eq!(
        norm(K::Cidr, "2001:DB8::FFFF/32"),
        (K::Cidr, "2001:db8::/32".into())
    );
    assert_eq!(
        norm(K::Cidr, "2001:db8::1/128"),
        (K::Ipv6, "2001:db8::1".into())
    );
    for bad in [
        "10.0.0.0/33",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/x",
        "::/129",
        "x/8",
    ] {
        refused(K::Cidr, bad);
    }
}

#[test]
fn domains_are_lower_case_without_trailing_dot() {
    use IndicatorKind as K;
    assert_eq!(
        norm(K::Domain, "Evil.Example."),
        (K::Domain, "evil.example".into())
    );
    assert_eq!(
        norm(K::Domain, "*.evil.example"),
        (K::Domain, "evil.example".into())
    );
    assert_eq!(
        norm(K::Domain, "_http._tcp.security.debian.org").1,
        "_http._tcp.security.debian.org"
    );
    assert_eq!(
        norm(K::Domain, "xn--bcher-kva.example").1,
        "xn--bcher-kva.example"
    );
    assert!(refused(K::Domain, "bücher.example").contains("punycode"));
    assert!(refused(K::Domain, "com").contains("single label"));
    refused(K::Domain, "192.0.2.1");
    refused(K::Domain, "a..b");
    refused(K::Domain, "-a.example");
    refused(K::Domain, "a b.example");
    refused(K::Domain, &format!("{}.example", "a".repeat(64)));
    refused(K::Domain, "=cmd|' /C calc'!A0");
}

#[test]
fn urls_have_lower_case_scheme_and_host() {
    use IndicatorKind as K;
    assert_eq!(
        norm(K::Url, "HTTP://Evil.Example.:80/Path/A?Q=1#frag").1,
        "http://evil.example/Path/A?Q=1"
    );
    assert_eq!(
        norm(K::Url, "https://EVIL.example:8443").1,
        "https://evil.example:8443/"
    );
    assert_eq!(
        norm(K::Url, "evil.example/x.exe").1,
        "http://evil.example/x.exe"
    );
    assert_eq!(
        norm(K::Url, "http://user:Pw@Host.Example?x").1,
        "http://user:Pw@host.example/?x"
    );
    assert_eq!(
        norm(K::Url, "http://[2001:DB8::1]:8080/a").1,
        "http://[2001:db8::1]:8080/a"
    );
    refused(K::Url, "http://");
    refused(K::Url, "http://host:port/");
    refused(K::Url, "1http://x.example/");
    refused(K::Url, "http://bücher.example/");
    refused(K::Url, "=HYPERLINK(x)/y");
    refused(K::Url, "http://a b/");
}

#[test]
fn hashes_emails_and_fingerprints() {
    use IndicatorKind as K;
    let md5 = "D41D8CD98F00B204E9800998ECF8427E";
    assert_eq!(norm(K::Md5, md5).1, md5.to_ascii_lowercase());
    refused(K::Md5, &md5[1..]);
    refused(K::Sha1, md5);
    refused(K::Sha256, &"g".repeat(64));
    assert_eq!(norm(K::Ja3, md5).0, K::Ja3);
    assert_eq!(
        norm(K::Email, "mailto:Bob.Smith@Evil.EXAMPLE").1,
        "Bob.Smith@evil.example"
    );
    assert_eq!(norm(K::Email, "<a@b.example>").1, "a@b.example");
    refused(K::Email, "nobody");
    refused(K::Email, "@b.example");
    refused(K::Email, "a@b");
    refused(K::Email, "=1+1@evil.example");
    refused(K::Email, "-x@evil.example");
    let ja4 = "t13d1516h2_8daaf6152771_b186095e22b6";
    assert_eq!(norm(K::Ja4, &ja4.to_ascii_uppercase()).1, ja4);
    refused(K::Ja4, "t13d1516h2_8daaf6152771");
    refused(K::Ja4, "x13d1516h2_8daaf6152771_b186095e22b6");
}

#[test]
fn kinds_are_detected_from_shape() {
    use IndicatorKind as K;
    let kind = |v: &str| IndicatorKind::detect(v).map(|(k, _)| k);
    assert_eq!(kind("192.0.2.1"), Ok(K::Ipv4));
    assert_eq!(kind("2001:db8::1"), Ok(K::Ipv6));
    assert_eq!(kind("10.0.0.0/8"), Ok(K::Cidr));
    assert_eq!(kind("evil.example"), Ok(K::Domain));
    assert_eq!(kind("https://evil.example/a"), Ok(K::Url));
    assert_eq!(kind("evil.example/a.php"), Ok(K::Url));
    assert_eq!(kind("a@evil.example"), Ok(K::Email));
    assert_eq!(kind(&"a".repeat(32)), Ok(K::Md5));
    assert_eq!(kind(&"a".repeat(40)), Ok(K::Sha1));
    assert_eq!(kind(&"a".repeat(64)), Ok(K::Sha256));
    assert_eq!(kind("t13d1516h2_8daaf6152771_b186095e22b6"), Ok(K::Ja4));
    assert_eq!(kind("hello"), Err(IndicatorError::Undetected));
    assert_eq!(kind("=HYPERLINK(\"x\")"), Err(IndicatorError::Undetected));
    assert_eq!(kind(""), Err(IndicatorError::Empty));
    assert_eq!(kind(&"a".repeat(3000)), Err(IndicatorError::TooLong));
    assert_eq!(kind("a\u{0}b.example"), Err(IndicatorError::BadCharacters));
}

#[test]
fn tlp_names() {
    for t in Tlp::ALL {
        assert_eq!(t.as_str().parse::<Tlp>().expect("parses"), t);
        assert_eq!(serde_json::to_string(&t).expect("json"), format!("\"{t}\""));
    }
    assert_eq!("TLP:WHITE".parse::<Tlp>(), Ok(Tlp::Clear));
    assert_eq!("tlp:amber+strict".parse::<Tlp>(), Ok(Tlp::AmberStrict));
    assert!("purple".parse::<Tlp>().is_err());
}

#[test]
fn liveness_follows_validity_and_revocation() {
    let t = Timestamp::from_millis;
    let mut i = Indicator {
        id: IndicatorId::new(),
        scope: IndicatorScope::Mssp,
        kind: IndicatorKind::Domain,
        value: "evil.example".into(),
        confidence: 50,
        valid_from: t(10),
        valid_until: Some(t(20)),
        source: "feed".into(),
        tlp: Tlp::Amber,
        tags: vec![],
        created_at: t(0),
        updated_at: t(0),
        revoked: false,
    };
    assert!(!i.is_live(t(9)));
    assert!(i.is_live(t(10)) && i.is_live(t(20)));
    assert!(!i.is_live(t(21)));
    i.valid_until = None;
    assert!(i.is_live(t(1_000_000)));
    i.revoked = true;
    assert!(!i.is_live(t(15)));
}

#[test]
fn tags_are_cleaned() {
    let long = "x".repeat(500);
    let tags = clean_tags([" a ", "", "a", "b\u{7}", long.as_str()]);
    assert_eq!(tags.len(), 3);
    assert_eq!(tags[0], "a");
    assert_eq!(tags[1], "b");
    assert_eq!(tags[2].len(), MAX_TAG_LEN);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = IndicatorKind> {
        proptest::sample::select(IndicatorKind::ALL.to_vec())
    }

    proptest! {
        /// A normalised value is a fixed point: normalising it again
        /// changes neither kind nor text (so re-imports hit the same key).
        #[test]
        fn normalising_twice_changes_nothing(k in kind(), raw in "\\PC{0,80}") {
            if let Ok((k2, v)) = k.normalize(&raw) {
                prop_assert_eq!(k2.normalize(&v), Ok((k2, v.clone())));
            }
        }

        #[test]
        fn structured_values_are_fixed_points(
            a in any::<u32>(), p in 0u8..=32, host in "[a-zA-Z0-9]{1,10}(\\.[a-zA-Z0-9-]{0,8}[a-zA-Z0-9]){1,3}",
            path in "(/[a-zA-Z0-9._~%-]{0,12}){0,4}(\\?[a-z=&0-9]{0,10})?",
        ) {
            let raw = format!("{}/{p}", Ipv4Addr::from(a));
            let (k, v) = IndicatorKind::Cidr.normalize(&raw).expect("cidr");
            prop_assert_eq!(k.normalize(&v), Ok((k, v.clone())));
            if let Ok((k, v)) = IndicatorKind::Domain.normalize(&host) {
                prop_assert_eq!(&v, &host.to_ascii_lowercase());
                prop_assert_eq!(k.normalize(&v), Ok((k, v.clone())));
                let url = format!("HTTPS://{host}{path}");
                let (k, u) = IndicatorKind::Url.normalize(&url).expect("url");
                prop_assert_eq!(k.normalize(&u), Ok((k, u.clone())));
            }
        }

        /// Detection never panics, what it finds is normalised, and no
        /// stored value starts like a spreadsheet formula.
        #[test]
        fn detection_is_total(raw in "[=+@-]?\\PC{0,100}") {
            if let Ok((k, v)) = IndicatorKind::detect(&raw) {
                prop_assert_eq!(k.normalize(&v), Ok((k, v.clone())));
                prop_assert!(!v.starts_with(['=', '+', '-', '@']), "{}", v);
            }
        }
    }
}

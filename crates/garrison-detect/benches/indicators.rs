//! `IndicatorIndex` with 1,000,000 and 10,000,000 mixed indicators: the
//! build (target: 10,000,000 in at most 10 s) and the lookup of every
//! indicator-bearing field of an event (target: at most 1 µs an event, in
//! a 5 µs budget for enrichment and detection together).
//!
//! Run with `cargo bench -p garrison-detect --bench indicators`; the
//! figures go to `docs/benchmarks.md`.
//!
//! Indicators (fixed seed): 44 % IPv4 addresses, 5 % IPv6, 1 % CIDRs (/20
//! to /30 and IPv6 /32 to /64, as in drop lists), 25 % domains, 10 % URLs, 10 % file hashes
//! (MD5, SHA-1, SHA-256), 3 % e-mail addresses, 1 % JA3 and 1 % JA4; one in
//! ten belongs to one of 50 tenants, the rest are MSSP-wide. Events are
//! built as the parsers build them: Suricata EVE (flow, dns, http, tls,
//! fileinfo; 20–30 fields) and firewall lines (CEF-like; 15 fields), 4,096
//! of each, about 2 % of them carrying a value that is an indicator, the
//! rest misses (the common case).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use garrison_core::event::{Fields, Value};
use garrison_core::indicator::{Indicator, IndicatorKind, IndicatorScope, Tlp};
use garrison_core::rng::Rng;
use garrison_core::{IndicatorId, TenantId, Timestamp};
use garrison_detect::IndicatorIndex;

const EVENTS: usize = 4096;

fn hex(rng: &mut Rng, n: usize) -> String {
    const D: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| char::from(*rng.pick(D))).collect()
}

fn word(rng: &mut Rng) -> String {
    const S: &[&str] = &[
        "mail", "cdn", "api", "login", "secure", "update", "files", "static", "portal", "app",
        "dl", "web", "img", "auth", "sync", "box", "cloud", "data", "my", "go",
    ];
    format!("{}{}", rng.pick(S), rng.below(100_000))
}

fn domain(rng: &mut Rng) -> String {
    const TLD: &[&str] = &[
        "com", "net", "org", "ru", "cn", "info", "xyz", "top", "io", "de",
    ];
    if rng.chance(30) {
        format!("{}.{}.{}", word(rng), word(rng), rng.pick(TLD))
    } else {
        format!("{}.{}", word(rng), rng.pick(TLD))
    }
}

fn public_v4(rng: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::from(0x0100_0000 + u32::try_from(rng.below(0xDF00_0000)).unwrap_or(0))
}

/// One indicator of the mix, normalised as the store keeps it.
fn indicator(rng: &mut Rng, tenants: &[TenantId]) -> (IndicatorKind, String, IndicatorScope) {
    let roll = rng.below(100);
    let raw = match roll {
        0..44 => public_v4(rng).to_string(),
        44..49 => Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(rng.next_u64())).to_string(),
        49..50 => {
            if rng.chance(80) {
                format!("{}/{}", public_v4(rng), 20 + rng.below(11))
            } else {
                format!(
                    "{}/{}",
                    Ipv6Addr::from((0x2a00_u128 << 112) | (u128::from(rng.next_u64()) << 48)),
                    32 + rng.below(33)
                )
            }
        }
        50..75 => domain(rng),
        75..85 => format!(
            "http://{}/{}/{}.php?id={}",
            domain(rng),
            word(rng),
            word(rng),
            rng.below(1000)
        ),
        85..95 => match rng.below(3) {
            0 => hex(rng, 32),
            1 => hex(rng, 40),
            _ => hex(rng, 64),
        },
        95..98 => format!("{}@{}", word(rng), domain(rng)),
        98 => {
            let v = hex(rng, 32);
            let scope = scope(rng, tenants);
            return (IndicatorKind::Ja3, v, scope);
        }
        _ => format!(
            "t13d{:02}{:02}h2_{}_{}",
            rng.below(99),
            rng.below(99),
            hex(rng, 12),
            hex(rng, 12)
        ),
    };
    let (kind, value) = IndicatorKind::detect(&raw).expect("generated indicators are valid");
    (kind, value, scope(rng, tenants))
}

fn scope(rng: &mut Rng, tenants: &[TenantId]) -> IndicatorScope {
    if rng.chance(10) {
        IndicatorScope::Tenant(*rng.pick(tenants))
    } else {
        IndicatorScope::Mssp
    }
}

fn indicators(n: usize, seed: u64, tenants: &[TenantId]) -> Vec<Indicator> {
    let mut rng = Rng::new(seed);
    let at = Timestamp::from_millis(1_800_000_000_000);
    (0..n)
        .map(|i| {
            let (kind, value, scope) = indicator(&mut rng, tenants);
            Indicator {
                id: IndicatorId::new(),
                scope,
                kind,
                value,
                confidence: u8::try_from(i % 101).unwrap_or(50),
                valid_from: at,
                valid_until: None,
                source: "bench".into(),
                tlp: Tlp::Amber,
                tags: Vec::new(),
                created_at: at,
                updated_at: at,
                revoked: false,
            }
        })
        .collect()
}

fn private_v4(rng: &mut Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        10,
        rng.below(4) as u8,
        rng.below(256) as u8,
        1 + rng.below(254) as u8,
    ))
}

/// An indicator value of `kind` to plant in an event, when one is at hand.
fn planted<'a>(known: &'a [Indicator], rng: &mut Rng, kind: IndicatorKind) -> Option<&'a str> {
    for _ in 0..64 {
        let i = rng.pick(known);
        if i.kind == kind && i.scope == IndicatorScope::Mssp {
            return Some(&i.value);
        }
    }
    None
}

fn eve_event(rng: &mut Rng, known: &[Indicator]) -> Fields {
    let hit = rng.chance(2);
    let mut f = Fields::with_capacity(32);
    f.push("event.kind", "event");
    f.push("event.module", "suricata");
    f.push(
        "suricata.eve.flow_id",
        Value::Int(rng.below(1 << 50) as i64),
    );
    f.push("observer.name", "sensor-01");
    f.push("network.transport", "tcp");
    f.push("source.ip", Value::Ip(private_v4(rng)));
    f.push("source.port", Value::Int(1024 + rng.below(60_000) as i64));
    let dst = match (hit, planted(known, rng, IndicatorKind::Ipv4)) {
        (true, Some(v)) if rng.chance(40) => v.parse().unwrap_or(IpAddr::V4(public_v4(rng))),
        _ => IpAddr::V4(public_v4(rng)),
    };
    f.push("destination.ip", Value::Ip(dst));
    f.push("destination.port", Value::Int(443));
    f.push("network.community_id", format!("1:{}", hex(rng, 28)));
    f.push("host.name", "sensor-01");
    let name = match (hit, planted(known, rng, IndicatorKind::Domain)) {
        (true, Some(d)) => format!("www.{d}"),
        _ => domain(rng),
    };
    match rng.below(5) {
        0 => {
            f.push("event.dataset", "suricata.dns");
            f.push("network.protocol", "dns");
            f.push("dns.question.name", name);
            f.push("dns.question.type", "A");
            f.push("dns.id", Value::Int(rng.below(65_536) as i64));
            f.push("dns.response_code", "NOERROR");
        }
        1 => {
            f.push("event.dataset", "suricata.http");
            f.push("network.protocol", "http");
            f.push("url.domain", name);
            f.push(
                "url.original",
                format!("/{}/{}.php?id={}", word(rng), word(rng), rng.below(1000)),
            );
            f.push("http.request.method", "GET");
            f.push("http.response.status_code", Value::Int(200));
            f.push(
                "user_agent.original",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            );
            f.push(
                "http.response.body.bytes",
                Value::Int(rng.below(100_000) as i64),
            );
        }
        2 => {
            f.push("event.dataset", "suricata.tls");
            f.push("network.protocol", "tls");
            f.push("tls.client.server_name", name);
            f.push("tls.version", "1.3");
            f.push("tls.client.ja3", hex(rng, 32));
            f.push("tls.server.ja3s", hex(rng, 32));
            f.push(
                "tls.client.ja4",
                format!("t13d1516h2_{}_{}", hex(rng, 12), hex(rng, 12)),
            );
            f.push("tls.server.subject", "CN=example");
        }
        3 => {
            f.push("event.dataset", "suricata.fileinfo");
            f.push("file.name", format!("{}.exe", word(rng)));
            let h = match (hit, planted(known, rng, IndicatorKind::Sha256)) {
                (true, Some(v)) => v.to_owned(),
                _ => hex(rng, 64),
            };
            f.push("file.hash.md5", hex(rng, 32));
            f.push("file.hash.sha1", hex(rng, 40));
            f.push("file.hash.sha256", h);
            f.push("file.size", Value::Int(rng.below(10_000_000) as i64));
        }
        _ => {
            f.push("event.dataset", "suricata.flow");
            f.push("source.bytes", Value::Int(rng.below(1 << 20) as i64));
            f.push("destination.bytes", Value::Int(rng.below(1 << 20) as i64));
            f.push("source.packets", Value::Int(rng.below(1000) as i64));
            f.push("destination.packets", Value::Int(rng.below(1000) as i64));
            f.push("suricata.eve.flow.state", "closed");
        }
    }
    f.push("event.created", "2026-11-23T07:00:00.000Z");
    f.push("suricata.eve.in_iface", "eth0");
    f
}

fn firewall_event(rng: &mut Rng, known: &[Indicator]) -> Fields {
    let hit = rng.chance(2);
    let mut f = Fields::with_capacity(16);
    f.push("observer.vendor", "Fortinet");
    f.push("observer.product", "FortiGate");
    f.push(
        "event.action",
        if rng.chance(70) { "accept" } else { "deny" },
    );
    f.push("event.code", "0000000013");
    f.push("source.ip", Value::Ip(private_v4(rng)));
    f.push("source.port", Value::Int(1024 + rng.below(60_000) as i64));
    let dst = match (hit, planted(known, rng, IndicatorKind::Ipv4)) {
        (true, Some(v)) => v.parse().unwrap_or(IpAddr::V4(public_v4(rng))),
        _ => IpAddr::V4(public_v4(rng)),
    };
    f.push("destination.ip", Value::Ip(dst));
    f.push(
        "destination.port",
        Value::Int(*rng.pick(&[80, 443, 53, 22, 3389])),
    );
    f.push("network.transport", "tcp");
    f.push(
        "source.nat.ip",
        Value::Ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))),
    );
    f.push("source.bytes", Value::Int(rng.below(1 << 20) as i64));
    f.push("destination.bytes", Value::Int(rng.below(1 << 20) as i64));
    f.push("rule.name", "outbound-web");
    f.push("user.name", "alice");
    f.push("cef.extensions.cs1", "policy-7");
    f
}

fn lookups(c: &mut Criterion) {
    let tenants: Vec<TenantId> = (0..50).map(|_| TenantId::new()).collect();
    let known = indicators(1_000_000, 0x5eed_1234, &tenants);
    let now = Timestamp::from_millis(1_800_000_000_001);
    let index = IndicatorIndex::build(&known, now);
    let mut rng = Rng::new(0xe7e7_0001);
    let eve: Vec<Fields> = (0..EVENTS).map(|_| eve_event(&mut rng, &known)).collect();
    let fw: Vec<Fields> = (0..EVENTS)
        .map(|_| firewall_event(&mut rng, &known))
        .collect();
    {
        let mut out = Vec::new();
        let eh: usize = eve
            .iter()
            .map(|f| index.matches(tenants[0], f, &mut out))
            .sum();
        let fh: usize = fw
            .iter()
            .map(|f| index.matches(tenants[0], f, &mut out))
            .sum();
        println!(
            "1M index ({} MiB): {eh} hits in {EVENTS} EVE events, {fh} in {EVENTS} firewall events",
            index.memory_bytes() >> 20
        );
    }

    let mut g = c.benchmark_group("indicator_lookup_1m");
    for (name, events) in [("eve_event", &eve), ("firewall_event", &fw)] {
        g.bench_function(name, |b| {
            let mut i = 0;
            let mut out = Vec::with_capacity(8);
            b.iter(|| {
                i = (i + 1) % EVENTS;
                out.clear();
                let t = tenants[i % tenants.len()];
                black_box(index.matches(t, black_box(&events[i]), &mut out))
            });
        });
    }
    g.finish();
}

fn builds(c: &mut Criterion) {
    let tenants: Vec<TenantId> = (0..50).map(|_| TenantId::new()).collect();
    let now = Timestamp::from_millis(1_800_000_000_001);
    let mut g = c.benchmark_group("indicator_build");
    g.sample_size(10);
    for n in [1_000_000_usize, 10_000_000] {
        let set = indicators(n, 0xb111_d000 + n as u64, &tenants);
        println!(
            "{n} indicators: index of {} MiB",
            IndicatorIndex::build(&set, now).memory_bytes() >> 20
        );
        g.measurement_time(Duration::from_secs(if n > 1_000_000 { 90 } else { 20 }));
        g.bench_function(format!("{}m", n / 1_000_000), |b| {
            b.iter(|| black_box(IndicatorIndex::build(black_box(&set), now)));
        });
    }
    g.finish();
}

criterion_group!(benches, lookups, builds);
criterion_main!(benches);

//! Lines per second for each syslog, CEF and LEEF shape, on realistic
//! lines (the corpus's shapes). Target: at least 300,000 lines per second
//! per core each (3.3 µs a line).
//!
//! `cargo bench -p garrison-ingest --bench parse -- --quick`

use std::hint::black_box;

/// The binary's allocator (`crates/garrison/src/main.rs`): parsing
/// allocates a string per text value, so the allocator is part of the
/// figure.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use garrison_core::Timestamp;
use garrison_ingest::{Context, Format, cef, leef, parse, syslog};

const RFC5424: &str = "<133>1 2026-11-22T21:34:50.557244+00:00 vm myapp 42 ID47 [timeQuality tzKnown=\"1\" isSynced=\"0\"][exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An application event log entry";
const RFC3164: &str = "<36>Nov 22 21:34:50 vm sshd[2214]: Failed password for invalid user admin from 203.0.113.45 port 51234 ssh2";
const ASA: &str = "<166>Nov  3 2026 10:00:00 fw01 : %ASA-6-302013: Built inbound TCP connection 12345 for outside:203.0.113.5/51234 (203.0.113.5/51234) to inside:10.0.0.5/443 (10.0.0.5/443)";
const CEF: &str = "CEF:0|FORCEPOINT|Firewall|6.6.1|70018|Connection_Allowed|0|deviceExternalId=Master FW node 1 dvc=10.1.1.40 dvchost=10.1.1.40 src=10.37.205.252 dst=10.1.1.40 proto=1 deviceOutboundInterface=255 act=Allow msg=Referred connection: 10.1.1.40 -> 10.37.133.35 frag\\=0x4000 TCP 47413->3020 deviceFacility=Packet Filtering rt=Jan 17 2020 08:52:09 app=Dest. Unreachable (Host Unreachable) cs1Label=RuleID cs1=2097157.1";
const CEF_SYSLOG: &str = "<166>Nov 22 21:34:50 vm CEF: CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Authentication|low|eventId=123 src=1.128.3.4 spt=33876 dst=81.2.69.143 dpt=443 duser=alice suser=bob destinationTranslatedAddress=10.10.10.10 fileHash=bc8bbe52f041fd17318f08a0f73762ce";
const LEEF1: &str = "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tcat=anomaly\tsrcPort=51234\tdstPort=443\tusrName=alice\tdevTime=Jan 17 2020 08:52:09\tmsg=this is a message";
const LEEF2: &str = "LEEF:2.0|Palo Alto Networks|PAN-OS Syslog Integration|10.1|CONFIG|^|cat=CONFIG^usrName=admin^src=192.0.2.10^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ^devTime=2026-11-22T21:34:50.123+0000^client=Web^sequence=123456^serial=0123456789^msg=set deviceconfig system";

fn bench(c: &mut Criterion) {
    let ctx = Context::at(Timestamp::parse("2026-11-22T21:34:51Z").expect("time"));
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rfc5424", |b| {
        b.iter(|| syslog::parse_5424(black_box(RFC5424), &ctx))
    });
    g.bench_function("rfc3164", |b| {
        b.iter(|| syslog::parse_3164(black_box(RFC3164), &ctx))
    });
    g.bench_function("rfc3164_cisco_asa", |b| {
        b.iter(|| syslog::parse_3164(black_box(ASA), &ctx))
    });
    g.bench_function("cef", |b| b.iter(|| cef::parse(black_box(CEF), &ctx)));
    g.bench_function("cef_in_syslog_auto", |b| {
        b.iter(|| parse(Format::Auto, black_box(CEF_SYSLOG), &ctx));
    });
    g.bench_function("leef1", |b| b.iter(|| leef::parse(black_box(LEEF1), &ctx)));
    g.bench_function("leef2", |b| b.iter(|| leef::parse(black_box(LEEF2), &ctx)));
    g.bench_function("detect_auto_5424", |b| {
        b.iter(|| parse(Format::Auto, black_box(RFC5424), &ctx));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

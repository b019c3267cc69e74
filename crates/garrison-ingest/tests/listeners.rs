//! The syslog listeners over real loopback sockets (port 0), with an
//! `InProcessBus` as the sink. Assertions are on what the bus delivers and
//! on the counters; time only bounds waits (a guard against hangs), except
//! in the backpressure test, where a write that cannot finish is the sign
//! that the socket is blocked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use garrison_core::ids::TenantId;
use garrison_core::time::ManualClock;
use garrison_core::{Clock, Timestamp};
use garrison_ingest::Format;
use garrison_ingest::bus::{
    Bus, Consumer, InProcessBus, InProcessConfig, InProcessConsumer, RawLine,
};
use garrison_ingest::framing::Policy;
use garrison_ingest::listen::{
    ListenError, ListenerConfig, ListenerKind, ListenerStats, Shutdown, StatsSnapshot, serve_tcp,
    serve_tls, serve_udp,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

const T0: Timestamp = Timestamp::from_millis(1_763_805_600_000);
/// Only a guard against a hang: every wait ends long before.
const GUARD: Duration = Duration::from_secs(60);

struct Running {
    addr: SocketAddr,
    tenant: TenantId,
    bus: InProcessBus<RawLine>,
    stats: Arc<ListenerStats>,
    shutdown: Shutdown,
    task: JoinHandle<Result<(), ListenError>>,
}

impl Running {
    fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    async fn stop(self) -> InProcessBus<RawLine> {
        self.shutdown.trigger();
        tokio::time::timeout(GUARD, self.task)
            .await
            .expect("the listener stops")
            .expect("join")
            .expect("the listener ran");
        self.bus
    }

    /// Waits until the counters satisfy `cond`.
    async fn until(&self, what: &str, cond: impl Fn(&StatsSnapshot) -> bool) {
        let wait = async {
            while !cond(&self.stats()) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        if tokio::time::timeout(GUARD, wait).await.is_err() {
            panic!("never reached: {what}; {:?}", self.stats());
        }
    }
}

fn config(kind: ListenerKind, tenant: TenantId) -> ListenerConfig {
    let mut cfg = ListenerConfig::new("edge-1", tenant, kind, "127.0.0.1:0");
    cfg.flush_after = Duration::from_millis(1);
    cfg.batch_size = 16;
    cfg
}

fn bus_of(config: InProcessConfig) -> InProcessBus<RawLine> {
    InProcessBus::new("raw", config, Arc::new(ManualClock::new(T0)))
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(T0))
}

async fn start_tcp_on(
    cfg: ListenerConfig,
    listener: TcpListener,
    bus: InProcessBus<RawLine>,
) -> Running {
    let addr = listener.local_addr().expect("addr");
    let (shutdown, signal) = Shutdown::new();
    let stats = Arc::new(ListenerStats::default());
    let tenant = cfg.tenant;
    let task = tokio::spawn(serve_tcp(
        cfg,
        listener,
        Arc::new(bus.clone()),
        clock(),
        signal,
        Arc::clone(&stats),
    ));
    Running {
        addr,
        tenant,
        bus,
        stats,
        shutdown,
        task,
    }
}

async fn start_tcp(cfg: ListenerConfig, bus: InProcessBus<RawLine>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start_tcp_on(cfg, listener, bus).await
}

async fn start_udp(cfg: ListenerConfig, bus: InProcessBus<RawLine>) -> Running {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    let (shutdown, signal) = Shutdown::new();
    let stats = Arc::new(ListenerStats::default());
    let tenant = cfg.tenant;
    let task = tokio::spawn(serve_udp(
        cfg,
        socket,
        Arc::new(bus.clone()),
        clock(),
        signal,
        Arc::clone(&stats),
    ));
    Running {
        addr,
        tenant,
        bus,
        stats,
        shutdown,
        task,
    }
}

/// Takes `n` lines off the bus, acking each batch.
async fn take(consumer: &mut InProcessConsumer<RawLine>, n: usize) -> Vec<RawLine> {
    let mut out = Vec::new();
    let wait = async {
        while out.len() < n {
            let d = consumer.next().await.expect("a delivery");
            out.extend(d.messages().iter().cloned());
            d.ack().await.expect("ack");
        }
    };
    tokio::time::timeout(GUARD, wait)
        .await
        .unwrap_or_else(|_| panic!("expected {n} lines"));
    out
}

fn texts(lines: &[RawLine]) -> Vec<&str> {
    lines.iter().map(|l| l.line.as_str()).collect()
}

async fn send_tcp(addr: SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    s.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn tcp_newline_and_octet_counted_frames_interleave_on_one_connection() {
    let tenant = TenantId::new();
    let mut cfg = config(ListenerKind::Tcp, tenant);
    cfg.format = Format::Rfc5424;
    let run = start_tcp(cfg, bus_of(InProcessConfig::default())).await;
    let mut c = run.bus.subscribe();
    send_tcp(
        run.addr,
        b"<13>1 - h app - - - one\n25 <13>1 - h app - - - two\nx\r\n<13>three\r\n\x005 <13>4<13>five\x00",
    )
    .await;
    let lines = take(&mut c, 5).await;
    assert_eq!(
        texts(&lines),
        [
            "<13>1 - h app - - - one",
            "<13>1 - h app - - - two\nx",
            "<13>three",
            "<13>4",
            "<13>five"
        ]
    );
    for l in &lines {
        assert_eq!(l.tenant, tenant);
        assert_eq!(l.source_id, "edge-1");
        assert_eq!(l.received_at, T0);
        assert_eq!(l.format, Format::Rfc5424);
    }
    let bus = run.stop().await;
    assert_eq!(bus.stats().tenants[&tenant].published, 5);
}

#[tokio::test]
async fn a_message_split_across_many_writes_arrives_whole() {
    let tenant = TenantId::new();
    let run = start_tcp(
        config(ListenerKind::Tcp, tenant),
        bus_of(InProcessConfig::default()),
    )
    .await;
    let mut c = run.bus.subscribe();
    let mut s = TcpStream::connect(run.addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let payload = b"38 <34>1 2026-01-01T00:00:00Z h a - - - x<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n";
    for b in payload {
        s.write_all(&[*b]).await.expect("write");
        s.flush().await.expect("flush");
        tokio::task::yield_now().await;
    }
    let lines = take(&mut c, 2).await;
    assert_eq!(
        texts(&lines),
        [
            "<34>1 2026-01-01T00:00:00Z h a - - - x",
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed"
        ]
    );
    drop(s);
    run.stop().await;
}

#[tokio::test]
async fn udp_datagrams_are_one_message_each() {
    let tenant = TenantId::new();
    let run = start_udp(
        config(ListenerKind::Udp, tenant),
        bus_of(InProcessConfig::default()),
    )
    .await;
    let mut c = run.bus.subscribe();
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    for m in ["<13>one\n", "<13>two\r\n", "<13>three", "<13>multi\nline"] {
        client.send_to(m.as_bytes(), run.addr).await.expect("send");
    }
    let mut lines = texts(&take(&mut c, 4).await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    lines.sort();
    assert_eq!(
        lines,
        ["<13>multi\nline", "<13>one", "<13>three", "<13>two"]
    );
    let stats = run.stats();
    assert_eq!((stats.frames, stats.published), (4, 4));
    run.stop().await;
}

#[tokio::test]
async fn over_long_lines_are_truncated_or_refused_by_policy() {
    let long = format!("<13>{}", "x".repeat(100));
    let input = format!("{long}\n<13>short\n104 {long}\n");
    for policy in [Policy::Truncate, Policy::Refuse] {
        let tenant = TenantId::new();
        let mut cfg = config(ListenerKind::Tcp, tenant);
        cfg.max_line = 32;
        cfg.overlong = policy;
        let run = start_tcp(cfg, bus_of(InProcessConfig::default())).await;
        let mut c = run.bus.subscribe();
        send_tcp(run.addr, input.as_bytes()).await;
        match policy {
            Policy::Truncate => {
                let lines = take(&mut c, 3).await;
                let cut = &long[..32];
                assert_eq!(texts(&lines), [cut, "<13>short", cut]);
                run.until("counted", |s| s.truncated == 2).await;
                assert_eq!(run.stats().refused_overlong, 0);
            }
            Policy::Refuse => {
                let lines = take(&mut c, 1).await;
                assert_eq!(texts(&lines), ["<13>short"]);
                run.until("counted", |s| s.refused_overlong == 2).await;
                assert_eq!(run.stats().truncated, 0);
            }
        }
        let bus = run.stop().await;
        assert_eq!(bus.stats().queued_events, 0, "nothing else was published");
    }

    // UDP: the same policies per datagram.
    for (policy, expected) in [
        (Policy::Truncate, Some(&long[..32])),
        (Policy::Refuse, None),
    ] {
        let tenant = TenantId::new();
        let mut cfg = config(ListenerKind::Udp, tenant);
        cfg.max_line = 32;
        cfg.overlong = policy;
        let run = start_udp(cfg, bus_of(InProcessConfig::default())).await;
        let mut c = run.bus.subscribe();
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        client
            .send_to(long.as_bytes(), run.addr)
            .await
            .expect("send");
        client.send_to(b"<13>after", run.addr).await.expect("send");
        let n = if expected.is_some() { 2 } else { 1 };
        let mut got = texts(&take(&mut c, n).await)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        got.sort();
        let mut want: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        want.push("<13>after".into());
        want.sort();
        assert_eq!(got, want);
        let s = run.stats();
        assert_eq!(
            (s.truncated, s.refused_overlong),
            if expected.is_some() { (1, 0) } else { (0, 1) }
        );
        run.stop().await;
    }
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_replaced_and_counted() {
    let tenant = TenantId::new();
    let run = start_tcp(
        config(ListenerKind::Tcp, tenant),
        bus_of(InProcessConfig::default()),
    )
    .await;
    let mut c = run.bus.subscribe();
    send_tcp(run.addr, b"<13>caf\xe9 \xff\xfe\n<13>fine\n").await;
    let lines = take(&mut c, 2).await;
    assert_eq!(
        texts(&lines),
        ["<13>caf\u{fffd} \u{fffd}\u{fffd}", "<13>fine"]
    );
    run.until("counted", |s| s.lossy_utf8 == 1).await;
    run.stop().await;
}

/// A bus of 8 events and no consumer: the listener stops reading, the
/// socket fills and the writer is held back; once a consumer acks,
/// everything arrives in order and nothing is lost.
#[tokio::test]
async fn tcp_applies_backpressure_and_loses_nothing() {
    let tenant = TenantId::new();
    let mut cfg = config(ListenerKind::Tcp, tenant);
    cfg.batch_size = 4;
    let bus = bus_of(InProcessConfig {
        capacity_per_tenant: 8,
        ..InProcessConfig::default()
    });
    // Small kernel buffers (accepted sockets inherit the listener's), so
    // the socket fills after a few kilobytes.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(16).expect("listen");
    let run = start_tcp_on(cfg, listener, bus).await;

    let n = 20_000;
    let pad = "p".repeat(200);
    let data: Vec<u8> = (0..n)
        .flat_map(|i| format!("<13>line {i:06} {pad}\n").into_bytes())
        .collect();
    let client = TcpSocket::new_v4().expect("socket");
    client.set_send_buffer_size(4096).expect("sndbuf");
    let mut stream = client.connect(run.addr).await.expect("connect");
    let mut written = 0;
    let mut blocked = false;
    while written < data.len() {
        // `write` is cancel-safe: on timeout nothing of this call was sent.
        match tokio::time::timeout(Duration::from_secs(1), stream.write(&data[written..])).await {
            Ok(Ok(k)) => written += k,
            Ok(Err(e)) => panic!("write: {e}"),
            // Held back, with the bus full: the listener stopped reading.
            Err(_) if run.stats().published >= 8 => {
                blocked = true;
                break;
            }
            // A slow machine, not backpressure yet: go on.
            Err(_) => {}
        }
    }
    assert!(blocked, "the writer was never held back");
    assert!(written < data.len() / 2, "held back after {written} bytes");
    let s = run.stats();
    assert_eq!(s.published, 8, "the bus holds what it has room for: {s:?}");
    assert_eq!(s.dropped_overload, 0);

    let writer = tokio::spawn(async move {
        stream
            .write_all(&data[written..])
            .await
            .expect("write the rest");
        stream.shutdown().await.expect("shutdown");
    });
    let mut c = run.bus.subscribe();
    let lines = take(&mut c, n).await;
    writer.await.expect("writer");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.line, format!("<13>line {i:06} {pad}"), "line {i}");
    }
    let bus = run.stop().await;
    let s = bus.stats();
    assert_eq!(s.tenants[&tenant].published, n as u64);
    assert_eq!(s.tenants[&tenant].rejected_overload, 0);
}

#[tokio::test]
async fn udp_counts_what_an_overloaded_bus_refuses() {
    let tenant = TenantId::new();
    let mut cfg = config(ListenerKind::Udp, tenant);
    cfg.batch_size = 1;
    let run = start_udp(
        cfg,
        bus_of(InProcessConfig {
            capacity_per_tenant: 4,
            ..InProcessConfig::default()
        }),
    )
    .await;
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    for i in 0..20 {
        client
            .send_to(format!("<13>d{i}").as_bytes(), run.addr)
            .await
            .expect("send");
    }
    run.until("all 20 handled", |s| s.published + s.dropped_overload == 20)
        .await;
    let s = run.stats();
    assert_eq!((s.published, s.dropped_overload), (4, 16));
    // The receive loop is not blocked: later datagrams still get in once
    // there is room.
    let mut c = run.bus.subscribe();
    assert_eq!(take(&mut c, 4).await.len(), 4);
    client.send_to(b"<13>later", run.addr).await.expect("send");
    let later = take(&mut c, 1).await;
    assert_eq!(texts(&later), ["<13>later"]);
    run.stop().await;
}

#[tokio::test]
async fn peers_outside_the_allowlist_are_refused() {
    let tenant = TenantId::new();
    let mut cfg = config(ListenerKind::Tcp, tenant);
    cfg.allow = vec!["10.0.0.0/8".into(), "2001:db8::/32".into()];
    let run = start_tcp(cfg, bus_of(InProcessConfig::default())).await;
    let mut s = TcpStream::connect(run.addr).await.expect("connect");
    let _ = s.write_all(b"<13>not welcome\n").await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(GUARD, s.read(&mut buf))
        .await
        .expect("the listener closes the connection");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    run.until("refused", |s| s.refused_peers == 1).await;
    let bus = run.stop().await;
    assert_eq!(run_stats_published(&bus, tenant), 0);

    let mut cfg = config(ListenerKind::Udp, tenant);
    cfg.allow = vec!["10.1.2.3".into()];
    let run = start_udp(cfg, bus_of(InProcessConfig::default())).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    client
        .send_to(b"<13>not welcome", run.addr)
        .await
        .expect("send");
    run.until("refused", |s| s.refused_peers == 1).await;
    assert_eq!(run.stats().frames, 0);

    // The loopback network allowed: accepted.
    let mut cfg = config(ListenerKind::Udp, tenant);
    cfg.allow = vec!["127.0.0.0/8".into()];
    let ok = start_udp(cfg, bus_of(InProcessConfig::default())).await;
    let mut c = ok.bus.subscribe();
    client.send_to(b"<13>welcome", ok.addr).await.expect("send");
    assert_eq!(texts(&take(&mut c, 1).await), ["<13>welcome"]);
    run.stop().await;
    ok.stop().await;
}

fn run_stats_published(bus: &InProcessBus<RawLine>, tenant: TenantId) -> u64 {
    bus.stats().tenants.get(&tenant).map_or(0, |t| t.published)
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[tokio::test]
async fn tls_listener_reads_frames_from_a_verified_client() {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server = rustls::ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");

    let tenant = TenantId::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (shutdown, signal) = Shutdown::new();
    let stats = Arc::new(ListenerStats::default());
    let bus = bus_of(InProcessConfig::default());
    let task = tokio::spawn(serve_tls(
        config(ListenerKind::Tls, tenant),
        listener,
        Arc::new(server),
        Arc::new(bus.clone()),
        clock(),
        signal,
        Arc::clone(&stats),
    ));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("root");
    let client = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut tls = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("handshake");
    tls.write_all(b"<13>over tls\n13 <13>counted!\n")
        .await
        .expect("write");
    tls.shutdown().await.expect("close_notify");

    let mut c = bus.subscribe();
    let lines = take(&mut c, 2).await;
    assert_eq!(texts(&lines), ["<13>over tls", "<13>counted!\n"]);
    assert!(lines.iter().all(|l| l.tenant == tenant));

    // A plaintext client does not get through the handshake.
    send_tcp(addr, b"<13>plaintext\n").await;
    let wait = async {
        while stats.snapshot().tls_handshake_failures == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::time::timeout(GUARD, wait)
        .await
        .expect("handshake failure counted");

    shutdown.trigger();
    tokio::time::timeout(GUARD, task)
        .await
        .expect("stops")
        .expect("join")
        .expect("ran");
    let s = stats.snapshot();
    assert_eq!((s.frames, s.published, s.connections), (2, 2, 2));
}

/// Frames read but not yet published (a batch that is not full, a flush
/// interval far away) and a last line without its terminator are all
/// published on shutdown, while the sender is still connected.
#[tokio::test]
async fn shutdown_flushes_what_was_received() {
    let tenant = TenantId::new();
    let mut cfg = config(ListenerKind::Tcp, tenant);
    cfg.batch_size = 1_000;
    cfg.flush_after = Duration::from_secs(60);
    let run = start_tcp(cfg, bus_of(InProcessConfig::default())).await;
    let mut s = TcpStream::connect(run.addr).await.expect("connect");
    let mut data = String::new();
    for i in 0..10 {
        data.push_str(&format!("<13>pending {i}\n"));
    }
    data.push_str("<13>partial");
    s.write_all(data.as_bytes()).await.expect("write");
    run.until("ten frames read", |s| s.frames == 10).await;
    assert_eq!(run.stats().published, 0, "nothing flushed yet");

    let bus = run.stop().await;
    let mut c = bus.subscribe();
    let lines = take(&mut c, 11).await;
    let mut expected: Vec<String> = (0..10).map(|i| format!("<13>pending {i}")).collect();
    expected.push("<13>partial".into());
    assert_eq!(texts(&lines), expected);

    // The UDP listener too.
    let mut cfg = config(ListenerKind::Udp, tenant);
    cfg.batch_size = 1_000;
    cfg.flush_after = Duration::from_secs(60);
    let run = start_udp(cfg, bus_of(InProcessConfig::default())).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    for i in 0..5 {
        client
            .send_to(format!("<13>u{i}").as_bytes(), run.addr)
            .await
            .expect("send");
    }
    run.until("five datagrams read", |s| s.frames == 5).await;
    let bus = run.stop().await;
    let mut c = bus.subscribe();
    assert_eq!(take(&mut c, 5).await.len(), 5);
    drop(s);
}

#[test]
fn validation_names_the_bad_key() {
    let tenant = TenantId::new();
    let ok = config(ListenerKind::Tcp, tenant);
    assert_eq!(ok.validate(), Ok(()));
    let key = |f: &dyn Fn(&mut ListenerConfig)| {
        let mut cfg = ok.clone();
        f(&mut cfg);
        cfg.validate().expect_err("invalid").key
    };
    assert_eq!(key(&|c| c.id = String::new()), "id");
    assert_eq!(key(&|c| c.id = "a b".into()), "id");
    assert_eq!(key(&|c| c.addr = "localhost".into()), "addr");
    assert_eq!(key(&|c| c.max_line = 4), "max_line");
    assert_eq!(key(&|c| c.allow = vec!["10.0.0.0/33".into()]), "allow");
    assert_eq!(key(&|c| c.batch_size = 0), "batch_size");
    assert_eq!(key(&|c| c.flush_after = Duration::ZERO), "flush_after");
    let err = {
        let mut cfg = ok.clone();
        cfg.allow = vec!["nope".into()];
        cfg.validate().expect_err("invalid")
    };
    assert!(
        err.to_string().contains("edge-1") && err.to_string().contains("allow"),
        "{err}"
    );
}

/// util-linux `logger` as a real sender: TCP (newline framing), TCP with
/// octet counting, and UDP.
#[tokio::test]
async fn logger_from_util_linux_gets_through() {
    let Ok(path) = which_logger() else {
        println!("note: util-linux `logger` is not installed; skipping");
        return;
    };
    let tenant = TenantId::new();
    let tcp = start_tcp(
        config(ListenerKind::Tcp, tenant),
        bus_of(InProcessConfig::default()),
    )
    .await;
    let udp = start_udp(
        config(ListenerKind::Udp, tenant),
        bus_of(InProcessConfig::default()),
    )
    .await;
    let runs: [(&Running, &[&str], &str); 3] = [
        (&tcp, &["--tcp"], "hello over tcp"),
        (&tcp, &["--tcp", "--octet-count"], "hello counted"),
        (&udp, &["--udp"], "hello over udp"),
    ];
    for (run, flags, message) in runs {
        let mut c = run.bus.subscribe();
        let port = run.addr.port().to_string();
        let mut args: Vec<String> = flags.iter().map(|s| (*s).to_owned()).collect();
        args.extend(
            [
                "--server",
                "127.0.0.1",
                "--port",
                &port,
                "--rfc5424",
                "-t",
                "garrison-test",
                message,
            ]
            .map(str::to_owned),
        );
        let path = path.clone();
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new(path).args(&args).status()
        })
        .await
        .expect("join")
        .expect("logger runs");
        assert!(status.success(), "logger {flags:?}: {status}");
        let lines = take(&mut c, 1).await;
        let line = &lines[0].line;
        assert!(line.starts_with('<'), "{line}");
        assert!(line.contains("garrison-test"), "{line}");
        assert!(line.ends_with(message), "{line}");
        assert_eq!(lines[0].tenant, run.tenant);
    }
    tcp.stop().await;
    udp.stop().await;
}

fn which_logger() -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join("logger"))
        .find(|p| p.is_file())
        .ok_or(())
}

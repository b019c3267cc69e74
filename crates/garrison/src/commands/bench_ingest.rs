//! `garrison bench ingest`: events over loopback into the store, through
//! the same parts `serve` runs — a TCP syslog listener and `POST
//! /ingest/v1/events` (plain HTTP: TLS termination is not measured) —
//! with the ingest pipeline parsing and storing.
//!
//! 1. **Throughput**: senders push as fast as the server takes them (TCP
//!    with socket backpressure; HTTP requests of 1,000 lines, backing off
//!    on 429/503) for `--ingest-seconds`; the figure is the rate of events
//!    *stored* (committed), measured after a warm-up, with the process's
//!    peak memory.
//! 2. **Latency**: senders paced at `--ingest-rate` events a second; the
//!    figure is the 99th percentile of the time from receiving a line to
//!    committing its event (then searchable), observed by the pipeline for
//!    every event (`LagHistogram`, bucket bounds).
//!
//! The lines are the demo's realistic mix (firewall CEF and SSH syslog
//! over TCP; Suricata, Winlogbeat and Zeek JSON over HTTP), format `auto`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use garrison_app::App;
use garrison_app::events::http::NewIngestToken;
use garrison_app::events::ingest::Format;
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_core::rng::Rng;
use garrison_core::{Clock, Principal, SystemClock, TenantId};
use garrison_ingest::listen::{self, ListenerConfig, ListenerKind, ListenerStats, Shutdown};
use tokio::io::AsyncWriteExt;

use super::bench::Figure;
use crate::demo_events::{self, Host, Scene, Target};

const TCP_SENDERS: usize = 2;
/// HTTP senders when flooding (each sends its next request as soon as the
/// last is answered).
const HTTP_SENDERS: usize = 2;
/// HTTP senders at a paced rate: each waits for its answer (it comes after
/// the commit), so several run at once to keep the offered rate when
/// commits take long.
const PACED_HTTP_SENDERS: usize = 8;
const LINES_PER_REQUEST: usize = 1_000;
/// Share of the paced rate sent over TCP (the rest over HTTP).
const TCP_SHARE: f64 = 0.6;

/// A made-up tenant network for the generator.
fn scene(tenant: TenantId) -> Scene {
    let hosts = (0..64_u8)
        .map(|i| Host {
            name: format!("host-{i:02}"),
            ip: std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 30, i / 16, 10 + i)),
            windows: i % 3 == 0,
            exposed: i % 8 == 0,
        })
        .collect();
    Scene {
        tenant,
        hosts,
        targets: vec![Target {
            ip: "10.30.0.10".parse().expect("address"),
            port: 3389,
            cve: "CVE-2019-0708".to_owned(),
            title: "Remote Desktop Services RCE".to_owned(),
        }],
    }
}

/// The line pools: (TCP lines, HTTP request bodies).
fn pools(tenant: TenantId) -> (Vec<u8>, Vec<String>) {
    let scene = scene(tenant);
    let mut rng = Rng::new(0x5EED);
    let now = SystemClock.now();
    let (mut tcp, mut http) = (String::new(), Vec::new());
    let mut body = String::new();
    let mut in_body = 0;
    while tcp.len() < 16 * 1024 * 1024 || http.len() < 64 {
        for (_, line) in demo_events::tick(&mut rng, now, &scene) {
            if line.starts_with('{') {
                if http.len() < 64 {
                    body.push_str(&line);
                    body.push('\n');
                    in_body += 1;
                    if in_body == LINES_PER_REQUEST {
                        http.push(std::mem::take(&mut body));
                        in_body = 0;
                    }
                }
            } else if tcp.len() < 16 * 1024 * 1024 {
                tcp.push_str(&line);
                tcp.push('\n');
            }
        }
    }
    (tcp.into_bytes(), http)
}

/// Events stored for the tenant so far, and the pipeline's view of its
/// receive-to-commit lag.
fn stored(app: &App, tenant: TenantId) -> (u64, garrison_app::events::lag::LagHistogram) {
    let stats = app.pipeline().stats();
    let Some(t) = stats.tenants.get(&tenant) else {
        return (0, garrison_app::events::lag::LagHistogram::default());
    };
    let mut lag = garrison_app::events::lag::LagHistogram::default();
    let mut n = 0;
    for s in t.sources.values() {
        n += s.stored;
        lag.merge(&s.lag);
    }
    (n, lag)
}

/// Writes lines over one TCP connection: as fast as it goes (`rate` 0)
/// or paced at `rate` lines a second. Returns the lines written.
async fn tcp_sender(
    addr: SocketAddr,
    pool: Arc<Vec<u8>>,
    start: usize,
    rate: f64,
    stop: Arc<AtomicBool>,
) -> Result<u64> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut at = start % pool.len();
    let mut sent = 0_u64;
    let began = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while !stop.load(Ordering::Relaxed) {
        let want = if rate > 0.0 {
            tick.tick().await;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let due = (began.elapsed().as_secs_f64() * rate) as u64;
            due.saturating_sub(sent)
        } else {
            2_000
        };
        // Whole lines from the pool, wrapping around.
        let mut chunk = Vec::with_capacity(usize::try_from(want).unwrap_or(0) * 200);
        for _ in 0..want {
            let end = pool[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(pool.len(), |i| at + i + 1);
            chunk.extend_from_slice(&pool[at..end]);
            at = if end >= pool.len() { 0 } else { end };
        }
        stream.write_all(&chunk).await?;
        sent += want;
    }
    stream.shutdown().await?;
    Ok(sent)
}

/// Posts request bodies: back to back (`rate` 0) or paced, a share
/// `phase` of a period ahead of the others so that paced senders do not
/// all send at the same instant. Returns the lines acknowledged (200).
async fn http_sender(
    url: String,
    token: String,
    bodies: Arc<Vec<String>>,
    start: usize,
    (rate, phase): (f64, f64),
    stop: Arc<AtomicBool>,
) -> Result<u64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let mut acked = 0_u64;
    let mut i = start;
    let began = Instant::now();
    let per_request = LINES_PER_REQUEST as f64;
    while !stop.load(Ordering::Relaxed) {
        if rate > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let ahead =
                (acked as f64 + per_request * (1.0 - phase)) / rate - began.elapsed().as_secs_f64();
            if ahead > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(ahead)).await;
            }
        }
        let body = bodies[i % bodies.len()].clone();
        i += 1;
        let r = client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await?;
        if r.status().is_success() {
            acked += LINES_PER_REQUEST as u64;
        } else {
            // 429/503: told to wait; a short pause keeps the pressure on.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(r.bytes().await);
    }
    Ok(acked)
}

struct Senders {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Result<u64>>>,
}

impl Senders {
    async fn stop(self) -> Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        let mut n = 0;
        for t in self.tasks {
            n += t.await.context("a sender panicked")??;
        }
        Ok(n)
    }
}

struct Rig {
    tcp: SocketAddr,
    url: String,
    token: String,
    tcp_pool: Arc<Vec<u8>>,
    bodies: Arc<Vec<String>>,
}

impl Rig {
    fn senders(&self, rate: f64) -> Senders {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        let http_senders = if rate > 0.0 {
            PACED_HTTP_SENDERS
        } else {
            HTTP_SENDERS
        };
        #[allow(clippy::cast_precision_loss)]
        let (tcp_rate, http_rate) = if rate > 0.0 {
            (
                rate * TCP_SHARE / TCP_SENDERS as f64,
                rate * (1.0 - TCP_SHARE) / http_senders as f64,
            )
        } else {
            (0.0, 0.0)
        };
        for i in 0..TCP_SENDERS {
            tasks.push(tokio::spawn(tcp_sender(
                self.tcp,
                self.tcp_pool.clone(),
                i * 7_919,
                tcp_rate,
                stop.clone(),
            )));
        }
        for i in 0..http_senders {
            // Independent clients: their requests spread over the period
            // rather than arriving together (which measured a burst of
            // eight requests, not a steady rate).
            #[allow(clippy::cast_precision_loss)]
            let phase = i as f64 / http_senders as f64;
            tasks.push(tokio::spawn(http_sender(
                self.url.clone(),
                self.token.clone(),
                self.bodies.clone(),
                i * 17,
                (http_rate, phase),
                stop.clone(),
            )));
        }
        Senders { stop, tasks }
    }
}

/// Runs both measurements; `say` reports progress.
pub(super) async fn figures(
    app: &Arc<App>,
    seconds: u64,
    rate: u64,
    say: &(dyn Fn(String) + Sync),
) -> Result<Vec<Figure>> {
    let op = Principal::system("bench");
    let tenant = app
        .create_tenant(&op, "bench-ingest", "Bench ingest")
        .await?;
    let token = app
        .create_ingest_token(
            &op,
            tenant.id,
            &NewIngestToken {
                name: "bench-http".to_owned(),
                format: "auto".to_owned(),
                allow: Vec::new(),
            },
        )
        .await?;

    // The server side: a TCP syslog listener and the HTTP router.
    let (shutdown, signal) = Shutdown::new();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let tcp_addr = tcp.local_addr()?;
    let mut cfg = ListenerConfig::new(
        "bench-tcp",
        tenant.id,
        ListenerKind::Tcp,
        tcp_addr.to_string(),
    );
    cfg.format = Format::Auto;
    let bus: Arc<dyn Bus<RawLine>> = app.pipeline().bus().clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let listener_stats = Arc::new(ListenerStats::default());
    let tcp_task = tokio::spawn(listen::serve_tcp(
        cfg,
        tcp,
        bus,
        clock,
        signal.clone(),
        listener_stats.clone(),
    ));
    let http = std::net::TcpListener::bind("127.0.0.1:0")?;
    let http_addr = http.local_addr()?;
    let router = garrison_web::router(garrison_web::WebState::new(
        app.clone(),
        garrison_web::WebConfig::default(),
    ));
    let mut web_signal = signal.clone();
    let http_task = tokio::spawn(garrison_web::server::serve(
        http,
        router,
        None,
        async move { web_signal.triggered().await },
        Duration::from_secs(5),
    ));

    say("preparing the event mix…".to_owned());
    let (tcp_pool, bodies) = pools(tenant.id);
    let rig = Rig {
        tcp: tcp_addr,
        url: format!("http://{http_addr}/ingest/v1/events"),
        token: token.secret.expose().clone(),
        tcp_pool: Arc::new(tcp_pool),
        bodies: Arc::new(bodies),
    };
    let mut figures = Vec::new();

    // 1. Throughput.
    say(format!(
        "ingest: sending as fast as it is taken for {seconds} s (TCP syslog and HTTP)…"
    ));
    super::bench::reset_peak();
    let senders = rig.senders(0.0);
    let warmup = Duration::from_secs(seconds.clamp(1, 5));
    tokio::time::sleep(warmup).await;
    let (from, _) = stored(app, tenant.id);
    let began = Instant::now();
    let mut slowest = f64::MAX;
    let mut last = from;
    let peak_depth = AtomicU64::new(0);
    for _ in 0..seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (now, _) = stored(app, tenant.id);
        #[allow(clippy::cast_precision_loss)]
        let per_second = (now - last) as f64;
        slowest = slowest.min(per_second);
        last = now;
        let depth = app
            .pipeline()
            .bus()
            .snapshot()
            .tenants
            .get(&tenant.id)
            .map_or(0, |t| t.queued_events + t.in_flight_events);
        peak_depth.fetch_max(depth as u64, Ordering::Relaxed);
    }
    let elapsed = began.elapsed().as_secs_f64();
    let (to, _) = stored(app, tenant.id);
    let sent = senders.stop().await?;
    #[allow(clippy::cast_precision_loss)]
    let rate_stored = (to - from) as f64 / elapsed;
    let peak = super::bench::peak_mib();
    figures.push(
        Figure {
            at_least: false,
            name: format!("ingest {seconds} s: events stored/s"),
            value: rate_stored,
            unit: "ev/s",
            target: 50_000.0,
            detail: format!(
                "{} stored in {elapsed:.1} s after a {} s warm-up; slowest second {slowest:.0}; \
             {sent} lines acknowledged or written by the senders; queue peak {}",
                to - from,
                warmup.as_secs(),
                peak_depth.load(Ordering::Relaxed)
            ),
        }
        .at_least(),
    );
    if let Some(p) = peak {
        figures.push(Figure {
            at_least: false,
            name: "ingest: peak memory".to_owned(),
            value: p,
            unit: "MiB",
            target: 1024.0,
            detail: "whole process, server and senders, while flooding".to_owned(),
        });
    }
    // Let the backlog drain before pacing: queued and in flight (events
    // of the flood committed during the paced run would count their wait
    // behind the flood's backlog in its latency).
    // Empty twice in a row, as the listeners may still be reading what
    // the senders left in their sockets.
    let drain = Instant::now();
    let mut empty = 0;
    while empty < 2 && drain.elapsed() < Duration::from_secs(60) {
        let bus = app.pipeline().bus().snapshot();
        empty = if bus.queued_events == 0 && bus.in_flight_events == 0 {
            empty + 1
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // 2. Latency at a steady rate.
    let paced = (seconds / 2).max(5);
    say(format!(
        "ingest: {rate} events/s for {paced} s, measuring receive-to-commit…"
    ));
    let (_, lag_before) = stored(app, tenant.id);
    let (count_before, _) = stored(app, tenant.id);
    #[allow(clippy::cast_precision_loss)]
    let senders = rig.senders(rate as f64);
    tokio::time::sleep(Duration::from_secs(paced)).await;
    senders.stop().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (count_after, lag_after) = stored(app, tenant.id);
    let lag = lag_after.minus(&lag_before);
    let p99 = lag.quantile_bound_ms(0.99).unwrap_or(u64::MAX);
    let p50 = lag.quantile_bound_ms(0.50).unwrap_or(u64::MAX);
    let p90 = lag.quantile_bound_ms(0.90).unwrap_or(u64::MAX);
    #[allow(clippy::cast_precision_loss)]
    let kept_up = (count_after - count_before) as f64 / paced as f64;
    // A latency measured while a backlog grows means little: the rate
    // stored must match the rate sent.
    #[allow(clippy::cast_precision_loss)]
    figures.push(
        Figure {
            at_least: false,
            name: format!("ingest at {rate}/s: stored/s"),
            value: kept_up,
            unit: "ev/s",
            target: rate as f64 * 0.95,
            detail: format!("must keep up with the {rate} events/s sent (95 %)"),
        }
        .at_least(),
    );
    #[allow(clippy::cast_precision_loss)]
    figures.push(Figure {
        at_least: false,
        name: format!("ingest at {rate}/s: p99 receive→stored"),
        value: p99 as f64 / 1000.0,
        unit: "s",
        target: 1.0,
        detail: format!(
            "bucket bounds: p50 ≤ {p50} ms, p90 ≤ {p90} ms, p99 ≤ {p99} ms over {} events \
             (mean {} ms)",
            lag.count,
            lag.sum_ms / lag.count.max(1),
        ),
    });

    shutdown.trigger();
    let _ = tcp_task.await;
    let _ = http_task.await;
    Ok(figures)
}

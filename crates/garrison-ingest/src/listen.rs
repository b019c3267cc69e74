//! Syslog listeners: UDP (one message per datagram, RFC 5426), TCP and TLS
//! (RFC 6587 framing, see [`crate::framing`]), each bound to one tenant.
//!
//! Every message becomes a [`RawLine`] (the listener's tenant, its id as the
//! source, the receive time from the [`Clock`], the configured format),
//! published on the raw bus in batches of up to `batch_size`, or sooner
//! once the oldest line of a batch has waited `flush_after`.
//!
//! **Overload.** TCP and TLS publish with [`Bus::publish_wait`]: while the
//! bus is full a connection's task stops reading its socket, the kernel
//! buffers fill and the sender is held back (backpressure); nothing is
//! dropped. UDP cannot hold a sender back: it publishes with
//! [`Bus::publish`], never waits, and counts what the bus refused
//! (`dropped_overload`).
//!
//! **Peers.** With a non-empty allowlist, a TCP/TLS peer outside it is
//! closed at accept and a UDP datagram from outside it is dropped; both are
//! counted (`refused_peers`).
//!
//! **Bad input.** Framing never fails: over-long frames are cut or refused
//! by the configured [`Policy`], bytes that are not UTF-8 are replaced, and
//! both are counted; parsing happens downstream, so a malformed line holds
//! nothing up here.
//!
//! **Shutdown.** When the [`Shutdown`] signal fires, a listener stops
//! accepting; each connection takes what its socket already holds without
//! waiting for more, emits a partial last frame, flushes its batch and
//! ends; the listener returns once all have. (A flush waits for room on a
//! full bus: stop the listeners before the bus's consumers.)

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use garrison_core::Clock;
use garrison_core::ids::TenantId;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Format;
use crate::bus::{Bus, PublishError, RawLine};
use crate::framing::{self, Datagram, Decoder, Frame, MIN_MAX_FRAME, Policy};

/// The largest `max_line` accepted (16 MiB).
pub const MAX_LINE_LIMIT: usize = 16 << 20;

/// Reads (of up to 16 KiB) a connection still takes at shutdown.
const SHUTDOWN_DRAIN_READS: usize = 64;

/// The transport a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerKind {
    Udp,
    Tcp,
    Tls,
}

impl ListenerKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

impl std::str::FromStr for ListenerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "udp" => Ok(Self::Udp),
            "tcp" => Ok(Self::Tcp),
            "tls" => Ok(Self::Tls),
            other => Err(format!(
                "unknown listener kind {other:?}; expected udp, tcp or tls"
            )),
        }
    }
}

/// One syslog listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Names the listener; becomes every line's `source_id`.
    pub id: String,
    /// The tenant everything received here belongs to.
    pub tenant: TenantId,
    pub kind: ListenerKind,
    /// `ip:port` to bind (`run_*`; `serve_*` take a bound socket).
    pub addr: String,
    pub format: Format,
    /// The longest frame in bytes, at least [`MIN_MAX_FRAME`].
    pub max_line: usize,
    /// What happens to a longer frame.
    pub overlong: Policy,
    /// Peers allowed to send, as networks (`10.0.0.0/8`) or addresses; empty
    /// allows every peer.
    pub allow: Vec<String>,
    /// Lines per published batch (keep it within the bus's largest batch).
    pub batch_size: usize,
    /// How long a line may wait for its batch to fill.
    pub flush_after: Duration,
    /// How long a TLS peer has to complete its handshake.
    pub handshake_timeout: Duration,
}

impl ListenerConfig {
    /// A listener with the defaults: format `syslog`, 64 KiB lines
    /// truncated, every peer allowed, batches of 500 or 5 ms.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        tenant: TenantId,
        kind: ListenerKind,
        addr: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            tenant,
            kind,
            addr: addr.into(),
            format: Format::Syslog,
            max_line: 64 * 1024,
            overlong: Policy::Truncate,
            allow: Vec::new(),
            batch_size: 500,
            flush_after: Duration::from_millis(5),
            handshake_timeout: Duration::from_secs(10),
        }
    }

    /// Checks every key; the error names the first bad one.
    ///
    /// # Errors
    /// [`ConfigError`] with the key and the reason.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.checked().map(drop)
    }

    fn checked(&self) -> Result<Checked, ConfigError> {
        let err = |key: &'static str, reason: String| ConfigError {
            listener: self.id.clone(),
            key,
            reason,
        };
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(err(
                "id",
                "must be 1 to 64 characters of letters, digits, '-', '_' and '.'".into(),
            ));
        }
        let addr: SocketAddr = self
            .addr
            .trim()
            .parse()
            .map_err(|_| err("addr", format!("{:?} is not an ip:port address", self.addr)))?;
        if !(MIN_MAX_FRAME..=MAX_LINE_LIMIT).contains(&self.max_line) {
            return Err(err(
                "max_line",
                format!(
                    "{} is outside {MIN_MAX_FRAME}..={MAX_LINE_LIMIT} bytes",
                    self.max_line
                ),
            ));
        }
        let mut allow = Vec::with_capacity(self.allow.len());
        for entry in &self.allow {
            let text = entry.trim();
            let net = text
                .parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    err(
                        "allow",
                        format!("{entry:?} is not a network (10.0.0.0/8) or an address"),
                    )
                })?;
            allow.push(net.trunc());
        }
        if !(1..=10_000).contains(&self.batch_size) {
            return Err(err(
                "batch_size",
                format!("{} is outside 1..=10000", self.batch_size),
            ));
        }
        if self.flush_after.is_zero() || self.flush_after > Duration::from_secs(60) {
            return Err(err(
                "flush_after",
                format!("{:?} is outside (0, 60 s]", self.flush_after),
            ));
        }
        if self.handshake_timeout.is_zero() {
            return Err(err("handshake_timeout", "must be above zero".into()));
        }
        Ok(Checked { addr, allow })
    }
}

struct Checked {
    addr: SocketAddr,
    allow: Vec<IpNet>,
}

/// A bad listener setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("listener {listener:?}: {key}: {reason}")]
pub struct ConfigError {
    pub listener: String,
    /// The configuration key at fault.
    pub key: &'static str,
    pub reason: String,
}

/// Why a listener could not run.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("listener {listener:?}: cannot bind {addr}: {source}")]
    Bind {
        listener: String,
        addr: SocketAddr,
        source: io::Error,
    },
    #[error("listener {listener:?} is {actual}, not {expected}")]
    Kind {
        listener: String,
        expected: &'static str,
        actual: &'static str,
    },
}

/// Tells listeners to shut down: [`Shutdown::trigger`] on this side,
/// [`ShutdownSignal`]s (cloned into each listener) on the other.
#[derive(Debug)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    /// A trigger and its first signal.
    #[must_use]
    pub fn new() -> (Self, ShutdownSignal) {
        let (tx, rx) = watch::channel(false);
        (Self(tx), ShutdownSignal(rx))
    }

    /// Another signal of this trigger.
    #[must_use]
    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.0.subscribe())
    }

    /// Signals shutdown to every listener (idempotent).
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

/// The listening side of [`Shutdown`]. A dropped trigger counts as
/// triggered, so no listener outlives its owner.
#[derive(Debug, Clone)]
pub struct ShutdownSignal(watch::Receiver<bool>);

impl ShutdownSignal {
    #[must_use]
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Returns once shutdown is triggered.
    pub async fn triggered(&mut self) {
        let _ = self.0.wait_for(|&down| down).await;
    }
}

/// A listener's counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// TCP/TLS connections accepted (allowed peers).
    pub connections: AtomicU64,
    /// Frames (messages) received.
    pub frames: AtomicU64,
    /// Bytes read from sockets (allowed peers).
    pub bytes: AtomicU64,
    /// Frames cut to `max_line`.
    pub truncated: AtomicU64,
    /// Frames refused for their length.
    pub refused_overlong: AtomicU64,
    /// Frames with bytes that were not UTF-8.
    pub lossy_utf8: AtomicU64,
    /// Lines the bus refused as overloaded (UDP).
    pub dropped_overload: AtomicU64,
    /// Connections or datagrams from peers outside the allowlist.
    pub refused_peers: AtomicU64,
    /// Lines the bus accepted.
    pub published: AtomicU64,
    /// Lines the bus would not take for good (closed, batch too large).
    pub publish_failed: AtomicU64,
    /// TLS handshakes that failed or timed out.
    pub tls_handshake_failures: AtomicU64,
    /// Errors accepting or receiving (out of descriptors, ICMP errors).
    pub socket_errors: AtomicU64,
}

/// A snapshot of [`ListenerStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    pub connections: u64,
    pub frames: u64,
    pub bytes: u64,
    pub truncated: u64,
    pub refused_overlong: u64,
    pub lossy_utf8: u64,
    pub dropped_overload: u64,
    pub refused_peers: u64,
    pub published: u64,
    pub publish_failed: u64,
    pub tls_handshake_failures: u64,
    pub socket_errors: u64,
}

impl ListenerStats {
    #[must_use]
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            connections: g(&self.connections),
            frames: g(&self.frames),
            bytes: g(&self.bytes),
            truncated: g(&self.truncated),
            refused_overlong: g(&self.refused_overlong),
            lossy_utf8: g(&self.lossy_utf8),
            dropped_overload: g(&self.dropped_overload),
            refused_peers: g(&self.refused_peers),
            published: g(&self.published),
            publish_failed: g(&self.publish_failed),
            tls_handshake_failures: g(&self.tls_handshake_failures),
            socket_errors: g(&self.socket_errors),
        }
    }
}

fn add(counter: &AtomicU64, n: u64) {
    if n > 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// What every task of one listener shares.
struct Ctx {
    id: String,
    tenant: TenantId,
    format: Format,
    max_line: usize,
    overlong: Policy,
    allow: Vec<IpNet>,
    batch_size: usize,
    flush_after: Duration,
    handshake_timeout: Duration,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    stats: Arc<ListenerStats>,
    /// The largest batch the bus has taken: larger ones are published with
    /// a copy kept, so a `TooLarge` answer can be split instead of lost.
    known_good: AtomicUsize,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    fn new(
        cfg: &ListenerConfig,
        expected: ListenerKind,
        bus: Arc<dyn Bus<RawLine>>,
        clock: Arc<dyn Clock>,
        stats: Arc<ListenerStats>,
    ) -> Result<(Self, SocketAddr), ListenError> {
        let checked = cfg.checked()?;
        if cfg.kind != expected {
            return Err(ListenError::Kind {
                listener: cfg.id.clone(),
                expected: expected.as_str(),
                actual: cfg.kind.as_str(),
            });
        }
        let ctx = Self {
            id: cfg.id.clone(),
            tenant: cfg.tenant,
            format: cfg.format,
            max_line: cfg.max_line,
            overlong: cfg.overlong,
            allow: checked.allow,
            batch_size: cfg.batch_size,
            flush_after: cfg.flush_after,
            handshake_timeout: cfg.handshake_timeout,
            bus,
            clock,
            stats,
            known_good: AtomicUsize::new(0),
        };
        Ok((ctx, checked.addr))
    }

    fn allowed(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&peer))
    }

    fn raw_line(&self, frame: Frame, received_at: garrison_core::Timestamp) -> RawLine {
        RawLine {
            id: garrison_core::EventId::new(),
            tenant: self.tenant,
            source_id: self.id.clone(),
            received_at,
            format: self.format,
            line: frame.line,
            receipt: None,
        }
    }

    /// Publishes `batch` (emptying it): waiting for room (`wait`, TCP) or
    /// counting the lines the bus refuses as overloaded (UDP).
    async fn flush(&self, batch: &mut Vec<RawLine>, wait: bool) {
        if batch.is_empty() {
            return;
        }
        let mut queue = VecDeque::from([std::mem::take(batch)]);
        while let Some(batch) = queue.pop_front() {
            let n = batch.len();
            if n == 0 {
                continue;
            }
            let spare = (n > self.known_good.load(Ordering::Relaxed)).then(|| batch.clone());
            let result = if wait {
                self.bus.publish_wait(self.tenant, batch).await
            } else {
                self.bus.publish(self.tenant, batch).await
            };
            match result {
                Ok(_) => {
                    self.known_good.fetch_max(n, Ordering::Relaxed);
                    add(&self.stats.published, count(n));
                }
                Err(PublishError::Overloaded { .. }) => add(&self.stats.dropped_overload, count(n)),
                Err(PublishError::TooLarge { max, .. })
                    if max > 0 && max < n && spare.is_some() =>
                {
                    let mut rest = spare.unwrap_or_default();
                    let mut parts = Vec::new();
                    while !rest.is_empty() {
                        let tail = rest.split_off(max.min(rest.len()));
                        parts.push(rest);
                        rest = tail;
                    }
                    for part in parts.into_iter().rev() {
                        queue.push_front(part);
                    }
                }
                Err(_) => add(&self.stats.publish_failed, count(n)),
            }
        }
    }
}

/// Binds `cfg.addr` and serves it as a UDP listener until shutdown.
///
/// # Errors
/// A bad configuration or an address that cannot be bound.
pub async fn run_udp(
    cfg: ListenerConfig,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    shutdown: ShutdownSignal,
    stats: Arc<ListenerStats>,
) -> Result<(), ListenError> {
    let addr = cfg.checked()?.addr;
    let socket = UdpSocket::bind(addr)
        .await
        .map_err(|source| ListenError::Bind {
            listener: cfg.id.clone(),
            addr,
            source,
        })?;
    serve_udp(cfg, socket, bus, clock, shutdown, stats).await
}

/// Binds `cfg.addr` and serves it as a TCP listener until shutdown.
///
/// # Errors
/// A bad configuration or an address that cannot be bound.
pub async fn run_tcp(
    cfg: ListenerConfig,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    shutdown: ShutdownSignal,
    stats: Arc<ListenerStats>,
) -> Result<(), ListenError> {
    let listener = bind_tcp(&cfg).await?;
    serve_tcp(cfg, listener, bus, clock, shutdown, stats).await
}

/// Binds `cfg.addr` and serves it as a TLS listener until shutdown.
///
/// # Errors
/// A bad configuration or an address that cannot be bound.
pub async fn run_tls(
    cfg: ListenerConfig,
    tls: Arc<rustls::ServerConfig>,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    shutdown: ShutdownSignal,
    stats: Arc<ListenerStats>,
) -> Result<(), ListenError> {
    let listener = bind_tcp(&cfg).await?;
    serve_tls(cfg, listener, tls, bus, clock, shutdown, stats).await
}

async fn bind_tcp(cfg: &ListenerConfig) -> Result<TcpListener, ListenError> {
    let addr = cfg.checked()?.addr;
    TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Bind {
            listener: cfg.id.clone(),
            addr,
            source,
        })
}

/// Serves a bound UDP socket (`cfg.addr` is not used) until shutdown: one
/// message per datagram, published without waiting.
///
/// # Errors
/// A bad configuration.
pub async fn serve_udp(
    cfg: ListenerConfig,
    socket: UdpSocket,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    mut shutdown: ShutdownSignal,
    stats: Arc<ListenerStats>,
) -> Result<(), ListenError> {
    let (ctx, _) = Ctx::new(&cfg, ListenerKind::Udp, bus, clock, stats)?;
    // The largest UDP payload, so no datagram is cut by the receive.
    let mut buf = vec![0u8; 65_536];
    let mut batch = Vec::with_capacity(ctx.batch_size);
    let mut deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            () = shutdown.triggered() => {
                // What the socket already holds, without waiting for more
                // (bounded, as a flood would never let it end).
                for _ in 0..SHUTDOWN_DRAIN_READS * 16 {
                    let Ok((n, peer)) = socket.try_recv_from(&mut buf) else {
                        break;
                    };
                    udp_datagram(&ctx, &buf[..n], peer, &mut batch);
                    if batch.len() >= ctx.batch_size {
                        ctx.flush(&mut batch, false).await;
                    }
                }
                break;
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                ctx.flush(&mut batch, false).await;
                deadline = None;
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, peer)) => {
                    udp_datagram(&ctx, &buf[..n], peer, &mut batch);
                    if batch.len() >= ctx.batch_size {
                        ctx.flush(&mut batch, false).await;
                        deadline = None;
                    } else if deadline.is_none() && !batch.is_empty() {
                        deadline = Some(Instant::now() + ctx.flush_after);
                    }
                }
                // E.g. an ICMP error reported on the socket: not fatal.
                Err(_) => add(&ctx.stats.socket_errors, 1),
            },
        }
    }
    ctx.flush(&mut batch, false).await;
    Ok(())
}

fn udp_datagram(ctx: &Ctx, bytes: &[u8], peer: SocketAddr, batch: &mut Vec<RawLine>) {
    if !ctx.allowed(peer.ip()) {
        add(&ctx.stats.refused_peers, 1);
        return;
    }
    add(&ctx.stats.bytes, count(bytes.len()));
    match framing::datagram(bytes, ctx.max_line, ctx.overlong) {
        Datagram::Frame(frame) => {
            add(&ctx.stats.frames, 1);
            add(&ctx.stats.truncated, u64::from(frame.truncated));
            add(&ctx.stats.lossy_utf8, u64::from(frame.lossy));
            batch.push(ctx.raw_line(frame, ctx.clock.now()));
        }
        Datagram::Refused => add(&ctx.stats.refused_overlong, 1),
        Datagram::Empty => {}
    }
}

/// Serves a bound TCP listener (`cfg.addr` is not used) until shutdown.
///
/// # Errors
/// A bad configuration.
pub async fn serve_tcp(
    cfg: ListenerConfig,
    listener: TcpListener,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    shutdown: ShutdownSignal,
    stats: Arc<ListenerStats>,
) -> Result<(), ListenError> {
    let (ctx, _) = Ctx::new(&cfg, ListenerKind::Tcp, bus, clock, stats)?;
    accept_loop(Arc::new(ctx), listener, shutdown, None).await;
    Ok(())
}

/// Serves a bound TCP listener with TLS (`cfg.addr` is not used) until
/// shutdown.
///
/// # Errors
/// A bad configuration.
pub async fn serve_tls(
    cfg: ListenerConfig,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    bus: Arc<dyn Bus<RawLine>>,
    clock: Arc<dyn Clock>,
    shutdown: ShutdownSignal,
    stats: Arc<ListenerStats>,
) -> Result<(), ListenError> {
    let (ctx, _) = Ctx::new(&cfg, ListenerKind::Tls, bus, clock, stats)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    accept_loop(Arc::new(ctx), listener, shutdown, Some(acceptor)).await;
    Ok(())
}

async fn accept_loop(
    ctx: Arc<Ctx>,
    listener: TcpListener,
    shutdown: ShutdownSignal,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut connections = JoinSet::new();
    let mut signal = shutdown.clone();
    loop {
        tokio::select! {
            biased;
            () = signal.triggered() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if !ctx.allowed(peer.ip()) {
                        add(&ctx.stats.refused_peers, 1);
                        drop(stream);
                        continue;
                    }
                    add(&ctx.stats.connections, 1);
                    let (ctx, shutdown, tls) = (Arc::clone(&ctx), shutdown.clone(), tls.clone());
                    connections.spawn(async move {
                        match tls {
                            None => read_frames(&ctx, stream, shutdown).await,
                            Some(acceptor) => tls_connection(&ctx, acceptor, stream, shutdown).await,
                        }
                    });
                }
                Err(_) => {
                    // Out of descriptors and the like: breathe, go on.
                    add(&ctx.stats.socket_errors, 1);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn tls_connection(
    ctx: &Ctx,
    acceptor: tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    mut shutdown: ShutdownSignal,
) {
    let handshake = tokio::time::timeout(ctx.handshake_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        () = shutdown.triggered() => return,
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(_)) | Err(_) => {
                add(&ctx.stats.tls_handshake_failures, 1);
                return;
            }
        },
    };
    read_frames(ctx, stream, shutdown).await;
}

/// One stream connection: frames into batches, published with
/// `publish_wait` (not reading while the bus is full).
async fn read_frames<S: AsyncRead + Unpin>(ctx: &Ctx, mut stream: S, mut shutdown: ShutdownSignal) {
    let mut decoder = Decoder::new(ctx.max_line, ctx.overlong);
    let mut buf = vec![0u8; 16 * 1024];
    let mut frames = Vec::new();
    let mut batch = Vec::with_capacity(ctx.batch_size);
    let mut deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            () = shutdown.triggered() => {
                // What the socket already holds, without waiting for more
                // (bounded, as a flood would never let it end).
                for _ in 0..SHUTDOWN_DRAIN_READS {
                    let Some(Ok(n @ 1..)) = read_now(&mut stream, &mut buf).await else {
                        break;
                    };
                    decode(ctx, &mut decoder, &buf[..n], &mut frames, &mut batch).await;
                }
                break;
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                ctx.flush(&mut batch, true).await;
                deadline = None;
            }
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    decode(ctx, &mut decoder, &buf[..n], &mut frames, &mut batch).await;
                    if batch.is_empty() {
                        deadline = None;
                    } else if deadline.is_none() {
                        deadline = Some(Instant::now() + ctx.flush_after);
                    }
                }
            },
        }
    }
    decoder.finish(&mut frames);
    take_frames(ctx, &mut decoder, &mut frames, &mut batch);
    ctx.flush(&mut batch, true).await;
}

/// Decodes a chunk; full batches are published (waiting for room).
async fn decode(
    ctx: &Ctx,
    decoder: &mut Decoder,
    chunk: &[u8],
    frames: &mut Vec<Frame>,
    batch: &mut Vec<RawLine>,
) {
    add(&ctx.stats.bytes, count(chunk.len()));
    decoder.feed(chunk, frames);
    let received_at = ctx.clock.now();
    let counts = decoder.take_counts();
    add(&ctx.stats.frames, counts.frames);
    add(&ctx.stats.truncated, counts.truncated);
    add(&ctx.stats.refused_overlong, counts.refused);
    add(&ctx.stats.lossy_utf8, counts.lossy);
    for frame in frames.drain(..) {
        batch.push(ctx.raw_line(frame, received_at));
        if batch.len() >= ctx.batch_size {
            ctx.flush(batch, true).await;
        }
    }
}

/// Frames left after [`Decoder::finish`].
fn take_frames(
    ctx: &Ctx,
    decoder: &mut Decoder,
    frames: &mut Vec<Frame>,
    batch: &mut Vec<RawLine>,
) {
    let received_at = ctx.clock.now();
    let counts = decoder.take_counts();
    add(&ctx.stats.frames, counts.frames);
    add(&ctx.stats.truncated, counts.truncated);
    add(&ctx.stats.refused_overlong, counts.refused);
    add(&ctx.stats.lossy_utf8, counts.lossy);
    batch.extend(frames.drain(..).map(|f| ctx.raw_line(f, received_at)));
}

/// One read if data is ready now: `None` if the read would wait.
async fn read_now<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
) -> Option<io::Result<usize>> {
    poll_fn(|cx| {
        let mut read = ReadBuf::new(buf);
        match Pin::new(&mut *stream).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Some(Ok(read.filled().len()))),
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Ready(None),
        }
    })
    .await
}

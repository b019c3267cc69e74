//! The bus between pipeline stages (receive → parse/normalise → enrich →
//! detect → store): batches of messages per tenant, explicit
//! acknowledgements, backpressure.
//!
//! **Semantics: at-least-once.** [`Bus::publish`] returns `Ok` only once the
//! bus *holds* the batch; it never drops one silently. An overloaded bus
//! answers [`PublishError::Overloaded`] with a retry-after hint (what an
//! HTTP listener turns into 429/503 with `Retry-After`), and
//! [`Bus::publish_wait`] waits for room instead (what a TCP listener uses:
//! while it waits it stops reading the socket, which is the backpressure).
//! A consumer receives a [`Delivery`] (one tenant's batch) and must
//! [`Delivery::ack`] it after the downstream stage has committed what it
//! made of it; a batch that is nacked, dropped un-acked, or held by a
//! consumer that goes away is delivered again (its `attempt` grows). So a
//! batch can be seen more than once (a crash between commit and ack), never
//! lost while the bus holds it: downstream commits must be idempotent (event
//! ids are fixed before publishing).
//!
//! **What "accepted" means.** [`InProcessBus`]: the batch is enqueued in
//! bounded memory; it survives nothing (a process crash loses what is
//! queued), so with it a listener's 2xx means "in this process's queue".
//! A JetStream implementation: the server has stored the batch (the
//! publish acknowledgement of the stream), so a 2xx means "durable"; an
//! un-acked message there comes back after the consumer's ack wait.
//!
//! **Fairness.** Consumers draw from tenants by deficit round robin: the
//! tenants with queued batches form a ring; a tenant's turn adds a quantum
//! (in events) to its deficit, and it is served whole batches while its
//! deficit covers the next one, then the turn passes. A tenant flooding
//! the bus thus gets its share per round, and any other tenant's batch is
//! delivered within about one round whatever the flood's size. Within one
//! tenant, batches are delivered in publishing order (a redelivered batch
//! goes back to the front of its tenant's queue); with several consumers,
//! processing of consecutive batches may overlap.
//!
//! **Rate cap.** Per tenant, a token bucket in events: `per_second` refill,
//! `burst` capacity, full at start. A batch takes as many tokens as it has
//! events, all or nothing; without enough, `publish` answers `Overloaded`
//! with the time until the bucket holds enough, and `publish_wait` sleeps
//! that long. Capacity is bounded twice: per tenant and in total, counting
//! queued and in-flight (delivered, un-acked) events; room frees on ack.
//!
//! **Shutdown.** [`Bus::close`] stops accepting (`Closed`); consumers go on
//! receiving what is queued (and what comes back by nack), and their
//! `next` answers `None` once nothing is queued or in flight elsewhere.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use garrison_core::event::Event;
use garrison_core::ids::{EventId, TenantId};
use garrison_core::{Clock, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::Format;

/// What travels on the bus: serialisable (a JetStream implementation sends
/// it as bytes) and owned by one tenant.
pub trait Message: Serialize + DeserializeOwned + Send + Sync + fmt::Debug + 'static {
    /// The tenant the message belongs to; a batch is one tenant's.
    fn tenant(&self) -> TenantId;
}

/// A line (or JSON record) as a listener received it, before parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawLine {
    /// The id of the event this line becomes, fixed by the publisher when
    /// the line is received (`EventId::new()`, a UUIDv7): a batch delivered
    /// again makes events with the same ids, which the store's idempotent
    /// insert keeps once. (Deriving ids from the content instead would
    /// merge two identical lines received in the same millisecond.)
    pub id: EventId,
    pub tenant: TenantId,
    /// The listener, ingest token or file it came through.
    pub source_id: String,
    pub received_at: Timestamp,
    /// The format the source is configured with (`auto` to detect).
    #[serde(with = "format_name")]
    pub format: Format,
    /// The line without its terminator; invalid UTF-8 replaced by the
    /// listener.
    pub line: String,
    /// Set by a publisher that wants to know when the line is stored (a
    /// file ingestion, an HTTP request answered after the commit); `None`
    /// for listeners, which do not wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptTag>,
}

/// Which receipt a line counts towards, and the publisher's own number for
/// it (a file's line number), reported back with a parse failure. Tokens
/// are local to the process that issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptTag {
    pub token: u64,
    pub ordinal: u64,
}

impl Message for RawLine {
    fn tenant(&self) -> TenantId {
        self.tenant
    }
}

impl Message for Event {
    fn tenant(&self) -> TenantId {
        self.tenant_id
    }
}

/// `Format` as its configuration name on the wire.
mod format_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Format;

    pub(super) fn serialize<S: Serializer>(f: &Format, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The bus's word that it holds a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The batch's sequence number on this bus (the stream sequence on
    /// JetStream); 0 for an empty batch, which is accepted as is.
    pub seq: u64,
    pub events: usize,
}

/// Why the bus is overloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// The tenant's share of the bus is full.
    TenantCapacity,
    /// The bus as a whole is full.
    TotalCapacity,
    /// The tenant is over its rate cap.
    Rate,
}

/// Why a batch was not accepted. Nothing of a refused batch is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Try again after `retry_after` (HTTP: 429 for `Rate`, 503 otherwise).
    #[error("overloaded ({reason:?}); retry after {retry_after:?}")]
    Overloaded {
        reason: Overload,
        retry_after: Duration,
    },
    /// The batch can never fit (more events than a tenant's capacity or
    /// rate burst); split it.
    #[error("batch of {len} events is larger than the {max} the bus takes at once")]
    TooLarge { len: usize, max: usize },
    /// A message of the batch belongs to another tenant.
    #[error("a message of the batch belongs to another tenant")]
    WrongTenant,
    /// The bus is shutting down.
    #[error("the bus is closed")]
    Closed,
}

/// Errors of acknowledgements and subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The delivery is no longer this consumer's (it was handed out again,
    /// e.g. after its consumer went away); the batch may be seen twice.
    #[error("the delivery is no longer outstanding")]
    Stale,
    #[error("the bus is closed")]
    Closed,
    /// A transport failure (JetStream).
    #[error("bus transport: {0}")]
    Transport(String),
}

/// The bus between two stages, for messages of type `T`.
#[async_trait]
pub trait Bus<T: Message>: Send + Sync + fmt::Debug {
    /// The stage this bus feeds (the subject prefix on JetStream).
    fn topic(&self) -> &str;

    /// Offers one tenant's batch; `Ok` once the bus holds it, else
    /// `Overloaded` with a retry-after hint, immediately.
    async fn publish(&self, tenant: TenantId, batch: Vec<T>) -> Result<Accepted, PublishError>;

    /// Like `publish`, but waits for room instead of answering
    /// `Overloaded` (backpressure); still fails for `TooLarge`,
    /// `WrongTenant` and `Closed`.
    async fn publish_wait(&self, tenant: TenantId, batch: Vec<T>)
    -> Result<Accepted, PublishError>;

    /// A consumer sharing the stage's work with the others (a work queue:
    /// each batch goes to one consumer at a time).
    async fn consumer(&self) -> Result<Box<dyn Consumer<T>>, BusError>;

    /// Depths and counters, for `/metrics`.
    fn stats(&self) -> BusStats;

    /// Stops accepting; consumers drain what is held, then end.
    async fn close(&self);
}

/// The receiving side of a bus.
#[async_trait]
pub trait Consumer<T: Message>: Send + fmt::Debug {
    /// The next batch, fairly among tenants, waiting for one; `None` once
    /// the bus is closed and drained.
    async fn next(&mut self) -> Option<Delivery<T>>;
}

/// Settles a delivery; implemented by each bus.
#[async_trait]
pub trait Acker: Send + Sync + fmt::Debug {
    /// The downstream stage committed the batch: it will not come back.
    async fn ack(self: Box<Self>) -> Result<(), BusError>;
    /// The batch could not be handled now: deliver it again.
    async fn nack(self: Box<Self>) -> Result<(), BusError>;
}

/// One tenant's batch handed to a consumer. Dropping it without `ack` or
/// `nack` counts as a nack (in-process: at once; JetStream: after the ack
/// wait).
#[derive(Debug)]
pub struct Delivery<T> {
    tenant: TenantId,
    seq: u64,
    attempt: u32,
    messages: Arc<Vec<T>>,
    acker: Box<dyn Acker>,
}

impl<T> Delivery<T> {
    /// For bus implementations.
    #[must_use]
    pub fn new(
        tenant: TenantId,
        seq: u64,
        attempt: u32,
        messages: Arc<Vec<T>>,
        acker: Box<dyn Acker>,
    ) -> Self {
        Self {
            tenant,
            seq,
            attempt,
            messages,
            acker,
        }
    }

    #[must_use]
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The batch's sequence number, as in [`Accepted::seq`].
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// 1 on first delivery, more on redelivery.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    #[must_use]
    pub fn messages(&self) -> &[T] {
        &self.messages
    }

    /// The messages, shared (for work moved off the delivering task).
    #[must_use]
    pub fn shared_messages(&self) -> Arc<Vec<T>> {
        Arc::clone(&self.messages)
    }

    /// # Errors
    /// [`BusError::Stale`] when the batch was already handed out again.
    pub async fn ack(self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    /// # Errors
    /// [`BusError::Stale`] when the batch was already handed out again.
    pub async fn nack(self) -> Result<(), BusError> {
        self.acker.nack().await
    }
}

/// A snapshot of a bus's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BusStats {
    pub topic: String,
    pub closed: bool,
    pub queued_events: usize,
    pub in_flight_events: usize,
    pub capacity_total: usize,
    pub tenants: BTreeMap<TenantId, TenantStats>,
}

/// One tenant's depths and counters (counters in events).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TenantStats {
    pub queued_events: usize,
    pub in_flight_events: usize,
    pub published: u64,
    pub delivered: u64,
    pub acked: u64,
    pub redelivered: u64,
    pub rejected_overload: u64,
    /// When the oldest batch the bus holds for the tenant (queued or in
    /// flight, a redelivery keeping its first time) was published; `None`
    /// when it holds nothing. Now minus this is how far the consumers lag
    /// behind the publishers.
    pub oldest_published_at: Option<Timestamp>,
}

/// A per-tenant rate cap, in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCap {
    pub per_second: u64,
    pub burst: u64,
}

/// Sizes and limits of an [`InProcessBus`]; values below 1 count as 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProcessConfig {
    /// Events (queued and in flight) one tenant may hold.
    pub capacity_per_tenant: usize,
    /// Events (queued and in flight) the bus may hold.
    pub capacity_total: usize,
    /// Events added to a tenant's deficit per round.
    pub quantum: usize,
    /// `None`: no rate cap.
    pub rate: Option<RateCap>,
    /// The retry-after hint when full (the bus cannot know when a consumer
    /// will ack).
    pub full_retry_after: Duration,
}

impl Default for InProcessConfig {
    fn default() -> Self {
        Self {
            capacity_per_tenant: 100_000,
            capacity_total: 1_000_000,
            quantum: 1_000,
            rate: None,
            full_retry_after: Duration::from_secs(1),
        }
    }
}

/// The in-process bus: bounded memory, fair among tenants, rate-capped.
/// Cloning gives another handle on the same bus.
pub struct InProcessBus<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for InProcessBus<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for InProcessBus<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessBus")
            .field("topic", &self.shared.topic)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

struct Shared<T> {
    topic: String,
    config: InProcessConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State<T>>,
    /// Signalled when room frees or the bus closes (publishers wait).
    room: Notify,
    /// Signalled when a batch is queued or the bus closes (consumers wait).
    ready: Notify,
    next_consumer: AtomicU64,
}

struct State<T> {
    tenants: HashMap<TenantId, TenantQueue<T>>,
    /// Tenants with queued batches, in round-robin order.
    ring: VecDeque<TenantId>,
    in_flight: HashMap<u64, InFlight<T>>,
    /// Queued and in-flight events.
    total: usize,
    queued_total: usize,
    next_seq: u64,
    next_delivery: u64,
    closed: bool,
}

struct TenantQueue<T> {
    queue: VecDeque<Queued<T>>,
    queued_events: usize,
    in_flight_events: usize,
    deficit: usize,
    in_turn: bool,
    in_ring: bool,
    bucket: Option<Bucket>,
    stats: TenantStats,
}

struct Queued<T> {
    seq: u64,
    attempt: u32,
    /// When the batch was first published (kept across redeliveries).
    published_at: Timestamp,
    batch: Arc<Vec<T>>,
}

struct InFlight<T> {
    consumer: u64,
    tenant: TenantId,
    queued: Queued<T>,
}

/// Token bucket in thousandths of an event, so refill is exact in
/// milliseconds: one millisecond at `r` events/s is `r` thousandths.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    milli: u64,
    last: Timestamp,
}

impl Bucket {
    fn full(cap: RateCap, now: Timestamp) -> Self {
        Self {
            milli: cap.burst.saturating_mul(1000),
            last: now,
        }
    }

    fn refill(&mut self, cap: RateCap, now: Timestamp) {
        let elapsed = u64::try_from(now.since(self.last).as_millis()).unwrap_or(u64::MAX);
        self.milli = self
            .milli
            .saturating_add(elapsed.saturating_mul(cap.per_second))
            .min(cap.burst.saturating_mul(1000));
        if now > self.last {
            self.last = now;
        }
    }

    /// `Err(wait)` when the bucket lacks tokens for `n` events.
    fn check(&self, cap: RateCap, n: usize) -> Result<(), Duration> {
        let need = u64::try_from(n).unwrap_or(u64::MAX).saturating_mul(1000);
        if self.milli >= need {
            Ok(())
        } else {
            Err(Duration::from_millis(
                (need - self.milli).div_ceil(cap.per_second),
            ))
        }
    }

    fn take(&mut self, n: usize) {
        let need = u64::try_from(n).unwrap_or(u64::MAX).saturating_mul(1000);
        self.milli = self.milli.saturating_sub(need);
    }
}

impl<T> TenantQueue<T> {
    fn new() -> Self {
        Self {
            queue: VecDeque::new(),
            queued_events: 0,
            in_flight_events: 0,
            deficit: 0,
            in_turn: false,
            in_ring: false,
            bucket: None,
            stats: TenantStats::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl<T> State<T> {
    fn tenant(&mut self, tenant: TenantId) -> &mut TenantQueue<T> {
        self.tenants.entry(tenant).or_insert_with(TenantQueue::new)
    }

    /// Puts a batch in its tenant's queue (at the front for a redelivery)
    /// and the tenant in the ring.
    fn enqueue(&mut self, tenant: TenantId, queued: Queued<T>, front: bool) {
        let n = queued.batch.len();
        self.queued_total += n;
        let q = self.tenant(tenant);
        q.queued_events += n;
        if front {
            q.queue.push_front(queued);
        } else {
            q.queue.push_back(queued);
        }
        if !q.in_ring {
            q.in_ring = true;
            self.ring.push_back(tenant);
        }
    }

    /// Deficit round robin: the next batch to deliver.
    fn pop_fair(&mut self, quantum: usize) -> Option<(TenantId, Queued<T>)> {
        loop {
            let tenant = *self.ring.front()?;
            let Some(q) = self.tenants.get_mut(&tenant) else {
                self.ring.pop_front();
                continue;
            };
            let Some(head) = q.queue.front().map(|b| b.batch.len()) else {
                q.in_ring = false;
                q.in_turn = false;
                q.deficit = 0;
                self.ring.pop_front();
                continue;
            };
            if !q.in_turn {
                q.in_turn = true;
                q.deficit = q.deficit.saturating_add(quantum);
            }
            if head <= q.deficit {
                q.deficit -= head;
                let queued = q.queue.pop_front()?;
                q.queued_events -= head;
                self.queued_total -= head;
                if q.queue.is_empty() {
                    q.in_ring = false;
                    q.in_turn = false;
                    q.deficit = 0;
                    self.ring.pop_front();
                }
                return Some((tenant, queued));
            }
            q.in_turn = false;
            self.ring.rotate_left(1);
        }
    }

    /// Takes a delivery out of flight; `None` if it is not outstanding.
    fn settle(&mut self, id: u64) -> Option<(TenantId, Queued<T>)> {
        let f = self.in_flight.remove(&id)?;
        let n = f.queued.batch.len();
        let q = self.tenant(f.tenant);
        q.in_flight_events -= n;
        Some((f.tenant, f.queued))
    }

    fn requeue(&mut self, tenant: TenantId, mut queued: Queued<T>) {
        queued.attempt = queued.attempt.saturating_add(1);
        self.enqueue(tenant, queued, true);
    }
}

impl<T: Message> InProcessBus<T> {
    #[must_use]
    pub fn new(topic: impl Into<String>, config: InProcessConfig, clock: Arc<dyn Clock>) -> Self {
        let config = InProcessConfig {
            capacity_per_tenant: config.capacity_per_tenant.max(1),
            capacity_total: config.capacity_total.max(1),
            quantum: config.quantum.max(1),
            rate: config.rate.map(|r| RateCap {
                per_second: r.per_second.max(1),
                burst: r.burst.max(1),
            }),
            full_retry_after: config.full_retry_after,
        };
        Self {
            shared: Arc::new(Shared {
                topic: topic.into(),
                config,
                clock,
                state: Mutex::new(State {
                    tenants: HashMap::new(),
                    ring: VecDeque::new(),
                    in_flight: HashMap::new(),
                    total: 0,
                    queued_total: 0,
                    next_seq: 1,
                    next_delivery: 1,
                    closed: false,
                }),
                room: Notify::new(),
                ready: Notify::new(),
                next_consumer: AtomicU64::new(1),
            }),
        }
    }

    /// The largest batch this bus can ever take.
    #[must_use]
    pub fn max_batch(&self) -> usize {
        let c = &self.shared.config;
        let cap = c.capacity_per_tenant.min(c.capacity_total);
        match c.rate {
            Some(r) => cap.min(usize::try_from(r.burst).unwrap_or(usize::MAX)),
            None => cap,
        }
    }

    /// A consumer of this bus (the concrete type of [`Bus::consumer`]).
    #[must_use]
    pub fn subscribe(&self) -> InProcessConsumer<T> {
        InProcessConsumer {
            shared: Arc::clone(&self.shared),
            id: self.shared.next_consumer.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// One attempt; gives the batch back when it may be tried again.
    fn try_publish(
        &self,
        tenant: TenantId,
        batch: Vec<T>,
        count_rejection: bool,
    ) -> Result<Accepted, (PublishError, Option<Vec<T>>)> {
        let n = batch.len();
        if batch.iter().any(|m| m.tenant() != tenant) {
            return Err((PublishError::WrongTenant, None));
        }
        let max = self.max_batch();
        if n > max {
            return Err((PublishError::TooLarge { len: n, max }, None));
        }
        let config = &self.shared.config;
        let now = self.shared.clock.now();
        let mut state = lock(&self.shared.state);
        if state.closed {
            return Err((PublishError::Closed, None));
        }
        if n == 0 {
            return Ok(Accepted { seq: 0, events: 0 });
        }
        let total = state.total;
        let q = state.tenant(tenant);
        let held = q.queued_events + q.in_flight_events;
        let refusal = if held + n > config.capacity_per_tenant {
            Some((Overload::TenantCapacity, config.full_retry_after))
        } else if total + n > config.capacity_total {
            Some((Overload::TotalCapacity, config.full_retry_after))
        } else if let Some(cap) = config.rate {
            let bucket = q.bucket.get_or_insert_with(|| Bucket::full(cap, now));
            bucket.refill(cap, now);
            bucket
                .check(cap, n)
                .err()
                .map(|wait| (Overload::Rate, wait))
        } else {
            None
        };
        if let Some((reason, retry_after)) = refusal {
            if count_rejection {
                q.stats.rejected_overload += count(n);
            }
            return Err((
                PublishError::Overloaded {
                    reason,
                    retry_after,
                },
                Some(batch),
            ));
        }
        if let Some(bucket) = q.bucket.as_mut() {
            bucket.take(n);
        }
        q.stats.published += count(n);
        state.total += n;
        let seq = state.next_seq;
        state.next_seq += 1;
        state.enqueue(
            tenant,
            Queued {
                seq,
                attempt: 1,
                published_at: now,
                batch: Arc::new(batch),
            },
            false,
        );
        drop(state);
        self.shared.ready.notify_waiters();
        Ok(Accepted { seq, events: n })
    }

    /// Stops accepting; consumers drain, then end.
    pub fn shutdown(&self) {
        lock(&self.shared.state).closed = true;
        self.shared.ready.notify_waiters();
        self.shared.room.notify_waiters();
    }

    #[must_use]
    pub fn snapshot(&self) -> BusStats {
        let state = lock(&self.shared.state);
        let mut oldest: HashMap<TenantId, Timestamp> = HashMap::new();
        let mut older = |tenant: TenantId, at: Timestamp| {
            oldest
                .entry(tenant)
                .and_modify(|o| *o = (*o).min(at))
                .or_insert(at);
        };
        for f in state.in_flight.values() {
            older(f.tenant, f.queued.published_at);
        }
        for (t, q) in &state.tenants {
            // Redeliveries go to the front, fresh batches to the back in
            // publishing order: the oldest is among the redeliveries or is
            // the first fresh batch.
            for b in &q.queue {
                older(*t, b.published_at);
                if b.attempt == 1 {
                    break;
                }
            }
        }
        BusStats {
            topic: self.shared.topic.clone(),
            closed: state.closed,
            queued_events: state.queued_total,
            in_flight_events: state.total - state.queued_total,
            capacity_total: self.shared.config.capacity_total,
            tenants: state
                .tenants
                .iter()
                .map(|(t, q)| {
                    (
                        *t,
                        TenantStats {
                            queued_events: q.queued_events,
                            in_flight_events: q.in_flight_events,
                            oldest_published_at: oldest.get(t).copied(),
                            ..q.stats
                        },
                    )
                })
                .collect(),
        }
    }
}

#[async_trait]
impl<T: Message> Bus<T> for InProcessBus<T> {
    fn topic(&self) -> &str {
        &self.shared.topic
    }

    async fn publish(&self, tenant: TenantId, batch: Vec<T>) -> Result<Accepted, PublishError> {
        self.try_publish(tenant, batch, true).map_err(|(e, _)| e)
    }

    async fn publish_wait(
        &self,
        tenant: TenantId,
        batch: Vec<T>,
    ) -> Result<Accepted, PublishError> {
        let mut batch = batch;
        loop {
            let mut room = pin!(self.shared.room.notified());
            room.as_mut().enable();
            match self.try_publish(tenant, batch, false) {
                Ok(accepted) => return Ok(accepted),
                Err((
                    PublishError::Overloaded {
                        reason: Overload::Rate,
                        retry_after,
                    },
                    Some(back),
                )) => {
                    batch = back;
                    tokio::select! {
                        () = tokio::time::sleep(retry_after) => {}
                        () = room => {}
                    }
                }
                Err((PublishError::Overloaded { .. }, Some(back))) => {
                    batch = back;
                    room.await;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    async fn consumer(&self) -> Result<Box<dyn Consumer<T>>, BusError> {
        Ok(Box::new(self.subscribe()))
    }

    fn stats(&self) -> BusStats {
        self.snapshot()
    }

    async fn close(&self) {
        self.shutdown();
    }
}

/// A consumer of an [`InProcessBus`]. Dropping it redelivers the batches
/// it still holds un-acked. After close, `next` waits while other consumers
/// hold batches (a nack would bring them back) but not for its own: settle
/// those before relying on the end of the stream.
pub struct InProcessConsumer<T> {
    shared: Arc<Shared<T>>,
    id: u64,
}

impl<T> fmt::Debug for InProcessConsumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessConsumer")
            .field("topic", &self.shared.topic)
            .field("id", &self.id)
            .finish()
    }
}

impl<T: Message> InProcessConsumer<T> {
    /// Takes the next batch if one is queued; `Err(true)` when the bus is
    /// closed and drained (for this consumer), `Err(false)` when it should
    /// wait.
    fn try_next(&self) -> Result<Delivery<T>, bool> {
        let mut state = lock(&self.shared.state);
        if let Some((tenant, queued)) = state.pop_fair(self.shared.config.quantum) {
            let n = queued.batch.len();
            let id = state.next_delivery;
            state.next_delivery += 1;
            let q = state.tenant(tenant);
            q.in_flight_events += n;
            q.stats.delivered += count(n);
            if queued.attempt > 1 {
                q.stats.redelivered += count(n);
            }
            let delivery = Delivery::new(
                tenant,
                queued.seq,
                queued.attempt,
                Arc::clone(&queued.batch),
                Box::new(InProcessAck {
                    shared: Arc::clone(&self.shared),
                    id,
                    settled: false,
                }),
            );
            state.in_flight.insert(
                id,
                InFlight {
                    consumer: self.id,
                    tenant,
                    queued,
                },
            );
            return Ok(delivery);
        }
        // Closed and nothing queued: end unless batches held by other
        // consumers may still come back (those held by this one cannot
        // while it waits here).
        let others = state.in_flight.values().any(|f| f.consumer != self.id);
        Err(state.closed && !others)
    }
}

#[async_trait]
impl<T: Message> Consumer<T> for InProcessConsumer<T> {
    async fn next(&mut self) -> Option<Delivery<T>> {
        loop {
            let mut ready = pin!(self.shared.ready.notified());
            ready.as_mut().enable();
            match self.try_next() {
                Ok(d) => return Some(d),
                Err(true) => return None,
                Err(false) => ready.await,
            }
        }
    }
}

impl<T> Drop for InProcessConsumer<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        let mine: Vec<u64> = state
            .in_flight
            .iter()
            .filter(|(_, f)| f.consumer == self.id)
            .map(|(id, _)| *id)
            .collect();
        for id in &mine {
            if let Some((tenant, queued)) = state.settle(*id) {
                state.requeue(tenant, queued);
            }
        }
        drop(state);
        // Even with nothing to requeue: a waiting consumer may now be the
        // last holder and should re-check whether it is drained.
        self.shared.ready.notify_waiters();
    }
}

struct InProcessAck<T> {
    shared: Arc<Shared<T>>,
    id: u64,
    settled: bool,
}

impl<T> fmt::Debug for InProcessAck<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessAck")
            .field("id", &self.id)
            .field("settled", &self.settled)
            .finish()
    }
}

impl<T> InProcessAck<T> {
    fn settle(&mut self, ack: bool) -> Result<(), BusError> {
        self.settled = true;
        let mut state = lock(&self.shared.state);
        let (tenant, queued) = state.settle(self.id).ok_or(BusError::Stale)?;
        if ack {
            let n = queued.batch.len();
            state.total -= n;
            state.tenant(tenant).stats.acked += count(n);
            drop(state);
            self.shared.room.notify_waiters();
        } else {
            state.requeue(tenant, queued);
            drop(state);
        }
        // Consumers wait for a requeued batch, or for the last in-flight
        // batch to settle to end after close.
        self.shared.ready.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl<T: Message> Acker for InProcessAck<T> {
    async fn ack(mut self: Box<Self>) -> Result<(), BusError> {
        self.settle(true)
    }

    async fn nack(mut self: Box<Self>) -> Result<(), BusError> {
        self.settle(false)
    }
}

impl<T> Drop for InProcessAck<T> {
    fn drop(&mut self) {
        if !self.settled {
            // Dropped un-acked: a nack. Stale when its consumer already
            // gave it back.
            let _ = self.settle(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use garrison_core::time::ManualClock;
    use proptest::prelude::*;

    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_763_805_600_000);

    fn line(tenant: TenantId, id: u64) -> RawLine {
        RawLine {
            id: EventId::new(),
            tenant,
            source_id: "test".into(),
            received_at: T0,
            format: Format::Auto,
            line: id.to_string(),
            receipt: None,
        }
    }

    fn lines(tenant: TenantId, ids: std::ops::Range<u64>) -> Vec<RawLine> {
        ids.map(|i| line(tenant, i)).collect()
    }

    fn ids(d: &Delivery<RawLine>) -> Vec<u64> {
        d.messages()
            .iter()
            .map(|m| m.line.parse().expect("id"))
            .collect()
    }

    fn bus_with(config: InProcessConfig) -> (InProcessBus<RawLine>, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(T0));
        (InProcessBus::new("raw", config, clock.clone()), clock)
    }

    fn bus() -> InProcessBus<RawLine> {
        bus_with(InProcessConfig::default()).0
    }

    /// A clock on tokio's (pausable) time.
    #[derive(Debug)]
    struct TokioClock(tokio::time::Instant);

    impl Clock for TokioClock {
        fn now(&self) -> Timestamp {
            T0.plus(self.0.elapsed())
        }
    }

    #[tokio::test]
    async fn batches_are_delivered_in_order_per_tenant() {
        let bus = bus();
        let (a, b) = (TenantId::new(), TenantId::new());
        for i in 0..5 {
            bus.publish(a, lines(a, i * 10..i * 10 + 10))
                .await
                .expect("a");
            bus.publish(b, lines(b, 100 + i * 3..100 + i * 3 + 3))
                .await
                .expect("b");
        }
        let mut c = bus.subscribe();
        let mut got: BTreeMap<TenantId, Vec<u64>> = BTreeMap::new();
        let mut seqs: BTreeMap<TenantId, Vec<u64>> = BTreeMap::new();
        for _ in 0..10 {
            let d = c.next().await.expect("delivery");
            assert_eq!(d.attempt(), 1);
            assert!(d.messages().iter().all(|m| m.tenant == d.tenant()));
            got.entry(d.tenant()).or_default().extend(ids(&d));
            seqs.entry(d.tenant()).or_default().push(d.seq());
            d.ack().await.expect("ack");
        }
        assert_eq!(got[&a], (0..50).collect::<Vec<_>>());
        assert_eq!(got[&b], (100..115).collect::<Vec<_>>());
        for s in seqs.values() {
            assert!(s.windows(2).all(|w| w[0] < w[1]), "{s:?}");
        }
        let stats = bus.stats();
        assert_eq!(stats.queued_events, 0);
        assert_eq!(stats.in_flight_events, 0);
        assert_eq!(stats.tenants[&a].published, 50);
        assert_eq!(stats.tenants[&a].delivered, 50);
        assert_eq!(stats.tenants[&a].acked, 50);
        assert_eq!(stats.tenants[&b].acked, 15);
    }

    #[tokio::test]
    async fn a_nacked_batch_comes_back_first_with_a_higher_attempt() {
        let bus = bus();
        let a = TenantId::new();
        bus.publish(a, lines(a, 0..3)).await.expect("1");
        bus.publish(a, lines(a, 3..6)).await.expect("2");
        let mut c = bus.subscribe();
        let d = c.next().await.expect("first");
        assert_eq!(ids(&d), [0, 1, 2]);
        let stats = bus.stats();
        assert_eq!(stats.tenants[&a].in_flight_events, 3);
        assert_eq!(stats.tenants[&a].queued_events, 3);
        d.nack().await.expect("nack");
        let d = c.next().await.expect("again");
        assert_eq!(ids(&d), [0, 1, 2]);
        assert_eq!(d.attempt(), 2);
        d.ack().await.expect("ack");
        let d = c.next().await.expect("second");
        assert_eq!((ids(&d), d.attempt()), (vec![3, 4, 5], 1));
        d.ack().await.expect("ack");
        let s = bus.stats().tenants[&a];
        assert_eq!((s.delivered, s.redelivered, s.acked), (9, 3, 6));
    }

    #[tokio::test]
    async fn the_oldest_held_batch_is_reported_until_it_is_acked() {
        let (bus, clock) = bus_with(InProcessConfig::default());
        let (a, b) = (TenantId::new(), TenantId::new());
        assert_eq!(bus.stats().tenants.get(&a), None);
        bus.publish(a, lines(a, 0..2)).await.expect("1");
        clock.advance(Duration::from_secs(3));
        let t1 = clock.now();
        bus.publish(a, lines(a, 2..4)).await.expect("2");
        bus.publish(b, lines(b, 9..10)).await.expect("b");
        let oldest = |t: TenantId| bus.stats().tenants[&t].oldest_published_at;
        assert_eq!((oldest(a), oldest(b)), (Some(T0), Some(t1)));
        let mut c = bus.subscribe();
        // In flight still counts, and a redelivery keeps its first time.
        let d = c.next().await.expect("first");
        assert_eq!(d.tenant(), a);
        assert_eq!(oldest(a), Some(T0));
        d.nack().await.expect("nack");
        clock.advance(Duration::from_secs(1));
        assert_eq!(oldest(a), Some(T0));
        let d = c.next().await.expect("again");
        assert_eq!(d.attempt(), 2);
        d.ack().await.expect("ack");
        assert_eq!(oldest(a), Some(t1));
        for _ in 0..2 {
            c.next().await.expect("rest").ack().await.expect("ack");
        }
        assert_eq!((oldest(a), oldest(b)), (None, None));
    }

    #[tokio::test]
    async fn a_dropped_delivery_or_consumer_is_redelivered() {
        let bus = bus();
        let a = TenantId::new();
        bus.publish(a, lines(a, 0..2)).await.expect("publish");

        // Dropping the delivery un-acked is a nack.
        let mut c1 = bus.subscribe();
        drop(c1.next().await.expect("first"));
        let d = c1.next().await.expect("after drop");
        assert_eq!((ids(&d), d.attempt()), (vec![0, 1], 2));

        // Dropping the consumer gives back what it holds; a late ack of it
        // is stale (the batch belongs to the next consumer now).
        drop(c1);
        let mut c2 = bus.subscribe();
        let again = c2.next().await.expect("after consumer drop");
        assert_eq!((ids(&again), again.attempt()), (vec![0, 1], 3));
        assert_eq!(d.ack().await, Err(BusError::Stale));
        again.ack().await.expect("ack");
        let s = bus.stats();
        assert_eq!((s.queued_events, s.in_flight_events), (0, 0));
        assert_eq!(s.tenants[&a].acked, 2);
    }

    #[tokio::test]
    async fn a_full_bus_answers_overload_with_retry_after() {
        let (bus, _clock) = bus_with(InProcessConfig {
            capacity_per_tenant: 10,
            capacity_total: 15,
            full_retry_after: Duration::from_secs(2),
            ..InProcessConfig::default()
        });
        let (a, b) = (TenantId::new(), TenantId::new());
        bus.publish(a, lines(a, 0..10)).await.expect("fits");
        assert_eq!(
            bus.publish(a, lines(a, 10..11)).await,
            Err(PublishError::Overloaded {
                reason: Overload::TenantCapacity,
                retry_after: Duration::from_secs(2)
            })
        );
        bus.publish(b, lines(b, 0..5)).await.expect("b fits");
        assert_eq!(
            bus.publish(b, lines(b, 5..6)).await,
            Err(PublishError::Overloaded {
                reason: Overload::TotalCapacity,
                retry_after: Duration::from_secs(2)
            })
        );
        let s = bus.stats();
        assert_eq!(s.tenants[&a].rejected_overload, 1);
        assert_eq!(s.tenants[&b].rejected_overload, 1);
        assert_eq!(s.queued_events, 15);

        // In-flight events still count; an ack frees them.
        let mut c = bus.subscribe();
        let d = c.next().await.expect("a's batch");
        assert_eq!(d.tenant(), a);
        assert!(bus.publish(a, lines(a, 10..11)).await.is_err());
        d.ack().await.expect("ack");
        bus.publish(a, lines(a, 10..20)).await.expect("room again");
    }

    #[tokio::test]
    async fn refused_batches_say_why() {
        let (bus, _clock) = bus_with(InProcessConfig {
            capacity_per_tenant: 10,
            ..InProcessConfig::default()
        });
        let (a, b) = (TenantId::new(), TenantId::new());
        assert_eq!(bus.max_batch(), 10);
        assert_eq!(
            bus.publish(a, lines(a, 0..11)).await,
            Err(PublishError::TooLarge { len: 11, max: 10 })
        );
        let mut mixed = lines(a, 0..2);
        mixed.push(line(b, 2));
        assert_eq!(bus.publish(a, mixed).await, Err(PublishError::WrongTenant));
        assert_eq!(
            bus.publish(a, Vec::new()).await,
            Ok(Accepted { seq: 0, events: 0 })
        );
        assert_eq!(bus.stats().queued_events, 0);
    }

    #[tokio::test]
    async fn publish_wait_waits_for_room_then_proceeds() {
        let (bus, _clock) = bus_with(InProcessConfig {
            capacity_per_tenant: 10,
            ..InProcessConfig::default()
        });
        let a = TenantId::new();
        bus.publish(a, lines(a, 0..10)).await.expect("fill");
        let waiting = tokio::spawn({
            let bus = bus.clone();
            async move { bus.publish_wait(a, lines(a, 10..15)).await }
        });
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "publish_wait must wait for room");
        assert_eq!(bus.stats().tenants[&a].rejected_overload, 0);

        let mut c = bus.subscribe();
        let d = c.next().await.expect("the first batch");
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "un-acked events still hold room");
        d.ack().await.expect("ack");
        let accepted = waiting.await.expect("join").expect("accepted");
        assert_eq!(accepted.events, 5);
        let d = c.next().await.expect("the waiting batch");
        assert_eq!(ids(&d), [10, 11, 12, 13, 14]);
    }

    #[tokio::test]
    async fn a_flooding_tenant_does_not_starve_another() {
        let quantum = 1_000;
        let (bus, _clock) = bus_with(InProcessConfig {
            capacity_per_tenant: 200_000,
            capacity_total: 300_000,
            quantum,
            ..InProcessConfig::default()
        });
        let (flood, quiet, late) = (TenantId::new(), TenantId::new(), TenantId::new());
        for i in 0..1_000 {
            bus.publish(flood, lines(flood, i * 100..i * 100 + 100))
                .await
                .expect("flood");
        }
        assert_eq!(bus.stats().tenants[&flood].queued_events, 100_000);
        bus.publish(quiet, lines(quiet, 0..5)).await.expect("quiet");

        let mut c = bus.subscribe();
        let mut order = Vec::new();
        // The flood is mid-turn when the late tenant publishes.
        for _ in 0..3 {
            let d = c.next().await.expect("delivery");
            order.push((d.tenant(), d.messages().len()));
            d.ack().await.expect("ack");
        }
        bus.publish(late, lines(late, 0..5)).await.expect("late");
        for _ in 0..40 {
            let d = c.next().await.expect("delivery");
            order.push((d.tenant(), d.messages().len()));
            d.ack().await.expect("ack");
        }
        let flood_events_before = |t: TenantId| -> usize {
            let at = order.iter().position(|(x, _)| *x == t).expect("delivered");
            order[..at]
                .iter()
                .filter(|(x, _)| *x == flood)
                .map(|(_, n)| n)
                .sum()
        };
        // At most one round of the flood before the quiet tenant, at most
        // two before the late one (the round in progress and the next).
        assert!(flood_events_before(quiet) <= quantum, "{order:?}");
        assert!(flood_events_before(late) <= 2 * quantum, "{order:?}");
        // And the flood goes on getting its share afterwards.
        assert!(order.iter().rev().take(5).all(|(t, _)| *t == flood));
    }

    #[tokio::test]
    async fn the_rate_cap_refuses_with_the_time_until_tokens_suffice() {
        let (bus, clock) = bus_with(InProcessConfig {
            rate: Some(RateCap {
                per_second: 100,
                burst: 50,
            }),
            ..InProcessConfig::default()
        });
        let (a, b) = (TenantId::new(), TenantId::new());
        assert_eq!(bus.max_batch(), 50);
        bus.publish(a, lines(a, 0..50)).await.expect("burst");
        let over = |ms| {
            Err(PublishError::Overloaded {
                reason: Overload::Rate,
                retry_after: Duration::from_millis(ms),
            })
        };
        assert_eq!(bus.publish(a, lines(a, 50..51)).await, over(10));
        assert_eq!(bus.publish(a, lines(a, 50..60)).await, over(100));
        // Another tenant has its own bucket.
        bus.publish(b, lines(b, 0..50)).await.expect("b's burst");
        clock.advance(Duration::from_millis(95));
        assert_eq!(bus.publish(a, lines(a, 50..60)).await, over(5));
        clock.advance(Duration::from_millis(5));
        bus.publish(a, lines(a, 50..60)).await.expect("refilled");
        // The bucket holds at most the burst.
        clock.advance(Duration::from_secs(3_600));
        bus.publish(a, lines(a, 60..110))
            .await
            .expect("burst again");
        assert_eq!(bus.publish(a, lines(a, 110..111)).await, over(10));
        assert_eq!(bus.stats().tenants[&a].rejected_overload, 1 + 10 + 10 + 1);
        assert_eq!(bus.stats().tenants[&a].published, 110);
    }

    #[tokio::test(start_paused = true)]
    async fn publish_wait_waits_out_the_rate_cap() {
        let start = tokio::time::Instant::now();
        let bus: InProcessBus<RawLine> = InProcessBus::new(
            "raw",
            InProcessConfig {
                rate: Some(RateCap {
                    per_second: 100,
                    burst: 50,
                }),
                ..InProcessConfig::default()
            },
            Arc::new(TokioClock(start)),
        );
        let a = TenantId::new();
        bus.publish(a, lines(a, 0..50)).await.expect("burst");
        bus.publish_wait(a, lines(a, 50..75))
            .await
            .expect("after waiting");
        // Tokio's paused clock: virtual time, advanced by the sleeps only.
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        assert_eq!(bus.stats().tenants[&a].rejected_overload, 0);
    }

    #[tokio::test]
    async fn shutdown_drains_what_is_queued_then_ends() {
        let (bus, _clock) = bus_with(InProcessConfig {
            capacity_per_tenant: 10,
            ..InProcessConfig::default()
        });
        let (a, b) = (TenantId::new(), TenantId::new());
        bus.publish(a, lines(a, 0..4)).await.expect("a1");
        bus.publish(a, lines(a, 4..10)).await.expect("a2");
        bus.publish(b, lines(b, 0..3)).await.expect("b");
        let blocked = tokio::spawn({
            let bus = bus.clone();
            async move { bus.publish_wait(a, lines(a, 10..11)).await }
        });
        tokio::task::yield_now().await;
        let mut c1 = bus.subscribe();
        let held = c1.next().await.expect("held by c1");
        Bus::close(&bus).await;
        assert_eq!(blocked.await.expect("join"), Err(PublishError::Closed));
        assert_eq!(
            bus.publish(b, lines(b, 3..4)).await,
            Err(PublishError::Closed)
        );
        assert!(bus.stats().closed);

        let mut c2: Box<dyn Consumer<RawLine>> = bus.consumer().await.expect("consumer");
        let mut drained = 0;
        for _ in 0..2 {
            let d = c2.next().await.expect("queued before close");
            drained += d.messages().len();
            d.ack().await.expect("ack");
        }
        // c1 still holds a batch that may come back: c2 waits for it.
        let waiter = tokio::spawn(async move {
            let d = c2.next().await.expect("the nacked batch");
            let n = d.messages().len();
            d.ack().await.expect("ack");
            (n, c2.next().await.is_none())
        });
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished());
        held.nack().await.expect("nack");
        let (n, ended) = waiter.await.expect("join");
        assert!(ended, "the stream ends once drained");
        assert_eq!(drained + n, 13);
        assert!(c1.next().await.is_none());
        let s = bus.stats();
        assert_eq!((s.queued_events, s.in_flight_events), (0, 0));
    }

    /// Producers with unique ids, consumers that ack, nack, drop
    /// deliveries and go away: every id is acked exactly once.
    async fn run_concurrently(
        producers: usize,
        batches: usize,
        batch_len: usize,
        tenants: usize,
        consumers: usize,
        seed: u64,
    ) -> BusStats {
        let (bus, _clock) = bus_with(InProcessConfig {
            capacity_per_tenant: 16,
            capacity_total: 24,
            quantum: 4,
            ..InProcessConfig::default()
        });
        let tenant_ids: Vec<TenantId> = (0..tenants).map(|_| TenantId::new()).collect();
        let mut expected = Vec::new();
        let mut producing = Vec::new();
        for p in 0..producers {
            let mut plan = Vec::new();
            for b in 0..batches {
                let tenant = tenant_ids[(p + b) % tenants];
                let first = ((p * batches + b) * batch_len) as u64;
                let batch = lines(tenant, first..first + batch_len as u64);
                expected.extend(first..first + batch_len as u64);
                plan.push((tenant, batch));
            }
            let bus = bus.clone();
            producing.push(tokio::spawn(async move {
                for (tenant, batch) in plan {
                    bus.publish_wait(tenant, batch).await.expect("accepted");
                }
            }));
        }
        let mut consuming = Vec::new();
        for k in 0..consumers {
            let bus = bus.clone();
            consuming.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut state = seed ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
                let mut c = bus.subscribe();
                let mut seen = 0;
                while let Some(d) = c.next().await {
                    seen += 1;
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    match state % 10 {
                        0 => d.nack().await.expect("nack"),
                        1 => drop(d),
                        2 if k == 0 && seen < 50 => {
                            // This consumer goes away holding a batch; a
                            // fresh one takes its place.
                            drop(c);
                            c = bus.subscribe();
                            drop(d);
                        }
                        _ => {
                            let got = ids(&d);
                            d.ack().await.expect("ack");
                            acked.extend(got);
                        }
                    }
                }
                acked
            }));
        }
        for p in producing {
            p.await.expect("producer");
        }
        bus.close().await;
        let mut acked = Vec::new();
        for c in consuming {
            acked.extend(c.await.expect("consumer"));
        }
        acked.sort_unstable();
        expected.sort_unstable();
        assert_eq!(acked, expected);
        let s = bus.stats();
        assert_eq!((s.queued_events, s.in_flight_events), (0, 0));
        let total: u64 = s.tenants.values().map(|t| t.acked).sum();
        assert_eq!(total, expected.len() as u64);
        s
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_producers_and_consumers_lose_and_duplicate_nothing() {
        let s = tokio::time::timeout(
            Duration::from_secs(60),
            run_concurrently(4, 200, 5, 3, 3, 0x5eed),
        )
        .await
        .expect("no deadlock");
        // The run did exercise redelivery (nacks, drops, a consumer gone).
        assert!(s.tenants.values().map(|t| t.redelivered).sum::<u64>() > 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn nothing_is_lost_or_duplicated(
            producers in 1usize..5,
            batches in 1usize..40,
            batch_len in 1usize..9,
            tenants in 1usize..4,
            consumers in 1usize..4,
            seed in any::<u64>(),
        ) {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(3)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(60),
                    run_concurrently(producers, batches, batch_len, tenants, consumers, seed),
                )
                .await
                .expect("no deadlock");
            });
        }
    }

    #[test]
    fn messages_serialise_for_a_remote_bus() {
        let mut m = line(TenantId::new(), 7);
        let json = serde_json::to_string(&m).expect("serialise");
        assert!(json.contains(r#""format":"auto""#), "{json}");
        assert!(!json.contains("receipt"), "{json}");
        let back: RawLine = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, m);
        m.receipt = Some(ReceiptTag {
            token: 3,
            ordinal: 41,
        });
        let json = serde_json::to_string(&m).expect("serialise");
        let back: RawLine = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, m, "the id and the receipt travel with the line");
    }
}

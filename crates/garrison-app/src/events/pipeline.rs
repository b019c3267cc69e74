//! The ingest pipeline: raw lines from the bus to stored events.
//!
//! A [`Pipeline`] owns an [`InProcessBus`] of [`RawLine`]s and `workers`
//! tasks consuming it. A worker takes one tenant's batch, parses every line
//! (`garrison_ingest::parse` with the line's format and receive time),
//! builds the events, enriches them with the tenant's asset index
//! (`garrison_detect::enrich`: assets and networks behind the source and
//! destination, findings open on the destination port, CVEs the event
//! names that are open there), and hands them to the committer
//! ([`super::commit`]), which writes the deliveries handed in during its
//! previous commit together: their events in one transaction
//! ([`EventStore::insert_event_groups`]). Detection runs on the enriched
//! events (sensor alerts, indicators, Sigma, threshold and sequence
//! rules; [`super::detection`]); the alerts are recorded
//! into offenses right after the events' commit (idempotent per event and
//! detector, so a redelivery raises nothing twice);
//! it acknowledges the batch only after the commit. A store error nacks
//! the batch (it comes back, after a short pause that grows with its
//! attempts); after [`PipelineSettings::max_attempts`] the batch is settled
//! as failed (every line counted failed with the store's reason) rather
//! than blocking its tenant for ever. A line that does not parse is not a
//! store error: it is counted failed and kept in the tenant's ring of
//! recent failures.
//!
//! **Event ids.** Each [`RawLine`] carries the id of its event, fixed by the
//! publisher when the line is received. A redelivered batch (a nack, a
//! consumer gone, an ack lost after the commit) makes the same ids, and the
//! store's `ON CONFLICT (id) DO NOTHING` keeps each event once; such lines
//! count as `duplicates`. Publishing the same line again under a new id
//! (ingesting a file twice) is a new ingestion and stores new events.
//!
//! **Receipts.** A publisher that must know when its lines are stored (a
//! file ingestion; later an HTTP request answered 2xx after the commit)
//! takes a [`Receipt`] and tags its lines with [`Receipt::tag`] (the token
//! and its own number for the line, e.g. the file's line number). After a
//! batch's commit the worker adds the batch's outcome per token (lines
//! settled, parsed, failed with the first failures, stored, duplicates)
//! and wakes the receipt's waiters; [`Receipt::wait_for`] returns once as
//! many lines as were published have settled. Tokens live in this process
//! only (a JetStream bus would answer on a reply subject instead). A batch
//! committed twice (its ack lost) is counted twice in `parsed` and
//! `duplicates`, never in `stored`.
//!
//! **Live feed.** After the commit, and before the receipt hears of it,
//! the worker hands the batch's events to the [`LiveFeed`] (see
//! [`super::live`]): watchers of the live view see an event once it is
//! stored, and a publisher that was answered knows its events were offered
//! to them. A redelivered batch is offered again (the live view drops ids
//! it has shown).
//!
//! **Counters.** Per tenant and source: `received` (lines first
//! delivered), `parsed`, `failed`, `stored` (new rows) and `duplicates`,
//! the receive-to-commit lag of the committed events (see
//! [`super::lag`]), and per tenant a ring of the last [`FAILURE_RING`]
//! failed lines with their reason; [`Pipeline::stats`] takes a snapshot.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use garrison_core::event::{Event, MAX_ORIGINAL_BYTES, Value, truncate_utf8};
use garrison_core::{Clock, TenantId, Timestamp};
use garrison_ingest::bus::{BusStats, Delivery, InProcessBus, InProcessConfig, InProcessConsumer};
use garrison_ingest::{Context, parse};
use garrison_store::Store;
use serde::Serialize;

use super::commit::{Committer, Job};
use super::detection::{Detection, Raised, RuleSet};
use super::live::{LIVE_CAPACITY, LiveFeed};
use crate::inventory::index::AssetIndexes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What publishers need to put lines on the pipeline's bus.
pub use garrison_ingest::bus::{Bus, PublishError, RateCap, RawLine, ReceiptTag};

/// Failed lines kept per tenant for inspection.
pub const FAILURE_RING: usize = 50;

/// The longest failed line kept in the ring (cut at a character boundary).
pub const FAILED_LINE_BYTES: usize = 2048;

/// Sources counted separately per tenant; the others are counted together
/// under [`OTHER_SOURCES`].
pub const MAX_SOURCES_PER_TENANT: usize = 256;

/// The source name under which sources beyond
/// [`MAX_SOURCES_PER_TENANT`] are counted.
pub const OTHER_SOURCES: &str = "(other sources)";

/// Failures a receipt keeps (those of the lowest line numbers).
pub const RECEIPT_FAILURES: usize = 100;

/// Sizes and limits of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSettings {
    /// Events (queued and in flight) one tenant may hold on the bus.
    pub capacity_per_tenant: usize,
    /// Events (queued and in flight) the bus may hold.
    pub capacity_total: usize,
    /// Lines per batch that publishers of this process (file ingestion)
    /// send; capped by what the bus takes at once.
    pub batch_size: usize,
    /// Worker tasks parsing and storing.
    pub workers: usize,
    /// Per-tenant rate cap in events; `None`: none.
    pub rate: Option<RateCap>,
    /// Deliveries of a batch the store refuses before it is settled as
    /// failed.
    pub max_attempts: u32,
    /// The pause before a nack, times the attempt (at most 5 s).
    pub retry_backoff: Duration,
    /// An alert joins the open offense of its detector and key whose last
    /// alert is at most this much older (else it opens one).
    pub offense_window: Duration,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            capacity_per_tenant: 50_000,
            capacity_total: 500_000,
            batch_size: 1_000,
            workers: 4,
            rate: None,
            max_attempts: 10,
            retry_backoff: Duration::from_millis(200),
            offense_window: Duration::from_secs(3600),
        }
    }
}

/// One source's counters, in lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SourceCounters {
    /// Lines delivered to a worker for the first time.
    pub received: u64,
    pub parsed: u64,
    pub failed: u64,
    /// New events written.
    pub stored: u64,
    /// Parsed lines whose event was already stored (a redelivery).
    pub duplicates: u64,
    /// Receive-to-commit lag of the committed events.
    pub lag: super::lag::LagHistogram,
}

/// A line that could not be read or stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedLine {
    pub at: Timestamp,
    pub source_id: String,
    pub received_at: Timestamp,
    /// The format that was tried and why it failed.
    pub reason: String,
    /// The line, cut at [`FAILED_LINE_BYTES`].
    pub line: String,
}

/// One tenant's counters and recent failures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TenantIngestStats {
    pub sources: BTreeMap<String, SourceCounters>,
    /// The last [`FAILURE_RING`] failed lines, oldest first.
    pub recent_failures: Vec<FailedLine>,
}

/// A snapshot of the pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PipelineStats {
    pub bus: BusStats,
    pub tenants: BTreeMap<TenantId, TenantIngestStats>,
}

/// What became of the lines tagged with one receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReceiptCounts {
    /// Lines whose batch was committed (or settled as failed).
    pub settled: u64,
    pub parsed: u64,
    pub failed: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// The failures of the lowest ordinals (at most
    /// [`RECEIPT_FAILURES`]): ordinal and reason.
    pub failures: BTreeMap<u64, String>,
}

#[derive(Debug, Default)]
struct ReceiptState {
    counts: Mutex<ReceiptCounts>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct TenantCounters {
    sources: HashMap<String, SourceCounters>,
    failures: VecDeque<FailedLine>,
}

impl TenantCounters {
    fn source(&mut self, source: &str) -> &mut SourceCounters {
        if !self.sources.contains_key(source) && self.sources.len() >= MAX_SOURCES_PER_TENANT {
            return self.sources.entry(OTHER_SOURCES.to_owned()).or_default();
        }
        self.sources.entry(source.to_owned()).or_default()
    }

    fn fail(&mut self, f: FailedLine) {
        if self.failures.len() >= FAILURE_RING {
            self.failures.pop_front();
        }
        self.failures.push_back(f);
    }
}

struct Shared {
    /// Writes what the workers produce, gathered (see [`super::commit`]).
    committer: Committer,
    /// The tenants' asset indexes, for enrichment.
    assets: Arc<AssetIndexes>,
    /// Rules and indicators, for detection.
    detection: Arc<Detection>,
    clock: Arc<dyn Clock>,
    settings: PipelineSettings,
    counters: Mutex<HashMap<TenantId, TenantCounters>>,
    receipts: Mutex<HashMap<u64, Weak<ReceiptState>>>,
    next_token: AtomicU64,
    /// Set once the workers have ended: waiting receipts give up.
    stopped: AtomicBool,
    live: LiveFeed,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Parses, normalises and stores what is published on its bus.
pub struct Pipeline {
    bus: Arc<InProcessBus<RawLine>>,
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("bus", &self.bus)
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Creates the bus and starts the workers (on the current tokio
    /// runtime).
    #[must_use]
    pub(crate) fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: PipelineSettings,
        assets: Arc<AssetIndexes>,
        detection: Arc<Detection>,
    ) -> Self {
        let settings = PipelineSettings {
            batch_size: settings.batch_size.max(1),
            workers: settings.workers.max(1),
            max_attempts: settings.max_attempts.max(1),
            ..settings
        };
        let bus = Arc::new(InProcessBus::new(
            "events.raw",
            InProcessConfig {
                capacity_per_tenant: settings.capacity_per_tenant,
                capacity_total: settings.capacity_total,
                quantum: settings.batch_size,
                rate: settings.rate,
                ..InProcessConfig::default()
            },
            clock.clone(),
        ));
        let shared = Arc::new(Shared {
            committer: Committer::start(store),
            assets,
            detection,
            clock,
            settings,
            counters: Mutex::new(HashMap::new()),
            receipts: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
            stopped: AtomicBool::new(false),
            live: LiveFeed::new(LIVE_CAPACITY),
        });
        let workers = (0..shared.settings.workers)
            .map(|_| {
                let consumer = bus.subscribe();
                let shared = shared.clone();
                tokio::spawn(work(shared, consumer))
            })
            .collect();
        Self {
            bus,
            shared,
            workers: Mutex::new(workers),
        }
    }

    /// The bus the listeners and publishers of this process publish on.
    #[must_use]
    pub fn bus(&self) -> &Arc<InProcessBus<RawLine>> {
        &self.bus
    }

    /// Stored events for the live view.
    #[must_use]
    pub fn live(&self) -> &LiveFeed {
        &self.shared.live
    }

    #[must_use]
    pub fn settings(&self) -> &PipelineSettings {
        &self.shared.settings
    }

    /// The batch size publishers should use: the setting, within what the
    /// bus takes at once.
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.shared
            .settings
            .batch_size
            .min(self.bus.max_batch())
            .max(1)
    }

    /// A new receipt; tag lines with [`Receipt::tag`] before publishing.
    #[must_use]
    pub fn receipt(&self) -> Receipt {
        let token = self.shared.next_token.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ReceiptState::default());
        lock(&self.shared.receipts).insert(token, Arc::downgrade(&state));
        Receipt {
            token,
            state,
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Counters per tenant and source, recent failures, and the bus.
    #[must_use]
    pub fn stats(&self) -> PipelineStats {
        self.snapshot(true)
    }

    /// [`Pipeline::stats`] without the failed lines (for `/metrics`, which
    /// shows counters only and is scraped often).
    #[must_use]
    pub fn counters(&self) -> PipelineStats {
        self.snapshot(false)
    }

    fn snapshot(&self, failures: bool) -> PipelineStats {
        let tenants = lock(&self.shared.counters)
            .iter()
            .map(|(t, c)| {
                (
                    *t,
                    TenantIngestStats {
                        sources: c.sources.iter().map(|(s, n)| (s.clone(), *n)).collect(),
                        recent_failures: if failures {
                            c.failures.iter().cloned().collect()
                        } else {
                            Vec::new()
                        },
                    },
                )
            })
            .collect();
        PipelineStats {
            bus: self.bus.snapshot(),
            tenants,
        }
    }

    /// Closes the bus (publishing answers `Closed`), waits for the workers
    /// to store what it holds, and ends the live feed's subscriptions.
    pub async fn shutdown(&self) {
        self.bus.shutdown();
        let workers = std::mem::take(&mut *lock(&self.workers));
        for w in workers {
            if let Err(e) = w.await {
                tracing::error!(error = %e, "an ingest worker ended abnormally");
            }
        }
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.live.close();
        let receipts: Vec<Arc<ReceiptState>> = lock(&self.shared.receipts)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for r in receipts {
            r.changed.notify_waiters();
        }
    }
}

/// Tells a publisher what became of its lines. Dropping it forgets the
/// token (lines still tagged with it are stored all the same).
#[derive(Debug)]
pub struct Receipt {
    token: u64,
    state: Arc<ReceiptState>,
    shared: Weak<Shared>,
}

impl Receipt {
    /// The tag for the line the publisher numbers `ordinal`.
    #[must_use]
    pub const fn tag(&self, ordinal: u64) -> ReceiptTag {
        ReceiptTag {
            token: self.token,
            ordinal,
        }
    }

    /// What has settled so far.
    #[must_use]
    pub fn counts(&self) -> ReceiptCounts {
        lock(&self.state.counts).clone()
    }

    /// Waits until `lines` lines have settled and returns the counts; it
    /// returns earlier, with fewer settled, only if the pipeline stopped.
    pub async fn wait_for(&self, lines: u64) -> ReceiptCounts {
        loop {
            let mut changed = pin!(self.state.changed.notified());
            changed.as_mut().enable();
            let counts = self.counts();
            let stopped = self
                .shared
                .upgrade()
                .is_none_or(|s| s.stopped.load(Ordering::SeqCst));
            if counts.settled >= lines || stopped {
                return counts;
            }
            changed.await;
        }
    }
}

impl Drop for Receipt {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.receipts).remove(&self.token);
        }
    }
}

/// Deliveries a worker has prepared and not yet seen committed, at most:
/// beyond, it waits before taking the next (parsed events take more room
/// than the lines the bus bounds).
const PENDING_PER_WORKER: usize = 8;

async fn work(shared: Arc<Shared>, mut consumer: InProcessConsumer<RawLine>) {
    use garrison_ingest::bus::Consumer;
    // A delivery's commit, acknowledgement and accounting run as a task of
    // their own, so that the worker prepares the next delivery meanwhile
    // (waiting on the commit, workers were idle while lines queued). The
    // worker ends only once they have: a nacked batch comes back to it.
    let mut finishing = tokio::task::JoinSet::new();
    loop {
        if finishing.len() >= PENDING_PER_WORKER {
            settle(finishing.join_next().await);
            continue;
        }
        tokio::select! {
            delivery = consumer.next() => match delivery {
                Some(delivery) => {
                    let prepared = prepare_delivery(&shared, &delivery).await;
                    finishing.spawn(finish(Arc::clone(&shared), delivery, prepared));
                }
                None if finishing.is_empty() => break,
                None => {
                    while let Some(r) = finishing.join_next().await {
                        settle(Some(r));
                    }
                }
            },
            r = finishing.join_next(), if !finishing.is_empty() => settle(r),
        }
    }
}

/// A finished delivery task: a panic in it is the worker's.
fn settle(r: Option<Result<(), tokio::task::JoinError>>) {
    if let Some(Err(e)) = r
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The events made of one source's lines tagged with one receipt (or
/// none); the groups of a delivery are stored in one transaction.
struct Group {
    source_id: String,
    token: Option<u64>,
    lines: u64,
    events: Vec<Event>,
    /// Ordinals (for the receipt) and failure reasons.
    failures: Vec<(Option<u64>, String)>,
    /// Events parsed and committed (set once the store has answered).
    parsed: u64,
    stored: u64,
}

/// The event a parsed line becomes.
fn event_of(m: &RawLine) -> Result<Event, String> {
    let (format, parsed) =
        parse(m.format, &m.line, &Context::at(m.received_at)).map_err(|e| e.to_string())?;
    let mut fields = parsed.fields;
    let original = original_text(&m.line, &mut fields);
    Ok(Event {
        id: m.id,
        tenant_id: m.tenant,
        timestamp: parsed.timestamp.unwrap_or(m.received_at),
        received_at: m.received_at,
        source_id: m.source_id.clone(),
        parser: format.as_str().to_owned(),
        severity: parsed.severity,
        fields,
        original,
    })
}

/// The field set when the original message was cut.
pub const ORIGINAL_TRUNCATED: &str = "event.original_truncated";

/// The line as stored: NUL bytes (which PostgreSQL text cannot hold)
/// replaced by U+FFFD, cut at [`MAX_ORIGINAL_BYTES`]; a cut is marked with
/// [`ORIGINAL_TRUNCATED`].
fn original_text(line: &str, fields: &mut garrison_core::event::Fields) -> String {
    let cleaned = if line.contains('\0') {
        std::borrow::Cow::Owned(line.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(line)
    };
    let (cut, truncated) = truncate_utf8(&cleaned, MAX_ORIGINAL_BYTES);
    if truncated {
        fields.set(ORIGINAL_TRUNCATED, Value::Bool(true));
    }
    cut.to_owned()
}

/// A delivery's lines parsed, enriched and run through detection: the
/// events in groups (by source and receipt), the failed lines for the
/// ring, and what detection raised.
fn prepare(
    shared: &Shared,
    tenant: TenantId,
    messages: &[RawLine],
    now: Timestamp,
    assets: Option<&garrison_detect::AssetIndex>,
    rules: Option<&RuleSet>,
    indicators: Option<&garrison_detect::IndicatorIndex>,
) -> (Vec<Group>, Vec<FailedLine>, Raised) {
    let mut groups: Vec<Group> = Vec::new();
    let mut ring: Vec<FailedLine> = Vec::new();
    let weights = rules.map(|r| r.weights_for(tenant)).unwrap_or_default();
    let mut raised = Raised::default();
    for m in messages {
        let token = m.receipt.map(|r| r.token);
        let i = if let Some(i) = groups
            .iter()
            .position(|g| g.source_id == m.source_id && g.token == token)
        {
            i
        } else {
            groups.push(Group {
                source_id: m.source_id.clone(),
                token,
                lines: 0,
                events: Vec::new(),
                failures: Vec::new(),
                parsed: 0,
                stored: 0,
            });
            groups.len() - 1
        };
        let g = &mut groups[i];
        g.lines += 1;
        match event_of(m) {
            Ok(mut e) => {
                if let Some(assets) = assets {
                    garrison_detect::enrich::enrich(&mut e.fields, assets);
                }
                shared
                    .detection
                    .detect(rules, indicators, weights, &e, &mut raised);
                g.events.push(e);
            }
            Err(reason) => {
                ring.push(failed_line(m, now, reason.clone()));
                g.failures.push((m.receipt.map(|r| r.ordinal), reason));
            }
        }
    }
    (groups, ring, raised)
}

/// What a delivery became before its commit.
struct Prepared {
    groups: Vec<Group>,
    ring: Vec<FailedLine>,
    raised: Raised,
    now: Timestamp,
}

async fn prepare_delivery(shared: &Arc<Shared>, delivery: &Delivery<RawLine>) -> Prepared {
    let tenant = delivery.tenant();
    if delivery.attempt() == 1 {
        let mut counters = lock(&shared.counters);
        let c = counters.entry(tenant).or_default();
        for m in delivery.messages() {
            c.source(&m.source_id).received += 1;
        }
    }
    // Enrichment: the tenant's asset index (at once, after the first).
    let assets = shared.assets.for_pipeline(tenant).await;
    let now = shared.clock.now();
    // Detection: what each event raises, recorded after the events.
    let (rules, indicators) = shared.detection.current(now).await;
    // Parsing, enrichment and detection take milliseconds a batch: on a
    // blocking thread, so that the runtime's threads stay free for the
    // committer's round trips with the database and for the listeners
    // (on the runtime, they delayed every commit by the batches parsed
    // meanwhile).
    let prepared = {
        let shared = Arc::clone(shared);
        let batch = delivery.shared_messages();
        tokio::task::spawn_blocking(move || {
            prepare(
                &shared,
                tenant,
                &batch,
                now,
                assets.as_deref(),
                rules.as_deref(),
                indicators.as_deref(),
            )
        })
        .await
    };
    match prepared {
        Ok((groups, ring, raised)) => Prepared {
            groups,
            ring,
            raised,
            now,
        },
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Commits a prepared delivery, then acknowledges it (or nacks it on a
/// store error) and accounts for it: counters, the live feed, receipts.
async fn finish(shared: Arc<Shared>, delivery: Delivery<RawLine>, prepared: Prepared) {
    let Prepared {
        mut groups,
        mut ring,
        raised,
        now,
    } = prepared;
    let tenant = delivery.tenant();
    let messages = delivery.messages();
    let window_ms = i64::try_from(shared.settings.offense_window.as_millis()).unwrap_or(i64::MAX);
    let (stored, events) = shared
        .committer
        .commit(Job {
            groups: groups
                .iter_mut()
                .map(|g| std::mem::take(&mut g.events))
                .collect(),
            alerts: raised.alerts,
            sightings: raised.sightings,
            now,
            window_ms,
        })
        .await;
    for (g, events) in groups.iter_mut().zip(events) {
        g.events = events;
    }
    match stored {
        Ok(stored) => {
            for (g, n) in groups.iter_mut().zip(stored) {
                g.stored = n;
            }
        }
        Err(e) if delivery.attempt() < shared.settings.max_attempts => {
            tracing::warn!(
                tenant = %tenant, seq = delivery.seq(), attempt = delivery.attempt(),
                error = %e, "storing events failed; the batch will be delivered again"
            );
            let pause = shared
                .settings
                .retry_backoff
                .saturating_mul(delivery.attempt())
                .min(Duration::from_secs(5));
            tokio::time::sleep(pause).await;
            if let Err(e) = delivery.nack().await {
                tracing::warn!(tenant = %tenant, error = %e, "nack refused");
            }
            return;
        }
        Err(e) => {
            tracing::error!(
                tenant = %tenant, seq = delivery.seq(), attempt = delivery.attempt(),
                error = %e, "storing events failed too often; the batch is dropped as failed"
            );
            let reason = format!("not stored after {} attempts: {e}", delivery.attempt());
            for g in &mut groups {
                for ev in std::mem::take(&mut g.events) {
                    let ordinal = messages
                        .iter()
                        .find(|m| m.id == ev.id)
                        .and_then(|m| m.receipt.map(|r| r.ordinal));
                    ring.push(FailedLine {
                        at: now,
                        source_id: ev.source_id.clone(),
                        received_at: ev.received_at,
                        reason: reason.clone(),
                        line: cut_line(&ev.original),
                    });
                    g.failures.push((ordinal, reason.clone()));
                }
            }
        }
    }
    let committed_at = shared.clock.now();
    let seq = delivery.seq();
    if let Err(e) = delivery.ack().await {
        // Committed all the same; the batch may be seen again, and its
        // events are then duplicates.
        tracing::warn!(tenant = %tenant, seq, error = %e, "ack after the commit refused");
    }
    for g in &mut groups {
        g.parsed = count(g.events.len());
    }
    {
        let mut counters = lock(&shared.counters);
        let c = counters.entry(tenant).or_default();
        for g in &groups {
            let s = c.source(&g.source_id);
            let parsed = g.parsed;
            s.parsed += parsed;
            s.failed += count(g.failures.len());
            s.stored += g.stored;
            s.duplicates += parsed.saturating_sub(g.stored);
            s.lag
                .observe(committed_at, g.events.iter().map(|e| e.received_at));
        }
        for f in ring {
            c.fail(f);
        }
    }
    shared.live.publish(
        groups
            .iter_mut()
            .flat_map(|g| std::mem::take(&mut g.events)),
    );
    for g in groups {
        let Some(token) = g.token else { continue };
        let Some(state) = lock(&shared.receipts).get(&token).and_then(Weak::upgrade) else {
            continue;
        };
        {
            let mut r = lock(&state.counts);
            let parsed = g.parsed;
            r.settled += g.lines;
            r.parsed += parsed;
            r.failed += count(g.failures.len());
            r.stored += g.stored;
            r.duplicates += parsed.saturating_sub(g.stored);
            for (ordinal, reason) in g.failures {
                if let Some(o) = ordinal {
                    r.failures.insert(o, reason);
                    if r.failures.len() > RECEIPT_FAILURES {
                        r.failures.pop_last();
                    }
                }
            }
        }
        state.changed.notify_waiters();
    }
}

fn cut_line(line: &str) -> String {
    truncate_utf8(line, FAILED_LINE_BYTES).0.to_owned()
}

fn failed_line(m: &RawLine, at: Timestamp, reason: String) -> FailedLine {
    FailedLine {
        at,
        source_id: m.source_id.clone(),
        received_at: m.received_at,
        reason,
        line: cut_line(&m.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originals_lose_nul_bytes_and_are_cut_and_marked() {
        let mut f = garrison_core::event::Fields::new();
        assert_eq!(original_text("a\0b", &mut f), "a\u{FFFD}b");
        assert!(f.get(ORIGINAL_TRUNCATED).is_none());
        let long = "é".repeat(MAX_ORIGINAL_BYTES);
        let cut = original_text(&long, &mut f);
        assert!(cut.len() <= MAX_ORIGINAL_BYTES && cut.len() > MAX_ORIGINAL_BYTES - 2);
        assert_eq!(f.get(ORIGINAL_TRUNCATED), Some(&Value::Bool(true)));
    }

    #[test]
    fn the_ring_keeps_the_last_failures() {
        let mut c = TenantCounters::default();
        for i in 0..(FAILURE_RING + 7) {
            c.fail(FailedLine {
                at: Timestamp::from_millis(0),
                source_id: "s".into(),
                received_at: Timestamp::from_millis(0),
                reason: i.to_string(),
                line: String::new(),
            });
        }
        assert_eq!(c.failures.len(), FAILURE_RING);
        assert_eq!(c.failures.front().map(|f| f.reason.as_str()), Some("7"));
    }

    #[test]
    fn sources_beyond_the_limit_are_counted_together() {
        let mut c = TenantCounters::default();
        for i in 0..(MAX_SOURCES_PER_TENANT + 3) {
            c.source(&format!("s{i}")).received += 1;
        }
        assert_eq!(c.sources.len(), MAX_SOURCES_PER_TENANT + 1);
        assert_eq!(c.sources[OTHER_SOURCES].received, 3);
    }
}

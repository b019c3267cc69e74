//! Observing ingestion: every source's counters, the bus's queue depth
//! and lag per tenant, the listeners this process serves, and the recent
//! lines that failed to parse.
//!
//! Sources are what a line's `source_id` names: a syslog listener's id, a
//! file (`file:NAME`), later an ingest token (`http:NAME`). Counters come
//! from two places and are merged per tenant and source at read time:
//!
//! - the pipeline ([`super::pipeline::Pipeline::stats`]): received,
//!   parsed, failed, stored, duplicates and the receive-to-commit lag;
//! - the listeners registered by the binary with
//!   [`App::register_listener`]: what never reached the bus (UDP lines
//!   dropped on overload, peers refused by the allowlist, frames refused
//!   for their length, lines the bus refused for good) and the transport's
//!   own counters (frames, bytes, connections, TLS handshake failures).
//!
//! Queue depth is what the bus holds for the tenant (queued and being
//! stored); lag is defined in [`super::lag`]. Everything is a snapshot of
//! this process's memory, taken when asked (a scrape of `/metrics`, a page
//! view), so nothing is counted twice and nothing is stored; counters start
//! at zero when the process starts. With the in-process bus the listeners,
//! the pipeline and the web server run in one process; a process without
//! the ingest role shows no listeners.
//!
//! [`App::ingest_status`] is the use case behind the portal page (the
//! caller's tenants only, with their failed lines);
//! [`App::ingest_metrics`] is the system read behind `/metrics` (every
//! tenant, counters only, no line content).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use garrison_core::model::Tenant;
use garrison_core::{Permission, Principal, TenantId, Timestamp};
use garrison_ingest::Format;
pub use garrison_ingest::listen::{ListenerKind, ListenerStats, StatsSnapshot};

use super::pipeline::{FailedLine, PipelineStats, SourceCounters};
use crate::{App, AppError, AppResult};

/// A listener the binary serves, as registered for observation.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// Its id: the `source_id` of every line it receives.
    pub id: String,
    pub tenant: TenantId,
    pub transport: ListenerKind,
    /// The address it is bound to.
    pub addr: String,
    pub format: Format,
    /// The peers allowed to send; empty allows every peer.
    pub allow: Vec<String>,
    /// The counters the listener keeps.
    pub stats: Arc<ListenerStats>,
}

/// The listeners registered in this process.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    listeners: Mutex<Vec<ListenerInfo>>,
}

impl Registry {
    fn listeners(&self) -> Vec<ListenerInfo> {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A listener as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerStatus {
    pub transport: ListenerKind,
    pub addr: String,
    pub format: Format,
    pub allow: Vec<String>,
    pub stats: StatsSnapshot,
}

impl ListenerStatus {
    /// Lines or connections that never reached the bus, by reason: UDP
    /// lines the bus refused as overloaded, peers outside the allowlist
    /// (TCP/TLS connections, UDP datagrams), frames refused for their
    /// length, lines the bus refused for good (closed, batch too large).
    #[must_use]
    pub const fn dropped(&self) -> [(&'static str, u64); 4] {
        [
            ("overload", self.stats.dropped_overload),
            ("peer_refused", self.stats.refused_peers),
            ("overlong", self.stats.refused_overlong),
            ("publish_failed", self.stats.publish_failed),
        ]
    }

    /// All of [`ListenerStatus::dropped`] together.
    #[must_use]
    pub const fn dropped_total(&self) -> u64 {
        self.stats.dropped_overload
            + self.stats.refused_peers
            + self.stats.refused_overlong
            + self.stats.publish_failed
    }
}

/// One source of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    /// The source id (a listener's id, `file:NAME`, ...).
    pub source: String,
    /// The pipeline's counters (zero before its first line is delivered).
    pub counters: SourceCounters,
    /// Set when the source is a listener of this process.
    pub listener: Option<ListenerStatus>,
}

/// One tenant's ingestion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantIngestStatus {
    /// By source id.
    pub sources: Vec<SourceStatus>,
    /// Events waiting on the bus.
    pub queued: usize,
    /// Events delivered to a worker and not yet acknowledged.
    pub in_flight: usize,
    /// The age of the oldest batch the bus holds for the tenant; `None`
    /// when it holds nothing.
    pub waiting: Option<Duration>,
    /// Events the bus refused as overloaded (a UDP listener drops them,
    /// an HTTP sender is told to retry).
    pub rejected_overload: u64,
    /// Events delivered again after a nack or a lost consumer.
    pub redelivered: u64,
    /// The last failed lines, newest first (empty for `/metrics`).
    pub recent_failures: Vec<FailedLine>,
}

impl TenantIngestStatus {
    /// Queued and in flight: what counts against the tenant's capacity.
    #[must_use]
    pub const fn depth(&self) -> usize {
        self.queued + self.in_flight
    }
}

/// Every tenant's ingestion, as `/metrics` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestMetrics {
    /// Events one tenant may hold on the bus.
    pub capacity_per_tenant: usize,
    /// Events the bus may hold.
    pub capacity_total: usize,
    pub tenants: BTreeMap<TenantId, TenantIngestStatus>,
}

/// The portal page's view: the caller's tenants.
#[derive(Debug, Clone)]
pub struct IngestStatus {
    pub at: Timestamp,
    pub capacity_per_tenant: usize,
    /// Every tenant asked for that the caller may see, by name, with or
    /// without ingestion so far.
    pub tenants: Vec<(Tenant, TenantIngestStatus)>,
}

impl App {
    /// Registers a listener this process serves, so that its counters
    /// appear in `/metrics` and on the ingestion page. A listener
    /// registered again under the same id replaces the earlier one.
    pub fn register_listener(&self, info: ListenerInfo) {
        let mut listeners = self
            .ingest_sources
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        listeners.retain(|l| l.id != info.id);
        listeners.push(info);
    }

    /// Every tenant's counters, queue depth and lag, for `/metrics`.
    ///
    /// A system read (no principal): it carries counters and the ids of
    /// tenants and sources, never an event's content or a failed line.
    /// It does not start the pipeline.
    #[must_use]
    pub fn ingest_metrics(&self) -> IngestMetrics {
        let pipeline = self.pipeline.get();
        let stats = pipeline.map(|pl| pl.counters()).unwrap_or_default();
        let (capacity_per_tenant, capacity_total) = pipeline.map_or((0, 0), |pl| {
            let s = pl.settings();
            (s.capacity_per_tenant, s.capacity_total)
        });
        IngestMetrics {
            capacity_per_tenant,
            capacity_total,
            tenants: self.collect(stats, |_| true),
        }
    }

    /// Ingestion of the tenants `p` may see (only `tenant` when given):
    /// per source the counters and listener, the queue depth, the lag and
    /// the recent failed lines.
    ///
    /// # Errors
    /// `NotFound` when `tenant` is missing or not visible, `Forbidden`
    /// without [`Permission::IngestStatusRead`].
    pub async fn ingest_status(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
    ) -> AppResult<IngestStatus> {
        let access = match tenant {
            Some(t) => {
                let scope = p.scope(t).ok_or(AppError::NotFound)?;
                self.store.find_tenant(&scope).await?;
                scope.as_access()
            }
            None => p.access(),
        };
        if !p.can(Permission::IngestStatusRead) {
            return Err(AppError::Forbidden(
                "your role does not show the ingestion status",
            ));
        }
        let tenants = self.store.list_tenants(&access).await?;
        let pipeline = self.pipeline.get();
        let stats = pipeline.map(|pl| pl.stats()).unwrap_or_default();
        let capacity_per_tenant = pipeline.map_or(0, |pl| pl.settings().capacity_per_tenant);
        let mut all = self.collect(stats, |t| access.allows(t));
        let tenants = tenants
            .into_iter()
            .map(|t| {
                let status = all.remove(&t.id).unwrap_or_default();
                (t, status)
            })
            .collect();
        Ok(IngestStatus {
            at: self.clock.now(),
            capacity_per_tenant,
            tenants,
        })
    }

    /// Merges the pipeline's and the listeners' counters of the tenants
    /// `keep` accepts.
    fn collect(
        &self,
        stats: PipelineStats,
        keep: impl Fn(TenantId) -> bool,
    ) -> BTreeMap<TenantId, TenantIngestStatus> {
        let now = self.clock.now();
        let mut sources: BTreeMap<TenantId, BTreeMap<String, SourceStatus>> = BTreeMap::new();
        let mut out: BTreeMap<TenantId, TenantIngestStatus> = BTreeMap::new();
        for (tenant, t) in stats.tenants {
            if !keep(tenant) {
                continue;
            }
            let by_source = sources.entry(tenant).or_default();
            for (source, counters) in t.sources {
                by_source.insert(
                    source.clone(),
                    SourceStatus {
                        source,
                        counters,
                        listener: None,
                    },
                );
            }
            let mut failures = t.recent_failures;
            failures.reverse();
            out.entry(tenant).or_default().recent_failures = failures;
        }
        for (tenant, b) in stats.bus.tenants {
            if !keep(tenant) {
                continue;
            }
            let status = out.entry(tenant).or_default();
            status.queued = b.queued_events;
            status.in_flight = b.in_flight_events;
            status.waiting = b.oldest_published_at.map(|at| now.since(at));
            status.rejected_overload = b.rejected_overload;
            status.redelivered = b.redelivered;
        }
        for l in self.ingest_sources.listeners() {
            if !keep(l.tenant) {
                continue;
            }
            out.entry(l.tenant).or_default();
            let listener = ListenerStatus {
                transport: l.transport,
                addr: l.addr,
                format: l.format,
                allow: l.allow,
                stats: l.stats.snapshot(),
            };
            sources
                .entry(l.tenant)
                .or_default()
                .entry(l.id.clone())
                .or_insert_with(|| SourceStatus {
                    source: l.id,
                    counters: SourceCounters::default(),
                    listener: None,
                })
                .listener = Some(listener);
        }
        for (tenant, by_source) in sources {
            out.entry(tenant).or_default().sources = by_source.into_values().collect();
        }
        out
    }
}

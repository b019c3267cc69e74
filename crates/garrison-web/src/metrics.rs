//! Prometheus metrics.
//!
//! HTTP and login series carry no tenant or user data. The ingestion
//! series (`garrison_ingest_*`) are labelled per tenant and source: the
//! `tenant` label is the tenant's opaque id (a UUID, never its slug or
//! name) and `source` the source id (a syslog listener's configured id,
//! `file:NAME` for `garrison ingest`, later `http:TOKEN-NAME`), so a
//! scraper learns which tenant ids exist and how much each sends, and the
//! names operators gave to listeners, files and tokens — never an event's
//! content. The endpoint is open unless `metrics.token` is configured; the
//! binary warns at start when it listens beyond loopback without one.
//!
//! The ingestion series are computed at scrape time from snapshots of the
//! pipeline, the bus and the registered listeners
//! ([`garrison_app::App::ingest_metrics`]), so nothing is counted twice and
//! they cost nothing between scrapes:
//!
//! | series | labels | meaning |
//! |---|---|---|
//! | `garrison_ingest_received_lines_total` | tenant, source | lines taken off the bus by the pipeline |
//! | `garrison_ingest_parsed_lines_total` | tenant, source | lines parsed into events |
//! | `garrison_ingest_failed_lines_total` | tenant, source | lines that did not parse, or were not stored after every attempt |
//! | `garrison_ingest_stored_events_total` | tenant, source | new events written |
//! | `garrison_ingest_duplicate_events_total` | tenant, source | events already stored (a redelivery) |
//! | `garrison_ingest_dropped_total` | tenant, source, reason | what a listener dropped before the bus: `overload` (UDP lines the bus refused), `peer_refused` (connections or datagrams outside the allowlist), `overlong` (frames refused for their length), `publish_failed` |
//! | `garrison_ingest_listener_*_total` | tenant, source, transport | a syslog listener's frames, bytes, connections, truncated and non-UTF-8 frames, TLS handshake failures, socket errors |
//! | `garrison_ingest_queue_depth` | tenant | events the bus holds (queued and being stored) |
//! | `garrison_ingest_queue_capacity` | — | events one tenant may hold on the bus |
//! | `garrison_ingest_lag_seconds` | tenant | age of the oldest batch waiting on the bus (0 when none) |
//! | `garrison_ingest_commit_lag_seconds` | tenant, source | histogram of receive-to-commit time per event |
//! | `garrison_ingest_bus_rejected_events_total` | tenant | events the bus refused as overloaded |
//! | `garrison_ingest_bus_redelivered_events_total` | tenant | events delivered again |

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use garrison_app::App;
use garrison_app::events::observe::IngestMetrics;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::WebState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpLabels, Histogram>,
    logins: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("garrison");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        let logins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "login_attempts",
            "Portal login attempts by outcome",
            logins.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            logins,
        }
    }

    /// Adds the ingestion series, read from `app` at every scrape.
    pub fn watch_ingestion(&mut self, app: Arc<App>) {
        self.registry
            .register_collector(Box::new(IngestCollector { app }));
    }

    /// Counts a login attempt: `success`, `failure`, `throttled`.
    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        let _ = writeln!(out, "# garrison {}", env!("CARGO_PKG_VERSION"));
        out
    }
}

pub(crate) async fn track(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    let labels = HttpLabels {
        method,
        route,
        status: resp.status().as_u16(),
    };
    state.metrics().http_requests.get_or_create(&labels).inc();
    state
        .metrics()
        .http_duration
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn endpoint(
    State(state): State<WebState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(token) = &state.config().metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| subtle_eq(g.as_bytes(), token.expose().as_bytes()));
        if !ok {
            return (StatusCode::UNAUTHORIZED, "metrics token required").into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    tenant: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    tenant: String,
    source: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabels {
    tenant: String,
    source: String,
    transport: &'static str,
}

/// The ingestion series, computed from snapshots at scrape time.
#[derive(Debug)]
struct IngestCollector {
    app: Arc<App>,
}

fn counters<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(L, u64)],
) -> std::fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in rows {
        ConstCounter::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

fn gauges<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(L, f64)],
) -> std::fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in rows {
        ConstGauge::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

impl IngestCollector {
    fn encode_snapshot(m: &IngestMetrics, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let e = &mut encoder;
        type Pick = fn(&garrison_app::events::pipeline::SourceCounters) -> u64;
        let per_source: [(&str, &str, Pick); 5] = [
            (
                "ingest_received_lines",
                "Lines taken off the bus by the ingest pipeline",
                |c| c.received,
            ),
            ("ingest_parsed_lines", "Lines parsed into events", |c| {
                c.parsed
            }),
            (
                "ingest_failed_lines",
                "Lines that did not parse, or were not stored after every attempt",
                |c| c.failed,
            ),
            ("ingest_stored_events", "New events written", |c| c.stored),
            (
                "ingest_duplicate_events",
                "Parsed events that were already stored (a redelivery)",
                |c| c.duplicates,
            ),
        ];
        let source_labels = |tenant: &garrison_core::TenantId, source: &str| SourceLabels {
            tenant: tenant.to_string(),
            source: source.to_owned(),
        };
        for (name, help, pick) in per_source {
            let rows: Vec<(SourceLabels, u64)> = m
                .tenants
                .iter()
                .flat_map(|(t, s)| {
                    s.sources
                        .iter()
                        .map(move |src| (source_labels(t, &src.source), pick(&src.counters)))
                })
                .collect();
            counters(e, name, help, &rows)?;
        }
        let listeners: Vec<_> = m
            .tenants
            .iter()
            .flat_map(|(t, s)| {
                s.sources
                    .iter()
                    .filter_map(move |src| src.listener.as_ref().map(|l| (t, &src.source, l)))
            })
            .collect();
        let dropped: Vec<(DropLabels, u64)> = listeners
            .iter()
            .flat_map(|(t, source, l)| {
                l.dropped().into_iter().map(|(reason, n)| {
                    (
                        DropLabels {
                            tenant: t.to_string(),
                            source: (*source).clone(),
                            reason,
                        },
                        n,
                    )
                })
            })
            .collect();
        counters(
            e,
            "ingest_dropped",
            "Lines, datagrams or connections a listener dropped before the bus, by reason: \
             overload (UDP lines the bus refused), peer_refused (outside the allowlist), \
             overlong (frames refused for their length), publish_failed",
            &dropped,
        )?;
        type ListenerPick = fn(&garrison_app::events::observe::ListenerStatus) -> u64;
        let per_listener: [(&str, &str, ListenerPick); 8] = [
            (
                "ingest_listener_frames",
                "Messages a syslog listener received",
                |l| l.stats.frames,
            ),
            (
                "ingest_listener_bytes",
                "Bytes a syslog listener read",
                |l| l.stats.bytes,
            ),
            (
                "ingest_listener_published_lines",
                "Lines a syslog listener put on the bus",
                |l| l.stats.published,
            ),
            (
                "ingest_listener_connections",
                "TCP/TLS connections a syslog listener accepted",
                |l| l.stats.connections,
            ),
            (
                "ingest_listener_truncated_frames",
                "Frames cut to the listener's max_line",
                |l| l.stats.truncated,
            ),
            (
                "ingest_listener_lossy_utf8_frames",
                "Frames with bytes that were not UTF-8 (replaced)",
                |l| l.stats.lossy_utf8,
            ),
            (
                "ingest_listener_tls_handshake_failures",
                "TLS handshakes that failed or timed out",
                |l| l.stats.tls_handshake_failures,
            ),
            (
                "ingest_listener_socket_errors",
                "Errors accepting or receiving on a listener's socket",
                |l| l.stats.socket_errors,
            ),
        ];
        for (name, help, pick) in per_listener {
            let rows: Vec<(ListenerLabels, u64)> = listeners
                .iter()
                .map(|(t, source, l)| {
                    (
                        ListenerLabels {
                            tenant: t.to_string(),
                            source: (*source).clone(),
                            transport: l.transport.as_str(),
                        },
                        pick(l),
                    )
                })
                .collect();
            counters(e, name, help, &rows)?;
        }
        let tenant = |t: &garrison_core::TenantId| TenantLabels {
            tenant: t.to_string(),
        };
        #[allow(clippy::cast_precision_loss)]
        let depth: Vec<(TenantLabels, f64)> = m
            .tenants
            .iter()
            .map(|(t, s)| (tenant(t), s.depth() as f64))
            .collect();
        gauges(
            e,
            "ingest_queue_depth",
            "Events the bus holds for the tenant (queued and being stored)",
            &depth,
        )?;
        #[allow(clippy::cast_precision_loss)]
        let capacity = m.capacity_per_tenant as f64;
        ConstGauge::new(capacity).encode(e.encode_descriptor(
            "ingest_queue_capacity",
            "Events one tenant may hold on the bus",
            None,
            MetricType::Gauge,
        )?)?;
        let lag: Vec<(TenantLabels, f64)> = m
            .tenants
            .iter()
            .map(|(t, s)| (tenant(t), s.waiting.map_or(0.0, |w| w.as_secs_f64())))
            .collect();
        gauges(
            e,
            "ingest_lag_seconds",
            "Age of the oldest batch waiting on the bus for the tenant (0 when none)",
            &lag,
        )?;
        let mut metric = e.encode_descriptor(
            "ingest_commit_lag_seconds",
            "Time from receiving a line to committing its event",
            None,
            MetricType::Histogram,
        )?;
        for (t, s) in &m.tenants {
            for src in &s.sources {
                let h = &src.counters.lag;
                metric
                    .encode_family(&source_labels(t, &src.source))?
                    .encode_histogram::<NoLabelSet>(
                        h.sum_seconds(),
                        h.count,
                        &h.seconds_buckets(),
                        None,
                    )?;
            }
        }
        let rejected: Vec<(TenantLabels, u64)> = m
            .tenants
            .iter()
            .map(|(t, s)| (tenant(t), s.rejected_overload))
            .collect();
        counters(
            e,
            "ingest_bus_rejected_events",
            "Events the bus refused as overloaded (UDP drops, HTTP told to retry)",
            &rejected,
        )?;
        let redelivered: Vec<(TenantLabels, u64)> = m
            .tenants
            .iter()
            .map(|(t, s)| (tenant(t), s.redelivered))
            .collect();
        counters(
            e,
            "ingest_bus_redelivered_events",
            "Events the bus delivered again (a nack or a lost consumer)",
            &redelivered,
        )
    }
}

impl Collector for IngestCollector {
    fn encode(&self, encoder: DescriptorEncoder) -> std::fmt::Result {
        Self::encode_snapshot(&self.app.ingest_metrics(), encoder)
    }
}

//! The ingestion page for MSSP staff: per tenant and source the pipeline's
//! counters, what the listeners dropped, queue depth and lag, the
//! listeners bound to the tenant, and the recent lines that failed to
//! parse with their reason. Every line shown is attacker-controlled and is
//! escaped by the template (askama's HTML escaping).

use askama::Template;
use axum::extract::{Query, State};
use garrison_app::events::observe::{ListenerStatus, SourceStatus, TenantIngestStatus};
use garrison_app::events::pipeline::FailedLine;
use garrison_core::model::Tenant;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{Signed, parse_id};
use crate::portal::{Layout, PortalResult, page_with_status};

#[derive(Debug, Deserialize, Default)]
pub struct IngestionParams {
    /// One tenant's id; the switched-to tenant (or all) when absent.
    tenant: Option<String>,
}

struct SourceRow {
    source: String,
    /// `udp 0.0.0.0:514` for a listener, else empty.
    via: String,
    received: u64,
    parsed: u64,
    failed: u64,
    stored: u64,
    duplicates: u64,
    dropped: u64,
    /// What `dropped` is made of, for the cell's title.
    dropped_detail: String,
    /// Receive-to-commit lag of the last committed batch.
    last_lag: String,
    /// At most this for 99 % of the events since start.
    p99_lag: String,
    last_commit: String,
}

struct ListenerRow {
    id: String,
    transport: &'static str,
    addr: String,
    format: &'static str,
    allow: String,
    frames: u64,
    connections: u64,
    bytes: u64,
    truncated: u64,
    lossy_utf8: u64,
    tls_failures: u64,
    socket_errors: u64,
}

struct FailureRow {
    at: String,
    received_at: String,
    source: String,
    reason: String,
    line: String,
}

struct TenantView {
    id: String,
    name: String,
    slug: String,
    retention_days: Option<u32>,
    queued: usize,
    in_flight: usize,
    depth_percent: usize,
    waiting: String,
    rejected: u64,
    redelivered: u64,
    sources: Vec<SourceRow>,
    listeners: Vec<ListenerRow>,
    failures: Vec<FailureRow>,
}

#[derive(Template)]
#[template(path = "ingestion.html")]
struct IngestionPage {
    layout: Layout,
    at: String,
    capacity: usize,
    tenants: Vec<TenantView>,
}

/// A duration in milliseconds for people: `0 ms`, `850 ms`, `2.5 s`,
/// `3 min`, `2 h`.
fn human_ms(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => {
            let tenths = ms / 100;
            if tenths.is_multiple_of(10) {
                format!("{} s", tenths / 10)
            } else {
                format!("{}.{} s", tenths / 10, tenths % 10)
            }
        }
        60_000..7_200_000 => format!("{} min", ms / 60_000),
        _ => format!("{} h", ms / 3_600_000),
    }
}

fn bound(ms: Option<u64>) -> String {
    match ms {
        None => "—".to_owned(),
        Some(u64::MAX) => "over 5 min".to_owned(),
        Some(ms) => format!("≤ {}", human_ms(ms)),
    }
}

fn source_row(s: &SourceStatus) -> SourceRow {
    let c = &s.counters;
    let (via, dropped, dropped_detail) = s.listener.as_ref().map_or_else(
        || (String::new(), 0, String::new()),
        |l: &ListenerStatus| {
            let detail = l
                .dropped()
                .iter()
                .map(|(reason, n)| format!("{reason}: {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!("{} {}", l.transport.as_str(), l.addr),
                l.dropped_total(),
                detail,
            )
        },
    );
    SourceRow {
        source: s.source.clone(),
        via,
        received: c.received,
        parsed: c.parsed,
        failed: c.failed,
        stored: c.stored,
        duplicates: c.duplicates,
        dropped,
        dropped_detail,
        last_lag: c
            .lag
            .last_at
            .map_or_else(|| "—".to_owned(), |_| human_ms(c.lag.last_ms)),
        p99_lag: bound(c.lag.quantile_bound_ms(0.99)),
        last_commit: c
            .lag
            .last_at
            .map_or_else(|| "—".to_owned(), garrison_core::Timestamp::short),
    }
}

fn listener_row(source: &str, l: &ListenerStatus) -> ListenerRow {
    ListenerRow {
        id: source.to_owned(),
        transport: l.transport.as_str(),
        addr: l.addr.clone(),
        format: l.format.as_str(),
        allow: if l.allow.is_empty() {
            "every peer".to_owned()
        } else {
            l.allow.join(", ")
        },
        frames: l.stats.frames,
        connections: l.stats.connections,
        bytes: l.stats.bytes,
        truncated: l.stats.truncated,
        lossy_utf8: l.stats.lossy_utf8,
        tls_failures: l.stats.tls_handshake_failures,
        socket_errors: l.stats.socket_errors,
    }
}

fn failure_row(f: &FailedLine) -> FailureRow {
    FailureRow {
        at: f.at.short(),
        received_at: f.received_at.to_rfc3339(),
        source: f.source_id.clone(),
        reason: f.reason.clone(),
        line: f.line.clone(),
    }
}

fn tenant_view(
    tenant: Tenant,
    status: &TenantIngestStatus,
    capacity: usize,
    retention_days: Option<u32>,
) -> TenantView {
    TenantView {
        id: tenant.id.to_string(),
        name: tenant.name,
        slug: tenant.slug,
        retention_days,
        queued: status.queued,
        in_flight: status.in_flight,
        depth_percent: (status.depth().saturating_mul(100))
            .checked_div(capacity)
            .unwrap_or(0),
        waiting: status.waiting.map_or_else(
            || "nothing waiting".to_owned(),
            |w| human_ms(u64::try_from(w.as_millis()).unwrap_or(u64::MAX)),
        ),
        rejected: status.rejected_overload,
        redelivered: status.redelivered,
        sources: status.sources.iter().map(source_row).collect(),
        listeners: status
            .sources
            .iter()
            .filter_map(|s| s.listener.as_ref().map(|l| listener_row(&s.source, l)))
            .collect(),
        failures: status.recent_failures.iter().map(failure_row).collect(),
    }
}

/// `GET /ingestion`: the tenants the user may see (one with `?tenant=`,
/// else the switched-to tenant, else all).
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<IngestionParams>,
) -> PortalResult {
    let p = &signed.principal;
    let tenant = match q.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(parse_id(t)?),
        None => signed.ctx.session.active_tenant,
    };
    let status = s.app().ingest_status(p, tenant).await?;
    let layout = Layout::new(&s, &signed, "Ingestion", "/ingestion").await?;
    let mut tenants = Vec::with_capacity(status.tenants.len());
    for (t, st) in status.tenants {
        let days = s.app().event_retention_days(p, t.id).await.ok();
        tenants.push(tenant_view(t, &st, status.capacity_per_tenant, days));
    }
    let page = IngestionPage {
        layout,
        at: status.at.short(),
        capacity: status.capacity_per_tenant,
        tenants,
    };
    Ok(page_with_status(&page, None))
}

#[cfg(test)]
mod tests {
    use super::human_ms;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_ms(0), "0 ms");
        assert_eq!(human_ms(999), "999 ms");
        assert_eq!(human_ms(1_000), "1 s");
        assert_eq!(human_ms(2_540), "2.5 s");
        assert_eq!(human_ms(180_000), "3 min");
        assert_eq!(human_ms(7_200_000), "2 h");
    }
}

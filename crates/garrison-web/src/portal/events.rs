//! Events in the portal: the newest events of the current tenant (or of
//! every tenant one sees) with a filter form and a live tail fed by
//! server-sent events (`/events/stream`, see `crate::live`; the page's
//! script is `static/events.js`), and one event with every field and its
//! original message.
//!
//! The tenant is the one named in the query, else the one switched to
//! (MSSP staff), else every tenant the caller sees, as on the asset list.
//! Everything shown comes from attacker-controlled input: the templates
//! escape it, the script writes it with `textContent` only.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use garrison_app::AppError;
use garrison_app::events::live::LiveQuery;
use garrison_app::events::search::{EventSearch, next_cursor};
use garrison_core::event::{Event, Value};
use garrison_core::model::Tenant;
use garrison_core::{EventId, TenantId};
use garrison_store::events::{field_text, valid_field_name};
use serde::Serialize;

use crate::WebState;
use crate::extract::{Signed, parse_id};
use crate::live::{Reauth, event_json, respond};
use crate::portal::{Layout, PortalError, PortalResult, page_with_status};

/// Events per page.
const PAGE: u32 = 50;

/// The most characters of the original message a list row shows.
const MESSAGE_CHARS: usize = 300;

/// The filter form, from the query string: `tenant`, `q`, `f` (repeatable),
/// `filters` (the form's text area, one filter per line) and `cursor`
/// (older events). Unknown parameters are ignored.
#[derive(Debug, Default)]
struct EventsQuery {
    tenant: Option<String>,
    q: Option<String>,
    filters: Vec<String>,
    cursor: Option<String>,
}

impl EventsQuery {
    fn parse(raw: Option<&str>) -> Result<Self, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| AppError::invalid("query", e.to_string()))?;
        let mut out = Self::default();
        let given = |v: &str| !v.trim().is_empty();
        for (name, value) in pairs {
            match name.as_str() {
                "tenant" if given(&value) => out.tenant = Some(value.trim().to_owned()),
                "q" if given(&value) => out.q = Some(value),
                "f" if given(&value) => out.filters.push(value.trim().to_owned()),
                "filters" => out.filters.extend(
                    value
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned),
                ),
                "cursor" if given(&value) => out.cursor = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The tenant watched: the one named, else the one switched to.
    fn tenant(&self, active: Option<TenantId>) -> Result<Option<TenantId>, AppError> {
        match &self.tenant {
            Some(t) => Ok(Some(parse_id(t)?)),
            None => Ok(active),
        }
    }

    /// The query string of the same filter (for the stream and paging).
    fn query_string(&self, tenant: Option<TenantId>) -> String {
        let tenant = tenant.map(|t| t.to_string());
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(t) = &tenant {
            pairs.push(("tenant", t));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q));
        }
        for f in &self.filters {
            pairs.push(("f", f));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A severity's band, for its colour: the bands of the schema's syslog
/// mapping (crit and above, err, warning, notice, below).
fn level(severity: u8) -> &'static str {
    match severity {
        80.. => "critical",
        60..=79 => "high",
        40..=59 => "medium",
        20..=39 => "low",
        _ => "info",
    }
}

fn cut(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// The few fields that say what an event is about, as one line.
fn summary(e: &Event) -> String {
    let text = |name: &str| e.fields.get(name).map(ToString::to_string);
    let mut parts = Vec::new();
    let src = text("source.ip");
    let dst = text("destination.ip").map(|d| match text("destination.port") {
        Some(p) => format!("{d}:{p}"),
        None => d,
    });
    match (src, dst) {
        (Some(s), Some(d)) => parts.push(format!("{s} → {d}")),
        (Some(s), None) => parts.push(format!("from {s}")),
        (None, Some(d)) => parts.push(format!("to {d}")),
        (None, None) => {}
    }
    for name in [
        "user.name",
        "host.name",
        "event.action",
        "rule.name",
        "dns.question.name",
        "url.full",
    ] {
        if let Some(v) = text(name) {
            parts.push(format!("{name} {v}"));
        }
    }
    cut(&parts.join(" · "), 200)
}

/// One row of the list, rendered by the template and sent as JSON to the
/// page's script for live rows, so that both look the same.
#[derive(Debug, Serialize)]
pub(crate) struct EventLine {
    pub id: String,
    pub url: String,
    pub tenant: String,
    pub time: String,
    pub severity: u8,
    pub level: &'static str,
    pub source: String,
    pub parser: String,
    pub summary: String,
    pub message: String,
}

impl EventLine {
    fn of(e: &Event, tenant: &str) -> Self {
        Self {
            id: e.id.to_string(),
            url: format!("/tenants/{}/events/{}", e.tenant_id, e.id),
            tenant: tenant.to_owned(),
            time: e.timestamp.short(),
            severity: e.severity,
            level: level(e.severity),
            source: e.source_id.clone(),
            parser: e.parser.clone(),
            summary: summary(e),
            message: cut(&e.original, MESSAGE_CHARS),
        }
    }
}

fn names(tenants: &[Tenant]) -> HashMap<TenantId, String> {
    tenants.iter().map(|t| (t.id, t.slug.clone())).collect()
}

fn name_of(names: &HashMap<TenantId, String>, id: TenantId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    tenants: Vec<Tenant>,
    /// The tenant named in the form (empty: as switched).
    tenant_param: String,
    q: String,
    filters: String,
    lines: Vec<EventLine>,
    total: u64,
    show_tenant: bool,
    /// Older events: the query string of the next page.
    older: Option<String>,
    /// The live stream's URL; `None` when the filter is refused.
    stream: Option<String>,
}

/// `GET /events`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> PortalResult {
    let p = &signed.principal;
    let query = EventsQuery::parse(raw.as_deref())?;
    let tenant = query.tenant(signed.ctx.session.active_tenant)?;
    let search = EventSearch {
        tenant,
        filters: query.filters.clone(),
        text: query.q.clone(),
        cursor: query.cursor.clone(),
        limit: Some(PAGE),
        ..EventSearch::default()
    };
    let (page, error) = match s.app().search_events(p, search).await {
        Ok(page) => (Some(page), None),
        Err(e @ AppError::Invalid(_)) => (None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let tenants = s.app().list_tenants(p).await?;
    let names = names(&tenants);
    let show_tenant = tenant.is_none() && tenants.len() > 1;
    let layout = Layout::new(&s, &signed, "Events", "/events")
        .await?
        .with_error(error.as_ref());
    let query_string = query.query_string(tenant);
    let (lines, total, older) = match &page {
        Some(page) => (
            page.items
                .iter()
                .map(|e| EventLine::of(e, &name_of(&names, e.tenant_id)))
                .collect(),
            page.total,
            next_cursor(page, PAGE).map(|c| {
                let cursor = serde_urlencoded::to_string([("cursor", c)]).unwrap_or_default();
                if query_string.is_empty() {
                    cursor
                } else {
                    format!("{query_string}&{cursor}")
                }
            }),
        ),
        None => (Vec::new(), 0, None),
    };
    let view = EventsPage {
        layout,
        tenant_param: query.tenant.clone().unwrap_or_default(),
        q: query.q.clone().unwrap_or_default(),
        filters: query.filters.join("\n"),
        lines,
        total,
        show_tenant,
        older,
        // Older pages are a look back: no live tail on them.
        stream: (error.is_none() && query.cursor.is_none())
            .then(|| format!("/events/stream?{query_string}")),
        tenants: if p.role().is_mssp() {
            tenants
        } else {
            Vec::new()
        },
    };
    Ok(page_with_status(&view, error.as_ref()))
}

/// `GET /events/stream`: the page's live tail (see `crate::live`), each
/// event as the row the list shows.
pub async fn stream(
    State(s): State<WebState>,
    signed: Signed,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> PortalResult {
    let p = &signed.principal;
    let query = EventsQuery::parse(raw.as_deref())?;
    let tenant = query.tenant(signed.ctx.session.active_tenant)?;
    let live = s
        .app()
        .live_events(
            p,
            LiveQuery {
                tenant,
                filters: query.filters,
                text: query.q,
            },
        )
        .await?;
    let names = names(&s.app().list_tenants(p).await?);
    let reauth = Reauth::session(&headers).ok_or(AppError::Unauthenticated)?;
    Ok(respond(s, live, reauth, move |e| {
        event_json(&EventLine::of(e, &name_of(&names, e.tenant_id)))
    }))
}

/// One field of an event, as shown.
struct FieldRow {
    name: String,
    value: String,
    kind: &'static str,
    /// The query string of the list filtered on this value, when it can
    /// be written as a filter.
    filter: Option<String>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "text",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Ip(_) => "address",
        Value::List(_) => "list",
    }
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventView {
    layout: Layout,
    tenant: Tenant,
    id: String,
    time: String,
    time_exact: String,
    received: String,
    source: String,
    parser: String,
    severity: u8,
    level: &'static str,
    fields: Vec<FieldRow>,
    original: String,
    truncated: bool,
}

/// `GET /tenants/{tenant_id}/events/{event_id}`: every field and the
/// original message.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path((tenant_id, event_id)): Path<(String, String)>,
) -> PortalResult {
    let p = &signed.principal;
    let tenant_id: TenantId = parse_id(&tenant_id)?;
    let event_id: EventId = parse_id(&event_id)?;
    p.scope(tenant_id).ok_or(AppError::NotFound)?;
    let e = s.app().get_event(p, event_id).await?;
    if e.tenant_id != tenant_id {
        return Err(PortalError(AppError::NotFound));
    }
    let tenant = s.app().tenant(p, tenant_id).await?;
    let fields = e
        .fields
        .iter()
        .map(|(name, v)| {
            let text = field_text(v).map(std::borrow::Cow::into_owned);
            let filter = text
                .as_ref()
                .filter(|t| valid_field_name(name) && t.len() <= 1024)
                .and_then(|t| {
                    serde_urlencoded::to_string([
                        ("tenant", tenant_id.to_string()),
                        ("f", format!("{name}={t}")),
                    ])
                    .ok()
                });
            FieldRow {
                name: name.to_owned(),
                value: text.unwrap_or_else(|| v.to_string()),
                kind: kind(v),
                filter,
            }
        })
        .collect();
    let layout = Layout::new(&s, &signed, "Event", "/events").await?;
    let view = EventView {
        layout,
        tenant,
        id: e.id.to_string(),
        time: e.timestamp.short(),
        time_exact: e.timestamp.to_rfc3339(),
        received: e.received_at.to_rfc3339(),
        truncated: e
            .fields
            .get(garrison_app::events::pipeline::ORIGINAL_TRUNCATED)
            .is_some(),
        source: e.source_id,
        parser: e.parser,
        severity: e.severity,
        level: level(e.severity),
        fields,
        original: e.original,
    };
    Ok(page_with_status(&view, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_reads_repeated_and_multiline_filters() {
        let q = EventsQuery::parse(Some(
            "tenant=&q=failed+login&f=user.name%3Dbob&filters=ip%3D10.0.0.0%2F8%0D%0A%0D%0Aseverity%3E%3D40&junk=1",
        ))
        .expect("parse");
        assert_eq!(q.tenant, None);
        assert_eq!(q.q.as_deref(), Some("failed login"));
        assert_eq!(
            q.filters,
            vec!["user.name=bob", "ip=10.0.0.0/8", "severity>=40"]
        );
        assert_eq!(
            q.query_string(None),
            "q=failed+login&f=user.name%3Dbob&f=ip%3D10.0.0.0%2F8&f=severity%3E%3D40"
        );
    }

    #[test]
    fn rows_are_cut_and_banded() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("é€", 3), "é€");
        assert_eq!(level(100), "critical");
        assert_eq!(level(70), "high");
        assert_eq!(level(0), "info");
    }
}

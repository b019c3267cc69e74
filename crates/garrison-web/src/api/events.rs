//! The events API: search, one event, counts by field, and the live stream
//! (server-sent events, see `crate::live`).
//!
//! Filters come in the repeatable `f` parameter as short texts
//! (`user.name=alice`, `url.original~admin`, `ip=10.0.0.0/8`,
//! `source.ip=10.1.2.3`, `q=failed`, `severity>=70`, `parser=cef`; see
//! `garrison_app::events::search`), which is why the query string is read
//! as a list of pairs rather than into a struct.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use garrison_app::AppError;
use garrison_app::events::live::LiveQuery;
use garrison_app::events::search::{EventSearch, next_cursor};
use garrison_core::event::{Event, Fields};
use garrison_core::{TenantId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::inventory::parse_time;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, ClientInfo, parse_id};
use crate::live::{Reauth, event_json, respond};

/// A normalised security event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    /// The event's own time, else the time it was received.
    #[serde(rename = "@timestamp")]
    #[schema(format = "date-time")]
    pub timestamp: String,
    #[schema(format = "date-time")]
    pub received_at: String,
    /// The listener, ingest token or file the event came through.
    pub source_id: String,
    /// The parser that read it.
    #[schema(example = "cef")]
    pub parser: String,
    /// 0 (informational) to 100 (critical).
    pub severity: u8,
    /// The normalised fields as one flat object of dotted names
    /// (`source.ip`, `user.name`, ...), in the order they were set.
    #[schema(value_type = Object)]
    pub fields: Fields,
    /// The message as received (cut at 16 KiB).
    pub original: String,
}

impl From<Event> for EventDto {
    fn from(e: Event) -> Self {
        Self {
            id: e.id.to_string(),
            tenant_id: e.tenant_id.to_string(),
            timestamp: e.timestamp.to_rfc3339(),
            received_at: e.received_at.to_rfc3339(),
            source_id: e.source_id,
            parser: e.parser,
            severity: e.severity,
            fields: e.fields,
            original: e.original,
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventDto>,
    /// Every match in the window, across all pages.
    pub total: u64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// How often one value of a field occurs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

/// Which events to search (documentation of the query string; `f` may be
/// repeated).
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub struct EventParams {
    /// Only this tenant; every tenant one may see when absent.
    #[param(format = "uuid")]
    tenant: Option<String>,
    /// Events at or after this time (RFC 3339); default: 24 hours before
    /// `until` (or before now). The window may span at most 31 days.
    #[param(format = "date-time")]
    from: Option<String>,
    /// Events before this time (RFC 3339); default: five minutes from now
    /// (events just received, and those of senders whose clocks run a
    /// little fast, are found).
    #[param(format = "date-time")]
    until: Option<String>,
    /// A filter, repeatable, all must hold: `field=value` (equals),
    /// `field~value` (contains, case-insensitive), `ip=CIDR` (source or
    /// destination address), `source.ip=CIDR`, `destination.ip=CIDR`,
    /// `q=text` (in the original message), `severity>=N`, `parser=name`.
    #[param(example = "user.name=alice")]
    f: Option<Vec<String>>,
    /// Free text in the original message (case-insensitive).
    q: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Events per page, 1 to 1000 (default 50).
    limit: Option<u32>,
}

/// What to count (documentation of the query string; `f` may be
/// repeated).
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub struct CountParams {
    /// The field whose values are counted (`source.ip`, `event.action`, ...).
    #[param(example = "source.ip")]
    field: String,
    /// How many values, most frequent first: 1 to 1000 (default 10).
    top: Option<usize>,
    /// Only this tenant; every tenant one may see when absent.
    #[param(format = "uuid")]
    tenant: Option<String>,
    /// As for the search (RFC 3339; default the last 24 hours and the
    /// next five minutes; at most 31 days).
    #[param(format = "date-time")]
    from: Option<String>,
    #[param(format = "date-time")]
    until: Option<String>,
    /// Filters as for the search, repeatable.
    f: Option<Vec<String>>,
    /// Free text in the original message.
    q: Option<String>,
}

/// The query string as name/value pairs, repeated names kept.
fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .map_err(|e| AppError::invalid("query", e.to_string()))
}

/// The parameters common to search and counts.
#[derive(Debug, Default)]
struct Common {
    tenant: Option<TenantId>,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    filters: Vec<String>,
    text: Option<String>,
}

impl Common {
    /// Takes the pair when it is one of the common parameters.
    fn take(&mut self, name: &str, value: String) -> Result<bool, AppError> {
        let given = !value.trim().is_empty();
        match name {
            "tenant" if given => self.tenant = Some(parse_id::<TenantId>(value.trim())?),
            "from" if given => self.from = Some(parse_time("from", &value)?),
            "until" if given => self.until = Some(parse_time("until", &value)?),
            "f" if given => self.filters.push(value),
            "q" if given => self.text = Some(value),
            "tenant" | "from" | "until" | "f" | "q" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn unknown(name: &str) -> AppError {
    AppError::invalid(
        "query",
        format!("unknown parameter `{}`", name.escape_default()),
    )
}

fn number<T: std::str::FromStr>(field: &'static str, v: &str) -> Result<T, AppError> {
    v.trim()
        .parse()
        .map_err(|_| AppError::invalid(field, format!("`{}` is not a number", v.escape_default())))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = EventPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<EventPage>> {
    let mut common = Common::default();
    let mut search = EventSearch::default();
    for (name, value) in pairs(raw.as_deref())? {
        if common.take(&name, value.clone())? {
            continue;
        }
        let given = !value.trim().is_empty();
        match name.as_str() {
            "cursor" if given => search.cursor = Some(value),
            "limit" if given => search.limit = Some(number("limit", &value)?),
            "cursor" | "limit" => {}
            _ => return Err(unknown(&name).into()),
        }
    }
    search.tenant = common.tenant;
    search.from = common.from;
    search.until = common.until;
    search.filters = common.filters;
    search.text = common.text;
    let limit = search.effective_limit();
    let page = s.app().search_events(&p, search).await?;
    let next_cursor = next_cursor(&page, limit);
    Ok(Json(EventPage {
        total: page.total,
        next_cursor,
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}", tag = "events",
    params(("event_id" = String, Path, format = "uuid")),
    responses((status = 200, body = EventDto), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<EventDto>> {
    Ok(Json(s.app().get_event(&p, parse_id(&id)?).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/events/counts", tag = "events", params(CountParams),
    responses((status = 200, body = [ValueCount]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn counts(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Vec<ValueCount>>> {
    let mut common = Common::default();
    let mut field = None;
    let mut top = None;
    for (name, value) in pairs(raw.as_deref())? {
        if common.take(&name, value.clone())? {
            continue;
        }
        let given = !value.trim().is_empty();
        match name.as_str() {
            "field" if given => field = Some(value.trim().to_owned()),
            "top" if given => top = Some(number("top", &value)?),
            "field" | "top" => {}
            _ => return Err(unknown(&name).into()),
        }
    }
    let field = field.ok_or_else(|| AppError::invalid("field", "name the field to count"))?;
    let mut filters = common.filters;
    if let Some(q) = common.text {
        filters.push(format!("q={q}"));
    }
    let counts = s
        .app()
        .count_events(
            &p,
            common.tenant,
            common.from,
            common.until,
            &filters,
            &field,
            top,
        )
        .await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|(value, count)| ValueCount { value, count })
            .collect(),
    ))
}

/// Which events to stream (documentation of the query string; `f` may be
/// repeated).
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub struct StreamParams {
    /// Only this tenant; every tenant one may see when absent.
    #[param(format = "uuid")]
    tenant: Option<String>,
    /// Filters as for the search, repeatable.
    f: Option<Vec<String>>,
    /// Free text in the original message (case-insensitive).
    q: Option<String>,
}

/// Events as they are stored, as server-sent events: first `ready` (the
/// subscription exists), then `event` with an event (as in the search)
/// for each matching event, and `lagged` with `{"skipped": N}` when the
/// client fell behind and N events of its tenants were skipped. A comment
/// keeps the connection alive every 15 seconds; the caller is
/// authenticated again every 30 seconds and the stream ends when that
/// fails or the caller's tenants changed.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", params(StreamParams),
    responses(
        (status = 200, description = "`text/event-stream`: `ready`, then `event` (an event as in the search) and `lagged` (`{\"skipped\": N}`) events", content_type = "text/event-stream", body = String),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stream(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let mut common = Common::default();
    for (name, value) in pairs(raw.as_deref())? {
        if !common.take(&name, value)? {
            return Err(unknown(&name).into());
        }
    }
    if common.from.is_some() || common.until.is_some() {
        return Err(AppError::invalid(
            "from",
            "a live stream has no time window: it sends events as they are stored",
        )
        .into());
    }
    let query = LiveQuery {
        tenant: common.tenant,
        filters: common.filters,
        text: common.text,
    };
    let live = s.app().live_events(&p, query).await?;
    let reauth = Reauth::api(&headers, client.ip).ok_or(AppError::Unauthenticated)?;
    Ok(respond(s, live, reauth, |e| {
        event_json(&EventDto::from(e.clone()))
    }))
}

//! Reading events back: search, one event, counts by field.
//!
//! Every use case resolves the tenant (when one is named) within the
//! caller's access first (`NotFound` otherwise), then checks
//! [`Permission::EventRead`]. Queries are validated here, naming the
//! parameter at fault, before the store sees them: the store refuses a bad
//! field name or CIDR with a backend error, which would read as a server
//! failure.
//!
//! Filters come as short texts, one condition each:
//!
//! | text | condition |
//! |---|---|
//! | `field=value` | the field's value equals `value` |
//! | `field~value` | the field's value contains `value` (ASCII case-insensitive) |
//! | `ip=CIDR` | `source.ip` or `destination.ip` is in the CIDR (or equals a bare address) |
//! | `source.ip=CIDR`, `destination.ip=CIDR` | that address is in the CIDR |
//! | `q=text` | the original message contains `text` (ASCII case-insensitive) |
//! | `severity>=N` | severity at least `N` (0 to 100) |
//! | `parser=name` | read by that parser (`cef`, `rfc5424`, `suricata`, ...) |

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use garrison_core::event::Event;
use garrison_core::{EventId, Permission, Principal, TenantId, Timestamp};
use garrison_store::events::{cidr_range, valid_field_name};
use garrison_store::{EventCursor, EventFilter, EventQuery, MAX_EVENT_PAGE, Page};

use crate::{App, AppError, AppResult};

/// Events per page when the caller names no limit.
pub const DEFAULT_EVENT_LIMIT: u32 = 50;

/// The window searched when the caller names no time.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The widest window one search or count may cover.
pub const MAX_WINDOW: Duration = Duration::from_secs(31 * 24 * 60 * 60);

/// Values counted when the caller names no number.
pub const DEFAULT_TOP: usize = 10;

/// The most values one count returns.
pub const MAX_TOP: usize = 1000;

/// The most filters one query may carry.
pub const MAX_FILTERS: usize = 32;

/// The longest value a filter may compare with.
pub const MAX_FILTER_VALUE: usize = 1024;

/// What to search for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSearch {
    /// Only this tenant; every tenant the caller may see when absent.
    pub tenant: Option<TenantId>,
    /// Events at or after this time (default: `until` minus 24 hours).
    pub from: Option<Timestamp>,
    /// Events before this time (default: now).
    pub until: Option<Timestamp>,
    /// Filters in their text form (see the module's documentation).
    pub filters: Vec<String>,
    /// Free text in the original message (the `q` parameter).
    pub text: Option<String>,
    /// Where the page starts: a cursor from an earlier page's
    /// [`next_cursor`].
    pub cursor: Option<String>,
    /// Events per page (1 to 1000, default 50).
    pub limit: Option<u32>,
}

impl EventSearch {
    /// The limit the search uses.
    #[must_use]
    pub fn effective_limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_EVENT_LIMIT)
    }
}

/// The cursor for the page after `page`, when the page was full (an empty
/// next page is possible when the matches end exactly at its end).
#[must_use]
pub fn next_cursor(page: &Page<Event>, limit: u32) -> Option<String> {
    let full = u32::try_from(page.items.len()).is_ok_and(|n| n >= limit);
    if full {
        page.items
            .last()
            .map(|e| encode_cursor(&EventCursor::after(e)))
    } else {
        None
    }
}

/// A cursor as opaque text: `ts:id` in URL-safe base64.
#[must_use]
pub fn encode_cursor(c: &EventCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.timestamp.as_millis(), c.id))
}

/// Reads a cursor made by [`encode_cursor`].
///
/// # Errors
/// `Invalid` naming `cursor` when the text is not one.
pub fn decode_cursor(s: &str) -> AppResult<EventCursor> {
    let bad = || AppError::invalid("cursor", "not a cursor from an earlier page of this search");
    if s.len() > 128 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (ts, id) = text.split_once(':').ok_or_else(bad)?;
    let ts: i64 = ts.parse().map_err(|_| bad())?;
    let id: EventId = id.parse().map_err(|_| bad())?;
    Ok(EventCursor {
        timestamp: Timestamp::from_millis(ts),
        id,
    })
}

fn show(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    short.escape_default().to_string()
}

/// Reads one filter in its text form (see the module's documentation).
///
/// # Errors
/// `Invalid` naming `param` when the text is not a filter, names a field
/// that cannot be one, or carries a bad CIDR or severity.
pub fn parse_filter(param: &'static str, text: &str) -> AppResult<EventFilter> {
    let bad = |why: String| AppError::invalid(param, why);
    let Some(at) = text.find(['=', '~', '>']) else {
        return Err(bad(format!(
            "`{}` is not a filter: write field=value, field~value, ip=CIDR, q=text, severity>=N or parser=name",
            show(text)
        )));
    };
    let name = text[..at].trim();
    let rest = &text[at..];
    let (op, value) = if let Some(v) = rest.strip_prefix(">=") {
        (">=", v)
    } else if let Some(v) = rest.strip_prefix('=') {
        ("=", v)
    } else if let Some(v) = rest.strip_prefix('~') {
        ("~", v)
    } else {
        return Err(bad(format!(
            "`{}`: `>` is only known as `severity>=N`",
            show(text)
        )));
    };
    if !valid_field_name(name) {
        return Err(bad(format!(
            "`{}` is not a field name (1 to 128 of A-Z a-z 0-9 _ . @ -)",
            show(name)
        )));
    }
    if value.len() > MAX_FILTER_VALUE {
        return Err(bad(format!(
            "the value for `{name}` is longer than {MAX_FILTER_VALUE} bytes"
        )));
    }
    let cidr = |field: Option<&str>| {
        if cidr_range(value).is_some() {
            Ok(EventFilter::IpIn(
                field.map(str::to_owned),
                value.trim().to_owned(),
            ))
        } else {
            Err(bad(format!(
                "`{}` is not an IP address or CIDR",
                show(value)
            )))
        }
    };
    match (name, op) {
        ("severity", ">=") => match value.trim().parse::<u8>() {
            Ok(n) if n <= 100 => Ok(EventFilter::SeverityAtLeast(n)),
            _ => Err(bad(format!(
                "`{}` is not a severity from 0 to 100",
                show(value)
            ))),
        },
        (_, ">=") => Err(bad(format!(
            "`{name}>=` is not known: only severity>=N compares by size"
        ))),
        ("severity", _) => Err(bad("severity is filtered as severity>=N".to_owned())),
        ("ip", "=") => cidr(None),
        ("source.ip" | "destination.ip", "=") => cidr(Some(name)),
        ("ip", _) => Err(bad("addresses are filtered as ip=CIDR".to_owned())),
        ("q", "=") if !value.is_empty() => Ok(EventFilter::Text(value.to_owned())),
        ("q", _) => Err(bad("free text is written q=text".to_owned())),
        ("parser", "=") => Ok(EventFilter::Parser(value.trim().to_owned())),
        ("parser", _) => Err(bad("the parser is filtered as parser=name".to_owned())),
        (_, "=") => Ok(EventFilter::FieldEquals(name.to_owned(), value.to_owned())),
        _ => Ok(EventFilter::FieldContains(
            name.to_owned(),
            value.to_owned(),
        )),
    }
}

/// The filters of a query: each text of `filters` (parameter `f`) and
/// the free text (parameter `q`).
pub(super) fn parse_filters(filters: &[String], text: Option<&str>) -> AppResult<Vec<EventFilter>> {
    if filters.len() > MAX_FILTERS {
        return Err(AppError::invalid(
            "f",
            format!("at most {MAX_FILTERS} filters"),
        ));
    }
    let mut out = filters
        .iter()
        .map(|f| parse_filter("f", f))
        .collect::<AppResult<Vec<_>>>()?;
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        if t.len() > MAX_FILTER_VALUE {
            return Err(AppError::invalid(
                "q",
                format!("longer than {MAX_FILTER_VALUE} bytes"),
            ));
        }
        out.push(EventFilter::Text(t.to_owned()));
    }
    Ok(out)
}

/// How far past the present a search reaches when the caller names no
/// `until`: events received this millisecond, and those of senders whose
/// clocks run a little fast, are found by the default search.
pub const FUTURE_SLACK: Duration = Duration::from_secs(5 * 60);

/// The window `[from, until)`: the last 24 hours (and the next five
/// minutes, [`FUTURE_SLACK`]) by default, at most 31 days.
fn window(
    now: Timestamp,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> AppResult<(Timestamp, Timestamp)> {
    // The slack past the present is not counted against the width.
    let (until, end, slack) = match until {
        Some(u) => (u, u, Duration::ZERO),
        None => (now.plus(FUTURE_SLACK), now, FUTURE_SLACK),
    };
    let from = from.unwrap_or_else(|| end.minus(DEFAULT_WINDOW));
    if from >= until {
        return Err(AppError::invalid("from", "must be before until"));
    }
    if until.since(from) > MAX_WINDOW + slack {
        return Err(AppError::invalid(
            "from",
            "the window from `from` to `until` is longer than 31 days; narrow it",
        ));
    }
    Ok((from, until))
}

pub(super) use crate::admin::require;

impl App {
    /// Resolves a named tenant within the caller's access.
    pub(super) async fn visible_tenant(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
    ) -> AppResult<()> {
        if let Some(t) = tenant {
            let scope = p.scope(t).ok_or(AppError::NotFound)?;
            self.store.find_tenant(&scope).await?;
        }
        Ok(())
    }

    /// Checks a query as the store would, naming the parameter at fault.
    pub(super) fn checked(q: EventQuery) -> AppResult<EventQuery> {
        match q.invalid_part() {
            Some(part) => Err(AppError::invalid(
                "f",
                format!("`{}` cannot be searched for", show(part)),
            )),
            None => Ok(q),
        }
    }

    /// Events the caller may see, newest first, one page at a time.
    ///
    /// # Errors
    /// `NotFound` when the named tenant is not visible; `Forbidden`
    /// without [`Permission::EventRead`]; `Invalid` naming the parameter
    /// (`from`, `f`, `q`, `cursor`, `limit`) for bad input.
    pub async fn search_events(&self, p: &Principal, q: EventSearch) -> AppResult<Page<Event>> {
        self.visible_tenant(p, q.tenant).await?;
        require(p, Permission::EventRead)?;
        let (from, until) = window(self.clock.now(), q.from, q.until)?;
        let limit = q.effective_limit();
        if limit == 0 || limit > MAX_EVENT_PAGE {
            return Err(AppError::invalid(
                "limit",
                format!("must be from 1 to {MAX_EVENT_PAGE}"),
            ));
        }
        let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
        let query = Self::checked(EventQuery {
            tenant: q.tenant,
            from: Some(from),
            until: Some(until),
            filters: parse_filters(&q.filters, q.text.as_deref())?,
            after,
            limit,
        })?;
        Ok(self.store.search_events(&p.access(), &query).await?)
    }

    /// One event.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible; `Forbidden` without
    /// [`Permission::EventRead`].
    pub async fn get_event(&self, p: &Principal, id: EventId) -> AppResult<Event> {
        let event = self.store.get_event(&p.access(), id).await?;
        require(p, Permission::EventRead)?;
        Ok(event)
    }

    /// The `top` most frequent values of `field` among the matching events
    /// (as text, most frequent first).
    ///
    /// # Errors
    /// As [`App::search_events`]; `Invalid` naming `field` or `top` for a
    /// bad field name or number.
    #[allow(clippy::too_many_arguments)]
    pub async fn count_events(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
        filters: &[String],
        field: &str,
        top: Option<usize>,
    ) -> AppResult<Vec<(String, u64)>> {
        self.visible_tenant(p, tenant).await?;
        require(p, Permission::EventRead)?;
        let (from, until) = window(self.clock.now(), from, until)?;
        if !valid_field_name(field) {
            return Err(AppError::invalid(
                "field",
                format!(
                    "`{}` is not a field name (1 to 128 of A-Z a-z 0-9 _ . @ -)",
                    show(field)
                ),
            ));
        }
        let top = top.unwrap_or(DEFAULT_TOP);
        if top == 0 || top > MAX_TOP {
            return Err(AppError::invalid(
                "top",
                format!("must be from 1 to {MAX_TOP}"),
            ));
        }
        let query = Self::checked(EventQuery {
            tenant,
            from: Some(from),
            until: Some(until),
            filters: parse_filters(filters, None)?,
            ..EventQuery::default()
        })?;
        Ok(self
            .store
            .count_events_by(&p.access(), &query, field, top)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> AppResult<EventFilter> {
        parse_filter("f", s)
    }

    fn field_of(e: AppError) -> &'static str {
        match e {
            AppError::Invalid(i) => i.field,
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn filters_read_their_text_forms() {
        assert_eq!(
            f("user.name=alice").expect("eq"),
            EventFilter::FieldEquals("user.name".into(), "alice".into())
        );
        assert_eq!(
            f("url.original~a=b~c").expect("contains"),
            EventFilter::FieldContains("url.original".into(), "a=b~c".into())
        );
        assert_eq!(
            f("ip=10.0.0.0/8").expect("ip"),
            EventFilter::IpIn(None, "10.0.0.0/8".into())
        );
        assert_eq!(
            f("source.ip=2001:db8::1").expect("src"),
            EventFilter::IpIn(Some("source.ip".into()), "2001:db8::1".into())
        );
        assert_eq!(
            f("destination.ip=10.1.0.0/16").expect("dst"),
            EventFilter::IpIn(Some("destination.ip".into()), "10.1.0.0/16".into())
        );
        assert_eq!(
            f("q=failed password").expect("q"),
            EventFilter::Text("failed password".into())
        );
        assert_eq!(
            f("severity>=70").expect("sev"),
            EventFilter::SeverityAtLeast(70)
        );
        assert_eq!(
            f("parser=cef").expect("parser"),
            EventFilter::Parser("cef".into())
        );
    }

    #[test]
    fn bad_filters_name_the_parameter() {
        for bad in [
            "nothing",
            "ip=10.0.0.0/33",
            "source.ip=x",
            "a b=c",
            "x') OR 1=1 --=y",
            "severity>=101",
            "severity>=x",
            "port>=3",
            "severity=3",
            "ip~10",
            "q=",
            "=x",
            "a>b",
        ] {
            assert_eq!(field_of(f(bad).expect_err(bad)), "f", "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = EventCursor {
            timestamp: Timestamp::from_millis(1_700_000_000_123),
            id: EventId::new(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).expect("cursor"), c);
        for bad in ["", "x", "!!!!", &URL_SAFE_NO_PAD.encode("12:nope")] {
            assert_eq!(field_of(decode_cursor(bad).expect_err(bad)), "cursor");
        }
    }

    #[test]
    fn windows_default_to_a_day_and_stop_at_31_days() {
        let now = Timestamp::from_millis(100 * 86_400_000);
        let (from, until) = window(now, None, None).expect("default");
        assert_eq!(
            until,
            now.plus(FUTURE_SLACK),
            "events received now are found"
        );
        assert_eq!(now.since(from), DEFAULT_WINDOW);
        let from = now.minus(MAX_WINDOW);
        assert!(window(now, Some(from), None).is_ok());
        let too_old = from.minus(Duration::from_secs(1));
        assert_eq!(
            field_of(window(now, Some(too_old), None).expect_err("long")),
            "from"
        );
        assert_eq!(
            field_of(window(now, Some(now), Some(now)).expect_err("empty")),
            "from"
        );
    }
}

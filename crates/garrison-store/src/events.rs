//! Storage port for normalised security events: batched, idempotent
//! inserts from the ingest pipeline, searches and counts for analysts and
//! dashboards (always through a [`TenantAccess`]), and per-tenant retention
//! with its purge.

use std::borrow::Cow;
use std::net::IpAddr;
use std::num::NonZeroU32;

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::event::{Event, Value};
use garrison_core::{EventId, TenantAccess, TenantId, TenantScope, Timestamp};

use crate::{Page, StoreResult};

/// How long events are kept when a tenant has set nothing.
pub const DEFAULT_EVENT_RETENTION_DAYS: u32 = 90;

/// The most events one search returns.
pub const MAX_EVENT_PAGE: u32 = 1000;

/// The longest field name a query may use.
pub const MAX_FIELD_NAME: usize = 128;

/// Whether `name` may be used as a field name in a query: 1 to 128 of
/// `A-Z a-z 0-9 _ . @ -`. Names reach the database only as bound values,
/// but this keeps quotes, JSON path syntax and wildcards out of them.
#[must_use]
pub fn valid_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_FIELD_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-'))
}

/// An address as a 128-bit number, IPv4 mapped into IPv6 (`::ffff:a.b.c.d`),
/// so that both families share one ordered space.
#[must_use]
pub fn ip_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The first and last address of a CIDR (`10.0.0.0/8`, `2001:db8::/32`, or
/// a bare address for a single host), as [`ip_number`]s; `None` when the
/// text is not one. Host bits set in the address are ignored.
#[must_use]
pub fn cidr_range(cidr: &str) -> Option<(u128, u128)> {
    let cidr = cidr.trim();
    let (addr, prefix) = match cidr.split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
        None => (cidr.parse::<IpAddr>().ok()?, None),
    };
    let (max, offset) = match addr {
        IpAddr::V4(_) => (32_u8, 96_u8),
        IpAddr::V6(_) => (128_u8, 0_u8),
    };
    let prefix = prefix.unwrap_or(max);
    if prefix > max {
        return None;
    }
    let bits = u32::from(offset + prefix);
    let host_mask = u128::MAX.checked_shr(bits).unwrap_or(0);
    let n = ip_number(addr);
    Some((n & !host_mask, n | host_mask))
}

/// One condition on events; a query's conditions must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    /// The field's value, as text, equals this text exactly (`443`,
    /// `true`, `10.0.0.1`). A list only equals its JSON text.
    FieldEquals(String, String),
    /// The field's value, as text, contains this text (ASCII
    /// case-insensitive).
    FieldContains(String, String),
    /// An address in the CIDR (or equal to a bare address): in the named
    /// field (`source.ip` or `destination.ip`, the two kept in columns), or
    /// with `None` in either of them.
    IpIn(Option<String>, String),
    /// Free text in the original message (ASCII case-insensitive substring).
    Text(String),
    /// Severity at least this (0 to 100).
    SeverityAtLeast(u8),
    /// Read by this parser (`rfc5424`, `cef`, `suricata`, ...).
    Parser(String),
}

/// A field's value as text, as filters compare it and counts group it:
/// text as it is, numbers as JSON writes them, `true`/`false`, addresses in
/// their usual form, lists as their JSON text; `None` for a value JSON
/// cannot hold (a float that is not finite is stored as `null`).
#[must_use]
pub fn field_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Str(s) => Some(Cow::Borrowed(s)),
        Value::Float(x) if !x.is_finite() => None,
        Value::Ip(ip) => Some(Cow::Owned(ip.to_string())),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::List(_) => {
            serde_json::to_string(v).ok().map(Cow::Owned)
        }
    }
}

/// Whether `needle` occurs in `haystack`, ignoring ASCII case (as SQL
/// `LIKE '%needle%'` does on SQLite).
fn contains_nocase(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The address an event holds in `name` (`source.ip` or
/// `destination.ip`), as the store keeps it in its own column.
fn event_ip(e: &Event, name: &str) -> Option<u128> {
    e.fields.get(name).and_then(Value::as_ip).map(ip_number)
}

impl EventFilter {
    /// Whether the event meets this condition, decided in memory as the
    /// store decides it in SQL (the live feed filters with this; the
    /// conformance suite holds the two to the same answers). Callers check
    /// [`EventQuery::invalid_part`] first, as the store does.
    #[must_use]
    pub fn matches(&self, e: &Event) -> bool {
        match self {
            Self::FieldEquals(name, value) => e
                .fields
                .get(name)
                .and_then(field_text)
                .is_some_and(|t| t == value.as_str()),
            Self::FieldContains(name, value) => e
                .fields
                .get(name)
                .and_then(field_text)
                .is_some_and(|t| contains_nocase(&t, value)),
            Self::IpIn(name, cidr) => {
                let Some((lo, hi)) = cidr_range(cidr) else {
                    return false;
                };
                let inside = |field: &str| event_ip(e, field).is_some_and(|n| lo <= n && n <= hi);
                match name.as_deref() {
                    None => inside("source.ip") || inside("destination.ip"),
                    Some(field @ ("source.ip" | "destination.ip")) => inside(field),
                    Some(_) => false,
                }
            }
            Self::Text(text) => contains_nocase(&e.original, text),
            Self::SeverityAtLeast(s) => e.severity >= *s,
            Self::Parser(p) => e.parser == *p,
        }
    }
}

/// Whether the event meets every filter (an empty list: every event).
#[must_use]
pub fn matches_all(filters: &[EventFilter], e: &Event) -> bool {
    filters.iter().all(|f| f.matches(e))
}

/// Where a page of events starts: just after (older than) this event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCursor {
    pub timestamp: Timestamp,
    pub id: EventId,
}

impl EventCursor {
    /// The cursor for the page after the one `last` ended.
    #[must_use]
    pub const fn after(last: &Event) -> Self {
        Self {
            timestamp: last.timestamp,
            id: last.id,
        }
    }
}

/// Which events to search or count, newest first by (`@timestamp`, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Only this tenant (must be within the access).
    pub tenant: Option<TenantId>,
    /// Events at or after this time.
    pub from: Option<Timestamp>,
    /// Events before this time.
    pub until: Option<Timestamp>,
    pub filters: Vec<EventFilter>,
    /// Keyset pagination: only events older than this one.
    pub after: Option<EventCursor>,
    /// At most this many events (1 to [`MAX_EVENT_PAGE`]).
    pub limit: u32,
}

impl Default for EventQuery {
    fn default() -> Self {
        Self {
            tenant: None,
            from: None,
            until: None,
            filters: Vec::new(),
            after: None,
            limit: 100,
        }
    }
}

impl EventQuery {
    /// The first field name or CIDR the store would refuse, for callers
    /// that want to answer "invalid" before asking it.
    #[must_use]
    pub fn invalid_part(&self) -> Option<&str> {
        self.filters.iter().find_map(|f| match f {
            EventFilter::FieldEquals(n, _) | EventFilter::FieldContains(n, _) => {
                (!valid_field_name(n)).then_some(n.as_str())
            }
            EventFilter::IpIn(name, cidr) => match name {
                Some(n) if !matches!(n.as_str(), "source.ip" | "destination.ip") => {
                    Some(n.as_str())
                }
                _ => cidr_range(cidr).is_none().then_some(cidr.as_str()),
            },
            _ => None,
        })
    }
}

/// Normalised events, per tenant.
///
/// The SQL store keeps them in one `events` table with one index on
/// (tenant, time, id); searches walk that index for the tenant and time
/// window and evaluate the other conditions row by row, so a narrow time
/// window is what keeps a search cheap.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Writes a batch in one transaction and returns how many were new.
    ///
    /// A system path: the ingest pipeline has already attributed each
    /// event to its tenant (listener or ingest token), so events are taken
    /// as they are, each with its own `tenant_id`, without a scope.
    /// Idempotent on the event id: an event delivered again is a no-op, so
    /// at-least-once delivery does not duplicate.
    async fn insert_events(&self, batch: &[Event]) -> StoreResult<u64> {
        Ok(self.insert_event_groups(&[batch]).await?.iter().sum())
    }
    /// Writes several batches in one transaction (one commit for what a
    /// pipeline worker took at once) and returns how many of each were
    /// new, in order. The rest as [`EventStore::insert_events`].
    async fn insert_event_groups(&self, groups: &[&[Event]]) -> StoreResult<Vec<u64>>;
    /// Events in `access` matching the query, newest first; `total` counts
    /// every match of the query without its cursor and limit. A field name
    /// or CIDR that [`EventQuery::invalid_part`] names is refused with an
    /// error.
    async fn search_events(
        &self,
        access: &TenantAccess,
        q: &EventQuery,
    ) -> StoreResult<Page<Event>>;
    /// The `top` most frequent values (as text) of `field` among the events
    /// matching the query (its cursor and limit ignored), most frequent
    /// first; events without the field are not counted.
    async fn count_events_by(
        &self,
        access: &TenantAccess,
        q: &EventQuery,
        field: &str,
        top: usize,
    ) -> StoreResult<Vec<(String, u64)>>;
    /// One event; `NotFound` when missing or outside the access.
    async fn get_event(&self, access: &TenantAccess, id: EventId) -> StoreResult<Event>;
    /// Deletes the tenant's events older than `older_than` (by
    /// `@timestamp`); returns how many. The retention job calls it with
    /// `now - event_retention_days`.
    async fn purge_events(&self, scope: &TenantScope, older_than: Timestamp) -> StoreResult<u64>;
    /// How many days the tenant's events are kept
    /// ([`DEFAULT_EVENT_RETENTION_DAYS`] unless set).
    async fn event_retention_days(&self, scope: &TenantScope) -> StoreResult<u32>;
    async fn set_event_retention_days(
        &self,
        scope: &TenantScope,
        days: NonZeroU32,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_strict() {
        for ok in [
            "source.ip",
            "@timestamp",
            "winlog.event_data.Sub-Status",
            "a",
        ] {
            assert!(valid_field_name(ok), "{ok}");
        }
        let long = "a".repeat(129);
        for bad in [
            "",
            "x') OR 1=1 --",
            "a\"b",
            "a'b",
            "$.a",
            "a[0]",
            "a b",
            "a%",
            "é",
            long.as_str(),
        ] {
            assert!(!valid_field_name(bad), "{bad}");
        }
        let q = EventQuery {
            filters: vec![EventFilter::FieldEquals("x' OR '1".into(), "y".into())],
            ..EventQuery::default()
        };
        assert_eq!(q.invalid_part(), Some("x' OR '1"));
    }

    fn event(fields: &[(&str, Value)], original: &str) -> Event {
        let mut f = garrison_core::event::Fields::new();
        for (n, v) in fields {
            f.set((*n).to_owned(), v.clone());
        }
        Event {
            id: EventId::new(),
            tenant_id: TenantId::new(),
            timestamp: Timestamp::from_millis(0),
            received_at: Timestamp::from_millis(0),
            source_id: "s".to_owned(),
            parser: "cef".to_owned(),
            severity: 60,
            fields: f,
            original: original.to_owned(),
        }
    }

    #[test]
    fn field_values_read_as_the_json_text_sql_compares() {
        let ip = |s: &str| Value::Ip(s.parse().expect("ip"));
        let text = |v: Value| field_text(&v).map(Cow::into_owned);
        assert_eq!(text(Value::from("a\"b")).as_deref(), Some("a\"b"));
        assert_eq!(text(Value::Int(-443)).as_deref(), Some("-443"));
        assert_eq!(text(Value::Float(1.5)).as_deref(), Some("1.5"));
        assert_eq!(text(Value::Float(100.0)).as_deref(), Some("100.0"));
        assert_eq!(text(Value::Float(f64::NAN)), None);
        assert_eq!(text(Value::Bool(false)).as_deref(), Some("false"));
        assert_eq!(text(ip("2001:db8::1")).as_deref(), Some("2001:db8::1"));
        assert_eq!(
            text(Value::List(vec![ip("10.0.0.1"), Value::Int(2), "x".into()])).as_deref(),
            Some(r#"["10.0.0.1",2,"x"]"#)
        );
    }

    #[test]
    fn filters_match_in_memory() {
        let ip = |s: &str| Value::Ip(s.parse().expect("ip"));
        let e = event(
            &[
                ("source.ip", ip("::ffff:10.1.2.3")),
                ("destination.ip", Value::from("192.0.2.7")),
                ("destination.port", Value::Int(443)),
                ("user.name", Value::from("Bob_Admin")),
            ],
            "Failed password for BOB 100% sure",
        );
        let yes = |f: EventFilter| assert!(f.matches(&e), "{f:?}");
        let no = |f: EventFilter| assert!(!f.matches(&e), "{f:?}");
        let s = str::to_owned;
        yes(EventFilter::FieldEquals(s("destination.port"), s("443")));
        no(EventFilter::FieldEquals(s("destination.port"), s("44")));
        no(EventFilter::FieldEquals(s("user.name"), s("bob_admin")));
        yes(EventFilter::FieldContains(s("user.name"), s("B_A")));
        yes(EventFilter::FieldContains(s("destination.port"), s("44")));
        no(EventFilter::FieldContains(s("user.name"), s("%")));
        no(EventFilter::FieldEquals(s("missing"), s("")));
        yes(EventFilter::IpIn(None, s("10.0.0.0/8")));
        yes(EventFilter::IpIn(None, s("192.0.2.7")));
        yes(EventFilter::IpIn(
            Some(s("destination.ip")),
            s("192.0.2.0/24"),
        ));
        no(EventFilter::IpIn(Some(s("source.ip")), s("192.0.2.0/24")));
        no(EventFilter::IpIn(Some(s("user.name")), s("10.0.0.0/8")));
        no(EventFilter::IpIn(None, s("10.0.0.0/33")));
        yes(EventFilter::Text(s("PASSWORD for bob 100%")));
        no(EventFilter::Text(s("1%")));
        yes(EventFilter::SeverityAtLeast(60));
        no(EventFilter::SeverityAtLeast(61));
        yes(EventFilter::Parser(s("cef")));
        no(EventFilter::Parser(s("CEF")));
        assert!(matches_all(&[], &e));
        assert!(!matches_all(
            &[
                EventFilter::Parser(s("cef")),
                EventFilter::SeverityAtLeast(90)
            ],
            &e
        ));
    }

    #[test]
    fn cidrs_are_ranges_in_one_space() {
        let (lo, hi) = cidr_range("10.1.0.0/16").expect("v4");
        assert_eq!(lo, ip_number("10.1.0.0".parse().expect("ip")));
        assert_eq!(hi, ip_number("10.1.255.255".parse().expect("ip")));
        let (lo, hi) = cidr_range("10.1.2.3").expect("host");
        assert_eq!(lo, hi);
        let (lo, hi) = cidr_range("0.0.0.0/0").expect("all v4");
        assert_eq!(lo, ip_number("::ffff:0.0.0.0".parse().expect("ip")));
        assert_eq!(hi, ip_number("::ffff:255.255.255.255".parse().expect("ip")));
        assert_eq!(cidr_range("::/0"), Some((0, u128::MAX)));
        let (lo, hi) = cidr_range("2001:db8::1/32").expect("v6");
        assert_eq!(lo, ip_number("2001:db8::".parse().expect("ip")));
        assert_eq!(
            hi,
            ip_number(
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
                    .parse()
                    .expect("ip")
            )
        );
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/-1", ""] {
            assert!(cidr_range(bad).is_none(), "{bad}");
        }
    }
}

//! Normalised events in SQL: one `events` table with one composite index
//! on (tenant, time, id).
//!
//! Layout, chosen for SQLite at 50,000 events a second:
//! - Inserts are multi-row `INSERT … ON CONFLICT (id) DO NOTHING`, sized per
//!   backend, in one transaction per batch; each row touches the table, its
//!   primary key and the one index.
//! - A search walks the index for the tenant and time window, newest first,
//!   and tests the remaining conditions row by row: field conditions on the
//!   JSON text of `fields` (the backend's JSON function, see
//!   [`SqlStore::field_text`]), free text on `original`. Its cost is the
//!   number of events in the window, so callers keep windows narrow.
//! - `source_ip` and `destination_ip` hold the address as 32 hex digits
//!   (IPv4 mapped into IPv6), so a CIDR is `BETWEEN lo AND hi` on text,
//!   answered in SQL; pagination and counts stay exact.
//! - Retention deletes through the same index, in slices, so that ingest
//!   interleaves with a large purge.
//!
//! Left for later: on PostgreSQL, writing by `COPY` (it needs a native
//! `PgConnection` beside the `Any` pool) and time partitions (declarative
//! range partitions by `ts`, dropped whole by retention); on SQLite, a
//! database file per day attached for searches.

use std::num::NonZeroU32;

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::event::{Event, Fields, Value};
use garrison_core::{EventId, TenantAccess, TenantScope, Timestamp};
use garrison_store::events::{cidr_range, ip_number, valid_field_name};
use garrison_store::{
    Backend, DEFAULT_EVENT_RETENTION_DAYS, EventFilter, EventQuery, EventStore, MAX_EVENT_PAGE,
    Page, StoreError, StoreResult,
};
use sqlx::any::AnyRow;

use crate::binds::Binds;
use crate::row::{int, opt_text, parse, text, ts};
use crate::{SqlStore, db_err, safe};

const EVENT_COLUMNS: &str = "id, tenant_id, ts, received_at, source_id, parser, severity, \
    source_ip, destination_ip, ip_fields, fields, original";

/// Columns of an event row.
const EVENT_COLUMN_COUNT: usize = 12;

/// The columns read back (the address columns are for searching only).
const EVENT_READ_COLUMNS: &str =
    "id, tenant_id, ts, received_at, source_id, parser, severity, ip_fields, fields, original";

/// Events per insert statement. On SQLite the statement's parameters are
/// anonymous (`?`): the driver asks SQLite for each parameter's name, which
/// is a linear search among the named ones, so `$n` placeholders made a
/// large statement quadratic. PostgreSQL pays a round trip per statement
/// (and writes through `COPY` when it can).
const fn rows_per_insert(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 250,
        Backend::Postgres => 500,
    }
}

/// `(?, ?, …), (…)`: `rows` rows of `columns` anonymous parameters, bound
/// in order (SQLite).
pub(crate) fn anonymous_values(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// Events deleted per purge transaction.
const PURGE_SLICE: i64 = 10_000;

/// An address as 32 hex digits in the IPv6 space, ordered as the addresses.
fn ip_key(ip: std::net::IpAddr) -> String {
    // By hand: `format!("{:032x}")` took 2 % of an ingest profile.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = ip_number(ip);
    (0..32)
        .rev()
        .map(|i| char::from(HEX[((n >> (i * 4)) & 0xf) as usize]))
        .collect()
}

/// Names of the fields holding addresses (alone or in a list), which JSON
/// keeps as text; they are turned back into addresses when read.
fn ip_fields(fields: &Fields) -> Option<String> {
    let names: Vec<&str> = fields
        .iter()
        .filter(|(_, v)| match v {
            Value::Ip(_) => true,
            Value::List(items) => items.iter().any(|i| matches!(i, Value::Ip(_))),
            _ => false,
        })
        .map(|(n, _)| n)
        .collect();
    (!names.is_empty()).then(|| serde_json::to_string(&names).unwrap_or_default())
}

fn as_ip(v: Value) -> Value {
    match v {
        Value::Str(s) => match s.parse() {
            Ok(ip) => Value::Ip(ip),
            Err(_) => Value::Str(s),
        },
        Value::List(items) => Value::List(items.into_iter().map(as_ip).collect()),
        other => other,
    }
}

/// The `fields` column back into [`Fields`], in the order they were set.
fn read_fields(raw: &str) -> StoreResult<Fields> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("column `fields`: {e}")))
}

fn event_row(row: &AnyRow) -> StoreResult<Event> {
    let mut fields = read_fields(&text(row, "fields")?)?;
    if let Some(names) = opt_text(row, "ip_fields")? {
        let names: Vec<String> = serde_json::from_str(&names)
            .map_err(|e| StoreError::Corrupt(format!("column `ip_fields`: {e}")))?;
        for name in names {
            if let Some(v) = fields.get(&name).cloned() {
                fields.set(name, as_ip(v));
            }
        }
    }
    Ok(Event {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        timestamp: ts(row, "ts")?,
        received_at: ts(row, "received_at")?,
        source_id: text(row, "source_id")?,
        parser: text(row, "parser")?,
        severity: u8::try_from(int(row, "severity")?)
            .map_err(|e| StoreError::Corrupt(format!("column `severity`: {e}")))?,
        fields,
        original: text(row, "original")?,
    })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn contains_pattern(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn refused(what: &str) -> StoreError {
    StoreError::Backend(format!("refused in an event query: {what:?}"))
}

impl SqlStore {
    /// The conditions of `q` but its cursor, as ` AND …`; `None` when the
    /// access leaves nothing to match.
    fn event_conditions(
        &self,
        b: &mut Binds,
        access: &TenantAccess,
        q: &EventQuery,
    ) -> StoreResult<Option<String>> {
        if let Some(bad) = q.invalid_part() {
            return Err(refused(bad));
        }
        let Some(mut wh) = b.access(access, "tenant_id", q.tenant) else {
            return Ok(None);
        };
        if let Some(from) = q.from {
            wh.push_str(&format!(" AND ts >= {}", b.int(from.as_millis())));
        }
        if let Some(until) = q.until {
            wh.push_str(&format!(" AND ts < {}", b.int(until.as_millis())));
        }
        for f in &q.filters {
            match f {
                EventFilter::FieldEquals(name, value) => {
                    let arg = b.text(self.field_arg(name));
                    let v = b.text(value.clone());
                    wh.push_str(&format!(" AND {} = {v}", self.field_text(&arg)));
                }
                EventFilter::FieldContains(name, value) => {
                    let arg = b.text(self.field_arg(name));
                    let p = b.text(contains_pattern(value));
                    wh.push_str(&format!(
                        " AND {}",
                        self.like_nocase(&self.field_text(&arg), &p)
                    ));
                }
                EventFilter::IpIn(name, cidr) => {
                    let (lo, hi) = cidr_range(cidr).ok_or_else(|| refused(cidr))?;
                    let lo = b.text(format!("{lo:032x}"));
                    let hi = b.text(format!("{hi:032x}"));
                    let cond = match name.as_deref() {
                        Some("source.ip") => format!("source_ip BETWEEN {lo} AND {hi}"),
                        Some("destination.ip") => format!("destination_ip BETWEEN {lo} AND {hi}"),
                        None => format!(
                            "(source_ip BETWEEN {lo} AND {hi} OR destination_ip BETWEEN {lo} AND {hi})"
                        ),
                        Some(other) => return Err(refused(other)),
                    };
                    wh.push_str(&format!(" AND {cond}"));
                }
                EventFilter::Text(t) => {
                    let p = b.text(contains_pattern(t));
                    wh.push_str(&format!(" AND {}", self.like_nocase("original", &p)));
                }
                EventFilter::SeverityAtLeast(s) => {
                    wh.push_str(&format!(" AND severity >= {}", b.int(i64::from(*s))));
                }
                EventFilter::Parser(p) => {
                    wh.push_str(&format!(" AND parser = {}", b.text(p.clone())));
                }
            }
        }
        Ok(Some(wh))
    }
}

/// Binds an event's columns in `EVENT_COLUMNS` order.
fn bind_event<'q>(q: AnyQuery<'q>, e: &Event) -> AnyQuery<'q> {
    let ip = |name: &str| e.fields.get(name).and_then(Value::as_ip).map(ip_key);
    q.bind(e.id.to_string())
        .bind(e.tenant_id.to_string())
        .bind(e.timestamp.as_millis())
        .bind(e.received_at.as_millis())
        .bind(e.source_id.clone())
        .bind(e.parser.clone())
        .bind(i64::from(e.severity))
        .bind(ip("source.ip"))
        .bind(ip("destination.ip"))
        .bind(ip_fields(&e.fields))
        .bind(serde_json::to_string(&e.fields).unwrap_or_else(|_| "{}".to_owned()))
        .bind(e.original.clone())
}

#[async_trait]
impl EventStore for SqlStore {
    async fn insert_event_groups(&self, groups: &[&[Event]]) -> StoreResult<Vec<u64>> {
        if groups.iter().all(|g| g.is_empty()) {
            return Ok(vec![0; groups.len()]);
        }
        let mut tx = self.begin_write().await?;
        let mut inserted = Vec::with_capacity(groups.len());
        for batch in groups {
            let mut n = 0;
            for chunk in batch.chunks(rows_per_insert(self.backend)) {
                let values = match self.backend {
                    Backend::Sqlite => anonymous_values(chunk.len(), EVENT_COLUMN_COUNT),
                    Backend::Postgres => crate::values_list(chunk.len(), EVENT_COLUMN_COUNT),
                };
                let sql = format!(
                    "INSERT INTO events ({EVENT_COLUMNS}) VALUES {values} ON CONFLICT (id) DO NOTHING"
                );
                let mut q = sqlx::query(safe(sql));
                for e in chunk {
                    q = bind_event(q, e);
                }
                n += q.execute(tx.conn()).await.map_err(db_err)?.rows_affected();
            }
            inserted.push(n);
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn search_events(
        &self,
        access: &TenantAccess,
        q: &EventQuery,
    ) -> StoreResult<Page<Event>> {
        let mut b = Binds::default();
        let Some(mut wh) = self.event_conditions(&mut b, access, q)? else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        let count = b.clone();
        let count_sql = format!("SELECT COUNT(*) AS n FROM events WHERE 1 = 1{wh}");
        if let Some(c) = q.after {
            let at = b.int(c.timestamp.as_millis());
            let id = b.text(c.id.to_string());
            wh.push_str(&format!(
                " AND ts <= {at} AND (ts < {at} OR (ts = {at} AND id < {id}))"
            ));
        }
        let sql = format!(
            "SELECT {EVENT_READ_COLUMNS} FROM events WHERE 1 = 1{wh} ORDER BY ts DESC, id DESC LIMIT {}",
            q.limit.clamp(1, MAX_EVENT_PAGE)
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let total = {
            let row = count
                .apply(sqlx::query(safe(count_sql)))
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
            int(&row, "n")?
        };
        Ok(Page {
            items: rows.iter().map(event_row).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn count_events_by(
        &self,
        access: &TenantAccess,
        q: &EventQuery,
        field: &str,
        top: usize,
    ) -> StoreResult<Vec<(String, u64)>> {
        if !valid_field_name(field) {
            return Err(refused(field));
        }
        let mut b = Binds::default();
        let arg = b.text(self.field_arg(field));
        let value = self.field_text(&arg);
        let Some(wh) = self.event_conditions(&mut b, access, q)? else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT v, COUNT(*) AS n FROM (SELECT {value} AS v FROM events WHERE 1 = 1{wh}) s \
             WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {}",
            top.clamp(1, 1000)
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((text(r, "v")?, u64::try_from(int(r, "n")?).unwrap_or(0))))
            .collect()
    }

    async fn get_event(&self, access: &TenantAccess, id: EventId) -> StoreResult<Event> {
        let mut b = Binds::default();
        let idp = b.text(id.to_string());
        let Some(wh) = b.access(access, "tenant_id", None) else {
            return Err(StoreError::NotFound);
        };
        let sql = format!("SELECT {EVENT_READ_COLUMNS} FROM events WHERE id = {idp}{wh}");
        let row = b
            .apply(sqlx::query(safe(sql)))
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(event_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn purge_events(&self, scope: &TenantScope, older_than: Timestamp) -> StoreResult<u64> {
        // Slices of the index, one short transaction each, so that a purge
        // of millions of rows does not hold SQLite's write lock for long.
        let mut purged = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "DELETE FROM events WHERE id IN \
                 (SELECT id FROM events WHERE tenant_id = $1 AND ts < $2 LIMIT $3)",
            )
            .bind(scope.tenant_id().to_string())
            .bind(older_than.as_millis())
            .bind(PURGE_SLICE)
            .execute(tx.conn())
            .await
            .map_err(db_err)?
            .rows_affected();
            tx.commit().await?;
            purged += done;
            if done < u64::try_from(PURGE_SLICE).unwrap_or(0) {
                break;
            }
        }
        // The alerts of those events go too (their offenses keep counts).
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM alerts WHERE tenant_id = $1 AND at < $2")
            .bind(scope.tenant_id().to_string())
            .bind(older_than.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        Ok(purged)
    }

    async fn event_retention_days(&self, scope: &TenantScope) -> StoreResult<u32> {
        let row = sqlx::query("SELECT days FROM event_retention WHERE tenant_id = $1")
            .bind(scope.tenant_id().to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(DEFAULT_EVENT_RETENTION_DAYS),
            Some(r) => u32::try_from(int(&r, "days")?)
                .map_err(|e| StoreError::Corrupt(format!("column `days`: {e}"))),
        }
    }

    async fn set_event_retention_days(
        &self,
        scope: &TenantScope,
        days: NonZeroU32,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO event_retention (tenant_id, days, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at",
        )
        .bind(scope.tenant_id().to_string())
        .bind(i64::from(days.get()))
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_keys_sort_as_addresses_and_cidrs_bound_them() {
        let key = |s: &str| ip_key(s.parse().expect("ip"));
        assert_eq!(key("10.0.0.1"), "00000000000000000000ffff0a000001");
        assert_eq!(key("10.0.0.1"), key("::ffff:10.0.0.1"));
        assert!(key("9.255.255.255") < key("10.0.0.0"));
        assert!(key("10.0.0.0") < key("2001:db8::"));
        let (lo, hi) = cidr_range("10.0.0.0/8").expect("cidr");
        let (lo, hi) = (format!("{lo:032x}"), format!("{hi:032x}"));
        for inside in ["10.0.0.0", "10.200.1.1", "10.255.255.255"] {
            assert!(lo <= key(inside) && key(inside) <= hi, "{inside}");
        }
        for outside in ["9.255.255.255", "11.0.0.0", "::a00:1"] {
            let k = key(outside);
            assert!(k < lo || k > hi, "{outside}");
        }
    }

    #[test]
    fn address_fields_are_named_for_reading_back() {
        let mut f = Fields::new();
        f.set("source.ip", Value::Ip("10.0.0.1".parse().expect("ip")));
        f.set("user.name", "10.0.0.9");
        f.set(
            "related.ip",
            Value::List(vec![Value::Ip("::1".parse().expect("ip"))]),
        );
        assert_eq!(
            ip_fields(&f).as_deref(),
            Some(r#"["source.ip","related.ip"]"#)
        );
        assert_eq!(
            as_ip(Value::Str("::1".into())),
            Value::Ip("::1".parse().expect("ip"))
        );
        assert_eq!(as_ip(Value::Str("x".into())), Value::Str("x".into()));
        assert!(ip_fields(&Fields::new()).is_none());
    }
}

//! Threat-intelligence indicators and their sightings.

use std::collections::HashMap;

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::indicator::{Indicator, IndicatorKind, IndicatorScope, Sighting, Tlp};
use garrison_core::{IndicatorId, TenantAccess, TenantId, Timestamp};
use garrison_store::{
    Backend, IndicatorCounts, IndicatorQuery, IndicatorStore, IndicatorTarget, IndicatorWrite,
    MAX_INDICATOR_PAGE, Page, SightingCount, StoreError, StoreResult,
};
use sqlx::any::AnyRow;

use crate::binds::Binds;
use crate::inventory::like;
use crate::row::{int, opt_text, opt_ts, parse, text, ts};
use crate::{SqlStore, db_err, safe};

const COLUMNS: &str = "id, tenant_id, kind, value, confidence, valid_from, valid_until, source, \
    tlp, tags, created_at, updated_at, revoked_at";

const INSERT_COLUMNS: &str = "id, tenant_id, scope_key, kind, value, confidence, valid_from, \
    valid_until, source, tlp, tags, created_at, updated_at";
const INSERT_COLUMN_COUNT: usize = 13;

/// Writes looked up and written per round: one `IN (...)` of values.
const CHUNK: usize = 500;

/// Rows per multi-row insert (anonymous `?` parameters on SQLite, whose
/// driver looks `$n` names up one by one).
const fn rows_per_insert(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 100,
        Backend::Postgres => 250,
    }
}

fn values(backend: Backend, rows: usize, columns: usize) -> String {
    match backend {
        Backend::Sqlite => {
            let row = format!("({})", vec!["?"; columns].join(", "));
            vec![row; rows].join(", ")
        }
        Backend::Postgres => crate::values_list(rows, columns),
    }
}

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column `{col}`: {e}"))
}

fn indicator(row: &AnyRow) -> StoreResult<Indicator> {
    let tenant: Option<TenantId> = opt_text(row, "tenant_id")?
        .map(|s| s.parse().map_err(|e| corrupt("tenant_id", e)))
        .transpose()?;
    let tags: Vec<String> =
        serde_json::from_str(&text(row, "tags")?).map_err(|e| corrupt("tags", e))?;
    Ok(Indicator {
        id: parse(row, "id")?,
        scope: tenant.map_or(IndicatorScope::Mssp, IndicatorScope::Tenant),
        kind: parse::<IndicatorKind>(row, "kind")?,
        value: text(row, "value")?,
        confidence: u8::try_from(int(row, "confidence")?.clamp(0, 100)).unwrap_or(0),
        valid_from: ts(row, "valid_from")?,
        valid_until: opt_ts(row, "valid_until")?,
        source: text(row, "source")?,
        tlp: parse::<Tlp>(row, "tlp")?,
        tags,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        revoked: opt_ts(row, "revoked_at")?.is_some(),
    })
}

/// ` AND (...)`: the indicators `access` sees, narrowed by the query's
/// tenant and scope; `None` when it can see none.
fn visible(b: &mut Binds, access: &TenantAccess, q: &IndicatorQuery) -> Option<String> {
    let mssp = q.mssp_wide != Some(false);
    let own = q.mssp_wide != Some(true);
    let tenants: Option<Vec<TenantId>> = match q.tenant {
        Some(t) if !access.allows(t) => return None,
        Some(t) => Some(vec![t]),
        None => access.tenants().map(|s| s.iter().copied().collect()),
    };
    let own_clause = if own {
        match tenants {
            None => Some("tenant_id IS NOT NULL".to_owned()),
            Some(ts) if ts.is_empty() => None,
            Some(ts) => {
                let ph: Vec<String> = ts.iter().map(|t| b.text(t.to_string())).collect();
                Some(format!("tenant_id IN ({})", ph.join(", ")))
            }
        }
    } else {
        None
    };
    match (mssp, own_clause) {
        (true, Some(o)) => Some(format!(" AND (tenant_id IS NULL OR {o})")),
        (true, None) => Some(" AND tenant_id IS NULL".to_owned()),
        (false, Some(o)) => Some(format!(" AND {o}")),
        (false, None) => None,
    }
}

impl SqlStore {
    /// The `WHERE` conditions of a query (without cursor), or `None` when
    /// nothing can match.
    fn indicator_where(
        &self,
        b: &mut Binds,
        access: &TenantAccess,
        q: &IndicatorQuery,
    ) -> Option<String> {
        let mut sql = format!("WHERE 1 = 1{}", visible(b, access, q)?);
        if let Some(k) = q.kind {
            sql.push_str(&format!(" AND kind = {}", b.text(k.as_str())));
        }
        if let Some(v) = &q.value {
            sql.push_str(&format!(" AND value = {}", b.text(v.clone())));
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
            let ph = b.text(like(t));
            sql.push_str(&format!(" AND {}", self.like_nocase("value", &ph)));
        }
        if let Some(s) = &q.source {
            sql.push_str(&format!(" AND source = {}", b.text(s.clone())));
        }
        if !q.include_revoked {
            sql.push_str(" AND revoked_at IS NULL");
        }
        Some(sql)
    }

    async fn visible_indicator(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
    ) -> StoreResult<Indicator> {
        let q = IndicatorQuery {
            include_revoked: true,
            ..IndicatorQuery::default()
        };
        let mut b = Binds::default();
        let Some(cond) = self.indicator_where(&mut b, access, &q) else {
            return Err(StoreError::NotFound);
        };
        let ph = b.text(id.to_string());
        let sql = format!("SELECT {COLUMNS} FROM indicators {cond} AND id = {ph}");
        let row = b
            .apply(sqlx::query(safe(sql)))
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(indicator)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }
}

/// The columns an upsert compares, as stored.
#[derive(PartialEq, Eq)]
struct Stored {
    id: String,
    confidence: i64,
    valid_from: i64,
    valid_until: Option<i64>,
    tlp: String,
    tags: String,
}

#[async_trait]
impl IndicatorStore for SqlStore {
    async fn upsert_indicators(
        &self,
        target: &IndicatorTarget,
        batch: &[IndicatorWrite],
        at: Timestamp,
    ) -> StoreResult<IndicatorCounts> {
        let mut counts = IndicatorCounts::default();
        if batch.is_empty() {
            return Ok(counts);
        }
        let tenant = target.scope().tenant();
        let scope_key = tenant.map(|t| t.to_string()).unwrap_or_default();
        let mut tx = self.begin_write().await?;
        if let Some(t) = tenant {
            let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
                .bind(t.to_string())
                .fetch_optional(tx.conn())
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        for chunk in batch.chunks(CHUNK) {
            // The last write of a key wins; earlier ones count as unchanged.
            let mut last: HashMap<(IndicatorKind, &str, &str), usize> = HashMap::new();
            for (i, w) in chunk.iter().enumerate() {
                if last
                    .insert((w.kind, w.value.as_str(), w.source.as_str()), i)
                    .is_some()
                {
                    counts.unchanged += 1;
                }
            }
            // The stored rows of the chunk's keys, one query per kind so
            // that the key's index answers (scope, kind, value IN ...).
            let mut by_kind: Vec<(IndicatorKind, Vec<&str>)> = Vec::new();
            for w in chunk {
                match by_kind.iter_mut().find(|(k, _)| *k == w.kind) {
                    Some((_, vs)) => vs.push(w.value.as_str()),
                    None => by_kind.push((w.kind, vec![w.value.as_str()])),
                }
            }
            let mut existing: HashMap<(String, String, String), Stored> = HashMap::new();
            for (kind, mut values_seen) in by_kind {
                values_seen.sort_unstable();
                values_seen.dedup();
                // Anonymous parameters on SQLite (see `rows_per_insert`).
                let list = match self.backend {
                    Backend::Sqlite => vec!["?"; values_seen.len()].join(", "),
                    Backend::Postgres => crate::placeholders(3, values_seen.len()),
                };
                let (scope_ph, kind_ph) = match self.backend {
                    Backend::Sqlite => ("?", "?"),
                    Backend::Postgres => ("$1", "$2"),
                };
                let sql = format!(
                    "SELECT id, kind, value, source, confidence, valid_from, valid_until, tlp, \
                     tags FROM indicators WHERE scope_key = {scope_ph} AND kind = {kind_ph} \
                     AND value IN ({list})"
                );
                let mut q = sqlx::query(safe(sql))
                    .bind(scope_key.clone())
                    .bind(kind.as_str());
                for v in &values_seen {
                    q = q.bind((*v).to_owned());
                }
                let rows = q.fetch_all(tx.conn()).await.map_err(db_err)?;
                for row in &rows {
                    existing.insert(
                        (
                            text(row, "kind")?,
                            text(row, "value")?,
                            text(row, "source")?,
                        ),
                        Stored {
                            id: text(row, "id")?,
                            confidence: int(row, "confidence")?,
                            valid_from: int(row, "valid_from")?,
                            valid_until: opt_ts(row, "valid_until")?.map(Timestamp::as_millis),
                            tlp: text(row, "tlp")?,
                            tags: text(row, "tags")?,
                        },
                    );
                }
            }
            let mut inserts: Vec<&IndicatorWrite> = Vec::new();
            let mut writes: Vec<usize> = last.into_values().collect();
            writes.sort_unstable();
            for i in writes {
                let w = &chunk[i];
                let tags = serde_json::to_string(&w.tags)
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                let key = (
                    w.kind.as_str().to_owned(),
                    w.value.clone(),
                    w.source.clone(),
                );
                let Some(old) = existing.get(&key) else {
                    inserts.push(w);
                    continue;
                };
                let new = Stored {
                    id: old.id.clone(),
                    confidence: i64::from(w.confidence.min(100)),
                    valid_from: w.valid_from.map_or(old.valid_from, Timestamp::as_millis),
                    valid_until: w.valid_until.map(Timestamp::as_millis),
                    tlp: w.tlp.as_str().to_owned(),
                    tags,
                };
                if &new == old {
                    counts.unchanged += 1;
                    continue;
                }
                sqlx::query(
                    "UPDATE indicators SET confidence = $2, valid_from = $3, valid_until = $4, \
                     tlp = $5, tags = $6, updated_at = $7 WHERE id = $1",
                )
                .bind(new.id)
                .bind(new.confidence)
                .bind(new.valid_from)
                .bind(new.valid_until)
                .bind(new.tlp)
                .bind(new.tags)
                .bind(at.as_millis())
                .execute(tx.conn())
                .await
                .map_err(db_err)?;
                counts.updated += 1;
            }
            for rows in inserts.chunks(rows_per_insert(self.backend)) {
                let sql = format!(
                    "INSERT INTO indicators ({INSERT_COLUMNS}) VALUES {}",
                    values(self.backend, rows.len(), INSERT_COLUMN_COUNT)
                );
                let mut q = sqlx::query(safe(sql));
                for w in rows {
                    let tags = serde_json::to_string(&w.tags)
                        .map_err(|e| StoreError::Backend(e.to_string()))?;
                    q = q
                        .bind(w.id.to_string())
                        .bind(tenant.map(|t| t.to_string()))
                        .bind(scope_key.clone())
                        .bind(w.kind.as_str())
                        .bind(w.value.clone())
                        .bind(i64::from(w.confidence.min(100)))
                        .bind(w.valid_from.unwrap_or(at).as_millis())
                        .bind(w.valid_until.map(Timestamp::as_millis))
                        .bind(w.source.clone())
                        .bind(w.tlp.as_str())
                        .bind(tags)
                        .bind(at.as_millis())
                        .bind(at.as_millis());
                }
                q.execute(tx.conn()).await.map_err(db_err)?;
                counts.new += rows.len() as u64;
            }
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn list_indicators(
        &self,
        access: &TenantAccess,
        q: &IndicatorQuery,
    ) -> StoreResult<Page<Indicator>> {
        let total = self.count_indicators(access, q).await?;
        let mut b = Binds::default();
        let Some(mut cond) = self.indicator_where(&mut b, access, q) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        if let Some(after) = q.after {
            cond.push_str(&format!(" AND id > {}", b.text(after.to_string())));
        }
        let limit = b.int(i64::from(q.limit.clamp(1, MAX_INDICATOR_PAGE)));
        let sql = format!("SELECT {COLUMNS} FROM indicators {cond} ORDER BY id LIMIT {limit}");
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let items = rows.iter().map(indicator).collect::<StoreResult<_>>()?;
        Ok(Page { items, total })
    }

    async fn count_indicators(
        &self,
        access: &TenantAccess,
        q: &IndicatorQuery,
    ) -> StoreResult<u64> {
        let mut b = Binds::default();
        let Some(cond) = self.indicator_where(&mut b, access, q) else {
            return Ok(0);
        };
        let sql = format!("SELECT COUNT(*) AS n FROM indicators {cond}");
        let row = b
            .apply(sqlx::query(safe(sql)))
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        Ok(u64::try_from(int(&row, "n")?).unwrap_or(0))
    }

    async fn find_indicator(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
    ) -> StoreResult<Indicator> {
        self.visible_indicator(access, id).await
    }

    async fn revoke_indicator(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        self.visible_indicator(access, id).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE indicators SET revoked_at = COALESCE(revoked_at, $2), updated_at = $2 \
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn live_indicators(
        &self,
        now: Timestamp,
        after: Option<IndicatorId>,
        limit: u32,
    ) -> StoreResult<Vec<Indicator>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM indicators WHERE revoked_at IS NULL AND valid_from <= $1 \
             AND (valid_until IS NULL OR valid_until >= $1) AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(safe(sql))
            .bind(now.as_millis())
            .bind(after.map(|a| a.to_string()).unwrap_or_default())
            .bind(i64::from(limit.max(1)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(indicator).collect()
    }

    async fn indicators_stamp(&self) -> StoreResult<(i64, i64)> {
        let row = sqlx::query("SELECT MAX(updated_at) AS latest FROM indicators")
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        let latest: Option<i64> = crate::row::get(&row, "latest")?;
        Ok((0, latest.unwrap_or(0)))
    }

    async fn record_sightings(&self, sightings: &[Sighting]) -> StoreResult<u64> {
        if sightings.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut new = 0;
        for rows in sightings.chunks(rows_per_insert(self.backend)) {
            let sql = format!(
                "INSERT INTO indicator_sightings (indicator_id, event_id, tenant_id, seen_at) \
                 VALUES {} ON CONFLICT (indicator_id, event_id) DO NOTHING",
                values(self.backend, rows.len(), 4)
            );
            let mut q = sqlx::query(safe(sql));
            for s in rows {
                q = q
                    .bind(s.indicator_id.to_string())
                    .bind(s.event_id.to_string())
                    .bind(s.tenant_id.to_string())
                    .bind(s.seen_at.as_millis());
            }
            new += q.execute(tx.conn()).await.map_err(db_err)?.rows_affected();
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn list_sightings(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
        limit: u32,
    ) -> StoreResult<Vec<Sighting>> {
        self.visible_indicator(access, id).await?;
        let mut b = Binds::default();
        let ph = b.text(id.to_string());
        let tenants = match access.tenants() {
            None => String::new(),
            Some(set) if set.is_empty() => return Ok(Vec::new()),
            Some(set) => {
                let ph: Vec<String> = set.iter().map(|t| b.text(t.to_string())).collect();
                format!(" AND tenant_id IN ({})", ph.join(", "))
            }
        };
        let limit = b.int(i64::from(limit.clamp(1, MAX_INDICATOR_PAGE)));
        let sql = format!(
            "SELECT indicator_id, event_id, tenant_id, seen_at FROM indicator_sightings \
             WHERE indicator_id = {ph}{tenants} ORDER BY seen_at DESC, event_id DESC LIMIT {limit}"
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Sighting {
                    indicator_id: parse(r, "indicator_id")?,
                    event_id: parse(r, "event_id")?,
                    tenant_id: parse(r, "tenant_id")?,
                    seen_at: ts(r, "seen_at")?,
                })
            })
            .collect()
    }

    async fn sighting_counts(
        &self,
        access: &TenantAccess,
        ids: &[IndicatorId],
    ) -> StoreResult<Vec<SightingCount>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut b = Binds::default();
            let ph: Vec<String> = chunk.iter().map(|i| b.text(i.to_string())).collect();
            let tenants = match access.tenants() {
                None => String::new(),
                Some(set) if set.is_empty() => return Ok(Vec::new()),
                Some(set) => {
                    let ph: Vec<String> = set.iter().map(|t| b.text(t.to_string())).collect();
                    format!(" AND tenant_id IN ({})", ph.join(", "))
                }
            };
            let sql = format!(
                "SELECT indicator_id, COUNT(*) AS n, MIN(seen_at) AS first_seen, \
                 MAX(seen_at) AS last_seen FROM indicator_sightings \
                 WHERE indicator_id IN ({}){tenants} GROUP BY indicator_id ORDER BY indicator_id",
                ph.join(", ")
            );
            let rows = b
                .apply(sqlx::query(safe(sql)))
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
            for r in &rows {
                out.push(SightingCount {
                    indicator_id: parse(r, "indicator_id")?,
                    count: u64::try_from(int(r, "n")?).unwrap_or(0),
                    first_seen: ts(r, "first_seen")?,
                    last_seen: ts(r, "last_seen")?,
                });
            }
        }
        Ok(out)
    }
}

//! Offenses and alerts in SQL (`offenses`, `alerts`; migration 0009).
//!
//! Recording a batch works in memory per offense: the batch's alerts are
//! taken in order; each first checks that it was not recorded before (a
//! batch delivered again), then joins the offense it belongs to — found
//! once per batch in the table (the open offense of the tenant, detector
//! and key whose last alert is within the window) or opened (inserted at
//! once, so alert rows can point at it) — and every touched offense is
//! written back once at the end, in the same transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::offense::{
    Breakdown, Detector, DetectorKind, InvolvedAsset, NewAlert, OFFENSE_ASSETS,
    OFFENSE_EVENT_LINKS, Offense, OffenseComment, OffenseKey, OffenseStatus, Suppression,
    TriageAction,
};
use garrison_core::{EventId, OffenseId, TenantAccess, TenantId, TenantScope, Timestamp};
use garrison_store::{
    MAX_OFFENSE_PAGE, OffenseQuery, OffenseStore, Page, RecordedAlerts, StoreError, StoreResult,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::binds::Binds;
use crate::row::{flag, from_json, int, opt_parse, opt_text, opt_ts, parse, text, ts};
use crate::{SqlStore, db_err, safe};

const OFFENSE_COLUMNS: &str = "id, tenant_id, detector_kind, detector_key, title, key_field, \
    key_value, status, first_seen, last_seen, event_count, assets, breakdown, magnitude_x10, \
    assignee_id, resolution, resolution_reason, closed_at, escalation_requested_at, \
    escalation_reason, created_at, updated_at";

const SUPPRESSION_COLUMNS: &str = "id, tenant_id, detector_kind, detector_key, key_field, \
    key_value, reason, offense_id, created_by, created_at, expires_at, suppressed, \
    last_suppressed_at";

const COMMENT_COLUMNS: &str =
    "id, offense_id, tenant_id, author_id, author, body, shared, created_at";

/// The peak breakdown is stored; the offense shows it with the repetition
/// bonus for its count.
fn offense_row(row: &AnyRow) -> StoreResult<Offense> {
    let count = u64::try_from(int(row, "event_count")?).unwrap_or(0);
    let peak: Breakdown = from_json(row, "breakdown")?;
    Ok(Offense {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        detector: Detector {
            kind: parse(row, "detector_kind")?,
            key: text(row, "detector_key")?,
            title: text(row, "title")?,
        },
        key: OffenseKey {
            field: text(row, "key_field")?,
            value: text(row, "key_value")?,
        },
        status: parse(row, "status")?,
        first_seen: ts(row, "first_seen")?,
        last_seen: ts(row, "last_seen")?,
        event_count: count,
        assets: from_json(row, "assets")?,
        breakdown: peak.with_repetition(count),
        assignee: opt_parse(row, "assignee_id")?,
        resolution: opt_parse(row, "resolution")?,
        resolution_reason: opt_text(row, "resolution_reason")?,
        closed_at: opt_ts(row, "closed_at")?,
        escalation_requested_at: opt_ts(row, "escalation_requested_at")?,
        escalation_reason: opt_text(row, "escalation_reason")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

/// An offense being recorded into: its peak breakdown (no bonus).
struct Growing {
    offense: Offense,
    peak: Breakdown,
    new: bool,
    dirty: bool,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

fn x10(m: f64) -> i64 {
    // 0.0–10.0 with one decimal: exact in tenths.
    #[allow(clippy::cast_possible_truncation)]
    let t = (m * 10.0).round() as i64;
    t.clamp(0, 100)
}

type GroupKey = (TenantId, DetectorKind, String, String, String);

fn group_key(a: &NewAlert) -> GroupKey {
    (
        a.tenant_id,
        a.detector.kind,
        a.detector.key.clone(),
        a.key.field.clone(),
        a.key.value.clone(),
    )
}

async fn open_offense(
    conn: &mut AnyConnection,
    a: &NewAlert,
    window_ms: i64,
) -> StoreResult<Option<(Offense, Breakdown)>> {
    let row = sqlx::query(safe(format!(
        "SELECT {OFFENSE_COLUMNS} FROM offenses WHERE tenant_id = $1 AND detector_kind = $2 \
         AND detector_key = $3 AND key_value = $4 AND key_field = $5 AND status = 'open' \
         AND last_seen >= $6 ORDER BY last_seen DESC LIMIT 1"
    )))
    .bind(a.tenant_id.to_string())
    .bind(a.detector.kind.as_str())
    .bind(a.detector.key.clone())
    .bind(a.key.value.clone())
    .bind(a.key.field.clone())
    .bind(a.at.as_millis().saturating_sub(window_ms))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let Some(row) = row else { return Ok(None) };
    let peak: Breakdown = from_json(&row, "breakdown")?;
    Ok(Some((offense_row(&row)?, peak)))
}

async fn insert_offense(conn: &mut AnyConnection, g: &Growing) -> StoreResult<()> {
    let o = &g.offense;
    sqlx::query(safe(format!(
        "INSERT INTO offenses ({OFFENSE_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, NULL, NULL, NULL, \
         NULL, NULL, $15, $16)"
    )))
    .bind(o.id.to_string())
    .bind(o.tenant_id.to_string())
    .bind(o.detector.kind.as_str())
    .bind(o.detector.key.clone())
    .bind(o.detector.title.clone())
    .bind(o.key.field.clone())
    .bind(o.key.value.clone())
    .bind(o.status.as_str())
    .bind(o.first_seen.as_millis())
    .bind(o.last_seen.as_millis())
    .bind(i64::try_from(o.event_count).unwrap_or(i64::MAX))
    .bind(json(&o.assets))
    .bind(json(&g.peak))
    .bind(x10(o.breakdown.magnitude))
    .bind(o.created_at.as_millis())
    .bind(o.updated_at.as_millis())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn update_offense(conn: &mut AnyConnection, g: &Growing) -> StoreResult<()> {
    let o = &g.offense;
    sqlx::query(
        "UPDATE offenses SET first_seen = $1, last_seen = $2, event_count = $3, assets = $4, \
         breakdown = $5, magnitude_x10 = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(o.first_seen.as_millis())
    .bind(o.last_seen.as_millis())
    .bind(i64::try_from(o.event_count).unwrap_or(i64::MAX))
    .bind(json(&o.assets))
    .bind(json(&g.peak))
    .bind(x10(o.breakdown.magnitude))
    .bind(o.updated_at.as_millis())
    .bind(o.id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Alerts a batch may hold per statement.
const ALERT_ROWS: usize = 100;

/// The (event, detector kind, detector key) of the batch's alerts that are
/// already recorded.
async fn known_alerts(
    conn: &mut AnyConnection,
    alerts: &[NewAlert],
) -> StoreResult<HashSet<(String, String, String)>> {
    let mut ids: Vec<String> = alerts.iter().map(|a| a.event_id.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut known = HashSet::new();
    for chunk in ids.chunks(ALERT_ROWS) {
        let sql = format!(
            "SELECT event_id, detector_kind, detector_key FROM alerts WHERE event_id IN ({})",
            crate::placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(safe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        for row in q.fetch_all(&mut *conn).await.map_err(db_err)? {
            known.insert((
                text(&row, "event_id")?,
                text(&row, "detector_kind")?,
                text(&row, "detector_key")?,
            ));
        }
    }
    Ok(known)
}

/// A suppression in force, as far as matching needs.
struct Active {
    id: String,
    tenant: String,
    kind: String,
    key: String,
    field: String,
    value: String,
}

impl Active {
    fn swallows(&self, a: &NewAlert) -> bool {
        self.tenant == a.tenant_id.to_string()
            && self.kind == a.detector.kind.as_str()
            && self.key == a.detector.key
            && self.field == a.key.field
            && self.value == a.key.value
    }
}

/// The suppressions of the batch's tenants in force at `now`, the one
/// lasting longest first.
async fn active_suppressions(
    conn: &mut AnyConnection,
    alerts: &[NewAlert],
    now: Timestamp,
) -> StoreResult<Vec<Active>> {
    let mut tenants: Vec<String> = alerts.iter().map(|a| a.tenant_id.to_string()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let sql = format!(
        "SELECT id, tenant_id, detector_kind, detector_key, key_field, key_value FROM suppressions \
         WHERE expires_at > $1 AND tenant_id IN ({}) ORDER BY expires_at DESC, id",
        crate::placeholders(2, tenants.len())
    );
    let mut q = sqlx::query(safe(sql)).bind(now.as_millis());
    for t in tenants {
        q = q.bind(t);
    }
    q.fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(Active {
                id: text(r, "id")?,
                tenant: text(r, "tenant_id")?,
                kind: text(r, "detector_kind")?,
                key: text(r, "detector_key")?,
                field: text(r, "key_field")?,
                value: text(r, "key_value")?,
            })
        })
        .collect()
}

/// Writes the batch's alert rows, many per statement.
/// Inserts alert rows; `links` rows (a detection's contributing events)
/// may already be there, as an earlier detection's, and are then kept.
async fn insert_alerts(
    conn: &mut AnyConnection,
    backend: garrison_store::Backend,
    rows: &[(&NewAlert, Option<OffenseId>, Option<String>)],
    links: bool,
) -> StoreResult<()> {
    const COLUMNS: usize = 8;
    for chunk in rows.chunks(ALERT_ROWS) {
        let values = match backend {
            garrison_store::Backend::Sqlite => {
                crate::events::anonymous_values(chunk.len(), COLUMNS)
            }
            garrison_store::Backend::Postgres => crate::values_list(chunk.len(), COLUMNS),
        };
        let mut q = sqlx::query(safe(format!(
            "INSERT INTO alerts (event_id, detector_kind, detector_key, tenant_id, offense_id, \
             suppression_id, at, magnitude_x10) VALUES {values}{}",
            if links { " ON CONFLICT DO NOTHING" } else { "" }
        )));
        for (a, offense, sup) in chunk {
            q = q
                .bind(a.event_id.to_string())
                .bind(a.detector.kind.as_str())
                .bind(a.detector.key.clone())
                .bind(a.tenant_id.to_string())
                .bind(offense.map(|o| o.to_string()))
                .bind(sup.clone())
                .bind(a.at.as_millis())
                .bind(x10(a.breakdown.magnitude));
        }
        q.execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

fn suppression_row(row: &AnyRow) -> StoreResult<Suppression> {
    Ok(Suppression {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        detector_kind: parse(row, "detector_kind")?,
        detector_key: text(row, "detector_key")?,
        key: OffenseKey {
            field: text(row, "key_field")?,
            value: text(row, "key_value")?,
        },
        reason: text(row, "reason")?,
        offense_id: opt_parse(row, "offense_id")?,
        created_by: opt_parse(row, "created_by")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        suppressed: u64::try_from(int(row, "suppressed")?).unwrap_or(0),
        last_suppressed_at: opt_ts(row, "last_suppressed_at")?,
    })
}

fn comment_row(row: &AnyRow) -> StoreResult<OffenseComment> {
    Ok(OffenseComment {
        id: parse(row, "id")?,
        offense_id: parse(row, "offense_id")?,
        tenant_id: parse(row, "tenant_id")?,
        author_id: opt_parse(row, "author_id")?,
        author: text(row, "author")?,
        body: text(row, "body")?,
        shared: flag(row, "shared")?,
        created_at: ts(row, "created_at")?,
    })
}

/// Adds an alert to an offense in memory.
fn grow(g: &mut Growing, a: &NewAlert, now: Timestamp) {
    let o = &mut g.offense;
    o.event_count += 1;
    o.first_seen = o.first_seen.min(a.at);
    o.last_seen = o.last_seen.max(a.at);
    for asset in &a.assets {
        if o.assets.len() < OFFENSE_ASSETS && !o.assets.iter().any(|x| x.id == asset.id) {
            o.assets.push(asset.clone());
        }
    }
    g.peak = g.peak.peak(&a.breakdown);
    o.breakdown = g.peak.with_repetition(o.event_count);
    o.updated_at = now;
    g.dirty = true;
}

fn opened(a: &NewAlert, now: Timestamp) -> Growing {
    let assets: Vec<InvolvedAsset> = a.assets.iter().take(OFFENSE_ASSETS).cloned().collect();
    Growing {
        offense: Offense {
            id: OffenseId::new(),
            tenant_id: a.tenant_id,
            detector: a.detector.clone(),
            key: a.key.clone(),
            status: OffenseStatus::Open,
            first_seen: a.at,
            last_seen: a.at,
            event_count: 1,
            assets,
            breakdown: a.breakdown.with_repetition(1),
            assignee: None,
            resolution: None,
            resolution_reason: None,
            closed_at: None,
            escalation_requested_at: None,
            escalation_reason: None,
            created_at: now,
            updated_at: now,
        },
        peak: a.breakdown.clone(),
        new: true,
        dirty: false,
    }
}

#[async_trait]
impl OffenseStore for SqlStore {
    async fn record_alerts(
        &self,
        alerts: &[NewAlert],
        window_ms: i64,
        now: Timestamp,
    ) -> StoreResult<RecordedAlerts> {
        let mut out = RecordedAlerts::default();
        if alerts.is_empty() {
            return Ok(out);
        }
        let mut tx = self.begin_write().await?;
        let mut seen = known_alerts(tx.conn(), alerts).await?;
        let suppressions = active_suppressions(tx.conn(), alerts, now).await?;
        let mut swallowed: HashMap<String, i64> = HashMap::new();
        let mut rows: Vec<(&NewAlert, Option<OffenseId>, Option<String>)> = Vec::new();
        let mut growing: Vec<Growing> = Vec::new();
        let mut by_key: HashMap<GroupKey, usize> = HashMap::new();
        let mut links: Vec<(NewAlert, OffenseId)> = Vec::new();
        for a in alerts {
            let id = (
                a.event_id.to_string(),
                a.detector.kind.as_str().to_owned(),
                a.detector.key.clone(),
            );
            if !seen.insert(id) {
                out.duplicates += 1;
                continue;
            }
            if let Some(sup) = suppressions.iter().find(|s| s.swallows(a)) {
                *swallowed.entry(sup.id.clone()).or_default() += 1;
                rows.push((a, None, Some(sup.id.clone())));
                out.suppressed += 1;
                continue;
            }
            let key = group_key(a);
            let within = |g: &Growing| {
                a.at.as_millis() >= g.offense.last_seen.as_millis().saturating_sub(window_ms)
                    && a.at.as_millis() <= g.offense.last_seen.as_millis().saturating_add(window_ms)
            };
            let slot = match by_key.get(&key).copied() {
                Some(i) if within(&growing[i]) => Some(i),
                Some(_) => None,
                None => match open_offense(tx.conn(), a, window_ms).await? {
                    Some((offense, peak)) => {
                        growing.push(Growing {
                            offense,
                            peak,
                            new: false,
                            dirty: false,
                        });
                        by_key.insert(key.clone(), growing.len() - 1);
                        Some(growing.len() - 1)
                    }
                    None => None,
                },
            };
            let i = if let Some(i) = slot {
                grow(&mut growing[i], a, now);
                i
            } else {
                let g = opened(a, now);
                insert_offense(tx.conn(), &g).await?;
                out.opened.push(g.offense.id);
                growing.push(g);
                by_key.insert(key, growing.len() - 1);
                growing.len() - 1
            };
            rows.push((a, Some(growing[i].offense.id), None));
            // The rule's earlier events are linked too, while the offense
            // has few events (links are capped as the alerts are).
            if growing[i].offense.event_count <= OFFENSE_EVENT_LINKS {
                let room = usize::try_from(OFFENSE_EVENT_LINKS).unwrap_or(usize::MAX);
                links.extend(a.contributing.iter().take(room).map(|(at, id)| {
                    (
                        NewAlert {
                            event_id: *id,
                            at: *at,
                            contributing: Vec::new(),
                            ..a.clone()
                        },
                        growing[i].offense.id,
                    )
                }));
            }
            out.new += 1;
        }
        insert_alerts(tx.conn(), self.backend, &rows, false).await?;
        let link_rows: Vec<(&NewAlert, Option<OffenseId>, Option<String>)> = links
            .iter()
            .map(|(a, offense)| (a, Some(*offense), None))
            .collect();
        insert_alerts(tx.conn(), self.backend, &link_rows, true).await?;
        for (sup, n) in swallowed {
            sqlx::query(
                "UPDATE suppressions SET suppressed = suppressed + $1, last_suppressed_at = $2 \
                 WHERE id = $3",
            )
            .bind(n)
            .bind(now.as_millis())
            .bind(sup)
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        }
        for g in &growing {
            if g.dirty {
                update_offense(tx.conn(), g).await?;
                if !g.new && !out.grown.contains(&g.offense.id) {
                    out.grown.push(g.offense.id);
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn list_offenses(
        &self,
        access: &TenantAccess,
        query: &OffenseQuery,
    ) -> StoreResult<Page<Offense>> {
        let mut b = Binds::default();
        let Some(mut wh) = b.access(access, "tenant_id", query.tenant) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        if let Some(s) = query.status {
            wh.push_str(&format!(" AND status = {}", b.text(s.as_str())));
        }
        if let Some(m) = query.min_magnitude_x10 {
            wh.push_str(&format!(" AND magnitude_x10 >= {}", b.int(m)));
        }
        let total = b
            .apply(sqlx::query(safe(format!(
                "SELECT COUNT(*) AS n FROM offenses WHERE 1 = 1{wh}"
            ))))
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        let total = u64::try_from(int(&total, "n")?).unwrap_or(0);
        let limit = i64::from(query.limit.clamp(1, MAX_OFFENSE_PAGE));
        let offset = i64::from(query.offset);
        let sql = format!(
            "SELECT {OFFENSE_COLUMNS} FROM offenses WHERE 1 = 1{wh} \
             ORDER BY magnitude_x10 DESC, last_seen DESC, id LIMIT {} OFFSET {}",
            b.int(limit),
            b.int(offset)
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(offense_row).collect::<StoreResult<_>>()?,
            total,
        })
    }

    async fn find_offense(&self, access: &TenantAccess, id: OffenseId) -> StoreResult<Offense> {
        let row = sqlx::query(safe(format!(
            "SELECT {OFFENSE_COLUMNS} FROM offenses WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let o = offense_row(&row)?;
        if !access.allows(o.tenant_id) {
            return Err(StoreError::NotFound);
        }
        Ok(o)
    }

    async fn offense_events(
        &self,
        access: &TenantAccess,
        id: OffenseId,
        limit: u32,
    ) -> StoreResult<Vec<EventId>> {
        let o = self.find_offense(access, id).await?;
        let rows = sqlx::query(
            "SELECT event_id FROM alerts WHERE offense_id = $1 AND tenant_id = $2 \
             ORDER BY at, event_id LIMIT $3",
        )
        .bind(o.id.to_string())
        .bind(o.tenant_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| parse(r, "event_id")).collect()
    }

    async fn triage_offense(
        &self,
        scope: &TenantScope,
        id: OffenseId,
        action: &TriageAction,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<Offense> {
        let mut tx = self.begin_write().await?;
        let q = match action {
            TriageAction::Assign(user) => sqlx::query(
                "UPDATE offenses SET assignee_id = $3, updated_at = $4 WHERE id = $1 AND tenant_id = $2",
            )
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .bind(user.map(|u| u.to_string()))
            .bind(at.as_millis()),
            TriageAction::Close { resolution, reason } => sqlx::query(
                "UPDATE offenses SET status = 'closed', resolution = $3, resolution_reason = $4, \
                 closed_at = $5, updated_at = $5 WHERE id = $1 AND tenant_id = $2",
            )
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .bind(resolution.as_str())
            .bind(reason.clone())
            .bind(at.as_millis()),
            TriageAction::Reopen => sqlx::query(
                "UPDATE offenses SET status = 'open', resolution = NULL, resolution_reason = NULL, \
                 closed_at = NULL, updated_at = $3 WHERE id = $1 AND tenant_id = $2",
            )
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .bind(at.as_millis()),
            TriageAction::RequestEscalation { reason } => sqlx::query(
                "UPDATE offenses SET escalation_requested_at = $3, escalation_reason = $4, \
                 updated_at = $3 WHERE id = $1 AND tenant_id = $2",
            )
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .bind(at.as_millis())
            .bind(reason.clone()),
        };
        let done = q.execute(tx.conn()).await.map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        self.find_offense(&scope.as_access(), id).await
    }

    async fn add_offense_comment(
        &self,
        scope: &TenantScope,
        c: &OffenseComment,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        if c.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("SELECT id FROM offenses WHERE id = $1 AND tenant_id = $2")
            .bind(c.offense_id.to_string())
            .bind(c.tenant_id.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(safe(format!(
            "INSERT INTO offense_comments ({COMMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(c.id.to_string())
        .bind(c.offense_id.to_string())
        .bind(c.tenant_id.to_string())
        .bind(c.author_id.map(|u| u.to_string()))
        .bind(c.author.clone())
        .bind(c.body.clone())
        .bind(i64::from(c.shared))
        .bind(c.created_at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn offense_comments(
        &self,
        access: &TenantAccess,
        id: OffenseId,
        internal: bool,
    ) -> StoreResult<Vec<OffenseComment>> {
        let o = self.find_offense(access, id).await?;
        let only_shared = if internal { "" } else { " AND shared = 1" };
        let rows = sqlx::query(safe(format!(
            "SELECT {COMMENT_COLUMNS} FROM offense_comments WHERE offense_id = $1 AND tenant_id = $2{only_shared} \
             ORDER BY created_at, id"
        )))
        .bind(o.id.to_string())
        .bind(o.tenant_id.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(comment_row).collect()
    }

    async fn create_suppression(
        &self,
        scope: &TenantScope,
        sup: &Suppression,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        if sup.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(safe(format!(
            "INSERT INTO suppressions ({SUPPRESSION_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(sup.id.to_string())
        .bind(sup.tenant_id.to_string())
        .bind(sup.detector_kind.as_str())
        .bind(sup.detector_key.clone())
        .bind(sup.key.field.clone())
        .bind(sup.key.value.clone())
        .bind(sup.reason.clone())
        .bind(sup.offense_id.map(|o| o.to_string()))
        .bind(sup.created_by.map(|u| u.to_string()))
        .bind(sup.created_at.as_millis())
        .bind(sup.expires_at.as_millis())
        .bind(i64::try_from(sup.suppressed).unwrap_or(i64::MAX))
        .bind(sup.last_suppressed_at.map(Timestamp::as_millis))
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_suppressions(
        &self,
        access: &TenantAccess,
        tenant: Option<TenantId>,
    ) -> StoreResult<Vec<Suppression>> {
        let mut b = Binds::default();
        let Some(wh) = b.access(access, "tenant_id", tenant) else {
            return Ok(Vec::new());
        };
        let rows = b
            .apply(sqlx::query(safe(format!(
                "SELECT {SUPPRESSION_COLUMNS} FROM suppressions WHERE 1 = 1{wh} \
                 ORDER BY created_at DESC, id LIMIT 1000"
            ))))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(suppression_row).collect()
    }
}

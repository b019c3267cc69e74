//! The audit chain. Appends take the chain head row first, which serialises
//! them (a row lock on PostgreSQL, the single writer on SQLite), then seal
//! the record with the hash of the one before it.

use async_trait::async_trait;
use garrison_core::AuditId;
use garrison_core::TenantAccess;
use garrison_core::audit::{AuditEntry, AuditRecord, ChainHead, Outcome};
use garrison_store::{AuditQuery, AuditStore, StoreError, StoreResult};
use sqlx::any::AnyRow;

use crate::row::{int, opt_parse, opt_text, parse, text, ts};
use crate::tenants::access_filter;
use crate::{SqlStore, db_err, safe};

const COLUMNS: &str = "seq, id, at, actor_id, actor_label, tenant_id, action, target, source_ip, \
    outcome, details, prev_hash, hash";

fn record(row: &AnyRow) -> StoreResult<AuditRecord> {
    let outcome = text(row, "outcome")?;
    Ok(AuditRecord {
        seq: int(row, "seq")?,
        id: parse(row, "id")?,
        at: ts(row, "at")?,
        actor_id: opt_parse(row, "actor_id")?,
        actor_label: text(row, "actor_label")?,
        tenant_id: opt_parse(row, "tenant_id")?,
        action: text(row, "action")?,
        target: text(row, "target")?,
        source_ip: opt_text(row, "source_ip")?,
        outcome: Outcome::parse(&outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("column `outcome`: `{outcome}`")))?,
        details: text(row, "details")?,
        prev_hash: text(row, "prev_hash")?,
        hash: text(row, "hash")?,
    })
}

impl SqlStore {
    /// Appends `entry` inside the caller's transaction.
    pub(crate) async fn append_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        entry: &AuditEntry,
    ) -> StoreResult<AuditRecord> {
        let head =
            sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
        let seq = int(&head, "seq")?;
        let prev_hash = text(&head, "hash")?;
        let id = AuditId::new();
        let hash = self.chain_key.seal(seq, id, entry, &prev_hash);
        sqlx::query(safe(format!(
            "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(seq)
        .bind(id.to_string())
        .bind(entry.at.as_millis())
        .bind(entry.actor_id.map(|u| u.to_string()))
        .bind(&entry.actor_label)
        .bind(entry.tenant_id.map(|t| t.to_string()))
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(entry.source_ip.clone())
        .bind(entry.outcome.as_str())
        .bind(&entry.details)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE audit_head SET hash = $1, mac = $2 WHERE id = 1")
            .bind(&hash)
            .bind(self.chain_key.seal_head(seq, &hash))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(AuditRecord {
            seq,
            id,
            at: entry.at,
            actor_id: entry.actor_id,
            actor_label: entry.actor_label.clone(),
            tenant_id: entry.tenant_id,
            action: entry.action.clone(),
            target: entry.target.clone(),
            source_ip: entry.source_ip.clone(),
            outcome: entry.outcome,
            details: entry.details.clone(),
            prev_hash,
            hash,
        })
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<AuditRecord> {
        let mut tx = self.begin_write().await?;
        let record = self.append_in(tx.conn(), entry).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn list_audit(
        &self,
        access: &TenantAccess,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditRecord>> {
        let Some((filter, ids)) = access_filter(access, "tenant_id", 3) else {
            return Ok(Vec::new());
        };
        if let Some(t) = query.tenant
            && !access.allows(t)
        {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log
             WHERE seq < $1 AND ($2 = '' OR tenant_id = $2){filter}
             ORDER BY seq DESC LIMIT {}",
            query.limit.clamp(1, 1000)
        );
        let mut q = sqlx::query(safe(sql))
            .bind(query.before_seq.unwrap_or(i64::MAX))
            .bind(query.tenant.map(|t| t.to_string()).unwrap_or_default());
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(record).collect()
    }

    async fn audit_chain_page(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(safe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {}",
            limit.clamp(1, 10_000)
        )))
        .bind(after_seq)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(record).collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<ChainHead>> {
        let row = sqlx::query("SELECT seq, hash, mac FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        let seq = int(&row, "seq")?;
        if seq == 0 {
            return Ok(None);
        }
        Ok(Some(ChainHead {
            seq,
            hash: text(&row, "hash")?,
            mac: opt_text(&row, "mac")?,
        }))
    }
}

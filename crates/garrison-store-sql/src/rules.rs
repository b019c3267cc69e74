//! Rule files and tenant rule settings in SQL (migration 0010).

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::offense::Weights;
use garrison_core::{TenantAccess, TenantId, TenantScope, Timestamp};
use garrison_store::{RuleFile, RuleFileCounts, RuleStore, StoreError, StoreResult, TenantRule};
use sqlx::AnyConnection;

use crate::binds::Binds;
use crate::row::{flag, from_json, int, parse, text, ts};
use crate::{SqlStore, db_err, safe};

async fn bump(conn: &mut AnyConnection) -> StoreResult<()> {
    sqlx::query("UPDATE rules_version SET version = version + 1 WHERE id = 1")
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl RuleStore for SqlStore {
    async fn put_rule_files(
        &self,
        files: &[RuleFile],
        audit: &AuditEntry,
    ) -> StoreResult<RuleFileCounts> {
        let mut counts = RuleFileCounts::default();
        let mut tx = self.begin_write().await?;
        for f in files {
            let old = sqlx::query("SELECT body FROM rule_files WHERE origin = $1")
                .bind(f.origin.clone())
                .fetch_optional(tx.conn())
                .await
                .map_err(db_err)?;
            match old {
                Some(row) if text(&row, "body")? == f.body => counts.unchanged += 1,
                Some(_) => {
                    sqlx::query(
                        "UPDATE rule_files SET kind = $2, body = $3, updated_at = $4 WHERE origin = $1",
                    )
                    .bind(f.origin.clone())
                    .bind(f.kind.clone())
                    .bind(f.body.clone())
                    .bind(f.updated_at.as_millis())
                    .execute(tx.conn())
                    .await
                    .map_err(db_err)?;
                    counts.updated += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO rule_files (origin, kind, body, updated_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(f.origin.clone())
                    .bind(f.kind.clone())
                    .bind(f.body.clone())
                    .bind(f.updated_at.as_millis())
                    .execute(tx.conn())
                    .await
                    .map_err(db_err)?;
                    counts.new += 1;
                }
            }
        }
        if counts.new + counts.updated > 0 {
            bump(tx.conn()).await?;
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn rule_files(&self) -> StoreResult<Vec<RuleFile>> {
        let rows =
            sqlx::query("SELECT origin, kind, body, updated_at FROM rule_files ORDER BY origin")
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RuleFile {
                    origin: text(r, "origin")?,
                    kind: text(r, "kind")?,
                    body: text(r, "body")?,
                    updated_at: ts(r, "updated_at")?,
                })
            })
            .collect()
    }

    async fn rules_version(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT version FROM rules_version WHERE id = 1")
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map_or(Ok(0), |r| int(&r, "version"))
    }

    async fn tenant_rules(
        &self,
        access: &TenantAccess,
        tenant: Option<TenantId>,
    ) -> StoreResult<Vec<TenantRule>> {
        let mut b = Binds::default();
        let Some(wh) = b.access(access, "tenant_id", tenant) else {
            return Ok(Vec::new());
        };
        let rows = b
            .apply(sqlx::query(safe(format!(
                "SELECT tenant_id, rule_id, enabled, exceptions, updated_at FROM tenant_rules \
                 WHERE 1 = 1{wh} ORDER BY tenant_id, rule_id"
            ))))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TenantRule {
                    tenant_id: parse(r, "tenant_id")?,
                    rule_id: text(r, "rule_id")?,
                    enabled: flag(r, "enabled")?,
                    exceptions: from_json(r, "exceptions")?,
                    updated_at: ts(r, "updated_at")?,
                })
            })
            .collect()
    }

    async fn set_tenant_rule(
        &self,
        scope: &TenantScope,
        s: &TenantRule,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        if s.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let exceptions =
            serde_json::to_string(&s.exceptions).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM tenant_rules WHERE tenant_id = $1 AND rule_id = $2")
            .bind(s.tenant_id.to_string())
            .bind(s.rule_id.clone())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO tenant_rules (tenant_id, rule_id, enabled, exceptions, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.tenant_id.to_string())
        .bind(s.rule_id.clone())
        .bind(i64::from(s.enabled))
        .bind(exceptions)
        .bind(s.updated_at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        bump(tx.conn()).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn magnitude_weights(
        &self,
        access: &TenantAccess,
    ) -> StoreResult<Vec<(TenantId, Weights)>> {
        let mut b = Binds::default();
        let Some(wh) = b.access(access, "tenant_id", None) else {
            return Ok(Vec::new());
        };
        let rows = b
            .apply(sqlx::query(safe(format!(
                "SELECT tenant_id, weights FROM tenant_magnitude_weights WHERE 1 = 1{wh} ORDER BY tenant_id"
            ))))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((parse(r, "tenant_id")?, from_json(r, "weights")?)))
            .collect()
    }

    async fn set_magnitude_weights(
        &self,
        scope: &TenantScope,
        weights: Weights,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let json =
            serde_json::to_string(&weights).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM tenant_magnitude_weights WHERE tenant_id = $1")
            .bind(scope.tenant_id().to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO tenant_magnitude_weights (tenant_id, weights, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(scope.tenant_id().to_string())
        .bind(json)
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        bump(tx.conn()).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

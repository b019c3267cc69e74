//! Tenants' HTTP ingest tokens.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::model::IngestToken;
use garrison_core::{IngestTokenId, TenantAccess, TenantScope, Timestamp};
use garrison_store::{IngestTokenStore, StoreError, StoreResult};
use sqlx::any::AnyRow;

use crate::row::{opt_ts, parse, text, ts};
use crate::tenants::access_filter;
use crate::{SqlStore, db_err, safe};

const COLUMNS: &str =
    "id, tenant_id, name, prefix, token_hash, format, allow, created_at, last_used_at, revoked_at";

fn token(row: &AnyRow) -> StoreResult<IngestToken> {
    let allow = text(row, "allow")?;
    Ok(IngestToken {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        name: text(row, "name")?,
        prefix: text(row, "prefix")?,
        token_hash: text(row, "token_hash")?,
        format: text(row, "format")?,
        allow: allow
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

#[async_trait]
impl IngestTokenStore for SqlStore {
    async fn create_ingest_token(&self, t: &IngestToken, audit: &AuditEntry) -> StoreResult<()> {
        if t.allow.iter().any(|a| a.contains(',') || a.is_empty()) {
            return Err(StoreError::Backend(
                "an allowed network is empty or contains a comma".to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(t.tenant_id.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(safe(format!(
            "INSERT INTO ingest_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(t.id.to_string())
        .bind(t.tenant_id.to_string())
        .bind(&t.name)
        .bind(&t.prefix)
        .bind(&t.token_hash)
        .bind(&t.format)
        .bind(t.allow.join(","))
        .bind(t.created_at.as_millis())
        .bind(t.last_used_at.map(Timestamp::as_millis))
        .bind(t.revoked_at.map(Timestamp::as_millis))
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn find_ingest_token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<IngestToken>> {
        let row = sqlx::query(safe(format!(
            "SELECT {COLUMNS} FROM ingest_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(token).transpose()
    }

    async fn list_ingest_tokens(&self, access: &TenantAccess) -> StoreResult<Vec<IngestToken>> {
        let Some((filter, binds)) = access_filter(access, "tenant_id", 1) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM ingest_tokens WHERE 1 = 1{filter} \
             ORDER BY tenant_id, created_at DESC, id DESC"
        );
        let mut q = sqlx::query(safe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(token).collect()
    }

    async fn revoke_ingest_token(
        &self,
        scope: &TenantScope,
        id: IngestTokenId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE ingest_tokens SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(scope.tenant_id().to_string())
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

    async fn touch_ingest_token(&self, id: IngestTokenId, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE ingest_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(at.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await
    }
}

//! API tokens.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::model::ApiToken;
use garrison_core::{Timestamp, TokenId, UserId};
use garrison_store::{StoreError, StoreResult, TokenStore};
use sqlx::any::AnyRow;

use crate::row::{opt_ts, parse, text, ts};
use crate::{SqlStore, db_err, safe};

const COLUMNS: &str =
    "id, user_id, name, prefix, token_hash, created_at, last_used_at, expires_at, revoked_at";

fn token(row: &AnyRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: parse(row, "id")?,
        user_id: parse(row, "user_id")?,
        name: text(row, "name")?,
        prefix: text(row, "prefix")?,
        token_hash: text(row, "token_hash")?,
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        expires_at: opt_ts(row, "expires_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn create_token(&self, t: &ApiToken, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(safe(format!(
            "INSERT INTO api_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(t.id.to_string())
        .bind(t.user_id.to_string())
        .bind(&t.name)
        .bind(&t.prefix)
        .bind(&t.token_hash)
        .bind(t.created_at.as_millis())
        .bind(t.last_used_at.map(Timestamp::as_millis))
        .bind(t.expires_at.map(Timestamp::as_millis))
        .bind(t.revoked_at.map(Timestamp::as_millis))
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let row = sqlx::query(safe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(token).transpose()
    }

    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(safe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        )))
        .bind(user.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(token).collect()
    }

    async fn revoke_token(
        &self,
        user: UserId,
        id: TokenId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2",
        )
        .bind(id.to_string())
        .bind(user.to_string())
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

    async fn touch_token(&self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(at.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await
    }

    async fn revoke_user_tokens(
        &self,
        user: UserId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = crate::users::revoke_tokens(tx.conn(), user, at).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(n)
    }
}

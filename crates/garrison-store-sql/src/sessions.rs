//! Portal sessions.

use async_trait::async_trait;
use garrison_core::model::{Session, SessionStage};
use garrison_core::{SessionId, Timestamp, UserId};
use garrison_store::{SessionChange, SessionStore, StoreError, StoreResult};
use sqlx::any::AnyRow;

use crate::row::{opt_parse, opt_text, parse, text, ts};
use crate::{SqlStore, db_err, safe};

const COLUMNS: &str = "id, user_id, token_hash, stage, csrf_token, created_at, last_seen_at, \
    expires_at, source_ip, user_agent, active_tenant_id, pending_totp";

fn session(row: &AnyRow) -> StoreResult<Session> {
    let stage = text(row, "stage")?;
    Ok(Session {
        id: parse(row, "id")?,
        user_id: parse(row, "user_id")?,
        token_hash: text(row, "token_hash")?,
        stage: SessionStage::parse(&stage)
            .ok_or_else(|| StoreError::Corrupt(format!("column `stage`: `{stage}`")))?,
        csrf_token: text(row, "csrf_token")?,
        created_at: ts(row, "created_at")?,
        last_seen_at: ts(row, "last_seen_at")?,
        expires_at: ts(row, "expires_at")?,
        source_ip: opt_text(row, "source_ip")?,
        user_agent: opt_text(row, "user_agent")?,
        active_tenant: opt_parse(row, "active_tenant_id")?,
        pending_totp_sealed: opt_text(row, "pending_totp")?,
    })
}

async fn insert(conn: &mut sqlx::AnyConnection, s: &Session) -> StoreResult<()> {
    sqlx::query(safe(format!(
        "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(s.id.to_string())
    .bind(s.user_id.to_string())
    .bind(&s.token_hash)
    .bind(s.stage.as_str())
    .bind(&s.csrf_token)
    .bind(s.created_at.as_millis())
    .bind(s.last_seen_at.as_millis())
    .bind(s.expires_at.as_millis())
    .bind(s.source_ip.clone())
    .bind(s.user_agent.clone())
    .bind(s.active_tenant.map(|t| t.to_string()))
    .bind(s.pending_totp_sealed.clone())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert(tx.conn(), s).await?;
        tx.commit().await
    }

    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query(safe(format!(
            "SELECT {COLUMNS} FROM sessions WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn rotate_session(&self, old: SessionId, new: &Session) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(old.to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        insert(tx.conn(), new).await?;
        tx.commit().await
    }

    async fn update_session(&self, id: SessionId, change: &SessionChange) -> StoreResult<()> {
        // Each optional change is applied only when given; a flag says
        // whether the nullable columns are to be written at all.
        let mut tx = self.begin_write().await?;
        let (set_tenant, tenant) = match change.active_tenant {
            Some(t) => (1_i64, t.map(|t| t.to_string())),
            None => (0, None),
        };
        let (set_totp, totp) = match &change.pending_totp_sealed {
            Some(p) => (1_i64, p.clone()),
            None => (0, None),
        };
        let done = sqlx::query(
            "UPDATE sessions SET
                stage = COALESCE($2, stage),
                active_tenant_id = CASE WHEN $3 = 1 THEN $4 ELSE active_tenant_id END,
                pending_totp = CASE WHEN $5 = 1 THEN $6 ELSE pending_totp END
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(change.stage.map(|s| s.as_str().to_owned()))
        .bind(set_tenant)
        .bind(tenant)
        .bind(set_totp)
        .bind(totp)
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(at.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user.to_string())
            .bind(keep.map(|k| k.to_string()).unwrap_or_default())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

//! Users, their credentials, MFA state and staff assignments.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::model::{NewUser, User, UserChange, UserCredentials};
use garrison_core::{Secret, TenantAccess, TenantId, TenantScope, Timestamp, UserId};
use garrison_store::{StoreError, StoreResult, UserFilter, UserStore};
use sqlx::any::AnyRow;

use crate::row::{flag, opt_int, opt_parse, opt_text, opt_ts, parse, text, ts};
use crate::tenants::access_filter;
use crate::{SqlStore, db_err, safe};

const COLUMNS: &str = "u.id, u.tenant_id, u.email, u.display_name, u.role, u.password_hash, \
    u.must_change_password, u.is_disabled, u.totp_secret, u.totp_last_step, u.mfa_enrolled_at, \
    u.created_at, u.updated_at, u.last_login_at";

fn user(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: parse(row, "id")?,
        tenant_id: opt_parse(row, "tenant_id")?,
        email: text(row, "email")?,
        display_name: text(row, "display_name")?,
        role: parse(row, "role")?,
        is_disabled: flag(row, "is_disabled")?,
        must_change_password: flag(row, "must_change_password")?,
        mfa_enrolled_at: opt_ts(row, "mfa_enrolled_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        last_login_at: opt_ts(row, "last_login_at")?,
    })
}

fn credentials(row: &AnyRow) -> StoreResult<UserCredentials> {
    Ok(UserCredentials {
        user: user(row)?,
        password_hash: Secret::new(text(row, "password_hash")?),
        totp_secret_sealed: opt_text(row, "totp_secret")?.map(Secret::new),
        totp_last_step: opt_int(row, "totp_last_step")?,
    })
}

/// The `WHERE` clause (after `u.id = $1`) that limits users to an access
/// set: customer users of visible tenants, staff only with full access.
fn visible(access: &TenantAccess) -> Option<(String, Vec<String>)> {
    access_filter(access, "u.tenant_id", 2)
}

impl SqlStore {
    async fn visible_user(&self, access: &TenantAccess, id: UserId) -> StoreResult<User> {
        let Some((filter, ids)) = visible(access) else {
            return Err(StoreError::NotFound);
        };
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.id = $1{filter}");
        let mut q = sqlx::query(safe(sql)).bind(id.to_string());
        for t in ids {
            q = q.bind(t);
        }
        let row = q.fetch_optional(self.pool()).await.map_err(db_err)?;
        row.as_ref()
            .map(user)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn credentials_where(
        &self,
        column: &str,
        value: String,
    ) -> StoreResult<Option<UserCredentials>> {
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.{column} = $1");
        let row = sqlx::query(safe(sql))
            .bind(value)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref().map(credentials).transpose()
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, new: &NewUser, audit: &AuditEntry) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, display_name, role, password_hash,
                must_change_password, is_disabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
        )
        .bind(new.id.to_string())
        .bind(new.tenant_id.map(|t| t.to_string()))
        .bind(&new.email)
        .bind(&new.display_name)
        .bind(new.role.as_str())
        .bind(new.password_hash.expose().clone())
        .bind(i64::from(new.must_change_password))
        .bind(new.created_at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(User {
            id: new.id,
            tenant_id: new.tenant_id,
            email: new.email.clone(),
            display_name: new.display_name.clone(),
            role: new.role,
            is_disabled: false,
            must_change_password: new.must_change_password,
            mfa_enrolled_at: None,
            created_at: new.created_at,
            updated_at: new.created_at,
            last_login_at: None,
        })
    }

    async fn find_user(&self, access: &TenantAccess, id: UserId) -> StoreResult<User> {
        self.visible_user(access, id).await
    }

    async fn list_users(
        &self,
        access: &TenantAccess,
        filter: UserFilter,
    ) -> StoreResult<Vec<User>> {
        let (clause, binds): (String, Vec<String>) = match (access.tenants(), filter) {
            (None, UserFilter::All) => (String::new(), Vec::new()),
            (None, UserFilter::Staff) => (" AND u.tenant_id IS NULL".to_owned(), Vec::new()),
            (Some(_), UserFilter::Staff) => return Ok(Vec::new()),
            (_, UserFilter::Tenant(t)) if !access.allows(t) => return Ok(Vec::new()),
            (_, UserFilter::Tenant(t)) => (" AND u.tenant_id = $1".to_owned(), vec![t.to_string()]),
            (Some(_), UserFilter::All) => match access_filter(access, "u.tenant_id", 1) {
                Some(f) => f,
                None => return Ok(Vec::new()),
            },
        };
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE 1 = 1{clause} ORDER BY u.email");
        let mut q = sqlx::query(safe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(user).collect()
    }

    async fn update_user(
        &self,
        access: &TenantAccess,
        id: UserId,
        change: &UserChange,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<User> {
        self.visible_user(access, id).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET display_name = COALESCE($2, display_name),
                role = COALESCE($3, role),
                is_disabled = COALESCE($4, is_disabled),
                updated_at = $5
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(change.display_name.clone())
        .bind(change.role.map(|r| r.as_str().to_owned()))
        .bind(change.is_disabled.map(i64::from))
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if change.is_disabled == Some(true) {
            end_sessions(tx.conn(), id).await?;
            revoke_tokens(tx.conn(), id, at).await?;
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        self.visible_user(access, id).await
    }

    async fn find_credentials_by_email(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        self.credentials_where("email", email.to_owned()).await
    }

    async fn find_credentials(&self, id: UserId) -> StoreResult<UserCredentials> {
        self.credentials_where("id", id.to_string())
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &Secret<String>,
        must_change: bool,
        revoke: bool,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(hash.expose().clone())
        .bind(i64::from(must_change))
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        end_sessions(tx.conn(), id).await?;
        if revoke {
            revoke_tokens(tx.conn(), id, at).await?;
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn set_mfa(
        &self,
        id: UserId,
        totp_sealed: Option<&str>,
        recovery_code_hashes: &[String],
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret = $2, mfa_enrolled_at = $3, totp_last_step = NULL, updated_at = $4
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(totp_sealed.map(str::to_owned))
        .bind(totp_sealed.map(|_| at.as_millis()))
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.write_recovery_codes(tx.conn(), id, recovery_code_hashes)
            .await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn use_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $2
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(id.to_string())
        .bind(step)
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(
        &self,
        id: UserId,
        code_hash: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3
             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(id.to_string())
        .bind(code_hash)
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn replace_recovery_codes(
        &self,
        id: UserId,
        code_hashes: &[String],
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.write_recovery_codes(tx.conn(), id, code_hashes)
            .await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn count_unused_recovery_codes(&self, id: UserId) -> StoreResult<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(id.to_string())
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn record_login(&self, id: UserId, at: Timestamp, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(at.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn list_assignments(&self, user: UserId) -> StoreResult<Vec<TenantId>> {
        let rows = sqlx::query(
            "SELECT tenant_id FROM staff_assignments WHERE user_id = $1 ORDER BY tenant_id",
        )
        .bind(user.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| parse(r, "tenant_id")).collect()
    }

    async fn list_assigned_staff(&self, scope: &TenantScope) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN staff_assignments a ON a.user_id = u.id
             WHERE a.tenant_id = $1 ORDER BY u.email"
        );
        let rows = sqlx::query(safe(sql))
            .bind(scope.tenant_id().to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(user).collect()
    }

    async fn assign_staff(
        &self,
        user: UserId,
        scope: &TenantScope,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let exists: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM tenants WHERE id = $1) + (SELECT COUNT(*) FROM users WHERE id = $2)",
        )
        .bind(scope.tenant_id().to_string())
        .bind(user.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(db_err)?;
        if exists != 2 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO staff_assignments (user_id, tenant_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, tenant_id) DO NOTHING",
        )
        .bind(user.to_string())
        .bind(scope.tenant_id().to_string())
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn unassign_staff(
        &self,
        user: UserId,
        scope: &TenantScope,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM staff_assignments WHERE user_id = $1 AND tenant_id = $2")
                .bind(user.to_string())
                .bind(scope.tenant_id().to_string())
                .execute(tx.conn())
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }
}

async fn end_sessions(conn: &mut sqlx::AnyConnection, id: UserId) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id.to_string())
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn revoke_tokens(
    conn: &mut sqlx::AnyConnection,
    id: UserId,
    at: Timestamp,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(id.to_string())
    .bind(at.as_millis())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected())
}

impl SqlStore {
    async fn write_recovery_codes(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: UserId,
        hashes: &[String],
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(id.to_string())
                .bind(h)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

//! Tenants.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::model::{NewTenant, Tenant, TenantChange};
use garrison_core::{TenantAccess, TenantScope};
use garrison_store::{StoreError, StoreResult, TenantStore};
use sqlx::any::AnyRow;

use crate::row::{flag, parse, text, ts};
use crate::{SqlStore, db_err, placeholders, safe};

const COLUMNS: &str = "id, slug, name, mfa_required_for_all, created_at";

fn tenant(row: &AnyRow) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: parse(row, "id")?,
        slug: text(row, "slug")?,
        name: text(row, "name")?,
        mfa_required_for_all: flag(row, "mfa_required_for_all")?,
        created_at: ts(row, "created_at")?,
    })
}

/// ` AND <column> IN (...)` for an access set, binding from `$start`; `None`
/// when the access set is empty (the query can only return nothing).
pub(crate) fn access_filter(
    access: &TenantAccess,
    column: &str,
    start: usize,
) -> Option<(String, Vec<String>)> {
    match access.tenants() {
        None => Some((String::new(), Vec::new())),
        Some(set) if set.is_empty() => None,
        Some(set) => Some((
            format!(" AND {column} IN ({})", placeholders(start, set.len())),
            set.iter().map(ToString::to_string).collect(),
        )),
    }
}

impl SqlStore {
    async fn tenant_by_id(&self, scope: &TenantScope) -> StoreResult<Tenant> {
        let row = sqlx::query(safe(format!("SELECT {COLUMNS} FROM tenants WHERE id = $1")))
            .bind(scope.tenant_id().to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(tenant)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl TenantStore for SqlStore {
    async fn create_tenant(&self, new: &NewTenant, audit: &AuditEntry) -> StoreResult<Tenant> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, name, mfa_required_for_all, created_at) VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(new.id.to_string())
        .bind(&new.slug)
        .bind(&new.name)
        .bind(new.created_at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(Tenant {
            id: new.id,
            slug: new.slug.clone(),
            name: new.name.clone(),
            mfa_required_for_all: false,
            created_at: new.created_at,
        })
    }

    async fn list_tenants(&self, access: &TenantAccess) -> StoreResult<Vec<Tenant>> {
        let Some((filter, ids)) = access_filter(access, "id", 1) else {
            return Ok(Vec::new());
        };
        let sql = format!("SELECT {COLUMNS} FROM tenants WHERE 1 = 1{filter} ORDER BY slug");
        let mut q = sqlx::query(safe(sql));
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(tenant).collect()
    }

    async fn find_tenant(&self, scope: &TenantScope) -> StoreResult<Tenant> {
        self.tenant_by_id(scope).await
    }

    async fn find_tenant_by_slug(&self, access: &TenantAccess, slug: &str) -> StoreResult<Tenant> {
        let row = sqlx::query(safe(format!(
            "SELECT {COLUMNS} FROM tenants WHERE slug = $1"
        )))
        .bind(slug)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        match row.as_ref().map(tenant).transpose()? {
            Some(t) if access.allows(t.id) => Ok(t),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn update_tenant(
        &self,
        scope: &TenantScope,
        change: &TenantChange,
        audit: &AuditEntry,
    ) -> StoreResult<Tenant> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE tenants SET name = COALESCE($2, name),
                mfa_required_for_all = COALESCE($3, mfa_required_for_all)
             WHERE id = $1",
        )
        .bind(scope.tenant_id().to_string())
        .bind(change.name.clone())
        .bind(change.mfa_required_for_all.map(i64::from))
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        self.tenant_by_id(scope).await
    }
}

//! The tenant's [`AssetIndex`] for correlation, kept per tenant in memory.
//!
//! Every inventory write raises the tenant's inventory version in the store
//! in the same transaction (`AssetStore::inventory_version`). Each call here
//! reads that version first and rebuilds the index from the store only when
//! it moved, so a change made by any process (a web node, the CLI, an import
//! job) is seen on the next call, and an unchanged inventory costs one small
//! query.
//!
//! The version is read before the assets and ranges, so the cached version
//! is never newer than the data it was built from: a write that lands during
//! a rebuild leaves the cache one version behind and the next call rebuilds
//! again, never the other way round. Rebuilds of one tenant are serialised,
//! so concurrent callers wait for one rebuild rather than each doing their
//! own. Indexes are never evicted; one per tenant that asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use garrison_core::{Permission, Principal, TenantId, TenantScope};
use garrison_detect::{AssetIndex, AssetProfile};

use crate::{App, AppError, AppResult};

/// An index and the inventory version it was built at.
#[derive(Debug)]
struct Cached {
    version: i64,
    index: Arc<AssetIndex>,
}

/// The per-tenant cache of asset indexes.
#[derive(Debug, Default)]
pub(crate) struct IndexCache {
    tenants: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

impl IndexCache {
    /// The tenant's slot; held while checking and rebuilding.
    fn slot(&self, tenant: TenantId) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant)
            .or_default()
            .clone()
    }
}

impl App {
    /// The tenant's asset index: by IP address (and range) to the asset's
    /// profile, for correlation. Shared and immutable; a later call after an
    /// inventory change returns a new one.
    ///
    /// # Errors
    /// `NotFound` when the tenant is not visible to `p`; `Forbidden` without
    /// the right to read the inventory.
    pub async fn asset_index(&self, p: &Principal, tenant: TenantId) -> AppResult<Arc<AssetIndex>> {
        // Visibility before permission, as in every inventory use case.
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        self.store.find_tenant(&scope).await?;
        if !p.can(Permission::InventoryRead) {
            return Err(AppError::Forbidden("your role does not allow this"));
        }
        self.asset_index_for(&scope).await
    }

    /// The asset index of the scope's tenant, for the pipeline (which holds
    /// a scope, not a person's principal).
    ///
    /// # Errors
    /// When the store fails.
    pub(crate) async fn asset_index_for(&self, scope: &TenantScope) -> AppResult<Arc<AssetIndex>> {
        let slot = self.asset_indexes.slot(scope.tenant_id());
        let version = self.store.inventory_version(scope).await?;
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.version >= version) {
            return Ok(c.index.clone());
        }
        let rows = self.store.all_assets(scope).await?;
        let ranges = self.store.list_ranges(scope).await?;
        let tenant = scope.tenant_id();
        let index = tokio::task::spawn_blocking(move || {
            let profiles = rows.into_iter().map(|row| {
                AssetProfile::from_asset(&row.asset).with_risk(
                    row.risk.score,
                    row.risk.open_findings,
                    row.risk.kev_findings,
                )
            });
            AssetIndex::build(tenant, profiles, &ranges)
        })
        .await
        .map_err(|e| AppError::Internal(format!("building the asset index: {e}")))?;
        let index = Arc::new(index);
        tracing::debug!(
            tenant = %tenant,
            version,
            assets = index.len(),
            ranges = index.ranges_len(),
            "asset index rebuilt"
        );
        *cached = Some(Cached {
            version,
            index: index.clone(),
        });
        Ok(index)
    }
}

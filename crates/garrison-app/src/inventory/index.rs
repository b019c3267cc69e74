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
//!
//! The ingest pipeline never waits for a rebuild once it has an index (see
//! [`AssetIndexes::for_pipeline`]): enrichment goes on with the old index
//! while the new one is built, and picks the new one up in one step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use garrison_core::asset::OpenExposure;
use garrison_core::{AssetId, Permission, Principal, TenantId, TenantScope};
use garrison_detect::{AssetIndex, AssetProfile};
use garrison_store::Store;

use crate::{App, AppError, AppResult};

/// How long the pipeline uses an index before asking whether the
/// inventory moved (one small query), in the background.
pub const PIPELINE_RECHECK: Duration = Duration::from_secs(2);

/// An index and the inventory version it was built at.
#[derive(Debug)]
struct Cached {
    version: i64,
    index: Arc<AssetIndex>,
}

/// What the pipeline holds per tenant: the last index, when it was last
/// checked, and whether a check is running.
#[derive(Debug)]
struct Latest {
    index: Arc<AssetIndex>,
    checked: Instant,
    checking: bool,
}

/// The per-tenant cache of asset indexes, shared by the use cases (which
/// wait for a current index) and the ingest pipeline (which never waits
/// once it has one: a rebuild runs beside it and the new index replaces
/// the old in one step).
pub struct AssetIndexes {
    store: Arc<dyn Store>,
    tenants: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
    latest: Mutex<HashMap<TenantId, Latest>>,
}

impl std::fmt::Debug for AssetIndexes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssetIndexes").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AssetIndexes {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            tenants: Mutex::default(),
            latest: Mutex::default(),
        }
    }

    /// The tenant's slot; held while checking and rebuilding.
    fn slot(&self, tenant: TenantId) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        lock(&self.tenants).entry(tenant).or_default().clone()
    }

    /// The tenant's current index: the cached one when the inventory
    /// version has not moved, else rebuilt (callers wait for it).
    ///
    /// # Errors
    /// When the store fails.
    pub(crate) async fn current(&self, scope: &TenantScope) -> AppResult<Arc<AssetIndex>> {
        let tenant = scope.tenant_id();
        let slot = self.slot(tenant);
        let version = self.store.inventory_version(scope).await?;
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.version >= version) {
            return Ok(c.index.clone());
        }
        let rows = self.store.all_assets(scope).await?;
        let ranges = self.store.list_ranges(scope).await?;
        let exposures = self.store.open_exposures(scope).await?;
        let index = tokio::task::spawn_blocking(move || {
            let mut by_asset: HashMap<AssetId, Vec<OpenExposure>> = HashMap::new();
            for x in exposures {
                by_asset.entry(x.asset_id).or_default().push(x);
            }
            let profiles = rows.into_iter().map(|row| {
                let exposures = by_asset.remove(&row.asset.id).unwrap_or_default();
                AssetProfile::from_asset(&row.asset)
                    .with_risk(
                        row.risk.score,
                        row.risk.open_findings,
                        row.risk.kev_findings,
                    )
                    .with_exposures(exposures)
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

    /// The index the pipeline enriches the tenant's events with. The first
    /// call for a tenant waits for a build; later calls answer at once with
    /// the last index and, at most every [`PIPELINE_RECHECK`], start a
    /// check (and rebuild if the inventory moved) in the background, whose
    /// result later calls pick up. `None` when no index could be built
    /// (the store failed; logged, tried again on the next call).
    pub(crate) async fn for_pipeline(
        self: &Arc<Self>,
        tenant: TenantId,
    ) -> Option<Arc<AssetIndex>> {
        let recheck = {
            let mut latest = lock(&self.latest);
            match latest.get_mut(&tenant) {
                Some(l) => {
                    let due = !l.checking && l.checked.elapsed() >= PIPELINE_RECHECK;
                    if due {
                        l.checking = true;
                    }
                    Some((l.index.clone(), due))
                }
                None => None,
            }
        };
        match recheck {
            Some((index, false)) => Some(index),
            Some((index, true)) => {
                let this = self.clone();
                tokio::spawn(async move { this.refresh(tenant).await });
                Some(index)
            }
            None => self.refresh(tenant).await,
        }
    }

    /// Brings the pipeline's index of the tenant up to date.
    async fn refresh(&self, tenant: TenantId) -> Option<Arc<AssetIndex>> {
        let scope = Principal::system("correlation").scope(tenant)?;
        let built = self.current(&scope).await;
        let mut latest = lock(&self.latest);
        match built {
            Ok(index) => {
                latest.insert(
                    tenant,
                    Latest {
                        index: index.clone(),
                        checked: Instant::now(),
                        checking: false,
                    },
                );
                Some(index)
            }
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "asset index for enrichment not rebuilt");
                let l = latest.get_mut(&tenant)?;
                l.checking = false;
                l.checked = Instant::now();
                Some(l.index.clone())
            }
        }
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
        self.asset_indexes.current(&scope).await
    }
}

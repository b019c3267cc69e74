//! Storage ports for the asset inventory: assets, their history, network
//! ranges, findings and imports. The application decides what an import
//! changes (reconciliation); the store keeps it, tenant by tenant.

use std::net::IpAddr;

use async_trait::async_trait;
use garrison_core::asset::{
    Asset, Criticality, Finding, FindingSeverity, FindingStatus, Import, ImportCounts,
    ImportRejection, ImportStatus, NetworkRange, OpenExposure,
};
use garrison_core::audit::AuditEntry;
use garrison_core::{AssetId, FindingId, ImportId, RangeId, TenantAccess, TenantScope, Timestamp};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// Identifiers to look assets up by during reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetKeys {
    pub macs: Vec<String>,
    /// Lower-case FQDNs and host names.
    pub names: Vec<String>,
    /// Addresses with the zone they are in.
    pub ips: Vec<(IpAddr, String)>,
}

/// A change to an asset's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetEvent {
    pub at: Timestamp,
    /// Who or what made the change: a user's e-mail, or `import:<id>`.
    pub actor: String,
    /// `created`, `updated`, `conflict`, `deleted`.
    pub kind: String,
    /// A JSON object: the fields changed (old and new), or the conflicts
    /// (value kept, value offered, by whom).
    pub details: String,
}

/// The risk figures kept with an asset, recomputed when its findings or
/// profile change, so that lists can filter and sort by them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetRisk {
    pub score: f64,
    pub open_findings: u32,
    pub max_severity: Option<FindingSeverity>,
    pub kev_findings: u32,
}

/// One asset to write, with its new history entries and risk.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetWrite {
    pub asset: Asset,
    pub is_new: bool,
    pub events: Vec<AssetEvent>,
    pub risk: AssetRisk,
}

/// What one step of an import (or an edit) writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryBatch {
    pub assets: Vec<AssetWrite>,
    /// Findings to insert or replace (by id).
    pub findings: Vec<Finding>,
}

/// An asset in a list, with its risk.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRow {
    pub asset: Asset,
    pub risk: AssetRisk,
}

/// How to sort lists of assets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssetSort {
    /// Highest risk first.
    #[default]
    Risk,
    Name,
    LastSeen,
}

/// Which assets to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetQuery {
    /// Only this tenant (must be within the access).
    pub tenant: Option<garrison_core::TenantId>,
    /// Matches host name, FQDN, address, owner, business unit or location.
    pub text: Option<String>,
    pub criticality: Option<Criticality>,
    pub tag: Option<String>,
    pub regulation: Option<String>,
    pub internet_exposed: Option<bool>,
    /// Only assets with an open finding listed in CISA KEV.
    pub has_kev: bool,
    pub sort: AssetSort,
    pub limit: u32,
    pub offset: u32,
}

impl Default for AssetQuery {
    fn default() -> Self {
        Self {
            tenant: None,
            text: None,
            criticality: None,
            tag: None,
            regulation: None,
            internet_exposed: None,
            has_kev: false,
            sort: AssetSort::Risk,
            limit: 100,
            offset: 0,
        }
    }
}

/// A page of results and the total count.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Which findings to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingQuery {
    pub tenant: Option<garrison_core::TenantId>,
    pub asset: Option<AssetId>,
    pub status: Option<FindingStatus>,
    /// Only open and reopened findings.
    pub open_only: bool,
    pub min_severity: Option<FindingSeverity>,
    pub cve: Option<String>,
    /// Matches the title or plugin id.
    pub text: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

impl Default for FindingQuery {
    fn default() -> Self {
        Self {
            tenant: None,
            asset: None,
            status: None,
            open_only: false,
            min_severity: None,
            cve: None,
            text: None,
            limit: 100,
            offset: 0,
        }
    }
}

/// A change of a finding's status by a person.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingStatusChange {
    pub status: FindingStatus,
    pub reason: String,
    pub accepted_until: Option<Timestamp>,
    pub at: Timestamp,
}

/// Progress and outcome of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportProgress {
    pub status: ImportStatus,
    pub bytes_done: u64,
    pub counts: ImportCounts,
    pub rejections: Vec<ImportRejection>,
    pub error: Option<String>,
    pub finished_at: Option<Timestamp>,
}

#[async_trait]
pub trait AssetStore: Send + Sync {
    /// Assets of the tenant sharing a MAC, a name, or an address in the
    /// same zone with `keys`.
    async fn find_asset_candidates(
        &self,
        scope: &TenantScope,
        keys: &AssetKeys,
    ) -> StoreResult<Vec<Asset>>;
    async fn find_asset(&self, scope: &TenantScope, id: AssetId) -> StoreResult<AssetRow>;
    async fn list_assets(
        &self,
        access: &TenantAccess,
        query: &AssetQuery,
    ) -> StoreResult<Page<AssetRow>>;
    /// Every asset of a tenant (for indexes and exports), in id order.
    async fn all_assets(&self, scope: &TenantScope) -> StoreResult<Vec<AssetRow>>;
    /// Writes a batch in one transaction; the audit entry, if any, with it.
    async fn write_inventory(
        &self,
        scope: &TenantScope,
        batch: &InventoryBatch,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()>;
    /// Deletes an asset with its findings; its history keeps a `deleted`
    /// entry.
    async fn delete_asset(
        &self,
        scope: &TenantScope,
        id: AssetId,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn asset_events(&self, scope: &TenantScope, id: AssetId) -> StoreResult<Vec<AssetEvent>>;

    async fn list_ranges(&self, scope: &TenantScope) -> StoreResult<Vec<NetworkRange>>;
    async fn create_range(
        &self,
        scope: &TenantScope,
        range: &NetworkRange,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn delete_range(
        &self,
        scope: &TenantScope,
        id: RangeId,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// Findings of these assets (any status), for reconciliation.
    async fn findings_of_assets(
        &self,
        scope: &TenantScope,
        assets: &[AssetId],
    ) -> StoreResult<Vec<Finding>>;
    /// The tenant's open (or reopened) findings, narrowed to what
    /// correlation uses, for the asset index.
    async fn open_exposures(&self, scope: &TenantScope) -> StoreResult<Vec<OpenExposure>>;
    async fn list_findings(
        &self,
        access: &TenantAccess,
        query: &FindingQuery,
    ) -> StoreResult<Page<Finding>>;
    async fn find_finding(&self, scope: &TenantScope, id: FindingId) -> StoreResult<Finding>;
    async fn set_finding_status(
        &self,
        scope: &TenantScope,
        id: FindingId,
        change: &FindingStatusChange,
        audit: &AuditEntry,
    ) -> StoreResult<Finding>;

    /// The tenant's own risk weights (JSON), `None` for the defaults.
    async fn risk_weights(&self, scope: &TenantScope) -> StoreResult<Option<String>>;
    /// Sets the tenant's risk weights, or with `None` returns it to the
    /// defaults.
    async fn set_risk_weights(
        &self,
        scope: &TenantScope,
        weights: Option<&str>,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// The tenant's inventory version: a counter that every change to its
    /// assets, findings through `write_inventory`, ranges or risk weights
    /// raises in the same transaction (0 before the first). In-memory
    /// indexes compare it to the version they were built at.
    async fn inventory_version(&self, scope: &TenantScope) -> StoreResult<i64>;

    async fn create_import(&self, import: &Import, audit: Option<&AuditEntry>) -> StoreResult<()>;
    async fn update_import(&self, id: ImportId, progress: &ImportProgress) -> StoreResult<()>;
    /// An import visible in `access` (vulnerability data imports, which
    /// belong to no tenant, only with access to every tenant).
    async fn find_import(&self, access: &TenantAccess, id: ImportId) -> StoreResult<Import>;
    async fn list_imports(&self, access: &TenantAccess, limit: u32) -> StoreResult<Vec<Import>>;
}

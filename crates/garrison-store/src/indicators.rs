//! Storage port for threat-intelligence indicators and their sightings.
//!
//! An indicator belongs to one tenant or to the MSSP as a whole
//! ([`IndicatorTarget`]). Readers see, through their [`TenantAccess`], the
//! indicators of their tenants and every MSSP-wide one; sightings only of
//! their tenants (an MSSP-wide indicator seen at tenant B is not shown to
//! tenant A). Imports are idempotent: the key is (scope, kind, value,
//! source), so re-importing a feed updates its rows and never duplicates.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::indicator::{Indicator, IndicatorKind, IndicatorScope, Sighting, Tlp};
use garrison_core::{IndicatorId, TenantAccess, TenantId, TenantScope, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{Page, StoreResult};

/// The most indicators one list returns.
pub const MAX_INDICATOR_PAGE: u32 = 1000;

/// Where a batch of indicators goes: the MSSP's own intelligence (the
/// caller has checked the right to write it) or one tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorTarget {
    Mssp,
    Tenant(TenantScope),
}

impl IndicatorTarget {
    #[must_use]
    pub const fn scope(&self) -> IndicatorScope {
        match self {
            Self::Mssp => IndicatorScope::Mssp,
            Self::Tenant(s) => IndicatorScope::Tenant(s.tenant_id()),
        }
    }
}

/// One indicator to insert or update. `value` is normalised
/// ([`IndicatorKind::normalize`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorWrite {
    /// The id it gets if it is new.
    pub id: IndicatorId,
    pub kind: IndicatorKind,
    pub value: String,
    pub confidence: u8,
    /// `None`: the time of the write for a new indicator, unchanged for an
    /// existing one (so a re-import without dates changes nothing).
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub source: String,
    pub tlp: Tlp,
    pub tags: Vec<String>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorCounts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for IndicatorCounts {
    fn add_assign(&mut self, o: Self) {
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// Which indicators to list, by id (oldest first), `limit` at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorQuery {
    /// Only this tenant's indicators (must be within the access) and, unless
    /// `mssp_wide` says otherwise, the MSSP-wide ones.
    pub tenant: Option<TenantId>,
    /// `Some(true)`: only MSSP-wide; `Some(false)`: only tenants' own.
    pub mssp_wide: Option<bool>,
    pub kind: Option<IndicatorKind>,
    /// The normalised value, exactly.
    pub value: Option<String>,
    /// Part of the value (ASCII case-insensitive).
    pub text: Option<String>,
    pub source: Option<String>,
    pub include_revoked: bool,
    /// Only indicators with an id greater than this (the last of the
    /// previous page).
    pub after: Option<IndicatorId>,
    /// At most [`MAX_INDICATOR_PAGE`].
    pub limit: u32,
}

impl Default for IndicatorQuery {
    fn default() -> Self {
        Self {
            tenant: None,
            mssp_wide: None,
            kind: None,
            value: None,
            text: None,
            source: None,
            include_revoked: false,
            after: None,
            limit: 100,
        }
    }
}

/// How often an indicator was sighted in the tenants of an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SightingCount {
    pub indicator_id: IndicatorId,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

#[async_trait]
pub trait IndicatorStore: Send + Sync {
    /// Inserts or updates a batch in one transaction, keyed by (target,
    /// kind, value, source): an existing indicator gets the batch's
    /// confidence, validity, TLP and tags (a revoked one stays revoked).
    /// Within a batch the last of two writes with one key wins. A tenant
    /// target must exist.
    async fn upsert_indicators(
        &self,
        target: &IndicatorTarget,
        batch: &[IndicatorWrite],
        at: Timestamp,
    ) -> StoreResult<IndicatorCounts>;
    /// Indicators visible in `access` (its tenants' and the MSSP-wide
    /// ones) matching the query; `total` counts every match without the
    /// cursor and limit. A `tenant` outside the access gives an empty page.
    async fn list_indicators(
        &self,
        access: &TenantAccess,
        q: &IndicatorQuery,
    ) -> StoreResult<Page<Indicator>>;
    /// How many indicators [`IndicatorStore::list_indicators`] would find.
    async fn count_indicators(&self, access: &TenantAccess, q: &IndicatorQuery)
    -> StoreResult<u64>;
    /// One indicator; `NotFound` when missing or another tenant's.
    async fn find_indicator(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
    ) -> StoreResult<Indicator>;
    /// Revokes a visible indicator (it stops matching when the index is
    /// next built); revoking twice keeps the first time. The caller checks
    /// the right to revoke an MSSP-wide one.
    async fn revoke_indicator(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// A system path, for building the index: indicators live at `now`
    /// (not revoked, `valid_from <= now <= valid_until`) of every scope, by
    /// id, after `after`, at most `limit`.
    async fn live_indicators(
        &self,
        now: Timestamp,
        after: Option<IndicatorId>,
        limit: u32,
    ) -> StoreResult<Vec<Indicator>>;
    /// A system path, for the correlation pipeline: records sightings in
    /// one transaction; one already recorded (same indicator and event) is
    /// a no-op. Returns how many were new.
    async fn record_sightings(&self, sightings: &[Sighting]) -> StoreResult<u64>;
    /// What the indicator index was built from: (0, the latest
    /// `updated_at` of any indicator, 0 when none). An import, an update or
    /// a revocation moves it.
    async fn indicators_stamp(&self) -> StoreResult<(i64, i64)>;
    /// The latest sightings (newest first, at most `limit`) of a visible
    /// indicator in the tenants of `access`; `NotFound` when the indicator
    /// is not visible.
    async fn list_sightings(
        &self,
        access: &TenantAccess,
        id: IndicatorId,
        limit: u32,
    ) -> StoreResult<Vec<Sighting>>;
    /// Sighting counts of the given indicators in the tenants of `access`
    /// (indicators never sighted there are left out).
    async fn sighting_counts(
        &self,
        access: &TenantAccess,
        ids: &[IndicatorId],
    ) -> StoreResult<Vec<SightingCount>>;
}

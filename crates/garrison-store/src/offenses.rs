//! Offenses and the alerts that make them (see `garrison_core::offense`).

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::offense::{
    NewAlert, Offense, OffenseComment, OffenseStatus, Suppression, TriageAction,
};
use garrison_core::{EventId, OffenseId, TenantAccess, TenantId, TenantScope, Timestamp};

use crate::{Page, StoreResult};

/// Offenses listed per page at most.
pub const MAX_OFFENSE_PAGE: u32 = 500;

/// Which offenses to list: newest-highest first (magnitude, then last
/// seen).
#[derive(Debug, Clone, PartialEq)]
pub struct OffenseQuery {
    pub tenant: Option<TenantId>,
    pub status: Option<OffenseStatus>,
    /// Tenths: 70 lists offenses of magnitude 7.0 and more.
    pub min_magnitude_x10: Option<i64>,
    pub limit: u32,
    pub offset: u32,
}

impl Default for OffenseQuery {
    fn default() -> Self {
        Self {
            tenant: None,
            status: None,
            min_magnitude_x10: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// What recording a batch of alerts did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedAlerts {
    /// Alerts recorded now.
    pub new: u64,
    /// Alerts recorded before (a batch delivered again): ignored.
    pub duplicates: u64,
    /// Alerts an active suppression swallowed (counted on it).
    pub suppressed: u64,
    /// Offenses opened by this batch.
    pub opened: Vec<OffenseId>,
    /// Offenses (already open) that grew.
    pub grown: Vec<OffenseId>,
}

/// Storage of offenses and alerts.
#[async_trait]
pub trait OffenseStore: Send + Sync {
    /// Records alerts in one transaction (a system path: the pipeline has
    /// attributed each to its event's tenant). Each alert joins the open
    /// offense of its tenant, detector and key whose last alert is at most
    /// `window_ms` older than it, or opens one; the offense's counts,
    /// first and last seen, assets (capped) and score (part by part the
    /// peak, plus the repetition bonus) follow, and its first
    /// [`garrison_core::offense::OFFENSE_EVENT_LINKS`] events are linked,
    /// with each alert's contributing events (linked, not counted).
    /// Idempotent per event and detector. An alert matching a suppression
    /// of its tenant, detector and key that has not expired at `now` joins
    /// no offense: it is counted on the suppression.
    async fn record_alerts(
        &self,
        alerts: &[NewAlert],
        window_ms: i64,
        now: Timestamp,
    ) -> StoreResult<RecordedAlerts>;
    /// Offenses in `access`, highest magnitude first, then latest.
    async fn list_offenses(
        &self,
        access: &TenantAccess,
        query: &OffenseQuery,
    ) -> StoreResult<Page<Offense>>;
    /// One offense; `NotFound` outside `access`.
    async fn find_offense(&self, access: &TenantAccess, id: OffenseId) -> StoreResult<Offense>;
    /// The events linked to an offense, first first (at most `limit`).
    async fn offense_events(
        &self,
        access: &TenantAccess,
        id: OffenseId,
        limit: u32,
    ) -> StoreResult<Vec<EventId>>;
    /// Applies a triage step to an offense of the scope's tenant, with
    /// its audit record; the offense as it is now.
    async fn triage_offense(
        &self,
        scope: &TenantScope,
        id: OffenseId,
        action: &TriageAction,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<Offense>;
    /// Adds a comment to an offense of the scope's tenant.
    async fn add_offense_comment(
        &self,
        scope: &TenantScope,
        comment: &OffenseComment,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// An offense's comments, oldest first; MSSP-internal ones only when
    /// `internal`.
    async fn offense_comments(
        &self,
        access: &TenantAccess,
        id: OffenseId,
        internal: bool,
    ) -> StoreResult<Vec<OffenseComment>>;
    /// Stores a suppression for the scope's tenant.
    async fn create_suppression(
        &self,
        scope: &TenantScope,
        suppression: &Suppression,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Suppressions in `access` (or one tenant), newest first.
    async fn list_suppressions(
        &self,
        access: &TenantAccess,
        tenant: Option<TenantId>,
    ) -> StoreResult<Vec<Suppression>>;
}

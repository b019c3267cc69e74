//! Event retention: each tenant keeps its events for its own number of
//! days (`event_retention`, [`DEFAULT_EVENT_RETENTION_DAYS`] unless set),
//! and the purge deletes what is older, by the events' `@timestamp`.
//!
//! The binary runs [`App::purge_expired_events`] as the operator from a
//! periodic job (`serve` and `demo` with the `jobs` role: shortly after
//! start, then hourly) and from `garrison events purge`. A tenant's purge
//! that deletes something is audited (`events.purged`, with the days, the
//! cut-off and the count); one that finds nothing old enough is not, so
//! that an hourly job does not fill the audit log. One tenant's failure is
//! reported in the summary and does not stop the others.

use std::num::NonZeroU32;
use std::time::Duration;

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::{Permission, Principal, TenantId, Timestamp};
use serde::Serialize;
use serde_json::json;

pub use garrison_store::events::DEFAULT_EVENT_RETENTION_DAYS;

use crate::{App, AppError, AppResult};

/// The longest retention that can be set (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// What the purge did for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantPurge {
    pub tenant: TenantId,
    pub slug: String,
    /// The tenant's retention in days.
    pub days: u32,
    /// Events older than this (by `@timestamp`) were deleted.
    pub older_than: Timestamp,
    pub purged: u64,
    /// Why the tenant's purge failed (the events it had deleted by then
    /// stay deleted; `purged` does not count them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What one purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeSummary {
    pub tenants: Vec<TenantPurge>,
    /// Events deleted across the tenants.
    pub purged: u64,
    /// Tenants whose purge failed.
    pub failed: usize,
}

fn require(p: &Principal, permission: Permission, why: &'static str) -> AppResult<()> {
    if p.can(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden(why))
    }
}

impl App {
    /// Deletes, for every tenant `p` may see (only `tenant` when given),
    /// the events older than the tenant's retention.
    ///
    /// # Errors
    /// `NotFound` when `tenant` is missing or not visible, `Forbidden`
    /// without [`Permission::TenantSettingsManage`] (the retention is a
    /// tenant setting; the purge only carries it out), or a store failure
    /// listing the tenants. A failure purging one tenant is in its entry.
    pub async fn purge_expired_events(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
    ) -> AppResult<PurgeSummary> {
        let access = match tenant {
            Some(t) => {
                let scope = p.scope(t).ok_or(AppError::NotFound)?;
                self.store.find_tenant(&scope).await?;
                scope.as_access()
            }
            None => p.access(),
        };
        require(
            p,
            Permission::TenantSettingsManage,
            "your role does not allow purging events",
        )?;
        let mut summary = PurgeSummary::default();
        for t in self.store.list_tenants(&access).await? {
            let Some(scope) = p.scope(t.id) else { continue };
            let now = self.clock.now();
            let days = match self.store.event_retention_days(&scope).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(tenant = %t.slug, error = %e, "reading the event retention failed");
                    summary.failed += 1;
                    summary.tenants.push(TenantPurge {
                        tenant: t.id,
                        slug: t.slug,
                        days: 0,
                        older_than: now,
                        purged: 0,
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            let older_than = now.minus(Duration::from_secs(u64::from(days) * 86_400));
            let mut entry = TenantPurge {
                tenant: t.id,
                slug: t.slug,
                days,
                older_than,
                purged: 0,
                error: None,
            };
            match self.store.purge_events(&scope, older_than).await {
                Ok(n) => entry.purged = n,
                Err(e) => entry.error = Some(e.to_string()),
            }
            if entry.purged > 0 {
                let audit = AuditEntry::by(p, self.clock.now(), Action::EventsPurged)
                    .tenant(Some(t.id))
                    .target(format!("tenant:{}", t.id))
                    .details(&json!({
                        "retention_days": days,
                        "older_than": older_than.to_rfc3339(),
                        "purged": entry.purged,
                    }));
                if let Err(e) = self.store.append_audit(&audit).await {
                    // The events are gone all the same; say so loudly.
                    tracing::error!(
                        tenant = %entry.slug, purged = entry.purged, error = %e,
                        "events were purged but the audit record could not be written"
                    );
                    entry
                        .error
                        .get_or_insert_with(|| format!("audit record: {e}"));
                }
                tracing::info!(
                    tenant = %entry.slug, retention_days = days, purged = entry.purged,
                    "purged events past their retention"
                );
            }
            if let Some(e) = &entry.error {
                tracing::warn!(tenant = %entry.slug, error = %e, "purging events failed");
                summary.failed += 1;
            }
            summary.purged += entry.purged;
            summary.tenants.push(entry);
        }
        Ok(summary)
    }

    /// How many days the tenant keeps its events.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn event_retention_days(&self, p: &Principal, tenant: TenantId) -> AppResult<u32> {
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::TenantRead, "your role does not allow this")?;
        Ok(self.store.event_retention_days(&scope).await?)
    }

    /// Sets how many days the tenant keeps its events (1 to
    /// [`MAX_RETENTION_DAYS`]); audited as a tenant update. Older events go
    /// at the next purge.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible, `Forbidden` without
    /// [`Permission::TenantSettingsManage`], `Invalid` outside the range.
    pub async fn set_event_retention_days(
        &self,
        p: &Principal,
        tenant: TenantId,
        days: u32,
    ) -> AppResult<()> {
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        self.store.find_tenant(&scope).await?;
        require(
            p,
            Permission::TenantSettingsManage,
            "your role does not allow changing the event retention",
        )?;
        let valid = NonZeroU32::new(days).filter(|d| d.get() <= MAX_RETENTION_DAYS);
        let Some(days) = valid else {
            return Err(AppError::invalid(
                "days",
                format!("the event retention is 1 to {MAX_RETENTION_DAYS} days"),
            ));
        };
        let now = self.clock.now();
        let audit = AuditEntry::by(p, now, Action::TenantUpdated)
            .tenant(Some(tenant))
            .target(format!("tenant:{tenant}"))
            .details(&json!({ "event_retention_days": days.get() }));
        Ok(self
            .store
            .set_event_retention_days(&scope, days, now, &audit)
            .await?)
    }
}

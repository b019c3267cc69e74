//! Offenses for people: the analyst queue across the tenants a principal
//! sees, and one offense with its events.

use std::time::Duration;

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::event::Event;
use garrison_core::offense::{
    MAX_COMMENT_BYTES, MAX_SUPPRESSION_DAYS, Offense, OffenseComment, Resolution, Suppression,
    TriageAction,
};
use garrison_core::{OffenseId, Permission, Principal, SuppressionId, TenantId, UserId};
use garrison_store::{OffenseQuery, Page};
use serde_json::json;

use crate::admin::require;
use crate::{App, AppError, AppResult};

/// Events an offense page shows at most (the first ones).
pub const OFFENSE_PAGE_EVENTS: u32 = 100;

/// An offense with the events linked to it.
#[derive(Debug, Clone)]
pub struct OffenseDetail {
    pub offense: Offense,
    /// The first events, oldest first.
    pub events: Vec<Event>,
    /// Comments the principal may read (MSSP staff: all; customers: the
    /// shared ones), oldest first.
    pub comments: Vec<OffenseComment>,
    /// Suppressions made from this offense.
    pub suppressions: Vec<Suppression>,
}

/// How an analyst closes an offense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub resolution: Resolution,
    pub reason: String,
    /// For a false positive: suppress this detector for this key for so
    /// many days (counted, not lost).
    pub suppress_days: Option<u32>,
}

fn reason_text(field: &'static str, s: &str) -> AppResult<String> {
    bounded_text(field, s, Some("say why"))
}

/// Text people write (reasons, comments) trimmed and at most
/// [`MAX_COMMENT_BYTES`]; empty text is refused with `if_empty` when given.
pub(crate) fn bounded_text(
    field: &'static str,
    s: &str,
    if_empty: Option<&'static str>,
) -> AppResult<String> {
    let s = s.trim();
    if let Some(why) = if_empty.filter(|_| s.is_empty()) {
        return Err(AppError::invalid(field, why));
    }
    if s.len() > MAX_COMMENT_BYTES {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_COMMENT_BYTES} bytes"),
        ));
    }
    Ok(s.to_owned())
}

impl App {
    /// Offenses in the principal's tenants (or the one named), highest
    /// magnitude first.
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::OffenseRead`].
    pub async fn list_offenses(&self, p: &Principal, q: &OffenseQuery) -> AppResult<Page<Offense>> {
        if let Some(t) = q.tenant {
            let scope = crate::admin::scope(p, t)?;
            self.store.find_tenant(&scope).await?;
        }
        require(p, Permission::OffenseRead)?;
        Ok(self.store.list_offenses(&p.access(), q).await?)
    }

    /// One offense and its first events.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible; `Forbidden` without
    /// [`Permission::OffenseRead`].
    pub async fn offense(&self, p: &Principal, id: OffenseId) -> AppResult<OffenseDetail> {
        let access = p.access();
        let offense = self.store.find_offense(&access, id).await?;
        require(p, Permission::OffenseRead)?;
        let ids = self
            .store
            .offense_events(&access, id, OFFENSE_PAGE_EVENTS)
            .await?;
        let mut events = Vec::with_capacity(ids.len());
        for e in ids {
            // An event purged by retention leaves its alert behind.
            match self.store.get_event(&access, e).await {
                Ok(ev) => events.push(ev),
                Err(garrison_store::StoreError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let comments = self
            .store
            .offense_comments(&access, id, p.role().is_mssp())
            .await?;
        let suppressions = self
            .store
            .list_suppressions(&access, Some(offense.tenant_id))
            .await?
            .into_iter()
            .filter(|s| s.offense_id == Some(id))
            .collect();
        Ok(OffenseDetail {
            offense,
            events,
            comments,
            suppressions,
        })
    }

    /// An offense the principal may triage, and its tenant's scope.
    async fn triageable(
        &self,
        p: &Principal,
        id: OffenseId,
    ) -> AppResult<(Offense, garrison_core::TenantScope)> {
        let offense = self.store.find_offense(&p.access(), id).await?;
        require(p, Permission::OffenseTriage)?;
        let scope = crate::admin::scope(p, offense.tenant_id)?;
        Ok((offense, scope))
    }

    async fn triage(
        &self,
        p: &Principal,
        id: OffenseId,
        action: TriageAction,
        audit: Action,
        details: serde_json::Value,
    ) -> AppResult<Offense> {
        let (offense, scope) = self.triageable(p, id).await?;
        let now = self.clock.now();
        let entry = AuditEntry::by(p, now, audit)
            .tenant(Some(offense.tenant_id))
            .target(format!("offense:{id}"))
            .details(&details);
        Ok(self
            .store
            .triage_offense(&scope, id, &action, now, &entry)
            .await?)
    }

    /// Assigns an offense to an MSSP analyst (or to nobody).
    ///
    /// # Errors
    /// `NotFound` for an offense the principal does not see; `Forbidden`
    /// without [`Permission::OffenseTriage`]; `Invalid` naming `user` when
    /// the assignee cannot triage offenses.
    pub async fn assign_offense(
        &self,
        p: &Principal,
        id: OffenseId,
        user: Option<UserId>,
    ) -> AppResult<Offense> {
        self.triageable(p, id).await?;
        if let Some(u) = user {
            // Staff are not a tenant's data: looked up as the platform.
            let staff = self
                .store
                .find_user(&Principal::system("triage").access(), u)
                .await
                .map_err(|_| AppError::invalid("user", "no such user"))?;
            if !staff.role.can(Permission::OffenseTriage) || staff.is_disabled {
                return Err(AppError::invalid(
                    "user",
                    "offenses are assigned to MSSP analysts and admins",
                ));
            }
        }
        self.triage(
            p,
            id,
            TriageAction::Assign(user),
            Action::OffenseAssigned,
            json!({ "assignee": user.map(|u| u.to_string()) }),
        )
        .await
    }

    /// Closes an offense; a false positive may suppress its detector for
    /// its key for some days.
    ///
    /// # Errors
    /// As [`App::assign_offense`]; `Invalid` naming `reason` or
    /// `suppress_days`.
    pub async fn close_offense(
        &self,
        p: &Principal,
        id: OffenseId,
        closing: &Closing,
    ) -> AppResult<Offense> {
        let reason = reason_text("reason", &closing.reason)?;
        let (offense, scope) = self.triageable(p, id).await?;
        if let Some(days) = closing.suppress_days {
            if closing.resolution != Resolution::FalsePositive {
                return Err(AppError::invalid(
                    "suppress_days",
                    "only a false positive is suppressed",
                ));
            }
            if days == 0 || days > MAX_SUPPRESSION_DAYS {
                return Err(AppError::invalid(
                    "suppress_days",
                    format!("from 1 to {MAX_SUPPRESSION_DAYS} days"),
                ));
            }
        }
        let closed = self
            .triage(
                p,
                id,
                TriageAction::Close {
                    resolution: closing.resolution,
                    reason: reason.clone(),
                },
                Action::OffenseClosed,
                json!({ "resolution": closing.resolution.as_str(), "reason": reason }),
            )
            .await?;
        if let Some(days) = closing.suppress_days {
            let now = self.clock.now();
            let sup = Suppression {
                id: SuppressionId::new(),
                tenant_id: offense.tenant_id,
                detector_kind: offense.detector.kind,
                detector_key: offense.detector.key.clone(),
                key: offense.key.clone(),
                reason: reason.clone(),
                offense_id: Some(id),
                created_by: p.user_id(),
                created_at: now,
                expires_at: now.plus(Duration::from_secs(u64::from(days) * 86_400)),
                suppressed: 0,
                last_suppressed_at: None,
            };
            let entry = AuditEntry::by(p, now, Action::SuppressionCreated)
                .tenant(Some(offense.tenant_id))
                .target(format!("suppression:{}", sup.id))
                .details(&json!({
                    "offense": id.to_string(),
                    "detector": offense.detector.key,
                    "key": format!("{}={}", offense.key.field, offense.key.value),
                    "days": days,
                }));
            self.store.create_suppression(&scope, &sup, &entry).await?;
        }
        Ok(closed)
    }

    /// Reopens a closed offense.
    ///
    /// # Errors
    /// As [`App::assign_offense`].
    pub async fn reopen_offense(&self, p: &Principal, id: OffenseId) -> AppResult<Offense> {
        self.triage(
            p,
            id,
            TriageAction::Reopen,
            Action::OffenseReopened,
            json!({}),
        )
        .await
    }

    /// Records that the offense should be escalated to the customer (a
    /// ticket, once tickets exist).
    ///
    /// # Errors
    /// As [`App::assign_offense`]; `Invalid` naming `reason`.
    pub async fn request_escalation(
        &self,
        p: &Principal,
        id: OffenseId,
        reason: &str,
    ) -> AppResult<Offense> {
        let reason = reason_text("reason", reason)?;
        self.triage(
            p,
            id,
            TriageAction::RequestEscalation {
                reason: reason.clone(),
            },
            Action::OffenseEscalationRequested,
            json!({ "reason": reason }),
        )
        .await
    }

    /// Adds a comment: MSSP-internal, or shared with the tenant.
    ///
    /// # Errors
    /// As [`App::assign_offense`]; `Invalid` naming `body`.
    pub async fn comment_offense(
        &self,
        p: &Principal,
        id: OffenseId,
        body: &str,
        shared: bool,
    ) -> AppResult<OffenseComment> {
        let body = reason_text("body", body)?;
        let (offense, scope) = self.triageable(p, id).await?;
        let now = self.clock.now();
        let comment = OffenseComment {
            id: garrison_core::ids::CommentId::new(),
            offense_id: id,
            tenant_id: offense.tenant_id,
            author_id: p.user_id(),
            author: p.label().to_owned(),
            body,
            shared,
            created_at: now,
        };
        let entry = AuditEntry::by(p, now, Action::OffenseCommented)
            .tenant(Some(offense.tenant_id))
            .target(format!("offense:{id}"))
            .details(&json!({ "shared": shared }));
        self.store
            .add_offense_comment(&scope, &comment, &entry)
            .await?;
        Ok(comment)
    }

    /// Suppressions in the principal's tenants (or one).
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::OffenseRead`].
    pub async fn list_suppressions(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
    ) -> AppResult<Vec<Suppression>> {
        if let Some(t) = tenant {
            let scope = crate::admin::scope(p, t)?;
            self.store.find_tenant(&scope).await?;
        }
        require(p, Permission::OffenseRead)?;
        Ok(self.store.list_suppressions(&p.access(), tenant).await?)
    }

    /// The tenant's magnitude weights (the defaults unless it set its own).
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see.
    pub async fn magnitude_weights(
        &self,
        p: &Principal,
        tenant: TenantId,
    ) -> AppResult<garrison_core::offense::Weights> {
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::OffenseRead)?;
        Ok(self
            .store
            .magnitude_weights(&p.access())
            .await?
            .into_iter()
            .find(|(t, _)| *t == tenant)
            .map(|(_, w)| w)
            .unwrap_or_default())
    }

    /// Sets how much severity, credibility and relevance weigh in the
    /// tenant's offense magnitudes (each 0 to 10, not all 0). New alerts
    /// use them within seconds; open offenses are re-scored as alerts
    /// join them.
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::TenantSettingsManage`]; `Invalid` naming
    /// `weights`.
    pub async fn set_magnitude_weights(
        &self,
        p: &Principal,
        tenant: TenantId,
        weights: garrison_core::offense::Weights,
    ) -> AppResult<garrison_core::offense::Weights> {
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::TenantSettingsManage)?;
        if !weights.is_valid()
            || weights.severity > 10
            || weights.credibility > 10
            || weights.relevance > 10
        {
            return Err(AppError::invalid(
                "weights",
                "each weight from 0 to 10, not all 0",
            ));
        }
        let now = self.clock.now();
        let entry = AuditEntry::by(p, now, Action::TenantUpdated)
            .tenant(Some(tenant))
            .target(format!("tenant:{tenant}:magnitude-weights"))
            .details(&json!({
                "severity": weights.severity,
                "credibility": weights.credibility,
                "relevance": weights.relevance,
            }));
        self.store
            .set_magnitude_weights(&scope, weights, now, &entry)
            .await?;
        Ok(weights)
    }
}

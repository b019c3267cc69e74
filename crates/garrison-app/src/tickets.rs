//! Tickets for people: escalating an offense opens its ticket; the
//! workflow of `garrison_core::ticket` decides who may move it where.

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::offense::Offense;
use garrison_core::sla::{ClockKind, ClockState, Contract, default_business_calendar};
use garrison_core::ticket::{
    Actor, OwnerPlan, Refusal, Status, Ticket, TicketChange, TicketComment, TicketType, check,
    derive_priority,
};
use garrison_core::{
    OffenseId, Permission, Principal, Role, TicketChangeId, TicketCommentId, TicketId,
};
use garrison_store::{Page, StoreError, TicketQuery};
use serde_json::json;

use crate::admin::require;
use crate::{App, AppError, AppResult};

/// Longest ticket title kept (an offense's title is cut to it).
pub const MAX_TITLE_CHARS: usize = 200;

/// A ticket with its status changes, oldest first, and its SLA clocks.
#[derive(Debug, Clone)]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub changes: Vec<TicketChange>,
    pub clocks: Vec<(ClockKind, ClockState)>,
    /// Comments the principal may read (MSSP staff: all; customers: the
    /// shared ones), oldest first.
    pub comments: Vec<TicketComment>,
}

fn refusal(e: Refusal, to: Status, role: Role) -> AppError {
    match e {
        Refusal::NotAStep { .. } => AppError::invalid("to", e.to_string()),
        Refusal::ReasonNeeded(_) => AppError::invalid("reason", e.to_string()),
        Refusal::NotYours { .. } if role == Role::CustomerViewer => {
            AppError::Forbidden("viewers read tickets; they do not change them")
        }
        Refusal::NotYours { .. } if to == Status::Closed => {
            AppError::Forbidden("closing belongs to the role the ticket's owner plan names")
        }
        Refusal::NotYours { .. } => {
            AppError::Forbidden("the ticket's owner plan does not give this step to your role")
        }
    }
}

/// The ticket an offense opens.
fn from_offense(
    o: &Offense,
    plan: OwnerPlan,
    reason: &str,
    p: &Principal,
    now: garrison_core::Timestamp,
) -> Ticket {
    let title: String = o.detector.title.chars().take(MAX_TITLE_CHARS).collect();
    let mut ticket = Ticket {
        id: TicketId::new(),
        tenant_id: o.tenant_id,
        ticket_type: TicketType::SecurityIncident,
        title,
        description: format!(
            "Escalated from offense {} ({} = {}, {} events, magnitude {:.1}): {reason}",
            o.id, o.key.field, o.key.value, o.event_count, o.breakdown.magnitude
        ),
        priority: derive_priority(o.breakdown.magnitude, None),
        priority_reason: None,
        status: Status::New,
        plan,
        offense_id: Some(o.id),
        milestones: garrison_core::ticket::Milestones::default(),
        created_by: p.user_id(),
        created_at: now,
        updated_at: now,
    };
    ticket.milestones.detected = Some(o.first_seen);
    ticket
}

impl App {
    /// Escalates an offense to its customer: records the request on the
    /// offense and opens its ticket (a security incident, priority from
    /// the magnitude); the existing ticket when the offense has one.
    ///
    /// # Errors
    /// As [`App::request_escalation`].
    pub async fn escalate_offense(
        &self,
        p: &Principal,
        id: OffenseId,
        reason: &str,
    ) -> AppResult<Ticket> {
        let offense = self.request_escalation(p, id, reason).await?;
        let access = p.access();
        if let Some(t) = self.store.ticket_for_offense(&access, id).await? {
            return Ok(t);
        }
        let scope = crate::admin::scope(p, offense.tenant_id)?;
        let now = self.clock.now();
        let plan = self
            .plan_for(p, offense.tenant_id, TicketType::SecurityIncident)
            .await?;
        let ticket = from_offense(&offense, plan, reason.trim(), p, now);
        let entry = AuditEntry::by(p, now, Action::TicketOpened)
            .tenant(Some(offense.tenant_id))
            .target(format!("ticket:{}", ticket.id))
            .details(&json!({
                "offense": id.to_string(),
                "priority": ticket.priority.as_str(),
                "type": ticket.ticket_type.as_str(),
            }));
        match self.store.create_ticket(&scope, &ticket, &entry).await {
            Ok(()) => Ok(ticket),
            // Escalated twice at once: the other request opened it.
            Err(StoreError::Conflict(_)) => self
                .store
                .ticket_for_offense(&access, id)
                .await?
                .ok_or(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The tenant's plan for a ticket type: its own, else the seeded one.
    async fn plan_for(
        &self,
        p: &Principal,
        tenant: garrison_core::TenantId,
        t: TicketType,
    ) -> AppResult<OwnerPlan> {
        Ok(self
            .store
            .ticket_plans(&p.access(), tenant)
            .await?
            .into_iter()
            .find(|(ty, _)| *ty == t)
            .map_or_else(|| OwnerPlan::seeded(t), |(_, plan)| plan))
    }

    /// The owner plan of every ticket type for a tenant, and whether it is
    /// the tenant's own (else the seeded one).
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see.
    pub async fn ticket_plans(
        &self,
        p: &Principal,
        tenant: garrison_core::TenantId,
    ) -> AppResult<Vec<(TicketType, OwnerPlan, bool)>> {
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::OffenseRead)?;
        let own = self.store.ticket_plans(&p.access(), tenant).await?;
        Ok(TicketType::ALL
            .iter()
            .map(|&t| match own.iter().find(|(ty, _)| *ty == t) {
                Some((_, plan)) => (t, plan.clone(), true),
                None => (t, OwnerPlan::seeded(t), false),
            })
            .collect())
    }

    /// Sets a tenant's owner plan for a ticket type (the customer's admin
    /// with the MSSP's admin); tickets already open keep theirs.
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::TenantSettingsManage`]; `Invalid` naming the
    /// duty given to a viewer.
    pub async fn set_ticket_plan(
        &self,
        p: &Principal,
        tenant: garrison_core::TenantId,
        t: TicketType,
        plan: &OwnerPlan,
    ) -> AppResult<()> {
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::TenantSettingsManage)?;
        plan.validate()?;
        let now = self.clock.now();
        let entry = AuditEntry::by(p, now, Action::TicketPlanChanged)
            .tenant(Some(tenant))
            .target(format!("ticket-plan:{t}"))
            .details(&json!({
                "research": plan.research.as_str(),
                "remediate": plan.remediate.as_str(),
                "approve_closure": plan.approve_closure.as_str(),
                "informed": plan.informed.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            }));
        self.store
            .set_ticket_plan(&scope, t, plan, now, &entry)
            .await?;
        Ok(())
    }

    /// Tickets in the principal's tenants (or the one named), P1 first.
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see.
    pub async fn list_tickets(&self, p: &Principal, q: &TicketQuery) -> AppResult<Page<Ticket>> {
        if let Some(t) = q.tenant {
            let scope = crate::admin::scope(p, t)?;
            self.store.find_tenant(&scope).await?;
        }
        require(p, Permission::OffenseRead)?;
        Ok(self.store.list_tickets(&p.access(), q).await?)
    }

    /// One ticket with its history.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn ticket(&self, p: &Principal, id: TicketId) -> AppResult<TicketDetail> {
        let access = p.access();
        let ticket = self.store.find_ticket(&access, id).await?;
        require(p, Permission::OffenseRead)?;
        let changes = self.store.ticket_changes(&access, id).await?;
        let clocks = self.clocks_of(&ticket, &changes);
        let comments = self
            .store
            .ticket_comments(&access, id, p.role().is_mssp())
            .await?;
        Ok(TicketDetail {
            ticket,
            changes,
            clocks,
            comments,
        })
    }

    /// Comments on a ticket: the customer's people always share theirs;
    /// MSSP staff choose (internal ones are never shown to the customer).
    /// The MSSP's first shared comment is its first response.
    ///
    /// # Errors
    /// `NotFound` when not visible; `Forbidden` for a customer viewer;
    /// `Invalid` naming `body`.
    pub async fn comment_ticket(
        &self,
        p: &Principal,
        id: TicketId,
        body: &str,
        shared: bool,
    ) -> AppResult<TicketComment> {
        let ticket = self.store.find_ticket(&p.access(), id).await?;
        if p.role() == Role::CustomerViewer {
            return Err(AppError::Forbidden(
                "viewers read tickets; they do not change them",
            ));
        }
        let body = crate::offenses::bounded_text("body", body, Some("write something"))?;
        let shared = shared || !p.role().is_mssp();
        let scope = crate::admin::scope(p, ticket.tenant_id)?;
        let now = self.clock.now();
        let comment = TicketComment {
            id: TicketCommentId::new(),
            ticket_id: id,
            tenant_id: ticket.tenant_id,
            author_id: p.user_id(),
            author: p.label().to_owned(),
            body,
            shared,
            created_at: now,
        };
        let milestones = (shared
            && p.role().is_mssp()
            && ticket.milestones.first_response.is_none())
        .then(|| {
            let mut m = ticket.milestones;
            m.note_shared_comment(now);
            m
        });
        let entry = AuditEntry::by(p, now, Action::TicketCommented)
            .tenant(Some(ticket.tenant_id))
            .target(format!("ticket:{id}"))
            .details(&json!({ "shared": shared }));
        self.store
            .add_ticket_comment(&scope, &comment, milestones.as_ref(), &entry)
            .await?;
        Ok(comment)
    }

    /// A ticket's SLA clocks now, under the documented default contract
    /// and business calendar (`docs/sla.md`; per-tenant contracts are
    /// the next step).
    #[must_use]
    pub fn clocks_of(
        &self,
        ticket: &Ticket,
        changes: &[TicketChange],
    ) -> Vec<(ClockKind, ClockState)> {
        garrison_core::ticket::clocks(
            ticket,
            changes,
            &Contract::default(),
            &default_business_calendar(),
            self.clock.now(),
        )
    }

    /// The SLA clocks of a listed ticket (its changes read for the
    /// pauses).
    ///
    /// # Errors
    /// `NotFound` when not visible.
    pub async fn ticket_clocks(
        &self,
        p: &Principal,
        ticket: &Ticket,
    ) -> AppResult<Vec<(ClockKind, ClockState)>> {
        let changes = self.store.ticket_changes(&p.access(), ticket.id).await?;
        Ok(self.clocks_of(ticket, &changes))
    }

    /// Moves a ticket to `to`, as the ticket's owner plan allows the
    /// principal's role, with the reason recorded.
    ///
    /// # Errors
    /// `NotFound` when not visible; `Forbidden` when the plan does not
    /// give the step to the role; `Invalid` naming `to` (not a step) or
    /// `reason`; `Conflict` when someone moved it meanwhile.
    pub async fn move_ticket(
        &self,
        p: &Principal,
        id: TicketId,
        to: Status,
        reason: &str,
    ) -> AppResult<Ticket> {
        let ticket = self.store.find_ticket(&p.access(), id).await?;
        let reason = crate::offenses::bounded_text("reason", reason, None)?;
        check(
            &ticket.plan,
            ticket.status,
            to,
            Actor::User(p.role()),
            &reason,
        )
        .map_err(|e| refusal(e, to, p.role()))?;
        let scope = crate::admin::scope(p, ticket.tenant_id)?;
        let now = self.clock.now();
        let mut milestones = ticket.milestones;
        milestones.note(to, now);
        // Moves and their reasons are shown to the customer: the MSSP's
        // first move with a reason is its first response.
        if !reason.is_empty() && p.role().is_mssp() {
            milestones.note_shared_comment(now);
        }
        let change = TicketChange {
            id: TicketChangeId::new(),
            ticket_id: id,
            tenant_id: ticket.tenant_id,
            from: ticket.status,
            to,
            actor_id: p.user_id(),
            actor: p.label().to_owned(),
            reason: reason.clone(),
            at: now,
        };
        let entry = AuditEntry::by(p, now, Action::TicketStatusChanged)
            .tenant(Some(ticket.tenant_id))
            .target(format!("ticket:{id}"))
            .details(&json!({
                "from": ticket.status.as_str(),
                "to": to.as_str(),
                "reason": reason,
            }));
        match self
            .store
            .change_ticket_status(&scope, &change, &milestones, &entry)
            .await
        {
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(format!(
                "the ticket is no longer {}: reload it",
                ticket.status
            ))),
            other => Ok(other?),
        }
    }
}

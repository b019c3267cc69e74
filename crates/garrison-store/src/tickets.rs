//! Tickets and their status changes (see `garrison_core::ticket`).

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::ticket::{
    Milestones, OwnerPlan, Ticket, TicketChange, TicketComment, TicketType,
};
use garrison_core::{OffenseId, TenantAccess, TenantId, TenantScope, TicketId};

use crate::{Page, StoreResult};

/// Tickets listed per page at most.
pub const MAX_TICKET_PAGE: u32 = 500;

/// Which tickets to list: highest priority first, then oldest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketQuery {
    pub tenant: Option<TenantId>,
    /// Leave closed tickets out.
    pub open_only: bool,
    pub limit: u32,
    pub offset: u32,
}

impl Default for TicketQuery {
    fn default() -> Self {
        Self {
            tenant: None,
            open_only: true,
            limit: 50,
            offset: 0,
        }
    }
}

/// Storage of tickets.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Opens a ticket of the scope's tenant with its audit record;
    /// `Conflict("offense")` when its offense already has a ticket.
    async fn create_ticket(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// One ticket; `NotFound` outside `access`.
    async fn find_ticket(&self, access: &TenantAccess, id: TicketId) -> StoreResult<Ticket>;
    /// The ticket an offense was escalated to, if any (within `access`).
    async fn ticket_for_offense(
        &self,
        access: &TenantAccess,
        offense: OffenseId,
    ) -> StoreResult<Option<Ticket>>;
    /// Tickets in `access`, P1 first, then oldest first.
    async fn list_tickets(
        &self,
        access: &TenantAccess,
        query: &TicketQuery,
    ) -> StoreResult<Page<Ticket>>;
    /// Records a status change of a ticket of the scope's tenant (with the
    /// milestones as they now are, and its audit record) when the ticket
    /// is still in `change.from`, else `Conflict("status")` (someone moved
    /// it meanwhile); the ticket as it is now.
    async fn change_ticket_status(
        &self,
        scope: &TenantScope,
        change: &TicketChange,
        milestones: &Milestones,
        audit: &AuditEntry,
    ) -> StoreResult<Ticket>;
    /// Adds a comment to a ticket of the scope's tenant, with the
    /// ticket's milestones as they now are (a first response) when given,
    /// and its audit record.
    async fn add_ticket_comment(
        &self,
        scope: &TenantScope,
        comment: &TicketComment,
        milestones: Option<&Milestones>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// A ticket's comments, oldest first; MSSP-internal ones only when
    /// `internal`.
    async fn ticket_comments(
        &self,
        access: &TenantAccess,
        id: TicketId,
        internal: bool,
    ) -> StoreResult<Vec<TicketComment>>;
    /// The owner plans a tenant has set (types left at the seeded plan
    /// are not listed); `NotFound` for a tenant outside `access`.
    async fn ticket_plans(
        &self,
        access: &TenantAccess,
        tenant: TenantId,
    ) -> StoreResult<Vec<(TicketType, OwnerPlan)>>;
    /// Sets the scope's tenant's plan for a ticket type, with its audit
    /// record.
    async fn set_ticket_plan(
        &self,
        scope: &TenantScope,
        ticket_type: TicketType,
        plan: &OwnerPlan,
        at: garrison_core::Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// A ticket's status changes, oldest first.
    async fn ticket_changes(
        &self,
        access: &TenantAccess,
        id: TicketId,
    ) -> StoreResult<Vec<TicketChange>>;
}

//! Tickets and their status changes in SQL (`tickets`, `ticket_changes`;
//! migration 0011). A status change is a compare-and-set on the status
//! (`UPDATE ... WHERE status = from`) with its change row and audit record
//! in one transaction, so two people moving a ticket at once cannot both
//! win.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::ticket::{
    Milestones, OwnerPlan, Ticket, TicketChange, TicketComment, TicketType,
};
use garrison_core::{OffenseId, TenantAccess, TenantId, TenantScope, TicketId};
use garrison_store::{MAX_TICKET_PAGE, Page, StoreError, StoreResult, TicketQuery, TicketStore};
use sqlx::any::AnyRow;

use crate::binds::Binds;
use crate::row::{flag, from_json, int, opt_parse, opt_text, opt_ts, parse, text, ts};
use crate::{SqlStore, db_err, safe};

const TICKET_COLUMNS: &str = "id, tenant_id, ticket_type, title, description, priority, \
    priority_reason, status, plan, offense_id, detected_at, acknowledged_at, \
    first_response_at, resolved_at, closed_at, created_by, created_at, updated_at";

const COMMENT_COLUMNS: &str =
    "id, ticket_id, tenant_id, author_id, author, body, shared, created_at";

const CHANGE_COLUMNS: &str =
    "id, ticket_id, tenant_id, from_status, to_status, actor_id, actor, reason, at";

fn ticket_row(row: &AnyRow) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        ticket_type: parse(row, "ticket_type")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        priority: parse(row, "priority")?,
        priority_reason: opt_text(row, "priority_reason")?,
        status: parse(row, "status")?,
        plan: from_json(row, "plan")?,
        offense_id: opt_parse(row, "offense_id")?,
        milestones: Milestones {
            detected: opt_ts(row, "detected_at")?,
            acknowledged: opt_ts(row, "acknowledged_at")?,
            first_response: opt_ts(row, "first_response_at")?,
            resolved: opt_ts(row, "resolved_at")?,
            closed: opt_ts(row, "closed_at")?,
        },
        created_by: opt_parse(row, "created_by")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn change_row(row: &AnyRow) -> StoreResult<TicketChange> {
    Ok(TicketChange {
        id: parse(row, "id")?,
        ticket_id: parse(row, "ticket_id")?,
        tenant_id: parse(row, "tenant_id")?,
        from: parse(row, "from_status")?,
        to: parse(row, "to_status")?,
        actor_id: opt_parse(row, "actor_id")?,
        actor: text(row, "actor")?,
        reason: text(row, "reason")?,
        at: ts(row, "at")?,
    })
}

fn millis(t: Option<garrison_core::Timestamp>) -> Option<i64> {
    t.map(garrison_core::Timestamp::as_millis)
}

#[async_trait]
impl TicketStore for SqlStore {
    async fn create_ticket(
        &self,
        scope: &TenantScope,
        t: &Ticket,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        if t.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let plan =
            serde_json::to_string(&t.plan).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        if let Some(o) = t.offense_id {
            // The offense must be the tenant's; one ticket per offense.
            let found = sqlx::query("SELECT id FROM offenses WHERE id = $1 AND tenant_id = $2")
                .bind(o.to_string())
                .bind(t.tenant_id.to_string())
                .fetch_optional(tx.conn())
                .await
                .map_err(db_err)?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            let taken = sqlx::query("SELECT id FROM tickets WHERE offense_id = $1")
                .bind(o.to_string())
                .fetch_optional(tx.conn())
                .await
                .map_err(db_err)?;
            if taken.is_some() {
                return Err(StoreError::Conflict("offense"));
            }
        }
        let m = &t.milestones;
        sqlx::query(safe(format!(
            "INSERT INTO tickets ({TICKET_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        )))
        .bind(t.id.to_string())
        .bind(t.tenant_id.to_string())
        .bind(t.ticket_type.as_str())
        .bind(t.title.clone())
        .bind(t.description.clone())
        .bind(t.priority.as_str())
        .bind(t.priority_reason.clone())
        .bind(t.status.as_str())
        .bind(plan)
        .bind(t.offense_id.map(|o| o.to_string()))
        .bind(millis(m.detected))
        .bind(millis(m.acknowledged))
        .bind(millis(m.first_response))
        .bind(millis(m.resolved))
        .bind(millis(m.closed))
        .bind(t.created_by.map(|u| u.to_string()))
        .bind(t.created_at.as_millis())
        .bind(t.updated_at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict("offense"),
            other => other,
        })?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_ticket(&self, access: &TenantAccess, id: TicketId) -> StoreResult<Ticket> {
        let row = sqlx::query(safe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let t = ticket_row(&row)?;
        if !access.allows(t.tenant_id) {
            return Err(StoreError::NotFound);
        }
        Ok(t)
    }

    async fn ticket_for_offense(
        &self,
        access: &TenantAccess,
        offense: OffenseId,
    ) -> StoreResult<Option<Ticket>> {
        let row = sqlx::query(safe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE offense_id = $1"
        )))
        .bind(offense.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        match row {
            Some(r) => {
                let t = ticket_row(&r)?;
                Ok(access.allows(t.tenant_id).then_some(t))
            }
            None => Ok(None),
        }
    }

    async fn list_tickets(
        &self,
        access: &TenantAccess,
        query: &TicketQuery,
    ) -> StoreResult<Page<Ticket>> {
        let mut b = Binds::default();
        let Some(mut wh) = b.access(access, "tenant_id", query.tenant) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        if query.open_only {
            wh.push_str(&format!(" AND status <> {}", b.text("closed")));
        }
        let total = b
            .apply(sqlx::query(safe(format!(
                "SELECT COUNT(*) AS n FROM tickets WHERE 1 = 1{wh}"
            ))))
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        let total = u64::try_from(int(&total, "n")?).unwrap_or(0);
        let limit = i64::from(query.limit.clamp(1, MAX_TICKET_PAGE));
        let offset = i64::from(query.offset);
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE 1 = 1{wh} \
             ORDER BY priority, created_at, id LIMIT {} OFFSET {}",
            b.int(limit),
            b.int(offset)
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(ticket_row).collect::<StoreResult<_>>()?,
            total,
        })
    }

    async fn change_ticket_status(
        &self,
        scope: &TenantScope,
        c: &TicketChange,
        m: &Milestones,
        audit: &AuditEntry,
    ) -> StoreResult<Ticket> {
        if c.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("SELECT status FROM tickets WHERE id = $1 AND tenant_id = $2")
            .bind(c.ticket_id.to_string())
            .bind(c.tenant_id.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        if text(&found, "status")? != c.from.as_str() {
            return Err(StoreError::Conflict("status"));
        }
        let updated = sqlx::query(
            "UPDATE tickets SET status = $1, acknowledged_at = $2, first_response_at = $3, \
             resolved_at = $4, closed_at = $5, updated_at = $6 \
             WHERE id = $7 AND tenant_id = $8 AND status = $9",
        )
        .bind(c.to.as_str())
        .bind(millis(m.acknowledged))
        .bind(millis(m.first_response))
        .bind(millis(m.resolved))
        .bind(millis(m.closed))
        .bind(c.at.as_millis())
        .bind(c.ticket_id.to_string())
        .bind(c.tenant_id.to_string())
        .bind(c.from.as_str())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict("status"));
        }
        sqlx::query(safe(format!(
            "INSERT INTO ticket_changes ({CHANGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(c.id.to_string())
        .bind(c.ticket_id.to_string())
        .bind(c.tenant_id.to_string())
        .bind(c.from.as_str())
        .bind(c.to.as_str())
        .bind(c.actor_id.map(|u| u.to_string()))
        .bind(c.actor.clone())
        .bind(c.reason.clone())
        .bind(c.at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        let row = sqlx::query(safe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"
        )))
        .bind(c.ticket_id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(db_err)?;
        let t = ticket_row(&row)?;
        tx.commit().await?;
        Ok(t)
    }

    async fn add_ticket_comment(
        &self,
        scope: &TenantScope,
        c: &TicketComment,
        milestones: Option<&Milestones>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        if c.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("SELECT id FROM tickets WHERE id = $1 AND tenant_id = $2")
            .bind(c.ticket_id.to_string())
            .bind(c.tenant_id.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(safe(format!(
            "INSERT INTO ticket_comments ({COMMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(c.id.to_string())
        .bind(c.ticket_id.to_string())
        .bind(c.tenant_id.to_string())
        .bind(c.author_id.map(|u| u.to_string()))
        .bind(c.author.clone())
        .bind(c.body.clone())
        .bind(i64::from(c.shared))
        .bind(c.created_at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if let Some(m) = milestones {
            sqlx::query(
                "UPDATE tickets SET acknowledged_at = $1, first_response_at = $2, updated_at = $3 \
                 WHERE id = $4 AND tenant_id = $5",
            )
            .bind(millis(m.acknowledged))
            .bind(millis(m.first_response))
            .bind(c.created_at.as_millis())
            .bind(c.ticket_id.to_string())
            .bind(c.tenant_id.to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ticket_comments(
        &self,
        access: &TenantAccess,
        id: TicketId,
        internal: bool,
    ) -> StoreResult<Vec<TicketComment>> {
        let t = self.find_ticket(access, id).await?;
        let only_shared = if internal { "" } else { " AND shared = 1" };
        let rows = sqlx::query(safe(format!(
            "SELECT {COMMENT_COLUMNS} FROM ticket_comments WHERE ticket_id = $1 AND tenant_id = $2{only_shared} \
             ORDER BY created_at, id"
        )))
        .bind(t.id.to_string())
        .bind(t.tenant_id.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TicketComment {
                    id: parse(r, "id")?,
                    ticket_id: parse(r, "ticket_id")?,
                    tenant_id: parse(r, "tenant_id")?,
                    author_id: opt_parse(r, "author_id")?,
                    author: text(r, "author")?,
                    body: text(r, "body")?,
                    shared: flag(r, "shared")?,
                    created_at: ts(r, "created_at")?,
                })
            })
            .collect()
    }

    async fn ticket_plans(
        &self,
        access: &TenantAccess,
        tenant: TenantId,
    ) -> StoreResult<Vec<(TicketType, OwnerPlan)>> {
        if !access.allows(tenant) {
            return Err(StoreError::NotFound);
        }
        let rows = sqlx::query(
            "SELECT ticket_type, plan FROM ticket_plans WHERE tenant_id = $1 ORDER BY ticket_type",
        )
        .bind(tenant.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((parse(r, "ticket_type")?, from_json(r, "plan")?)))
            .collect()
    }

    async fn set_ticket_plan(
        &self,
        scope: &TenantScope,
        ticket_type: TicketType,
        plan: &OwnerPlan,
        at: garrison_core::Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(plan).map_err(|e| StoreError::Backend(e.to_string()))?;
        let tenant = scope.tenant_id().to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM ticket_plans WHERE tenant_id = $1 AND ticket_type = $2")
            .bind(tenant.clone())
            .bind(ticket_type.as_str())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO ticket_plans (tenant_id, ticket_type, plan, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(ticket_type.as_str())
        .bind(json)
        .bind(at.as_millis())
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ticket_changes(
        &self,
        access: &TenantAccess,
        id: TicketId,
    ) -> StoreResult<Vec<TicketChange>> {
        let t = self.find_ticket(access, id).await?;
        let rows = sqlx::query(safe(format!(
            "SELECT {CHANGE_COLUMNS} FROM ticket_changes WHERE ticket_id = $1 AND tenant_id = $2 \
             ORDER BY at, id"
        )))
        .bind(t.id.to_string())
        .bind(t.tenant_id.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(change_row).collect()
    }
}

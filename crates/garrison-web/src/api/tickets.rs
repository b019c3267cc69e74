//! The tickets API: the queue (P1 first), one ticket with its history,
//! and moving a ticket along its workflow.

use axum::Json;
use axum::extract::{Path, State};
use garrison_app::AppError;
use garrison_core::sla::{ClockKind, ClockState};
use garrison_core::ticket::{OwnerPlan, Status, Ticket, TicketChange, TicketComment};
use garrison_store::TicketQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::{Body, Params};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

/// Filters for the ticket queue.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TicketParams {
    #[param(format = "uuid")]
    pub tenant: Option<String>,
    /// Closed tickets too (default: open ones only).
    pub all: Option<bool>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl TicketParams {
    fn query(&self) -> Result<TicketQuery, AppError> {
        Ok(TicketQuery {
            tenant: self
                .tenant
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_id)
                .transpose()?,
            open_only: !self.all.unwrap_or(false),
            limit: self
                .limit
                .unwrap_or(50)
                .clamp(1, garrison_store::MAX_TICKET_PAGE),
            offset: self.offset.unwrap_or(0),
        })
    }
}

/// Who does what on the ticket (roles).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDto {
    pub research: String,
    pub remediate: String,
    pub approve_closure: String,
    pub informed: Vec<String>,
}

impl From<OwnerPlan> for PlanDto {
    fn from(p: OwnerPlan) -> Self {
        Self {
            research: p.research.as_str().to_owned(),
            remediate: p.remediate.as_str().to_owned(),
            approve_closure: p.approve_closure.as_str().to_owned(),
            informed: p.informed.iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }
}

/// One SLA clock of a ticket, now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockDto {
    /// acknowledge, first-response or resolve.
    pub clock: String,
    /// running, warning (75 % used), breached, paused (waiting on the
    /// customer), met or met-late.
    pub state: String,
    #[schema(format = "date-time")]
    pub due: Option<String>,
    /// Share of the budget used (working time), when not met.
    pub used_percent: Option<u32>,
    #[schema(format = "date-time")]
    pub met_at: Option<String>,
}

impl From<(ClockKind, ClockState)> for ClockDto {
    fn from((kind, state): (ClockKind, ClockState)) -> Self {
        let (name, due, used, met) = match state {
            ClockState::Running { due, used_percent } => {
                ("running", Some(due), Some(used_percent), None)
            }
            ClockState::Warning { due, used_percent } => {
                ("warning", Some(due), Some(used_percent), None)
            }
            ClockState::Breached { due, used_percent } => {
                ("breached", Some(due), Some(used_percent), None)
            }
            ClockState::Paused { used_percent } => ("paused", None, Some(used_percent), None),
            ClockState::Met { at, late } => {
                (if late { "met-late" } else { "met" }, None, None, Some(at))
            }
        };
        Self {
            clock: kind.as_str().to_owned(),
            state: name.to_owned(),
            due: rfc(due),
            used_percent: used,
            met_at: rfc(met),
        }
    }
}

/// A ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    /// security-incident, alert-investigation, vulnerability-remediation,
    /// managed-change, service-request or notice.
    pub ticket_type: String,
    pub title: String,
    pub description: String,
    /// p1 (most urgent) to p4.
    pub priority: String,
    pub priority_reason: Option<String>,
    /// new, acknowledged, in-progress, waiting-on-customer,
    /// waiting-on-mssp, resolved, closed or reopened.
    pub status: String,
    pub plan: PlanDto,
    #[schema(format = "uuid")]
    pub offense_id: Option<String>,
    #[schema(format = "date-time")]
    pub detected_at: Option<String>,
    #[schema(format = "date-time")]
    pub acknowledged_at: Option<String>,
    #[schema(format = "date-time")]
    pub first_response_at: Option<String>,
    #[schema(format = "date-time")]
    pub resolved_at: Option<String>,
    #[schema(format = "date-time")]
    pub closed_at: Option<String>,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub updated_at: String,
    /// The SLA clocks now (acknowledge, first response, resolve).
    pub sla: Vec<ClockDto>,
}

fn rfc(t: Option<garrison_core::Timestamp>) -> Option<String> {
    t.map(garrison_core::Timestamp::to_rfc3339)
}

impl From<Ticket> for TicketDto {
    fn from(t: Ticket) -> Self {
        Self {
            id: t.id.to_string(),
            tenant_id: t.tenant_id.to_string(),
            ticket_type: t.ticket_type.as_str().to_owned(),
            title: t.title,
            description: t.description,
            priority: t.priority.as_str().to_owned(),
            priority_reason: t.priority_reason,
            status: t.status.as_str().to_owned(),
            plan: t.plan.into(),
            offense_id: t.offense_id.map(|o| o.to_string()),
            detected_at: rfc(t.milestones.detected),
            acknowledged_at: rfc(t.milestones.acknowledged),
            first_response_at: rfc(t.milestones.first_response),
            resolved_at: rfc(t.milestones.resolved),
            closed_at: rfc(t.milestones.closed),
            created_at: t.created_at.to_rfc3339(),
            updated_at: t.updated_at.to_rfc3339(),
            sla: Vec::new(),
        }
    }
}

impl TicketDto {
    fn with_clocks(mut self, clocks: Vec<(ClockKind, ClockState)>) -> Self {
        self.sla = clocks.into_iter().map(Into::into).collect();
        self
    }
}

/// One status change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeDto {
    pub from: String,
    pub to: String,
    pub actor: String,
    pub reason: String,
    #[schema(format = "date-time")]
    pub at: String,
}

impl From<TicketChange> for ChangeDto {
    fn from(c: TicketChange) -> Self {
        Self {
            from: c.from.as_str().to_owned(),
            to: c.to.as_str().to_owned(),
            actor: c.actor,
            reason: c.reason,
            at: c.at.to_rfc3339(),
        }
    }
}

/// A comment on a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketCommentDto {
    #[schema(format = "uuid")]
    pub id: String,
    pub author: String,
    pub body: String,
    /// Shown to the customer; otherwise MSSP-internal.
    pub shared: bool,
    #[schema(format = "date-time")]
    pub created_at: String,
}

impl From<TicketComment> for TicketCommentDto {
    fn from(c: TicketComment) -> Self {
        Self {
            id: c.id.to_string(),
            author: c.author,
            body: c.body,
            shared: c.shared,
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

/// A comment to add (the customer's are always shared).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketCommentRequest {
    pub body: String,
    #[serde(default)]
    pub shared: bool,
}

/// A page of tickets.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketDto>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A ticket with its status changes, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetailDto {
    #[serde(flatten)]
    pub ticket: TicketDto,
    pub changes: Vec<ChangeDto>,
    /// MSSP staff see every comment; the customer's people the shared ones.
    pub comments: Vec<TicketCommentDto>,
}

/// Where to move a ticket, and why (required to resolve and to reopen).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub to: String,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketParams),
    responses((status = 200, body = TicketPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<TicketParams>,
) -> ApiResult<Json<TicketPage>> {
    let query = q.query()?;
    let app = s.app();
    let page = app.list_tickets(&p, &query).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for t in page.items {
        let clocks = app.ticket_clocks(&p, &t).await?;
        items.push(TicketDto::from(t).with_clocks(clocks));
    }
    Ok(Json(TicketPage {
        items,
        total: page.total,
        limit: query.limit,
        offset: query.offset,
    }))
}

#[utoipa::path(get, path = "/api/v1/tickets/{ticket_id}", tag = "tickets",
    params(("ticket_id" = String, Path, format = "uuid")),
    responses((status = 200, body = TicketDetailDto), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TicketDetailDto>> {
    let d = s.app().ticket(&p, parse_id(&id)?).await?;
    Ok(Json(TicketDetailDto {
        ticket: TicketDto::from(d.ticket).with_clocks(d.clocks),
        changes: d.changes.into_iter().map(Into::into).collect(),
        comments: d.comments.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/status", tag = "tickets", request_body = StatusRequest,
    params(("ticket_id" = String, Path, format = "uuid")),
    responses((status = 200, body = TicketDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<StatusRequest>,
) -> ApiResult<Json<TicketDto>> {
    let id = parse_id(&id)?;
    let to: Status = req
        .to
        .parse()
        .map_err(|e: garrison_core::validate::Invalid| AppError::invalid("to", e.reason))?;
    let app = s.app();
    let t = app.move_ticket(&p, id, to, &req.reason).await?;
    let clocks = app.ticket_clocks(&p, &t).await?;
    Ok(Json(TicketDto::from(t).with_clocks(clocks)))
}

#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/comments", tag = "tickets", request_body = TicketCommentRequest,
    params(("ticket_id" = String, Path, format = "uuid")),
    responses((status = 201, body = TicketCommentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn comment(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<TicketCommentRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<TicketCommentDto>)> {
    let c = s
        .app()
        .comment_ticket(&p, parse_id(&id)?, &req.body, req.shared)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(c.into())))
}

/// A ticket type's owner plan for a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPlanDto {
    pub ticket_type: String,
    #[serde(flatten)]
    pub plan: PlanDto,
    /// The tenant's own plan (else the seeded one).
    pub customised: bool,
}

/// An owner plan to set: a role for each duty.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub research: String,
    pub remediate: String,
    pub approve_closure: String,
    #[serde(default)]
    pub informed: Vec<String>,
}

fn role_of(field: &'static str, s: &str) -> Result<garrison_core::Role, AppError> {
    s.parse()
        .map_err(|e: garrison_core::role::UnknownRole| AppError::invalid(field, e.to_string()))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/ticket-plans", tag = "tickets",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = Vec<TicketPlanDto>), (status = 404, body = ErrorBody)))]
pub async fn plans(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<TicketPlanDto>>> {
    let plans = s.app().ticket_plans(&p, parse_id(&tenant)?).await?;
    Ok(Json(
        plans
            .into_iter()
            .map(|(t, plan, customised)| TicketPlanDto {
                ticket_type: t.as_str().to_owned(),
                plan: plan.into(),
                customised,
            })
            .collect(),
    ))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/ticket-plans/{ticket_type}", tag = "tickets",
    request_body = PlanRequest,
    params(("tenant_id" = String, Path, format = "uuid"), ("ticket_type" = String, Path)),
    responses((status = 200, body = TicketPlanDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_plan(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, ticket_type)): Path<(String, String)>,
    Body(req): Body<PlanRequest>,
) -> ApiResult<Json<TicketPlanDto>> {
    let tenant = parse_id(&tenant)?;
    let t: garrison_core::ticket::TicketType =
        ticket_type
            .parse()
            .map_err(|e: garrison_core::validate::Invalid| {
                AppError::invalid("ticket_type", e.reason)
            })?;
    let plan = OwnerPlan {
        research: role_of("research", &req.research)?,
        remediate: role_of("remediate", &req.remediate)?,
        approve_closure: role_of("approve_closure", &req.approve_closure)?,
        informed: req
            .informed
            .iter()
            .map(|r| role_of("informed", r))
            .collect::<Result<_, _>>()?,
    };
    s.app().set_ticket_plan(&p, tenant, t, &plan).await?;
    Ok(Json(TicketPlanDto {
        ticket_type: t.as_str().to_owned(),
        plan: plan.into(),
        customised: true,
    }))
}

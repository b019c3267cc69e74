//! The ticket queue (P1 first, across the tenants the user sees or the one
//! switched to) and the ticket page: owners, SLA clocks, history and the
//! moves the owner plan gives the user's role. Titles, descriptions and
//! reasons come from people and offenses; askama escapes them.

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_core::sla::ClockState;
use garrison_core::ticket::{Actor, Status, check};
use garrison_core::{TenantId, TicketId};
use garrison_store::TicketQuery;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::{Layout, NoticeQuery, PortalResult, page_with_status, see_other};

#[derive(Debug, Deserialize, Default)]
pub struct QueueParams {
    tenant: Option<String>,
    /// `open` (default) or `all`.
    status: Option<String>,
}

struct Clock {
    name: &'static str,
    state: &'static str,
    detail: String,
}

fn clock_rows(clocks: Vec<(garrison_core::sla::ClockKind, ClockState)>) -> Vec<Clock> {
    clocks
        .into_iter()
        .map(|(kind, st)| {
            let (state, detail) = match st {
                ClockState::Running { due, used_percent } => (
                    "running",
                    format!("due {}, {used_percent} % used", due.short()),
                ),
                ClockState::Warning { due, used_percent } => (
                    "warning",
                    format!("due {}, {used_percent} % used", due.short()),
                ),
                ClockState::Breached { due, .. } => {
                    ("breached", format!("was due {}", due.short()))
                }
                ClockState::Paused { used_percent } => (
                    "paused",
                    format!("waiting on the customer, {used_percent} % used"),
                ),
                ClockState::Met { at, late } => (
                    if late { "met-late" } else { "met" },
                    format!("met {}", at.short()),
                ),
            };
            Clock {
                name: kind.as_str(),
                state,
                detail,
            }
        })
        .collect()
}

struct Row {
    id: String,
    priority: &'static str,
    title: String,
    tenant: String,
    status: &'static str,
    clocks: Vec<Clock>,
    opened: String,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<Row>,
    total: u64,
    status: String,
}

/// `GET /tickets`.
pub async fn queue(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<QueueParams>,
) -> PortalResult {
    let p = &signed.principal;
    let tenant: Option<TenantId> =
        match q.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(parse_id(t)?),
            None => signed.ctx.session.active_tenant,
        };
    let status = q.status.as_deref().unwrap_or("open").to_owned();
    let query = TicketQuery {
        tenant,
        open_only: status != "all",
        limit: 200,
        ..TicketQuery::default()
    };
    let app = s.app();
    let page = app.list_tickets(p, &query).await?;
    let tenants = app.list_tenants(p).await?;
    let tenant_name = |id: TenantId| {
        tenants
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.name.clone())
    };
    let mut rows = Vec::with_capacity(page.items.len());
    for t in page.items {
        let clocks = clock_rows(app.ticket_clocks(p, &t).await?);
        rows.push(Row {
            id: t.id.to_string(),
            priority: t.priority.as_str(),
            title: t.title.clone(),
            tenant: tenant_name(t.tenant_id),
            status: t.status.as_str(),
            clocks,
            opened: t.created_at.short(),
        });
    }
    let layout = Layout::new(&s, &signed, "Tickets", "/tickets").await?;
    let page = QueuePage {
        layout,
        rows,
        total: page.total,
        status,
    };
    Ok(page_with_status(&page, None))
}

struct Move {
    to: &'static str,
    label: &'static str,
    needs_reason: bool,
}

struct Change {
    at: String,
    from: &'static str,
    to: &'static str,
    actor: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    layout: Layout,
    id: String,
    title: String,
    description: String,
    tenant: String,
    ticket_type: &'static str,
    priority: &'static str,
    status: &'static str,
    offense: String,
    plan: Vec<(&'static str, String)>,
    clocks: Vec<Clock>,
    moves: Vec<Move>,
    changes: Vec<Change>,
    comments: Vec<CommentRow>,
    can_comment: bool,
    is_mssp: bool,
}

struct CommentRow {
    author: String,
    at: String,
    body: String,
    shared: bool,
}

fn label(to: Status) -> &'static str {
    match to {
        Status::New => "New",
        Status::Acknowledged => "Acknowledge",
        Status::InProgress => "Start work",
        Status::WaitingOnCustomer => "Wait on the customer",
        Status::WaitingOnMssp => "Wait on the MSSP",
        Status::Resolved => "Propose a resolution",
        Status::Closed => "Close",
        Status::Reopened => "Reopen",
    }
}

/// `GET /tickets/{ticket_id}`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(n): Query<NoticeQuery>,
) -> PortalResult {
    let p = &signed.principal;
    let id: TicketId = parse_id(&id)?;
    let app = s.app();
    let d = app.ticket(p, id).await?;
    let t = d.ticket;
    let tenant = app.tenant(p, t.tenant_id).await?;
    // The moves the plan gives this role from here (a reason is asked for
    // where one is needed).
    let moves = Status::ALL
        .iter()
        .filter(|&&to| check(&t.plan, t.status, to, Actor::User(p.role()), "a reason").is_ok())
        .map(|&to| Move {
            to: to.as_str(),
            label: label(to),
            needs_reason: check(&t.plan, t.status, to, Actor::User(p.role()), "").is_err(),
        })
        .collect();
    let plan = vec![
        ("Researches", t.plan.research.as_str().to_owned()),
        ("Remediates", t.plan.remediate.as_str().to_owned()),
        (
            "Approves closure",
            t.plan.approve_closure.as_str().to_owned(),
        ),
        (
            "Kept informed",
            t.plan
                .informed
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    let changes = d
        .changes
        .iter()
        .map(|c| Change {
            at: c.at.short(),
            from: c.from.as_str(),
            to: c.to.as_str(),
            actor: c.actor.clone(),
            reason: c.reason.clone(),
        })
        .collect();
    let layout = Layout::new(&s, &signed, "Ticket", "/tickets")
        .await?
        .with_notice(n.notice.as_deref());
    let page = TicketPage {
        layout,
        id: t.id.to_string(),
        title: t.title.clone(),
        description: t.description.clone(),
        tenant: tenant.name,
        ticket_type: t.ticket_type.as_str(),
        priority: t.priority.as_str(),
        status: t.status.as_str(),
        offense: t.offense_id.map(|o| o.to_string()).unwrap_or_default(),
        plan,
        clocks: clock_rows(d.clocks),
        moves,
        changes,
        comments: d
            .comments
            .iter()
            .map(|c| CommentRow {
                author: c.author.clone(),
                at: c.created_at.short(),
                body: c.body.clone(),
                shared: c.shared,
            })
            .collect(),
        can_comment: p.role() != garrison_core::Role::CustomerViewer,
        is_mssp: p.role().is_mssp(),
    };
    Ok(page_with_status(&page, None))
}

/// A move form.
#[derive(Debug, Deserialize, Default)]
pub struct MoveForm {
    to: String,
    #[serde(default)]
    reason: String,
}

/// `POST /tickets/{ticket_id}/status`.
pub async fn set_status(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, MoveForm>,
) -> PortalResult {
    let id: TicketId = parse_id(&id)?;
    let to: Status = f
        .form
        .to
        .parse()
        .map_err(|e: garrison_core::validate::Invalid| {
            garrison_app::AppError::invalid("to", e.reason)
        })?;
    s.app()
        .move_ticket(&f.session.principal, id, to, &f.form.reason)
        .await?;
    Ok(see_other(&format!("/tickets/{id}?notice=ticket-moved")))
}

/// A comment form.
#[derive(Debug, Deserialize, Default)]
pub struct CommentForm {
    body: String,
    /// A checkbox: present when shared.
    #[serde(default)]
    shared: Option<String>,
}

/// `POST /tickets/{ticket_id}/comments`.
pub async fn comment(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, CommentForm>,
) -> PortalResult {
    let id: TicketId = parse_id(&id)?;
    s.app()
        .comment_ticket(
            &f.session.principal,
            id,
            &f.form.body,
            f.form.shared.is_some(),
        )
        .await?;
    Ok(see_other(&format!("/tickets/{id}?notice=ticket-commented")))
}

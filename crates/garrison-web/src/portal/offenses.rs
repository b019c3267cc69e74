//! The offense queue (highest magnitude first, across the tenants the user
//! sees or the one switched to) and the offense page: the breakdown in
//! words and numbers, the assets involved and the first events. Titles,
//! keys and event fields are attacker-controlled; askama escapes them.

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_core::offense::{Offense, Part};
use garrison_core::{OffenseId, TenantId};
use garrison_store::OffenseQuery;
use serde::Deserialize;

use garrison_app::AppError;
use garrison_app::offenses::Closing;
use garrison_core::Permission;
use garrison_core::offense::Resolution;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::{Layout, NoticeQuery, PortalResult, page_with_status, see_other};

#[derive(Debug, Deserialize, Default)]
pub struct QueueParams {
    tenant: Option<String>,
    /// `open` (default), `closed` or `all`.
    status: Option<String>,
}

struct Row {
    id: String,
    magnitude: String,
    level: &'static str,
    title: String,
    tenant: String,
    kind: &'static str,
    key: String,
    events: u64,
    assets: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "offenses.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<Row>,
    total: u64,
    status: String,
}

/// A magnitude's band for colouring: the event page's severity classes.
fn level(m: f64) -> &'static str {
    if m >= 8.0 {
        "critical"
    } else if m >= 6.0 {
        "high"
    } else if m >= 4.0 {
        "medium"
    } else {
        "low"
    }
}

fn names(o: &Offense) -> String {
    o.assets
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /offenses`.
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
    let query = OffenseQuery {
        tenant,
        status: match status.as_str() {
            "closed" => Some(garrison_core::offense::OffenseStatus::Closed),
            "all" => None,
            _ => Some(garrison_core::offense::OffenseStatus::Open),
        },
        limit: 200,
        ..OffenseQuery::default()
    };
    let page = s.app().list_offenses(p, &query).await?;
    let tenants = s.app().list_tenants(p).await?;
    let tenant_name = |id: TenantId| {
        tenants
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.name.clone())
    };
    let rows = page
        .items
        .iter()
        .map(|o| Row {
            id: o.id.to_string(),
            magnitude: format!("{:.1}", o.magnitude()),
            level: level(o.magnitude()),
            title: o.detector.title.clone(),
            tenant: tenant_name(o.tenant_id),
            kind: o.detector.kind.as_str(),
            key: format!("{} {}", o.key.field, o.key.value),
            events: o.event_count,
            assets: names(o),
            last_seen: o.last_seen.short(),
        })
        .collect();
    let layout = Layout::new(&s, &signed, "Offenses", "/offenses").await?;
    let page = QueuePage {
        layout,
        rows,
        total: page.total,
        status,
    };
    Ok(page_with_status(&page, None))
}

struct PartView {
    name: &'static str,
    value: String,
    weight: u8,
    reasons: Vec<(String, String)>,
}

fn part(name: &'static str, p: &Part, weight: u8) -> PartView {
    PartView {
        name,
        value: format!("{:.1}", p.value),
        weight,
        reasons: p
            .reasons
            .iter()
            .map(|r| (r.text.clone(), format!("{:.1}", r.value)))
            .collect(),
    }
}

struct EventRow {
    href: String,
    time: String,
    severity: u8,
    summary: String,
}

#[derive(Template)]
#[template(path = "offense.html")]
struct OffensePage {
    layout: Layout,
    title: String,
    tenant: String,
    tenant_id: String,
    kind: &'static str,
    detector_key: String,
    key: String,
    status: &'static str,
    magnitude: String,
    level: &'static str,
    parts: Vec<PartView>,
    events_total: u64,
    first_seen: String,
    last_seen: String,
    assets: Vec<(String, String)>,
    events: Vec<EventRow>,
    id: String,
    can_triage: bool,
    is_open: bool,
    assignee: String,
    resolution: String,
    escalation: String,
    comments: Vec<CommentRow>,
    suppressions: Vec<String>,
    timeline: Vec<(String, &'static str, String)>,
}

struct CommentRow {
    author: String,
    at: String,
    body: String,
    shared: bool,
}

/// `GET /offenses/{offense_id}`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(n): Query<NoticeQuery>,
) -> PortalResult {
    let p = &signed.principal;
    let id: OffenseId = parse_id(&id)?;
    let d = s.app().offense(p, id).await?;
    let o = d.offense;
    let tenant = s.app().tenant(p, o.tenant_id).await?;
    let b = &o.breakdown;
    let w = b.weights;
    let events = d
        .events
        .iter()
        .map(|e| EventRow {
            href: format!("/tenants/{}/events/{}", e.tenant_id, e.id),
            time: e.timestamp.short(),
            severity: e.severity,
            summary: e
                .fields
                .get_str("message")
                .or_else(|| e.fields.get_str("rule.name"))
                .unwrap_or(e.original.as_str())
                .chars()
                .take(200)
                .collect(),
        })
        .collect();
    let layout = Layout::new(&s, &signed, "Offense", "/offenses")
        .await?
        .with_notice(n.notice.as_deref());
    let assignee = match o.assignee {
        None => "nobody".to_owned(),
        Some(u) if Some(u) == p.user_id() => "you".to_owned(),
        Some(u) => u.to_string(),
    };
    let comments = d
        .comments
        .iter()
        .map(|c| CommentRow {
            author: c.author.clone(),
            at: c.created_at.short(),
            body: c.body.clone(),
            shared: c.shared,
        })
        .collect();
    let suppressions = d
        .suppressions
        .iter()
        .map(|x| {
            format!(
                "{} {} suppressed until {}: {} alert(s) counted",
                x.key.field,
                x.key.value,
                x.expires_at.short(),
                x.suppressed
            )
        })
        .collect();
    // The timeline: the events, comments and triage steps, in time order.
    let mut timeline: Vec<(garrison_core::Timestamp, &'static str, String)> = d
        .events
        .iter()
        .map(|e| {
            let what = e
                .fields
                .get_str("rule.name")
                .or_else(|| e.fields.get_str("message"))
                .unwrap_or(e.original.as_str());
            (e.timestamp, "event", what.chars().take(160).collect())
        })
        .collect();
    timeline.extend(d.comments.iter().map(|c| {
        let what = format!(
            "{}{}: {}",
            c.author,
            if c.shared { "" } else { " (MSSP only)" },
            c.body.chars().take(160).collect::<String>()
        );
        (c.created_at, "comment", what)
    }));
    timeline.push((o.created_at, "opened", "offense opened".to_owned()));
    if let Some(at) = o.escalation_requested_at {
        timeline.push((at, "escalation", "escalation requested".to_owned()));
    }
    if let Some(at) = o.closed_at {
        let how = o.resolution.map_or("closed", |r| r.as_str());
        timeline.push((at, "closed", format!("closed as {how}")));
    }
    timeline.sort_by_key(|(at, _, _)| *at);
    let timeline = timeline
        .into_iter()
        .map(|(at, kind, text)| (at.short(), kind, text))
        .collect();
    let page = OffensePage {
        timeline,
        id: o.id.to_string(),
        can_triage: p.can(Permission::OffenseTriage),
        is_open: o.status == garrison_core::offense::OffenseStatus::Open,
        assignee,
        resolution: o.resolution.map_or_else(String::new, |r| {
            format!(
                "{}{}",
                r.as_str(),
                o.resolution_reason
                    .as_deref()
                    .map_or_else(String::new, |why| format!(": {why}"))
            )
        }),
        escalation: o.escalation_requested_at.map_or_else(String::new, |at| {
            format!(
                "asked {}{}",
                at.short(),
                o.escalation_reason
                    .as_deref()
                    .map_or_else(String::new, |why| format!(": {why}"))
            )
        }),
        comments,
        suppressions,
        layout,
        title: o.detector.title.clone(),
        tenant: tenant.name,
        tenant_id: tenant.id.to_string(),
        kind: o.detector.kind.as_str(),
        detector_key: o.detector.key.clone(),
        key: format!("{} {}", o.key.field, o.key.value),
        status: o.status.as_str(),
        magnitude: format!("{:.1}", o.magnitude()),
        level: level(o.magnitude()),
        parts: vec![
            part("Severity", &b.severity, w.severity),
            part("Credibility", &b.credibility, w.credibility),
            part("Relevance", &b.relevance, w.relevance),
        ],
        events_total: o.event_count,
        first_seen: o.first_seen.short(),
        last_seen: o.last_seen.short(),
        assets: o
            .assets
            .iter()
            .map(|a| {
                (
                    format!("/tenants/{}/assets/{}", o.tenant_id, a.id),
                    a.name.clone(),
                )
            })
            .collect(),
        events,
    };
    Ok(page_with_status(&page, None))
}

/// A triage form of the offense page.
#[derive(Debug, Deserialize, Default)]
pub struct TriageForm {
    /// assign-me, unassign, close, reopen, escalate.
    action: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    suppress_days: String,
}

/// `POST /offenses/{offense_id}/triage`.
pub async fn triage(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, TriageForm>,
) -> PortalResult {
    let p = &f.session.principal;
    let id: OffenseId = parse_id(&id)?;
    let form = f.form;
    let app = s.app();
    let notice = match form.action.as_str() {
        "assign-me" => {
            app.assign_offense(p, id, p.user_id()).await?;
            "offense-assigned"
        }
        "unassign" => {
            app.assign_offense(p, id, None).await?;
            "offense-assigned"
        }
        "close" => {
            let resolution: Resolution =
                form.resolution
                    .parse()
                    .map_err(|e: garrison_core::validate::Invalid| {
                        AppError::invalid("resolution", e.to_string())
                    })?;
            let days = form.suppress_days.trim();
            let suppress_days = if days.is_empty() || resolution != Resolution::FalsePositive {
                None
            } else {
                Some(
                    days.parse::<u32>()
                        .map_err(|_| AppError::invalid("suppress_days", "a number of days"))?,
                )
            };
            app.close_offense(
                p,
                id,
                &Closing {
                    resolution,
                    reason: form.reason,
                    suppress_days,
                },
            )
            .await?;
            "offense-closed"
        }
        "reopen" => {
            app.reopen_offense(p, id).await?;
            "offense-reopened"
        }
        "escalate" => {
            app.escalate_offense(p, id, &form.reason).await?;
            "offense-escalation"
        }
        _ => {
            return Err(AppError::invalid("action", "not a triage step").into());
        }
    };
    Ok(see_other(&format!("/offenses/{id}?notice={notice}")))
}

/// A comment form.
#[derive(Debug, Deserialize, Default)]
pub struct CommentForm {
    body: String,
    /// A checkbox: present when shared.
    #[serde(default)]
    shared: Option<String>,
}

/// `POST /offenses/{offense_id}/comments`.
pub async fn comment(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, CommentForm>,
) -> PortalResult {
    let id: OffenseId = parse_id(&id)?;
    s.app()
        .comment_offense(
            &f.session.principal,
            id,
            &f.form.body,
            f.form.shared.is_some(),
        )
        .await?;
    Ok(see_other(&format!(
        "/offenses/{id}?notice=offense-commented"
    )))
}

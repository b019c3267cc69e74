//! The rules page: every detection rule loaded (Sigma, threshold and
//! sequence), the files that failed to load with the reason, and for one
//! tenant which rules fire, a switch per rule, and a test of a rule against
//! the tenant's stored events. Rule text is MSSP content but still escaped.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_core::{Permission, TenantId};
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::{Layout, PortalResult, page_with_status, see_other};

/// Rules listed at most (filter with `q`).
const SHOWN: usize = 300;

#[derive(Debug, Deserialize, Default)]
pub struct RulesParams {
    tenant: Option<String>,
    q: Option<String>,
    /// A rule to test, and how many hours back.
    test: Option<String>,
    hours: Option<u32>,
    notice: Option<String>,
}

struct Row {
    id: String,
    title: String,
    kind: &'static str,
    level: String,
    origin: String,
    enabled: bool,
    exceptions: usize,
}

struct TestView {
    rule_id: String,
    hours: u32,
    scanned: u64,
    truncated: bool,
    matched: u64,
    events: Vec<String>,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    total: usize,
    shown: usize,
    q: String,
    tenant: Option<(String, String)>,
    can_manage: bool,
    rows: Vec<Row>,
    failed: Vec<(String, String, String)>,
    test: Option<TestView>,
}

/// `GET /rules`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<RulesParams>,
) -> PortalResult {
    let p = &signed.principal;
    let tenant: Option<TenantId> =
        match q.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(parse_id(t)?),
            None => signed.ctx.session.active_tenant.or_else(|| p.home_tenant()),
        };
    let overview = s.app().rules_overview(p).await?;
    let (tenant_view, settings) = match tenant {
        Some(t) => {
            let info = s.app().tenant(p, t).await?;
            let settings: HashMap<String, (bool, usize)> = s
                .app()
                .tenant_rules(p, t)
                .await?
                .into_iter()
                .map(|r| (r.rule_id, (r.enabled, r.exceptions.len())))
                .collect();
            (Some((info.id.to_string(), info.name)), settings)
        }
        None => (None, HashMap::new()),
    };
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let total = overview.rules.len();
    let rows: Vec<Row> = overview
        .rules
        .into_iter()
        .filter(|r| {
            needle.is_empty()
                || r.title.to_lowercase().contains(&needle)
                || r.id.to_lowercase().contains(&needle)
                || r.origin.to_lowercase().contains(&needle)
        })
        .take(SHOWN)
        .map(|r| {
            let (enabled, exceptions) = settings.get(&r.id).copied().unwrap_or((true, 0));
            Row {
                id: r.id,
                title: r.title,
                kind: r.kind,
                level: r.level,
                origin: r.origin,
                enabled,
                exceptions,
            }
        })
        .collect();
    let test = match (tenant, q.test.as_deref().filter(|t| !t.is_empty())) {
        (Some(t), Some(rule)) => {
            let r = s.app().test_rule(p, t, rule, q.hours.unwrap_or(24)).await?;
            Some(TestView {
                rule_id: r.rule_id,
                hours: r.hours,
                scanned: r.scanned,
                truncated: r.truncated,
                matched: r.matched,
                events: r.events.iter().map(ToString::to_string).collect(),
            })
        }
        _ => None,
    };
    let layout = Layout::new(&s, &signed, "Rules", "/rules")
        .await?
        .with_notice(q.notice.as_deref());
    let page = RulesPage {
        layout,
        total,
        shown: rows.len(),
        q: needle,
        tenant: tenant_view,
        can_manage: p.can(Permission::RuleManage),
        rows,
        failed: overview
            .failed
            .into_iter()
            .map(|f| (f.origin, f.rule.unwrap_or_default(), f.reason))
            .collect(),
        test,
    };
    Ok(page_with_status(&page, None))
}

/// A rule switched on or off for a tenant.
#[derive(Debug, Deserialize, Default)]
pub struct SwitchForm {
    rule_id: String,
    /// `on` or `off`.
    state: String,
}

/// `POST /tenants/{tenant_id}/rules`.
pub async fn switch(
    State(s): State<WebState>,
    Path(tenant): Path<String>,
    f: CsrfForm<Signed, SwitchForm>,
) -> PortalResult {
    let p = &f.session.principal;
    let tenant: TenantId = parse_id(&tenant)?;
    let current = s
        .app()
        .tenant_rules(p, tenant)
        .await?
        .into_iter()
        .find(|r| r.rule_id == f.form.rule_id)
        .map(|r| r.exceptions)
        .unwrap_or_default();
    s.app()
        .set_tenant_rule(p, tenant, &f.form.rule_id, f.form.state == "on", current)
        .await?;
    Ok(see_other(&format!(
        "/rules?tenant={tenant}&notice=rule-switched"
    )))
}

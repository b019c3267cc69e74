//! The rules page: every detection rule loaded (Sigma, threshold and
//! sequence), the files that failed to load with the reason, and for one
//! tenant which rules fire, a switch per rule, and a test of a rule against
//! the tenant's stored events. Rule text is MSSP content but still escaped.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use garrison_app::AppError;
use garrison_core::{Permission, TenantId};
use garrison_store::events::valid_field_name;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::{Layout, PortalResult, page_with_status, render, see_other};
use axum::response::IntoResponse;

/// Rules listed at most (filter with `q`).
const SHOWN: usize = 300;

#[derive(Debug, Deserialize, Default)]
pub struct RulesParams {
    tenant: Option<String>,
    q: Option<String>,
    /// A rule to test, and how many hours back.
    test: Option<String>,
    hours: Option<u32>,
    /// A rule whose exceptions for the tenant are being edited.
    edit: Option<String>,
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

/// The exceptions of one rule for the tenant, as the form shows them.
struct EditView {
    rule_id: String,
    title: String,
    enabled: bool,
    exceptions: String,
    /// Whether the form's text form holds them exactly (a value set
    /// through the API may hold `;`, a line break or edge spaces, which
    /// the form cannot write: such exceptions are shown, not edited).
    editable: bool,
}

/// What the load form sent back when it failed (kept for a retry).
#[derive(Default)]
struct LoadView {
    name: String,
    body: String,
    /// (rule, why) per failure.
    failures: Vec<(String, String)>,
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
    edit: Option<EditView>,
    load: LoadView,
    /// An error of the exceptions form (shown above it).
    edit_error: Option<String>,
}

/// `GET /rules`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<RulesParams>,
) -> PortalResult {
    rules_page(&s, &signed, &q, None, LoadView::default(), None).await
}

async fn rules_page(
    s: &WebState,
    signed: &Signed,
    q: &RulesParams,
    status: Option<StatusCode>,
    load: LoadView,
    edit_error: Option<String>,
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
            let settings: HashMap<String, (bool, Vec<BTreeMap<String, String>>)> = s
                .app()
                .tenant_rules(p, t)
                .await?
                .into_iter()
                .map(|r| (r.rule_id, (r.enabled, r.exceptions)))
                .collect();
            (Some((info.id.to_string(), info.name)), settings)
        }
        None => (None, HashMap::new()),
    };
    let edit = match (tenant, q.edit.as_deref().filter(|e| !e.is_empty())) {
        (Some(_), Some(id)) => {
            let rule = overview
                .rules
                .iter()
                .find(|r| r.id == id)
                .ok_or(AppError::NotFound)?;
            let (enabled, exceptions) = settings.get(id).cloned().unwrap_or((true, Vec::new()));
            Some(EditView {
                rule_id: rule.id.clone(),
                title: rule.title.clone(),
                enabled,
                editable: parse_exceptions(&exceptions_text(&exceptions)).as_ref()
                    == Ok(&exceptions),
                exceptions: exceptions_text(&exceptions),
            })
        }
        _ => None,
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
            let (enabled, exceptions) = settings
                .get(&r.id)
                .map_or((true, 0), |(on, ex)| (*on, ex.len()));
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
    let layout = Layout::new(s, signed, "Rules", "/rules")
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
        edit,
        load,
        edit_error,
    };
    Ok(match status {
        Some(status) => (status, render(&page)).into_response(),
        None => page_with_status(&page, None),
    })
}

/// A rule switched on or off for a tenant, or its exceptions replaced.
#[derive(Debug, Deserialize, Default)]
pub struct SwitchForm {
    rule_id: String,
    /// `on` or `off`; absent: unchanged.
    state: Option<String>,
    /// The exceptions as the form writes them (see [`parse_exceptions`]);
    /// absent: unchanged.
    exceptions: Option<String>,
}

/// Exceptions as text: one per line, its conditions `field = value`
/// separated by `;`.
fn exceptions_text(exceptions: &[BTreeMap<String, String>]) -> String {
    exceptions
        .iter()
        .map(|e| {
            e.iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form's exceptions: one per non-blank line, each one or more
/// `field = value` conditions separated by `;` (all must hold). The error
/// names the line.
fn parse_exceptions(text: &str) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut conditions = BTreeMap::new();
        for part in line.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((field, value)) = part.split_once('=') else {
                return Err(format!(
                    "line {}: write each condition as `field = value` (got `{part}`)",
                    n + 1
                ));
            };
            let field = field.trim();
            if !valid_field_name(field) {
                return Err(format!(
                    "line {}: `{field}` is not a field name (letters, digits, `_ . @ -`)",
                    n + 1
                ));
            }
            conditions.insert(field.to_owned(), value.trim().to_owned());
        }
        out.push(conditions);
    }
    Ok(out)
}

/// `POST /tenants/{tenant_id}/rules`.
pub async fn switch(
    State(s): State<WebState>,
    Path(tenant): Path<String>,
    f: CsrfForm<Signed, SwitchForm>,
) -> PortalResult {
    let p = &f.session.principal;
    let tenant: TenantId = parse_id(&tenant)?;
    let (enabled, current) = s
        .app()
        .tenant_rules(p, tenant)
        .await?
        .into_iter()
        .find(|r| r.rule_id == f.form.rule_id)
        .map_or((true, Vec::new()), |r| (r.enabled, r.exceptions));
    let enabled = f.form.state.as_deref().map_or(enabled, |st| st == "on");
    let (exceptions, notice) = match f.form.exceptions.as_deref() {
        None => (current, "rule-switched"),
        Some(text) => match parse_exceptions(text) {
            Ok(e) => (e, "exceptions-saved"),
            Err(why) => {
                let q = RulesParams {
                    tenant: Some(tenant.to_string()),
                    edit: Some(f.form.rule_id.clone()),
                    ..RulesParams::default()
                };
                return rules_page(
                    &s,
                    &f.session,
                    &q,
                    Some(StatusCode::UNPROCESSABLE_ENTITY),
                    LoadView::default(),
                    Some(why),
                )
                .await;
            }
        },
    };
    s.app()
        .set_tenant_rule(p, tenant, &f.form.rule_id, enabled, exceptions)
        .await?;
    Ok(see_other(&format!(
        "/rules?tenant={tenant}&notice={notice}"
    )))
}

/// A rule file pasted into the portal.
#[derive(Debug, Deserialize, Default)]
pub struct LoadForm {
    /// The file's name (its origin, under `portal/`).
    name: String,
    body: String,
}

/// `POST /rules`: loads one rule file (Sigma, or a threshold or sequence
/// rule) as `garrison import rules` does; a file that fails is shown with
/// the reasons and stored nowhere.
pub async fn load(State(s): State<WebState>, f: CsrfForm<Signed, LoadForm>) -> PortalResult {
    let p = &f.session.principal;
    let name = f.form.name.trim();
    let fail = |why: Vec<(String, String)>| LoadView {
        name: f.form.name.clone(),
        body: f.form.body.clone(),
        failures: why,
    };
    let bad_name = name.is_empty()
        || name.len() > 200
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let outcome = if bad_name {
        Err(vec![(
            String::new(),
            "name the file with letters, digits, `-`, `_` and `.` (at most 200)".to_owned(),
        )])
    } else if f.form.body.trim().is_empty() {
        Err(vec![(String::new(), "paste the rule's YAML".to_owned())])
    } else {
        let summary = s
            .app()
            .import_rules(p, vec![(format!("portal/{name}"), f.form.body.clone())])
            .await?;
        if summary.failed.is_empty() {
            Ok(())
        } else {
            Err(summary
                .failed
                .into_iter()
                .map(|e| (e.rule.unwrap_or_default(), e.reason))
                .collect())
        }
    };
    match outcome {
        Ok(()) => Ok(see_other("/rules?notice=rules-loaded")),
        Err(why) => {
            rules_page(
                &s,
                &f.session,
                &RulesParams::default(),
                Some(StatusCode::UNPROCESSABLE_ENTITY),
                fail(why),
                None,
            )
            .await
        }
    }
}

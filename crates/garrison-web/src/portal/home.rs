//! The overview page and the tenant switcher.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::{Layout, NoticeQuery, PortalResult, page_with_status, see_other};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    name: String,
    mfa: bool,
    last_login: Option<String>,
    tenants: Vec<garrison_core::model::Tenant>,
    active: Option<String>,
}

/// `GET /`.
pub async fn dashboard(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    let layout = Layout::new(&s, &signed, "Overview", "/")
        .await?
        .with_notice(q.notice.as_deref());
    let p = &signed.principal;
    let mut tenants = s.app().list_tenants(p).await?;
    let active = signed.ctx.session.active_tenant;
    if let Some(a) = active {
        tenants.retain(|t| t.id == a);
    }
    let page = Dashboard {
        layout,
        name: signed.ctx.user.display_name.clone(),
        mfa: signed.ctx.user.has_mfa(),
        last_login: signed
            .ctx
            .user
            .last_login_at
            .map(garrison_core::Timestamp::short),
        active: active.and_then(|a| tenants.iter().find(|t| t.id == a).map(|t| t.name.clone())),
        tenants,
    };
    Ok(page_with_status(&page, None))
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    tenant: String,
}

/// `POST /session/tenant`: an MSSP user picks the tenant to work on
/// (empty for all).
pub async fn switch_tenant(
    State(s): State<WebState>,
    f: CsrfForm<Signed, SwitchForm>,
) -> PortalResult {
    let tenant = match f.form.tenant.trim() {
        "" => None,
        id => Some(parse_id(id)?),
    };
    s.app().switch_tenant(&f.session.ctx, tenant).await?;
    Ok(see_other("/?notice=tenant-switched"))
}

//! Tenant pages: the list, one tenant's settings, users and assigned staff.

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_app::AppError;
use garrison_app::inventory::risk::RiskWeights;
use garrison_core::model::{Tenant, TenantChange, User};
use garrison_core::{Permission, Role, TenantId};
use garrison_store::UserFilter;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::{
    Layout, NoticeQuery, PortalResult, is_form_error, page_with_status, see_other,
};

#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    layout: Layout,
    tenants: Vec<Tenant>,
    can_create: bool,
    slug: String,
    name: String,
}

async fn tenants_page(
    s: &WebState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&AppError>,
    slug: &str,
    name: &str,
) -> PortalResult {
    let layout = Layout::new(s, signed, "Tenants", "/tenants")
        .await?
        .with_notice(notice)
        .with_error(error);
    let page = TenantsPage {
        layout,
        tenants: s.app().list_tenants(&signed.principal).await?,
        can_create: signed.principal.can(Permission::TenantCreate),
        slug: slug.to_owned(),
        name: name.to_owned(),
    };
    Ok(page_with_status(&page, error))
}

/// `GET /tenants`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    tenants_page(&s, &signed, q.notice.as_deref(), None, "", "").await
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
}

/// `POST /tenants`.
pub async fn create(State(s): State<WebState>, f: CsrfForm<Signed, CreateForm>) -> PortalResult {
    match s
        .app()
        .create_tenant(&f.session.principal, &f.form.slug, &f.form.name)
        .await
    {
        Ok(t) => Ok(see_other(&format!(
            "/tenants/{}?notice=tenant-created",
            t.id
        ))),
        Err(e) if is_form_error(&e) => {
            tenants_page(&s, &f.session, None, Some(&e), &f.form.slug, &f.form.name).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "tenant.html")]
struct TenantPage {
    layout: Layout,
    tenant: Tenant,
    can_edit: bool,
    users: Option<Vec<User>>,
    staff: Option<Vec<User>>,
    can_assign: bool,
    assignable: Vec<User>,
    ranges: Vec<garrison_core::asset::NetworkRange>,
    can_manage_ranges: bool,
    criticalities: Vec<&'static str>,
    weights: Vec<WeightField>,
    weights_are_defaults: bool,
    can_set_weights: bool,
    retention_days: u32,
}

/// One risk weight on the tenant page's form.
pub(crate) struct WeightField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: f64,
    pub default: f64,
}

fn weight_fields(w: &RiskWeights) -> Vec<WeightField> {
    let d = RiskWeights::default();
    let f = |name, label, value, default| WeightField {
        name,
        label,
        value,
        default,
    };
    vec![
        f(
            "criticality_low",
            "Criticality low",
            w.criticality[0],
            d.criticality[0],
        ),
        f(
            "criticality_medium",
            "Criticality medium",
            w.criticality[1],
            d.criticality[1],
        ),
        f(
            "criticality_high",
            "Criticality high",
            w.criticality[2],
            d.criticality[2],
        ),
        f(
            "criticality_critical",
            "Criticality critical",
            w.criticality[3],
            d.criticality[3],
        ),
        f(
            "criticality_unknown",
            "Criticality unknown",
            w.criticality_unknown,
            d.criticality_unknown,
        ),
        f(
            "sensitivity_public",
            "Sensitivity public",
            w.sensitivity[0],
            d.sensitivity[0],
        ),
        f(
            "sensitivity_internal",
            "Sensitivity internal",
            w.sensitivity[1],
            d.sensitivity[1],
        ),
        f(
            "sensitivity_confidential",
            "Sensitivity confidential",
            w.sensitivity[2],
            d.sensitivity[2],
        ),
        f(
            "sensitivity_restricted",
            "Sensitivity restricted",
            w.sensitivity[3],
            d.sensitivity[3],
        ),
        f(
            "sensitivity_unknown",
            "Sensitivity unknown",
            w.sensitivity_unknown,
            d.sensitivity_unknown,
        ),
        f(
            "per_regulation",
            "Per regulation in scope",
            w.per_regulation,
            d.per_regulation,
        ),
        f(
            "regulation_cap",
            "Regulation factor cap",
            w.regulation_cap,
            d.regulation_cap,
        ),
        f("exposed", "Internet-exposed", w.exposed, d.exposed),
        f("kev", "Known exploited (KEV)", w.kev, d.kev),
        f("epss_factor", "EPSS factor", w.epss_factor, d.epss_factor),
        f(
            "saturation",
            "Threat saturation",
            w.saturation,
            d.saturation,
        ),
        f("baseline", "Baseline share", w.baseline, d.baseline),
    ]
}

async fn tenant_page(
    s: &WebState,
    signed: &Signed,
    id: TenantId,
    notice: Option<&str>,
    error: Option<&AppError>,
) -> PortalResult {
    let p = &signed.principal;
    let tenant = s.app().tenant(p, id).await?;
    let layout = Layout::new(s, signed, &tenant.name, "/tenants")
        .await?
        .with_notice(notice)
        .with_error(error);
    let can_read_users = p.can(Permission::UserRead);
    let users = if can_read_users {
        Some(s.app().list_users(p, UserFilter::Tenant(id)).await?)
    } else {
        None
    };
    let staff = if can_read_users {
        Some(s.app().assigned_staff(p, id).await?)
    } else {
        None
    };
    let can_assign = p.can(Permission::StaffAssignmentManage);
    let assignable = if can_assign {
        let assigned: Vec<_> = staff.iter().flatten().map(|u| u.id).collect();
        s.app()
            .list_users(p, UserFilter::Staff)
            .await?
            .into_iter()
            .filter(|u| {
                matches!(u.role, Role::MsspAnalyst | Role::MsspEngineer)
                    && !assigned.contains(&u.id)
            })
            .collect()
    } else {
        Vec::new()
    };
    let ranges = s.app().list_ranges(p, id).await?;
    let weights = s.app().risk_weights(p, id).await?;
    let retention_days = s.app().event_retention_days(p, id).await?;
    let page = TenantPage {
        layout,
        retention_days,
        weights_are_defaults: weights == RiskWeights::default(),
        weights: weight_fields(&weights),
        can_set_weights: p.can(Permission::TenantSettingsManage),
        ranges,
        can_manage_ranges: p.can(Permission::InventoryManage),
        criticalities: garrison_core::asset::Criticality::ALL
            .iter()
            .map(|c| c.as_str())
            .collect(),
        can_edit: p.can(Permission::TenantSettingsManage),
        tenant,
        users,
        staff,
        can_assign,
        assignable,
    };
    Ok(page_with_status(&page, error))
}

/// `GET /tenants/{tenant_id}`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    tenant_page(&s, &signed, parse_id(&id)?, q.notice.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    name: String,
    /// A checkbox: present when ticked.
    mfa_required_for_all: Option<String>,
}

/// `POST /tenants/{tenant_id}`: saves the settings.
pub async fn update(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, UpdateForm>,
) -> PortalResult {
    let id: TenantId = parse_id(&id)?;
    let change = TenantChange {
        name: Some(f.form.name.clone()),
        mfa_required_for_all: Some(f.form.mfa_required_for_all.is_some()),
    };
    match s
        .app()
        .update_tenant(&f.session.principal, id, change)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/tenants/{id}?notice=tenant-updated"))),
        Err(e) if is_form_error(&e) => tenant_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    user: String,
}

/// `POST /tenants/{tenant_id}/staff`.
pub async fn assign(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, AssignForm>,
) -> PortalResult {
    let id: TenantId = parse_id(&id)?;
    let user =
        parse_id(&f.form.user).map_err(|_| AppError::invalid("user", "choose a staff member"))?;
    match s.app().assign_staff(&f.session.principal, user, id).await {
        Ok(()) => Ok(see_other(&format!("/tenants/{id}?notice=staff-assigned"))),
        Err(e) if is_form_error(&e) => tenant_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /tenants/{tenant_id}/staff/{user_id}/remove`.
pub async fn unassign(
    State(s): State<WebState>,
    Path((id, user)): Path<(String, String)>,
    f: CsrfForm<Signed, crate::portal::login::Empty>,
) -> PortalResult {
    let id: TenantId = parse_id(&id)?;
    s.app()
        .unassign_staff(&f.session.principal, parse_id(&user)?, id)
        .await?;
    Ok(see_other(&format!("/tenants/{id}?notice=staff-removed")))
}

/// `POST /tenants/{tenant_id}/risk-weights`: every weight of the form, or
/// `reset` for the defaults.
pub async fn set_risk_weights(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, std::collections::HashMap<String, String>>,
) -> PortalResult {
    let id: TenantId = parse_id(&id)?;
    let result = async {
        let weights = if f.form.contains_key("reset") {
            None
        } else {
            let num = |name: &'static str| -> Result<f64, AppError> {
                let v = f.form.get(name).map(|v| v.trim()).unwrap_or_default();
                v.parse::<f64>().map_err(|_| {
                    AppError::invalid(name, format!("`{}` is not a number", v.escape_default()))
                })
            };
            let w = RiskWeights {
                criticality: [
                    num("criticality_low")?,
                    num("criticality_medium")?,
                    num("criticality_high")?,
                    num("criticality_critical")?,
                ],
                criticality_unknown: num("criticality_unknown")?,
                sensitivity: [
                    num("sensitivity_public")?,
                    num("sensitivity_internal")?,
                    num("sensitivity_confidential")?,
                    num("sensitivity_restricted")?,
                ],
                sensitivity_unknown: num("sensitivity_unknown")?,
                per_regulation: num("per_regulation")?,
                regulation_cap: num("regulation_cap")?,
                exposed: num("exposed")?,
                kev: num("kev")?,
                epss_factor: num("epss_factor")?,
                saturation: num("saturation")?,
                baseline: num("baseline")?,
            };
            (w != RiskWeights::default()).then_some(w)
        };
        s.app()
            .set_risk_weights(&f.session.principal, id, weights)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/tenants/{id}?notice=weights-saved"))),
        Err(e) if is_form_error(&e) => tenant_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    days: String,
}

/// `POST /tenants/{tenant_id}/event-retention`.
pub async fn set_event_retention(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, RetentionForm>,
) -> PortalResult {
    let id: TenantId = parse_id(&id)?;
    let result = match f.form.days.trim().parse::<u32>() {
        Ok(days) => {
            s.app()
                .set_event_retention_days(&f.session.principal, id, days)
                .await
        }
        Err(_) => Err(AppError::invalid(
            "days",
            "enter a number of days from 1 to 3650",
        )),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/tenants/{id}?notice=retention-saved"))),
        Err(e) if is_form_error(&e) => tenant_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

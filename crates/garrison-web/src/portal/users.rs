//! User pages: the list with the create form, one user's details, and the
//! administrator's actions on them.

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_app::AppError;
use garrison_app::admin::CreateUser;
use garrison_core::model::{ApiToken, Tenant, User, UserChange};
use garrison_core::{Permission, Role, UserId};
use garrison_store::UserFilter;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::login::Empty;
use crate::portal::{
    Layout, NoticeQuery, PortalResult, is_form_error, page_with_status, see_other,
};

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    rows: Vec<UserRow>,
    tenants: Vec<Tenant>,
    can_create: bool,
    roles: Vec<&'static str>,
}

struct UserRow {
    user: User,
    organisation: String,
}

/// Shows a secret once (a one-time password).
#[derive(Template)]
#[template(path = "secret.html")]
struct SecretPage {
    layout: Layout,
    heading: String,
    explanation: &'static str,
    secret: String,
    next: String,
}

fn tenant_name(tenants: &[Tenant], id: Option<garrison_core::TenantId>) -> String {
    match id {
        None => "MSSP".to_owned(),
        Some(id) => tenants
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.name.clone()),
    }
}

async fn users_page(
    s: &WebState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&AppError>,
) -> PortalResult {
    let p = &signed.principal;
    let layout = Layout::new(s, signed, "Users", "/users")
        .await?
        .with_notice(notice)
        .with_error(error);
    let filter = match signed.ctx.session.active_tenant {
        Some(t) => UserFilter::Tenant(t),
        None => UserFilter::All,
    };
    let tenants = s.app().list_tenants(p).await?;
    let rows = s
        .app()
        .list_users(p, filter)
        .await?
        .into_iter()
        .map(|user| UserRow {
            organisation: tenant_name(&tenants, user.tenant_id),
            user,
        })
        .collect();
    let page = UsersPage {
        layout,
        rows,
        tenants,
        can_create: p.can(Permission::UserManage),
        roles: Role::ALL
            .into_iter()
            .filter(|r| p.role().can_grant(*r))
            .map(Role::as_str)
            .collect(),
    };
    Ok(page_with_status(&page, error))
}

/// `GET /users`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    users_page(&s, &signed, q.notice.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    tenant: String,
}

/// `POST /users`: creates the user and shows the one-time password once.
pub async fn create(State(s): State<WebState>, f: CsrfForm<Signed, CreateForm>) -> PortalResult {
    let p = &f.session.principal;
    let request = (|| -> Result<CreateUser, AppError> {
        let role: Role = f
            .form
            .role
            .parse()
            .map_err(|e: garrison_core::role::UnknownRole| {
                AppError::invalid("role", e.to_string())
            })?;
        let tenant = match (role.is_mssp(), f.form.tenant.trim()) {
            (true, _) | (false, "") => None,
            (false, t) => {
                Some(parse_id(t).map_err(|_| AppError::invalid("tenant", "choose a tenant"))?)
            }
        };
        Ok(CreateUser {
            email: f.form.email.clone(),
            display_name: Some(f.form.display_name.clone()),
            role,
            tenant,
        })
    })();
    let result = match request {
        Ok(req) => s.app().create_user(p, req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            let layout = Layout::new(&s, &f.session, "User created", "/users").await?;
            let page = SecretPage {
                layout,
                heading: format!("{} was created", created.user.email),
                explanation: "Give this one-time password to the user over a separate channel. They must choose their own password, and set up MFA where required, when they first sign in. It is shown only now.",
                secret: created.one_time_password.expose().clone(),
                next: format!("/users/{}", created.user.id),
            };
            Ok(page_with_status(&page, None))
        }
        Err(e) if is_form_error(&e) => users_page(&s, &f.session, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    layout: Layout,
    user: User,
    tenant: String,
    can_manage: bool,
    is_self: bool,
    roles: Vec<&'static str>,
    tokens: Option<Vec<ApiToken>>,
    assignments: Vec<Tenant>,
}

async fn user_page(
    s: &WebState,
    signed: &Signed,
    id: UserId,
    notice: Option<&str>,
    error: Option<&AppError>,
) -> PortalResult {
    let p = &signed.principal;
    let user = s.app().user(p, id).await?;
    let tenants = s.app().list_tenants(p).await?;
    let can_manage = p.can(Permission::UserManage) && p.role().can_grant(user.role);
    let tokens = if can_manage || p.user_id() == Some(id) {
        Some(s.app().list_tokens(p, Some(id)).await?)
    } else {
        None
    };
    let assigned = s.app().assignments(p, id).await?;
    let layout = Layout::new(s, signed, &user.email, "/users")
        .await?
        .with_notice(notice)
        .with_error(error);
    let page = UserPage {
        layout,
        tenant: tenant_name(&tenants, user.tenant_id),
        can_manage,
        is_self: p.user_id() == Some(id),
        roles: Role::ALL
            .into_iter()
            .filter(|r| p.role().can_grant(*r) && r.is_mssp() == user.role.is_mssp())
            .map(Role::as_str)
            .collect(),
        tokens,
        assignments: tenants
            .into_iter()
            .filter(|t| assigned.contains(&t.id))
            .collect(),
        user,
    };
    Ok(page_with_status(&page, error))
}

/// `GET /users/{user_id}`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    user_page(&s, &signed, parse_id(&id)?, q.notice.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    disabled: Option<String>,
}

/// `POST /users/{user_id}`.
pub async fn update(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, UpdateForm>,
) -> PortalResult {
    let id: UserId = parse_id(&id)?;
    let role = if f.form.role.is_empty() {
        Ok(None)
    } else {
        f.form
            .role
            .parse::<Role>()
            .map(Some)
            .map_err(|e| AppError::invalid("role", e.to_string()))
    };
    let result = match role {
        Ok(role) => {
            let change = UserChange {
                display_name: Some(f.form.display_name.clone()),
                role,
                is_disabled: Some(f.form.disabled.is_some()),
            };
            s.app()
                .update_user(&f.session.principal, id, change)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/users/{id}?notice=user-updated"))),
        Err(e) if is_form_error(&e) => user_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /users/{user_id}/password-reset`: a new one-time password.
pub async fn reset_password(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    let id: UserId = parse_id(&id)?;
    match s.app().reset_password(&f.session.principal, id).await {
        Ok(pw) => {
            let user = s.app().user(&f.session.principal, id).await?;
            let layout = Layout::new(&s, &f.session, "Password reset", "/users").await?;
            let page = SecretPage {
                layout,
                heading: format!("New one-time password for {}", user.email),
                explanation: "Their sessions were ended. Give them this password over a separate channel; they must change it when they sign in. It is shown only now.",
                secret: pw.expose().clone(),
                next: format!("/users/{id}"),
            };
            Ok(page_with_status(&page, None))
        }
        Err(e) if is_form_error(&e) => user_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /users/{user_id}/mfa-reset`.
pub async fn reset_mfa(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    let id: UserId = parse_id(&id)?;
    match s.app().reset_mfa(&f.session.principal, id).await {
        Ok(()) => Ok(see_other(&format!("/users/{id}?notice=mfa-reset"))),
        Err(e) if is_form_error(&e) => user_page(&s, &f.session, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /users/{user_id}/tokens/{token_id}/revoke`.
pub async fn revoke_token(
    State(s): State<WebState>,
    Path((id, token)): Path<(String, String)>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    let id: UserId = parse_id(&id)?;
    s.app()
        .revoke_token(&f.session.principal, Some(id), parse_id(&token)?)
        .await?;
    Ok(see_other(&format!("/users/{id}?notice=token-revoked")))
}

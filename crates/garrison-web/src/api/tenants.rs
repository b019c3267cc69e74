//! Tenants and their assigned MSSP staff.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use garrison_core::model::TenantChange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::WebState;
use crate::api::{Body, TenantDto, UserDto};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// 2–63 lower-case letters, digits and inner hyphens.
    #[schema(example = "acme")]
    pub slug: String,
    #[schema(example = "Acme Corporation")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    pub name: Option<String>,
    /// Require MFA of every user of the tenant, not only admins.
    pub mfa_required_for_all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, body = [TenantDto]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
) -> ApiResult<Json<Vec<TenantDto>>> {
    let tenants = s.app().list_tenants(&p).await?;
    Ok(Json(tenants.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, body = TenantDto), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Body(req): Body<CreateTenant>,
) -> ApiResult<(StatusCode, Json<TenantDto>)> {
    let t = s.app().create_tenant(&p, &req.slug, &req.name).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = TenantDto), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantDto>> {
    Ok(Json(s.app().tenant(&p, parse_id(&id)?).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}", tag = "tenants", request_body = UpdateTenant,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = TenantDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<UpdateTenant>,
) -> ApiResult<Json<TenantDto>> {
    let change = TenantChange {
        name: req.name,
        mfa_required_for_all: req.mfa_required_for_all,
    };
    Ok(Json(
        s.app()
            .update_tenant(&p, parse_id(&id)?, change)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/staff", tag = "tenants",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = [UserDto]), (status = 404, body = ErrorBody)))]
pub async fn staff(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<UserDto>>> {
    let users = s.app().assigned_staff(&p, parse_id(&id)?).await?;
    Ok(Json(users.into_iter().map(Into::into).collect()))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/staff/{user_id}", tag = "tenants",
    params(("tenant_id" = String, Path, format = "uuid"), ("user_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn assign(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app()
        .assign_staff(&p, parse_id(&user)?, parse_id(&tenant)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/staff/{user_id}", tag = "tenants",
    params(("tenant_id" = String, Path, format = "uuid"), ("user_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unassign(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app()
        .unassign_staff(&p, parse_id(&user)?, parse_id(&tenant)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long a tenant keeps its events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetention {
    /// 1 to 3650 days (90 unless set).
    #[schema(example = 90)]
    pub days: u32,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/event-retention", tag = "tenants",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = EventRetention), (status = 404, body = ErrorBody)))]
pub async fn event_retention(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<EventRetention>> {
    let days = s.app().event_retention_days(&p, parse_id(&id)?).await?;
    Ok(Json(EventRetention { days }))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/event-retention", tag = "tenants",
    request_body = EventRetention,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = EventRetention), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_event_retention(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<EventRetention>,
) -> ApiResult<Json<EventRetention>> {
    let tenant = parse_id(&id)?;
    s.app()
        .set_event_retention_days(&p, tenant, req.days)
        .await?;
    let days = s.app().event_retention_days(&p, tenant).await?;
    Ok(Json(EventRetention { days }))
}

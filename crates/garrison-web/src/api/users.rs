//! Users: create (with a one-time password), list, change, reset, tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use garrison_app::AppError;
use garrison_app::admin::CreateUser;
use garrison_core::Role;
use garrison_core::model::UserChange;
use garrison_store::UserFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::{Body, Params, TokenDto, UserDto};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

fn role(s: &str) -> Result<Role, AppError> {
    s.parse()
        .map_err(|e: garrison_core::role::UnknownRole| AppError::invalid("role", e.to_string()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only customer users of this tenant.
    #[param(format = "uuid")]
    pub tenant: Option<String>,
    /// Only MSSP staff.
    pub staff: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub display_name: Option<String>,
    #[schema(example = "customer-viewer")]
    pub role: String,
    /// Required for customer roles, absent for MSSP roles.
    #[schema(format = "uuid")]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserDto,
    /// Shown once; the user must change it at first login.
    pub one_time_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OneTimePassword {
    pub one_time_password: String,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = [UserDto]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<Vec<UserDto>>> {
    let filter = match (q.tenant, q.staff) {
        (Some(t), _) => UserFilter::Tenant(parse_id(&t)?),
        (None, Some(true)) => UserFilter::Staff,
        _ => UserFilter::All,
    };
    let users = s.app().list_users(&p, filter).await?;
    Ok(Json(users.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = CreatedUser), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Body(req): Body<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let req = CreateUser {
        email: req.email,
        display_name: req.display_name,
        role: role(&req.role)?,
        tenant: req.tenant_id.as_deref().map(parse_id).transpose()?,
    };
    let created = s.app().create_user(&p, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: created.user.into(),
            one_time_password: created.one_time_password.expose().clone(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, format = "uuid")),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(s.app().user(&p, parse_id(&id)?).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/users/{user_id}", tag = "users", request_body = UpdateUserRequest,
    params(("user_id" = String, Path, format = "uuid")),
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<UpdateUserRequest>,
) -> ApiResult<Json<UserDto>> {
    let change = UserChange {
        display_name: req.display_name,
        role: req.role.as_deref().map(role).transpose()?,
        is_disabled: req.disabled,
    };
    Ok(Json(
        s.app()
            .update_user(&p, parse_id(&id)?, change)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{user_id}/password-reset", tag = "users",
    params(("user_id" = String, Path, format = "uuid")),
    responses((status = 200, body = OneTimePassword), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OneTimePassword>> {
    let pw = s.app().reset_password(&p, parse_id(&id)?).await?;
    Ok(Json(OneTimePassword {
        one_time_password: pw.expose().clone(),
    }))
}

#[utoipa::path(post, path = "/api/v1/users/{user_id}/mfa-reset", tag = "users",
    params(("user_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_mfa(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app().reset_mfa(&p, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}/tokens", tag = "users",
    params(("user_id" = String, Path, format = "uuid")),
    responses((status = 200, body = [TokenDto]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tokens(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TokenDto>>> {
    let tokens = s.app().list_tokens(&p, Some(parse_id(&id)?)).await?;
    Ok(Json(tokens.into_iter().map(Into::into).collect()))
}

#[utoipa::path(delete, path = "/api/v1/users/{user_id}/tokens/{token_id}", tag = "users",
    params(("user_id" = String, Path, format = "uuid"), ("token_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((user, token)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app()
        .revoke_token(&p, Some(parse_id(&user)?), parse_id(&token)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

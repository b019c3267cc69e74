//! `GET /api/v1/me`: who the token or session belongs to.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::WebState;
use crate::api::{TenantDto, UserDto};
use crate::error::ApiResult;
use crate::extract::ApiAuth;

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: UserDto,
    /// The tenants this user can see.
    pub tenants: Vec<TenantDto>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn show(State(s): State<WebState>, ApiAuth(p): ApiAuth) -> ApiResult<Json<Me>> {
    let id = p.user_id().ok_or(garrison_app::AppError::Unauthenticated)?;
    let user = s.app().user(&p, id).await?;
    let tenants = s.app().list_tenants(&p).await?;
    Ok(Json(Me {
        user: user.into(),
        tenants: tenants.into_iter().map(Into::into).collect(),
    }))
}

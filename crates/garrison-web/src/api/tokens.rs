//! The caller's own API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::WebState;
use crate::api::{Body, TokenDto};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[schema(example = "ci")]
    pub name: String,
    /// Days until the token expires; absent or 0 for never.
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenDto,
    /// The bearer secret. Shown once; only its hash is stored.
    pub secret: String,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = [TokenDto]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
) -> ApiResult<Json<Vec<TokenDto>>> {
    let tokens = s.app().list_tokens(&p, None).await?;
    Ok(Json(tokens.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Body(req): Body<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let issued = s
        .app()
        .create_token(&p, &req.name, req.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: issued.token.into(),
            secret: issued.secret.expose().clone(),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "tokens",
    params(("token_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app().revoke_token(&p, None, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

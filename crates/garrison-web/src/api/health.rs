//! `GET /healthz`: is the database answering?

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::WebState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    pub version: &'static str,
    pub database: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<WebState>) -> (StatusCode, Json<Health>) {
    let ok = state.app().health().await.is_ok();
    let body = Health {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        database: state.app().backend_name(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

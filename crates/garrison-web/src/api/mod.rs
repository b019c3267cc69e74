//! The JSON API under `/api/v1`. Handlers follow one rhythm: authenticate
//! (the [`ApiAuth`](crate::extract::ApiAuth) extractor) → parse → call one
//! application method, which checks the permission and tenant scope → map
//! the result to a DTO.

pub mod audit;
pub mod events;
pub mod health;
pub mod ingest;
pub mod inventory;
pub mod me;
pub mod offenses;
pub mod rules;
pub mod tenants;
pub mod tickets;
pub mod tokens;
pub mod users;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use garrison_app::AppError;
use garrison_core::Timestamp;
use garrison_core::model::{ApiToken, Tenant, User};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::{ApiError, ErrorBody};

/// A JSON request body; a body that does not parse is `invalid`, in the
/// API's own error shape.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| Self(v))
            .map_err(|e: JsonRejection| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(AppError::TooLarge(
                        "the request body is too large".to_owned(),
                    ))
                } else {
                    ApiError(AppError::invalid("body", e.body_text()))
                }
            })
    }
}

/// Query parameters, with the API's error shape.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ApiError(AppError::invalid("query", e.body_text())))
    }
}

fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// A customer organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDto {
    #[schema(format = "uuid")]
    pub id: String,
    pub slug: String,
    pub name: String,
    pub mfa_required_for_all: bool,
    #[schema(format = "date-time")]
    pub created_at: String,
}

impl From<Tenant> for TenantDto {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            slug: t.slug,
            name: t.name,
            mfa_required_for_all: t.mfa_required_for_all,
            created_at: time(t.created_at),
        }
    }
}

/// A person who logs in.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    #[schema(format = "uuid")]
    pub id: String,
    /// Absent for MSSP staff.
    #[schema(format = "uuid")]
    pub tenant_id: Option<String>,
    pub email: String,
    pub display_name: String,
    #[schema(example = "customer-admin")]
    pub role: String,
    pub is_disabled: bool,
    pub must_change_password: bool,
    pub mfa_enrolled: bool,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub last_login_at: Option<String>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            tenant_id: u.tenant_id.map(|t| t.to_string()),
            email: u.email,
            display_name: u.display_name,
            role: u.role.as_str().to_owned(),
            is_disabled: u.is_disabled,
            must_change_password: u.must_change_password,
            mfa_enrolled: u.mfa_enrolled_at.is_some(),
            created_at: time(u.created_at),
            last_login_at: u.last_login_at.map(time),
        }
    }
}

/// An API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub user_id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub last_used_at: Option<String>,
    #[schema(format = "date-time")]
    pub expires_at: Option<String>,
    #[schema(format = "date-time")]
    pub revoked_at: Option<String>,
}

impl From<ApiToken> for TokenDto {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.to_string(),
            user_id: t.user_id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created_at: time(t.created_at),
            last_used_at: t.last_used_at.map(time),
            expires_at: t.expires_at.map(time),
            revoked_at: t.revoked_at.map(time),
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `garrison token create` or the portal's token page",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "ingest_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A tenant's ingest token (`gri_...`) from the portal's ingest sources page \
                         or `POST /api/v1/tenants/{tenant_id}/ingest-tokens`",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Garrison API", description = "Security operations for MSSPs: tenants, users, tokens and the audit trail."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        health::healthz,
        me::show,
        tenants::list, tenants::create, tenants::show, tenants::update,
        tenants::staff, tenants::assign, tenants::unassign,
        tenants::event_retention, tenants::set_event_retention,
        users::list, users::create, users::show, users::update,
        users::reset_password, users::reset_mfa, users::tokens, users::revoke_token,
        tokens::list, tokens::create, tokens::revoke,
        audit::list,
        inventory::list_assets, inventory::export_assets, inventory::asset_template,
        inventory::create_asset, inventory::bulk_assets, inventory::show_asset,
        inventory::update_asset, inventory::delete_asset,
        inventory::list_findings, inventory::export_findings, inventory::set_finding_status,
        inventory::list_imports, inventory::show_import, inventory::upload_import,
        inventory::list_ranges, inventory::create_range, inventory::delete_range,
        inventory::risk_weights, inventory::set_risk_weights,
        events::list, events::show, events::counts, events::stream,
        ingest::ingest, ingest::list_tokens, ingest::create_token, ingest::revoke_token,
        offenses::list, offenses::show, offenses::assign, offenses::close, offenses::reopen,
        offenses::escalate, offenses::comment, offenses::suppressions,
        offenses::weights, offenses::set_weights,
        tickets::list, tickets::show, tickets::set_status, tickets::comment,
        tickets::plans, tickets::set_plan,
        rules::list, rules::tenant_settings, rules::set_tenant_setting, rules::test,
    ),
    components(schemas(ErrorBody, inventory::AssetPage, inventory::FindingPage, events::EventPage, events::EventDto, events::ValueCount, offenses::OffensePage, offenses::OffenseDto, offenses::OffenseDetailDto, offenses::InvolvedAssetDto, offenses::CommentDto, offenses::SuppressionDto, offenses::AssignRequest, offenses::CloseRequest, offenses::EscalateRequest, offenses::CommentRequest, offenses::WeightsDto, rules::RulesDto, rules::RuleDto, rules::FailedRuleDto, rules::TenantRuleDto, rules::TestRequest, rules::RuleTestDto, tickets::TicketPage, tickets::TicketDto, tickets::TicketDetailDto, tickets::ChangeDto, tickets::PlanDto, tickets::StatusRequest, tickets::ClockDto, tickets::TicketCommentDto, tickets::TicketCommentRequest, tickets::TicketPlanDto, tickets::PlanRequest))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

//! The offenses API: the queue (highest magnitude first) and one offense
//! with its breakdown and first events.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use garrison_app::AppError;
use garrison_app::offenses::Closing;
use garrison_core::offense::{Breakdown, Offense, OffenseComment, Resolution, Suppression};
use garrison_store::OffenseQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::events::EventDto;
use crate::api::{Body, Params};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

/// Filters for the offense queue.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OffenseParams {
    #[param(format = "uuid")]
    pub tenant: Option<String>,
    /// open or closed.
    pub status: Option<String>,
    /// Only offenses of this magnitude (0–10) or more.
    pub min_magnitude: Option<f64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl OffenseParams {
    pub(crate) fn query(&self) -> Result<OffenseQuery, AppError> {
        let min = match self.min_magnitude {
            Some(m) if (0.0..=10.0).contains(&m) => {
                #[allow(clippy::cast_possible_truncation)]
                let x10 = (m * 10.0).round() as i64;
                Some(x10)
            }
            Some(_) => {
                return Err(AppError::invalid(
                    "min_magnitude",
                    "give a magnitude from 0 to 10",
                ));
            }
            None => None,
        };
        Ok(OffenseQuery {
            tenant: self
                .tenant
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_id)
                .transpose()?,
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|e: garrison_core::validate::Invalid| {
                        AppError::invalid("status", e.to_string())
                    })
                })
                .transpose()?,
            min_magnitude_x10: min,
            limit: self
                .limit
                .unwrap_or(50)
                .clamp(1, garrison_store::MAX_OFFENSE_PAGE),
            offset: self.offset.unwrap_or(0),
        })
    }
}

/// An asset an offense involves.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvolvedAssetDto {
    #[schema(format = "uuid")]
    pub id: String,
    pub name: String,
}

/// Alerts of one detector, tenant and key, with their score.
#[derive(Debug, Serialize, ToSchema)]
pub struct OffenseDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    /// sensor, sigma, threshold, sequence or indicator.
    pub detector_kind: String,
    /// The rule, signature or indicator (stable).
    pub detector_key: String,
    pub title: String,
    /// What the offense groups by, e.g. `source.ip`.
    pub key_field: String,
    pub key_value: String,
    pub status: String,
    /// 0–10, one decimal.
    pub magnitude: f64,
    /// The breakdown in words, one line per part.
    pub explanation: Vec<String>,
    /// Severity, credibility and relevance with each reason and the value
    /// it gave, and the weights.
    #[schema(value_type = Object)]
    pub breakdown: Breakdown,
    pub event_count: u64,
    pub assets: Vec<InvolvedAssetDto>,
    #[schema(format = "uuid")]
    pub assignee: Option<String>,
    /// false-positive, benign or true-positive, once closed.
    pub resolution: Option<String>,
    pub resolution_reason: Option<String>,
    #[schema(format = "date-time")]
    pub closed_at: Option<String>,
    /// Set when an analyst asked for escalation to the customer.
    #[schema(format = "date-time")]
    pub escalation_requested_at: Option<String>,
    pub escalation_reason: Option<String>,
    #[schema(format = "date-time")]
    pub first_seen: String,
    #[schema(format = "date-time")]
    pub last_seen: String,
    #[schema(format = "date-time")]
    pub updated_at: String,
}

impl From<Offense> for OffenseDto {
    fn from(o: Offense) -> Self {
        Self {
            id: o.id.to_string(),
            tenant_id: o.tenant_id.to_string(),
            detector_kind: o.detector.kind.as_str().to_owned(),
            detector_key: o.detector.key,
            title: o.detector.title,
            key_field: o.key.field,
            key_value: o.key.value,
            status: o.status.as_str().to_owned(),
            magnitude: o.breakdown.magnitude,
            explanation: o.breakdown.explain(),
            breakdown: o.breakdown,
            event_count: o.event_count,
            assets: o
                .assets
                .into_iter()
                .map(|a| InvolvedAssetDto {
                    id: a.id.to_string(),
                    name: a.name,
                })
                .collect(),
            assignee: o.assignee.map(|u| u.to_string()),
            resolution: o.resolution.map(|r| r.as_str().to_owned()),
            resolution_reason: o.resolution_reason,
            closed_at: o.closed_at.map(|t| t.to_rfc3339()),
            escalation_requested_at: o.escalation_requested_at.map(|t| t.to_rfc3339()),
            escalation_reason: o.escalation_reason,
            first_seen: o.first_seen.to_rfc3339(),
            last_seen: o.last_seen.to_rfc3339(),
            updated_at: o.updated_at.to_rfc3339(),
        }
    }
}

/// A page of offenses.
#[derive(Debug, Serialize, ToSchema)]
pub struct OffensePage {
    pub items: Vec<OffenseDto>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// One offense with its first events (oldest first, at most 100).
#[derive(Debug, Serialize, ToSchema)]
pub struct OffenseDetailDto {
    #[serde(flatten)]
    pub offense: OffenseDto,
    pub events: Vec<EventDto>,
    /// MSSP staff see every comment; the tenant's people the shared ones.
    pub comments: Vec<CommentDto>,
    pub suppressions: Vec<SuppressionDto>,
}

/// A comment on an offense.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentDto {
    #[schema(format = "uuid")]
    pub id: String,
    pub author: String,
    pub body: String,
    /// Shown to the tenant; otherwise MSSP-internal.
    pub shared: bool,
    #[schema(format = "date-time")]
    pub created_at: String,
}

impl From<OffenseComment> for CommentDto {
    fn from(c: OffenseComment) -> Self {
        Self {
            id: c.id.to_string(),
            author: c.author,
            body: c.body,
            shared: c.shared,
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

/// A false-positive suppression: alerts of this detector for this key are
/// counted here instead of raising offenses, until it expires.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    pub detector_kind: String,
    pub detector_key: String,
    pub key_field: String,
    pub key_value: String,
    pub reason: String,
    #[schema(format = "uuid")]
    pub offense_id: Option<String>,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub expires_at: String,
    /// Alerts it swallowed.
    pub suppressed: u64,
    #[schema(format = "date-time")]
    pub last_suppressed_at: Option<String>,
}

impl From<Suppression> for SuppressionDto {
    fn from(x: Suppression) -> Self {
        Self {
            id: x.id.to_string(),
            tenant_id: x.tenant_id.to_string(),
            detector_kind: x.detector_kind.as_str().to_owned(),
            detector_key: x.detector_key,
            key_field: x.key.field,
            key_value: x.key.value,
            reason: x.reason,
            offense_id: x.offense_id.map(|o| o.to_string()),
            created_at: x.created_at.to_rfc3339(),
            expires_at: x.expires_at.to_rfc3339(),
            suppressed: x.suppressed,
            last_suppressed_at: x.last_suppressed_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/offenses", tag = "offenses", params(OffenseParams),
    responses((status = 200, body = OffensePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<OffenseParams>,
) -> ApiResult<Json<OffensePage>> {
    let query = q.query()?;
    let page = s.app().list_offenses(&p, &query).await?;
    Ok(Json(OffensePage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        limit: query.limit,
        offset: query.offset,
    }))
}

#[utoipa::path(get, path = "/api/v1/offenses/{offense_id}", tag = "offenses",
    params(("offense_id" = String, Path, format = "uuid")),
    responses((status = 200, body = OffenseDetailDto), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OffenseDetailDto>> {
    let d = s.app().offense(&p, parse_id(&id)?).await?;
    Ok(Json(OffenseDetailDto {
        offense: d.offense.into(),
        events: d.events.into_iter().map(Into::into).collect(),
        comments: d.comments.into_iter().map(Into::into).collect(),
        suppressions: d.suppressions.into_iter().map(Into::into).collect(),
    }))
}

/// Whom to assign an offense to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// An MSSP analyst or admin; null to unassign.
    #[schema(format = "uuid")]
    pub user_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/offenses/{offense_id}/assign", tag = "offenses", request_body = AssignRequest,
    params(("offense_id" = String, Path, format = "uuid")),
    responses((status = 200, body = OffenseDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<AssignRequest>,
) -> ApiResult<Json<OffenseDto>> {
    let user = req
        .user_id
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(parse_id)
        .transpose()?;
    Ok(Json(
        s.app()
            .assign_offense(&p, parse_id(&id)?, user)
            .await?
            .into(),
    ))
}

/// How to close an offense.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// false-positive, benign or true-positive.
    pub resolution: String,
    pub reason: String,
    /// False positives only: suppress this detector for this offense's key
    /// for so many days (1–365); matches are counted, not lost.
    pub suppress_days: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/offenses/{offense_id}/close", tag = "offenses", request_body = CloseRequest,
    params(("offense_id" = String, Path, format = "uuid")),
    responses((status = 200, body = OffenseDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<CloseRequest>,
) -> ApiResult<Json<OffenseDto>> {
    let resolution: Resolution =
        req.resolution
            .parse()
            .map_err(|e: garrison_core::validate::Invalid| {
                AppError::invalid("resolution", e.to_string())
            })?;
    let closing = Closing {
        resolution,
        reason: req.reason,
        suppress_days: req.suppress_days,
    };
    Ok(Json(
        s.app()
            .close_offense(&p, parse_id(&id)?, &closing)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/offenses/{offense_id}/reopen", tag = "offenses",
    params(("offense_id" = String, Path, format = "uuid")),
    responses((status = 200, body = OffenseDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reopen(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OffenseDto>> {
    Ok(Json(
        s.app().reopen_offense(&p, parse_id(&id)?).await?.into(),
    ))
}

/// Why an offense should be escalated.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/offenses/{offense_id}/escalate", tag = "offenses", request_body = EscalateRequest,
    params(("offense_id" = String, Path, format = "uuid")),
    responses((status = 200, body = OffenseDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn escalate(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<EscalateRequest>,
) -> ApiResult<Json<OffenseDto>> {
    // Escalating opens the offense's ticket (or finds it); the offense
    // is answered as it now is.
    let id = parse_id(&id)?;
    let app = s.app();
    app.escalate_offense(&p, id, &req.reason).await?;
    Ok(Json(app.offense(&p, id).await?.offense.into()))
}

/// A comment to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub body: String,
    /// Show it to the tenant's people (default: MSSP-internal).
    #[serde(default)]
    pub shared: bool,
}

#[utoipa::path(post, path = "/api/v1/offenses/{offense_id}/comments", tag = "offenses", request_body = CommentRequest,
    params(("offense_id" = String, Path, format = "uuid")),
    responses((status = 201, body = CommentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn comment(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
    Body(req): Body<CommentRequest>,
) -> ApiResult<(StatusCode, Json<CommentDto>)> {
    let c = s
        .app()
        .comment_offense(&p, parse_id(&id)?, &req.body, req.shared)
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Filters for suppressions.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SuppressionParams {
    #[param(format = "uuid")]
    pub tenant: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/suppressions", tag = "offenses", params(SuppressionParams),
    responses((status = 200, body = [SuppressionDto]), (status = 404, body = ErrorBody)))]
pub async fn suppressions(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<SuppressionParams>,
) -> ApiResult<Json<Vec<SuppressionDto>>> {
    let tenant = q
        .tenant
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(parse_id)
        .transpose()?;
    let list = s.app().list_suppressions(&p, tenant).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// How much severity, credibility and relevance weigh in a tenant's
/// offense magnitudes (each 0 to 10, not all 0).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsDto {
    pub severity: u8,
    pub credibility: u8,
    pub relevance: u8,
}

impl From<garrison_core::offense::Weights> for WeightsDto {
    fn from(w: garrison_core::offense::Weights) -> Self {
        Self {
            severity: w.severity,
            credibility: w.credibility,
            relevance: w.relevance,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/magnitude-weights", tag = "offenses",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = WeightsDto), (status = 404, body = ErrorBody)))]
pub async fn weights(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
) -> ApiResult<Json<WeightsDto>> {
    Ok(Json(
        s.app()
            .magnitude_weights(&p, parse_id(&tenant)?)
            .await?
            .into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/magnitude-weights", tag = "offenses", request_body = WeightsDto,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = WeightsDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_weights(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
    Body(req): Body<WeightsDto>,
) -> ApiResult<Json<WeightsDto>> {
    let w = garrison_core::offense::Weights {
        severity: req.severity,
        credibility: req.credibility,
        relevance: req.relevance,
    };
    Ok(Json(
        s.app()
            .set_magnitude_weights(&p, parse_id(&tenant)?, w)
            .await?
            .into(),
    ))
}

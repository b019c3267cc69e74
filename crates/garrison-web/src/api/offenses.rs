//! The offenses API: the queue (highest magnitude first) and one offense
//! with its breakdown and first events.

use axum::Json;
use axum::extract::{Path, State};
use garrison_app::AppError;
use garrison_core::offense::{Breakdown, Offense};
use garrison_store::OffenseQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::Params;
use crate::api::events::EventDto;
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
    }))
}

//! The audit trail, newest first.

use axum::Json;
use axum::extract::State;
use garrison_core::audit::AuditRecord;
use garrison_store::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::Params;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only records with a sequence number below this (paging).
    pub before: Option<i64>,
    /// At most this many records (1–1000, default 100).
    pub limit: Option<u32>,
    /// Only records of this tenant.
    #[param(format = "uuid")]
    pub tenant: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDto {
    pub seq: i64,
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "date-time")]
    pub at: String,
    #[schema(format = "uuid")]
    pub actor_id: Option<String>,
    pub actor: String,
    #[schema(format = "uuid")]
    pub tenant_id: Option<String>,
    #[schema(example = "user.created")]
    pub action: String,
    pub target: String,
    pub source_ip: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub hash: String,
}

impl From<AuditRecord> for AuditDto {
    fn from(r: AuditRecord) -> Self {
        Self {
            seq: r.seq,
            id: r.id.to_string(),
            at: r.at.to_rfc3339(),
            actor_id: r.actor_id.map(|u| u.to_string()),
            actor: r.actor_label,
            tenant_id: r.tenant_id.map(|t| t.to_string()),
            action: r.action,
            target: r.target,
            source_ip: r.source_ip,
            outcome: r.outcome.as_str().to_owned(),
            details: serde_json::from_str(&r.details)
                .unwrap_or(serde_json::Value::String(r.details)),
            hash: r.hash,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = [AuditDto]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<AuditParams>,
) -> ApiResult<Json<Vec<AuditDto>>> {
    let query = AuditQuery {
        before_seq: q.before,
        limit: q.limit.unwrap_or(100),
        tenant: q.tenant.as_deref().map(parse_id).transpose()?,
    };
    let records = s.app().list_audit(&p, &query).await?;
    Ok(Json(records.into_iter().map(Into::into).collect()))
}

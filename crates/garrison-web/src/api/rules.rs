//! The rules API: what is loaded and what failed, a tenant's settings, and
//! testing a rule against a tenant's stored events.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use garrison_app::rules::{FailedRule, RuleTest};
use garrison_store::TenantRule;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::WebState;
use crate::api::Body;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

/// A loaded rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleDto {
    pub id: String,
    pub title: String,
    /// sigma, threshold or sequence.
    pub kind: String,
    pub level: String,
    pub status: Option<String>,
    /// The file it came from (`builtin/...` for Garrison's own).
    pub origin: String,
}

/// A rule file that does not load, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedRuleDto {
    pub origin: String,
    pub rule: Option<String>,
    pub reason: String,
}

impl From<FailedRule> for FailedRuleDto {
    fn from(f: FailedRule) -> Self {
        Self {
            origin: f.origin,
            rule: f.rule,
            reason: f.reason,
        }
    }
}

/// Every rule loaded, and every stored one that fails.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesDto {
    pub version: i64,
    pub rules: Vec<RuleDto>,
    pub failed: Vec<FailedRuleDto>,
}

#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, body = RulesDto), (status = 403, body = ErrorBody)))]
pub async fn list(State(s): State<WebState>, ApiAuth(p): ApiAuth) -> ApiResult<Json<RulesDto>> {
    let o = s.app().rules_overview(&p).await?;
    Ok(Json(RulesDto {
        version: o.version,
        rules: o
            .rules
            .into_iter()
            .map(|r| RuleDto {
                id: r.id,
                title: r.title,
                kind: r.kind.to_owned(),
                level: r.level,
                status: r.status,
                origin: r.origin,
            })
            .collect(),
        failed: o.failed.into_iter().map(Into::into).collect(),
    }))
}

/// A tenant's setting for a rule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantRuleDto {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Conditions under which the rule does not fire for the tenant: each
    /// a map of field names to the value they equal (all must hold).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub exceptions: Vec<BTreeMap<String, String>>,
    /// In answers: the rule.
    #[serde(default, skip_deserializing)]
    pub rule_id: String,
}

const fn yes() -> bool {
    true
}

impl From<TenantRule> for TenantRuleDto {
    fn from(t: TenantRule) -> Self {
        Self {
            enabled: t.enabled,
            exceptions: t.exceptions,
            rule_id: t.rule_id,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/rules", tag = "rules",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = [TenantRuleDto]), (status = 404, body = ErrorBody)))]
pub async fn tenant_settings(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<TenantRuleDto>>> {
    let list = s.app().tenant_rules(&p, parse_id(&tenant)?).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/rules/{rule_id}", tag = "rules", request_body = TenantRuleDto,
    params(("tenant_id" = String, Path, format = "uuid"), ("rule_id" = String, Path)),
    responses((status = 200, body = TenantRuleDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_tenant_setting(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, rule)): Path<(String, String)>,
    Body(req): Body<TenantRuleDto>,
) -> ApiResult<Json<TenantRuleDto>> {
    let set = s
        .app()
        .set_tenant_rule(&p, parse_id(&tenant)?, &rule, req.enabled, req.exceptions)
        .await?;
    Ok(Json(set.into()))
}

/// How far back to test.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// 1 to 168.
    pub hours: u32,
}

/// What a rule would have found.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleTestDto {
    pub rule_id: String,
    pub hours: u32,
    pub scanned: u64,
    /// The window held more events than were read (50,000 at most).
    pub truncated: bool,
    pub matched: u64,
    /// The first matched events (at most 100).
    pub events: Vec<String>,
}

impl From<RuleTest> for RuleTestDto {
    fn from(t: RuleTest) -> Self {
        Self {
            rule_id: t.rule_id,
            hours: t.hours,
            scanned: t.scanned,
            truncated: t.truncated,
            matched: t.matched,
            events: t.events.into_iter().map(|e| e.to_string()).collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/rules/{rule_id}/test", tag = "rules", request_body = TestRequest,
    params(("tenant_id" = String, Path, format = "uuid"), ("rule_id" = String, Path)),
    responses((status = 200, body = RuleTestDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, rule)): Path<(String, String)>,
    Body(req): Body<TestRequest>,
) -> ApiResult<Json<RuleTestDto>> {
    Ok(Json(
        s.app()
            .test_rule(&p, parse_id(&tenant)?, &rule, req.hours)
            .await?
            .into(),
    ))
}

//! The inventory API: assets, findings, imports and network ranges.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use garrison_app::AppError;
use garrison_app::inventory::risk::RiskWeights;
use garrison_app::inventory::{AssetDetail, AssetInput, BulkChange, FindingFacts, ImportFile};
use garrison_core::asset::{
    Asset, Finding, FindingStatus, Import, ImportKind, NetworkRange, Score,
};
use garrison_core::{TenantId, Timestamp};
use garrison_store::{AssetEvent, AssetQuery, AssetRow, AssetSort, FindingQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::{Body, Params};
use crate::csv_export;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiAuth, parse_id};

fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn invalid(field: &'static str, e: impl std::fmt::Display) -> AppError {
    AppError::invalid(field, e.to_string())
}

/// A CVSS score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreDto {
    pub score: f32,
    pub vector: Option<String>,
}

fn score(s: &Option<Score>) -> Option<ScoreDto> {
    s.as_ref().map(|s| ScoreDto {
        score: s.score,
        vector: s.vector.clone(),
    })
}

/// An asset with its risk figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    pub name: String,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub ips: Vec<String>,
    pub macs: Vec<String>,
    pub zone: String,
    pub os: Option<String>,
    #[schema(example = "server")]
    pub asset_type: Option<String>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub location: Option<String>,
    #[schema(example = "high")]
    pub criticality: Option<String>,
    #[schema(example = "confidential")]
    pub sensitivity: Option<String>,
    pub regulations: Vec<String>,
    pub tags: Vec<String>,
    pub internet_exposed: Option<bool>,
    #[schema(value_type = Vec<Object>)]
    pub services: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub software: serde_json::Value,
    /// Who set each field: `manual`, `list:<format>` or `scan:<scanner>`.
    pub sources: BTreeMap<String, String>,
    pub risk_score: f64,
    pub open_findings: u32,
    pub kev_findings: u32,
    pub max_severity: Option<String>,
    #[schema(format = "date-time")]
    pub first_seen: String,
    #[schema(format = "date-time")]
    pub last_seen: String,
}

impl From<AssetRow> for AssetDto {
    fn from(r: AssetRow) -> Self {
        let a: Asset = r.asset;
        Self {
            id: a.id.to_string(),
            tenant_id: a.tenant_id.to_string(),
            name: a.display_name(),
            hostname: a.hostname,
            fqdn: a.fqdn,
            ips: a.ips.iter().map(ToString::to_string).collect(),
            macs: a.macs,
            zone: a.zone,
            os: a.os,
            asset_type: a.asset_type.map(|t| t.as_str().to_owned()),
            owner: a.owner,
            business_unit: a.business_unit,
            location: a.location,
            criticality: a.criticality.map(|c| c.as_str().to_owned()),
            sensitivity: a.sensitivity.map(|s| s.as_str().to_owned()),
            regulations: a.regulations.into_iter().collect(),
            tags: a.tags.into_iter().collect(),
            internet_exposed: a.internet_exposed,
            services: serde_json::to_value(&a.services).unwrap_or_default(),
            software: serde_json::to_value(&a.software).unwrap_or_default(),
            sources: a
                .sources
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
            risk_score: r.risk.score,
            open_findings: r.risk.open_findings,
            kev_findings: r.risk.kev_findings,
            max_severity: r.risk.max_severity.map(|s| s.as_str().to_owned()),
            first_seen: time(a.first_seen),
            last_seen: time(a.last_seen),
        }
    }
}

/// A finding's CVE in the CISA Known Exploited Vulnerabilities catalogue
/// (of its CVEs, the one due first).
#[derive(Debug, Serialize, ToSchema)]
pub struct KevDto {
    /// When CISA listed it.
    #[schema(format = "date", example = "2022-03-25")]
    pub added: String,
    /// When US federal agencies must have acted on it.
    #[schema(format = "date", example = "2022-04-15")]
    pub due: String,
    /// Known to be used in ransomware campaigns.
    pub ransomware: bool,
}

/// The FIRST EPSS score of a finding's CVE (the highest of its CVEs).
#[derive(Debug, Serialize, ToSchema)]
pub struct EpssDto {
    /// Probability of exploitation in the next 30 days, 0 to 1.
    #[schema(example = 0.91963)]
    pub score: f64,
    /// Rank among all scored CVEs, 0 to 1.
    #[schema(example = 0.99214)]
    pub percentile: f64,
}

/// A finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    #[schema(format = "uuid")]
    pub asset_id: String,
    /// `scanner|plugin_id|port|protocol`: how scans recognise the finding.
    pub dedup_key: String,
    pub scanner: String,
    pub plugin_id: String,
    pub title: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub cves: Vec<String>,
    pub severity: String,
    pub cvss2: Option<ScoreDto>,
    /// The scanner's CVSS v3, else NVD's for the finding's CVEs.
    pub cvss3: Option<ScoreDto>,
    /// Where `cvss3` comes from: `scanner` or `nvd`.
    #[schema(example = "scanner")]
    pub cvss_source: Option<String>,
    pub cvss4: Option<ScoreDto>,
    /// Present when one of the finding's CVEs is in CISA KEV.
    pub kev: Option<KevDto>,
    /// Present when FIRST EPSS scores one of the finding's CVEs.
    pub epss: Option<EpssDto>,
    pub description: Option<String>,
    pub solution: Option<String>,
    pub evidence: Option<String>,
    #[schema(example = "open")]
    pub status: String,
    pub status_reason: Option<String>,
    #[schema(format = "date-time")]
    pub accepted_until: Option<String>,
    #[schema(format = "date-time")]
    pub first_seen: String,
    #[schema(format = "date-time")]
    pub last_seen: String,
    #[schema(format = "date-time")]
    pub fixed_at: Option<String>,
}

impl FindingDto {
    /// A finding with what the vulnerability data adds to it.
    #[must_use]
    pub fn new(f: Finding, facts: FindingFacts) -> Self {
        Self {
            id: f.id.to_string(),
            tenant_id: f.tenant_id.to_string(),
            asset_id: f.asset_id.to_string(),
            dedup_key: f.dedup_key,
            scanner: f.scanner,
            plugin_id: f.plugin_id,
            title: f.title,
            port: f.port,
            protocol: f.protocol,
            cves: f.cves,
            severity: f.severity.as_str().to_owned(),
            cvss2: score(&f.cvss2),
            cvss3: score(&facts.cvss3),
            cvss_source: facts.cvss_source.map(|s| s.as_str().to_owned()),
            cvss4: score(&f.cvss4),
            kev: facts.kev.map(|k| KevDto {
                added: k.added,
                due: k.due,
                ransomware: k.ransomware,
            }),
            epss: facts.epss.map(|e| EpssDto {
                score: e.score,
                percentile: e.percentile,
            }),
            description: f.description,
            solution: f.solution,
            evidence: f.evidence,
            status: f.status.as_str().to_owned(),
            status_reason: f.status_reason,
            accepted_until: f.accepted_until.map(time),
            first_seen: time(f.first_seen),
            last_seen: time(f.last_seen),
            fixed_at: f.fixed_at.map(time),
        }
    }

    /// Findings with their facts (from `App::finding_facts`, same order).
    #[must_use]
    pub fn list(findings: Vec<Finding>, facts: Vec<FindingFacts>) -> Vec<Self> {
        let mut facts = facts.into_iter();
        findings
            .into_iter()
            .map(|f| Self::new(f, facts.next().unwrap_or_default()))
            .collect()
    }
}

/// A change in an asset's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetEventDto {
    #[schema(format = "date-time")]
    pub at: String,
    pub actor: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AssetEvent> for AssetEventDto {
    fn from(e: AssetEvent) -> Self {
        Self {
            at: time(e.at),
            actor: e.actor,
            kind: e.kind,
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// An asset with its findings, history and how its risk score was reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetDetailDto {
    pub asset: AssetDto,
    pub findings: Vec<FindingDto>,
    pub history: Vec<AssetEventDto>,
    #[schema(value_type = Object)]
    pub risk_breakdown: serde_json::Value,
}

impl From<AssetDetail> for AssetDetailDto {
    fn from(d: AssetDetail) -> Self {
        Self {
            asset: d.row.into(),
            findings: FindingDto::list(d.findings, d.finding_facts),
            history: d.events.into_iter().map(Into::into).collect(),
            risk_breakdown: serde_json::to_value(&d.risk).unwrap_or_default(),
        }
    }
}

/// An import and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: Option<String>,
    pub kind: String,
    pub format: String,
    pub file_name: String,
    #[schema(example = "running")]
    pub status: String,
    pub bytes_total: u64,
    pub bytes_done: u64,
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub rejections: serde_json::Value,
    pub error: Option<String>,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub finished_at: Option<String>,
}

impl From<Import> for ImportDto {
    fn from(i: Import) -> Self {
        Self {
            id: i.id.to_string(),
            tenant_id: i.tenant_id.map(|t| t.to_string()),
            kind: i.kind.as_str().to_owned(),
            format: i.format,
            file_name: i.file_name,
            status: i.status.as_str().to_owned(),
            bytes_total: i.bytes_total,
            bytes_done: i.bytes_done,
            counts: serde_json::to_value(&i.counts).unwrap_or_default(),
            rejections: serde_json::to_value(&i.rejections).unwrap_or_default(),
            error: i.error,
            created_at: time(i.created_at),
            finished_at: i.finished_at.map(time),
        }
    }
}

/// A network range of a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct RangeDto {
    #[schema(format = "uuid")]
    pub id: String,
    pub cidr: String,
    pub zone: String,
    pub default_criticality: Option<String>,
    pub description: Option<String>,
}

impl From<NetworkRange> for RangeDto {
    fn from(r: NetworkRange) -> Self {
        Self {
            id: r.id.to_string(),
            cidr: r.cidr,
            zone: r.zone,
            default_criticality: r.default_criticality.map(|c| c.as_str().to_owned()),
            description: r.description,
        }
    }
}

/// A page of assets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetPage {
    pub items: Vec<AssetDto>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A page of findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingPage {
    pub items: Vec<FindingDto>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// Filters for asset lists.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AssetParams {
    /// Only this tenant.
    #[param(format = "uuid")]
    pub tenant: Option<String>,
    /// Searches names, addresses, owner, business unit, location, OS.
    pub q: Option<String>,
    pub criticality: Option<String>,
    pub tag: Option<String>,
    pub regulation: Option<String>,
    pub exposed: Option<bool>,
    /// Only assets with an open finding in CISA KEV.
    pub kev: Option<bool>,
    /// `risk` (default), `name` or `last_seen`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl AssetParams {
    pub(crate) fn query(&self) -> Result<AssetQuery, AppError> {
        Ok(AssetQuery {
            tenant: self
                .tenant
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_id)
                .transpose()?,
            text: self.q.clone().filter(|s| !s.trim().is_empty()),
            criticality: self
                .criticality
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|c| c.parse().map_err(|e| invalid("criticality", e)))
                .transpose()?,
            tag: self
                .tag
                .clone()
                .filter(|s| !s.is_empty())
                .map(|t| t.to_lowercase()),
            regulation: self
                .regulation
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(garrison_core::asset::regulation)
                .transpose()?,
            internet_exposed: self.exposed,
            has_kev: self.kev.unwrap_or(false),
            sort: match self.sort.as_deref() {
                None | Some("" | "risk") => AssetSort::Risk,
                Some("name") => AssetSort::Name,
                Some("last_seen") => AssetSort::LastSeen,
                Some(other) => {
                    return Err(invalid(
                        "sort",
                        format!("`{other}` is not risk, name or last_seen"),
                    ));
                }
            },
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
            offset: self.offset.unwrap_or(0),
        })
    }
}

/// Filters for finding lists.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FindingParams {
    #[param(format = "uuid")]
    pub tenant: Option<String>,
    #[param(format = "uuid")]
    pub asset: Option<String>,
    /// open, fixed, reopened, accepted-risk, false-positive.
    pub status: Option<String>,
    /// Only open and reopened findings.
    pub open: Option<bool>,
    /// info, low, medium, high, critical.
    pub min_severity: Option<String>,
    pub cve: Option<String>,
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl FindingParams {
    pub(crate) fn query(&self) -> Result<FindingQuery, AppError> {
        Ok(FindingQuery {
            tenant: self
                .tenant
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_id)
                .transpose()?,
            asset: self
                .asset
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_id)
                .transpose()?,
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|e| invalid("status", e)))
                .transpose()?,
            open_only: self.open.unwrap_or(false),
            min_severity: self
                .min_severity
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|e| invalid("min_severity", e)))
                .transpose()?,
            cve: self.cve.clone().filter(|s| !s.is_empty()),
            text: self.q.clone().filter(|s| !s.trim().is_empty()),
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
            offset: self.offset.unwrap_or(0),
        })
    }
}

/// An asset as a person enters it.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AssetRequest {
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub ips: Vec<String>,
    pub macs: Vec<String>,
    pub os: Option<String>,
    pub asset_type: Option<String>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub location: Option<String>,
    pub criticality: Option<String>,
    pub sensitivity: Option<String>,
    pub regulations: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub internet_exposed: Option<bool>,
}

impl AssetRequest {
    pub(crate) fn input(self) -> Result<AssetInput, AppError> {
        Ok(AssetInput {
            hostname: self.hostname,
            fqdn: self.fqdn,
            ips: self
                .ips
                .iter()
                .map(|s| {
                    s.trim().parse().map_err(|_| {
                        invalid(
                            "ips",
                            format!("`{}` is not an IP address", s.escape_default()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            macs: self.macs,
            os: self.os,
            asset_type: self
                .asset_type
                .as_deref()
                .map(|s| s.parse().map_err(|e| invalid("asset_type", e)))
                .transpose()?,
            owner: self.owner,
            business_unit: self.business_unit,
            location: self.location,
            criticality: self
                .criticality
                .as_deref()
                .map(|s| s.parse().map_err(|e| invalid("criticality", e)))
                .transpose()?,
            sensitivity: self
                .sensitivity
                .as_deref()
                .map(|s| s.parse().map_err(|e| invalid("sensitivity", e)))
                .transpose()?,
            regulations: self.regulations,
            tags: self.tags,
            internet_exposed: self.internet_exposed,
        })
    }
}

/// A change to several assets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub asset_ids: Vec<String>,
    pub criticality: Option<String>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    pub regulations: Option<Vec<String>>,
}

/// How many assets a bulk change touched.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub changed: u64,
}

/// A status change of a finding.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// open, fixed, accepted-risk, false-positive.
    pub status: String,
    /// Why: required.
    pub reason: String,
    /// For accepted risk: when the acceptance ends (RFC 3339).
    pub accepted_until: Option<String>,
}

/// A new network range.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeRequest {
    #[schema(example = "10.1.0.0/16")]
    pub cidr: String,
    #[schema(example = "dc-paris")]
    pub zone: String,
    pub default_criticality: Option<String>,
    pub description: Option<String>,
}

pub(crate) fn parse_time(field: &'static str, s: &str) -> Result<Timestamp, AppError> {
    Timestamp::parse(s).ok_or_else(|| {
        invalid(
            field,
            format!(
                "`{}` is not a date (YYYY-MM-DD) or an RFC 3339 time",
                s.escape_default()
            ),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/assets", tag = "inventory", params(AssetParams),
    responses((status = 200, body = AssetPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_assets(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<AssetParams>,
) -> ApiResult<Json<AssetPage>> {
    let query = q.query()?;
    let page = s.app().list_assets(&p, &query).await?;
    Ok(Json(AssetPage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        limit: query.limit,
        offset: query.offset,
    }))
}

/// Columns of the asset export.
const ASSET_CSV: &[&str] = &[
    "tenant_id",
    "id",
    "name",
    "hostname",
    "fqdn",
    "ips",
    "macs",
    "zone",
    "os",
    "type",
    "owner",
    "business_unit",
    "location",
    "criticality",
    "sensitivity",
    "regulations",
    "tags",
    "internet_exposed",
    "risk_score",
    "open_findings",
    "kev_findings",
    "last_seen",
];

pub(crate) fn asset_csv(rows: Vec<AssetRow>) -> String {
    csv_export::document(
        ASSET_CSV,
        rows.into_iter().map(|r| {
            let a = r.asset;
            vec![
                a.tenant_id.to_string(),
                a.id.to_string(),
                a.display_name(),
                a.hostname.unwrap_or_default(),
                a.fqdn.unwrap_or_default(),
                a.ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(";"),
                a.macs.join(";"),
                a.zone,
                a.os.unwrap_or_default(),
                a.asset_type
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                a.owner.unwrap_or_default(),
                a.business_unit.unwrap_or_default(),
                a.location.unwrap_or_default(),
                a.criticality
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
                a.sensitivity
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
                a.regulations.into_iter().collect::<Vec<_>>().join(";"),
                a.tags.into_iter().collect::<Vec<_>>().join(";"),
                a.internet_exposed
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
                format!("{:.1}", r.risk.score),
                r.risk.open_findings.to_string(),
                r.risk.kev_findings.to_string(),
                a.last_seen.to_rfc3339(),
            ]
        }),
    )
}

/// Columns of the finding export.
const FINDING_CSV: &[&str] = &[
    "tenant_id",
    "asset_id",
    "id",
    "scanner",
    "plugin_id",
    "title",
    "severity",
    "cvss3",
    "cves",
    "port",
    "protocol",
    "status",
    "status_reason",
    "first_seen",
    "last_seen",
];

pub(crate) fn finding_csv(rows: Vec<Finding>) -> String {
    csv_export::document(
        FINDING_CSV,
        rows.into_iter().map(|f| {
            vec![
                f.tenant_id.to_string(),
                f.asset_id.to_string(),
                f.id.to_string(),
                f.scanner,
                f.plugin_id,
                f.title,
                f.severity.as_str().to_owned(),
                f.cvss3
                    .map(|s| format!("{:.1}", s.score))
                    .unwrap_or_default(),
                f.cves.join(";"),
                f.port.map(|p| p.to_string()).unwrap_or_default(),
                f.protocol.unwrap_or_default(),
                f.status.as_str().to_owned(),
                f.status_reason.unwrap_or_default(),
                f.first_seen.to_rfc3339(),
                f.last_seen.to_rfc3339(),
            ]
        }),
    )
}

/// Rows an export holds at most.
pub(crate) const EXPORT_LIMIT: u32 = 100_000;

#[utoipa::path(get, path = "/api/v1/assets.csv", tag = "inventory", params(AssetParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_assets(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<AssetParams>,
) -> ApiResult<Response> {
    let mut query = q.query()?;
    query.limit = EXPORT_LIMIT;
    query.offset = 0;
    let page = s.app().list_assets(&p, &query).await?;
    Ok(csv_export::download("assets.csv", asset_csv(page.items)))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/assets", tag = "inventory", request_body = AssetRequest,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 201, body = AssetDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_asset(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
    Body(req): Body<AssetRequest>,
) -> ApiResult<(StatusCode, Json<AssetDto>)> {
    let tenant: TenantId = parse_id(&tenant)?;
    let asset = s.app().create_asset(&p, tenant, req.input()?).await?;
    let detail = s.app().asset_detail(&p, tenant, asset.id).await?;
    Ok((StatusCode::CREATED, Json(detail.row.into())))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/assets/bulk", tag = "inventory", request_body = BulkRequest,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = BulkResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_assets(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
    Body(req): Body<BulkRequest>,
) -> ApiResult<Json<BulkResult>> {
    let tenant: TenantId = parse_id(&tenant)?;
    let ids = req
        .asset_ids
        .iter()
        .map(|i| parse_id(i))
        .collect::<Result<Vec<_>, _>>()?;
    let change = BulkChange {
        criticality: req
            .criticality
            .as_deref()
            .map(|c| c.parse().map_err(|e| invalid("criticality", e)))
            .transpose()?,
        add_tags: req.add_tags,
        remove_tags: req.remove_tags,
        regulations: req.regulations,
    };
    let changed = s
        .app()
        .bulk_update_assets(&p, tenant, &ids, &change)
        .await?;
    Ok(Json(BulkResult { changed }))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/assets/{asset_id}", tag = "inventory",
    params(("tenant_id" = String, Path, format = "uuid"), ("asset_id" = String, Path, format = "uuid")),
    responses((status = 200, body = AssetDetailDto), (status = 404, body = ErrorBody)))]
pub async fn show_asset(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, asset)): Path<(String, String)>,
) -> ApiResult<Json<AssetDetailDto>> {
    let detail = s
        .app()
        .asset_detail(&p, parse_id(&tenant)?, parse_id(&asset)?)
        .await?;
    Ok(Json(detail.into()))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}/assets/{asset_id}", tag = "inventory", request_body = AssetRequest,
    params(("tenant_id" = String, Path, format = "uuid"), ("asset_id" = String, Path, format = "uuid")),
    responses((status = 200, body = AssetDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_asset(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, asset)): Path<(String, String)>,
    Body(req): Body<AssetRequest>,
) -> ApiResult<Json<AssetDto>> {
    let tenant: TenantId = parse_id(&tenant)?;
    let asset = s
        .app()
        .update_asset(&p, tenant, parse_id(&asset)?, req.input()?)
        .await?;
    let detail = s.app().asset_detail(&p, tenant, asset.id).await?;
    Ok(Json(detail.row.into()))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/assets/{asset_id}", tag = "inventory",
    params(("tenant_id" = String, Path, format = "uuid"), ("asset_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_asset(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, asset)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app()
        .delete_asset(&p, parse_id(&tenant)?, parse_id(&asset)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/findings", tag = "inventory", params(FindingParams),
    responses((status = 200, body = FindingPage), (status = 404, body = ErrorBody)))]
pub async fn list_findings(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<FindingParams>,
) -> ApiResult<Json<FindingPage>> {
    let query = q.query()?;
    let page = s.app().list_findings(&p, &query).await?;
    let facts = s.app().finding_facts(&page.items).await?;
    Ok(Json(FindingPage {
        items: FindingDto::list(page.items, facts),
        total: page.total,
        limit: query.limit,
        offset: query.offset,
    }))
}

#[utoipa::path(get, path = "/api/v1/findings.csv", tag = "inventory", params(FindingParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_findings(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<FindingParams>,
) -> ApiResult<Response> {
    let mut query = q.query()?;
    query.limit = EXPORT_LIMIT;
    query.offset = 0;
    let page = s.app().list_findings(&p, &query).await?;
    Ok(csv_export::download(
        "findings.csv",
        finding_csv(page.items),
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/findings/{finding_id}/status", tag = "inventory", request_body = StatusRequest,
    params(("tenant_id" = String, Path, format = "uuid"), ("finding_id" = String, Path, format = "uuid")),
    responses((status = 200, body = FindingDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_finding_status(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, finding)): Path<(String, String)>,
    Body(req): Body<StatusRequest>,
) -> ApiResult<Json<FindingDto>> {
    let status: FindingStatus = req.status.parse().map_err(|e| invalid("status", e))?;
    let until = req
        .accepted_until
        .as_deref()
        .map(|u| parse_time("accepted_until", u))
        .transpose()?;
    let f = s
        .app()
        .set_finding_status(
            &p,
            parse_id(&tenant)?,
            parse_id(&finding)?,
            status,
            &req.reason,
            until,
        )
        .await?;
    let facts = s.app().finding_facts(std::slice::from_ref(&f)).await?;
    Ok(Json(FindingDto::new(
        f,
        facts.into_iter().next().unwrap_or_default(),
    )))
}

/// Filters for imports.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ImportParams {
    #[param(format = "uuid")]
    pub tenant: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/imports", tag = "inventory", params(ImportParams),
    responses((status = 200, body = [ImportDto]), (status = 404, body = ErrorBody)))]
pub async fn list_imports(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<ImportParams>,
) -> ApiResult<Json<Vec<ImportDto>>> {
    let tenant = q
        .tenant
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(parse_id)
        .transpose()?;
    let list = s.app().list_imports(&p, tenant).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/imports/{import_id}", tag = "inventory",
    params(("import_id" = String, Path, format = "uuid")),
    responses((status = 200, body = ImportDto), (status = 404, body = ErrorBody)))]
pub async fn show_import(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ImportDto>> {
    Ok(Json(
        s.app().import_status(&p, parse_id(&id)?).await?.into(),
    ))
}

/// Receives an upload into a file, refusing more than `limit` bytes.
///
/// `gate` sees the fields sent before the file and may refuse the upload
/// before a byte of the file is written (the portal checks its CSRF token
/// there); forms therefore put the file last.
pub(crate) async fn receive_upload(
    multipart: &mut Multipart,
    dir: &std::path::Path,
    limit: u64,
    gate: impl AsyncFnOnce(&BTreeMap<String, String>) -> Result<(), AppError>,
) -> Result<(std::path::PathBuf, String, BTreeMap<String, String>), AppError> {
    use tokio::io::AsyncWriteExt;
    let mut fields = BTreeMap::new();
    let mut saved: Option<(std::path::PathBuf, String)> = None;
    let mut gate = Some(gate);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| invalid("upload", format!("the upload could not be read: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if saved.is_some() {
                break;
            }
            if let Some(gate) = gate.take() {
                gate(&fields).await?;
            }
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| AppError::Unavailable(format!("upload directory: {e}")))?;
            let path = dir.join(format!("{}.upload", garrison_core::ImportId::new()));
            let mut out = tokio::fs::File::create(&path)
                .await
                .map_err(|e| AppError::Unavailable(format!("upload file: {e}")))?;
            let mut written: u64 = 0;
            loop {
                let chunk = match field.chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&path).await;
                        return Err(invalid("file", format!("the upload broke off: {e}")));
                    }
                };
                written += chunk.len() as u64;
                if written > limit {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(AppError::TooLarge(format!(
                        "the file is larger than {} MiB",
                        limit / (1024 * 1024)
                    )));
                }
                out.write_all(&chunk)
                    .await
                    .map_err(|e| AppError::Unavailable(format!("writing the upload: {e}")))?;
            }
            out.flush()
                .await
                .map_err(|e| AppError::Unavailable(format!("writing the upload: {e}")))?;
            saved = Some((path, file_name));
        } else if saved.is_none() && fields.len() < 16 {
            // Small form fields only: read at most 4 KiB of each.
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| invalid("upload", e))? {
                if value.len() + chunk.len() > 4096 {
                    return Err(invalid(
                        "upload",
                        format!("the form field `{}` is too long", name.escape_default()),
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| {
                invalid(
                    "upload",
                    format!("the form field `{}` is not UTF-8", name.escape_default()),
                )
            })?;
            fields.insert(name, value.chars().take(256).collect());
        }
    }
    let (path, file_name) =
        saved.ok_or_else(|| invalid("file", "the upload has no `file` part"))?;
    Ok((path, file_name, fields))
}

/// The import request sent as multipart form fields.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the multipart form in the OpenAPI document"
)]
pub struct ImportUpload {
    /// `assets` or `scan`.
    kind: String,
    /// Optional: csv, json, nmap, nessus, openvas, qualys, scan-csv (detected otherwise).
    format: Option<String>,
    /// Optional network zone of the hosts.
    zone: Option<String>,
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

pub(crate) fn import_request(
    tenant: TenantId,
    path: std::path::PathBuf,
    file_name: String,
    fields: &BTreeMap<String, String>,
) -> Result<ImportFile, AppError> {
    let kind = match fields.get("kind").map(String::as_str) {
        Some("assets") => ImportKind::Assets,
        Some("scan") | None => ImportKind::Scan,
        Some(other) => return Err(invalid("kind", format!("`{other}` is not assets or scan"))),
    };
    let format = match fields
        .get("format")
        .map(String::as_str)
        .filter(|f| !f.is_empty())
    {
        None => None,
        Some(f) => Some(
            garrison_app::inventory::Format::parse(f)
                .ok_or_else(|| invalid("format", format!("`{f}` is not a known format")))?,
        ),
    };
    Ok(ImportFile {
        tenant,
        path,
        file_name,
        format,
        zone: fields.get("zone").cloned().filter(|z| !z.trim().is_empty()),
        kind,
        delete_after: true,
    })
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/imports", tag = "inventory",
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 202, body = ImportDto), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_import(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
    mut multipart: Multipart,
) -> ApiResult<(StatusCode, Json<ImportDto>)> {
    let tenant: TenantId = parse_id(&tenant)?;
    // Check access before taking the upload.
    s.app().list_ranges(&p, tenant).await?;
    let (path, file_name, fields) = receive_upload(
        &mut multipart,
        &s.config().upload_dir,
        s.config().max_upload_bytes,
        async |_: &BTreeMap<String, String>| Ok(()),
    )
    .await?;
    let req = import_request(tenant, path.clone(), file_name, &fields).inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })?;
    let import = garrison_app::App::start_import(s.app_arc(), &p, req).await?;
    Ok((StatusCode::ACCEPTED, Json(import.into())))
}

#[utoipa::path(get, path = "/api/v1/asset-template.csv", tag = "inventory",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn asset_template(ApiAuth(_p): ApiAuth) -> Response {
    csv_export::download(
        "assets-template.csv",
        garrison_app::inventory::csv_template(),
    )
}

/// The weights of a tenant's risk scores (see `docs/scoring.md`). In a
/// request, keys left out take their defaults; `{}` restores every default.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RiskWeightsDto {
    /// Value weight of criticality low, medium, high, critical.
    #[schema(example = json!([1.0, 2.0, 3.0, 4.0]))]
    pub criticality: [f64; 4],
    pub criticality_unknown: f64,
    /// Weight of sensitivity public, internal, confidential, restricted.
    pub sensitivity: [f64; 4],
    pub sensitivity_unknown: f64,
    pub per_regulation: f64,
    pub regulation_cap: f64,
    pub exposed: f64,
    pub kev: f64,
    pub epss_factor: f64,
    pub saturation: f64,
    pub baseline: f64,
    /// Whether these are the defaults (the tenant has set none).
    #[serde(default)]
    pub defaults: bool,
}

fn weights_dto(w: RiskWeights) -> RiskWeightsDto {
    RiskWeightsDto {
        defaults: w == RiskWeights::default(),
        criticality: w.criticality,
        criticality_unknown: w.criticality_unknown,
        sensitivity: w.sensitivity,
        sensitivity_unknown: w.sensitivity_unknown,
        per_regulation: w.per_regulation,
        regulation_cap: w.regulation_cap,
        exposed: w.exposed,
        kev: w.kev,
        epss_factor: w.epss_factor,
        saturation: w.saturation,
        baseline: w.baseline,
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/risk-weights", tag = "inventory",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = RiskWeightsDto), (status = 404, body = ErrorBody)))]
pub async fn risk_weights(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
) -> ApiResult<Json<RiskWeightsDto>> {
    let w = s.app().risk_weights(&p, parse_id(&tenant)?).await?;
    Ok(Json(weights_dto(w)))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/risk-weights", tag = "inventory",
    request_body = RiskWeightsDto,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = RiskWeightsDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_risk_weights(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
    Body(req): Body<serde_json::Value>,
) -> ApiResult<Json<RiskWeightsDto>> {
    let mut req = req;
    if let Some(o) = req.as_object_mut() {
        // Echoing a GET back is fine.
        o.remove("defaults");
    }
    let w: RiskWeights = serde_json::from_value(req).map_err(|e| invalid("weights", e))?;
    let w = (w != RiskWeights::default()).then_some(w);
    let saved = s.app().set_risk_weights(&p, parse_id(&tenant)?, w).await?;
    Ok(Json(weights_dto(saved)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/ranges", tag = "inventory",
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 200, body = [RangeDto]), (status = 404, body = ErrorBody)))]
pub async fn list_ranges(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<RangeDto>>> {
    let ranges = s.app().list_ranges(&p, parse_id(&tenant)?).await?;
    Ok(Json(ranges.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/ranges", tag = "inventory", request_body = RangeRequest,
    params(("tenant_id" = String, Path, format = "uuid")),
    responses((status = 201, body = RangeDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_range(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant): Path<String>,
    Body(req): Body<RangeRequest>,
) -> ApiResult<(StatusCode, Json<RangeDto>)> {
    let crit = req
        .default_criticality
        .as_deref()
        .map(|c| c.parse().map_err(|e| invalid("default_criticality", e)))
        .transpose()?;
    let r = s
        .app()
        .create_range(
            &p,
            parse_id(&tenant)?,
            &req.cidr,
            &req.zone,
            crit,
            req.description,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/ranges/{range_id}", tag = "inventory",
    params(("tenant_id" = String, Path, format = "uuid"), ("range_id" = String, Path, format = "uuid")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_range(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant, range)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app()
        .delete_range(&p, parse_id(&tenant)?, parse_id(&range)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Inventory pages: the asset list (search, filters, bulk edit, export),
//! one asset (profile with the source of every field, services, software,
//! findings, history, risk), the findings list with status changes, and
//! network ranges on the tenant page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use garrison_app::AppError;
use garrison_app::inventory::{AssetDetail, AssetInput, BulkChange};
use garrison_core::asset::{AssetType, Criticality, Finding, FindingStatus, Sensitivity, field};
use garrison_core::{Permission, TenantId};
use garrison_store::{AssetQuery, AssetRow, AssetSort, FindingQuery};
use serde::Deserialize;

use crate::WebState;
use crate::api::inventory::{EXPORT_LIMIT, asset_csv, finding_csv, parse_time};
use crate::csv_export;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::login::Empty;
use crate::portal::{Layout, PortalResult, is_form_error, page_with_status, see_other};

const PAGE: u32 = 50;

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The asset list's filters, as a GET form sends them.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct AssetFilter {
    pub q: Option<String>,
    pub tenant: Option<String>,
    pub criticality: Option<String>,
    pub tag: Option<String>,
    pub regulation: Option<String>,
    pub exposed: Option<String>,
    pub kev: Option<String>,
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub notice: Option<String>,
}

impl AssetFilter {
    fn query(&self, active: Option<TenantId>) -> Result<AssetQuery, AppError> {
        let tenant = match opt(&self.tenant) {
            Some(t) => Some(parse_id(t)?),
            None => active,
        };
        Ok(AssetQuery {
            tenant,
            text: opt(&self.q).map(str::to_owned),
            criticality: opt(&self.criticality)
                .map(|c| {
                    c.parse()
                        .map_err(|e: garrison_core::validate::Invalid| AppError::from(e))
                })
                .transpose()?,
            tag: opt(&self.tag).map(str::to_lowercase),
            regulation: opt(&self.regulation)
                .map(garrison_core::asset::regulation)
                .transpose()?,
            internet_exposed: match opt(&self.exposed) {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            has_kev: opt(&self.kev).is_some(),
            sort: match opt(&self.sort) {
                Some("name") => AssetSort::Name,
                Some("last_seen") => AssetSort::LastSeen,
                _ => AssetSort::Risk,
            },
            limit: PAGE,
            offset: self.page.unwrap_or(0).saturating_mul(PAGE),
        })
    }

    /// The filter as a query string (for paging and export links); values
    /// are percent-encoded.
    fn query_string(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("tenant", &self.tenant),
            ("criticality", &self.criticality),
            ("tag", &self.tag),
            ("regulation", &self.regulation),
            ("exposed", &self.exposed),
            ("kev", &self.kev),
            ("sort", &self.sort),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| opt(v).map(|v| format!("{k}={}", encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) struct AssetLine {
    pub row: AssetRow,
    pub tenant: String,
    pub tenant_id: String,
}

#[derive(Template)]
#[template(path = "assets.html")]
struct AssetsPage {
    layout: Layout,
    filter: AssetFilter,
    lines: Vec<AssetLine>,
    total: u64,
    page: u32,
    pages: u32,
    query: String,
    tenants: Vec<garrison_core::model::Tenant>,
    bulk_tenant: Option<String>,
    can_manage: bool,
    criticalities: Vec<&'static str>,
    sensitivities: Vec<&'static str>,
    types: Vec<&'static str>,
}

async fn assets_page(
    s: &WebState,
    signed: &Signed,
    filter: AssetFilter,
    error: Option<&AppError>,
) -> PortalResult {
    let p = &signed.principal;
    let query = filter.query(signed.ctx.session.active_tenant)?;
    let page = s.app().list_assets(p, &query).await?;
    let tenants = s.app().list_tenants(p).await?;
    let name_of = |id: TenantId| {
        tenants
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.slug.clone())
    };
    let lines = page
        .items
        .into_iter()
        .map(|row| AssetLine {
            tenant: name_of(row.asset.tenant_id),
            tenant_id: row.asset.tenant_id.to_string(),
            row,
        })
        .collect();
    let layout = Layout::new(s, signed, "Assets", "/assets")
        .await?
        .with_notice(filter.notice.as_deref())
        .with_error(error);
    let pages = u32::try_from(page.total.div_ceil(u64::from(PAGE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let view = AssetsPage {
        layout,
        query: filter.query_string(),
        page: filter.page.unwrap_or(0),
        filter,
        lines,
        total: page.total,
        pages,
        bulk_tenant: query.tenant.map(|t| t.to_string()),
        tenants,
        can_manage: p.can(Permission::InventoryManage),
        criticalities: Criticality::ALL.iter().map(|c| c.as_str()).collect(),
        sensitivities: Sensitivity::ALL.iter().map(|c| c.as_str()).collect(),
        types: AssetType::ALL.iter().map(|c| c.as_str()).collect(),
    };
    Ok(page_with_status(&view, error))
}

/// `GET /assets`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(filter): Query<AssetFilter>,
) -> PortalResult {
    assets_page(&s, &signed, filter, None).await
}

/// `GET /assets.csv`: the filtered list as CSV (cells escaped against
/// spreadsheet formulas).
pub async fn export(
    State(s): State<WebState>,
    signed: Signed,
    Query(filter): Query<AssetFilter>,
) -> PortalResult {
    let mut query = filter.query(signed.ctx.session.active_tenant)?;
    query.limit = EXPORT_LIMIT;
    query.offset = 0;
    let page = s.app().list_assets(&signed.principal, &query).await?;
    Ok(csv_export::download("assets.csv", asset_csv(page.items)))
}

/// `GET /assets/template.csv`.
pub async fn template(_signed: Signed) -> Response {
    csv_export::download(
        "assets-template.csv",
        garrison_app::inventory::csv_template(),
    )
}

/// The fields of the asset form.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AssetForm {
    tenant: String,
    hostname: String,
    fqdn: String,
    ips: String,
    macs: String,
    os: String,
    asset_type: String,
    owner: String,
    business_unit: String,
    location: String,
    criticality: String,
    sensitivity: String,
    regulations: String,
    tags: String,
    internet_exposed: String,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn list_of(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl AssetForm {
    fn input(&self) -> Result<AssetInput, AppError> {
        Ok(AssetInput {
            hostname: some(&self.hostname),
            fqdn: some(&self.fqdn),
            ips: list_of(&self.ips)
                .iter()
                .map(|ip| {
                    ip.parse().map_err(|_| {
                        AppError::invalid(
                            "ips",
                            format!("`{}` is not an IP address", ip.escape_default()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            macs: list_of(&self.macs),
            os: some(&self.os),
            asset_type: some(&self.asset_type).map(|v| v.parse()).transpose()?,
            owner: some(&self.owner),
            business_unit: some(&self.business_unit),
            location: some(&self.location),
            criticality: some(&self.criticality).map(|v| v.parse()).transpose()?,
            sensitivity: some(&self.sensitivity).map(|v| v.parse()).transpose()?,
            regulations: some(&self.regulations).map(|r| list_of(&r)),
            tags: some(&self.tags).map(|t| list_of(&t)),
            internet_exposed: match self.internet_exposed.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
        })
    }
}

impl AssetForm {
    /// Only the fields the person changed: the form posts every field, and
    /// a field saved unchanged must keep its source (a scanner's OS stays
    /// the scanner's when someone edits the owner).
    fn changes_from(&self, a: &garrison_core::asset::Asset) -> Result<AssetInput, AppError> {
        let mut input = self.input()?;
        fn keep(v: &mut Option<String>, current: Option<&str>) {
            if v.as_deref() == current {
                *v = None;
            }
        }
        keep(&mut input.hostname, a.hostname.as_deref());
        keep(&mut input.fqdn, a.fqdn.as_deref());
        keep(&mut input.os, a.os.as_deref());
        keep(&mut input.owner, a.owner.as_deref());
        keep(&mut input.business_unit, a.business_unit.as_deref());
        keep(&mut input.location, a.location.as_deref());
        if input.asset_type == a.asset_type {
            input.asset_type = None;
        }
        if input.criticality == a.criticality {
            input.criticality = None;
        }
        if input.sensitivity == a.sensitivity {
            input.sensitivity = None;
        }
        if input.internet_exposed == a.internet_exposed {
            input.internet_exposed = None;
        }
        let same_set = |given: &Option<Vec<String>>,
                        current: &std::collections::BTreeSet<String>| {
            given.as_ref().is_some_and(|g| {
                g.iter()
                    .map(|x| x.to_lowercase())
                    .collect::<std::collections::BTreeSet<_>>()
                    == current.iter().map(|x| x.to_lowercase()).collect()
            })
        };
        if same_set(&input.regulations, &a.regulations) {
            input.regulations = None;
        }
        if same_set(&input.tags, &a.tags) {
            input.tags = None;
        }
        let ips: std::collections::BTreeSet<_> = input.ips.iter().copied().collect();
        if ips == a.ips.iter().copied().collect() {
            input.ips.clear();
        }
        let macs: std::collections::BTreeSet<_> =
            input.macs.iter().map(|m| m.to_lowercase()).collect();
        if macs == a.macs.iter().map(|m| m.to_lowercase()).collect() {
            input.macs.clear();
        }
        Ok(input)
    }
}

/// `POST /assets`: a person adds an asset.
pub async fn create(State(s): State<WebState>, f: CsrfForm<Signed, AssetForm>) -> PortalResult {
    let result = async {
        let tenant: TenantId = parse_id(f.form.tenant.trim())
            .map_err(|_| AppError::invalid("tenant", "choose a tenant"))?;
        let asset = s
            .app()
            .create_asset(&f.session.principal, tenant, f.form.input()?)
            .await?;
        Ok::<_, AppError>((tenant, asset.id))
    }
    .await;
    match result {
        Ok((tenant, id)) => Ok(see_other(&format!(
            "/tenants/{tenant}/assets/{id}?notice=asset-created"
        ))),
        Err(e) if is_form_error(&e) => {
            assets_page(&s, &f.session, AssetFilter::default(), Some(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct BulkForm {
    tenant: String,
    /// Selected asset ids, `;`-joined by the page's script or repeated.
    asset: Vec<String>,
    criticality: String,
    add_tags: String,
    remove_tags: String,
    regulations: String,
}

/// `POST /assets/bulk`.
pub async fn bulk(
    State(s): State<WebState>,
    f: CsrfForm<Signed, Vec<(String, String)>>,
) -> PortalResult {
    let form = BulkForm::parse(&f.form);
    let result = async {
        let tenant: TenantId = parse_id(form.tenant.trim())
            .map_err(|_| AppError::invalid("tenant", "filter the list to one tenant first"))?;
        let ids = form
            .asset
            .iter()
            .map(|a| parse_id(a))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(AppError::invalid("asset", "select the assets to change"));
        }
        let change = BulkChange {
            criticality: some(&form.criticality).map(|c| c.parse()).transpose()?,
            add_tags: list_of(&form.add_tags),
            remove_tags: list_of(&form.remove_tags),
            regulations: some(&form.regulations).map(|r| list_of(&r)),
        };
        s.app()
            .bulk_update_assets(&f.session.principal, tenant, &ids, &change)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/assets?notice=assets-updated")),
        Err(e) if is_form_error(&e) => {
            assets_page(&s, &f.session, AssetFilter::default(), Some(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

impl BulkForm {
    /// The form as posted: `asset` repeats, which is read as pairs.
    fn parse(pairs: &[(String, String)]) -> Self {
        let mut out = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "tenant" => out.tenant.clone_from(v),
                "asset" => out.asset.push(v.clone()),
                "criticality" => out.criticality.clone_from(v),
                "add_tags" => out.add_tags.clone_from(v),
                "remove_tags" => out.remove_tags.clone_from(v),
                "regulations" => out.regulations.clone_from(v),
                _ => {}
            }
        }
        out
    }
}

pub(crate) struct FieldLine {
    pub label: &'static str,
    pub value: String,
    pub source: String,
}

pub(crate) struct EventLine {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    layout: Layout,
    tenant_id: String,
    detail: AssetDetail,
    name: String,
    fields: Vec<FieldLine>,
    open: Vec<Finding>,
    closed: Vec<Finding>,
    events: Vec<EventLine>,
    software_shown: usize,
    can_manage: bool,
    can_triage: bool,
    criticalities: Vec<&'static str>,
    sensitivities: Vec<&'static str>,
    types: Vec<&'static str>,
    statuses: Vec<&'static str>,
    regulations: String,
    tags: String,
    ips: String,
    macs: String,
    cur_type: &'static str,
    cur_crit: &'static str,
    cur_sens: &'static str,
}

fn source_of(detail: &AssetDetail, key: &str) -> String {
    detail
        .row
        .asset
        .sources
        .get(key)
        .map(ToString::to_string)
        .unwrap_or_default()
}

async fn asset_page(
    s: &WebState,
    signed: &Signed,
    tenant: TenantId,
    id: garrison_core::AssetId,
    notice: Option<&str>,
    error: Option<&AppError>,
) -> PortalResult {
    let p = &signed.principal;
    let detail = s.app().asset_detail(p, tenant, id).await?;
    let a = &detail.row.asset;
    let fields = vec![
        FieldLine {
            label: "Host name",
            value: a.hostname.clone().unwrap_or_default(),
            source: source_of(&detail, field::HOSTNAME),
        },
        FieldLine {
            label: "FQDN",
            value: a.fqdn.clone().unwrap_or_default(),
            source: source_of(&detail, field::FQDN),
        },
        FieldLine {
            label: "Addresses",
            value: a
                .ips
                .iter()
                .map(ToString::to_string)
                .chain(a.macs.iter().cloned())
                .collect::<Vec<_>>()
                .join(", "),
            source: source_of(&detail, field::ADDRESSES),
        },
        FieldLine {
            label: "Zone",
            value: a.zone.clone(),
            source: String::new(),
        },
        FieldLine {
            label: "Operating system",
            value: a.os.clone().unwrap_or_default(),
            source: source_of(&detail, field::OS),
        },
        FieldLine {
            label: "Type",
            value: a
                .asset_type
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            source: source_of(&detail, field::ASSET_TYPE),
        },
        FieldLine {
            label: "Owner",
            value: a.owner.clone().unwrap_or_default(),
            source: source_of(&detail, field::OWNER),
        },
        FieldLine {
            label: "Business unit",
            value: a.business_unit.clone().unwrap_or_default(),
            source: source_of(&detail, field::BUSINESS_UNIT),
        },
        FieldLine {
            label: "Location",
            value: a.location.clone().unwrap_or_default(),
            source: source_of(&detail, field::LOCATION),
        },
        FieldLine {
            label: "Criticality",
            value: a
                .criticality
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            source: source_of(&detail, field::CRITICALITY),
        },
        FieldLine {
            label: "Data sensitivity",
            value: a
                .sensitivity
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            source: source_of(&detail, field::SENSITIVITY),
        },
        FieldLine {
            label: "Regulatory scope",
            value: a.regulations.iter().cloned().collect::<Vec<_>>().join(", "),
            source: source_of(&detail, field::REGULATIONS),
        },
        FieldLine {
            label: "Tags",
            value: a.tags.iter().cloned().collect::<Vec<_>>().join(", "),
            source: source_of(&detail, field::TAGS),
        },
        FieldLine {
            label: "Internet-exposed",
            value: a
                .internet_exposed
                .map(|e| if e { "yes" } else { "no" }.to_owned())
                .unwrap_or_default(),
            source: source_of(&detail, field::INTERNET_EXPOSED),
        },
        FieldLine {
            label: "First seen",
            value: a.first_seen.short(),
            source: String::new(),
        },
        FieldLine {
            label: "Last seen",
            value: a.last_seen.short(),
            source: String::new(),
        },
    ];
    let (mut open, mut closed): (Vec<Finding>, Vec<Finding>) = detail
        .findings
        .iter()
        .cloned()
        .partition(|f| f.status.is_open());
    open.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then_with(|| x.title.cmp(&y.title))
    });
    closed.sort_by_key(|f| std::cmp::Reverse(f.last_seen));
    let events = detail
        .events
        .iter()
        .map(|e| EventLine {
            at: e.at.short(),
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            details: e.details.clone(),
        })
        .collect();
    let layout = Layout::new(s, signed, &a.display_name(), "/assets")
        .await?
        .with_notice(notice)
        .with_error(error);
    let view = AssetPage {
        layout,
        tenant_id: tenant.to_string(),
        name: a.display_name(),
        regulations: a.regulations.iter().cloned().collect::<Vec<_>>().join(", "),
        tags: a.tags.iter().cloned().collect::<Vec<_>>().join(", "),
        ips: a
            .ips
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        macs: a.macs.join(", "),
        cur_type: a.asset_type.map_or("", AssetType::as_str),
        cur_crit: a.criticality.map_or("", Criticality::as_str),
        cur_sens: a.sensitivity.map_or("", Sensitivity::as_str),
        software_shown: a.software.len().min(500),
        fields,
        open,
        closed,
        events,
        can_manage: p.can(Permission::InventoryManage),
        can_triage: p.can(Permission::FindingTriage),
        criticalities: Criticality::ALL.iter().map(|c| c.as_str()).collect(),
        sensitivities: Sensitivity::ALL.iter().map(|c| c.as_str()).collect(),
        types: AssetType::ALL.iter().map(|c| c.as_str()).collect(),
        statuses: [
            FindingStatus::Open,
            FindingStatus::Fixed,
            FindingStatus::AcceptedRisk,
            FindingStatus::FalsePositive,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect(),
        detail,
    };
    Ok(page_with_status(&view, error))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NoticeOnly {
    notice: Option<String>,
}

/// `GET /tenants/{tenant_id}/assets/{asset_id}`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path((tenant, id)): Path<(String, String)>,
    Query(q): Query<NoticeOnly>,
) -> PortalResult {
    asset_page(
        &s,
        &signed,
        parse_id(&tenant)?,
        parse_id(&id)?,
        q.notice.as_deref(),
        None,
    )
    .await
}

/// `POST /tenants/{tenant_id}/assets/{asset_id}`: a person edits the
/// asset; the fields set become theirs.
pub async fn update(
    State(s): State<WebState>,
    Path((tenant, id)): Path<(String, String)>,
    f: CsrfForm<Signed, AssetForm>,
) -> PortalResult {
    let tenant: TenantId = parse_id(&tenant)?;
    let id = parse_id(&id)?;
    let result = async {
        let current = s
            .app()
            .asset_detail(&f.session.principal, tenant, id)
            .await?;
        let input = f.form.changes_from(&current.row.asset)?;
        s.app()
            .update_asset(&f.session.principal, tenant, id, input)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/tenants/{tenant}/assets/{id}?notice=asset-updated"
        ))),
        Err(e) if is_form_error(&e) => asset_page(&s, &f.session, tenant, id, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /tenants/{tenant_id}/assets/{asset_id}/delete`.
pub async fn delete(
    State(s): State<WebState>,
    Path((tenant, id)): Path<(String, String)>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    s.app()
        .delete_asset(&f.session.principal, parse_id(&tenant)?, parse_id(&id)?)
        .await?;
    Ok(see_other("/assets?notice=asset-deleted"))
}

/// The findings list's filters.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct FindingFilter {
    pub tenant: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub cve: Option<String>,
    pub q: Option<String>,
    pub page: Option<u32>,
    pub notice: Option<String>,
}

impl FindingFilter {
    fn query(&self, active: Option<TenantId>) -> Result<FindingQuery, AppError> {
        let status = opt(&self.status);
        Ok(FindingQuery {
            tenant: match opt(&self.tenant) {
                Some(t) => Some(parse_id(t)?),
                None => active,
            },
            asset: None,
            status: status
                .filter(|s| *s != "open-any")
                .map(|s| s.parse())
                .transpose()?,
            open_only: status.is_none() || status == Some("open-any"),
            min_severity: opt(&self.severity).map(|s| s.parse()).transpose()?,
            cve: opt(&self.cve).map(str::to_owned),
            text: opt(&self.q).map(str::to_owned),
            limit: PAGE,
            offset: self.page.unwrap_or(0).saturating_mul(PAGE),
        })
    }

    fn query_string(&self) -> String {
        [
            ("tenant", &self.tenant),
            ("status", &self.status),
            ("severity", &self.severity),
            ("cve", &self.cve),
            ("q", &self.q),
        ]
        .iter()
        .filter_map(|(k, v)| opt(v).map(|v| format!("{k}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

pub(crate) struct FindingLine {
    pub finding: Finding,
    pub tenant: String,
    pub asset: String,
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    layout: Layout,
    filter: FindingFilter,
    lines: Vec<FindingLine>,
    total: u64,
    page: u32,
    pages: u32,
    query: String,
    tenants: Vec<garrison_core::model::Tenant>,
    severities: Vec<&'static str>,
}

/// `GET /findings`.
pub async fn findings(
    State(s): State<WebState>,
    signed: Signed,
    Query(filter): Query<FindingFilter>,
) -> PortalResult {
    let p = &signed.principal;
    let query = filter.query(signed.ctx.session.active_tenant)?;
    let page = s.app().list_findings(p, &query).await?;
    let tenants = s.app().list_tenants(p).await?;
    let names = s.app().asset_names(p, &page.items).await?;
    let lines = page
        .items
        .into_iter()
        .map(|finding| FindingLine {
            asset: names
                .get(&finding.asset_id)
                .cloned()
                .unwrap_or_else(|| finding.asset_id.to_string()),
            tenant: tenants
                .iter()
                .find(|t| t.id == finding.tenant_id)
                .map_or_else(String::new, |t| t.slug.clone()),
            finding,
        })
        .collect();
    let layout = Layout::new(&s, &signed, "Findings", "/findings")
        .await?
        .with_notice(filter.notice.as_deref());
    let view = FindingsPage {
        layout,
        query: filter.query_string(),
        page: filter.page.unwrap_or(0),
        pages: u32::try_from(page.total.div_ceil(u64::from(PAGE)))
            .unwrap_or(u32::MAX)
            .max(1),
        filter,
        lines,
        total: page.total,
        tenants,
        severities: garrison_core::asset::FindingSeverity::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
    };
    Ok(page_with_status(&view, None))
}

/// `GET /findings.csv`.
pub async fn export_findings(
    State(s): State<WebState>,
    signed: Signed,
    Query(filter): Query<FindingFilter>,
) -> PortalResult {
    let mut query = filter.query(signed.ctx.session.active_tenant)?;
    query.limit = EXPORT_LIMIT;
    query.offset = 0;
    let page = s.app().list_findings(&signed.principal, &query).await?;
    Ok(csv_export::download(
        "findings.csv",
        finding_csv(page.items),
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    /// The asset whose page the form is on (only to show it again).
    asset: String,
    status: String,
    reason: String,
    accepted_until: String,
}

/// `POST /tenants/{tenant_id}/findings/{finding_id}/status`: a status
/// change needs a reason (and an end date for an accepted risk).
pub async fn set_status(
    State(s): State<WebState>,
    Path((tenant, id)): Path<(String, String)>,
    f: CsrfForm<Signed, StatusForm>,
) -> PortalResult {
    let tenant: TenantId = parse_id(&tenant)?;
    let id = parse_id(&id)?;
    let result = async {
        let status: FindingStatus = f.form.status.parse()?;
        let until = some(&f.form.accepted_until)
            .map(|u| parse_time("accepted_until", &u))
            .transpose()?;
        s.app()
            .set_finding_status(
                &f.session.principal,
                tenant,
                id,
                status,
                &f.form.reason,
                until,
            )
            .await
    }
    .await;
    match result {
        Ok(finding) => Ok(see_other(&format!(
            "/tenants/{tenant}/assets/{}?notice=finding-updated",
            finding.asset_id
        ))),
        Err(e) if is_form_error(&e) => match parse_id(f.form.asset.trim()) {
            // Back to the asset page, with the reason it failed.
            Ok(asset) => asset_page(&s, &f.session, tenant, asset, None, Some(&e)).await,
            Err(_) => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RangeForm {
    cidr: String,
    zone: String,
    default_criticality: String,
    description: String,
}

/// `POST /tenants/{tenant_id}/ranges`.
pub async fn create_range(
    State(s): State<WebState>,
    Path(tenant): Path<String>,
    f: CsrfForm<Signed, RangeForm>,
) -> PortalResult {
    let tenant: TenantId = parse_id(&tenant)?;
    let crit = some(&f.form.default_criticality)
        .map(|c| c.parse())
        .transpose()
        .map_err(AppError::from)?;
    s.app()
        .create_range(
            &f.session.principal,
            tenant,
            &f.form.cidr,
            &f.form.zone,
            crit,
            some(&f.form.description),
        )
        .await?;
    Ok(see_other(&format!(
        "/tenants/{tenant}?notice=range-created"
    )))
}

/// `POST /tenants/{tenant_id}/ranges/{range_id}/delete`.
pub async fn delete_range(
    State(s): State<WebState>,
    Path((tenant, id)): Path<(String, String)>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    let tenant: TenantId = parse_id(&tenant)?;
    s.app()
        .delete_range(&f.session.principal, tenant, parse_id(&id)?)
        .await?;
    Ok(see_other(&format!(
        "/tenants/{tenant}?notice=range-deleted"
    )))
}

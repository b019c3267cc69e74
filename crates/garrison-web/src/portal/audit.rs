//! The audit log page.

use askama::Template;
use axum::extract::{Query, State};
use garrison_core::audit::AuditRecord;
use garrison_store::AuditQuery;
use serde::Deserialize;

use crate::WebState;
use crate::extract::Signed;
use crate::portal::{Layout, PortalResult, page_with_status};

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<AuditRow>,
    older: Option<i64>,
}

struct AuditRow {
    record: AuditRecord,
    /// The tenant's name, or empty for records of no tenant.
    tenant: String,
}

#[derive(Debug, Deserialize)]
pub struct AuditParams {
    before: Option<i64>,
}

const PAGE: u32 = 50;

/// `GET /audit`: newest first, 50 a page; narrowed to the active tenant
/// when an MSSP user has picked one.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<AuditParams>,
) -> PortalResult {
    let layout = Layout::new(&s, &signed, "Audit log", "/audit").await?;
    let query = AuditQuery {
        before_seq: q.before,
        limit: PAGE,
        tenant: signed.ctx.session.active_tenant,
    };
    let records = s.app().list_audit(&signed.principal, &query).await?;
    let older = (records.len() == PAGE as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let tenants = s.app().list_tenants(&signed.principal).await?;
    let rows = records
        .into_iter()
        .map(|record| AuditRow {
            tenant: record
                .tenant_id
                .and_then(|id| tenants.iter().find(|t| t.id == id))
                .map(|t| t.slug.clone())
                .unwrap_or_default(),
            record,
        })
        .collect();
    Ok(page_with_status(
        &AuditPage {
            layout,
            rows,
            older,
        },
        None,
    ))
}

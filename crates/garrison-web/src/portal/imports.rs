//! Imports in the portal: the list, the upload form (a file goes last so
//! the CSRF token and tenant are checked before a byte of it is stored),
//! and one import's page, whose progress bar the page script refreshes from
//! `GET /api/v1/imports/{id}` while it runs.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use garrison_app::AppError;
use garrison_core::asset::{Import, ImportStatus};
use garrison_core::{Permission, TenantId};

use crate::WebState;
use crate::api::inventory::{import_request, receive_upload};
use crate::extract::{Signed, parse_id, same};
use crate::portal::{
    Layout, NoticeQuery, PortalResult, is_form_error, page_with_status, see_other,
};

pub(crate) struct ImportLine {
    pub import: Import,
    pub tenant: String,
    pub percent: u64,
}

fn percent(i: &Import) -> u64 {
    if matches!(i.status, ImportStatus::Completed | ImportStatus::Partial) {
        return 100;
    }
    (i.bytes_done.saturating_mul(100))
        .checked_div(i.bytes_total)
        .unwrap_or(0)
        .min(100)
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    layout: Layout,
    lines: Vec<ImportLine>,
    tenants: Vec<garrison_core::model::Tenant>,
    active: Option<String>,
    can_import: bool,
    max_mib: u64,
}

async fn imports_page(
    s: &WebState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&AppError>,
) -> PortalResult {
    let p = &signed.principal;
    let active = signed.ctx.session.active_tenant;
    let imports = s.app().list_imports(p, active).await?;
    let tenants = s.app().list_tenants(p).await?;
    let lines = imports
        .into_iter()
        .map(|import| ImportLine {
            tenant: import
                .tenant_id
                .and_then(|id| tenants.iter().find(|t| t.id == id))
                .map_or_else(|| "all tenants".to_owned(), |t| t.slug.clone()),
            percent: percent(&import),
            import,
        })
        .collect();
    let layout = Layout::new(s, signed, "Imports", "/imports")
        .await?
        .with_notice(notice)
        .with_error(error);
    // The tenant the form proposes: the switched-to one, or the only one.
    let proposed = active.or_else(|| (tenants.len() == 1).then(|| tenants[0].id));
    let view = ImportsPage {
        layout,
        lines,
        active: proposed.map(|t| t.to_string()),
        tenants,
        can_import: p.can(Permission::InventoryManage),
        max_mib: s.config().max_upload_bytes / (1024 * 1024),
    };
    Ok(page_with_status(&view, error))
}

/// `GET /imports`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    imports_page(&s, &signed, q.notice.as_deref(), None).await
}

/// `POST /imports`: a multipart form with `csrf`, `tenant`, `kind`,
/// `format` and `zone` before `file`.
pub async fn upload(
    State(s): State<WebState>,
    signed: Signed,
    mut multipart: Multipart,
) -> PortalResult {
    let csrf = signed.ctx.session.csrf_token.clone();
    let p = signed.principal.clone();
    let app = s.app_arc();
    let mut tenant: Option<TenantId> = None;
    let received = receive_upload(
        &mut multipart,
        &s.config().upload_dir,
        s.config().max_upload_bytes,
        async |fields: &BTreeMap<String, String>| {
            let given = fields.get("csrf").map(String::as_str).unwrap_or_default();
            if given.is_empty() || !same(given, &csrf) {
                return Err(AppError::Forbidden(
                    "the form has expired or did not come from this site; reload the page and try again",
                ));
            }
            let t: TenantId = fields
                .get("tenant")
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::invalid("tenant", "choose the tenant the file belongs to"))
                .and_then(|t| parse_id(t).map_err(|_| AppError::invalid("tenant", "choose the tenant the file belongs to")))?;
            // The tenant must be visible (and the caller allowed to import)
            // before the file is taken.
            app.list_ranges(&p, t).await?;
            if !p.can(Permission::InventoryManage) {
                return Err(AppError::Forbidden("your role cannot import files"));
            }
            tenant = Some(t);
            Ok(())
        },
    )
    .await;
    let result = async {
        let (path, file_name, fields) = received?;
        let tenant = tenant
            .ok_or_else(|| AppError::invalid("tenant", "choose the tenant the file belongs to"))?;
        let req = import_request(tenant, path.clone(), file_name, &fields).inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })?;
        garrison_app::App::start_import(s.app_arc(), &signed.principal, req).await
    }
    .await;
    match result {
        Ok(import) => Ok(see_other(&format!("/imports/{}", import.id))),
        Err(e) if is_form_error(&e) || matches!(e, AppError::TooLarge(_)) => {
            imports_page(&s, &signed, None, Some(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    line: ImportLine,
    running: bool,
}

/// `GET /imports/{import_id}`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PortalResult {
    let p = &signed.principal;
    let import = s.app().import_status(p, parse_id(&id)?).await?;
    let tenants = s.app().list_tenants(p).await?;
    let line = ImportLine {
        tenant: import
            .tenant_id
            .and_then(|id| tenants.iter().find(|t| t.id == id))
            .map_or_else(|| "all tenants".to_owned(), |t| t.slug.clone()),
        percent: percent(&import),
        import,
    };
    let layout = Layout::new(
        &s,
        &signed,
        &format!("Import of {}", line.import.file_name),
        "/imports",
    )
    .await?;
    let view = ImportPage {
        running: matches!(
            line.import.status,
            ImportStatus::Queued | ImportStatus::Running
        ),
        layout,
        line,
    };
    Ok(page_with_status(&view, None))
}

//! The portal: server-rendered pages with auto-escaping templates, forms
//! with CSRF tokens, and a little JavaScript from `/static` (never inline).
//! Handlers mirror the API's: session extractor → app call → template.

pub mod account;
pub mod assets;
pub mod audit;
pub mod events;
pub mod home;
pub mod imports;
pub mod ingestion;
pub mod inventory;
pub mod login;
pub mod offenses;
pub mod rules;
pub mod sources;
pub mod tenants;
pub mod tickets;
pub mod tokens;
pub mod users;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use garrison_app::AppError;
use garrison_core::Permission;

use crate::WebState;
use crate::error::{public_message, status_of, with_retry_after};
use crate::extract::Signed;

/// An error shown as a page.
#[derive(Debug)]
pub struct PortalError(pub AppError);

impl From<AppError> for PortalError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<garrison_core::validate::Invalid> for PortalError {
    fn from(e: garrison_core::validate::Invalid) -> Self {
        Self(AppError::Invalid(e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: String,
    error_id: Option<String>,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code());
        let (message, error_id) = public_message(&self.0);
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            StatusCode::UNPROCESSABLE_ENTITY => "Check the form",
            s if s.is_server_error() => "Something went wrong",
            _ => "Error",
        };
        let message = if status == StatusCode::NOT_FOUND {
            "There is nothing here, or you do not have access to it.".to_owned()
        } else {
            message
        };
        let page = ErrorPage {
            title,
            message,
            error_id,
        };
        with_retry_after((status, render(&page)).into_response(), &self.0)
    }
}

pub(crate) type PortalResult = Result<Response, PortalError>;

/// Renders a template; a template error is a bug, shown as a 500.
pub(crate) fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The fallback for unknown paths.
pub async fn not_found() -> Response {
    PortalError(AppError::NotFound).into_response()
}

/// Redirect after a successful form (POST/redirect/GET), with a notice key.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Messages shown after a redirect, by key: the query string never carries
/// text of its own, so it cannot inject anything into the page.
pub(crate) fn notice_text(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "tenant-created" => "The tenant was created.",
        "tenant-updated" => "The tenant settings were saved.",
        "staff-assigned" => "The staff member was assigned.",
        "staff-removed" => "The staff member was removed from the tenant.",
        "user-updated" => "The user was saved.",
        "mfa-reset" => "MFA was reset; the user enrols again at next login.",
        "token-revoked" => "The token was revoked.",
        "ingest-token-revoked" => "The ingest token was revoked; senders using it are refused.",
        "password-changed" => "Your password was changed; other sessions were signed out.",
        "tenant-switched" => "Switched tenant.",
        "asset-created" => "The asset was created.",
        "asset-updated" => {
            "The asset was saved; the fields you set are marked as yours and imports will not overwrite them."
        }
        "asset-deleted" => "The asset was deleted; its history is kept.",
        "assets-updated" => "The selected assets were updated.",
        "finding-updated" => "The finding's status was changed.",
        "range-created" => "The network range was added.",
        "range-deleted" => "The network range was removed.",
        "retention-saved" => "The event retention was saved; older events go at the next purge.",
        "rule-switched" => {
            "The rule was switched for the tenant; the pipeline picks it up within seconds."
        }
        "exceptions-saved" => {
            "The rule's exceptions were saved for the tenant; the pipeline picks them up within seconds."
        }
        "rules-loaded" => "The rule file was loaded; the pipeline picks it up within seconds.",
        "offense-assigned" => "The offense's assignee was changed.",
        "offense-closed" => "The offense was closed.",
        "offense-reopened" => "The offense was reopened.",
        "offense-escalation" => "Escalated: the offense's ticket is open.",
        "ticket-moved" => "The ticket was moved.",
        "ticket-commented" => "The comment was added.",
        "offense-commented" => "The comment was added.",
        "weights-saved" => "The risk weights were saved and every asset of the tenant rescored.",
        _ => return None,
    })
}

#[derive(Debug, serde::Deserialize, Default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

pub(crate) struct TenantOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

pub(crate) struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// What every signed-in page shows around its content.
pub(crate) struct Layout {
    pub title: String,
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
    pub is_mssp: bool,
    pub tenants: Vec<TenantOption>,
    pub all_selected: bool,
    pub nav: Vec<NavItem>,
    /// Capabilities that are planned but not built yet, shown greyed out.
    pub planned: Vec<&'static str>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

impl Layout {
    pub(crate) async fn new(
        s: &WebState,
        signed: &Signed,
        title: &str,
        current: &str,
    ) -> Result<Self, PortalError> {
        let p = &signed.principal;
        let active = signed.ctx.session.active_tenant;
        let is_mssp = p.role().is_mssp();
        let tenants = if is_mssp {
            s.app()
                .list_tenants(p)
                .await?
                .into_iter()
                .map(|t| TenantOption {
                    selected: active == Some(t.id),
                    id: t.id.to_string(),
                    name: t.name,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut nav = vec![("Overview", "/")];
        if p.can(Permission::OffenseRead) {
            nav.push(("Offenses", "/offenses"));
            nav.push(("Tickets", "/tickets"));
        }
        if p.can(Permission::EventRead) {
            nav.push(("Events", "/events"));
        }
        if p.role().is_mssp() {
            nav.push(("Rules", "/rules"));
        }
        nav.push(("Assets", "/assets"));
        nav.push(("Findings", "/findings"));
        nav.push(("Imports", "/imports"));
        nav.push(("Tenants", "/tenants"));
        if p.can(Permission::UserRead) {
            nav.push(("Users", "/users"));
        }
        if p.can(Permission::EventIngest) {
            nav.push(("Ingest sources", "/sources"));
        }
        nav.push(("API tokens", "/tokens"));
        if p.can(Permission::AuditRead) {
            nav.push(("Audit log", "/audit"));
        }
        if p.can(Permission::IngestStatusRead) {
            nav.push(("Ingestion", "/ingestion"));
        }
        nav.push(("Account", "/account"));
        Ok(Self {
            title: title.to_owned(),
            email: signed.ctx.user.email.clone(),
            role: p.role().as_str(),
            csrf: signed.ctx.session.csrf_token.clone(),
            is_mssp,
            all_selected: active.is_none(),
            tenants,
            nav: nav
                .into_iter()
                .map(|(label, href)| NavItem {
                    label,
                    href,
                    current: href == current,
                })
                .collect(),
            planned: vec!["Incidents", "Intel", "Reports"],
            notice: None,
            error: None,
        })
    }

    pub(crate) fn with_notice(mut self, key: Option<&str>) -> Self {
        self.notice = notice_text(key);
        self
    }

    pub(crate) fn with_error(mut self, error: Option<&AppError>) -> Self {
        self.error = error.map(|e| public_message(e).0);
        self
    }
}

/// Status for a page re-rendered because its form failed.
pub(crate) fn form_status(e: Option<&AppError>) -> StatusCode {
    e.map_or(StatusCode::OK, |e| status_of(e.code()))
}

/// A page response with a status, plus `Retry-After` for throttling.
pub(crate) fn page_with_status<T: Template>(page: &T, error: Option<&AppError>) -> Response {
    let resp = (form_status(error), render(page)).into_response();
    match error {
        Some(e) => with_retry_after(resp, e),
        None => resp,
    }
}

/// Sets cookies on a response.
pub(crate) fn with_cookies(
    mut resp: Response,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// Forms errors that belong on the page (bad input, conflicts, throttling)
/// are shown there; anything else becomes an error page.
pub(crate) fn is_form_error(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid(_)
            | AppError::Conflict(_)
            | AppError::Throttled { .. }
            | AppError::Forbidden(_)
    )
}

/// Renders an SVG QR code for `data`, as markup to embed (only path data;
/// no text from the input reaches the markup).
pub(crate) fn qr_svg(data: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(data, QrCodeEcc::Medium) else {
        return String::new();
    };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" class=\"qr\" role=\"img\" aria-label=\"QR code for your authenticator app\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

//! Garrison's HTTP surface: the JSON API under `/api/v1`, the portal, health
//! and metrics, and the HTTPS server. This is the only crate that knows
//! HTTP status codes and JSON error shapes.
//!
//! Every route is declared once in [`build`], with its access class; the
//! route table drives the router, the OpenAPI check and the tenant-isolation
//! test, so a new route cannot be added without an isolation test entry.
#![forbid(unsafe_code)]

pub mod api;
mod csv_export;
mod error;
mod extract;
mod live;
mod metrics;
pub mod portal;
mod security;
pub mod server;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use garrison_app::App;
use garrison_core::Secret;

pub use crate::error::ApiError;
pub use crate::metrics::Metrics;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret<String>>,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// Requests taking longer are cut off (uploads excepted).
    pub request_timeout: Duration,
    /// Where uploaded files wait for their import.
    pub upload_dir: std::path::PathBuf,
    /// The largest file accepted for import.
    pub max_upload_bytes: u64,
    /// How often a live event stream authenticates its caller again (and
    /// ends when the caller's session, token or rights changed).
    pub live_recheck: Duration,
    /// Limits of `POST /ingest/v1/events`.
    pub ingest: IngestLimits,
}

/// Limits of HTTP ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLimits {
    /// The largest request body, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// The largest body after gzip decompression.
    pub max_decompressed_bytes: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            metrics_token: None,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            upload_dir: std::env::temp_dir().join("garrison-uploads"),
            max_upload_bytes: 1024 * 1024 * 1024,
            ingest: IngestLimits::default(),
            live_recheck: Duration::from_secs(30),
        }
    }
}

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct WebState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    app: Arc<App>,
    config: WebConfig,
    metrics: Metrics,
}

impl WebState {
    #[must_use]
    pub fn new(app: Arc<App>, config: WebConfig) -> Self {
        let mut metrics = Metrics::new();
        metrics.watch_ingestion(app.clone());
        Self {
            inner: Arc::new(Inner {
                app,
                config,
                metrics,
            }),
        }
    }

    #[must_use]
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// The application, shared, for work that outlives a request.
    #[must_use]
    pub fn app_arc(&self) -> Arc<App> {
        self.inner.app.clone()
    }

    #[must_use]
    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}

/// Who may call a route, which decides how it authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No authentication (health, metrics, OpenAPI, static files).
    Public,
    /// Portal pages reached before login is complete (login, MFA steps).
    Login,
    /// Portal pages for fully signed-in users (session cookie, CSRF on
    /// forms).
    Portal,
    /// JSON API (bearer token, or session cookie with a CSRF header).
    Api,
    /// Event ingestion (a tenant's ingest token as bearer).
    Ingest,
}

/// One route of the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

struct Builder {
    router: Router<WebState>,
    specs: Vec<RouteSpec>,
}

macro_rules! method_fn {
    ($name:ident, $axum:ident, $method:expr) => {
        fn $name<H, T>(self, access: Access, path: &'static str, handler: H) -> Self
        where
            H: Handler<T, WebState>,
            T: 'static,
        {
            self.add(access, $method, path, $axum(handler))
        }
    };
}

impl Builder {
    fn add(
        mut self,
        access: Access,
        method: Method,
        path: &'static str,
        handler: MethodRouter<WebState>,
    ) -> Self {
        self.specs.push(RouteSpec {
            method,
            path,
            access,
        });
        self.router = self.router.route(path, handler);
        self
    }

    /// A multipart upload: a larger body limit than other routes.
    fn upload<H, T>(self, access: Access, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, WebState>,
        T: 'static,
    {
        self.add(
            access,
            Method::POST,
            path,
            post(handler).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
    }

    /// Event ingestion: the body limit is the configured
    /// `ingest.max_body_bytes`, applied by the handler.
    fn ingest<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, WebState>,
        T: 'static,
    {
        self.add(
            Access::Ingest,
            Method::POST,
            path,
            post(handler).layer(axum::extract::DefaultBodyLimit::disable()),
        )
    }

    method_fn!(get, get, Method::GET);
    method_fn!(post, post, Method::POST);
    method_fn!(put, put, Method::PUT);
    method_fn!(patch, patch, Method::PATCH);
    method_fn!(delete, delete, Method::DELETE);
}

/// The body limit of upload routes; the configured `max_upload_bytes` is
/// enforced as the file streams to disk.
const UPLOAD_LIMIT: usize = 64 * 1024 * 1024 * 1024;

/// Declares every route.
fn build() -> Builder {
    use Access::{Api, Login, Portal, Public};
    use api::{
        audit as a_audit, events as a_events, ingest as a_ingest, inventory as inv, me,
        offenses as a_offenses, rules as a_rules, tenants as a_tenants, tickets as a_tickets,
        tokens as a_tokens, users as a_users,
    };
    use portal::{
        account, audit as p_audit, events as p_events, home, imports as p_imports,
        ingestion as p_ingestion, inventory as p_inv, login, offenses as p_offenses,
        rules as p_rules, sources as p_sources, tenants as p_tenants, tickets as p_tickets,
        tokens as p_tokens, users as p_users,
    };

    Builder {
        router: Router::new(),
        specs: Vec::new(),
    }
    // Public
    .get(Public, "/healthz", api::health::healthz)
    .get(Public, "/metrics", metrics::endpoint)
    .get(Public, "/api/v1/openapi.json", api::openapi_json)
    .get(Public, "/static/{file}", portal::assets::serve)
    // Event ingestion (ingest tokens)
    .ingest("/ingest/v1/events", a_ingest::ingest)
    // API
    .get(Api, "/api/v1/me", me::show)
    .get(Api, "/api/v1/tenants", a_tenants::list)
    .post(Api, "/api/v1/tenants", a_tenants::create)
    .get(Api, "/api/v1/tenants/{tenant_id}", a_tenants::show)
    .patch(Api, "/api/v1/tenants/{tenant_id}", a_tenants::update)
    .get(Api, "/api/v1/tenants/{tenant_id}/staff", a_tenants::staff)
    .get(
        Api,
        "/api/v1/tenants/{tenant_id}/event-retention",
        a_tenants::event_retention,
    )
    .put(
        Api,
        "/api/v1/tenants/{tenant_id}/event-retention",
        a_tenants::set_event_retention,
    )
    .put(
        Api,
        "/api/v1/tenants/{tenant_id}/staff/{user_id}",
        a_tenants::assign,
    )
    .delete(
        Api,
        "/api/v1/tenants/{tenant_id}/staff/{user_id}",
        a_tenants::unassign,
    )
    .get(Api, "/api/v1/users", a_users::list)
    .post(Api, "/api/v1/users", a_users::create)
    .get(Api, "/api/v1/users/{user_id}", a_users::show)
    .patch(Api, "/api/v1/users/{user_id}", a_users::update)
    .post(
        Api,
        "/api/v1/users/{user_id}/password-reset",
        a_users::reset_password,
    )
    .post(Api, "/api/v1/users/{user_id}/mfa-reset", a_users::reset_mfa)
    .get(Api, "/api/v1/users/{user_id}/tokens", a_users::tokens)
    .delete(
        Api,
        "/api/v1/users/{user_id}/tokens/{token_id}",
        a_users::revoke_token,
    )
    .get(Api, "/api/v1/tokens", a_tokens::list)
    .post(Api, "/api/v1/tokens", a_tokens::create)
    .delete(Api, "/api/v1/tokens/{token_id}", a_tokens::revoke)
    .get(Api, "/api/v1/audit", a_audit::list)
    .get(Api, "/api/v1/assets", inv::list_assets)
    .get(Api, "/api/v1/assets.csv", inv::export_assets)
    .get(Api, "/api/v1/asset-template.csv", inv::asset_template)
    .post(Api, "/api/v1/tenants/{tenant_id}/assets", inv::create_asset)
    .post(
        Api,
        "/api/v1/tenants/{tenant_id}/assets/bulk",
        inv::bulk_assets,
    )
    .get(
        Api,
        "/api/v1/tenants/{tenant_id}/assets/{asset_id}",
        inv::show_asset,
    )
    .patch(
        Api,
        "/api/v1/tenants/{tenant_id}/assets/{asset_id}",
        inv::update_asset,
    )
    .delete(
        Api,
        "/api/v1/tenants/{tenant_id}/assets/{asset_id}",
        inv::delete_asset,
    )
    .get(Api, "/api/v1/findings", inv::list_findings)
    .get(Api, "/api/v1/findings.csv", inv::export_findings)
    .post(
        Api,
        "/api/v1/tenants/{tenant_id}/findings/{finding_id}/status",
        inv::set_finding_status,
    )
    .get(Api, "/api/v1/imports", inv::list_imports)
    .get(Api, "/api/v1/imports/{import_id}", inv::show_import)
    .upload(
        Api,
        "/api/v1/tenants/{tenant_id}/imports",
        inv::upload_import,
    )
    .get(
        Api,
        "/api/v1/tenants/{tenant_id}/risk-weights",
        inv::risk_weights,
    )
    .put(
        Api,
        "/api/v1/tenants/{tenant_id}/risk-weights",
        inv::set_risk_weights,
    )
    .get(Api, "/api/v1/tenants/{tenant_id}/ranges", inv::list_ranges)
    .post(Api, "/api/v1/tenants/{tenant_id}/ranges", inv::create_range)
    .delete(
        Api,
        "/api/v1/tenants/{tenant_id}/ranges/{range_id}",
        inv::delete_range,
    )
    // Events API
    .get(Api, "/api/v1/events", a_events::list)
    .get(Api, "/api/v1/events/counts", a_events::counts)
    .get(Api, "/api/v1/events/stream", a_events::stream)
    .get(Api, "/api/v1/events/{event_id}", a_events::show)
    // Offenses
    .get(Api, "/api/v1/offenses", a_offenses::list)
    .get(Api, "/api/v1/offenses/{offense_id}", a_offenses::show)
    .post(
        Api,
        "/api/v1/offenses/{offense_id}/assign",
        a_offenses::assign,
    )
    .post(
        Api,
        "/api/v1/offenses/{offense_id}/close",
        a_offenses::close,
    )
    .post(
        Api,
        "/api/v1/offenses/{offense_id}/reopen",
        a_offenses::reopen,
    )
    .post(
        Api,
        "/api/v1/offenses/{offense_id}/escalate",
        a_offenses::escalate,
    )
    .post(
        Api,
        "/api/v1/offenses/{offense_id}/comments",
        a_offenses::comment,
    )
    .get(Api, "/api/v1/suppressions", a_offenses::suppressions)
    // Tickets
    .get(Api, "/api/v1/tickets", a_tickets::list)
    .get(Api, "/api/v1/tickets/{ticket_id}", a_tickets::show)
    .post(
        Api,
        "/api/v1/tickets/{ticket_id}/status",
        a_tickets::set_status,
    )
    .post(
        Api,
        "/api/v1/tickets/{ticket_id}/comments",
        a_tickets::comment,
    )
    .get(
        Api,
        "/api/v1/tenants/{tenant_id}/ticket-plans",
        a_tickets::plans,
    )
    .put(
        Api,
        "/api/v1/tenants/{tenant_id}/ticket-plans/{ticket_type}",
        a_tickets::set_plan,
    )
    .get(
        Api,
        "/api/v1/tenants/{tenant_id}/magnitude-weights",
        a_offenses::weights,
    )
    .put(
        Api,
        "/api/v1/tenants/{tenant_id}/magnitude-weights",
        a_offenses::set_weights,
    )
    // Rules
    .get(Api, "/api/v1/rules", a_rules::list)
    .get(
        Api,
        "/api/v1/tenants/{tenant_id}/rules",
        a_rules::tenant_settings,
    )
    .put(
        Api,
        "/api/v1/tenants/{tenant_id}/rules/{rule_id}",
        a_rules::set_tenant_setting,
    )
    .post(
        Api,
        "/api/v1/tenants/{tenant_id}/rules/{rule_id}/test",
        a_rules::test,
    )
    .get(Api, "/api/v1/ingest-tokens", a_ingest::list_tokens)
    .post(
        Api,
        "/api/v1/tenants/{tenant_id}/ingest-tokens",
        a_ingest::create_token,
    )
    .delete(
        Api,
        "/api/v1/tenants/{tenant_id}/ingest-tokens/{ingest_token_id}",
        a_ingest::revoke_token,
    )
    // Portal: login steps
    .get(Login, "/login", login::form)
    .post(Login, "/login", login::submit)
    .get(Login, "/login/mfa", login::mfa_form)
    .post(Login, "/login/mfa", login::mfa_submit)
    .get(Login, "/login/password", login::password_form)
    .post(Login, "/login/password", login::password_submit)
    .get(Login, "/login/enrol", login::enrol_form)
    .post(Login, "/login/enrol", login::enrol_submit)
    .post(Login, "/logout", login::logout)
    // Portal: signed in
    .get(Portal, "/", home::dashboard)
    .post(Portal, "/session/tenant", home::switch_tenant)
    .get(Portal, "/account", account::show)
    .post(Portal, "/account/password", account::change_password)
    .get(Portal, "/account/mfa", account::mfa_form)
    .post(Portal, "/account/mfa", account::mfa_submit)
    .post(Portal, "/account/recovery-codes", account::regenerate_codes)
    .get(Portal, "/tenants", p_tenants::list)
    .post(Portal, "/tenants", p_tenants::create)
    .get(Portal, "/tenants/{tenant_id}", p_tenants::show)
    .post(Portal, "/tenants/{tenant_id}", p_tenants::update)
    .post(Portal, "/tenants/{tenant_id}/staff", p_tenants::assign)
    .post(
        Portal,
        "/tenants/{tenant_id}/staff/{user_id}/remove",
        p_tenants::unassign,
    )
    .get(Portal, "/users", p_users::list)
    .post(Portal, "/users", p_users::create)
    .get(Portal, "/users/{user_id}", p_users::show)
    .post(Portal, "/users/{user_id}", p_users::update)
    .post(
        Portal,
        "/users/{user_id}/password-reset",
        p_users::reset_password,
    )
    .post(Portal, "/users/{user_id}/mfa-reset", p_users::reset_mfa)
    .post(
        Portal,
        "/users/{user_id}/tokens/{token_id}/revoke",
        p_users::revoke_token,
    )
    .get(Portal, "/tokens", p_tokens::list)
    .post(Portal, "/tokens", p_tokens::create)
    .post(Portal, "/tokens/{token_id}/revoke", p_tokens::revoke)
    .get(Portal, "/audit", p_audit::list)
    .get(Portal, "/assets", p_inv::list)
    .get(Portal, "/assets.csv", p_inv::export)
    .get(Portal, "/assets/template.csv", p_inv::template)
    .post(Portal, "/assets", p_inv::create)
    .post(Portal, "/assets/bulk", p_inv::bulk)
    .get(
        Portal,
        "/tenants/{tenant_id}/assets/{asset_id}",
        p_inv::show,
    )
    .post(
        Portal,
        "/tenants/{tenant_id}/assets/{asset_id}",
        p_inv::update,
    )
    .post(
        Portal,
        "/tenants/{tenant_id}/assets/{asset_id}/delete",
        p_inv::delete,
    )
    .get(Portal, "/findings", p_inv::findings)
    .get(Portal, "/findings.csv", p_inv::export_findings)
    .post(
        Portal,
        "/tenants/{tenant_id}/findings/{finding_id}/status",
        p_inv::set_status,
    )
    .post(
        Portal,
        "/tenants/{tenant_id}/risk-weights",
        p_tenants::set_risk_weights,
    )
    .post(
        Portal,
        "/tenants/{tenant_id}/event-retention",
        p_tenants::set_event_retention,
    )
    .post(Portal, "/tenants/{tenant_id}/ranges", p_inv::create_range)
    .post(
        Portal,
        "/tenants/{tenant_id}/ranges/{range_id}/delete",
        p_inv::delete_range,
    )
    .get(Portal, "/imports", p_imports::list)
    .upload(Portal, "/imports", p_imports::upload)
    .get(Portal, "/imports/{import_id}", p_imports::show)
    .get(Portal, "/sources", p_sources::list)
    .post(Portal, "/sources", p_sources::create)
    .post(
        Portal,
        "/tenants/{tenant_id}/ingest-tokens/{ingest_token_id}/revoke",
        p_sources::revoke,
    )
    // Portal: ingestion status (MSSP staff)
    .get(Portal, "/ingestion", p_ingestion::show)
    // Portal: offenses
    .get(Portal, "/offenses", p_offenses::queue)
    .get(Portal, "/offenses/{offense_id}", p_offenses::show)
    .post(Portal, "/offenses/{offense_id}/triage", p_offenses::triage)
    .post(
        Portal,
        "/offenses/{offense_id}/comments",
        p_offenses::comment,
    )
    // Portal: tickets
    .get(Portal, "/tickets", p_tickets::queue)
    .get(Portal, "/tickets/{ticket_id}", p_tickets::show)
    .post(Portal, "/tickets/{ticket_id}/status", p_tickets::set_status)
    .post(Portal, "/tickets/{ticket_id}/comments", p_tickets::comment)
    // Portal: rules
    .get(Portal, "/rules", p_rules::list)
    .post(Portal, "/rules", p_rules::load)
    .post(Portal, "/tenants/{tenant_id}/rules", p_rules::switch)
    // Portal: events
    .get(Portal, "/events", p_events::list)
    .get(Portal, "/events/stream", p_events::stream)
    .get(
        Portal,
        "/tenants/{tenant_id}/events/{event_id}",
        p_events::show,
    )
}

/// Every route of the router, in declaration order.
#[must_use]
pub fn route_table() -> Vec<RouteSpec> {
    build().specs
}

/// The complete router with its middleware.
pub fn router(state: WebState) -> Router {
    let config = state.config().clone();
    build()
        .router
        .fallback(portal::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn(security::same_origin))
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            config.request_timeout,
            security::timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .with_state(state)
}

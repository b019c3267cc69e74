//! Request extractors: the client address, cookies, API authentication and
//! portal sessions with their CSRF check.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use garrison_app::AppError;
use garrison_app::auth::{Client, SessionContext};
use garrison_core::Principal;
use garrison_core::model::SessionStage;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::WebState;
use crate::error::ApiError;
use crate::portal::PortalError;

pub(crate) const SESSION_COOKIE: &str = "__Host-garrison_session";
pub(crate) const DEVICE_COOKIE: &str = "__Host-garrison_device";
pub(crate) const LOGIN_CSRF_COOKIE: &str = "__Host-garrison_login";
/// Header carrying the CSRF token when the API is called with a session
/// cookie (bearer tokens need none).
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name`, from every `Cookie` header of the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for a `__Host-` cookie: secure, script-proof and
/// never sent on cross-site requests. `max_age` `None` makes it end with the
/// browser session; `Some(0)` deletes it.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let v = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict{age}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

pub(crate) fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", Some(0))
}

/// The address of the client: the peer, or for a trusted reverse proxy the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client_ip(state: &WebState, parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let trusted = &state.config().trusted_proxies;
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

pub(crate) fn client(state: &WebState, parts: &Parts) -> Client {
    Client {
        ip: client_ip(state, parts),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        device_cookie: cookie(&parts.headers, DEVICE_COOKIE).map(str::to_owned),
    }
}

pub(crate) fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// An authenticated API caller: a bearer token, or a complete portal session
/// (which must echo its CSRF token in `X-CSRF-Token` on state changes).
#[derive(Debug)]
pub struct ApiAuth(pub Principal);

impl FromRequestParts<WebState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(state, parts);
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ApiError(AppError::Unauthenticated))?;
            let p = state
                .app()
                .authenticate_token(token.trim(), Some(ip))
                .await?;
            return Ok(Self(p));
        }
        let token =
            cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError(AppError::Unauthenticated))?;
        let ctx = state.app().session(token).await?;
        let p = ctx.principal.ok_or(ApiError(AppError::Unauthenticated))?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same(given, &ctx.session.csrf_token) {
                return Err(ApiError(AppError::Forbidden(
                    "a session-authenticated API call must send X-CSRF-Token",
                )));
            }
        }
        Ok(Self(p.with_source(Some(ip.to_string()))))
    }
}

/// Where a session at `stage` belongs.
pub(crate) const fn stage_home(stage: SessionStage) -> &'static str {
    match stage {
        SessionStage::MfaPending => "/login/mfa",
        SessionStage::PasswordChange => "/login/password",
        SessionStage::MfaEnrolment => "/login/enrol",
        SessionStage::Full => "/",
    }
}

/// Any session, at any stage of login (for the login step pages).
#[derive(Debug)]
pub struct AnySession(pub SessionContext);

impl FromRequestParts<WebState> for AnySession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        match state.app().session(token).await {
            Ok(ctx) => Ok(Self(ctx)),
            Err(AppError::Unauthenticated) => {
                let mut resp = Redirect::to("/login").into_response();
                resp.headers_mut()
                    .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
                Err(resp)
            }
            Err(e) => Err(PortalError(e).into_response()),
        }
    }
}

/// A complete session with its principal (for portal pages).
#[derive(Debug)]
pub struct Signed {
    pub ctx: SessionContext,
    pub principal: Principal,
}

impl FromRequestParts<WebState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let AnySession(ctx) = AnySession::from_request_parts(parts, state).await?;
        match ctx.principal.clone() {
            Some(p) if ctx.session.stage == SessionStage::Full => {
                let ip = client_ip(state, parts);
                Ok(Self {
                    ctx,
                    principal: p.with_source(Some(ip.to_string())),
                })
            }
            _ => Err(Redirect::to(stage_home(ctx.session.stage)).into_response()),
        }
    }
}

/// A form posted from a page of the session, its CSRF token checked.
#[derive(Debug)]
pub struct CsrfForm<S, T> {
    pub session: S,
    pub client: Client,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Sessions whose forms carry their CSRF token.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

impl HasCsrf for Signed {
    fn csrf(&self) -> &str {
        &self.ctx.session.csrf_token
    }
}

impl HasCsrf for AnySession {
    fn csrf(&self) -> &str {
        &self.0.session.csrf_token
    }
}

impl<S, T> FromRequest<WebState> for CsrfForm<S, T>
where
    S: FromRequestParts<WebState, Rejection = Response> + HasCsrf + Send,
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = S::from_request_parts(&mut parts, state).await?;
        let client = client(state, &parts);
        let bytes = axum::body::to_bytes(body, state.config().max_body_bytes)
            .await
            .map_err(|_| {
                PortalError(AppError::invalid("form", "the form is too large")).into_response()
            })?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        if field.csrf.is_empty() || !same(&field.csrf, session.csrf()) {
            return Err(PortalError(AppError::Forbidden(
                "the form has expired or did not come from this site; reload the page and try again",
            ))
            .into_response());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PortalError(AppError::invalid(
                "form",
                format!("the form could not be read: {e}"),
            ))
            .into_response()
        })?;
        Ok(Self {
            session,
            client,
            form,
        })
    }
}

/// The client of a request, as an extractor.
#[derive(Debug)]
pub struct ClientInfo(pub Client);

impl FromRequestParts<WebState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client(state, parts)))
    }
}

/// A path id that does not parse is simply not found.
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, AppError> {
    s.parse().map_err(|_| AppError::NotFound)
}

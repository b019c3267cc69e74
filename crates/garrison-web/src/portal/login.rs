//! The login steps: password, MFA code, forced password change, MFA
//! enrolment; and logout.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use garrison_app::AppError;
use garrison_app::auth::{IssuedSession, SessionContext};
use garrison_core::Secret;
use garrison_core::model::SessionStage;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{
    AnySession, ClientInfo, CsrfForm, DEVICE_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
    clear_cookie, cookie, set_cookie, stage_home,
};
use crate::portal::{PortalResult, page_with_status, qr_svg, see_other, with_cookies};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    csrf: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "enrol.html")]
pub(crate) struct EnrolPage {
    pub csrf: String,
    pub action: &'static str,
    pub qr: String,
    pub secret: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(crate) struct RecoveryCodesPage {
    pub codes: Vec<String>,
    pub next: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

fn error_text(e: &AppError) -> String {
    match e {
        // The same words whether the account exists or not.
        AppError::Unauthenticated => "The e-mail address or password is incorrect.".to_owned(),
        other => crate::error::public_message(other).0,
    }
}

/// Cookies for a session just issued.
pub(crate) fn session_cookies(
    issued: &IssuedSession,
    ttl_secs: u64,
) -> Vec<axum::http::HeaderValue> {
    let mut cookies = vec![set_cookie(SESSION_COOKIE, issued.token.expose(), None)];
    if let Some(device) = &issued.device_cookie {
        cookies.push(set_cookie(DEVICE_COOKIE, device, Some(ttl_secs)));
    }
    cookies
}

fn issued_redirect(s: &WebState, issued: &IssuedSession) -> Response {
    let ttl = s.app().settings().device_cookie_ttl.as_secs();
    with_cookies(
        see_other(stage_home(issued.session.stage)),
        session_cookies(issued, ttl),
    )
}

fn login_page(status_error: Option<&AppError>, email: &str) -> Response {
    let csrf = match garrison_app::crypto::random_token() {
        Ok(t) => Secret::new(t),
        Err(e) => return crate::portal::PortalError(e).into_response(),
    };
    let page = LoginPage {
        csrf: csrf.expose().clone(),
        email: email.to_owned(),
        error: status_error.map(error_text),
    };
    with_cookies(
        page_with_status(&page, status_error),
        [set_cookie(LOGIN_CSRF_COOKIE, csrf.expose(), Some(3600))],
    )
}

/// `GET /login`.
pub async fn form(State(s): State<WebState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(ctx) = s.app().session(token).await
    {
        return see_other(stage_home(ctx.session.stage));
    }
    login_page(None, "")
}

/// `POST /login`.
pub async fn submit(
    State(s): State<WebState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty()
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            form.csrf.as_bytes(),
        ))
    {
        return login_page(
            Some(&AppError::Forbidden(
                "the login form expired; please try again",
            )),
            &form.email,
        );
    }
    // A session this browser already had ends here.
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(old) = s.app().session(token).await
    {
        let _ = s.app().logout(&old).await;
    }
    match s.app().login(&form.email, &form.password, &client).await {
        Ok(issued) => {
            s.metrics().login("success");
            let resp = issued_redirect(&s, &issued);
            with_cookies(resp, [clear_cookie(LOGIN_CSRF_COOKIE)])
        }
        Err(e) => {
            s.metrics()
                .login(if matches!(e, AppError::Throttled { .. }) {
                    "throttled"
                } else {
                    "failure"
                });
            login_page(Some(&e), &form.email)
        }
    }
}

/// A redirect to where the session belongs, unless it is at `stage`.
fn elsewhere(ctx: &SessionContext, stage: SessionStage) -> Option<Response> {
    (ctx.session.stage != stage).then(|| see_other(stage_home(ctx.session.stage)))
}

/// `GET /login/mfa`.
pub async fn mfa_form(AnySession(ctx): AnySession) -> Response {
    if let Some(r) = elsewhere(&ctx, SessionStage::MfaPending) {
        return r;
    }
    page_with_status(
        &MfaPage {
            csrf: ctx.session.csrf_token.clone(),
            error: None,
        },
        None,
    )
}

/// `POST /login/mfa`.
pub async fn mfa_submit(State(s): State<WebState>, f: CsrfForm<AnySession, CodeForm>) -> Response {
    let ctx = &f.session.0;
    if let Some(r) = elsewhere(ctx, SessionStage::MfaPending) {
        return r;
    }
    match s.app().verify_mfa(ctx, &f.form.code, &f.client).await {
        Ok(issued) => issued_redirect(&s, &issued),
        Err(e) => page_with_status(
            &MfaPage {
                csrf: ctx.session.csrf_token.clone(),
                error: Some(error_text(&e)),
            },
            Some(&e),
        ),
    }
}

/// `GET /login/password`.
pub async fn password_form(AnySession(ctx): AnySession) -> Response {
    if let Some(r) = elsewhere(&ctx, SessionStage::PasswordChange) {
        return r;
    }
    page_with_status(
        &PasswordPage {
            csrf: ctx.session.csrf_token.clone(),
            email: ctx.user.email.clone(),
            error: None,
        },
        None,
    )
}

/// `POST /login/password`.
pub async fn password_submit(
    State(s): State<WebState>,
    f: CsrfForm<AnySession, NewPasswordForm>,
) -> Response {
    let ctx = &f.session.0;
    if let Some(r) = elsewhere(ctx, SessionStage::PasswordChange) {
        return r;
    }
    let result = if f.form.new_password == f.form.confirm {
        s.app()
            .change_password(ctx, None, &f.form.new_password, &f.client)
            .await
    } else {
        Err(AppError::invalid("confirm", "the two passwords differ"))
    };
    match result {
        Ok(issued) => issued_redirect(&s, &issued),
        Err(e) => page_with_status(
            &PasswordPage {
                csrf: ctx.session.csrf_token.clone(),
                email: ctx.user.email.clone(),
                error: Some(error_text(&e)),
            },
            Some(&e),
        ),
    }
}

/// Renders the enrolment page for a session allowed to enrol.
pub(crate) async fn enrol_page(
    s: &WebState,
    ctx: &SessionContext,
    action: &'static str,
    error: Option<&AppError>,
) -> PortalResult {
    let enrolment = s.app().begin_mfa_enrolment(ctx).await?;
    let page = EnrolPage {
        csrf: ctx.session.csrf_token.clone(),
        action,
        qr: qr_svg(enrolment.otpauth_url.expose()),
        secret: enrolment.secret_base32.expose().clone(),
        error: error.map(error_text),
    };
    Ok(page_with_status(&page, error))
}

/// Confirms enrolment and shows the recovery codes once.
pub(crate) async fn enrol_confirm(
    s: &WebState,
    ctx: &SessionContext,
    code: &str,
    client: &garrison_app::auth::Client,
    action: &'static str,
) -> PortalResult {
    match s.app().confirm_mfa_enrolment(ctx, code, client).await {
        Ok((issued, codes)) => {
            let page = RecoveryCodesPage {
                codes: codes.iter().map(|c| c.expose().clone()).collect(),
                next: stage_home(issued.session.stage),
            };
            let ttl = s.app().settings().device_cookie_ttl.as_secs();
            Ok(with_cookies(
                page_with_status(&page, None),
                session_cookies(&issued, ttl),
            ))
        }
        Err(e) if crate::portal::is_form_error(&e) => enrol_page(s, ctx, action, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `GET /login/enrol`: MFA set-up required before the first full login.
pub async fn enrol_form(State(s): State<WebState>, AnySession(ctx): AnySession) -> PortalResult {
    if let Some(r) = elsewhere(&ctx, SessionStage::MfaEnrolment) {
        return Ok(r);
    }
    enrol_page(&s, &ctx, "/login/enrol", None).await
}

/// `POST /login/enrol`.
pub async fn enrol_submit(
    State(s): State<WebState>,
    f: CsrfForm<AnySession, CodeForm>,
) -> PortalResult {
    let ctx = &f.session.0;
    if let Some(r) = elsewhere(ctx, SessionStage::MfaEnrolment) {
        return Ok(r);
    }
    enrol_confirm(&s, ctx, &f.form.code, &f.client, "/login/enrol").await
}

/// `POST /logout`.
pub async fn logout(State(s): State<WebState>, f: CsrfForm<AnySession, Empty>) -> PortalResult {
    s.app().logout(&f.session.0).await?;
    Ok(with_cookies(see_other("/login"), [clear_cookie(SESSION_COOKIE)]).into_response())
}

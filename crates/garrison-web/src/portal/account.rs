//! The signed-in user's own account: password, MFA, recovery codes.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed};
use crate::portal::login::{
    CodeForm, Empty, RecoveryCodesPage, enrol_confirm, enrol_page, session_cookies,
};
use crate::portal::{
    Layout, NoticeQuery, PortalResult, is_form_error, page_with_status, see_other, with_cookies,
};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    user: garrison_core::model::User,
    recovery_left: Option<u32>,
}

async fn account_page(
    s: &WebState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&garrison_app::AppError>,
) -> PortalResult {
    let layout = Layout::new(s, signed, "Account", "/account")
        .await?
        .with_notice(notice)
        .with_error(error);
    let recovery_left = if signed.ctx.user.has_mfa() {
        Some(s.app().recovery_codes_left(&signed.principal).await?)
    } else {
        None
    };
    let page = AccountPage {
        layout,
        user: signed.ctx.user.clone(),
        recovery_left,
    };
    Ok(page_with_status(&page, error))
}

/// `GET /account`.
pub async fn show(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    account_page(&s, &signed, q.notice.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /account/password`: ends every other session.
pub async fn change_password(
    State(s): State<WebState>,
    f: CsrfForm<Signed, ChangePasswordForm>,
) -> PortalResult {
    let result = if f.form.new_password == f.form.confirm {
        s.app()
            .change_password(
                &f.session.ctx,
                Some(&f.form.current_password),
                &f.form.new_password,
                &f.client,
            )
            .await
    } else {
        Err(garrison_app::AppError::invalid(
            "confirm",
            "the two new passwords differ",
        ))
    };
    match result {
        Ok(issued) => {
            let ttl = s.app().settings().device_cookie_ttl.as_secs();
            Ok(with_cookies(
                see_other("/account?notice=password-changed"),
                session_cookies(&issued, ttl),
            ))
        }
        Err(e) if is_form_error(&e) => account_page(&s, &f.session, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `GET /account/mfa`: voluntary enrolment for users whose tenant does
/// not require MFA.
pub async fn mfa_form(State(s): State<WebState>, signed: Signed) -> PortalResult {
    if signed.ctx.user.has_mfa() {
        return Ok(see_other("/account"));
    }
    enrol_page(&s, &signed.ctx, "/account/mfa", None).await
}

/// `POST /account/mfa`.
pub async fn mfa_submit(State(s): State<WebState>, f: CsrfForm<Signed, CodeForm>) -> PortalResult {
    enrol_confirm(&s, &f.session.ctx, &f.form.code, &f.client, "/account/mfa").await
}

/// `POST /account/recovery-codes`: replaces the recovery codes and shows
/// the new ones once.
pub async fn regenerate_codes(
    State(s): State<WebState>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    match s
        .app()
        .regenerate_recovery_codes(&f.session.principal)
        .await
    {
        Ok(codes) => Ok(page_with_status(
            &RecoveryCodesPage {
                codes: codes.iter().map(|c| c.expose().clone()).collect(),
                next: "/account",
            },
            None,
        )),
        Err(e) if is_form_error(&e) => account_page(&s, &f.session, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

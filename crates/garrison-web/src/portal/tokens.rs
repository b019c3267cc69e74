//! The signed-in user's API tokens.

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_app::AppError;
use garrison_core::model::ApiToken;
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::login::Empty;
use crate::portal::{
    Layout, NoticeQuery, PortalResult, is_form_error, page_with_status, see_other,
};

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    created: Option<String>,
    now: garrison_core::Timestamp,
}

async fn tokens_page(
    s: &WebState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&AppError>,
    created: Option<String>,
) -> PortalResult {
    let layout = Layout::new(s, signed, "API tokens", "/tokens")
        .await?
        .with_notice(notice)
        .with_error(error);
    let page = TokensPage {
        layout,
        tokens: s.app().list_tokens(&signed.principal, None).await?,
        created,
        now: s.app().now(),
    };
    Ok(page_with_status(&page, error))
}

/// `GET /tokens`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    tokens_page(&s, &signed, q.notice.as_deref(), None, None).await
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

/// `POST /tokens`: creates a token and shows its secret once.
pub async fn create(State(s): State<WebState>, f: CsrfForm<Signed, CreateForm>) -> PortalResult {
    let days = match f.form.expires_in_days.trim() {
        "" => Ok(None),
        d => d.parse::<u32>().map(Some).map_err(|_| {
            AppError::invalid(
                "expires_in_days",
                "enter a number of days, or leave it empty",
            )
        }),
    };
    let result = match days {
        Ok(days) => {
            s.app()
                .create_token(&f.session.principal, &f.form.name, days)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(issued) => {
            tokens_page(
                &s,
                &f.session,
                None,
                None,
                Some(issued.secret.expose().clone()),
            )
            .await
        }
        Err(e) if is_form_error(&e) => tokens_page(&s, &f.session, None, Some(&e), None).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /tokens/{token_id}/revoke`.
pub async fn revoke(
    State(s): State<WebState>,
    Path(id): Path<String>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    s.app()
        .revoke_token(&f.session.principal, None, parse_id(&id)?)
        .await?;
    Ok(see_other("/tokens?notice=token-revoked"))
}

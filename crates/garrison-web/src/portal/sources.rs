//! Ingest sources: the tenants' HTTP ingest tokens, created and revoked
//! by MSSP staff who may ingest events (admins and engineers).

use askama::Template;
use axum::extract::{Path, Query, State};
use garrison_app::AppError;
use garrison_app::events::http::NewIngestToken;
use garrison_app::events::ingest::Format;
use garrison_core::model::{IngestToken, Tenant};
use serde::Deserialize;

use crate::WebState;
use crate::extract::{CsrfForm, Signed, parse_id};
use crate::portal::login::Empty;
use crate::portal::{
    Layout, NoticeQuery, PortalResult, is_form_error, page_with_status, see_other,
};

struct TokenLine {
    token: IngestToken,
    tenant: String,
}

/// A token just created: its secret, shown once.
struct Created {
    secret: String,
    name: String,
    tenant: String,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    layout: Layout,
    tokens: Vec<TokenLine>,
    tenants: Vec<Tenant>,
    proposed: Option<String>,
    formats: Vec<&'static str>,
    created: Option<Created>,
    form: CreateForm,
}

async fn sources_page(
    s: &WebState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&AppError>,
    created: Option<Created>,
    form: CreateForm,
) -> PortalResult {
    let p = &signed.principal;
    let active = signed.ctx.session.active_tenant;
    let tokens = s.app().list_ingest_tokens(p, active).await?;
    let tenants = s.app().list_tenants(p).await?;
    let slug = |id| {
        tenants
            .iter()
            .find(|t: &&Tenant| t.id == id)
            .map_or_else(String::new, |t| t.slug.clone())
    };
    let tokens = tokens
        .into_iter()
        .map(|token| TokenLine {
            tenant: slug(token.tenant_id),
            token,
        })
        .collect();
    let proposed = active
        .or_else(|| (tenants.len() == 1).then(|| tenants[0].id))
        .map(|t| t.to_string());
    let layout = Layout::new(s, signed, "Ingest sources", "/sources")
        .await?
        .with_notice(notice)
        .with_error(error);
    let page = SourcesPage {
        layout,
        tokens,
        tenants,
        proposed: form.tenant.clone().filter(|t| !t.is_empty()).or(proposed),
        formats: Format::ALL.iter().map(|f| f.as_str()).collect(),
        created,
        form,
    };
    Ok(page_with_status(&page, error))
}

/// `GET /sources`.
pub async fn list(
    State(s): State<WebState>,
    signed: Signed,
    Query(q): Query<NoticeQuery>,
) -> PortalResult {
    sources_page(
        &s,
        &signed,
        q.notice.as_deref(),
        None,
        None,
        CreateForm::default(),
    )
    .await
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct CreateForm {
    tenant: Option<String>,
    name: String,
    format: String,
    /// Networks, one per line or separated by commas or spaces.
    allow: String,
}

/// `POST /sources`: creates an ingest token and shows its secret once.
pub async fn create(State(s): State<WebState>, f: CsrfForm<Signed, CreateForm>) -> PortalResult {
    let p = &f.session.principal;
    let form = f.form;
    let result = async {
        let tenant = parse_id(form.tenant.as_deref().unwrap_or_default().trim())
            .map_err(|_| AppError::invalid("tenant", "choose the tenant the events belong to"))?;
        let new = NewIngestToken {
            name: form.name.clone(),
            format: form.format.clone(),
            allow: form
                .allow
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let issued = s.app().create_ingest_token(p, tenant, &new).await?;
        let tenant = s.app().tenant(p, tenant).await?;
        Ok::<_, AppError>(Created {
            secret: issued.secret.expose().clone(),
            name: issued.token.name,
            tenant: tenant.slug,
        })
    }
    .await;
    match result {
        Ok(created) => {
            sources_page(
                &s,
                &f.session,
                None,
                None,
                Some(created),
                CreateForm::default(),
            )
            .await
        }
        Err(e) if is_form_error(&e) => {
            sources_page(&s, &f.session, None, Some(&e), None, form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /tenants/{tenant_id}/ingest-tokens/{ingest_token_id}/revoke`.
pub async fn revoke(
    State(s): State<WebState>,
    Path((tenant_id, token_id)): Path<(String, String)>,
    f: CsrfForm<Signed, Empty>,
) -> PortalResult {
    s.app()
        .revoke_ingest_token(
            &f.session.principal,
            parse_id(&tenant_id)?,
            parse_id(&token_id)?,
        )
        .await?;
    Ok(see_other("/sources?notice=ingest-token-revoked"))
}

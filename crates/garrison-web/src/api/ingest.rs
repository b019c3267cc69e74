//! HTTP ingestion: `POST /ingest/v1/events` for sensors and forwarders, and
//! the API that manages the tenants' ingest tokens.
//!
//! A request carries lines: NDJSON (one JSON object per line) or raw log
//! lines (syslog, CEF, LEEF, ...), read with the token's format. The body
//! may be gzip-compressed (`Content-Encoding: gzip`); it is limited in size
//! before decompression (`ingest.max_body_bytes`) and after
//! (`ingest.max_decompressed_bytes`), so a small bomb cannot fill memory.
//! Lines longer than the line limit are cut (and counted); invalid UTF-8 is
//! replaced. The answer comes once every line is stored or counted failed:
//! 200 means committed. Over the tenant's rate cap: 429, queues full: 503,
//! both with `Retry-After` and nothing of the request kept.

use std::io::Read;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use garrison_app::AppError;
use garrison_app::events::http::{
    HttpIngestOutcome, IngestSource, NewIngestToken, RequestFailure, RequestLine,
};
use garrison_app::events::ingest::MAX_LINE_BYTES;
use garrison_core::model::IngestToken;
use garrison_core::{IngestTokenId, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WebState;
use crate::api::{Body, Params};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiAuth, client_ip, parse_id};

/// A tenant's ingest token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestTokenDto {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = "uuid")]
    pub tenant_id: String,
    pub name: String,
    /// The source id its events carry.
    #[schema(example = "http:edge-firewall")]
    pub source_id: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    #[schema(example = "auto")]
    pub format: String,
    /// Networks senders must come from; empty: anywhere.
    pub allow: Vec<String>,
    #[schema(format = "date-time")]
    pub created_at: String,
    #[schema(format = "date-time")]
    pub last_used_at: Option<String>,
    #[schema(format = "date-time")]
    pub revoked_at: Option<String>,
}

impl From<IngestToken> for IngestTokenDto {
    fn from(t: IngestToken) -> Self {
        Self {
            id: t.id.to_string(),
            tenant_id: t.tenant_id.to_string(),
            source_id: format!("http:{}", t.name),
            name: t.name,
            prefix: t.prefix,
            format: t.format,
            allow: t.allow,
            created_at: t.created_at.to_rfc3339(),
            last_used_at: t.last_used_at.map(|t| t.to_rfc3339()),
            revoked_at: t.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIngestTokenRequest {
    /// Names the source (`http:NAME`); unique among the tenant's live
    /// tokens; letters, digits, `-`, `_`, `.` and `:`.
    #[schema(example = "edge-firewall")]
    pub name: String,
    /// `auto` (detect per line), `syslog`, `cef`, `leef`, `json`,
    /// `suricata`, `zeek`, `windows`.
    #[serde(default)]
    pub format: Option<String>,
    /// Networks (CIDR) or addresses senders must come from.
    #[serde(default)]
    pub allow: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedIngestToken {
    pub token: IngestTokenDto,
    /// The bearer secret for `POST /ingest/v1/events`. Shown once; only its
    /// hash is stored.
    pub secret: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenListQuery {
    /// Only this tenant's tokens.
    pub tenant_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/ingest-tokens", tag = "ingest", params(TokenListQuery),
    responses((status = 200, body = [IngestTokenDto]), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Params(q): Params<TokenListQuery>,
) -> ApiResult<Json<Vec<IngestTokenDto>>> {
    let tenant = q
        .tenant_id
        .as_deref()
        .map(parse_id::<TenantId>)
        .transpose()?;
    let tokens = s.app().list_ingest_tokens(&p, tenant).await?;
    Ok(Json(tokens.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/ingest-tokens", tag = "ingest",
    request_body = CreateIngestTokenRequest,
    responses((status = 201, body = CreatedIngestToken), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path(tenant_id): Path<String>,
    Body(req): Body<CreateIngestTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedIngestToken>)> {
    let tenant = parse_id(&tenant_id)?;
    let issued = s
        .app()
        .create_ingest_token(
            &p,
            tenant,
            &NewIngestToken {
                name: req.name,
                format: req.format.unwrap_or_default(),
                allow: req.allow,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedIngestToken {
            token: issued.token.into(),
            secret: issued.secret.expose().clone(),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/ingest-tokens/{ingest_token_id}",
    tag = "ingest",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<WebState>,
    ApiAuth(p): ApiAuth,
    Path((tenant_id, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let tenant = parse_id(&tenant_id)?;
    let id: IngestTokenId = parse_id(&token_id)?;
    s.app().revoke_ingest_token(&p, tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An ingest request's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResponse {
    /// Non-blank lines taken.
    pub accepted: u64,
    pub parsed: u64,
    /// Lines that did not parse: counted, kept for inspection on the
    /// ingestion page, not stored as events.
    pub failed: u64,
    /// Lines cut at the line limit.
    pub truncated: u64,
    /// New events stored.
    pub stored: u64,
    pub duplicates: u64,
    /// The first failures: line number in the body and reason.
    pub failures: Vec<IngestFailure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestFailure {
    pub line: u64,
    pub reason: String,
}

impl From<HttpIngestOutcome> for IngestResponse {
    fn from(o: HttpIngestOutcome) -> Self {
        Self {
            accepted: o.accepted,
            parsed: o.parsed,
            failed: o.failed,
            truncated: o.truncated,
            stored: o.stored,
            duplicates: o.duplicates,
            failures: o
                .failures
                .into_iter()
                .map(|RequestFailure { line, reason }| IngestFailure { line, reason })
                .collect(),
        }
    }
}

/// The sender behind the request's ingest token (`Authorization: Bearer
/// gri_...`), checked against the token's allowed networks.
#[derive(Debug)]
pub struct IngestAuth(pub IngestSource);

impl axum::extract::FromRequestParts<WebState> for IngestAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError(AppError::Unauthenticated))?;
        let ip = client_ip(state, parts);
        Ok(Self(
            state.app().authenticate_ingest(token.trim(), ip).await?,
        ))
    }
}

/// Decompresses a gzip body, refusing more than `cap` bytes of output.
fn gunzip(body: &[u8], cap: usize) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(cap));
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| {
            AppError::invalid("body", format!("the gzip body does not decompress: {e}"))
        })?;
    if out.len() > cap {
        return Err(AppError::TooLarge(format!(
            "the body decompresses to more than {cap} bytes; send smaller requests"
        )));
    }
    Ok(out)
}

/// Splits a body into lines (`\n` or `\r\n`), cutting long ones at
/// `max` bytes (at a character boundary once decoded); blank lines become
/// `None` so that line numbers stay those of the body.
fn lines(body: &[u8], max: usize) -> Vec<Option<RequestLine>> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    if body.is_empty() {
        return Vec::new();
    }
    body.split(|b| *b == b'\n')
        .map(|raw| {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let truncated = raw.len() > max;
            let (mut text, _) = garrison_ingest::framing::lossy_utf8(&raw[..raw.len().min(max)]);
            if truncated {
                // A cut through a multi-byte character leaves a U+FFFD.
                if text.ends_with('\u{FFFD}') {
                    text.pop();
                }
            }
            Some(RequestLine { text, truncated })
        })
        .collect()
}

fn content_encoding(headers: &HeaderMap) -> Result<bool, AppError> {
    match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "identity") => Ok(false),
        Some("gzip" | "x-gzip") => Ok(true),
        Some(other) => Err(AppError::invalid(
            "content-encoding",
            format!("`{other}` is not supported; send gzip or no encoding"),
        )),
    }
}

#[utoipa::path(post, path = "/ingest/v1/events", tag = "ingest",
    request_body(content = String, description = "NDJSON or raw log lines, one event per line; \
        `Content-Encoding: gzip` accepted", content_type = "application/x-ndjson"),
    security(("ingest_token" = [])),
    responses(
        (status = 200, body = IngestResponse, description = "Every line stored or counted failed"),
        (status = 401, body = ErrorBody, description = "Missing, unknown or revoked token, or a sender outside the token's networks"),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "Over the tenant's rate cap; see Retry-After"),
        (status = 503, body = ErrorBody, description = "Queues full or shutting down; see Retry-After")))]
pub async fn ingest(
    State(s): State<WebState>,
    IngestAuth(source): IngestAuth,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<IngestResponse>> {
    let limits = &s.config().ingest;
    let gzip = content_encoding(&headers)?;
    let body: Bytes = axum::body::to_bytes(body, limits.max_body_bytes)
        .await
        .map_err(|_| {
            AppError::TooLarge(format!(
                "the request body is larger than {} bytes (or was cut off); send smaller requests",
                limits.max_body_bytes
            ))
        })?;
    let body = if gzip {
        gunzip(&body, limits.max_decompressed_bytes)?
    } else {
        body.to_vec()
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return Err(ApiError(AppError::invalid(
            "body",
            "send one event per line (NDJSON), not a JSON array",
        )));
    }
    let lines = lines(&body, MAX_LINE_BYTES);
    drop(body);
    let outcome = s.app().ingest_lines(&source, lines).await?;
    Ok(Json(outcome.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_into_numbered_lines_with_blanks_kept_as_gaps() {
        let got = lines(b"one\r\n\n  \ntwo\nthree", 100);
        let texts: Vec<Option<&str>> = got
            .iter()
            .map(|l| l.as_ref().map(|l| l.text.as_str()))
            .collect();
        assert_eq!(texts, [Some("one"), None, None, Some("two"), Some("three")]);
        assert!(lines(b"", 10).is_empty());
        assert_eq!(
            lines(b"x\n", 10).len(),
            1,
            "a final newline ends the last line"
        );
    }

    #[test]
    fn long_lines_are_cut_at_a_character_boundary_and_bad_bytes_replaced() {
        let got = lines(b"\xc3\xa9\xc3\xa9\xc3\xa9\n\xffok", 3);
        let first = got[0].as_ref().expect("line");
        assert_eq!(first.text, "é", "the cut half character is dropped");
        assert!(first.truncated);
        let second = got[1].as_ref().expect("line");
        assert_eq!(second.text, "\u{FFFD}ok");
        assert!(!second.truncated);
    }

    #[test]
    fn gzip_is_capped_after_decompression() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'a'; 1_000_000]).expect("write");
        let bomb = enc.finish().expect("finish");
        assert!(
            bomb.len() < 5_000,
            "a million bytes compress to {}",
            bomb.len()
        );
        assert!(matches!(gunzip(&bomb, 100_000), Err(AppError::TooLarge(_))));
        assert_eq!(gunzip(&bomb, 1_000_000).expect("fits").len(), 1_000_000);
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(AppError::Invalid(_))
        ));
    }
}

//! Events sent over HTTP (`POST /ingest/v1/events`): the tenants' ingest
//! tokens and the request's way through the pipeline.
//!
//! An ingest token belongs to one tenant, names the source (`http:NAME`),
//! fixes the format its lines are read as and may restrict the networks
//! senders come from. Whatever arrives with it is its tenant's: the body
//! never chooses the tenant. MSSP staff who may ingest events
//! (`EventIngest`: MSSP admins and engineers) create and revoke tokens; the
//! secret is shown once and stored as its SHA-256.
//!
//! **Acknowledgement.** A request's lines are published as one batch (the
//! bus takes it whole or refuses it whole) tagged with a receipt, and the
//! call returns only once every line is committed or counted failed. So an
//! answer of 2xx means stored; an overloaded bus answers `Throttled` (the
//! tenant's rate cap) or `Busy` (queues full) with the time to wait, and
//! nothing of the request is kept. A request cut off after publishing (a
//! timeout, a dropped connection) may be stored anyway: senders that retry
//! then send some events twice (at-least-once, like every syslog relay).

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::model::IngestToken;
use garrison_core::{
    EventId, IngestTokenId, Permission, Principal, Secret, TenantId, Timestamp, validate,
};
use garrison_ingest::Format;
use garrison_ingest::bus::{Bus, Overload, PublishError, RawLine};
use garrison_store::events::{cidr_range, ip_number};
use serde::Serialize;
use serde_json::json;

use crate::crypto::{lookup_hash, random_token};
use crate::{App, AppError, AppResult};

/// What an ingest token starts with (API tokens start with `grn_`).
pub const INGEST_TOKEN_PREFIX: &str = "gri_";

/// Networks one token may name in its allow list.
pub const MAX_ALLOWED_NETWORKS: usize = 64;

/// Failures listed in a response (those of the lowest line numbers).
pub const RESPONSE_FAILURES: usize = 20;

/// A token just created, with its secret (shown once).
#[derive(Debug)]
pub struct IssuedIngestToken {
    pub token: IngestToken,
    pub secret: Secret<String>,
}

/// What a new token is to be.
#[derive(Debug, Clone, Default)]
pub struct NewIngestToken {
    pub name: String,
    /// A format name (`auto`, `syslog`, `cef`, `suricata`, ...); empty:
    /// `auto`.
    pub format: String,
    /// CIDRs or addresses senders must come from; empty: anywhere.
    pub allow: Vec<String>,
}

/// An authenticated sender: the token's tenant, source and format.
#[derive(Debug, Clone)]
pub struct IngestSource {
    pub token_id: IngestTokenId,
    pub tenant: TenantId,
    /// `http:NAME`.
    pub source_id: String,
    pub format: Format,
}

/// One line of a request: its text and whether it was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub text: String,
    pub truncated: bool,
}

/// A line that did not parse: its 1-based number in the body (blank lines
/// count) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestFailure {
    pub line: u64,
    pub reason: String,
}

/// The answer to an ingest request, once everything is settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpIngestOutcome {
    /// Lines taken (blank lines are skipped and not counted).
    pub accepted: u64,
    pub parsed: u64,
    pub failed: u64,
    /// Lines cut at the line limit before parsing.
    pub truncated: u64,
    /// New events written.
    pub stored: u64,
    pub duplicates: u64,
    /// The first failures, by line number in the body.
    pub failures: Vec<RequestFailure>,
}

/// Checks one allowed network and writes it canonically (`10.0.0.0/8`,
/// an address alone as itself).
fn network(text: &str) -> AppResult<String> {
    let t = text.trim();
    if cidr_range(t).is_none() {
        return Err(AppError::invalid(
            "allow",
            format!("`{t}` is not an IP address or CIDR network (e.g. 192.0.2.0/24)"),
        ));
    }
    Ok(t.to_owned())
}

fn allowed(allow: &[String], ip: IpAddr) -> bool {
    if allow.is_empty() {
        return true;
    }
    let n = ip_number(ip);
    allow
        .iter()
        .filter_map(|a| cidr_range(a))
        .any(|(lo, hi)| (lo..=hi).contains(&n))
}

impl App {
    /// Creates an ingest token for `tenant`.
    ///
    /// # Errors
    /// `NotFound` for an invisible tenant, `Forbidden` without
    /// `EventIngest`, `Invalid` for a bad name, format or network,
    /// `Conflict` when the tenant has a live token of that name.
    pub async fn create_ingest_token(
        &self,
        p: &Principal,
        tenant: TenantId,
        new: &NewIngestToken,
    ) -> AppResult<IssuedIngestToken> {
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        self.store.find_tenant(&scope).await?;
        if !p.can(Permission::EventIngest) {
            return Err(AppError::Forbidden(
                "your role does not allow managing ingest sources",
            ));
        }
        let name = validate::name("name", &new.name, 64)?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return Err(AppError::invalid(
                "name",
                "use letters, digits, `-`, `_`, `.` and `:` only (it becomes the source id `http:NAME`)",
            ));
        }
        let format_name = if new.format.trim().is_empty() {
            "auto"
        } else {
            new.format.trim()
        };
        let format = Format::from_str(format_name).map_err(|e| AppError::invalid("format", e))?;
        let allow = new
            .allow
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| network(a))
            .collect::<AppResult<Vec<_>>>()?;
        if allow.len() > MAX_ALLOWED_NETWORKS {
            return Err(AppError::invalid(
                "allow",
                format!("at most {MAX_ALLOWED_NETWORKS} networks"),
            ));
        }
        let secret = format!("{INGEST_TOKEN_PREFIX}{}", random_token()?);
        let token = IngestToken {
            id: IngestTokenId::new(),
            tenant_id: tenant,
            name,
            prefix: secret.chars().take(INGEST_TOKEN_PREFIX.len() + 6).collect(),
            token_hash: lookup_hash(&secret),
            format: format.as_str().to_owned(),
            allow,
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let entry = AuditEntry::by(p, self.clock.now(), Action::IngestTokenCreated)
            .tenant(Some(tenant))
            .target(format!("ingest_token:{}", token.id))
            .details(&json!({
                "name": token.name, "format": token.format, "allow": token.allow,
            }));
        self.store.create_ingest_token(&token, &entry).await?;
        Ok(IssuedIngestToken {
            token,
            secret: Secret::new(secret),
        })
    }

    /// Ingest tokens of the tenants the caller sees (or of one of them).
    ///
    /// # Errors
    /// `NotFound` for an invisible tenant, `Forbidden` without
    /// `EventIngest`.
    pub async fn list_ingest_tokens(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
    ) -> AppResult<Vec<IngestToken>> {
        let access = match tenant {
            Some(t) => {
                let scope = p.scope(t).ok_or(AppError::NotFound)?;
                self.store.find_tenant(&scope).await?;
                scope.as_access()
            }
            None => p.access(),
        };
        if !p.can(Permission::EventIngest) {
            return Err(AppError::Forbidden(
                "your role does not allow managing ingest sources",
            ));
        }
        Ok(self.store.list_ingest_tokens(&access).await?)
    }

    /// Revokes a tenant's ingest token: it stops working at once.
    ///
    /// # Errors
    /// `NotFound` for an invisible tenant or a token not the tenant's,
    /// `Forbidden` without `EventIngest`.
    pub async fn revoke_ingest_token(
        &self,
        p: &Principal,
        tenant: TenantId,
        id: IngestTokenId,
    ) -> AppResult<()> {
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        let visible = self.store.list_ingest_tokens(&scope.as_access()).await?;
        if !visible.iter().any(|t| t.id == id) {
            return Err(AppError::NotFound);
        }
        if !p.can(Permission::EventIngest) {
            return Err(AppError::Forbidden(
                "your role does not allow managing ingest sources",
            ));
        }
        let entry = AuditEntry::by(p, self.clock.now(), Action::IngestTokenRevoked)
            .tenant(Some(tenant))
            .target(format!("ingest_token:{id}"));
        self.store
            .revoke_ingest_token(&scope, id, self.clock.now(), &entry)
            .await?;
        Ok(())
    }

    /// The source behind an ingest token sent from `ip`. Unknown, revoked
    /// and out-of-network tokens all answer `Unauthenticated`, alike.
    ///
    /// # Errors
    /// `Unauthenticated`, or a store failure.
    pub async fn authenticate_ingest(&self, bearer: &str, ip: IpAddr) -> AppResult<IngestSource> {
        if !bearer.starts_with(INGEST_TOKEN_PREFIX) || bearer.len() > 128 {
            return Err(AppError::Unauthenticated);
        }
        let Some(token) = self
            .store
            .find_ingest_token_by_hash(&lookup_hash(bearer))
            .await?
        else {
            return Err(AppError::Unauthenticated);
        };
        if token.revoked_at.is_some() || !allowed(&token.allow, ip) {
            return Err(AppError::Unauthenticated);
        }
        let format = Format::from_str(&token.format)
            .map_err(|e| AppError::Internal(format!("ingest token {}: {e}", token.id)))?;
        let now = self.clock.now();
        if token
            .last_used_at
            .is_none_or(|t| now.since(t).as_secs() >= 60)
        {
            self.store.touch_ingest_token(token.id, now).await?;
        }
        Ok(IngestSource {
            token_id: token.id,
            tenant: token.tenant_id,
            source_id: format!("http:{}", token.name),
            format,
        })
    }

    /// Ingests a request's lines (`None` for a blank line, which is
    /// skipped but keeps the numbering) for `source` and returns once all
    /// are stored or counted failed.
    ///
    /// # Errors
    /// `TooLarge` when the request holds more lines than the bus takes at
    /// once; `Throttled` over the tenant's rate cap and `Busy` when the
    /// queues are full (nothing of the request is kept in either case);
    /// `Unavailable` when the pipeline is shutting down.
    pub async fn ingest_lines(
        &self,
        source: &IngestSource,
        lines: Vec<Option<RequestLine>>,
    ) -> AppResult<HttpIngestOutcome> {
        let pipeline = self.pipeline();
        let receipt = pipeline.receipt();
        let received_at: Timestamp = self.clock.now();
        let mut truncated = 0_u64;
        let batch: Vec<RawLine> = lines
            .into_iter()
            .zip(1_u64..)
            .filter_map(|(line, number)| {
                let line = line?;
                truncated += u64::from(line.truncated);
                Some(RawLine {
                    id: EventId::new(),
                    tenant: source.tenant,
                    source_id: source.source_id.clone(),
                    received_at,
                    format: source.format,
                    line: line.text,
                    receipt: Some(receipt.tag(number)),
                })
            })
            .collect();
        let accepted = batch.len() as u64;
        if accepted > 0 {
            pipeline
                .bus()
                .publish(source.tenant, batch)
                .await
                .map_err(|e| match e {
                    PublishError::Overloaded {
                        reason: Overload::Rate,
                        retry_after,
                    } => AppError::Throttled {
                        retry_after: retry_after.max(Duration::from_secs(1)),
                    },
                    PublishError::Overloaded { retry_after, .. } => AppError::Busy {
                        retry_after: retry_after.max(Duration::from_secs(1)),
                    },
                    PublishError::TooLarge { max, .. } => AppError::TooLarge(format!(
                        "a request may hold at most {max} lines; send fewer per request"
                    )),
                    PublishError::Closed => {
                        AppError::Unavailable("the ingest pipeline is shutting down".to_owned())
                    }
                    PublishError::WrongTenant => {
                        AppError::Internal("a line was attributed to another tenant".to_owned())
                    }
                })?;
        }
        let counts = receipt.wait_for(accepted).await;
        if counts.settled < accepted {
            return Err(AppError::Unavailable(
                "the ingest pipeline stopped before every line was stored".to_owned(),
            ));
        }
        Ok(HttpIngestOutcome {
            accepted,
            parsed: counts.parsed,
            failed: counts.failed,
            truncated,
            stored: counts.stored,
            duplicates: counts.duplicates,
            failures: counts
                .failures
                .iter()
                .take(RESPONSE_FAILURES)
                .map(|(line, reason)| RequestFailure {
                    line: *line,
                    reason: reason.clone(),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_match_addresses_and_networks_of_both_families() {
        let allow = vec!["10.1.0.0/16".to_owned(), "2001:db8::1".to_owned()];
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(allowed(&allow, ip("10.1.200.3")));
        assert!(allowed(&allow, ip("::ffff:10.1.0.1")), "mapped IPv4");
        assert!(allowed(&allow, ip("2001:db8::1")));
        assert!(!allowed(&allow, ip("10.2.0.1")));
        assert!(!allowed(&allow, ip("2001:db8::2")));
        assert!(allowed(&[], ip("203.0.113.9")), "no list: anywhere");
    }

    #[test]
    fn networks_are_checked() {
        assert_eq!(network(" 192.0.2.0/24 ").expect("ok"), "192.0.2.0/24");
        assert!(network("192.0.2.0/33").is_err());
        assert!(network("example.com").is_err());
    }
}

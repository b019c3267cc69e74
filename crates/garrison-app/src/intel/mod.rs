//! Threat intelligence: importing indicator feeds (CSV and plain text) into
//! a tenant's or the MSSP's indicator store, and reading them back.
//!
//! The import reads the file on a blocking thread ([`feed::FeedReader`]),
//! hands batches to the store as they fill (each batch one transaction, so
//! a failure leaves every earlier batch whole and nothing half-written),
//! and audits `indicators.imported` with the counts at the end.

pub mod feed;

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use garrison_core::audit::{Action, AuditEntry, Outcome};
use garrison_core::indicator::{Indicator, IndicatorScope};
use garrison_core::{IndicatorId, Permission, Principal, TenantId};
use garrison_scan::Progress;
use garrison_scan::input::Counted;
use garrison_store::{
    IndicatorCounts, IndicatorQuery, IndicatorTarget, IndicatorWrite, Page, SightingCount,
};
use serde::Serialize;
use serde_json::json;

use self::feed::{FeedDefaults, FeedFormat, FeedItem, FeedReader, FeedRejection};
use crate::{App, AppError, AppResult};

/// Indicators written per store transaction.
const BATCH: usize = 1000;
/// Rejections kept for the summary (all are counted).
const REJECTIONS_KEPT: usize = 1000;

/// Whose indicators an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntelTarget {
    /// Every tenant's (permission `SharedIndicatorManage`).
    Mssp,
    /// One tenant's (visible to the caller; permission `IndicatorManage`).
    Tenant(TenantId),
}

/// A feed file to import.
#[derive(Debug, Clone)]
pub struct IntelImport {
    pub path: PathBuf,
    /// For messages and the audit record.
    pub file_name: String,
    pub format: FeedFormat,
    pub target: IntelTarget,
    pub defaults: FeedDefaults,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct IntelImportSummary {
    pub file: String,
    pub format: FeedFormat,
    pub scope: IndicatorScope,
    pub source: String,
    /// Lines read (comments and blank lines included).
    pub lines: u64,
    /// Indicators read from the file (a line may hold several).
    pub accepted: u64,
    #[serde(flatten)]
    pub counts: IndicatorCounts,
    pub rejected: u64,
    /// The first rejections, with line numbers.
    pub rejections: Vec<FeedRejection>,
    pub warnings: Vec<String>,
    /// Why the file was not read to its end, if it was not.
    pub error: Option<String>,
}

enum Message {
    Batch(Vec<IndicatorWrite>, Vec<FeedRejection>),
    End {
        lines: u64,
        warnings: Vec<String>,
        error: Option<String>,
    },
}

impl App {
    /// The store target for `target`, after the visibility and permission
    /// checks (`NotFound` for a tenant the caller cannot see, then
    /// `Forbidden`).
    async fn intel_target(&self, p: &Principal, target: IntelTarget) -> AppResult<IndicatorTarget> {
        match target {
            IntelTarget::Mssp => {
                if !p.can(Permission::SharedIndicatorManage) {
                    return Err(AppError::Forbidden(
                        "only MSSP staff manage the intelligence every tenant shares",
                    ));
                }
                Ok(IndicatorTarget::Mssp)
            }
            IntelTarget::Tenant(t) => {
                let scope = crate::admin::scope(p, t)?;
                self.store.find_tenant(&scope).await?;
                if !p.can(Permission::IndicatorManage) {
                    return Err(AppError::Forbidden("your role does not allow this"));
                }
                Ok(IndicatorTarget::Tenant(scope))
            }
        }
    }

    /// Imports a feed file. Bad lines are reported and skipped; the good
    /// ones are written in batches. `progress` counts the bytes read.
    ///
    /// # Errors
    /// `NotFound`/`Forbidden` as for the target, `Invalid` when the file
    /// cannot be opened, and store errors (batches written before one stay
    /// written, and the audit record says so).
    pub async fn import_intel(
        &self,
        p: &Principal,
        import: IntelImport,
        progress: Arc<Progress>,
    ) -> AppResult<IntelImportSummary> {
        let target = self.intel_target(p, import.target).await?;
        let file = File::open(&import.path).map_err(|e| {
            AppError::invalid(
                "file",
                format!("cannot open {}: {e}", import.path.display()),
            )
        })?;
        let mut summary = IntelImportSummary {
            file: import.file_name.clone(),
            format: import.format,
            scope: target.scope(),
            source: import.defaults.source.clone(),
            lines: 0,
            accepted: 0,
            counts: IndicatorCounts::default(),
            rejected: 0,
            rejections: Vec::new(),
            warnings: Vec::new(),
            error: None,
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(4);
        let format = import.format;
        let defaults = import.defaults.clone();
        let reader = tokio::task::spawn_blocking(move || {
            let input =
                Counted::new(BufReader::with_capacity(256 * 1024, file)).with_progress(progress);
            let mut feed = FeedReader::new(input, format, defaults);
            let mut writes = Vec::with_capacity(BATCH);
            let mut rejections = Vec::new();
            for item in feed.by_ref() {
                match item {
                    FeedItem::Indicator { write, .. } => writes.push(write),
                    FeedItem::Rejected(r) => rejections.push(r),
                }
                if writes.len() >= BATCH || rejections.len() >= BATCH {
                    let batch = Message::Batch(
                        std::mem::replace(&mut writes, Vec::with_capacity(BATCH)),
                        std::mem::take(&mut rejections),
                    );
                    if tx.blocking_send(batch).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.blocking_send(Message::Batch(writes, rejections));
            let _ = tx.blocking_send(Message::End {
                lines: feed.lines(),
                warnings: feed.warnings().to_vec(),
                error: feed.error().map(str::to_owned),
            });
        });
        let mut failure = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Message::Batch(writes, rejections) => {
                    summary.rejected += rejections.len() as u64;
                    let room = REJECTIONS_KEPT.saturating_sub(summary.rejections.len());
                    summary.rejections.extend(rejections.into_iter().take(room));
                    summary.accepted += writes.len() as u64;
                    if writes.is_empty() {
                        continue;
                    }
                    match self
                        .store
                        .upsert_indicators(&target, &writes, self.clock.now())
                        .await
                    {
                        Ok(c) => summary.counts += c,
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                Message::End {
                    lines,
                    warnings,
                    error,
                } => {
                    summary.lines = lines;
                    summary.warnings = warnings;
                    summary.error = error;
                }
            }
        }
        drop(rx);
        let _ = reader.await;
        let mut entry = AuditEntry::by(p, self.clock.now(), Action::IndicatorsImported)
            .tenant(summary.scope.tenant())
            .target(format!("intel:{}", summary.source))
            .details(&json!({
                "file": summary.file, "format": summary.format.as_str(),
                "scope": if summary.scope.tenant().is_some() { "tenant" } else { "mssp" },
                "new": summary.counts.new, "updated": summary.counts.updated,
                "unchanged": summary.counts.unchanged, "rejected": summary.rejected,
                "error": failure.as_ref().map(ToString::to_string).or_else(|| summary.error.clone()),
            }));
        if failure.is_some() {
            entry.outcome = Outcome::Failure;
        }
        self.store.append_audit(&entry).await?;
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(summary),
        }
    }

    /// Indicators the caller may see (its tenants' and the MSSP-wide ones).
    ///
    /// # Errors
    /// `Forbidden` without `IndicatorRead`; store errors.
    pub async fn list_indicators(
        &self,
        p: &Principal,
        q: &IndicatorQuery,
    ) -> AppResult<Page<Indicator>> {
        if !p.can(Permission::IndicatorRead) {
            return Err(AppError::Forbidden("your role does not allow this"));
        }
        Ok(self.store.list_indicators(&p.access(), q).await?)
    }

    /// Revokes an indicator: `NotFound` when the caller cannot see it,
    /// then `Forbidden` without the right for its scope.
    ///
    /// # Errors
    /// As above, and store errors.
    pub async fn revoke_indicator(&self, p: &Principal, id: IndicatorId) -> AppResult<()> {
        let access = p.access();
        let found = self.store.find_indicator(&access, id).await?;
        let allowed = match found.scope {
            IndicatorScope::Mssp => p.can(Permission::SharedIndicatorManage),
            IndicatorScope::Tenant(_) => p.can(Permission::IndicatorManage),
        };
        if !allowed {
            return Err(AppError::Forbidden("your role does not allow this"));
        }
        let entry = AuditEntry::by(p, self.clock.now(), Action::IndicatorsRevoked)
            .tenant(found.scope.tenant())
            .target(format!("indicator:{id}"))
            .details(&json!({ "kind": found.kind, "value": found.value, "source": found.source }));
        self.store
            .revoke_indicator(&access, id, self.clock.now(), &entry)
            .await?;
        Ok(())
    }

    /// Sighting counts of indicators in the caller's tenants.
    ///
    /// # Errors
    /// `Forbidden` without `IndicatorRead`; store errors.
    pub async fn sighting_counts(
        &self,
        p: &Principal,
        ids: &[IndicatorId],
    ) -> AppResult<Vec<SightingCount>> {
        if !p.can(Permission::IndicatorRead) {
            return Err(AppError::Forbidden("your role does not allow this"));
        }
        Ok(self.store.sighting_counts(&p.access(), ids).await?)
    }
}

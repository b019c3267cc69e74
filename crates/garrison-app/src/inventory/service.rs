//! The inventory's use cases: imports, assets, findings and ranges. Every
//! method takes the acting principal, resolves the tenant within its
//! access (else `NotFound`), then checks the permission.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use garrison_core::asset::{
    Asset, AssetType, Criticality, Finding, FindingStatus, Import, ImportCounts, ImportKind,
    ImportStatus, NetworkRange, Sensitivity, Source,
};
use garrison_core::audit::{Action, AuditEntry};
use garrison_core::{
    AssetId, FindingId, ImportId, Permission, Principal, RangeId, TenantId, TenantScope, validate,
};
use garrison_scan::{Format, Progress};
use garrison_store::{
    AssetEvent, AssetQuery, AssetRisk, AssetRow, AssetWrite, FindingQuery, FindingStatusChange,
    InventoryBatch, Page,
};
use serde_json::json;

use super::importer::{self, ImportItem};
use super::reconcile::{self, Observation};
use super::risk::{RiskBreakdown, RiskWeights};
use super::sources;
use super::vulndb::FindingFacts;
use crate::{App, AppError, AppResult};

fn require(p: &Principal, permission: Permission) -> AppResult<()> {
    if p.can(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden("your role does not allow this"))
    }
}

/// A file to import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub tenant: TenantId,
    pub path: PathBuf,
    /// The name the user gave the file (shown in the import list).
    pub file_name: String,
    /// Given, or detected from the file.
    pub format: Option<Format>,
    /// The zone the scanned hosts are in, when the tenant's ranges do not
    /// say.
    pub zone: Option<String>,
    /// What the caller expects the file to be (asset list or scan).
    pub kind: ImportKind,
    /// Delete the file when the import ends (uploads).
    pub delete_after: bool,
}

/// Fields a person sets on an asset. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetInput {
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub ips: Vec<std::net::IpAddr>,
    pub macs: Vec<String>,
    pub os: Option<String>,
    pub asset_type: Option<AssetType>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub location: Option<String>,
    pub criticality: Option<Criticality>,
    pub sensitivity: Option<Sensitivity>,
    pub regulations: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub internet_exposed: Option<bool>,
}

/// A change applied to many assets at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkChange {
    pub criticality: Option<Criticality>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    /// Replaces the regulatory scope when given.
    pub regulations: Option<Vec<String>>,
}

fn clean(field: &'static str, v: Option<String>, max: usize) -> AppResult<Option<String>> {
    v.map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .map(|s| validate::name(field, &s, max).map_err(AppError::from))
        .transpose()
}

impl AssetInput {
    fn observation(self) -> AppResult<Observation> {
        let lower = |s: Option<String>| s.map(|s| s.to_lowercase());
        let macs = self
            .macs
            .iter()
            .map(|m| {
                garrison_scan::model::normalise_mac(m).ok_or_else(|| {
                    AppError::invalid(
                        "mac",
                        format!("`{}` is not a MAC address", m.escape_default()),
                    )
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let regulations = self
            .regulations
            .map(|r| {
                r.iter()
                    .map(|x| garrison_core::asset::regulation(x))
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        let tags = self
            .tags
            .map(|t| {
                t.iter()
                    .map(|x| garrison_core::asset::tag(x))
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        Ok(Observation {
            ips: self.ips,
            macs,
            hostname: lower(clean("hostname", self.hostname, 253)?),
            fqdn: lower(clean("fqdn", self.fqdn, 253)?),
            os: clean("os", self.os, 200)?,
            zone: None,
            asset_type: self.asset_type,
            owner: clean("owner", self.owner, 200)?,
            business_unit: clean("business_unit", self.business_unit, 200)?,
            location: clean("location", self.location, 200)?,
            criticality: self.criticality,
            sensitivity: self.sensitivity,
            regulations,
            tags,
            internet_exposed: self.internet_exposed,
            services: Vec::new(),
            software: Vec::new(),
        })
    }
}

/// An asset with its findings, history and risk breakdown.
#[derive(Debug, Clone)]
pub struct AssetDetail {
    pub row: AssetRow,
    pub findings: Vec<Finding>,
    /// What the vulnerability data adds to each finding, in the same order.
    pub finding_facts: Vec<FindingFacts>,
    pub events: Vec<AssetEvent>,
    pub risk: RiskBreakdown,
}

impl App {
    async fn tenant_scope(&self, p: &Principal, tenant: TenantId) -> AppResult<TenantScope> {
        let scope = p.scope(tenant).ok_or(AppError::NotFound)?;
        self.store.find_tenant(&scope).await?;
        Ok(scope)
    }

    /// The tenant's risk weights: its own, or the defaults. Weights that
    /// no longer parse (written by a newer version, say) fall back to the
    /// defaults with a warning rather than blocking the inventory.
    pub(crate) async fn weights_of(&self, scope: &TenantScope) -> AppResult<RiskWeights> {
        Ok(match self.store.risk_weights(scope).await? {
            None => RiskWeights::default(),
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::warn!(tenant = %scope.tenant_id(), error = %e, "stored risk weights do not parse; using the defaults");
                RiskWeights::default()
            }),
        })
    }

    /// The risk of an asset, its findings weighed with what the
    /// vulnerability data says about their CVEs (KEV, EPSS).
    async fn risk_for(
        &self,
        scope: &TenantScope,
        asset: &Asset,
        findings: &[Finding],
    ) -> AppResult<(AssetRisk, RiskBreakdown)> {
        let refs: Vec<&Finding> = findings.iter().collect();
        let weights = self.weights_of(scope).await?;
        let b = self.risk_with_facts(asset, &refs, &weights).await?;
        Ok((
            AssetRisk {
                score: b.score,
                open_findings: b.open_findings,
                max_severity: b.max_severity,
                kev_findings: b.kev_findings,
            },
            b,
        ))
    }

    // --- imports ----------------------------------------------------------

    async fn prepare_import(
        &self,
        p: &Principal,
        f: &ImportFile,
    ) -> AppResult<(TenantScope, Format, Import)> {
        let scope = self.tenant_scope(p, f.tenant).await?;
        require(p, Permission::InventoryManage)?;
        let format = match f.format {
            Some(fmt) => fmt,
            None => sources::detect_file(&f.path)?,
        };
        let is_list = matches!(format, Format::AssetsCsv | Format::AssetsJson);
        match (f.kind, is_list) {
            (ImportKind::Assets, false)
                if matches!(
                    format,
                    Format::Nmap
                        | Format::Nessus
                        | Format::Openvas
                        | Format::Qualys
                        | Format::FindingsCsv
                ) =>
            {
                return Err(AppError::invalid(
                    "format",
                    format!(
                        "this is a {} scan report, not an asset list: import it as a scan",
                        format.as_str()
                    ),
                ));
            }
            (ImportKind::Scan, true) => {
                return Err(AppError::invalid(
                    "format",
                    "this is an asset list, not a scan report: import it as assets",
                ));
            }
            (ImportKind::VulnDb, _) => {
                return Err(AppError::invalid(
                    "kind",
                    "vulnerability data is imported with its own command",
                ));
            }
            _ => {}
        }
        if let Some(zone) = f.zone.as_deref() {
            validate::name("zone", zone, 64)?;
        }
        let bytes_total = std::fs::metadata(&f.path).map_or(0, |m| m.len());
        let file_name =
            validate::name("file_name", &f.file_name, 255).unwrap_or_else(|_| "upload".to_owned());
        let import = Import {
            id: ImportId::new(),
            tenant_id: Some(f.tenant),
            kind: f.kind,
            format: format.as_str().to_owned(),
            file_name: file_name.clone(),
            status: ImportStatus::Queued,
            bytes_total,
            bytes_done: 0,
            counts: ImportCounts::default(),
            rejections: Vec::new(),
            error: None,
            created_by: p.user_id(),
            created_at: self.clock.now(),
            finished_at: None,
        };
        let entry = AuditEntry::by(p, self.clock.now(), Action::ImportStarted)
            .tenant(Some(f.tenant))
            .target(format!("import:{}", import.id))
            .details(&json!({ "file": file_name, "format": format.as_str(), "kind": f.kind.as_str(), "bytes": bytes_total }));
        self.store.create_import(&import, Some(&entry)).await?;
        Ok((scope, format, import))
    }

    async fn execute_import(
        &self,
        p: &Principal,
        f: ImportFile,
        scope: TenantScope,
        format: Format,
        import: Import,
        progress: Arc<Progress>,
    ) -> AppResult<Import> {
        let items = sources::open(&f.path, format, progress.clone());
        let (tx, rx) =
            tokio::sync::mpsc::channel::<Result<ImportItem, garrison_scan::ScanError>>(64);
        let reader = match items {
            Ok(items) => tokio::task::spawn_blocking(move || {
                for item in items {
                    let fatal = item.is_err();
                    if tx.blocking_send(item).is_err() || fatal {
                        break;
                    }
                }
            }),
            Err(e) => {
                let failed = garrison_store::ImportProgress {
                    status: ImportStatus::Failed,
                    bytes_done: 0,
                    counts: ImportCounts::default(),
                    rejections: Vec::new(),
                    error: Some(e.to_string()),
                    finished_at: Some(self.clock.now()),
                };
                self.store.update_import(import.id, &failed).await?;
                return Err(e);
            }
        };
        let actor = format!("import:{}", import.id);
        let result = importer::run(self, scope, &import, actor, f.zone.clone(), rx, progress).await;
        let _ = reader.await;
        if f.delete_after {
            let _ = std::fs::remove_file(&f.path);
        }
        let done = match result {
            Ok(done) => done,
            Err(e) => {
                let failed = garrison_store::ImportProgress {
                    status: ImportStatus::Failed,
                    bytes_done: 0,
                    counts: ImportCounts::default(),
                    rejections: Vec::new(),
                    error: Some(crate::error::public(&e)),
                    finished_at: Some(self.clock.now()),
                };
                let _ = self.store.update_import(import.id, &failed).await;
                return Err(e);
            }
        };
        let entry = AuditEntry::new(self.clock.now(), Action::ImportFinished, p.label())
            .actor(p.user_id())
            .tenant(done.tenant_id)
            .target(format!("import:{}", done.id))
            .details(&json!({ "status": done.status.as_str(), "counts": done.counts }));
        self.store.append_audit(&entry).await?;
        Ok(done)
    }

    /// Runs an import to its end (the CLI), reporting bytes read through
    /// `progress`.
    ///
    /// # Errors
    /// `NotFound` for an invisible tenant, `Forbidden` without the
    /// permission, `Invalid` for a file of the wrong kind or format.
    pub async fn run_import(
        &self,
        p: &Principal,
        f: ImportFile,
        progress: Arc<Progress>,
    ) -> AppResult<Import> {
        let (scope, format, import) = self.prepare_import(p, &f).await?;
        self.execute_import(p, f, scope, format, import, progress)
            .await
    }

    /// Starts an import in the background and returns its row at once
    /// (uploads through the portal and the API).
    ///
    /// # Errors
    /// As for [`App::run_import`], for what can be checked before starting.
    pub async fn start_import(app: Arc<Self>, p: &Principal, f: ImportFile) -> AppResult<Import> {
        let (scope, format, import) = match app.prepare_import(p, &f).await {
            Ok(v) => v,
            Err(e) => {
                if f.delete_after {
                    let _ = std::fs::remove_file(&f.path);
                }
                return Err(e);
            }
        };
        let row = import.clone();
        let principal = p.clone();
        tokio::spawn(async move {
            let id = import.id;
            if let Err(e) = app
                .execute_import(
                    &principal,
                    f,
                    scope,
                    format,
                    import,
                    Arc::new(Progress::default()),
                )
                .await
            {
                tracing::warn!(import.id = %id, error = %e, "import failed");
            }
        });
        Ok(row)
    }

    /// Imports left running by a stopped server are marked failed.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn fail_interrupted_imports(&self) -> AppResult<u64> {
        let op = Principal::system("startup");
        let mut n = 0;
        for i in self.store.list_imports(&op.access(), 1000).await? {
            if matches!(i.status, ImportStatus::Running | ImportStatus::Queued) {
                let p = garrison_store::ImportProgress {
                    status: ImportStatus::Failed,
                    bytes_done: i.bytes_done,
                    counts: i.counts,
                    rejections: i.rejections,
                    error: Some(
                        "interrupted: the server stopped during the import; import the file again"
                            .to_owned(),
                    ),
                    finished_at: Some(self.clock.now()),
                };
                self.store.update_import(i.id, &p).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn import_status(&self, p: &Principal, id: ImportId) -> AppResult<Import> {
        require(p, Permission::InventoryRead)?;
        match self.store.find_import(&p.access(), id).await {
            // Vulnerability data imports belong to no tenant, so only access
            // to every tenant shows them; whoever may run them (an MSSP
            // engineer) may also follow them.
            Err(garrison_store::StoreError::NotFound) if p.can(Permission::VulnDataManage) => {
                let all = Principal::system("vulndb").access();
                match self.store.find_import(&all, id).await? {
                    i if i.tenant_id.is_none() => Ok(i),
                    _ => Err(AppError::NotFound),
                }
            }
            other => Ok(other?),
        }
    }

    /// Imports the principal can see, newest first.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn list_imports(
        &self,
        p: &Principal,
        tenant: Option<TenantId>,
    ) -> AppResult<Vec<Import>> {
        let access = match tenant {
            Some(t) => self.tenant_scope(p, t).await?.as_access(),
            None => p.access(),
        };
        require(p, Permission::InventoryRead)?;
        Ok(self.store.list_imports(&access, 200).await?)
    }

    // --- assets -------------------------------------------------------------

    /// # Errors
    /// `NotFound` for a named tenant that is not visible.
    pub async fn list_assets(
        &self,
        p: &Principal,
        query: &AssetQuery,
    ) -> AppResult<Page<AssetRow>> {
        if let Some(t) = query.tenant {
            self.tenant_scope(p, t).await?;
        }
        require(p, Permission::InventoryRead)?;
        Ok(self.store.list_assets(&p.access(), query).await?)
    }

    /// An asset with its findings, history and risk breakdown.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn asset_detail(
        &self,
        p: &Principal,
        tenant: TenantId,
        id: AssetId,
    ) -> AppResult<AssetDetail> {
        let scope = self.tenant_scope(p, tenant).await?;
        let row = self.store.find_asset(&scope, id).await?;
        require(p, Permission::InventoryRead)?;
        let findings = self.store.findings_of_assets(&scope, &[id]).await?;
        let events = self.store.asset_events(&scope, id).await?;
        let (_, risk) = self.risk_for(&scope, &row.asset, &findings).await?;
        let finding_facts = self.finding_facts(&findings).await?;
        Ok(AssetDetail {
            row,
            findings,
            finding_facts,
            events,
            risk,
        })
    }

    async fn write_manual(
        &self,
        p: &Principal,
        scope: &TenantScope,
        merged: reconcile::Merged,
        action: Action,
    ) -> AppResult<Asset> {
        let findings = if merged.is_new {
            Vec::new()
        } else {
            self.store
                .findings_of_assets(scope, &[merged.asset.id])
                .await?
        };
        let (risk, _) = self.risk_for(scope, &merged.asset, &findings).await?;
        let now = self.clock.now();
        let mut events = vec![AssetEvent {
            at: now,
            actor: p.label().to_owned(),
            kind: if merged.is_new { "created" } else { "updated" }.to_owned(),
            details: serde_json::Value::Object(merged.changes.clone().into_iter().collect())
                .to_string(),
        }];
        if !merged.changed() {
            events.clear();
        }
        let entry = AuditEntry::by(p, now, action)
            .tenant(Some(scope.tenant_id()))
            .target(format!("asset:{}", merged.asset.id))
            .details(&json!({ "changes": merged.changes }));
        let asset = merged.asset.clone();
        let batch = InventoryBatch {
            assets: vec![AssetWrite {
                asset: merged.asset,
                is_new: merged.is_new,
                events,
                risk,
            }],
            findings: Vec::new(),
        };
        self.store
            .write_inventory(scope, &batch, Some(&entry))
            .await?;
        Ok(asset)
    }

    /// Creates an asset by hand. Every field it sets is the person's.
    ///
    /// # Errors
    /// `Invalid` for bad values or no identifier; `Conflict` when an asset
    /// with the same MAC, name or address in the zone exists.
    pub async fn create_asset(
        &self,
        p: &Principal,
        tenant: TenantId,
        input: AssetInput,
    ) -> AppResult<Asset> {
        let scope = self.tenant_scope(p, tenant).await?;
        require(p, Permission::InventoryManage)?;
        let obs = input.observation()?;
        if !obs.has_identity() {
            return Err(AppError::invalid(
                "hostname",
                "give a host name, FQDN, IP address or MAC address",
            ));
        }
        let ranges = self.store.list_ranges(&scope).await?;
        let (zone, default_crit) = importer::Zones::new(&ranges).place(&obs.ips);
        let keys = garrison_store::AssetKeys {
            macs: obs.macs.clone(),
            names: obs.names(),
            ips: obs.ips.iter().map(|ip| (*ip, zone.clone())).collect(),
        };
        if let Some(existing) = self
            .store
            .find_asset_candidates(&scope, &keys)
            .await?
            .first()
        {
            return Err(AppError::Conflict(format!(
                "an asset with the same identifiers exists: {} ({})",
                existing.display_name(),
                existing.id
            )));
        }
        let now = self.clock.now();
        let merged = reconcile::merge(
            None,
            &obs,
            &Source::Manual,
            tenant,
            &zone,
            default_crit,
            now,
            now,
        );
        self.write_manual(p, &scope, merged, Action::AssetCreated)
            .await
    }

    /// Edits an asset by hand: the fields given become the person's.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible; `Invalid` for bad values.
    pub async fn update_asset(
        &self,
        p: &Principal,
        tenant: TenantId,
        id: AssetId,
        input: AssetInput,
    ) -> AppResult<Asset> {
        let scope = self.tenant_scope(p, tenant).await?;
        let row = self.store.find_asset(&scope, id).await?;
        require(p, Permission::InventoryManage)?;
        let obs = input.observation()?;
        let now = self.clock.now();
        let zone = row.asset.zone.clone();
        let merged = reconcile::merge(
            Some(row.asset),
            &obs,
            &Source::Manual,
            tenant,
            &zone,
            None,
            now,
            now,
        );
        self.write_manual(p, &scope, merged, Action::AssetUpdated)
            .await
    }

    /// Applies one change to several assets of a tenant.
    ///
    /// # Errors
    /// `NotFound` when any asset is missing or not visible (then nothing
    /// changes).
    pub async fn bulk_update_assets(
        &self,
        p: &Principal,
        tenant: TenantId,
        ids: &[AssetId],
        change: &BulkChange,
    ) -> AppResult<u64> {
        let scope = self.tenant_scope(p, tenant).await?;
        let mut rows = Vec::new();
        for id in ids {
            rows.push(self.store.find_asset(&scope, *id).await?);
        }
        require(p, Permission::InventoryManage)?;
        if ids.len() > 10_000 {
            return Err(AppError::invalid("ids", "at most 10000 assets at once"));
        }
        let add: Vec<String> = change
            .add_tags
            .iter()
            .map(|t| garrison_core::asset::tag(t))
            .collect::<Result<_, _>>()?;
        let remove: Vec<String> = change
            .remove_tags
            .iter()
            .map(|t| garrison_core::asset::tag(t))
            .collect::<Result<_, _>>()?;
        let regulations = change
            .regulations
            .as_ref()
            .map(|r| {
                r.iter()
                    .map(|x| garrison_core::asset::regulation(x))
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        let now = self.clock.now();
        let mut batch = InventoryBatch::default();
        for row in rows {
            let mut tags = row.asset.tags.clone();
            tags.extend(add.iter().cloned());
            tags.retain(|t| !remove.contains(t));
            let tags_changed = tags != row.asset.tags;
            let obs = Observation {
                criticality: change.criticality,
                tags: tags_changed.then_some(tags),
                regulations: regulations.clone(),
                ..Observation::default()
            };
            let zone = row.asset.zone.clone();
            let merged = reconcile::merge(
                Some(row.asset),
                &obs,
                &Source::Manual,
                tenant,
                &zone,
                None,
                now,
                now,
            );
            if !merged.changed() {
                continue;
            }
            let findings = self
                .store
                .findings_of_assets(&scope, &[merged.asset.id])
                .await?;
            let (risk, _) = self.risk_for(&scope, &merged.asset, &findings).await?;
            batch.assets.push(AssetWrite {
                events: vec![AssetEvent {
                    at: now,
                    actor: p.label().to_owned(),
                    kind: "updated".to_owned(),
                    details: serde_json::Value::Object(
                        merged.changes.clone().into_iter().collect(),
                    )
                    .to_string(),
                }],
                asset: merged.asset,
                is_new: false,
                risk,
            });
        }
        let n = batch.assets.len() as u64;
        let entry = AuditEntry::by(p, now, Action::AssetUpdated)
            .tenant(Some(tenant))
            .target(format!("assets:{n}"))
            .details(&json!({ "bulk": true, "assets": n, "criticality": change.criticality, "add_tags": add, "remove_tags": remove, "regulations": regulations }));
        self.store
            .write_inventory(&scope, &batch, Some(&entry))
            .await?;
        Ok(n)
    }

    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn delete_asset(
        &self,
        p: &Principal,
        tenant: TenantId,
        id: AssetId,
    ) -> AppResult<()> {
        let scope = self.tenant_scope(p, tenant).await?;
        let row = self.store.find_asset(&scope, id).await?;
        require(p, Permission::InventoryManage)?;
        let entry = AuditEntry::by(p, self.clock.now(), Action::AssetDeleted)
            .tenant(Some(tenant))
            .target(format!("asset:{id}"))
            .details(&json!({ "name": row.asset.display_name() }));
        Ok(self.store.delete_asset(&scope, id, &entry).await?)
    }

    // --- findings -----------------------------------------------------------

    /// # Errors
    /// `NotFound` for a named tenant that is not visible.
    pub async fn list_findings(
        &self,
        p: &Principal,
        query: &FindingQuery,
    ) -> AppResult<Page<Finding>> {
        if let Some(t) = query.tenant {
            self.tenant_scope(p, t).await?;
        }
        require(p, Permission::InventoryRead)?;
        Ok(self.store.list_findings(&p.access(), query).await?)
    }

    /// Display names of the assets behind a page of findings; assets the
    /// principal cannot see (or that were deleted) are left out.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn asset_names(
        &self,
        p: &Principal,
        findings: &[Finding],
    ) -> AppResult<std::collections::HashMap<AssetId, String>> {
        require(p, Permission::InventoryRead)?;
        let mut names = std::collections::HashMap::new();
        for f in findings {
            if names.contains_key(&f.asset_id) {
                continue;
            }
            let Some(scope) = p.scope(f.tenant_id) else {
                continue;
            };
            match self.store.find_asset(&scope, f.asset_id).await {
                Ok(row) => {
                    names.insert(f.asset_id, row.asset.display_name());
                }
                Err(garrison_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(names)
    }

    /// Changes a finding's status; a reason is required, and accepting a
    /// risk needs an end date.
    ///
    /// # Errors
    /// `NotFound` when not visible; `Invalid` without a reason.
    pub async fn set_finding_status(
        &self,
        p: &Principal,
        tenant: TenantId,
        id: FindingId,
        status: FindingStatus,
        reason: &str,
        accepted_until: Option<garrison_core::Timestamp>,
    ) -> AppResult<Finding> {
        let scope = self.tenant_scope(p, tenant).await?;
        let before = self.store.find_finding(&scope, id).await?;
        require(p, Permission::FindingTriage)?;
        let reason = validate::name("reason", reason, 1000).map_err(|_| {
            AppError::invalid(
                "reason",
                "say why the status changes (at most 1000 characters)",
            )
        })?;
        let now = self.clock.now();
        let accepted_until = match (status, accepted_until) {
            (FindingStatus::AcceptedRisk, None) => {
                return Err(AppError::invalid(
                    "accepted_until",
                    "an accepted risk needs the date its acceptance ends",
                ));
            }
            (FindingStatus::AcceptedRisk, Some(u)) if u <= now => {
                return Err(AppError::invalid(
                    "accepted_until",
                    "the acceptance must end in the future",
                ));
            }
            (FindingStatus::AcceptedRisk, u) => u,
            _ => None,
        };
        let entry = AuditEntry::by(p, now, Action::FindingStatusChanged)
            .tenant(Some(tenant))
            .target(format!("finding:{id}"))
            .details(
                &json!({ "from": before.status.as_str(), "to": status.as_str(), "reason": reason }),
            );
        let change = FindingStatusChange {
            status,
            reason,
            accepted_until,
            at: now,
        };
        let finding = self
            .store
            .set_finding_status(&scope, id, &change, &entry)
            .await?;
        // The asset's risk follows its open findings.
        let row = self.store.find_asset(&scope, finding.asset_id).await?;
        let findings = self
            .store
            .findings_of_assets(&scope, &[finding.asset_id])
            .await?;
        let (risk, _) = self.risk_for(&scope, &row.asset, &findings).await?;
        if risk != row.risk {
            let batch = InventoryBatch {
                assets: vec![AssetWrite {
                    asset: row.asset,
                    is_new: false,
                    events: Vec::new(),
                    risk,
                }],
                findings: Vec::new(),
            };
            self.store.write_inventory(&scope, &batch, None).await?;
        }
        Ok(finding)
    }

    // --- network ranges -----------------------------------------------------

    /// # Errors
    /// `NotFound` when the tenant is not visible.
    pub async fn list_ranges(
        &self,
        p: &Principal,
        tenant: TenantId,
    ) -> AppResult<Vec<NetworkRange>> {
        let scope = self.tenant_scope(p, tenant).await?;
        require(p, Permission::InventoryRead)?;
        Ok(self.store.list_ranges(&scope).await?)
    }

    // --- risk weights -------------------------------------------------------

    /// The weights the tenant's risk scores use.
    ///
    /// # Errors
    /// `NotFound` when the tenant is not visible.
    pub async fn risk_weights(&self, p: &Principal, tenant: TenantId) -> AppResult<RiskWeights> {
        let scope = self.tenant_scope(p, tenant).await?;
        require(p, Permission::InventoryRead)?;
        self.weights_of(&scope).await
    }

    /// Sets the tenant's risk weights (`None`: back to the defaults) and
    /// rescores every asset of the tenant.
    ///
    /// # Errors
    /// `NotFound` when the tenant is not visible; `Forbidden` without the
    /// right to change the tenant's settings; `Invalid` for a bad weight.
    pub async fn set_risk_weights(
        &self,
        p: &Principal,
        tenant: TenantId,
        weights: Option<RiskWeights>,
    ) -> AppResult<RiskWeights> {
        let scope = self.tenant_scope(p, tenant).await?;
        require(p, Permission::TenantSettingsManage)?;
        if let Some(w) = &weights {
            w.validate()?;
        }
        let json = weights
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| AppError::Internal(format!("weights: {e}")))?;
        let now = self.clock.now();
        let entry = AuditEntry::by(p, now, Action::RiskWeightsChanged)
            .tenant(Some(tenant))
            .target(format!("tenant:{tenant}"))
            .details(&json!({ "weights": weights, "defaults": weights.is_none() }));
        self.store
            .set_risk_weights(&scope, json.as_deref(), now, &entry)
            .await?;
        let rows = self.store.all_assets(&scope).await?;
        self.refresh_assets(&scope, rows, false, None, None).await?;
        Ok(weights.unwrap_or_default())
    }

    /// # Errors
    /// `Invalid` for a bad CIDR or zone; `Conflict` for a duplicate.
    pub async fn create_range(
        &self,
        p: &Principal,
        tenant: TenantId,
        cidr: &str,
        zone: &str,
        default_criticality: Option<Criticality>,
        description: Option<String>,
    ) -> AppResult<NetworkRange> {
        let scope = self.tenant_scope(p, tenant).await?;
        require(p, Permission::InventoryManage)?;
        let net: ipnet::IpNet = cidr.trim().parse().map_err(|_| {
            AppError::invalid(
                "cidr",
                format!(
                    "`{}` is not a CIDR such as 10.1.0.0/16",
                    cidr.escape_default()
                ),
            )
        })?;
        let range = NetworkRange {
            id: RangeId::new(),
            tenant_id: tenant,
            cidr: net.trunc().to_string(),
            zone: validate::name("zone", zone, 64)?,
            default_criticality,
            description: clean("description", description, 500)?,
        };
        let entry = AuditEntry::by(p, self.clock.now(), Action::RangeCreated)
            .tenant(Some(tenant))
            .target(format!("range:{}", range.id))
            .details(&json!({ "cidr": range.cidr, "zone": range.zone }));
        self.store
            .create_range(&scope, &range, &entry)
            .await
            .map_err(|e| match e {
                garrison_store::StoreError::Conflict(_) => {
                    AppError::Conflict(format!("the range {} exists", range.cidr))
                }
                other => other.into(),
            })?;
        Ok(range)
    }

    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn delete_range(
        &self,
        p: &Principal,
        tenant: TenantId,
        id: RangeId,
    ) -> AppResult<()> {
        let scope = self.tenant_scope(p, tenant).await?;
        require(p, Permission::InventoryManage)?;
        let entry = AuditEntry::by(p, self.clock.now(), Action::RangeDeleted)
            .tenant(Some(tenant))
            .target(format!("range:{id}"));
        Ok(self.store.delete_range(&scope, id, &entry).await?)
    }
}

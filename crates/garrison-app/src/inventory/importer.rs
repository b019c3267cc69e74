//! Running an import: items from a reader are reconciled with the
//! inventory host by host and written in batches, with progress kept in
//! the import's row.
//!
//! A finding is the same finding across scans when its asset, scanner,
//! plugin id, port and protocol agree (`garrison_core::asset::finding_key`).
//! When a scan completes, every open finding of the same scanner on the
//! hosts it covered that it did not report again is marked fixed; a fixed
//! finding that comes back is reopened. A file that ends early (truncated,
//! malformed) keeps what was read, is recorded as partial, and marks
//! nothing fixed: an incomplete scan proves nothing absent.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use garrison_core::asset::{
    Asset, Criticality, Finding, FindingSeverity, FindingStatus, Import, ImportCounts,
    ImportRejection, ImportStatus, NetworkRange, Score, Source, finding_key,
};
use garrison_core::{AssetId, FindingId, ImportId, TenantScope, Timestamp};
use garrison_scan::model::{Cvss, FindingDefinition, ScannedFinding, Severity};
use garrison_scan::{Progress, Rejection, ScanError};
use garrison_store::{
    AssetEvent, AssetKeys, AssetRisk, AssetWrite, ImportProgress, InventoryBatch,
};
use serde_json::json;

use super::reconcile::{self, Observation};
use super::risk::{self, CveFacts, RiskWeights};
use crate::{App, AppResult};

/// Assets whose installed software is matched against CVEs per step.
const MATCH_ASSETS: usize = 100;

/// At most this many rejections are kept on the import (all are counted).
const KEPT_REJECTIONS: usize = 200;
/// Assets per write transaction: each commit waits for the disk, so a
/// batch is large; memory stays bounded by this, the findings and the
/// software entries held.
const BATCH_ASSETS: usize = 1_000;
/// Hosts read ahead and looked up in the inventory together, in one round
/// of queries rather than one per host.
const LOOKUP_HOSTS: usize = 256;
/// Installed software entries held per write transaction (a package
/// inventory has a few thousand per host).
const BATCH_SOFTWARE: usize = 200_000;
/// Findings per write transaction.
const BATCH_FINDINGS: usize = 5_000;

/// One host as a source described it, ready to reconcile.
#[derive(Debug, Clone)]
pub struct HostItem {
    pub line: u64,
    pub obs: Observation,
    /// Who says it (a scanner or an asset list).
    pub source: Source,
    pub seen_at: Option<Timestamp>,
    pub findings: Vec<ScannedFinding>,
}

/// What an import reads, whatever the format.
#[derive(Debug, Clone)]
pub enum ImportItem {
    Host(Box<HostItem>),
    Definition(Box<FindingDefinition>),
    Rejected(Rejection),
}

/// Where network ranges put an address.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    ranges: Vec<(ipnet::IpNet, String, Option<Criticality>)>,
}

impl Zones {
    #[must_use]
    pub fn new(ranges: &[NetworkRange]) -> Self {
        let mut ranges: Vec<_> = ranges
            .iter()
            .filter_map(|r| {
                r.cidr
                    .parse::<ipnet::IpNet>()
                    .ok()
                    .map(|n| (n, r.zone.clone(), r.default_criticality))
            })
            .collect();
        // Most specific first.
        ranges.sort_by_key(|r| std::cmp::Reverse(r.0.prefix_len()));
        Self { ranges }
    }

    /// The zone and default criticality of the first address that falls in
    /// a range.
    #[must_use]
    pub fn place(&self, ips: &[IpAddr]) -> (String, Option<Criticality>) {
        for ip in ips {
            if let Some((_, zone, crit)) = self.ranges.iter().find(|(net, _, _)| net.contains(ip)) {
                return (zone.clone(), *crit);
            }
        }
        ("default".to_owned(), None)
    }
}

fn score_of(c: &Option<Cvss>) -> Option<Score> {
    c.as_ref().map(|c| Score {
        score: c.score,
        vector: c.vector.clone(),
    })
}

const fn severity_of(s: Severity) -> FindingSeverity {
    match s {
        Severity::Info => FindingSeverity::Info,
        Severity::Low => FindingSeverity::Low,
        Severity::Medium => FindingSeverity::Medium,
        Severity::High => FindingSeverity::High,
        Severity::Critical => FindingSeverity::Critical,
    }
}

/// An asset being worked on in the current batch, with all its findings.
struct Pending {
    asset: Asset,
    is_new: bool,
    events: Vec<AssetEvent>,
    findings: HashMap<String, Finding>,
    dirty: HashSet<String>,
    asset_dirty: bool,
}

/// Runs one import to its end.
pub(crate) struct Importer<'a> {
    app: &'a App,
    scope: TenantScope,
    import: ImportId,
    actor: String,
    zone_override: Option<String>,
    zones: Zones,
    weights: RiskWeights,
    pending: HashMap<AssetId, Pending>,
    /// Identifier → pending asset, so a host met twice in a batch is one.
    keys: HashMap<String, AssetId>,
    pending_findings: usize,
    touched: HashSet<AssetId>,
    /// Touched assets with installed software, to match against CVEs.
    with_software: HashSet<AssetId>,
    scanners: HashSet<String>,
    definitions: HashMap<(String, String), FindingDefinition>,
    counts: ImportCounts,
    rejections: Vec<ImportRejection>,
    counted_findings: HashSet<FindingId>,
    /// Hosts read but not yet reconciled, and their findings.
    queue: Vec<HostItem>,
    queued_findings: usize,
    /// The stored assets the queued hosts may be, looked up together.
    prefetched: Prefetched,
}

/// Stored assets found for a queue of hosts, by their identifiers.
#[derive(Default)]
struct Prefetched {
    assets: HashMap<AssetId, Asset>,
    by_key: HashMap<String, Vec<AssetId>>,
}

impl Prefetched {
    fn new(assets: Vec<Asset>) -> Self {
        let mut p = Self::default();
        for a in assets {
            for k in Importer::asset_key_strings(&a) {
                p.by_key.entry(k).or_default().push(a.id);
            }
            p.assets.insert(a.id, a);
        }
        p
    }

    /// The stored assets sharing one of `keys`, in id order.
    fn candidates(&self, keys: &[String]) -> Vec<Asset> {
        let mut ids: Vec<AssetId> = keys
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .copied()
            .collect();
        ids.sort();
        ids.dedup();
        ids.iter()
            .filter_map(|id| self.assets.get(id).cloned())
            .collect()
    }
}

impl<'a> Importer<'a> {
    pub(crate) async fn new(
        app: &'a App,
        scope: TenantScope,
        import: ImportId,
        actor: String,
        zone_override: Option<String>,
    ) -> AppResult<Self> {
        let ranges = app.store.list_ranges(&scope).await?;
        let weights = app.weights_of(&scope).await?;
        Ok(Self {
            app,
            scope,
            import,
            actor,
            zone_override,
            zones: Zones::new(&ranges),
            weights,
            pending: HashMap::new(),
            keys: HashMap::new(),
            pending_findings: 0,
            touched: HashSet::new(),
            with_software: HashSet::new(),
            scanners: HashSet::new(),
            definitions: HashMap::new(),
            counts: ImportCounts::default(),
            rejections: Vec::new(),
            counted_findings: HashSet::new(),
            queue: Vec::new(),
            queued_findings: 0,
            prefetched: Prefetched::default(),
        })
    }

    pub(crate) fn counts(&self) -> &ImportCounts {
        &self.counts
    }

    pub(crate) fn reject(&mut self, line: u64, reason: String) {
        self.counts.rejected += 1;
        if self.rejections.len() < KEPT_REJECTIONS {
            self.rejections.push(ImportRejection { line, reason });
        }
    }

    fn key_strings(obs: &Observation, zone: &str) -> Vec<String> {
        let mut k: Vec<String> = obs.macs.iter().map(|m| format!("mac:{m}")).collect();
        k.extend(obs.names().into_iter().map(|n| format!("name:{n}")));
        k.extend(obs.ips.iter().map(|ip| format!("ip:{zone}:{ip}")));
        k
    }

    fn asset_key_strings(a: &Asset) -> Vec<String> {
        let mut k: Vec<String> = a.macs.iter().map(|m| format!("mac:{m}")).collect();
        k.extend(
            a.fqdn
                .iter()
                .chain(a.hostname.iter())
                .map(|n| format!("name:{}", n.to_lowercase())),
        );
        k.extend(a.ips.iter().map(|ip| format!("ip:{}:{ip}", a.zone)));
        k
    }

    /// Takes one item; hosts are reconciled in groups (see [`Self::drain`]).
    pub(crate) async fn item(&mut self, item: ImportItem) -> AppResult<()> {
        self.counts.records += 1;
        match item {
            ImportItem::Rejected(r) => self.reject(r.line, r.reason),
            ImportItem::Definition(d) => {
                self.definitions
                    .insert((d.scanner.as_str().to_owned(), d.plugin_id.clone()), *d);
            }
            ImportItem::Host(h) => {
                self.queued_findings += h.findings.len();
                self.queue.push(*h);
                if self.queue.len() >= LOOKUP_HOSTS || self.queued_findings >= BATCH_FINDINGS {
                    self.drain().await?;
                }
            }
        }
        Ok(())
    }

    /// The zone of an observation, and the default criticality of its
    /// range.
    fn zone_of(&self, obs: &Observation) -> (String, Option<Criticality>) {
        let (range_zone, default_crit) = self.zones.place(&obs.ips);
        let zone = obs
            .zone
            .clone()
            .or_else(|| self.zone_override.clone())
            .unwrap_or(range_zone);
        (zone, default_crit)
    }

    /// Reconciles the queued hosts: one lookup of the stored assets they may
    /// be, then each host in file order; writes a batch when it is full.
    /// No batch is written in the middle of a queue, so that a host that
    /// created an asset is still pending when a later one is the same.
    pub(crate) async fn drain(&mut self) -> AppResult<()> {
        if self.queue.is_empty() {
            return Ok(());
        }
        let hosts = std::mem::take(&mut self.queue);
        self.queued_findings = 0;
        let mut keys = AssetKeys::default();
        for h in &hosts {
            let (zone, _) = self.zone_of(&h.obs);
            keys.macs.extend(h.obs.macs.iter().cloned());
            keys.names.extend(h.obs.names());
            keys.ips
                .extend(h.obs.ips.iter().map(|ip| (*ip, zone.clone())));
        }
        let found = self
            .app
            .store
            .find_asset_candidates(&self.scope, &keys)
            .await?;
        self.prefetched = Prefetched::new(found);
        for h in hosts {
            self.host(h).await?;
        }
        self.prefetched = Prefetched::default();
        if self.pending.len() >= BATCH_ASSETS
            || self.pending_findings >= BATCH_FINDINGS
            || self.pending_software() >= BATCH_SOFTWARE
        {
            self.flush().await?;
        }
        Ok(())
    }

    fn pending_software(&self) -> usize {
        self.pending.values().map(|p| p.asset.software.len()).sum()
    }

    async fn host(&mut self, h: HostItem) -> AppResult<()> {
        if !h.obs.has_identity() {
            self.reject(
                h.line,
                "the host has no address, MAC or name to identify it".to_owned(),
            );
            return Ok(());
        }
        self.counts.hosts += 1;
        let now = self.app.clock.now();
        let (zone, default_crit) = self.zone_of(&h.obs);

        // A host already in this batch? Its pending copies are tried first;
        // when none of them is this host (a shared name with a different
        // FQDN, say), the stored assets are.
        let wanted = Self::key_strings(&h.obs, &zone);
        let mut pending_ids: Vec<AssetId> = Vec::new();
        for id in wanted.iter().filter_map(|k| self.keys.get(k)) {
            if !pending_ids.contains(id) {
                pending_ids.push(*id);
            }
        }
        let in_batch: Vec<Asset> = pending_ids
            .iter()
            .filter_map(|id| self.pending.get(id).map(|p| p.asset.clone()))
            .collect();
        let mut matched = reconcile::pick(in_batch, &h.obs, &zone);
        if matched.asset.is_none() {
            let mut candidates = self.prefetched.candidates(&wanted);
            // A pending copy is newer than the stored one.
            for c in &mut candidates {
                if let Some(p) = self.pending.get(&c.id) {
                    *c = p.asset.clone();
                }
            }
            matched = reconcile::pick(candidates, &h.obs, &zone);
        }
        let seen_at = h.seen_at.unwrap_or(now);
        let merged = reconcile::merge(
            matched.asset,
            &h.obs,
            &h.source,
            self.scope.tenant_id(),
            &zone,
            default_crit,
            seen_at,
            now,
        );
        let id = merged.asset.id;
        let first_touch = self.touched.insert(id);
        if !merged.asset.software.is_empty() {
            self.with_software.insert(id);
        }
        if first_touch {
            if merged.is_new {
                self.counts.assets_created += 1;
            } else if merged.changed() {
                self.counts.assets_updated += 1;
            } else {
                self.counts.assets_unchanged += 1;
            }
        } else if merged.changed()
            && self
                .pending
                .get(&id)
                .is_some_and(|p| !p.asset_dirty && !p.is_new)
        {
            // Unchanged at first sight, changed by a later block.
            self.counts.assets_unchanged = self.counts.assets_unchanged.saturating_sub(1);
            self.counts.assets_updated += 1;
        }

        let mut events = Vec::new();
        if merged.changed() {
            events.push(AssetEvent {
                at: now,
                actor: self.actor.clone(),
                kind: if merged.is_new { "created" } else { "updated" }.to_owned(),
                details: serde_json::Value::Object(merged.changes.clone().into_iter().collect())
                    .to_string(),
            });
        }
        if !merged.conflicts.is_empty() || !matched.also.is_empty() {
            let mut details = serde_json::Map::new();
            details.extend(merged.conflicts.clone());
            if !matched.also.is_empty() {
                details.insert(
                    "also_matches".to_owned(),
                    json!(
                        matched
                            .also
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    ),
                );
            }
            events.push(AssetEvent {
                at: now,
                actor: self.actor.clone(),
                kind: "conflict".to_owned(),
                details: serde_json::Value::Object(details).to_string(),
            });
        }

        if !self.pending.contains_key(&id) {
            let existing = if merged.is_new {
                Vec::new()
            } else {
                self.app
                    .store
                    .findings_of_assets(&self.scope, &[id])
                    .await?
            };
            self.pending.insert(
                id,
                Pending {
                    asset: merged.asset.clone(),
                    is_new: merged.is_new,
                    events: Vec::new(),
                    findings: existing
                        .into_iter()
                        .map(|f| (f.dedup_key.clone(), f))
                        .collect(),
                    dirty: HashSet::new(),
                    asset_dirty: false,
                },
            );
        }
        for k in Self::asset_key_strings(&merged.asset) {
            self.keys.insert(k, id);
        }
        let import = self.import;
        let tenant = self.scope.tenant_id();
        let Some(p) = self.pending.get_mut(&id) else {
            return Ok(());
        };
        let last_seen_moved = merged.asset.last_seen != p.asset.last_seen;
        p.asset_dirty |= merged.changed() || last_seen_moved || !events.is_empty();
        p.asset = merged.asset;
        p.events.extend(events);

        for sf in h.findings {
            self.scanners.insert(sf.scanner.as_str().to_owned());
            let key = finding_key(
                sf.scanner.as_str(),
                &sf.plugin_id,
                sf.port,
                sf.protocol.as_deref(),
            );
            let status_before = p.findings.get(&key).map(|f| f.status);
            let finding = match p.findings.remove(&key) {
                Some(mut f) => {
                    f.title = sf.title;
                    f.cves = sf.cves;
                    f.severity = severity_of(sf.severity);
                    f.cvss2 = score_of(&sf.cvss2).or(f.cvss2);
                    f.cvss3 = score_of(&sf.cvss3).or(f.cvss3);
                    f.cvss4 = score_of(&sf.cvss4).or(f.cvss4);
                    f.description = sf.description.or(f.description);
                    f.solution = sf.solution.or(f.solution);
                    f.evidence = sf.evidence.or(f.evidence);
                    f.last_seen = f.last_seen.max(seen_at);
                    f.last_import = Some(import);
                    if f.status == FindingStatus::Fixed {
                        f.status = FindingStatus::Reopened;
                        f.fixed_at = None;
                        f.status_reason = Some("reported again by a later scan".to_owned());
                    }
                    f
                }
                None => Finding {
                    id: FindingId::new(),
                    tenant_id: tenant,
                    asset_id: id,
                    dedup_key: key.clone(),
                    scanner: sf.scanner.as_str().to_owned(),
                    plugin_id: sf.plugin_id,
                    title: sf.title,
                    port: sf.port,
                    protocol: sf.protocol,
                    cves: sf.cves,
                    severity: severity_of(sf.severity),
                    cvss2: score_of(&sf.cvss2),
                    cvss3: score_of(&sf.cvss3),
                    cvss4: score_of(&sf.cvss4),
                    description: sf.description,
                    solution: sf.solution,
                    evidence: sf.evidence,
                    status: FindingStatus::Open,
                    status_reason: None,
                    accepted_until: None,
                    first_seen: seen_at,
                    last_seen: seen_at,
                    fixed_at: None,
                    last_import: Some(import),
                },
            };
            if self.counted_findings.insert(finding.id) {
                match status_before {
                    None => self.counts.findings_new += 1,
                    Some(FindingStatus::Fixed) => self.counts.findings_reopened += 1,
                    Some(_) => self.counts.findings_unchanged += 1,
                }
            }
            if p.dirty.insert(key.clone()) {
                self.pending_findings += 1;
            }
            p.findings.insert(key, finding);
        }
        Ok(())
    }

    /// The risk of an asset, its findings weighed with `facts` (KEV, EPSS).
    fn risk_of(
        &self,
        asset: &Asset,
        findings: &[&Finding],
        facts: &HashMap<String, CveFacts>,
    ) -> AssetRisk {
        let lookup = |cve: &str| facts.get(cve).copied().unwrap_or_default();
        let b = risk::score(asset, findings, lookup, &self.weights);
        AssetRisk {
            score: b.score,
            open_findings: b.open_findings,
            max_severity: b.max_severity,
            kev_findings: b.kev_findings,
        }
    }

    /// Writes the pending batch.
    pub(crate) async fn flush(&mut self) -> AppResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch = InventoryBatch::default();
        // One lookup of KEV and EPSS for the whole batch.
        let facts = self
            .app
            .facts_of(self.pending.values().flat_map(|p| p.findings.values()))
            .await?;
        let pending: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        for p in pending {
            let all: Vec<&Finding> = p.findings.values().collect();
            let risk = self.risk_of(&p.asset, &all, &facts);
            let findings_changed = !p.dirty.is_empty();
            if p.asset_dirty || p.is_new || findings_changed {
                batch.assets.push(AssetWrite {
                    asset: p.asset,
                    is_new: p.is_new,
                    events: p.events,
                    risk,
                });
            }
            let mut findings = p.findings;
            batch
                .findings
                .extend(p.dirty.iter().filter_map(|k| findings.remove(k)));
        }
        self.keys.clear();
        self.pending_findings = 0;
        self.app
            .store
            .write_inventory(&self.scope, &batch, None)
            .await?;
        Ok(())
    }

    /// After a complete file: marks unreported findings fixed, applies
    /// scanner knowledge-base definitions, and refreshes risk, for every
    /// asset the import touched.
    pub(crate) async fn finish(&mut self, complete: bool) -> AppResult<()> {
        self.drain().await?;
        self.flush().await?;
        let now = self.app.clock.now();
        let touched: Vec<AssetId> = self.touched.iter().copied().collect();
        for chunk in touched.chunks(256) {
            let findings = self
                .app
                .store
                .findings_of_assets(&self.scope, chunk)
                .await?;
            let mut by_asset: HashMap<AssetId, Vec<Finding>> = HashMap::new();
            for f in findings {
                by_asset.entry(f.asset_id).or_default().push(f);
            }
            let mut batch = InventoryBatch::default();
            for id in chunk {
                let mut list = by_asset.remove(id).unwrap_or_default();
                let mut changed = false;
                for f in &mut list {
                    let ours = f.last_import == Some(self.import);
                    if ours {
                        if let Some(d) = self
                            .definitions
                            .get(&(f.scanner.clone(), f.plugin_id.clone()))
                        {
                            apply_definition(f, d);
                            batch.findings.push(f.clone());
                            changed = true;
                        }
                    } else if complete && f.status.is_open() && self.scanners.contains(&f.scanner) {
                        f.status = FindingStatus::Fixed;
                        f.fixed_at = Some(now);
                        f.status_reason = Some("not reported by a later scan".to_owned());
                        self.counts.findings_fixed += 1;
                        batch.findings.push(f.clone());
                        changed = true;
                    }
                }
                if changed {
                    let row = self.app.store.find_asset(&self.scope, *id).await?;
                    let refs: Vec<&Finding> = list.iter().collect();
                    let facts = self.app.facts_of(list.iter()).await?;
                    let risk = self.risk_of(&row.asset, &refs, &facts);
                    if risk != row.risk {
                        batch.assets.push(AssetWrite {
                            asset: row.asset,
                            is_new: false,
                            events: Vec::new(),
                            risk,
                        });
                    }
                }
            }
            if !batch.findings.is_empty() || !batch.assets.is_empty() {
                self.app
                    .store
                    .write_inventory(&self.scope, &batch, None)
                    .await?;
            }
        }
        self.match_software().await
    }

    /// Matches the installed software of the assets this import touched
    /// against the stored CVEs (see `vulndb`), counting what it finds as
    /// findings of this import.
    async fn match_software(&mut self) -> AppResult<()> {
        if self.with_software.is_empty() || !self.app.has_cpe_data().await? {
            return Ok(());
        }
        let ids: Vec<AssetId> = self.with_software.iter().copied().collect();
        for chunk in ids.chunks(MATCH_ASSETS) {
            let mut rows = Vec::with_capacity(chunk.len());
            for id in chunk {
                rows.push(self.app.store.find_asset(&self.scope, *id).await?);
            }
            let (m, _) = self
                .app
                .refresh_assets(&self.scope, rows, true, None, Some(self.import))
                .await?;
            self.counts.findings_new += m.new;
            self.counts.findings_reopened += m.reopened;
            self.counts.findings_fixed += m.fixed;
            self.counts.findings_unchanged += m.unchanged;
        }
        Ok(())
    }

    /// The import row's progress.
    pub(crate) fn progress(
        &self,
        status: ImportStatus,
        bytes: u64,
        error: Option<String>,
        finished: bool,
    ) -> ImportProgress {
        ImportProgress {
            status,
            bytes_done: bytes,
            counts: self.counts.clone(),
            rejections: self.rejections.clone(),
            error,
            finished_at: finished.then(|| self.app.clock.now()),
        }
    }
}

fn apply_definition(f: &mut Finding, d: &FindingDefinition) {
    if let Some(t) = &d.title {
        f.title.clone_from(t);
    }
    if let Some(s) = d.severity {
        f.severity = severity_of(s);
    }
    if !d.cves.is_empty() {
        f.cves.clone_from(&d.cves);
    }
    if d.cvss2.is_some() {
        f.cvss2 = score_of(&d.cvss2);
    }
    if d.cvss3.is_some() {
        f.cvss3 = score_of(&d.cvss3);
    }
    if d.description.is_some() {
        f.description.clone_from(&d.description);
    }
    if d.solution.is_some() {
        f.solution.clone_from(&d.solution);
    }
}

/// Drives `items` through an importer and keeps the import row current.
/// The items come from a blocking reader thread through `rx`.
pub(crate) async fn run(
    app: &App,
    scope: TenantScope,
    import: &Import,
    actor: String,
    zone: Option<String>,
    mut rx: tokio::sync::mpsc::Receiver<Result<ImportItem, ScanError>>,
    progress: Arc<Progress>,
) -> AppResult<Import> {
    let mut imp = Importer::new(app, scope, import.id, actor, zone).await?;
    app.store
        .update_import(
            import.id,
            &imp.progress(ImportStatus::Running, 0, None, false),
        )
        .await?;
    let mut last_update = std::time::Instant::now();
    let mut fatal: Option<ScanError> = None;
    while let Some(next) = rx.recv().await {
        match next {
            Ok(item) => imp.item(item).await?,
            Err(e) => {
                fatal = Some(e);
                break;
            }
        }
        if last_update.elapsed() >= std::time::Duration::from_millis(500) {
            app.store
                .update_import(
                    import.id,
                    &imp.progress(ImportStatus::Running, progress.bytes(), None, false),
                )
                .await?;
            last_update = std::time::Instant::now();
        }
    }
    drop(rx);
    imp.finish(fatal.is_none()).await?;
    let (status, error) = match &fatal {
        Some(e) if imp.counts().hosts == 0 && imp.counts().records == 0 => {
            (ImportStatus::Failed, Some(e.to_string()))
        }
        Some(e) => (
            ImportStatus::Partial,
            Some(format!("{e}; the records before it were imported")),
        ),
        None if imp.counts().rejected > 0 => (ImportStatus::Partial, None),
        None => (ImportStatus::Completed, None),
    };
    let done = imp.progress(status, progress.bytes(), error, true);
    app.store.update_import(import.id, &done).await?;
    Ok(Import {
        status: done.status,
        bytes_done: done.bytes_done,
        counts: done.counts,
        rejections: done.rejections,
        error: done.error,
        finished_at: done.finished_at,
        ..import.clone()
    })
}

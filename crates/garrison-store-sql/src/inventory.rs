//! The asset inventory in SQL: assets (lists as JSON text) with a table of
//! their identifiers, history, ranges, findings and imports.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use garrison_core::asset::{
    Asset, AssetService, AssetSoftware, Finding, FindingSeverity, FindingStatus, Import,
    ImportCounts, ImportRejection, NetworkRange, OpenExposure, Score, Source,
};
use garrison_core::audit::AuditEntry;
use garrison_core::{AssetId, FindingId, ImportId, RangeId, TenantAccess, TenantScope, Timestamp};
use garrison_store::{
    AssetEvent, AssetKeys, AssetQuery, AssetRisk, AssetRow, AssetSort, AssetStore, Backend,
    FindingQuery, FindingStatusChange, ImportProgress, InventoryBatch, Page, StoreError,
    StoreResult,
};
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::binds::Binds;
use crate::row::{from_json, get, int, opt_int, opt_parse, opt_text, parse, text, ts};
use crate::{SqlStore, db_err, placeholders, safe};

const ASSET_COLUMNS: &str = "id, tenant_id, hostname, fqdn, zone, os, asset_type, owner, business_unit, \
    location, criticality, sensitivity, internet_exposed, ips, macs, services, software, tags, regulations, \
    sources, first_seen, last_seen, created_at, updated_at, risk_score, open_findings, max_severity, \
    kev_findings, search";

const FINDING_COLUMNS: &str = "id, tenant_id, asset_id, dedup_key, scanner, plugin_id, title, port, protocol, \
    cves, severity, severity_rank, cvss2_score, cvss2_vector, cvss3_score, cvss3_vector, cvss4_score, \
    cvss4_vector, description, solution, evidence, status, status_reason, accepted_until, first_seen, \
    last_seen, fixed_at, last_import";

const IMPORT_COLUMNS: &str = "id, tenant_id, kind, format, file_name, status, bytes_total, bytes_done, \
    counts, rejections, error, created_by, created_at, finished_at";

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

fn opt_f64(row: &AnyRow, col: &str) -> StoreResult<Option<f64>> {
    get(row, col)
}

fn score(row: &AnyRow, prefix: &str) -> StoreResult<Option<Score>> {
    let s = opt_f64(row, &format!("{prefix}_score"))?;
    let v = opt_text(row, &format!("{prefix}_vector"))?;
    #[expect(clippy::cast_possible_truncation, reason = "scores are 0.0 to 10.0")]
    Ok(s.map(|score| Score {
        score: score as f32,
        vector: v,
    }))
}

fn severity_rank(s: FindingSeverity) -> i64 {
    match s {
        FindingSeverity::Info => 0,
        FindingSeverity::Low => 1,
        FindingSeverity::Medium => 2,
        FindingSeverity::High => 3,
        FindingSeverity::Critical => 4,
    }
}

fn asset_row(row: &AnyRow) -> StoreResult<AssetRow> {
    let ips: Vec<String> = from_json(row, "ips")?;
    let asset = Asset {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        hostname: opt_text(row, "hostname")?,
        fqdn: opt_text(row, "fqdn")?,
        ips: ips
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|e| StoreError::Corrupt(format!("column `ips`: `{s}`: {e}")))
            })
            .collect::<StoreResult<_>>()?,
        macs: from_json(row, "macs")?,
        zone: text(row, "zone")?,
        os: opt_text(row, "os")?,
        asset_type: opt_parse(row, "asset_type")?,
        owner: opt_text(row, "owner")?,
        business_unit: opt_text(row, "business_unit")?,
        location: opt_text(row, "location")?,
        services: from_json::<Vec<AssetService>>(row, "services")?,
        software: from_json::<Vec<AssetSoftware>>(row, "software")?,
        tags: from_json::<BTreeSet<String>>(row, "tags")?,
        criticality: opt_parse(row, "criticality")?,
        sensitivity: opt_parse(row, "sensitivity")?,
        regulations: from_json::<BTreeSet<String>>(row, "regulations")?,
        internet_exposed: opt_int(row, "internet_exposed")?.map(|v| v != 0),
        sources: from_json::<BTreeMap<String, Source>>(row, "sources")?,
        first_seen: ts(row, "first_seen")?,
        last_seen: ts(row, "last_seen")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    };
    let risk = AssetRisk {
        score: get::<f64>(row, "risk_score")?,
        open_findings: u32::try_from(int(row, "open_findings")?).unwrap_or(0),
        max_severity: opt_parse(row, "max_severity")?,
        kev_findings: u32::try_from(int(row, "kev_findings")?).unwrap_or(0),
    };
    Ok(AssetRow { asset, risk })
}

fn finding_row(row: &AnyRow) -> StoreResult<Finding> {
    Ok(Finding {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        asset_id: parse(row, "asset_id")?,
        dedup_key: text(row, "dedup_key")?,
        scanner: text(row, "scanner")?,
        plugin_id: text(row, "plugin_id")?,
        title: text(row, "title")?,
        port: opt_int(row, "port")?.and_then(|p| u16::try_from(p).ok()),
        protocol: opt_text(row, "protocol")?,
        cves: from_json(row, "cves")?,
        severity: parse(row, "severity")?,
        cvss2: score(row, "cvss2")?,
        cvss3: score(row, "cvss3")?,
        cvss4: score(row, "cvss4")?,
        description: opt_text(row, "description")?,
        solution: opt_text(row, "solution")?,
        evidence: opt_text(row, "evidence")?,
        status: parse(row, "status")?,
        status_reason: opt_text(row, "status_reason")?,
        accepted_until: crate::row::opt_ts(row, "accepted_until")?,
        first_seen: ts(row, "first_seen")?,
        last_seen: ts(row, "last_seen")?,
        fixed_at: crate::row::opt_ts(row, "fixed_at")?,
        last_import: opt_parse(row, "last_import")?,
    })
}

fn import_row(row: &AnyRow) -> StoreResult<Import> {
    Ok(Import {
        id: parse(row, "id")?,
        tenant_id: opt_parse(row, "tenant_id")?,
        kind: parse(row, "kind")?,
        format: text(row, "format")?,
        file_name: text(row, "file_name")?,
        status: parse(row, "status")?,
        bytes_total: u64::try_from(int(row, "bytes_total")?).unwrap_or(0),
        bytes_done: u64::try_from(int(row, "bytes_done")?).unwrap_or(0),
        counts: from_json::<ImportCounts>(row, "counts")?,
        rejections: from_json::<Vec<ImportRejection>>(row, "rejections")?,
        error: opt_text(row, "error")?,
        created_by: opt_parse(row, "created_by")?,
        created_at: ts(row, "created_at")?,
        finished_at: crate::row::opt_ts(row, "finished_at")?,
    })
}

/// Lower-case text a search looks through.
fn search_text(a: &Asset) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(a.hostname.clone());
    parts.extend(a.fqdn.clone());
    parts.extend(a.ips.iter().map(ToString::to_string));
    parts.extend(a.macs.iter().cloned());
    parts.extend(a.owner.clone());
    parts.extend(a.business_unit.clone());
    parts.extend(a.location.clone());
    parts.extend(a.os.clone());
    parts.join(" ").to_lowercase()
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds an asset's 29 columns in `ASSET_COLUMNS` order.
fn bind_asset<'q>(q: AnyQuery<'q>, w: &garrison_store::AssetWrite) -> AnyQuery<'q> {
    let a = &w.asset;
    let ips: Vec<String> = a.ips.iter().map(ToString::to_string).collect();
    q.bind(a.id.to_string())
        .bind(a.tenant_id.to_string())
        .bind(a.hostname.clone())
        .bind(a.fqdn.clone())
        .bind(a.zone.clone())
        .bind(a.os.clone())
        .bind(a.asset_type.map(|t| t.as_str().to_owned()))
        .bind(a.owner.clone())
        .bind(a.business_unit.clone())
        .bind(a.location.clone())
        .bind(a.criticality.map(|c| c.as_str().to_owned()))
        .bind(a.sensitivity.map(|s| s.as_str().to_owned()))
        .bind(a.internet_exposed.map(i64::from))
        .bind(json(&ips))
        .bind(json(&a.macs))
        .bind(json(&a.services))
        .bind(json(&a.software))
        .bind(json(&a.tags))
        .bind(json(&a.regulations))
        .bind(json(&a.sources))
        .bind(a.first_seen.as_millis())
        .bind(a.last_seen.as_millis())
        .bind(a.created_at.as_millis())
        .bind(a.updated_at.as_millis())
        .bind(w.risk.score)
        .bind(i64::from(w.risk.open_findings))
        .bind(w.risk.max_severity.map(|s| s.as_str().to_owned()))
        .bind(i64::from(w.risk.kev_findings))
        .bind(search_text(a))
}

/// Columns of an asset row.
const ASSET_COLUMN_COUNT: usize = 29;
/// How many rows one multi-row statement carries, per backend. sqlx's
/// SQLite driver looks each parameter up by name among all of the
/// statement's, so its cost grows with the square of the parameters: about
/// a hundred per statement is its sweet spot. PostgreSQL pays a round trip
/// per statement instead, so fewer, larger statements win there (its limit
/// is 65,535 parameters).
#[derive(Clone, Copy)]
struct Chunks {
    /// New assets per insert (29 parameters each).
    assets: usize,
    /// Key, history or id rows per statement (up to 6 parameters each).
    rows: usize,
}

impl Chunks {
    const fn of(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self {
                assets: 4,
                rows: 20,
            },
            Backend::Postgres => Self {
                assets: 64,
                rows: 250,
            },
        }
    }
}

/// Writes the batch's asset rows: new ones with multi-row inserts,
/// changed ones one update each.
async fn write_assets(
    conn: &mut AnyConnection,
    chunks: Chunks,
    scope: &TenantScope,
    writes: &[garrison_store::AssetWrite],
) -> StoreResult<()> {
    if writes
        .iter()
        .any(|w| w.asset.tenant_id != scope.tenant_id())
    {
        return Err(StoreError::NotFound);
    }
    let new: Vec<&garrison_store::AssetWrite> = writes.iter().filter(|w| w.is_new).collect();
    for chunk in new.chunks(chunks.assets) {
        let sql = format!(
            "INSERT INTO assets ({ASSET_COLUMNS}) VALUES {}",
            crate::values_list(chunk.len(), ASSET_COLUMN_COUNT)
        );
        let mut q = sqlx::query(safe(sql));
        for w in chunk {
            q = bind_asset(q, w);
        }
        q.execute(&mut *conn).await.map_err(db_err)?;
    }
    for w in writes.iter().filter(|w| !w.is_new) {
        let q = sqlx::query(
            "UPDATE assets SET hostname = $3, fqdn = $4, zone = $5, os = $6, asset_type = $7, owner = $8, \
             business_unit = $9, location = $10, criticality = $11, sensitivity = $12, internet_exposed = $13, \
             ips = $14, macs = $15, services = $16, software = $17, tags = $18, regulations = $19, sources = $20, \
             first_seen = $21, last_seen = $22, created_at = $23, updated_at = $24, risk_score = $25, \
             open_findings = $26, max_severity = $27, kev_findings = $28, search = $29 \
             WHERE id = $1 AND tenant_id = $2",
        );
        let done = bind_asset(q, w).execute(&mut *conn).await.map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

/// The identifier rows of an asset: its MACs, names and addresses.
fn asset_keys(a: &garrison_core::asset::Asset) -> Vec<(&'static str, String, String)> {
    let mut keys: Vec<(&'static str, String, String)> = Vec::new();
    keys.extend(a.macs.iter().map(|m| ("mac", m.clone(), String::new())));
    keys.extend(
        a.hostname
            .iter()
            .chain(a.fqdn.iter())
            .map(|n| ("name", n.to_lowercase(), String::new())),
    );
    keys.extend(
        a.ips
            .iter()
            .map(|ip| ("ip", ip.to_string(), a.zone.clone())),
    );
    keys
}

/// Replaces the identifier rows of the batch's assets and adds their
/// history entries, a few statements for the whole batch rather than
/// several per asset.
async fn write_keys_and_events(
    conn: &mut AnyConnection,
    chunks: Chunks,
    scope: &TenantScope,
    writes: &[garrison_store::AssetWrite],
) -> StoreResult<()> {
    let tenant = scope.tenant_id().to_string();
    let updated: Vec<String> = writes
        .iter()
        .filter(|w| !w.is_new)
        .map(|w| w.asset.id.to_string())
        .collect();
    for chunk in updated.chunks(chunks.rows) {
        let mut b = Binds::default();
        let ph: Vec<String> = chunk.iter().map(|id| b.text(id.clone())).collect();
        let sql = format!(
            "DELETE FROM asset_keys WHERE asset_id IN ({})",
            ph.join(", ")
        );
        b.apply(sqlx::query(safe(sql)))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    let keys: Vec<(String, &'static str, String, String)> = writes
        .iter()
        .flat_map(|w| {
            let id = w.asset.id.to_string();
            asset_keys(&w.asset)
                .into_iter()
                .map(move |(kind, value, zone)| (id.clone(), kind, value, zone))
        })
        .collect();
    for chunk in keys.chunks(chunks.rows) {
        let mut b = Binds::default();
        let t = b.text(tenant.clone());
        let rows: Vec<String> = chunk
            .iter()
            .map(|(id, kind, value, zone)| {
                format!(
                    "({t}, {}, {}, {}, {})",
                    b.text(id.clone()),
                    b.text(*kind),
                    b.text(value.clone()),
                    b.text(zone.clone())
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO asset_keys (tenant_id, asset_id, kind, value, zone) VALUES {}",
            rows.join(", ")
        );
        b.apply(sqlx::query(safe(sql)))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    let events: Vec<(AssetId, &AssetEvent)> = writes
        .iter()
        .flat_map(|w| w.events.iter().map(move |e| (w.asset.id, e)))
        .collect();
    for chunk in events.chunks(chunks.rows) {
        let mut b = Binds::default();
        let t = b.text(tenant.clone());
        let rows: Vec<String> = chunk
            .iter()
            .map(|(asset, e)| {
                format!(
                    "({}, {t}, {}, {}, {}, {}, {})",
                    b.text(garrison_core::AuditId::new().to_string()),
                    b.text(asset.to_string()),
                    b.int(e.at.as_millis()),
                    b.text(e.actor.clone()),
                    b.text(e.kind.clone()),
                    b.text(e.details.clone())
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO asset_events (id, tenant_id, asset_id, at, actor, kind, details) VALUES {}",
            rows.join(", ")
        );
        b.apply(sqlx::query(safe(sql)))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_event(
    conn: &mut AnyConnection,
    scope: &TenantScope,
    asset: AssetId,
    e: &AssetEvent,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO asset_events (id, tenant_id, asset_id, at, actor, kind, details) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(garrison_core::AuditId::new().to_string())
    .bind(scope.tenant_id().to_string())
    .bind(asset.to_string())
    .bind(e.at.as_millis())
    .bind(e.actor.clone())
    .bind(e.kind.clone())
    .bind(e.details.clone())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Raises the tenant's inventory version; called inside every transaction
/// that changes the inventory.
async fn bump_inventory_version(conn: &mut AnyConnection, scope: &TenantScope) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO inventory_versions (tenant_id, version) VALUES ($1, 1)
         ON CONFLICT (tenant_id) DO UPDATE SET version = inventory_versions.version + 1",
    )
    .bind(scope.tenant_id().to_string())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn write_finding(
    conn: &mut AnyConnection,
    scope: &TenantScope,
    f: &Finding,
) -> StoreResult<()> {
    if f.tenant_id != scope.tenant_id() {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "INSERT INTO findings ({FINDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         CAST($13 AS DOUBLE PRECISION), $14, CAST($15 AS DOUBLE PRECISION), $16, CAST($17 AS DOUBLE PRECISION), \
         $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, cves = excluded.cves, \
         severity = excluded.severity, severity_rank = excluded.severity_rank, \
         cvss2_score = excluded.cvss2_score, cvss2_vector = excluded.cvss2_vector, \
         cvss3_score = excluded.cvss3_score, cvss3_vector = excluded.cvss3_vector, \
         cvss4_score = excluded.cvss4_score, cvss4_vector = excluded.cvss4_vector, \
         description = excluded.description, solution = excluded.solution, evidence = excluded.evidence, \
         status = excluded.status, status_reason = excluded.status_reason, \
         accepted_until = excluded.accepted_until, last_seen = excluded.last_seen, \
         fixed_at = excluded.fixed_at, last_import = excluded.last_import \
         WHERE findings.tenant_id = excluded.tenant_id"
    );
    // Scores go as text and are cast in SQL: sqlx's `Any` driver sends a
    // NULL `f64` to PostgreSQL as a NULL `float4`, and a statement first
    // prepared that way then refuses a real `f64` ("incorrect binary data
    // format"). Text has one type whether NULL or not, and a score's
    // shortest decimal form (`9.8`) is also what people expect stored.
    let sc = |s: &Option<Score>| s.as_ref().map(|s| s.score.to_string());
    let vec = |s: &Option<Score>| s.as_ref().and_then(|s| s.vector.clone());
    sqlx::query(safe(sql))
        .bind(f.id.to_string())
        .bind(f.tenant_id.to_string())
        .bind(f.asset_id.to_string())
        .bind(f.dedup_key.clone())
        .bind(f.scanner.clone())
        .bind(f.plugin_id.clone())
        .bind(f.title.clone())
        .bind(f.port.map(i64::from))
        .bind(f.protocol.clone())
        .bind(json(&f.cves))
        .bind(f.severity.as_str())
        .bind(severity_rank(f.severity))
        .bind(sc(&f.cvss2))
        .bind(vec(&f.cvss2))
        .bind(sc(&f.cvss3))
        .bind(vec(&f.cvss3))
        .bind(sc(&f.cvss4))
        .bind(vec(&f.cvss4))
        .bind(f.description.clone())
        .bind(f.solution.clone())
        .bind(f.evidence.clone())
        .bind(f.status.as_str())
        .bind(f.status_reason.clone())
        .bind(f.accepted_until.map(garrison_core::Timestamp::as_millis))
        .bind(f.first_seen.as_millis())
        .bind(f.last_seen.as_millis())
        .bind(f.fixed_at.map(garrison_core::Timestamp::as_millis))
        .bind(f.last_import.map(|i| i.to_string()))
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl SqlStore {
    async fn assets_by_ids(&self, scope: &TenantScope, ids: &[String]) -> StoreResult<Vec<Asset>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE tenant_id = $1 AND id IN ({}) ORDER BY id",
            placeholders(2, ids.len())
        );
        let mut q = sqlx::query(safe(sql)).bind(scope.tenant_id().to_string());
        for id in ids {
            q = q.bind(id.clone());
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(|r| asset_row(r).map(|r| r.asset)).collect()
    }
}

#[async_trait]
impl AssetStore for SqlStore {
    async fn find_asset_candidates(
        &self,
        scope: &TenantScope,
        keys: &AssetKeys,
    ) -> StoreResult<Vec<Asset>> {
        // Indexed `IN` lookups per kind of key, a few hundred values per
        // statement (an OR of single-key conditions makes SQLite scan the
        // tenant's keys; too many parameters per statement are slow in
        // sqlx's SQLite driver). Addresses are matched with their zone
        // here, after the lookup by value.
        let tenant = scope.tenant_id().to_string();
        let mut found: BTreeSet<String> = BTreeSet::new();
        let wanted_ips: BTreeSet<(String, String)> = keys
            .ips
            .iter()
            .map(|(ip, zone)| (ip.to_string(), zone.clone()))
            .collect();
        let ip_values: BTreeSet<String> = wanted_ips.iter().map(|(v, _)| v.clone()).collect();
        let names: BTreeSet<String> = keys.names.iter().map(|n| n.to_lowercase()).collect();
        let macs: BTreeSet<String> = keys.macs.iter().cloned().collect();
        for (kind, values) in [("mac", &macs), ("name", &names), ("ip", &ip_values)] {
            let values: Vec<&String> = values.iter().collect();
            for chunk in values.chunks(Chunks::of(self.backend).rows * 5) {
                let mut b = Binds::default();
                let t = b.text(tenant.clone());
                let ph: Vec<String> = chunk.iter().map(|v| b.text((*v).clone())).collect();
                let sql = format!(
                    "SELECT asset_id, value, zone FROM asset_keys WHERE tenant_id = {t} AND kind = '{kind}' AND value IN ({})",
                    ph.join(", ")
                );
                let rows = b
                    .apply(sqlx::query(safe(sql)))
                    .fetch_all(self.pool())
                    .await
                    .map_err(db_err)?;
                for r in &rows {
                    if kind == "ip" && !wanted_ips.contains(&(text(r, "value")?, text(r, "zone")?))
                    {
                        continue;
                    }
                    found.insert(text(r, "asset_id")?);
                }
            }
        }
        let ids: Vec<String> = found.into_iter().collect();
        let mut assets = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(Chunks::of(self.backend).rows * 5) {
            assets.extend(self.assets_by_ids(scope, chunk).await?);
        }
        Ok(assets)
    }

    async fn find_asset(&self, scope: &TenantScope, id: AssetId) -> StoreResult<AssetRow> {
        let row = sqlx::query(safe(format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.to_string())
        .bind(scope.tenant_id().to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref()
            .map(asset_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn list_assets(
        &self,
        access: &TenantAccess,
        query: &AssetQuery,
    ) -> StoreResult<Page<AssetRow>> {
        let mut b = Binds::default();
        let Some(mut wh) = b.access(access, "tenant_id", query.tenant) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        if let Some(t) = query.text.as_deref().filter(|t| !t.trim().is_empty()) {
            wh.push_str(&format!(
                " AND search LIKE {} ESCAPE '\\'",
                b.text(like(&t.trim().to_lowercase()))
            ));
        }
        if let Some(c) = query.criticality {
            wh.push_str(&format!(" AND criticality = {}", b.text(c.as_str())));
        }
        if let Some(tag) = &query.tag {
            wh.push_str(&format!(
                " AND tags LIKE {} ESCAPE '\\'",
                b.text(like(&json(tag)))
            ));
        }
        if let Some(r) = &query.regulation {
            wh.push_str(&format!(
                " AND regulations LIKE {} ESCAPE '\\'",
                b.text(like(&json(r)))
            ));
        }
        if let Some(e) = query.internet_exposed {
            wh.push_str(&format!(" AND internet_exposed = {}", b.int(i64::from(e))));
        }
        if query.has_kev {
            wh.push_str(" AND kev_findings > 0");
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM assets WHERE 1 = 1{wh}");
        let total: i64 = {
            let row = b
                .apply(sqlx::query(safe(count_sql)))
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
            int(&row, "n")?
        };
        let order = match query.sort {
            AssetSort::Risk => "risk_score DESC, id",
            AssetSort::Name => "COALESCE(fqdn, hostname, search), id",
            AssetSort::LastSeen => "last_seen DESC, id",
        };
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE 1 = 1{wh} ORDER BY {order} LIMIT {} OFFSET {}",
            query.limit.clamp(1, 10_000),
            query.offset
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(asset_row).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn all_assets(&self, scope: &TenantScope) -> StoreResult<Vec<AssetRow>> {
        let rows = sqlx::query(safe(format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE tenant_id = $1 ORDER BY id"
        )))
        .bind(scope.tenant_id().to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(asset_row).collect()
    }

    async fn write_inventory(
        &self,
        scope: &TenantScope,
        batch: &InventoryBatch,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let chunks = Chunks::of(self.backend);
        write_assets(tx.conn(), chunks, scope, &batch.assets).await?;
        write_keys_and_events(tx.conn(), chunks, scope, &batch.assets).await?;
        for f in &batch.findings {
            write_finding(tx.conn(), scope, f).await?;
        }
        bump_inventory_version(tx.conn(), scope).await?;
        if let Some(entry) = audit {
            self.append_in(tx.conn(), entry).await?;
        }
        tx.commit().await?;
        self.analyze_after_growth(batch).await;
        Ok(())
    }

    async fn delete_asset(
        &self,
        scope: &TenantScope,
        id: AssetId,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM findings WHERE asset_id = $1 AND tenant_id = $2")
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        let done = sqlx::query("DELETE FROM assets WHERE id = $1 AND tenant_id = $2")
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        let event = AssetEvent {
            at: audit.at,
            actor: audit.actor_label.clone(),
            kind: "deleted".to_owned(),
            details: "{}".to_owned(),
        };
        insert_event(tx.conn(), scope, id, &event).await?;
        bump_inventory_version(tx.conn(), scope).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn asset_events(&self, scope: &TenantScope, id: AssetId) -> StoreResult<Vec<AssetEvent>> {
        let rows = sqlx::query(
            "SELECT at, actor, kind, details FROM asset_events WHERE tenant_id = $1 AND asset_id = $2 ORDER BY id DESC LIMIT 500",
        )
        .bind(scope.tenant_id().to_string())
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AssetEvent {
                    at: ts(r, "at")?,
                    actor: text(r, "actor")?,
                    kind: text(r, "kind")?,
                    details: text(r, "details")?,
                })
            })
            .collect()
    }

    async fn risk_weights(&self, scope: &TenantScope) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT weights FROM tenant_risk_weights WHERE tenant_id = $1")
            .bind(scope.tenant_id().to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(|r| text(&r, "weights")).transpose()
    }

    async fn set_risk_weights(
        &self,
        scope: &TenantScope,
        weights: Option<&str>,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        match weights {
            Some(w) => sqlx::query(
                "INSERT INTO tenant_risk_weights (tenant_id, weights, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant_id) DO UPDATE SET weights = excluded.weights, updated_at = excluded.updated_at",
            )
            .bind(scope.tenant_id().to_string())
            .bind(w.to_owned())
            .bind(at.as_millis())
            .execute(tx.conn())
            .await
            .map_err(db_err)?,
            None => sqlx::query("DELETE FROM tenant_risk_weights WHERE tenant_id = $1")
                .bind(scope.tenant_id().to_string())
                .execute(tx.conn())
                .await
                .map_err(db_err)?,
        };
        bump_inventory_version(tx.conn(), scope).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn list_ranges(&self, scope: &TenantScope) -> StoreResult<Vec<NetworkRange>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, cidr, zone, default_criticality, description FROM network_ranges WHERE tenant_id = $1 ORDER BY cidr",
        )
        .bind(scope.tenant_id().to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(NetworkRange {
                    id: parse(r, "id")?,
                    tenant_id: parse(r, "tenant_id")?,
                    cidr: text(r, "cidr")?,
                    zone: text(r, "zone")?,
                    default_criticality: opt_parse(r, "default_criticality")?,
                    description: opt_text(r, "description")?,
                })
            })
            .collect()
    }

    async fn create_range(
        &self,
        scope: &TenantScope,
        range: &NetworkRange,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        if range.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO network_ranges (id, tenant_id, cidr, zone, default_criticality, description) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(range.id.to_string())
        .bind(range.tenant_id.to_string())
        .bind(range.cidr.clone())
        .bind(range.zone.clone())
        .bind(range.default_criticality.map(|c| c.as_str().to_owned()))
        .bind(range.description.clone())
        .execute(tx.conn())
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict("range"),
            other => other,
        })?;
        bump_inventory_version(tx.conn(), scope).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn delete_range(
        &self,
        scope: &TenantScope,
        id: RangeId,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM network_ranges WHERE id = $1 AND tenant_id = $2")
            .bind(id.to_string())
            .bind(scope.tenant_id().to_string())
            .execute(tx.conn())
            .await
            .map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        bump_inventory_version(tx.conn(), scope).await?;
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await
    }

    async fn findings_of_assets(
        &self,
        scope: &TenantScope,
        assets: &[AssetId],
    ) -> StoreResult<Vec<Finding>> {
        if assets.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE tenant_id = $1 AND asset_id IN ({}) ORDER BY id",
            placeholders(2, assets.len())
        );
        let mut q = sqlx::query(safe(sql)).bind(scope.tenant_id().to_string());
        for a in assets {
            q = q.bind(a.to_string());
        }
        let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(finding_row).collect()
    }

    async fn open_exposures(&self, scope: &TenantScope) -> StoreResult<Vec<OpenExposure>> {
        let rows = sqlx::query(
            "SELECT asset_id, port, protocol, title, cves, severity FROM findings \
             WHERE tenant_id = $1 AND status IN ('open', 'reopened') ORDER BY asset_id, id",
        )
        .bind(scope.tenant_id().to_string())
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(OpenExposure {
                    asset_id: parse(row, "asset_id")?,
                    port: opt_int(row, "port")?.and_then(|p| u16::try_from(p).ok()),
                    protocol: opt_text(row, "protocol")?,
                    title: text(row, "title")?,
                    cves: from_json(row, "cves")?,
                    severity: parse(row, "severity")?,
                })
            })
            .collect()
    }

    async fn list_findings(
        &self,
        access: &TenantAccess,
        query: &FindingQuery,
    ) -> StoreResult<Page<Finding>> {
        let mut b = Binds::default();
        let Some(mut wh) = b.access(access, "tenant_id", query.tenant) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        if let Some(a) = query.asset {
            wh.push_str(&format!(" AND asset_id = {}", b.text(a.to_string())));
        }
        if let Some(s) = query.status {
            wh.push_str(&format!(" AND status = {}", b.text(s.as_str())));
        }
        if query.open_only {
            wh.push_str(" AND status IN ('open', 'reopened')");
        }
        if let Some(s) = query.min_severity {
            wh.push_str(&format!(
                " AND severity_rank >= {}",
                b.int(severity_rank(s))
            ));
        }
        if let Some(c) = &query.cve {
            wh.push_str(&format!(
                " AND cves LIKE {} ESCAPE '\\'",
                b.text(like(&json(&c.to_uppercase())))
            ));
        }
        if let Some(t) = query.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let p = b.text(like(&t.trim().to_lowercase()));
            wh.push_str(&format!(
                " AND (LOWER(title) LIKE {p} ESCAPE '\\' OR LOWER(plugin_id) LIKE {p} ESCAPE '\\')"
            ));
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM findings WHERE 1 = 1{wh}");
        let total = {
            let row = b
                .apply(sqlx::query(safe(count_sql)))
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?;
            int(&row, "n")?
        };
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE 1 = 1{wh} ORDER BY severity_rank DESC, last_seen DESC, id LIMIT {} OFFSET {}",
            query.limit.clamp(1, 10_000),
            query.offset
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(finding_row).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    async fn find_finding(&self, scope: &TenantScope, id: FindingId) -> StoreResult<Finding> {
        let row = sqlx::query(safe(format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.to_string())
        .bind(scope.tenant_id().to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.as_ref()
            .map(finding_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn set_finding_status(
        &self,
        scope: &TenantScope,
        id: FindingId,
        change: &FindingStatusChange,
        audit: &AuditEntry,
    ) -> StoreResult<Finding> {
        let mut tx = self.begin_write().await?;
        let fixed_at = (change.status == FindingStatus::Fixed).then_some(change.at.as_millis());
        let done = sqlx::query(
            "UPDATE findings SET status = $3, status_reason = $4, accepted_until = $5, fixed_at = $6 WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(scope.tenant_id().to_string())
        .bind(change.status.as_str())
        .bind(change.reason.clone())
        .bind(change.accepted_until.map(garrison_core::Timestamp::as_millis))
        .bind(fixed_at)
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        self.append_in(tx.conn(), audit).await?;
        tx.commit().await?;
        self.find_finding(scope, id).await
    }

    async fn inventory_version(&self, scope: &TenantScope) -> StoreResult<i64> {
        let row = sqlx::query("SELECT version FROM inventory_versions WHERE tenant_id = $1")
            .bind(scope.tenant_id().to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map_or(Ok(0), |r| int(&r, "version"))
    }

    async fn create_import(&self, import: &Import, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(safe(format!(
            "INSERT INTO imports ({IMPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(import.id.to_string())
        .bind(import.tenant_id.map(|t| t.to_string()))
        .bind(import.kind.as_str())
        .bind(import.format.clone())
        .bind(import.file_name.clone())
        .bind(import.status.as_str())
        .bind(i64::try_from(import.bytes_total).unwrap_or(i64::MAX))
        .bind(i64::try_from(import.bytes_done).unwrap_or(i64::MAX))
        .bind(json(&import.counts))
        .bind(json(&import.rejections))
        .bind(import.error.clone())
        .bind(import.created_by.map(|u| u.to_string()))
        .bind(import.created_at.as_millis())
        .bind(import.finished_at.map(garrison_core::Timestamp::as_millis))
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if let Some(entry) = audit {
            self.append_in(tx.conn(), entry).await?;
        }
        tx.commit().await
    }

    async fn update_import(&self, id: ImportId, p: &ImportProgress) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE imports SET status = $2, bytes_done = $3, counts = $4, rejections = $5, error = $6, finished_at = $7 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(p.status.as_str())
        .bind(i64::try_from(p.bytes_done).unwrap_or(i64::MAX))
        .bind(json(&p.counts))
        .bind(json(&p.rejections))
        .bind(p.error.clone())
        .bind(p.finished_at.map(garrison_core::Timestamp::as_millis))
        .execute(tx.conn())
        .await
        .map_err(db_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await
    }

    async fn find_import(&self, access: &TenantAccess, id: ImportId) -> StoreResult<Import> {
        let row = sqlx::query(safe(format!(
            "SELECT {IMPORT_COLUMNS} FROM imports WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        match row.as_ref().map(import_row).transpose()? {
            Some(i) if i.tenant_id.map_or(access.is_all(), |t| access.allows(t)) => Ok(i),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn list_imports(&self, access: &TenantAccess, limit: u32) -> StoreResult<Vec<Import>> {
        let mut b = Binds::default();
        let filter = match access.tenants() {
            None => String::new(),
            Some(set) if set.is_empty() => return Ok(Vec::new()),
            Some(set) => {
                let ph: Vec<String> = set.iter().map(|t| b.text(t.to_string())).collect();
                format!(" AND tenant_id IN ({})", ph.join(", "))
            }
        };
        let sql = format!(
            "SELECT {IMPORT_COLUMNS} FROM imports WHERE 1 = 1{filter} ORDER BY created_at DESC, id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows = b
            .apply(sqlx::query(safe(sql)))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.iter().map(import_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}

/// How much the inventory tables grew since PostgreSQL's planner statistics
/// were last refreshed by this process.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    /// Rows written since the last `ANALYZE`.
    since: std::sync::atomic::AtomicU64,
    /// Rows written up to the last `ANALYZE`.
    before: std::sync::atomic::AtomicU64,
    running: std::sync::atomic::AtomicBool,
}

/// An `ANALYZE` no earlier than after this many rows.
const ANALYZE_AFTER_ROWS: u64 = 2_000;

impl SqlStore {
    /// Refreshes PostgreSQL's statistics of the inventory tables whenever
    /// this process has written more rows to them than it had when it last
    /// did (so about log2(rows) times over a bulk import). Without it, a
    /// first big import into an empty inventory runs on statistics of an
    /// empty table: the planner filters the candidate lookups instead of
    /// using the index's `value` column and the import slows quadratically.
    /// Autovacuum catches up only a minute later. Only the tables the
    /// import searches by more than a primary key are analysed. SQLite's
    /// planner does not depend on statistics that way.
    async fn analyze_after_growth(&self, batch: &InventoryBatch) {
        use std::sync::atomic::Ordering;
        if !matches!(self.backend, Backend::Postgres) {
            return;
        }
        let rows = u64::try_from(batch.assets.len() + batch.findings.len()).unwrap_or(u64::MAX);
        let g = &self.growth;
        let since = g.since.fetch_add(rows, Ordering::Relaxed) + rows;
        let before = g.before.load(Ordering::Relaxed);
        if since < ANALYZE_AFTER_ROWS.max(before) || g.running.swap(true, Ordering::Acquire) {
            return;
        }
        g.since.fetch_sub(since, Ordering::Relaxed);
        g.before.fetch_add(since, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let done = sqlx::query("ANALYZE asset_keys, findings")
            .execute(self.pool())
            .await;
        g.running.store(false, Ordering::Release);
        match done {
            Ok(_) => tracing::debug!(
                rows = before + since,
                ms = started.elapsed().as_millis(),
                "inventory statistics refreshed"
            ),
            // The write is committed; stale statistics only cost speed.
            Err(e) => tracing::warn!(error = %e, "ANALYZE of the inventory tables failed"),
        }
    }
}

//! Vulnerability data in SQL: one `vulns` row per CVE, whose NVD, KEV and
//! EPSS columns are written by separate upserts, and `vuln_products`, the
//! products each CVE's configurations name.
//!
//! Imports send thousands of rows per call, so rows are written with
//! multi-row `INSERT ... ON CONFLICT` statements of a few hundred rows
//! each (a full EPSS file of ~250,000 rows is about a thousand statements)
//! rather than one statement per row.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use garrison_core::Timestamp;
use garrison_core::asset::Score;
use garrison_store::{
    EpssFact, EpssStatus, KevFact, KevStatus, NvdVuln, StoreError, StoreResult, UpsertCounts,
    VulnCounts, VulnDetail, VulnRecord, VulnStore,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::row::{get, int, opt_int, opt_text, text, ts};
use crate::{SqlStore, db_err, placeholders, safe};

/// Rows per multi-row statement for the narrow KEV and EPSS rows (at most
/// five parameters a row, well under both databases' parameter limits).
const NARROW_ROWS: usize = 250;
/// Rows per statement for NVD records, whose texts and criteria are long.
const NVD_ROWS: usize = 50;
/// Values per `IN (...)` list.
const IN_CHUNK: usize = 500;

const FACT_COLUMNS: &str = "cve_id, published, description, cvss2_score, cvss2_vector, \
    cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, kev_added, kev_due, kev_ransomware, \
    epss, epss_percentile, updated_at";

/// A value bound to a generated placeholder.
enum Val {
    Text(Option<String>),
    Int(Option<i64>),
    /// A number's decimal text, cast to a double in SQL. sqlx's `Any`
    /// driver sends a NULL `f64` to PostgreSQL as a NULL `float4`, and a
    /// statement first prepared that way then refuses a real `f64`; text
    /// has one type whether NULL or not.
    Real(Option<String>),
}

/// A statement built at run time with its values, bound in order.
#[derive(Default)]
struct Stmt {
    sql: String,
    vals: Vec<Val>,
}

impl Stmt {
    fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            vals: Vec::new(),
        }
    }

    /// Adds a value and returns its placeholder.
    fn val(&mut self, v: Val) -> String {
        let real = matches!(v, Val::Real(_));
        self.vals.push(v);
        if real {
            format!("CAST(${} AS DOUBLE PRECISION)", self.vals.len())
        } else {
            format!("${}", self.vals.len())
        }
    }

    fn text(&mut self, v: impl Into<String>) -> String {
        self.val(Val::Text(Some(v.into())))
    }

    fn query(self) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(safe(self.sql));
        for v in self.vals {
            q = match v {
                Val::Text(s) | Val::Real(s) => q.bind(s),
                Val::Int(i) => q.bind(i),
            };
        }
        q
    }
}

fn score_val(s: Option<&Score>) -> (Val, Val) {
    (
        Val::Real(s.map(|s| s.score.to_string())),
        Val::Text(s.and_then(|s| s.vector.clone())),
    )
}

fn read_score(row: &AnyRow, prefix: &str) -> StoreResult<Option<Score>> {
    let score: Option<f64> = get(row, &format!("{prefix}_score"))?;
    let vector = opt_text(row, &format!("{prefix}_vector"))?;
    #[expect(clippy::cast_possible_truncation, reason = "scores are 0.0 to 10.0")]
    Ok(score.map(|s| Score {
        score: s as f32,
        vector,
    }))
}

fn record(row: &AnyRow, detail: VulnDetail) -> StoreResult<VulnRecord> {
    let kev = match (opt_text(row, "kev_added")?, opt_text(row, "kev_due")?) {
        (Some(added), Some(due)) => Some(KevStatus {
            added,
            due,
            ransomware: opt_int(row, "kev_ransomware")?.unwrap_or(0) != 0,
        }),
        _ => None,
    };
    let epss = match (
        get::<Option<f64>>(row, "epss")?,
        get::<Option<f64>>(row, "epss_percentile")?,
    ) {
        (Some(score), Some(percentile)) => Some(EpssStatus { score, percentile }),
        _ => None,
    };
    let matches = match detail {
        VulnDetail::Facts => Vec::new(),
        VulnDetail::WithMatches => {
            let raw = text(row, "matches")?;
            serde_json::from_str(&raw)
                .map_err(|e| StoreError::Corrupt(format!("column `matches`: {e}")))?
        }
    };
    Ok(VulnRecord {
        cve_id: text(row, "cve_id")?,
        published: opt_text(row, "published")?,
        description: opt_text(row, "description")?,
        cvss2: read_score(row, "cvss2")?,
        cvss3: read_score(row, "cvss3")?,
        cvss4: read_score(row, "cvss4")?,
        kev,
        epss,
        matches,
        updated_at: ts(row, "updated_at")?,
    })
}

fn columns(detail: VulnDetail) -> String {
    match detail {
        VulnDetail::Facts => FACT_COLUMNS.to_owned(),
        VulnDetail::WithMatches => format!("{FACT_COLUMNS}, matches"),
    }
}

/// Keeps the last of each CVE id, in id order, so that one statement never
/// touches a row twice (which PostgreSQL refuses in an upsert).
fn last_per_id<T: Clone>(items: &[T], id: impl Fn(&T) -> String) -> Vec<T> {
    let mut by_id: BTreeMap<String, T> = BTreeMap::new();
    for item in items {
        by_id.insert(id(item).to_ascii_uppercase(), item.clone());
    }
    by_id.into_values().collect()
}

/// How many of `ids` already have a row.
async fn count_existing(conn: &mut AnyConnection, ids: &[String]) -> StoreResult<u64> {
    let mut n = 0;
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM vulns WHERE cve_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(safe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        let row = q.fetch_one(&mut *conn).await.map_err(db_err)?;
        n += u64::try_from(int(&row, "n")?).unwrap_or(0);
    }
    Ok(n)
}

fn counts(total: usize, existing: u64) -> UpsertCounts {
    let total = total as u64;
    UpsertCounts {
        inserted: total.saturating_sub(existing),
        updated: existing.min(total),
        removed: 0,
    }
}

#[async_trait]
impl VulnStore for SqlStore {
    async fn upsert_nvd(&self, records: &[NvdVuln], at: Timestamp) -> StoreResult<UpsertCounts> {
        let records = last_per_id(records, |r| r.cve_id.clone());
        if records.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let ids: Vec<String> = records
            .iter()
            .map(|r| r.cve_id.to_ascii_uppercase())
            .collect();
        let mut tx = self.begin_write().await?;
        let existing = count_existing(tx.conn(), &ids).await?;
        for chunk in records.chunks(NVD_ROWS) {
            let mut st = Stmt::new(
                "INSERT INTO vulns (cve_id, published, description, cvss2_score, cvss2_vector, \
                 cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, matches, updated_at) VALUES ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for r in chunk {
                let matches = serde_json::to_string(&r.matches)
                    .map_err(|e| StoreError::Backend(format!("encoding criteria: {e}")))?;
                let mut ph = vec![
                    st.text(r.cve_id.to_ascii_uppercase()),
                    st.val(Val::Text(r.published.clone())),
                    st.val(Val::Text(r.description.clone())),
                ];
                for s in [&r.cvss2, &r.cvss3, &r.cvss4] {
                    let (score, vector) = score_val(s.as_ref());
                    ph.push(st.val(score));
                    ph.push(st.val(vector));
                }
                ph.push(st.text(matches));
                ph.push(st.val(Val::Int(Some(at.as_millis()))));
                rows.push(format!("({})", ph.join(", ")));
            }
            st.sql.push_str(&rows.join(", "));
            st.sql.push_str(
                " ON CONFLICT (cve_id) DO UPDATE SET published = excluded.published, \
                 description = excluded.description, cvss2_score = excluded.cvss2_score, \
                 cvss2_vector = excluded.cvss2_vector, cvss3_score = excluded.cvss3_score, \
                 cvss3_vector = excluded.cvss3_vector, cvss4_score = excluded.cvss4_score, \
                 cvss4_vector = excluded.cvss4_vector, matches = excluded.matches, \
                 updated_at = excluded.updated_at",
            );
            st.query().execute(tx.conn()).await.map_err(db_err)?;
        }
        // The products are replaced: a CVE whose configuration NVD changed
        // must stop being a candidate for what it no longer names.
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "DELETE FROM vuln_products WHERE cve_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(safe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            q.execute(tx.conn()).await.map_err(db_err)?;
        }
        let pairs: BTreeSet<(String, String)> = records
            .iter()
            .flat_map(|r| {
                r.products
                    .iter()
                    .filter(|p| !p.is_empty())
                    .map(|p| (p.clone(), r.cve_id.to_ascii_uppercase()))
            })
            .collect();
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        for chunk in pairs.chunks(NARROW_ROWS) {
            let mut st = Stmt::new("INSERT INTO vuln_products (product, cve_id) VALUES ");
            let rows: Vec<String> = chunk
                .iter()
                .map(|(product, cve)| {
                    let p = st.text(product.clone());
                    let c = st.text(cve.clone());
                    format!("({p}, {c})")
                })
                .collect();
            st.sql.push_str(&rows.join(", "));
            st.query().execute(tx.conn()).await.map_err(db_err)?;
        }
        tx.commit().await?;
        Ok(counts(ids.len(), existing))
    }

    async fn replace_kev(&self, entries: &[KevFact], at: Timestamp) -> StoreResult<UpsertCounts> {
        let entries = last_per_id(entries, |e| e.cve_id.clone());
        let ids: Vec<String> = entries
            .iter()
            .map(|e| e.cve_id.to_ascii_uppercase())
            .collect();
        let listed: BTreeSet<&String> = ids.iter().collect();
        let mut tx = self.begin_write().await?;
        let before = sqlx::query("SELECT cve_id FROM vulns WHERE kev_added IS NOT NULL")
            .fetch_all(tx.conn())
            .await
            .map_err(db_err)?;
        let mut dropped = Vec::new();
        for row in &before {
            let id = text(row, "cve_id")?;
            if !listed.contains(&id) {
                dropped.push(id);
            }
        }
        for chunk in dropped.chunks(IN_CHUNK) {
            let sql = format!(
                "UPDATE vulns SET kev_added = NULL, kev_due = NULL, kev_ransomware = NULL, \
                 updated_at = $1 WHERE cve_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(safe(sql)).bind(at.as_millis());
            for id in chunk {
                q = q.bind(id.clone());
            }
            q.execute(tx.conn()).await.map_err(db_err)?;
        }
        let existing = count_existing(tx.conn(), &ids).await?;
        for chunk in entries.chunks(NARROW_ROWS) {
            let mut st = Stmt::new(
                "INSERT INTO vulns (cve_id, kev_added, kev_due, kev_ransomware, matches, updated_at) VALUES ",
            );
            let rows: Vec<String> = chunk
                .iter()
                .map(|e| {
                    let ph = [
                        st.text(e.cve_id.to_ascii_uppercase()),
                        st.text(e.status.added.clone()),
                        st.text(e.status.due.clone()),
                        st.val(Val::Int(Some(i64::from(e.status.ransomware)))),
                    ];
                    let updated = st.val(Val::Int(Some(at.as_millis())));
                    format!("({}, '[]', {updated})", ph.join(", "))
                })
                .collect();
            st.sql.push_str(&rows.join(", "));
            st.sql.push_str(
                " ON CONFLICT (cve_id) DO UPDATE SET kev_added = excluded.kev_added, \
                 kev_due = excluded.kev_due, kev_ransomware = excluded.kev_ransomware, \
                 updated_at = excluded.updated_at",
            );
            st.query().execute(tx.conn()).await.map_err(db_err)?;
        }
        tx.commit().await?;
        Ok(UpsertCounts {
            removed: dropped.len() as u64,
            ..counts(ids.len(), existing)
        })
    }

    async fn upsert_epss(&self, scores: &[EpssFact], at: Timestamp) -> StoreResult<UpsertCounts> {
        let scores = last_per_id(scores, |s| s.cve_id.clone());
        if scores.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let ids: Vec<String> = scores
            .iter()
            .map(|s| s.cve_id.to_ascii_uppercase())
            .collect();
        let mut tx = self.begin_write().await?;
        let existing = count_existing(tx.conn(), &ids).await?;
        for chunk in scores.chunks(NARROW_ROWS) {
            let mut st = Stmt::new(
                "INSERT INTO vulns (cve_id, epss, epss_percentile, matches, updated_at) VALUES ",
            );
            let rows: Vec<String> = chunk
                .iter()
                .map(|s| {
                    let ph = [
                        st.text(s.cve_id.to_ascii_uppercase()),
                        st.val(Val::Real(Some(s.status.score.to_string()))),
                        st.val(Val::Real(Some(s.status.percentile.to_string()))),
                    ];
                    let updated = st.val(Val::Int(Some(at.as_millis())));
                    format!("({}, '[]', {updated})", ph.join(", "))
                })
                .collect();
            st.sql.push_str(&rows.join(", "));
            st.sql.push_str(
                " ON CONFLICT (cve_id) DO UPDATE SET epss = excluded.epss, \
                 epss_percentile = excluded.epss_percentile, updated_at = excluded.updated_at",
            );
            st.query().execute(tx.conn()).await.map_err(db_err)?;
        }
        tx.commit().await?;
        Ok(counts(ids.len(), existing))
    }

    async fn find_vulns(
        &self,
        cves: &[String],
        detail: VulnDetail,
    ) -> StoreResult<Vec<VulnRecord>> {
        let ids: BTreeSet<String> = cves.iter().map(|c| c.trim().to_ascii_uppercase()).collect();
        let ids: Vec<String> = ids.into_iter().collect();
        let cols = columns(detail);
        let mut out = Vec::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {cols} FROM vulns WHERE cve_id IN ({}) ORDER BY cve_id",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(safe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
            for row in &rows {
                out.push(record(row, detail)?);
            }
        }
        Ok(out)
    }

    async fn vulns_for_products(&self, products: &[String]) -> StoreResult<Vec<VulnRecord>> {
        let keys: BTreeSet<&String> = products.iter().filter(|p| !p.is_empty()).collect();
        let keys: Vec<&String> = keys.into_iter().collect();
        let cols = columns(VulnDetail::WithMatches);
        let mut by_id: BTreeMap<String, VulnRecord> = BTreeMap::new();
        for chunk in keys.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {cols} FROM vulns WHERE cve_id IN \
                 (SELECT cve_id FROM vuln_products WHERE product IN ({})) ORDER BY cve_id",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(safe(sql));
            for key in chunk {
                q = q.bind((*key).clone());
            }
            let rows = q.fetch_all(self.pool()).await.map_err(db_err)?;
            for row in &rows {
                let r = record(row, VulnDetail::WithMatches)?;
                by_id.insert(r.cve_id.clone(), r);
            }
        }
        Ok(by_id.into_values().collect())
    }

    async fn count_vulns(&self) -> StoreResult<VulnCounts> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS cves, \
             COALESCE(SUM(CASE WHEN matches <> '[]' THEN 1 ELSE 0 END), 0) AS with_matches, \
             COUNT(kev_added) AS kev, COUNT(epss) AS epss FROM vulns",
        )
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        let n = |col: &str| -> StoreResult<u64> { Ok(u64::try_from(int(&row, col)?).unwrap_or(0)) };
        Ok(VulnCounts {
            cves: n("cves")?,
            with_matches: n("with_matches")?,
            kev: n("kev")?,
            epss: n("epss")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_record_of_a_cve_wins_whatever_its_case() {
        let items = vec![
            ("cve-2024-0001".to_owned(), 1),
            ("CVE-2024-0002".to_owned(), 2),
            ("CVE-2024-0001".to_owned(), 3),
        ];
        let kept = last_per_id(&items, |i| i.0.clone());
        assert_eq!(kept.iter().map(|i| i.1).collect::<Vec<_>>(), [3, 2]);
    }
}

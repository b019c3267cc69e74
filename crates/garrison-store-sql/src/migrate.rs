//! A small forward-only migrator. Each backend lists its migrations in
//! order; applied ones are recorded with a checksum, a changed migration is
//! refused, and a database newer than the binary is refused rather than
//! guessed at.

use sqlx::{AnyConnection, Row};

use crate::db_err;
use garrison_store::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// What `run` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<i64>,
    pub current: i64,
}

fn checksum(sql: &str) -> String {
    // FNV-1a is enough to notice an edited migration; it is not a security
    // boundary.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sql.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Applies every migration not yet applied, each in its own transaction.
///
/// # Errors
/// When a recorded migration differs from the one compiled in, when the
/// database holds a migration this binary does not know, or when a
/// migration fails (its transaction is rolled back).
pub async fn run(
    conn: &mut AnyConnection,
    migrations: &[Migration],
) -> StoreResult<MigrationReport> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;

    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut applied = Vec::new();
    for row in &rows {
        let version: i64 = row.try_get("version").map_err(db_err)?;
        let sum: String = row.try_get("checksum").map_err(db_err)?;
        match migrations.iter().find(|m| m.version == version) {
            None => {
                return Err(StoreError::Backend(format!(
                    "the database has migration {version}, which this version of garrison does not know; use a newer garrison"
                )));
            }
            Some(m) if checksum(m.sql) != sum => {
                return Err(StoreError::Backend(format!(
                    "migration {version} ({}) differs from the one applied to this database",
                    m.name
                )));
            }
            Some(_) => applied.push(version),
        }
    }

    let mut report = MigrationReport {
        applied: Vec::new(),
        current: applied.iter().copied().max().unwrap_or(0),
    };
    for m in migrations.iter().filter(|m| !applied.contains(&m.version)) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
        sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(|e| {
            StoreError::Backend(format!("migration {} ({}) failed: {e}", m.version, m.name))
        })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(m.sql))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        tracing::info!(
            migration.version = m.version,
            migration.name = m.name,
            "applied migration"
        );
        report.applied.push(m.version);
        report.current = m.version;
    }
    Ok(report)
}

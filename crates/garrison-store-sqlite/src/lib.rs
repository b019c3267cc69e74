//! The embedded default backend: one SQLite file in the data directory, in
//! WAL mode with foreign keys enforced, `synchronous = FULL` (a commit is on
//! disk before it is acknowledged) and a busy timeout for the occasional
//! second process, such as a CLI command beside a running server.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

use garrison_core::audit::ChainKey;
use garrison_store::{Backend, StoreError, StoreResult};
use garrison_store_sql::SqlStore;
use garrison_store_sql::migrate::{self, Migration, MigrationReport};
use sqlx::any::AnyPoolOptions;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "audit head seal",
        sql: include_str!("../migrations/0002_audit_head_seal.sql"),
    },
    Migration {
        version: 3,
        name: "inventory",
        sql: include_str!("../migrations/0003_inventory.sql"),
    },
    Migration {
        version: 4,
        name: "risk weights",
        sql: include_str!("../migrations/0004_risk_weights.sql"),
    },
    Migration {
        version: 5,
        name: "inventory version",
        sql: include_str!("../migrations/0005_inventory_version.sql"),
    },
    Migration {
        version: 6,
        name: "events",
        sql: include_str!("../migrations/0006_events.sql"),
    },
    Migration {
        version: 7,
        name: "ingest tokens",
        sql: include_str!("../migrations/0007_ingest_tokens.sql"),
    },
    Migration {
        version: 8,
        name: "indicators",
        sql: include_str!("../migrations/0008_indicators.sql"),
    },
    Migration {
        version: 9,
        name: "offenses",
        sql: include_str!("../migrations/0009_offenses.sql"),
    },
    Migration {
        version: 10,
        name: "detection rules",
        sql: include_str!("../migrations/0010_rules.sql"),
    },
    Migration {
        version: 11,
        name: "tickets",
        sql: include_str!("../migrations/0011_tickets.sql"),
    },
    Migration {
        version: 12,
        name: "ticket comments",
        sql: include_str!("../migrations/0012_ticket_comments.sql"),
    },
    Migration {
        version: 13,
        name: "ticket plans",
        sql: include_str!("../migrations/0013_ticket_plans.sql"),
    },
];

/// Opens (creating if needed) the database file at `path`. Call [`migrate`]
/// before use.
///
/// # Errors
/// When the file cannot be opened or created.
pub async fn open(path: &Path, chain_key: ChainKey) -> StoreResult<SqlStore> {
    sqlx::any::install_default_drivers();
    // The path goes into a URL: escape what a URL would read as syntax.
    let escaped = path
        .to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    let url = format!("sqlite://{escaped}?mode=rwc");
    let pool = connect(&url, path, AnyPoolOptions::new().max_connections(8)).await?;
    // Writes go through one connection of their own, kept open, so that its
    // page cache survives from one transaction to the next (see
    // `SqlStore::with_writer`).
    let writer = connect(
        &url,
        path,
        AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None),
    )
    .await?;
    Ok(SqlStore::new(pool, Backend::Sqlite, chain_key).with_writer(writer))
}

/// A pool on the database file with the connection settings every
/// connection gets.
async fn connect(url: &str, path: &Path, options: AnyPoolOptions) -> StoreResult<sqlx::AnyPool> {
    options
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // The busy timeout first: a new connection's
                // `journal_mode` statement needs a lock that a writer on
                // another connection may hold for a moment, and without
                // the timeout it fails at once with "database is locked".
                sqlx::raw_sql(
                    "PRAGMA busy_timeout = 10000;
                     PRAGMA page_size = 16384;
                     PRAGMA journal_mode = WAL;
                     PRAGMA wal_autocheckpoint = 4096;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA temp_store = MEMORY;
                     PRAGMA cache_size = -32768;
                     PRAGMA mmap_size = 268435456;",
                )
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot open SQLite database {}: {e}",
                path.display()
            ))
        })
}

/// Applies pending migrations.
///
/// # Errors
/// See [`migrate::run`].
pub async fn migrate(store: &SqlStore) -> StoreResult<MigrationReport> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    migrate::run(&mut conn, MIGRATIONS).await
}

//! The scale-out backend: PostgreSQL. Several Garrison processes may share
//! one database; migrations take an advisory lock so that only one of them
//! migrates at a time.
#![forbid(unsafe_code)]

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

/// An arbitrary constant naming Garrison's migration lock.
const MIGRATION_LOCK: i64 = 0x6761_7272_6973_6f6e;

/// Connects to the database at `url` (`postgres://...`). Call [`migrate`]
/// before use.
///
/// # Errors
/// When the database cannot be reached.
pub async fn connect(
    url: &str,
    chain_key: ChainKey,
    max_connections: u32,
) -> StoreResult<SqlStore> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
    Ok(SqlStore::new(pool, Backend::Postgres, chain_key))
}

/// Applies pending migrations under an advisory lock.
///
/// # Errors
/// See [`migrate::run`].
pub async fn migrate(store: &SqlStore) -> StoreResult<MigrationReport> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let result = migrate::run(&mut conn, MIGRATIONS).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    let report = result?;
    unlock.map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(report)
}

/// Creates an empty database with a unique name next to the one `admin_url`
/// points at, and returns its URL. Tests use it to give every test its own
/// database.
///
/// # Errors
/// When the server refuses the connection or the `CREATE DATABASE`.
pub async fn create_scratch_database(admin_url: &str) -> StoreResult<String> {
    use sqlx::ConnectOptions;
    use sqlx::postgres::PgConnectOptions;

    sqlx::any::install_default_drivers();
    let options: PgConnectOptions = admin_url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
    let name = format!("garrison_test_{}", uuid_like());
    let mut conn = options
        .connect()
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(options.database(&name).to_url_lossy().to_string())
}

fn uuid_like() -> String {
    garrison_core::UserId::new().as_uuid().simple().to_string()
}

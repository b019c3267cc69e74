//! One SQL implementation of the storage ports, run by both backends.
//!
//! Queries use `$1`-style placeholders and only the types both databases
//! share through sqlx's `Any` driver: integers (timestamps are epoch
//! milliseconds, flags are 0/1), text (ids are UUID strings) and blobs. The
//! backend crates own the connection settings and the migrations; this
//! crate owns the queries, so the two backends cannot drift apart.
#![forbid(unsafe_code)]

mod audit;
mod binds;
mod events;
mod indicators;
mod ingest_tokens;
mod inventory;
pub mod migrate;
mod offenses;
mod row;
mod rules;
mod sessions;
mod tenants;
mod tickets;
mod tokens;
mod users;
mod vulns;

use std::sync::Arc;

use async_trait::async_trait;
use garrison_core::audit::ChainKey;
use garrison_store::{Backend, Store, StoreError, StoreResult};
use sqlx::AnyConnection;
use sqlx::AnyPool;
use tokio::sync::{Mutex, MutexGuard};

pub use sqlx::AnyPool as Pool;

/// A store on an SQL database.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    chain_key: ChainKey,
    /// SQLite allows one writer at a time and answers "busy" to a second
    /// transaction that tries to upgrade from reading to writing; taking this
    /// lock before every write transaction queues writers in-process instead.
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite: a pool of one connection that every write transaction uses.
    /// A connection drops its whole page cache when another connection has
    /// committed since its last transaction; with writes spread over the
    /// pool, each event batch began by re-reading the B-tree pages it
    /// appends to. One writer keeps them cached.
    writer: Option<AnyPool>,
    /// Rows written to the inventory tables, for keeping PostgreSQL's
    /// planner statistics current during bulk imports.
    growth: Arc<inventory::Growth>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Wraps a migrated pool. `chain_key` seals the audit chain.
    #[must_use]
    pub fn new(pool: AnyPool, backend: Backend, chain_key: ChainKey) -> Self {
        let write_lock = matches!(backend, Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Self {
            pool,
            backend,
            chain_key,
            write_lock,
            writer: None,
            growth: Arc::default(),
        }
    }

    /// Routes every write transaction through `writer` (SQLite: a pool of
    /// one connection on the same file).
    #[must_use]
    pub fn with_writer(mut self, writer: AnyPool) -> Self {
        self.writer = Some(writer);
        self
    }

    #[must_use]
    pub const fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction, queued behind other writers on SQLite.
    async fn begin_write(&self) -> StoreResult<WriteTx<'_>> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let tx = self
            .writer
            .as_ref()
            .unwrap_or(&self.pool)
            .begin()
            .await
            .map_err(db_err)?;
        Ok(WriteTx { tx, _guard: guard })
    }
}

/// The few SQL fragments that differ between the backends: reading a field
/// out of an event's JSON text, and case-insensitive matching.
impl SqlStore {
    /// The bound value that names field `name` for [`SqlStore::field_text`]:
    /// a JSON path on SQLite, the key itself on PostgreSQL. `name` has been
    /// checked with `garrison_store::events::valid_field_name`, so it holds
    /// no quote.
    fn field_arg(&self, name: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("$.\"{name}\""),
            Backend::Postgres => name.to_owned(),
        }
    }

    /// The value of the field named by the bound value `arg` (from
    /// [`SqlStore::field_arg`]) in the `fields` column, as text: strings
    /// decoded, numbers as written, booleans `true`/`false`, lists as their
    /// JSON text, NULL when absent. PostgreSQL parses the text as `json`
    /// (not `jsonb`), which keeps it as written and accepts any escape.
    fn field_text(&self, arg: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!(
                "(CASE json_type(fields, {arg}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                 ELSE CAST(json_extract(fields, {arg}) AS TEXT) END)"
            ),
            Backend::Postgres => format!("(fields::json ->> {arg})"),
        }
    }

    /// `column` contains the LIKE pattern bound at `pattern`, ignoring ASCII
    /// case (SQLite's LIKE already does; PostgreSQL's needs ILIKE).
    fn like_nocase(&self, column: &str, pattern: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("{column} LIKE {pattern} ESCAPE '\\'"),
            Backend::Postgres => format!("{column} ILIKE {pattern} ESCAPE '\\'"),
        }
    }
}

struct WriteTx<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _guard: Option<MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// Maps a database error to the store's error, naming the field of a
/// uniqueness conflict.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            let text = format!("{} {}", d.constraint().unwrap_or_default(), d.message());
            let field = ["slug", "email", "token_hash", "name"]
                .into_iter()
                .find(|f| text.contains(f))
                .unwrap_or("value");
            StoreError::Conflict(field)
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// `$n, $n+1, ...` for an `IN (...)` list of `count` values.
fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `VALUES` list of a multi-row insert: `rows` groups of `columns`
/// numbered placeholders, `($1, $2), ($3, $4)`.
pub(crate) fn values_list(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(r * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Marks a query built at run time as safe. Only this crate's column lists
/// and generated `$n` placeholders are ever interpolated into SQL; every
/// value goes through a bind parameter.
fn safe(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

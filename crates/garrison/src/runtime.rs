//! Wiring: the store the configuration names, the master secret, the app.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use garrison_app::events::pipeline::PipelineSettings;
use garrison_app::{App, AppSettings, Keys};
use garrison_core::{Secret, SystemClock};
use garrison_store::Store;
use garrison_store_sql::migrate::MigrationReport;

use crate::config::{Config, Database, SecretSource};

/// Creates the data directory, readable by its owner only.
pub fn ensure_data_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        restrict(dir, 0o700)?;
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions on {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Writes a file that only its owner may read, creating it exclusively.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// The master secret: given, or read from its file, which is created with
/// 32 random bytes the first time.
pub fn master_secret(source: &SecretSource) -> Result<Secret<String>> {
    match source {
        SecretSource::Value(v) => Ok(v.clone()),
        SecretSource::File(path) => {
            if !path.exists() {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes)
                    .map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
                write_private(path, hex::encode(bytes).as_bytes())?;
                tracing::info!(path = %path.display(), "generated a new master secret");
            }
            let s = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the secret key file {}", path.display()))?;
            let s = s.trim().to_owned();
            if s.len() < 32 {
                bail!(
                    "the secret key file {} holds fewer than 32 characters",
                    path.display()
                );
            }
            Ok(Secret::new(s))
        }
    }
}

/// An opened, migrated store and the keys.
pub struct Opened {
    pub store: Arc<dyn Store>,
    pub keys: Keys,
    pub migrations: MigrationReport,
}

/// Opens the configured store and applies pending migrations.
pub async fn open(config: &Config) -> Result<Opened> {
    ensure_data_dir(&config.data_dir)?;
    let secret = master_secret(&config.secret)?;
    let keys = Keys::from_master(secret.expose().as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let chain = keys.chain().clone();
    let (store, migrations): (Arc<dyn Store>, MigrationReport) = match &config.database {
        Database::Sqlite(path) => {
            // SQLite creates files with the process umask; the database holds
            // password hashes, so it is made private before SQLite opens it.
            if !path.exists() {
                write_private(path, b"")?;
            }
            let store = garrison_store_sqlite::open(path, chain).await?;
            let report = garrison_store_sqlite::migrate(&store)
                .await
                .context("migrating the SQLite database")?;
            (Arc::new(store), report)
        }
        Database::Postgres {
            url,
            max_connections,
        } => {
            let store =
                garrison_store_postgres::connect(url.expose(), chain, *max_connections).await?;
            let report = garrison_store_postgres::migrate(&store)
                .await
                .context("migrating the PostgreSQL database")?;
            (Arc::new(store), report)
        }
    };
    Ok(Opened {
        store,
        keys,
        migrations,
    })
}

/// The application on an opened store.
pub fn app(config: &Config, opened: &Opened) -> Arc<App> {
    let settings = AppSettings {
        session_idle: config.session_idle,
        session_absolute: config.session_absolute,
        ..AppSettings::default()
    };
    let app = Arc::new(App::new(
        opened.store.clone(),
        Arc::new(SystemClock),
        opened.keys.clone(),
        settings,
    ));
    // The ingest pipeline's bus and workers (on the current runtime): the
    // listeners and `garrison ingest` publish on it.
    app.start_pipeline(PipelineSettings::default());
    app
}

//! Garrison's use cases. The web layer and the CLI call these; they call the
//! storage ports. Nothing here knows HTTP or which database is behind the
//! store.
#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod crypto;
pub(crate) mod error;
pub mod events;
pub mod intel;
pub mod inventory;
pub mod offenses;
pub mod outbound;
pub mod password;
pub mod rules;
pub mod throttle;
pub mod tickets;

use std::sync::Arc;
use std::time::Duration;

use garrison_core::Clock;
use garrison_store::Store;

pub use crate::crypto::Keys;
pub use crate::error::{AppError, AppResult};
pub use crate::throttle::ThrottleSettings;

/// Tunables of the application layer.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, however active.
    pub session_absolute: Duration,
    /// How long a half-finished login (waiting for MFA, a new password or
    /// enrolment) stays valid.
    pub login_step_ttl: Duration,
    /// How long a device stays trusted after a successful login.
    pub device_cookie_ttl: Duration,
    pub throttle: ThrottleSettings,
    /// Shown in authenticator apps next to the account.
    pub issuer: String,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            login_step_ttl: Duration::from_secs(10 * 60),
            device_cookie_ttl: Duration::from_secs(365 * 86_400),
            throttle: ThrottleSettings::default(),
            issuer: "Garrison".to_owned(),
        }
    }
}

/// The application: the store, the clock, the keys and the settings.
#[derive(Debug)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Keys,
    settings: AppSettings,
    throttle: throttle::LoginThrottle,
    /// Per-tenant asset indexes, rebuilt when the inventory version moves.
    asset_indexes: Arc<inventory::index::AssetIndexes>,
    /// Detection rules and the indicator index, shared with the pipeline.
    detection: Arc<events::detection::Detection>,
    /// The ingest pipeline, started by `start_pipeline` (the binary) or on
    /// first use.
    pipeline: std::sync::OnceLock<Arc<events::pipeline::Pipeline>>,
    /// The listeners this process serves, for `/metrics` and the
    /// ingestion page.
    ingest_sources: events::observe::Registry,
}

impl App {
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keys: Keys,
        settings: AppSettings,
    ) -> Self {
        let throttle = throttle::LoginThrottle::new(settings.throttle.clone());
        let asset_indexes = Arc::new(inventory::index::AssetIndexes::new(store.clone()));
        let detection = Arc::new(events::detection::Detection::new(store.clone()));
        Self {
            store,
            clock,
            keys,
            settings,
            throttle,
            asset_indexes,
            detection,
            pipeline: std::sync::OnceLock::new(),
            ingest_sources: events::observe::Registry::default(),
        }
    }

    #[must_use]
    pub const fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// The name of the database behind the store, for health output.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        self.store.backend().as_str()
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn health(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }

    /// Deletes expired sessions; run periodically.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn purge_expired_sessions(&self) -> AppResult<u64> {
        Ok(self.store.delete_expired_sessions(self.clock.now()).await?)
    }
}

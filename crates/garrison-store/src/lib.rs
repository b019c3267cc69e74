//! Storage ports. One small trait per aggregate, each method taking the
//! [`TenantScope`] or [`TenantAccess`] that proves the caller may touch the
//! data; backends implement them and must pass [`conformance`].
//!
//! Every method that changes something a person would want to know about
//! takes the [`AuditEntry`] describing it, and the backend writes both in one
//! transaction: a change without its audit record cannot happen.
#![forbid(unsafe_code)]

pub mod conformance;
pub mod events;
pub mod indicators;
pub mod inventory;
pub mod offenses;
pub mod rules;
pub mod tickets;
pub mod vulns;

pub use events::{
    DEFAULT_EVENT_RETENTION_DAYS, EventCursor, EventFilter, EventQuery, EventStore, MAX_EVENT_PAGE,
};
pub use indicators::{
    IndicatorCounts, IndicatorQuery, IndicatorStore, IndicatorTarget, IndicatorWrite,
    MAX_INDICATOR_PAGE, SightingCount,
};
pub use inventory::{
    AssetEvent, AssetKeys, AssetQuery, AssetRisk, AssetRow, AssetSort, AssetStore, AssetWrite,
    FindingQuery, FindingStatusChange, ImportProgress, InventoryBatch, Page,
};
pub use offenses::{MAX_OFFENSE_PAGE, OffenseQuery, OffenseStore, RecordedAlerts};
pub use rules::{RuleFile, RuleFileCounts, RuleStore, TenantRule};
pub use tickets::{MAX_TICKET_PAGE, TicketQuery, TicketStore};
pub use vulns::{
    EpssFact, EpssStatus, KevFact, KevStatus, NvdVuln, UpsertCounts, VulnCounts, VulnDetail,
    VulnMatch, VulnRecord, VulnStore,
};

use async_trait::async_trait;
use garrison_core::audit::{AuditEntry, AuditRecord, ChainHead};
use garrison_core::model::{
    ApiToken, IngestToken, NewTenant, NewUser, Session, SessionStage, Tenant, TenantChange, User,
    UserChange, UserCredentials,
};
use garrison_core::{
    ErrorCode, IngestTokenId, Secret, SessionId, TenantAccess, TenantId, TenantScope, Timestamp,
    TokenId, UserId,
};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist, or is outside the caller's scope.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names the field.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// Stored data could not be read back; names the column.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Corrupt(_) | Self::Backend(_) => ErrorCode::Internal,
        }
    }
}

/// Which database is behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn create_tenant(&self, tenant: &NewTenant, audit: &AuditEntry) -> StoreResult<Tenant>;
    /// Tenants in `access`, by slug.
    async fn list_tenants(&self, access: &TenantAccess) -> StoreResult<Vec<Tenant>>;
    async fn find_tenant(&self, scope: &TenantScope) -> StoreResult<Tenant>;
    async fn find_tenant_by_slug(&self, access: &TenantAccess, slug: &str) -> StoreResult<Tenant>;
    async fn update_tenant(
        &self,
        scope: &TenantScope,
        change: &TenantChange,
        audit: &AuditEntry,
    ) -> StoreResult<Tenant>;
}

/// Which users to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserFilter {
    /// Every user in the caller's access: customer users of visible tenants,
    /// plus MSSP staff when the access covers all tenants.
    #[default]
    All,
    /// Customer users of one tenant.
    Tenant(TenantId),
    /// MSSP staff only (visible only with access to all tenants).
    Staff,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(&self, user: &NewUser, audit: &AuditEntry) -> StoreResult<User>;
    /// A user the caller may see: a customer user of a tenant in `access`,
    /// or MSSP staff when `access` covers every tenant.
    async fn find_user(&self, access: &TenantAccess, id: UserId) -> StoreResult<User>;
    async fn list_users(&self, access: &TenantAccess, filter: UserFilter)
    -> StoreResult<Vec<User>>;
    /// Disabling a user also ends their sessions and revokes their tokens.
    async fn update_user(
        &self,
        access: &TenantAccess,
        id: UserId,
        change: &UserChange,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<User>;

    // The methods below serve the authentication service, which acts for the
    // user being authenticated; they take the user's own id or e-mail.

    async fn find_credentials_by_email(&self, email: &str) -> StoreResult<Option<UserCredentials>>;
    async fn find_credentials(&self, id: UserId) -> StoreResult<UserCredentials>;
    /// Sets a new password hash and ends every session of the user; with
    /// `revoke_tokens`, also revokes their API tokens (an administrator's
    /// reset after a suspected compromise).
    async fn set_password(
        &self,
        id: UserId,
        hash: &Secret<String>,
        must_change: bool,
        revoke_tokens: bool,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Enrols MFA (`Some` sealed secret, with recovery code hashes) or
    /// removes it (`None`, which also deletes the recovery codes).
    async fn set_mfa(
        &self,
        id: UserId,
        totp_sealed: Option<&str>,
        recovery_code_hashes: &[String],
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Records that TOTP time step `step` was used. Returns false, changing
    /// nothing, when that step or a later one was already used (a replay).
    async fn use_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool>;
    /// Marks a recovery code used. False when no unused code has that hash.
    async fn use_recovery_code(
        &self,
        id: UserId,
        code_hash: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    async fn replace_recovery_codes(
        &self,
        id: UserId,
        code_hashes: &[String],
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn count_unused_recovery_codes(&self, id: UserId) -> StoreResult<u32>;
    async fn record_login(&self, id: UserId, at: Timestamp, audit: &AuditEntry) -> StoreResult<()>;

    /// Tenants an MSSP analyst or engineer is assigned to.
    async fn list_assignments(&self, user: UserId) -> StoreResult<Vec<TenantId>>;
    /// MSSP staff assigned to one tenant.
    async fn list_assigned_staff(&self, scope: &TenantScope) -> StoreResult<Vec<User>>;
    async fn assign_staff(
        &self,
        user: UserId,
        scope: &TenantScope,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn unassign_staff(
        &self,
        user: UserId,
        scope: &TenantScope,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}

/// Changes to a session after login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionChange {
    pub stage: Option<SessionStage>,
    /// `Some(None)` clears the active tenant.
    pub active_tenant: Option<Option<TenantId>>,
    pub pending_totp_sealed: Option<Option<String>>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    /// Replaces session `old` by `new` in one step (rotation at login and on
    /// privilege change). `NotFound` when `old` has ended meanwhile (logout,
    /// password change): an ended session is never brought back.
    async fn rotate_session(&self, old: SessionId, new: &Session) -> StoreResult<()>;
    async fn update_session(&self, id: SessionId, change: &SessionChange) -> StoreResult<()>;
    async fn touch_session(&self, id: SessionId, at: Timestamp) -> StoreResult<()>;
    async fn delete_session(&self, id: SessionId) -> StoreResult<()>;
    /// Ends every session of a user but `keep`; returns how many ended.
    async fn delete_user_sessions(&self, user: UserId, keep: Option<SessionId>)
    -> StoreResult<u64>;
    /// Deletes sessions whose absolute expiry is before `now`.
    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: &ApiToken, audit: &AuditEntry) -> StoreResult<()>;
    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// Tokens of one user, newest first.
    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// Revokes a token of `user`; `NotFound` when it is not theirs.
    async fn revoke_token(
        &self,
        user: UserId,
        id: TokenId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn touch_token(&self, id: TokenId, at: Timestamp) -> StoreResult<()>;
    /// Revokes every token of a user; returns how many were live.
    async fn revoke_user_tokens(
        &self,
        user: UserId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<u64>;
}

/// Tenants' HTTP ingest tokens.
#[async_trait]
pub trait IngestTokenStore: Send + Sync {
    /// Creates a token for `token.tenant_id` (which must exist).
    async fn create_ingest_token(&self, token: &IngestToken, audit: &AuditEntry)
    -> StoreResult<()>;
    /// The token with this hash, whatever its tenant: the one unscoped
    /// read, used to authenticate a sender (the token names its tenant).
    async fn find_ingest_token_by_hash(&self, token_hash: &str)
    -> StoreResult<Option<IngestToken>>;
    /// Tokens of the tenants in `access` (revoked ones too), by tenant and
    /// newest first.
    async fn list_ingest_tokens(&self, access: &TenantAccess) -> StoreResult<Vec<IngestToken>>;
    /// Revokes a token of the scope's tenant; `NotFound` when it is not
    /// one. Revoking twice keeps the first time.
    async fn revoke_ingest_token(
        &self,
        scope: &TenantScope,
        id: IngestTokenId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn touch_ingest_token(&self, id: IngestTokenId, at: Timestamp) -> StoreResult<()>;
}

/// Which audit records to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only records with a sequence number below this (for paging).
    pub before_seq: Option<i64>,
    pub limit: u32,
    /// Narrow to one tenant (must be within the access).
    pub tenant: Option<TenantId>,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            before_seq: None,
            limit: 100,
            tenant: None,
        }
    }
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one record on its own (for events that change nothing else,
    /// such as a failed login).
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<AuditRecord>;
    /// Records of tenants in `access`; records that belong to no tenant are
    /// visible only with access to every tenant.
    async fn list_audit(
        &self,
        access: &TenantAccess,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Records after `after_seq` in chain order, for verification (an
    /// operator path: the chain is verified as a whole).
    async fn audit_chain_page(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>>;
    /// The chain head (last sequence number, hash and seal); `None` while
    /// the chain is empty.
    async fn audit_head(&self) -> StoreResult<Option<ChainHead>>;
}

/// Everything Garrison stores.
#[async_trait]
pub trait Store:
    TenantStore
    + UserStore
    + SessionStore
    + TokenStore
    + AuditStore
    + AssetStore
    + VulnStore
    + EventStore
    + IngestTokenStore
    + OffenseStore
    + RuleStore
    + IndicatorStore
    + TicketStore
    + std::fmt::Debug
{
    fn backend(&self) -> Backend;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

//! The records of the foundation aggregates: tenants, users, staff
//! assignments, sessions and API tokens.

use serde::Serialize;

use crate::ids::{IngestTokenId, SessionId, TenantId, TokenId, UserId};
use crate::role::Role;
use crate::time::Timestamp;

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    /// When set, every user of the tenant must use MFA, not only admins.
    pub mfa_required_for_all: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantChange {
    pub name: Option<String>,
    pub mfa_required_for_all: Option<bool>,
}

/// A person who logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    /// `None` for MSSP staff.
    pub tenant_id: Option<TenantId>,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub is_disabled: bool,
    /// A one-time password was set by an administrator; the user must choose
    /// their own at next login.
    pub must_change_password: bool,
    pub mfa_enrolled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl User {
    #[must_use]
    pub const fn has_mfa(&self) -> bool {
        self.mfa_enrolled_at.is_some()
    }
}

/// What the authentication service needs beyond the public record. Never
/// serialised.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: crate::Secret<String>,
    /// The TOTP secret, encrypted with the server key.
    pub totp_secret_sealed: Option<crate::Secret<String>>,
    /// The last TOTP time step accepted, so a code is never accepted twice.
    pub totp_last_step: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub tenant_id: Option<TenantId>,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: crate::Secret<String>,
    pub must_change_password: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub is_disabled: Option<bool>,
}

/// Which stage of login a session has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// Password accepted; a TOTP or recovery code is still due.
    MfaPending,
    /// Password accepted; MFA is required but the user has not enrolled, so
    /// only the enrolment pages are open.
    MfaEnrolment,
    /// Password accepted; the user must replace a one-time password.
    PasswordChange,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MfaPending => "mfa_pending",
            Self::MfaEnrolment => "mfa_enrolment",
            Self::PasswordChange => "password_change",
            Self::Full => "full",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::MfaPending,
            Self::MfaEnrolment,
            Self::PasswordChange,
            Self::Full,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A portal session. The cookie holds a random secret whose SHA-256 is
/// `token_hash`; the database never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: String,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// Absolute end of the session, whatever the activity.
    pub expires_at: Timestamp,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The tenant an MSSP user has switched to in the portal.
    pub active_tenant: Option<TenantId>,
    /// A TOTP secret offered during enrolment, sealed, until confirmed.
    pub pending_totp_sealed: Option<String>,
}

/// An API bearer token (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    #[must_use]
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A token a sensor or forwarder sends events with over HTTP. It is bound
/// to one tenant: whatever arrives with it is that tenant's, whoever sent
/// it. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestToken {
    pub id: IngestTokenId,
    pub tenant_id: TenantId,
    /// Names the source: events carry `http:NAME` as their source id.
    pub name: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    #[serde(skip)]
    pub token_hash: String,
    /// The format its lines are read as (`auto` detects per line).
    pub format: String,
    /// Networks (CIDR) senders must come from; empty: anywhere.
    pub allow: Vec<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

//! Who is asking, and which tenants they may touch.
//!
//! A [`TenantScope`] proves that the caller may act on one tenant; a
//! [`TenantAccess`] says which tenants a list may include. Neither can be
//! built outside this module except through an authenticated [`Principal`]
//! (or the explicit [`Principal::system`] used by operator commands), so a
//! store method that requires one cannot be called with an unchecked id.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::ids::{SessionId, TenantId, TokenId, UserId};
use crate::role::{Permission, Role};

/// The set of tenants a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAccess(Access);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    All,
    Only(BTreeSet<TenantId>),
}

impl TenantAccess {
    #[must_use]
    pub fn allows(&self, tenant: TenantId) -> bool {
        match &self.0 {
            Access::All => true,
            Access::Only(set) => set.contains(&tenant),
        }
    }

    /// True for MSSP admins and operator commands: no tenant filter applies.
    #[must_use]
    pub fn is_all(&self) -> bool {
        matches!(self.0, Access::All)
    }

    /// The explicit list of tenants, or `None` when every tenant is visible.
    #[must_use]
    pub fn tenants(&self) -> Option<&BTreeSet<TenantId>> {
        match &self.0 {
            Access::All => None,
            Access::Only(set) => Some(set),
        }
    }

    /// Narrows this access to one tenant (the portal's tenant switcher).
    /// `None` when the tenant is not visible in the first place.
    #[must_use]
    pub fn narrowed_to(&self, tenant: TenantId) -> Option<Self> {
        self.allows(tenant)
            .then(|| Self(Access::Only(BTreeSet::from([tenant]))))
    }
}

/// Proof that the caller may act on one tenant's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantScope {
    tenant: TenantId,
}

impl TenantScope {
    #[must_use]
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// The access set holding just this tenant.
    #[must_use]
    pub fn as_access(&self) -> TenantAccess {
        TenantAccess(Access::Only(BTreeSet::from([self.tenant])))
    }
}

/// How the principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AuthMethod {
    Session(SessionId),
    Token(TokenId),
    /// An operator command run with direct access to the data directory.
    System,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    user_id: Option<UserId>,
    label: String,
    role: Role,
    home_tenant: Option<TenantId>,
    assigned: BTreeSet<TenantId>,
    method: AuthMethod,
    /// The network address the request came from, for the audit log.
    source: Option<String>,
}

/// A user record cannot be turned into a principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    #[error("a customer role needs a tenant")]
    CustomerWithoutTenant,
    #[error("MSSP staff do not belong to a tenant")]
    StaffWithTenant,
}

impl Principal {
    /// Builds the principal of a user who has just authenticated. The caller
    /// (the authentication service) vouches that `method` was verified.
    ///
    /// # Errors
    /// When the role and tenant do not fit together.
    pub fn authenticated(
        user_id: UserId,
        label: impl Into<String>,
        role: Role,
        home_tenant: Option<TenantId>,
        assigned: impl IntoIterator<Item = TenantId>,
        method: AuthMethod,
    ) -> Result<Self, PrincipalError> {
        match (role.is_mssp(), home_tenant) {
            (true, Some(_)) => return Err(PrincipalError::StaffWithTenant),
            (false, None) => return Err(PrincipalError::CustomerWithoutTenant),
            _ => {}
        }
        Ok(Self {
            user_id: Some(user_id),
            label: label.into(),
            role,
            home_tenant,
            // Assignments only mean something for analysts and engineers.
            assigned: if role.is_mssp() {
                assigned.into_iter().collect()
            } else {
                BTreeSet::new()
            },
            method,
            source: None,
        })
    }

    /// The operator at the command line, who holds the data directory and
    /// therefore every right. This is the one unscoped path; it is only used
    /// by the `garrison` binary's administrative commands and by tests.
    #[must_use]
    pub fn system(label: impl Into<String>) -> Self {
        Self {
            user_id: None,
            label: label.into(),
            role: Role::MsspAdmin,
            home_tenant: None,
            assigned: BTreeSet::new(),
            method: AuthMethod::System,
            source: None,
        }
    }

    /// Records the network address the request came from.
    #[must_use]
    pub fn with_source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    #[must_use]
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    #[must_use]
    pub const fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    /// E-mail address of the user, or the operator label.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    #[must_use]
    pub const fn home_tenant(&self) -> Option<TenantId> {
        self.home_tenant
    }

    #[must_use]
    pub const fn method(&self) -> AuthMethod {
        self.method
    }

    #[must_use]
    pub const fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }

    /// The tenants this principal may see.
    #[must_use]
    pub fn access(&self) -> TenantAccess {
        match (self.role, self.home_tenant) {
            (Role::MsspAdmin, _) => TenantAccess(Access::All),
            (_, Some(home)) => TenantAccess(Access::Only(BTreeSet::from([home]))),
            (_, None) => TenantAccess(Access::Only(self.assigned.clone())),
        }
    }

    /// A scope for one tenant, or `None` when the principal may not see it.
    /// Callers turn `None` into "not found", never "forbidden".
    #[must_use]
    pub fn scope(&self, tenant: TenantId) -> Option<TenantScope> {
        self.access()
            .allows(tenant)
            .then_some(TenantScope { tenant })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, home: Option<TenantId>, assigned: &[TenantId]) -> Principal {
        Principal::authenticated(
            UserId::new(),
            "someone@example.test",
            role,
            home,
            assigned.iter().copied(),
            AuthMethod::System,
        )
        .expect("valid principal")
    }

    #[test]
    fn access_follows_the_role() {
        let (a, b, c) = (TenantId::new(), TenantId::new(), TenantId::new());
        let admin = user(Role::MsspAdmin, None, &[]);
        assert!(admin.scope(a).is_some() && admin.access().is_all());

        let analyst = user(Role::MsspAnalyst, None, &[a, b]);
        assert!(analyst.scope(a).is_some());
        assert!(analyst.scope(b).is_some());
        assert!(analyst.scope(c).is_none());

        let customer = user(Role::CustomerAdmin, Some(c), &[a]);
        assert!(customer.scope(c).is_some());
        assert!(
            customer.scope(a).is_none(),
            "assignments ignored for customers"
        );
    }

    #[test]
    fn role_and_tenant_must_agree() {
        let t = TenantId::new();
        let err = Principal::authenticated(
            UserId::new(),
            "x",
            Role::CustomerViewer,
            None,
            [],
            AuthMethod::System,
        );
        assert_eq!(err.err(), Some(PrincipalError::CustomerWithoutTenant));
        let err = Principal::authenticated(
            UserId::new(),
            "x",
            Role::MsspAnalyst,
            Some(t),
            [],
            AuthMethod::System,
        );
        assert_eq!(err.err(), Some(PrincipalError::StaffWithTenant));
    }

    #[test]
    fn narrowing_never_widens() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let analyst = user(Role::MsspAnalyst, None, &[a]);
        assert!(analyst.access().narrowed_to(b).is_none());
        let narrowed = analyst.access().narrowed_to(a).expect("visible");
        assert!(narrowed.allows(a) && !narrowed.allows(b));
    }
}

//! Roles and the permissions they grant. The matrix lives here, in one
//! place, so the web and app layers ask `role.can(Permission::X)` and never
//! compare role names themselves.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs the MSSP: sees and administers every tenant.
    MsspAdmin,
    /// Triages for the tenants assigned to them.
    MsspAnalyst,
    /// Operates sensors and integrations for the tenants assigned to them.
    MsspEngineer,
    /// Administers their own organisation.
    CustomerAdmin,
    /// Works tickets and incidents of their own organisation.
    CustomerResponder,
    /// Reads their own organisation's data.
    CustomerViewer,
}

impl Role {
    pub const ALL: [Self; 6] = [
        Self::MsspAdmin,
        Self::MsspAnalyst,
        Self::MsspEngineer,
        Self::CustomerAdmin,
        Self::CustomerResponder,
        Self::CustomerViewer,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MsspAdmin => "mssp-admin",
            Self::MsspAnalyst => "mssp-analyst",
            Self::MsspEngineer => "mssp-engineer",
            Self::CustomerAdmin => "customer-admin",
            Self::CustomerResponder => "customer-responder",
            Self::CustomerViewer => "customer-viewer",
        }
    }

    /// MSSP staff work across tenants and belong to none.
    #[must_use]
    pub const fn is_mssp(self) -> bool {
        matches!(
            self,
            Self::MsspAdmin | Self::MsspAnalyst | Self::MsspEngineer
        )
    }

    /// Whether this role must always use MFA. The other customer roles follow
    /// their tenant's policy.
    #[must_use]
    pub const fn always_requires_mfa(self) -> bool {
        self.is_mssp() || matches!(self, Self::CustomerAdmin)
    }

    #[must_use]
    pub const fn can(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            P::TenantRead | P::OwnAccountManage => true,
            P::TenantCreate | P::StaffAssignmentManage | P::AuditVerify => {
                matches!(self, Self::MsspAdmin)
            }
            P::TenantSettingsManage | P::UserManage | P::AuditRead => {
                matches!(self, Self::MsspAdmin | Self::CustomerAdmin)
            }
            P::UserRead => matches!(
                self,
                Self::MsspAdmin | Self::MsspAnalyst | Self::MsspEngineer | Self::CustomerAdmin
            ),
            // Whoever sees a tenant's inventory sees its events.
            P::InventoryRead | P::EventRead | P::OffenseRead => true,
            P::InventoryManage => !matches!(self, Self::CustomerViewer),
            P::FindingTriage => matches!(
                self,
                Self::MsspAdmin | Self::MsspAnalyst | Self::CustomerAdmin | Self::CustomerResponder
            ),
            P::VulnDataManage | P::EventIngest => {
                matches!(self, Self::MsspAdmin | Self::MsspEngineer)
            }
            // The MSSP watches its sources; customers do not see the
            // platform's listeners, queues and capacity.
            P::IngestStatusRead => self.is_mssp(),
            // Triage is the MSSP's analysts' work; customers read their
            // offenses and the comments shared with them.
            P::OffenseTriage => matches!(self, Self::MsspAdmin | Self::MsspAnalyst),
            // Detection content is the MSSP's engineering.
            P::RuleManage => matches!(
                self,
                Self::MsspAdmin | Self::MsspEngineer | Self::MsspAnalyst
            ),
            // Indicators of a tenant (and the MSSP-wide ones that match
            // its events) are read like its inventory.
            P::IndicatorRead => true,
            P::IndicatorManage => !matches!(self, Self::CustomerViewer),
            // MSSP-wide intelligence matches every tenant's events: the
            // MSSP's own staff only.
            P::SharedIndicatorManage => self.is_mssp(),
        }
    }

    /// Roles this role may give to users it creates or edits: an MSSP admin
    /// any role, a customer admin only customer roles (in their own tenant).
    #[must_use]
    pub const fn can_grant(self, other: Self) -> bool {
        match self {
            Self::MsspAdmin => true,
            Self::CustomerAdmin => !other.is_mssp(),
            _ => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown role `{0}`; expected one of mssp-admin, mssp-analyst, mssp-engineer, customer-admin, customer-responder, customer-viewer"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Named permissions. Handlers check one of these; never a role name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See tenants one has access to.
    TenantRead,
    /// Create customer organisations.
    TenantCreate,
    /// Change a tenant's settings (name, MFA policy).
    TenantSettingsManage,
    /// See users of tenants one has access to.
    UserRead,
    /// Create, change, disable users and reset their MFA.
    UserManage,
    /// Assign MSSP analysts and engineers to tenants.
    StaffAssignmentManage,
    /// Read audit records of tenants one has access to.
    AuditRead,
    /// Verify the whole audit chain.
    AuditVerify,
    /// Change one's own password, MFA and API tokens.
    OwnAccountManage,
    /// See assets, findings and imports.
    InventoryRead,
    /// Create, edit and delete assets and ranges; import asset lists and
    /// scans.
    InventoryManage,
    /// Change a finding's status (accepted risk, false positive, ...).
    FindingTriage,
    /// Import the vulnerability data all tenants share (NVD, KEV, EPSS).
    VulnDataManage,
    /// Search and read a tenant's security events.
    EventRead,
    /// Feed events into a tenant (log files, sensors' ingest).
    EventIngest,
    /// See how a tenant's event sources are doing: counters per source,
    /// queue depth, lag, the listeners bound to it and the recent lines
    /// that failed to parse (read-only; an analyst must tell a quiet
    /// tenant from a blind one without the right to feed events).
    IngestStatusRead,
    /// See a tenant's offenses (customers their own; shared comments only
    /// once triage lands).
    OffenseRead,
    /// Work the offense queue: assign, comment, close (false positive with
    /// a suppression, benign, true positive), reopen, ask for escalation.
    OffenseTriage,
    /// Load detection rules (MSSP-wide) and set which fire for a tenant.
    RuleManage,
    /// See a tenant's indicators, the MSSP-wide ones and their sightings.
    IndicatorRead,
    /// Import and revoke a tenant's own indicators.
    IndicatorManage,
    /// Import and revoke MSSP-wide indicators (they match every tenant).
    SharedIndicatorManage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().expect("parses"), role);
        }
        let err = "root".parse::<Role>().expect_err("unknown");
        assert!(err.to_string().contains("customer-viewer"));
    }

    #[test]
    fn customer_admin_cannot_grant_mssp_roles() {
        assert!(!Role::CustomerAdmin.can_grant(Role::MsspAdmin));
        assert!(!Role::CustomerAdmin.can_grant(Role::MsspAnalyst));
        assert!(Role::CustomerAdmin.can_grant(Role::CustomerViewer));
        assert!(!Role::MsspAnalyst.can_grant(Role::CustomerViewer));
        assert!(Role::MsspAdmin.can_grant(Role::MsspAdmin));
    }

    #[test]
    fn events_are_read_by_inventory_readers_and_ingested_by_mssp_operators() {
        for role in Role::ALL {
            assert_eq!(
                role.can(Permission::EventRead),
                role.can(Permission::InventoryRead),
                "{role}"
            );
            assert_eq!(
                role.can(Permission::EventIngest),
                matches!(role, Role::MsspAdmin | Role::MsspEngineer),
                "{role}"
            );
        }
    }

    #[test]
    fn ingestion_status_is_for_mssp_staff_only() {
        for role in Role::ALL {
            assert_eq!(
                role.can(Permission::IngestStatusRead),
                role.is_mssp(),
                "{role}"
            );
        }
    }

    #[test]
    fn only_mssp_staff_manage_shared_intelligence() {
        for role in Role::ALL {
            assert_eq!(
                role.can(Permission::SharedIndicatorManage),
                role.is_mssp(),
                "{role}"
            );
            assert!(role.can(Permission::IndicatorRead), "{role}");
        }
        assert!(!Role::CustomerViewer.can(Permission::IndicatorManage));
        assert!(Role::CustomerAdmin.can(Permission::IndicatorManage));
    }

    #[test]
    fn mfa_is_mandatory_for_staff_and_customer_admins() {
        assert!(Role::MsspAnalyst.always_requires_mfa());
        assert!(Role::CustomerAdmin.always_requires_mfa());
        assert!(!Role::CustomerViewer.always_requires_mfa());
    }
}

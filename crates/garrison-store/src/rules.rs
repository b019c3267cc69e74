//! Detection rule files (MSSP-wide) and each tenant's settings for them.

use async_trait::async_trait;
use garrison_core::audit::AuditEntry;
use garrison_core::offense::Weights;
use garrison_core::{TenantAccess, TenantId, TenantScope, Timestamp};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// One file of rules as loaded (a Sigma file may hold several documents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFile {
    /// Where it came from: the path under the imported folder, or a name
    /// given in the portal. Unique: loading the same origin replaces it.
    pub origin: String,
    /// `sigma` or `correlation` (threshold and sequence rules).
    pub kind: String,
    pub body: String,
    pub updated_at: Timestamp,
}

/// A tenant's setting for one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRule {
    pub tenant_id: TenantId,
    pub rule_id: String,
    pub enabled: bool,
    /// Conditions under which the rule does not fire for the tenant: each
    /// a map of field names to the value they equal (all must hold).
    pub exceptions: Vec<std::collections::BTreeMap<String, String>>,
    pub updated_at: Timestamp,
}

/// What storing rule files did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleFileCounts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[async_trait]
pub trait RuleStore: Send + Sync {
    /// Stores rule files (by origin: new, replaced, or unchanged when the
    /// body is the same) with one audit record, and moves the rules
    /// version when anything changed.
    async fn put_rule_files(
        &self,
        files: &[RuleFile],
        audit: &AuditEntry,
    ) -> StoreResult<RuleFileCounts>;
    /// Every rule file (rules are the MSSP's, not a tenant's data).
    async fn rule_files(&self) -> StoreResult<Vec<RuleFile>>;
    /// Moves with every change of files or tenant settings.
    async fn rules_version(&self) -> StoreResult<i64>;
    /// The settings of the tenants in `access` (or one).
    async fn tenant_rules(
        &self,
        access: &TenantAccess,
        tenant: Option<TenantId>,
    ) -> StoreResult<Vec<TenantRule>>;
    /// Sets a tenant's setting for a rule, with its audit record.
    async fn set_tenant_rule(
        &self,
        scope: &TenantScope,
        setting: &TenantRule,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The magnitude weights of the tenants in `access` that set their own.
    async fn magnitude_weights(
        &self,
        access: &TenantAccess,
    ) -> StoreResult<Vec<(TenantId, Weights)>>;
    /// Sets a tenant's magnitude weights (moves the rules version).
    async fn set_magnitude_weights(
        &self,
        scope: &TenantScope,
        weights: Weights,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}

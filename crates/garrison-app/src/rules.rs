//! Detection rules as people manage them: loading rule files (Sigma and
//! Garrison's threshold and sequence YAML), listing what is loaded and
//! what failed, and a tenant's settings (a rule off, exceptions).

use std::collections::BTreeMap;

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::{Permission, Principal, TenantId};
use garrison_store::{RuleFile, RuleFileCounts, TenantRule};
use serde::Serialize;
use serde_json::json;

use crate::admin::require;
use crate::events::detection::{RuleError, RuleSet, RuleSummary};
use crate::{App, AppError, AppResult};

/// Rule files larger than this are refused.
pub const MAX_RULE_FILE_BYTES: usize = 1024 * 1024;

/// What loading rule files did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleImportSummary {
    /// Files read.
    pub files: u64,
    /// Files stored (every rule in them loaded).
    pub stored: RuleFileCounts,
    /// Rules loaded from the stored files.
    pub rules: u64,
    /// Files not stored, and why (file, rule, reason).
    pub failed: Vec<FailedRule>,
    /// Rules in the whole set after the import.
    pub total_rules: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailedRule {
    pub origin: String,
    pub rule: Option<String>,
    pub reason: String,
}

impl From<RuleError> for FailedRule {
    fn from(e: RuleError) -> Self {
        Self {
            origin: e.origin,
            rule: e.rule,
            reason: e.reason,
        }
    }
}

/// The rules loaded and those that failed.
#[derive(Debug, Clone)]
pub struct RulesOverview {
    pub version: i64,
    pub rules: Vec<RuleSummary>,
    pub failed: Vec<FailedRule>,
}

impl App {
    /// Loads rule files `(origin, text)`: each file is compiled alone
    /// first; a file with a rule that fails is reported and not stored, so
    /// the stored set only holds rules that load. Files already loaded
    /// under the same origin are replaced.
    ///
    /// # Errors
    /// `Forbidden` without [`Permission::RuleManage`]; store failures.
    pub async fn import_rules(
        &self,
        p: &Principal,
        files: Vec<(String, String)>,
    ) -> AppResult<RuleImportSummary> {
        require(p, Permission::RuleManage)?;
        let mut summary = RuleImportSummary {
            files: files.len() as u64,
            ..RuleImportSummary::default()
        };
        let now = self.clock.now();
        let checked = tokio::task::spawn_blocking(move || {
            let mut good = Vec::new();
            let mut failed = Vec::new();
            let mut rules = 0_u64;
            for (origin, body) in files {
                if body.len() > MAX_RULE_FILE_BYTES {
                    failed.push(FailedRule {
                        origin,
                        rule: None,
                        reason: format!("larger than {MAX_RULE_FILE_BYTES} bytes"),
                    });
                    continue;
                }
                let one = RuleSet::build(0, &[(origin.clone(), body.clone())], Vec::new());
                let own: Vec<RuleError> = one
                    .errors
                    .into_iter()
                    .filter(|e| e.origin == origin)
                    .collect();
                let loaded = one.sigma.len()
                    + one
                        .correlation_origins
                        .iter()
                        .filter(|o| **o == origin)
                        .count();
                if own.is_empty() && loaded > 0 {
                    rules += loaded as u64;
                    good.push((origin, body));
                } else if own.is_empty() {
                    failed.push(FailedRule {
                        origin,
                        rule: None,
                        reason: "no rule in the file".to_owned(),
                    });
                } else {
                    failed.extend(own.into_iter().map(FailedRule::from));
                }
            }
            (good, failed, rules)
        })
        .await
        .map_err(|e| AppError::Internal(format!("checking rules: {e}")))?;
        let (good, failed, rules) = checked;
        summary.failed = failed;
        summary.rules = rules;
        let stored: Vec<RuleFile> = good
            .into_iter()
            .map(|(origin, body)| RuleFile {
                kind: if garrison_detect::correlation::looks_like_correlation(&body) {
                    "correlation".to_owned()
                } else {
                    "sigma".to_owned()
                },
                origin,
                body,
                updated_at: now,
            })
            .collect();
        let entry = AuditEntry::by(p, now, Action::RulesImported)
            .target("rules")
            .details(&json!({
                "files": summary.files,
                "stored": stored.len(),
                "failed": summary.failed.len(),
            }));
        summary.stored = self.store.put_rule_files(&stored, &entry).await?;
        let set = self.detection.rule_set().await?;
        summary.total_rules = (set.sigma.len() + set.correlation.len()) as u64;
        Ok(summary)
    }

    /// Every rule loaded, and every stored rule that fails to load now.
    ///
    /// # Errors
    /// `Forbidden` without [`Permission::OffenseRead`]; store failures.
    pub async fn rules_overview(&self, p: &Principal) -> AppResult<RulesOverview> {
        require(p, Permission::OffenseRead)?;
        let set = self.detection.rule_set().await?;
        Ok(RulesOverview {
            version: set.version,
            rules: set.summary(),
            failed: set.errors.iter().cloned().map(FailedRule::from).collect(),
        })
    }

    /// A tenant's settings for rules.
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see.
    pub async fn tenant_rules(
        &self,
        p: &Principal,
        tenant: TenantId,
    ) -> AppResult<Vec<TenantRule>> {
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::OffenseRead)?;
        Ok(self.store.tenant_rules(&p.access(), Some(tenant)).await?)
    }

    /// Turns a rule on or off for a tenant, with its exceptions (maps of
    /// field names to the value that exempts an event).
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::RuleManage`]; `Invalid` naming `rule_id` for a
    /// rule that is not loaded, `exceptions` for an empty condition.
    pub async fn set_tenant_rule(
        &self,
        p: &Principal,
        tenant: TenantId,
        rule_id: &str,
        enabled: bool,
        exceptions: Vec<BTreeMap<String, String>>,
    ) -> AppResult<TenantRule> {
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::RuleManage)?;
        let set = self.detection.rule_set().await?;
        if !set.has_rule(rule_id) {
            return Err(AppError::invalid("rule_id", "no loaded rule has this id"));
        }
        if exceptions.iter().any(BTreeMap::is_empty) || exceptions.len() > 100 {
            return Err(AppError::invalid(
                "exceptions",
                "each exception names at least one field; at most 100",
            ));
        }
        let now = self.clock.now();
        let setting = TenantRule {
            tenant_id: tenant,
            rule_id: rule_id.to_owned(),
            enabled,
            exceptions,
            updated_at: now,
        };
        let entry = AuditEntry::by(p, now, Action::TenantRuleChanged)
            .tenant(Some(tenant))
            .target(format!("rule:{rule_id}"))
            .details(&json!({ "enabled": enabled, "exceptions": setting.exceptions.len() }));
        self.store.set_tenant_rule(&scope, &setting, &entry).await?;
        Ok(setting)
    }
}

/// Stored events a rule test reads at most.
pub const MAX_TEST_EVENTS: usize = 50_000;

/// What testing a rule against stored events found.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTest {
    pub rule_id: String,
    pub tenant: TenantId,
    pub hours: u32,
    /// Events read (newest first; at most [`MAX_TEST_EVENTS`]).
    pub scanned: u64,
    /// Whether the window held more events than were read.
    pub truncated: bool,
    /// Events the rule matched (Sigma), or events that completed the rule
    /// (threshold and sequence rules, replayed oldest first).
    pub matched: u64,
    /// The first matched events' ids.
    pub events: Vec<garrison_core::EventId>,
}

impl App {
    /// Runs one loaded rule over a tenant's stored events of the last
    /// `hours` hours (1 to 168), without raising anything: what it would
    /// have found. The tenant's exceptions are applied; a rule the tenant
    /// switched off is tested all the same (that is the point).
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::EventRead`]; `Invalid` naming `rule_id` or
    /// `hours`.
    pub async fn test_rule(
        &self,
        p: &Principal,
        tenant: TenantId,
        rule_id: &str,
        hours: u32,
    ) -> AppResult<RuleTest> {
        use garrison_store::{EventCursor, EventQuery, MAX_EVENT_PAGE};
        let scope = crate::admin::scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        require(p, Permission::EventRead)?;
        if !(1..=168).contains(&hours) {
            return Err(AppError::invalid("hours", "from 1 to 168 hours"));
        }
        let set = self.detection.rule_set().await?;
        if !set.has_rule(rule_id) {
            return Err(AppError::invalid("rule_id", "no loaded rule has this id"));
        }
        let now = self.clock.now();
        let mut events = Vec::new();
        let mut q = EventQuery {
            tenant: Some(tenant),
            from: Some(now.minus(std::time::Duration::from_secs(u64::from(hours) * 3600))),
            until: Some(now.plus(std::time::Duration::from_secs(300))),
            limit: MAX_EVENT_PAGE,
            ..EventQuery::default()
        };
        let mut truncated = false;
        loop {
            let page = self.store.search_events(&p.access(), &q).await?;
            let Some(last) = page.items.last() else { break };
            q.after = Some(EventCursor::after(last));
            let n = page.items.len();
            events.extend(page.items);
            if events.len() >= MAX_TEST_EVENTS {
                truncated = n == MAX_EVENT_PAGE as usize;
                events.truncate(MAX_TEST_EVENTS);
                break;
            }
            if n < MAX_EVENT_PAGE as usize {
                break;
            }
        }
        let rule_id = rule_id.to_owned();
        let scanned = events.len() as u64;
        let found = tokio::task::spawn_blocking(move || set.replay(&rule_id, tenant, events))
            .await
            .map_err(|e| AppError::Internal(format!("testing the rule: {e}")))?;
        Ok(RuleTest {
            rule_id: found.0,
            tenant,
            hours,
            scanned,
            truncated,
            matched: found.1,
            events: found.2,
        })
    }
}

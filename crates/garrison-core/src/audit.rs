//! The audit chain: what a privileged action records, and how the chain is
//! sealed and verified.
//!
//! Each record carries the hash of the record before it and its own hash,
//! an HMAC-SHA-256 (keyed with a server secret that is not in the database)
//! over its sequence number, id, fields and that previous hash. Editing a
//! record breaks its own hash; inserting or deleting one breaks the sequence
//! or the link of the next record; deleting the tail is caught by the chain
//! head kept beside the records. Without the key, an attacker holding only
//! the database cannot forge a consistent chain.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ids::{AuditId, TenantId, UserId};
use crate::secret::Secret;
use crate::time::Timestamp;

/// The hash a chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. Stored as its string so old records stay readable when
/// new actions are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    LoginSucceeded,
    LoginFailed,
    Logout,
    MfaChallengeFailed,
    MfaEnrolled,
    MfaReset,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordChanged,
    PasswordReset,
    TenantCreated,
    TenantUpdated,
    UserCreated,
    UserUpdated,
    StaffAssigned,
    StaffUnassigned,
    TokenCreated,
    TokenRevoked,
    TokensRevokedForMfa,
    ImportStarted,
    ImportFinished,
    AssetCreated,
    AssetUpdated,
    AssetDeleted,
    RangeCreated,
    RangeDeleted,
    FindingStatusChanged,
    RiskWeightsChanged,
    EventsPurged,
    EventsIngested,
    IngestTokenCreated,
    IngestTokenRevoked,
    OffenseAssigned,
    OffenseClosed,
    OffenseReopened,
    OffenseEscalationRequested,
    OffenseCommented,
    SuppressionCreated,
    RulesImported,
    TenantRuleChanged,
    IndicatorsImported,
    IndicatorsRevoked,
    TicketOpened,
    TicketStatusChanged,
    TicketCommented,
    TicketPlanChanged,
}

impl Action {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "auth.login",
            Self::LoginFailed => "auth.login_failed",
            Self::Logout => "auth.logout",
            Self::MfaChallengeFailed => "auth.mfa_failed",
            Self::MfaEnrolled => "mfa.enrolled",
            Self::MfaReset => "mfa.reset",
            Self::RecoveryCodeUsed => "mfa.recovery_code_used",
            Self::RecoveryCodesRegenerated => "mfa.recovery_codes_regenerated",
            Self::PasswordChanged => "user.password_changed",
            Self::PasswordReset => "user.password_reset",
            Self::TenantCreated => "tenant.created",
            Self::TenantUpdated => "tenant.updated",
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::StaffAssigned => "staff.assigned",
            Self::StaffUnassigned => "staff.unassigned",
            Self::TokenCreated => "token.created",
            Self::TokenRevoked => "token.revoked",
            Self::TokensRevokedForMfa => "token.revoked_mfa_required",
            Self::ImportStarted => "inventory.import_started",
            Self::ImportFinished => "inventory.import_finished",
            Self::AssetCreated => "asset.created",
            Self::AssetUpdated => "asset.updated",
            Self::AssetDeleted => "asset.deleted",
            Self::RangeCreated => "range.created",
            Self::RangeDeleted => "range.deleted",
            Self::FindingStatusChanged => "finding.status_changed",
            Self::RiskWeightsChanged => "tenant.risk_weights_changed",
            Self::EventsPurged => "events.purged",
            Self::EventsIngested => "events.ingested",
            Self::IngestTokenCreated => "ingest_token.created",
            Self::OffenseAssigned => "offense.assigned",
            Self::OffenseClosed => "offense.closed",
            Self::OffenseReopened => "offense.reopened",
            Self::OffenseEscalationRequested => "offense.escalation_requested",
            Self::OffenseCommented => "offense.commented",
            Self::TicketOpened => "ticket.opened",
            Self::TicketStatusChanged => "ticket.status_changed",
            Self::TicketCommented => "ticket.commented",
            Self::TicketPlanChanged => "ticket.plan_changed",
            Self::SuppressionCreated => "suppression.created",
            Self::RulesImported => "rules.imported",
            Self::TenantRuleChanged => "rules.tenant_setting_changed",
            Self::IngestTokenRevoked => "ingest_token.revoked",
            Self::IndicatorsImported => "indicators.imported",
            Self::IndicatorsRevoked => "indicators.revoked",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// A record to append. The store gives it its sequence number, id and hash
/// in the same transaction as the change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    /// E-mail of the actor, the operator label, or the address tried at a
    /// failed login.
    pub actor_label: String,
    pub tenant_id: Option<TenantId>,
    pub action: String,
    pub target: String,
    pub source_ip: Option<String>,
    pub outcome: Outcome,
    /// A JSON object with details; never secrets.
    pub details: String,
}

impl AuditEntry {
    #[must_use]
    pub fn new(at: Timestamp, action: Action, actor_label: impl Into<String>) -> Self {
        Self {
            at,
            actor_id: None,
            actor_label: actor_label.into(),
            tenant_id: None,
            action: action.as_str().to_owned(),
            target: String::new(),
            source_ip: None,
            outcome: Outcome::Success,
            details: "{}".to_owned(),
        }
    }

    /// An entry for an action taken by `principal`.
    #[must_use]
    pub fn by(principal: &crate::Principal, at: Timestamp, action: Action) -> Self {
        Self::new(at, action, principal.label())
            .actor(principal.user_id())
            .source(principal.source().map(str::to_owned))
    }

    #[must_use]
    pub const fn actor(mut self, id: Option<UserId>) -> Self {
        self.actor_id = id;
        self
    }

    #[must_use]
    pub const fn tenant(mut self, tenant: Option<TenantId>) -> Self {
        self.tenant_id = tenant;
        self
    }

    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    #[must_use]
    pub fn source(mut self, ip: Option<String>) -> Self {
        self.source_ip = ip;
        self
    }

    #[must_use]
    pub const fn failed(mut self) -> Self {
        self.outcome = Outcome::Failure;
        self
    }

    #[must_use]
    pub fn details(mut self, details: &serde_json::Value) -> Self {
        self.details = details.to_string();
        self
    }
}

/// A stored record of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: AuditId,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub actor_label: String,
    pub tenant_id: Option<TenantId>,
    pub action: String,
    pub target: String,
    pub source_ip: Option<String>,
    pub outcome: Outcome,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The head of the chain as the store keeps it: the last sequence number,
/// its hash, and a MAC over both so that the head cannot be rewound to hide
/// a deleted tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
    pub mac: Option<String>,
}

/// A point of the chain seen by an earlier verification, kept outside the
/// database (a file beside the master secret). A later chain must still
/// contain it: truncating or rewriting the chain is then found even when
/// the head was rewound too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAnchor {
    pub seq: i64,
    pub hash: String,
}

/// The key that seals the chain.
#[derive(Debug, Clone)]
pub struct ChainKey(Secret<Vec<u8>>);

impl ChainKey {
    #[must_use]
    pub fn new(key: Vec<u8>) -> Self {
        Self(Secret::new(key))
    }

    /// The hash of a record with these contents.
    #[must_use]
    pub fn seal(&self, seq: i64, id: AuditId, entry: &AuditEntry, prev_hash: &str) -> String {
        // Length-prefixed fields, so that moving bytes between two fields
        // changes the hash.
        let actor = entry.actor_id.map(|u| u.to_string()).unwrap_or_default();
        let tenant = entry.tenant_id.map(|t| t.to_string()).unwrap_or_default();
        self.mac(&[
            b"garrison-audit-v1",
            &seq.to_be_bytes(),
            id.as_uuid().as_bytes(),
            &entry.at.as_millis().to_be_bytes(),
            actor.as_bytes(),
            entry.actor_label.as_bytes(),
            tenant.as_bytes(),
            entry.action.as_bytes(),
            entry.target.as_bytes(),
            entry.source_ip.as_deref().unwrap_or_default().as_bytes(),
            entry.outcome.as_str().as_bytes(),
            entry.details.as_bytes(),
            prev_hash.as_bytes(),
        ])
    }

    /// The MAC of a chain head.
    #[must_use]
    pub fn seal_head(&self, seq: i64, hash: &str) -> String {
        self.mac(&[
            b"garrison-audit-head-v1",
            &seq.to_be_bytes(),
            hash.as_bytes(),
        ])
    }

    /// An anchor as one line of text, sealed.
    #[must_use]
    pub fn anchor_line(&self, anchor: &ChainAnchor) -> String {
        let mac = self.mac(&[
            b"garrison-audit-anchor-v1",
            &anchor.seq.to_be_bytes(),
            anchor.hash.as_bytes(),
        ]);
        format!("{} {} {mac}", anchor.seq, anchor.hash)
    }

    /// Reads an anchor line; `None` when it is malformed or not sealed with
    /// this key.
    #[must_use]
    pub fn parse_anchor(&self, line: &str) -> Option<ChainAnchor> {
        let mut parts = line.split_whitespace();
        let seq: i64 = parts.next()?.parse().ok()?;
        let hash = parts.next()?.to_owned();
        let mac = parts.next()?;
        let anchor = ChainAnchor { seq, hash };
        let expected = self.anchor_line(&anchor);
        let given = format!("{} {} {mac}", anchor.seq, anchor.hash);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            given.as_bytes(),
        ))
        .then_some(anchor)
    }

    fn mac(&self, fields: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.expose())
            .expect("HMAC takes a key of any length");
        for f in fields {
            mac.update(&(f.len() as u64).to_be_bytes());
            mac.update(f);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    fn check(&self, record: &AuditRecord) -> bool {
        let entry = AuditEntry {
            at: record.at,
            actor_id: record.actor_id,
            actor_label: record.actor_label.clone(),
            tenant_id: record.tenant_id,
            action: record.action.clone(),
            target: record.target.clone(),
            source_ip: record.source_ip.clone(),
            outcome: record.outcome,
            details: record.details.clone(),
        };
        let expected = self.seal(record.seq, record.id, &entry, &record.prev_hash);
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), record.hash.as_bytes()).into()
    }
}

/// One thing wrong with the chain, naming the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum ChainFault {
    /// The record's contents do not match its hash: it was edited.
    Altered { seq: i64, id: AuditId },
    /// The record does not follow the one before it: a record was inserted
    /// or deleted just before this one.
    BrokenLink { seq: i64, id: AuditId },
    /// Sequence numbers jump: records were deleted.
    Missing { from_seq: i64, to_seq: i64 },
    /// The chain ends before its recorded head: records were deleted at the
    /// end, or the head was edited.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// A record lies beyond the chain head: it was inserted behind the
    /// chain's back.
    BeyondHead { seq: i64, id: AuditId },
    /// The chain head's seal does not match: the head was rewritten.
    HeadForged { head_seq: i64 },
    /// A record an earlier verification saw is gone or different: the chain
    /// was truncated or rewritten.
    AnchorLost { seq: i64 },
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { seq, id } => {
                write!(
                    f,
                    "record #{seq} ({id}) was altered: its contents do not match its hash"
                )
            }
            Self::BrokenLink { seq, id } => write!(
                f,
                "record #{seq} ({id}) does not link to the record before it: a record was inserted or removed"
            ),
            Self::Missing { from_seq, to_seq } => {
                write!(f, "records #{from_seq} to #{to_seq} are missing")
            }
            Self::HeadForged { head_seq } => write!(
                f,
                "the chain head (#{head_seq}) is not sealed with this server's key: it was rewritten"
            ),
            Self::AnchorLost { seq } => write!(
                f,
                "record #{seq}, seen by an earlier verification, is missing or changed: the chain was truncated or rewritten"
            ),
            Self::BeyondHead { seq, id } => write!(
                f,
                "record #{seq} ({id}) lies beyond the chain head: it was inserted"
            ),
            Self::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the chain head says #{head_seq} but the last record is #{last_seq}: records at the end were removed or the head was edited"
            ),
        }
    }
}

/// Walks records in sequence order, in as many batches as needed.
#[derive(Debug)]
pub struct ChainVerifier<'k> {
    key: &'k ChainKey,
    next_seq: i64,
    prev_hash: String,
    checked: u64,
    faults: Vec<ChainFault>,
    anchor: Option<(ChainAnchor, bool)>,
}

impl<'k> ChainVerifier<'k> {
    #[must_use]
    pub fn new(key: &'k ChainKey) -> Self {
        Self {
            key,
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checked: 0,
            faults: Vec::new(),
            anchor: None,
        }
    }

    /// Also requires the chain to still hold `anchor`.
    #[must_use]
    pub fn with_anchor(mut self, anchor: ChainAnchor) -> Self {
        self.anchor = Some((anchor, false));
        self
    }

    pub fn feed(&mut self, record: &AuditRecord) {
        self.checked += 1;
        if let Some((anchor, seen)) = &mut self.anchor
            && anchor.seq == record.seq
        {
            *seen = record.hash == anchor.hash;
        }
        if record.seq > self.next_seq {
            self.faults.push(ChainFault::Missing {
                from_seq: self.next_seq,
                to_seq: record.seq - 1,
            });
        }
        if !self.key.check(record) {
            self.faults.push(ChainFault::Altered {
                seq: record.seq,
                id: record.id,
            });
        } else if record.prev_hash != self.prev_hash {
            self.faults.push(ChainFault::BrokenLink {
                seq: record.seq,
                id: record.id,
            });
        }
        self.next_seq = record.seq + 1;
        self.prev_hash.clone_from(&record.hash);
    }

    /// Reports a record found beyond the chain head.
    pub fn beyond_head(&mut self, record: &AuditRecord) {
        self.checked += 1;
        self.faults.push(ChainFault::BeyondHead {
            seq: record.seq,
            id: record.id,
        });
    }

    /// Ends the walk against the chain head kept by the store.
    #[must_use]
    pub fn finish(mut self, head: Option<ChainHead>) -> ChainReport {
        let last_seq = self.next_seq - 1;
        let (head_seq, head_hash) = head
            .as_ref()
            .map_or((0, GENESIS_HASH), |h| (h.seq, h.hash.as_str()));
        if let Some(h) = &head {
            let expected = self.key.seal_head(h.seq, &h.hash);
            let sealed = h.mac.as_deref().is_some_and(|m| {
                subtle::ConstantTimeEq::ct_eq(m.as_bytes(), expected.as_bytes()).into()
            });
            if !sealed {
                self.faults.push(ChainFault::HeadForged { head_seq });
            }
        }
        if head_seq != last_seq || head_hash != self.prev_hash {
            self.faults
                .push(ChainFault::HeadMismatch { head_seq, last_seq });
        }
        if let Some((anchor, false)) = &self.anchor
            && anchor.seq > 0
        {
            self.faults.push(ChainFault::AnchorLost { seq: anchor.seq });
        }
        ChainReport {
            checked: self.checked,
            faults: self.faults,
            head: head.map(|h| ChainAnchor {
                seq: h.seq,
                hash: h.hash,
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub checked: u64,
    pub faults: Vec<ChainFault>,
    /// The head verified, to keep as the next anchor when intact.
    #[serde(skip)]
    pub head: Option<ChainAnchor>,
}

impl ChainReport {
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.faults.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(key: &ChainKey, n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let id = AuditId::new();
                let entry = AuditEntry::new(
                    Timestamp::from_millis(seq * 1000),
                    Action::UserCreated,
                    "op",
                )
                .target(format!("user-{seq}"));
                let hash = key.seal(seq, id, &entry, &prev);
                let record = AuditRecord {
                    seq,
                    id,
                    at: entry.at,
                    actor_id: entry.actor_id,
                    actor_label: entry.actor_label,
                    tenant_id: entry.tenant_id,
                    action: entry.action,
                    target: entry.target,
                    source_ip: entry.source_ip,
                    outcome: entry.outcome,
                    details: entry.details,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                record
            })
            .collect()
    }

    fn verify(key: &ChainKey, records: &[AuditRecord], head: Option<ChainHead>) -> ChainReport {
        let mut v = ChainVerifier::new(key);
        records.iter().for_each(|r| v.feed(r));
        v.finish(head)
    }

    fn head(records: &[AuditRecord]) -> Option<ChainHead> {
        let key = ChainKey::new(b"k".to_vec());
        records.last().map(|r| ChainHead {
            seq: r.seq,
            hash: r.hash.clone(),
            mac: Some(key.seal_head(r.seq, &r.hash)),
        })
    }

    #[test]
    fn an_intact_chain_verifies() {
        let key = ChainKey::new(b"k".to_vec());
        let records = chain(&key, 5);
        let report = verify(&key, &records, head(&records));
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.checked, 5);
        assert!(verify(&key, &[], None).is_intact());
    }

    #[test]
    fn an_edit_names_the_record() {
        let key = ChainKey::new(b"k".to_vec());
        let mut records = chain(&key, 5);
        let h = head(&records);
        records[2].target.push('x');
        let report = verify(&key, &records, h);
        assert_eq!(
            report.faults,
            vec![ChainFault::Altered {
                seq: 3,
                id: records[2].id
            }]
        );
    }

    #[test]
    fn a_deletion_is_found() {
        let key = ChainKey::new(b"k".to_vec());
        let mut records = chain(&key, 5);
        let h = head(&records);
        records.remove(1);
        let report = verify(&key, &records, h.clone());
        assert!(report.faults.contains(&ChainFault::Missing {
            from_seq: 2,
            to_seq: 2
        }));
        assert!(report.faults.contains(&ChainFault::BrokenLink {
            seq: 3,
            id: records[1].id
        }));

        records.pop();
        let report = verify(&key, &records, h);
        assert!(report.faults.contains(&ChainFault::HeadMismatch {
            head_seq: 5,
            last_seq: 4
        }));
    }

    #[test]
    fn a_wrong_key_fails_everything() {
        let records = chain(&ChainKey::new(b"k".to_vec()), 2);
        let report = verify(&ChainKey::new(b"other".to_vec()), &records, head(&records));
        assert_eq!(
            report.faults.len(),
            3,
            "two records and the head: {report:?}"
        );
    }

    #[test]
    fn a_rewound_head_is_found() {
        let key = ChainKey::new(b"k".to_vec());
        let mut records = chain(&key, 5);
        records.truncate(3);
        let mut forged = head(&records).expect("head");
        forged.mac = Some("00".repeat(32));
        let report = verify(&key, &records, Some(forged));
        assert_eq!(report.faults, vec![ChainFault::HeadForged { head_seq: 3 }]);
        // With a genuinely sealed head, only an anchor shows the truncation.
        let anchor = ChainAnchor {
            seq: 5,
            hash: chain_hash(&key, 5),
        };
        let mut v = ChainVerifier::new(&key).with_anchor(anchor);
        records.iter().for_each(|r| v.feed(r));
        let report = v.finish(head(&records));
        assert_eq!(report.faults, vec![ChainFault::AnchorLost { seq: 5 }]);
    }

    fn chain_hash(key: &ChainKey, seq: i64) -> String {
        chain(key, seq).pop().map(|r| r.hash).unwrap_or_default()
    }

    #[test]
    fn anchors_are_sealed() {
        let key = ChainKey::new(b"k".to_vec());
        let a = ChainAnchor {
            seq: 7,
            hash: "ab".repeat(32),
        };
        let line = key.anchor_line(&a);
        assert_eq!(key.parse_anchor(&line), Some(a));
        assert_eq!(key.parse_anchor(&line.replacen('7', "8", 1)), None);
        assert_eq!(ChainKey::new(b"x".to_vec()).parse_anchor(&line), None);
    }
}

//! Tickets: their types, the owner plan of each type, priorities and the
//! status workflow with who may move a ticket where.
//!
//! An MSSP service is a closed loop: the MSSP detects and escalates, the
//! customer's people research, remediate and close. Each ticket type has
//! an **owner plan** per tenant naming the role that researches, the role
//! that remediates, the role that approves closure and the roles kept
//! informed; the workflow below consults it. Everything here is pure (no
//! IO, no clock): the store records each transition with who, when and
//! why.
//!
//! Workflow:
//!
//! ```text
//! new ─► acknowledged ─► in-progress ◄──► waiting-on-customer / waiting-on-mssp
//!              │               │
//!              └──────────────►├─► resolved (proposed) ─► closed
//!                                      │  ▲                 │
//!                        (not fixed) ◄─┘  └── reopened ◄────┘
//! ```
//!
//! Who may (`check`): a customer viewer changes nothing; closing belongs
//! to the role the plan names (and to the admin of that role's side, who
//! manages the plan), so the MSSP cannot close a ticket whose plan gives
//! closure to the customer; waiting on the customer is the MSSP's to
//! declare and waiting on the MSSP the customer's; reopening needs a
//! reason. The system closes resolved tickets after the tenant's
//! auto-close delay, when the tenant chose one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::asset::{Criticality, text_enum};
use crate::ids::{OffenseId, TenantId, TicketChangeId, TicketCommentId, TicketId, UserId};
use crate::role::Role;
use crate::time::Timestamp;
use crate::validate::Invalid;

text_enum!(
    /// What a ticket is about (the seeded types; each tenant edits the
    /// owner plan of each).
    TicketType {
        SecurityIncident => "security-incident" | "incident",
        AlertInvestigation => "alert-investigation",
        VulnerabilityRemediation => "vulnerability-remediation",
        ManagedChange => "managed-change" | "change",
        ServiceRequest => "service-request",
        Notice => "notice",
    }
);

text_enum!(
    /// P1 is the most urgent.
    Priority {
        P1 => "p1",
        P2 => "p2",
        P3 => "p3",
        P4 => "p4",
    }
);

text_enum!(
    /// Where a ticket stands.
    Status {
        New => "new",
        Acknowledged => "acknowledged",
        InProgress => "in-progress",
        WaitingOnCustomer => "waiting-on-customer",
        WaitingOnMssp => "waiting-on-mssp",
        Resolved => "resolved",
        Closed => "closed",
        Reopened => "reopened",
    }
);

impl Status {
    /// Whether the ticket's SLA clocks stand still in this status.
    #[must_use]
    pub const fn pauses_clocks(self) -> bool {
        matches!(self, Self::WaitingOnCustomer)
    }

    /// Whether the ticket is finished with (closed).
    #[must_use]
    pub const fn is_closed(self) -> bool {
        matches!(self, Self::Closed)
    }
}

/// Who does what on a ticket of one type, for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerPlan {
    pub research: Role,
    pub remediate: Role,
    pub approve_closure: Role,
    pub informed: Vec<Role>,
}

impl OwnerPlan {
    /// The plan seeded for every tenant (each tenant's admin edits it with
    /// the MSSP's admin).
    #[must_use]
    pub fn seeded(t: TicketType) -> Self {
        use Role as R;
        let (research, remediate, approve_closure, informed) = match t {
            TicketType::SecurityIncident => (
                R::MsspAnalyst,
                R::CustomerResponder,
                R::CustomerAdmin,
                vec![R::CustomerAdmin, R::MsspAdmin],
            ),
            TicketType::AlertInvestigation => (
                R::MsspAnalyst,
                R::MsspAnalyst,
                R::MsspAnalyst,
                vec![R::CustomerAdmin],
            ),
            TicketType::VulnerabilityRemediation => (
                R::MsspAnalyst,
                R::CustomerResponder,
                R::CustomerAdmin,
                vec![R::MsspAnalyst],
            ),
            TicketType::ManagedChange => (
                R::MsspEngineer,
                R::MsspEngineer,
                R::CustomerAdmin,
                vec![R::CustomerResponder],
            ),
            TicketType::ServiceRequest => (
                R::MsspEngineer,
                R::MsspEngineer,
                R::CustomerAdmin,
                vec![R::CustomerResponder],
            ),
            TicketType::Notice => (
                R::MsspAnalyst,
                R::MsspAnalyst,
                R::MsspAnalyst,
                vec![R::CustomerAdmin, R::CustomerResponder],
            ),
        };
        Self {
            research,
            remediate,
            approve_closure,
            informed,
        }
    }

    /// Checks that the plan can be worked: nobody is a viewer (viewers
    /// read tickets, they never change them).
    ///
    /// # Errors
    /// An [`Invalid`] naming the duty.
    pub fn validate(&self) -> Result<(), Invalid> {
        for (duty, role) in [
            ("research", self.research),
            ("remediate", self.remediate),
            ("approve_closure", self.approve_closure),
        ] {
            if role == Role::CustomerViewer {
                return Err(Invalid::new(
                    duty,
                    "a customer viewer only reads tickets: choose a role that can act",
                ));
            }
        }
        Ok(())
    }

    /// Whether `role` works the ticket (researches or remediates).
    #[must_use]
    pub fn works(&self, role: Role) -> bool {
        role == self.research || role == self.remediate
    }
}

/// The admin of a role's side: the MSSP's admin for MSSP roles, the
/// customer's admin for customer roles.
#[must_use]
pub const fn side_admin(role: Role) -> Role {
    if role.is_mssp() {
        Role::MsspAdmin
    } else {
        Role::CustomerAdmin
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(Role),
    /// Garrison itself (auto-close).
    System,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a ticket cannot go from {from} to {to}")]
    NotAStep { from: Status, to: Status },
    #[error("{role} may not {what}")]
    NotYours { role: Role, what: String },
    #[error("{0}: give a reason")]
    ReasonNeeded(&'static str),
}

/// Whether `from → to` is a step of the workflow.
#[must_use]
pub const fn is_step(from: Status, to: Status) -> bool {
    use Status as S;
    matches!(
        (from, to),
        (S::New | S::Reopened, S::Acknowledged)
            | (
                S::Acknowledged
                    | S::WaitingOnCustomer
                    | S::WaitingOnMssp
                    | S::Reopened
                    | S::Resolved,
                S::InProgress
            )
            | (
                S::New | S::Acknowledged | S::InProgress | S::WaitingOnMssp,
                S::WaitingOnCustomer
            )
            | (
                S::New | S::Acknowledged | S::InProgress | S::WaitingOnCustomer,
                S::WaitingOnMssp
            )
            | (
                S::Acknowledged
                    | S::InProgress
                    | S::WaitingOnCustomer
                    | S::WaitingOnMssp
                    | S::Reopened,
                S::Resolved
            )
            | (S::Resolved, S::Closed)
            | (S::Resolved | S::Closed, S::Reopened)
    )
}

/// Checks that `actor` may move a ticket of `plan` from `from` to `to`,
/// with `reason` (empty: none given).
///
/// # Errors
/// A [`Refusal`] saying why not.
pub fn check(
    plan: &OwnerPlan,
    from: Status,
    to: Status,
    actor: Actor,
    reason: &str,
) -> Result<(), Refusal> {
    if !is_step(from, to) {
        return Err(Refusal::NotAStep { from, to });
    }
    let role = match actor {
        // The system only closes resolved tickets (the tenant's
        // auto-close delay has passed: the caller checks it).
        Actor::System if (from, to) == (Status::Resolved, Status::Closed) => return Ok(()),
        Actor::System => {
            return Err(Refusal::NotAStep { from, to });
        }
        Actor::User(r) => r,
    };
    let refuse = |what: &str| {
        Err(Refusal::NotYours {
            role,
            what: what.to_owned(),
        })
    };
    if role == Role::CustomerViewer {
        return refuse("change a ticket (viewers read)");
    }
    let admin = matches!(role, Role::MsspAdmin | Role::CustomerAdmin);
    let works = plan.works(role) || admin || role == Role::MsspAnalyst;
    match to {
        Status::Acknowledged | Status::InProgress if !works => {
            refuse("work this ticket (the plan names who researches and remediates)")
        }
        Status::WaitingOnCustomer if !role.is_mssp() => {
            refuse("put the ticket in waiting on the customer (the MSSP declares it)")
        }
        Status::WaitingOnMssp if role.is_mssp() => {
            refuse("put the ticket in waiting on the MSSP (the customer declares it)")
        }
        Status::Resolved if !works => refuse("propose a resolution"),
        Status::Resolved if reason.trim().is_empty() => Err(Refusal::ReasonNeeded("a resolution")),
        Status::Closed
            if role != plan.approve_closure && role != side_admin(plan.approve_closure) =>
        {
            refuse(&format!(
                "close it: the plan gives closure to {}",
                plan.approve_closure
            ))
        }
        Status::Reopened if !(works || role == plan.approve_closure) => refuse("reopen it"),
        Status::Reopened if reason.trim().is_empty() => Err(Refusal::ReasonNeeded("reopening")),
        _ => Ok(()),
    }
}

/// The priority a ticket gets from its offense: the magnitude (0–10)
/// sets a base — 8 and over P1, 6 and over P2, 3 and over P3, else P4 —
/// and the most critical asset involved moves it one step: up for a
/// critical asset, down for a low one (never past P1 or P4).
#[must_use]
pub fn derive_priority(magnitude: f64, criticality: Option<Criticality>) -> Priority {
    let base: u8 = if magnitude >= 8.0 {
        1
    } else if magnitude >= 6.0 {
        2
    } else if magnitude >= 3.0 {
        3
    } else {
        4
    };
    let p = match criticality {
        Some(Criticality::Critical) => base.saturating_sub(1).max(1),
        Some(Criticality::Low) => (base + 1).min(4),
        _ => base,
    };
    match p {
        1 => Priority::P1,
        2 => Priority::P2,
        3 => Priority::P3,
        _ => Priority::P4,
    }
}

/// A priority set by hand over the derived one, which needs a reason.
///
/// # Errors
/// When `reason` is empty.
pub fn override_priority(
    derived: Priority,
    chosen: Priority,
    reason: &str,
) -> Result<Priority, Invalid> {
    if chosen != derived && reason.trim().is_empty() {
        return Err(Invalid::new(
            "priority",
            format!("overriding {derived} with {chosen} needs a reason"),
        ));
    }
    Ok(chosen)
}

/// The times reports need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    pub detected: Option<Timestamp>,
    pub acknowledged: Option<Timestamp>,
    pub first_response: Option<Timestamp>,
    pub resolved: Option<Timestamp>,
    pub closed: Option<Timestamp>,
}

impl Milestones {
    /// Notes a transition made at `at`: the first acknowledgement and the
    /// last resolution and closure count; reopening clears the latter two.
    pub fn note(&mut self, to: Status, at: Timestamp) {
        match to {
            Status::Acknowledged | Status::InProgress => {
                self.acknowledged.get_or_insert(at);
            }
            Status::Resolved => self.resolved = Some(at),
            Status::Closed => self.closed = Some(at),
            Status::Reopened => {
                self.resolved = None;
                self.closed = None;
            }
            _ => {}
        }
    }

    /// Notes a comment shared with the other side: the first one from the
    /// side that works the ticket is the first response.
    pub fn note_shared_comment(&mut self, at: Timestamp) {
        self.first_response.get_or_insert(at);
        self.acknowledged.get_or_insert(at);
    }
}

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: TicketId,
    pub tenant_id: TenantId,
    pub ticket_type: TicketType,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    /// Why the priority differs from the derived one (a hand override).
    pub priority_reason: Option<String>,
    pub status: Status,
    /// The tenant's plan for the type when the ticket opened.
    pub plan: OwnerPlan,
    /// The offense it was escalated from (one ticket per offense).
    pub offense_id: Option<OffenseId>,
    pub milestones: Milestones,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One status change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketChange {
    pub id: TicketChangeId,
    pub ticket_id: TicketId,
    pub tenant_id: TenantId,
    pub from: Status,
    pub to: Status,
    pub actor_id: Option<UserId>,
    /// Who, in words (a user's e-mail, or `garrison` for the system).
    pub actor: String,
    pub reason: String,
    pub at: Timestamp,
}

/// A comment on a ticket: shared with the customer, or MSSP-internal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketComment {
    pub id: TicketCommentId,
    pub ticket_id: TicketId,
    pub tenant_id: TenantId,
    pub author_id: Option<UserId>,
    pub author: String,
    pub body: String,
    pub shared: bool,
    pub created_at: Timestamp,
}

/// The pauses of a ticket's SLA clocks: each stay in a status that
/// stops them (waiting on the customer), from its changes in order; the
/// last one open while the ticket is still there.
#[must_use]
pub fn pauses(changes: &[TicketChange]) -> Vec<crate::sla::Pause> {
    let mut out: Vec<crate::sla::Pause> = Vec::new();
    for c in changes {
        if c.to.pauses_clocks() && !c.from.pauses_clocks() {
            out.push(crate::sla::Pause {
                from: c.at,
                until: None,
            });
        } else if c.from.pauses_clocks()
            && !c.to.pauses_clocks()
            && let Some(last) = out.last_mut()
            && last.until.is_none()
        {
            last.until = Some(c.at);
        }
    }
    out
}

/// A ticket's three SLA clocks at `now`: acknowledge, first response and
/// resolve, started when the ticket opened, met at its milestones, paused
/// while it waited on the customer, on the priority's terms (24x7 or the
/// tenant's business calendar).
#[must_use]
pub fn clocks(
    ticket: &Ticket,
    changes: &[TicketChange],
    contract: &crate::sla::Contract,
    business: &crate::sla::Calendar,
    now: Timestamp,
) -> Vec<(crate::sla::ClockKind, crate::sla::ClockState)> {
    use crate::sla::{Calendar, ClockKind, clock_state};
    let terms = contract.terms[match ticket.priority {
        Priority::P1 => 0,
        Priority::P2 => 1,
        Priority::P3 => 2,
        Priority::P4 => 3,
    }];
    let always;
    let cal = if terms.around_the_clock {
        always = Calendar::always();
        &always
    } else {
        business
    };
    let paused = pauses(changes);
    let m = &ticket.milestones;
    ClockKind::ALL
        .into_iter()
        .map(|kind| {
            let met = match kind {
                ClockKind::Acknowledge => m.acknowledged,
                ClockKind::FirstResponse => m.first_response,
                ClockKind::Resolve => m.resolved,
            };
            let state = clock_state(
                cal,
                ticket.created_at,
                terms.budget(kind),
                &paused,
                met,
                now,
            );
            (kind, state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role as R;
    use Status as S;

    fn incident() -> OwnerPlan {
        OwnerPlan::seeded(TicketType::SecurityIncident)
    }

    #[test]
    fn closing_belongs_to_the_plan() {
        let plan = incident();
        assert_eq!(plan.approve_closure, R::CustomerAdmin);
        let close = |r: Role| check(&plan, S::Resolved, S::Closed, Actor::User(r), "");
        assert!(
            close(R::CustomerAdmin).is_ok(),
            "the customer's admin closes"
        );
        for r in [
            R::CustomerViewer,
            R::CustomerResponder,
            R::MsspAdmin,
            R::MsspAnalyst,
            R::MsspEngineer,
        ] {
            assert!(close(r).is_err(), "{r} must not close an incident");
        }
        assert_eq!(
            close(R::MsspAdmin).expect_err("mssp").to_string(),
            "mssp-admin may not close it: the plan gives closure to customer-admin"
        );
        // A plan giving closure to the MSSP's analyst: the MSSP closes, the
        // customer does not.
        let alert = OwnerPlan::seeded(TicketType::AlertInvestigation);
        let close = |r: Role| check(&alert, S::Resolved, S::Closed, Actor::User(r), "");
        assert!(close(R::MsspAnalyst).is_ok() && close(R::MsspAdmin).is_ok());
        assert!(close(R::CustomerAdmin).is_err());
        // Auto-close by the system, and nothing else by it.
        assert!(check(&plan, S::Resolved, S::Closed, Actor::System, "").is_ok());
        assert!(check(&plan, S::New, S::Acknowledged, Actor::System, "").is_err());
    }

    #[test]
    fn the_workflow_table() {
        let plan = incident();
        // (from, to, role, reason, allowed)
        let cases: &[(Status, Status, Role, &str, bool)] = &[
            (S::New, S::Acknowledged, R::MsspAnalyst, "", true),
            (S::New, S::Acknowledged, R::CustomerViewer, "", false),
            (S::New, S::Acknowledged, R::CustomerResponder, "", true),
            (S::New, S::Acknowledged, R::MsspEngineer, "", false),
            (S::New, S::Closed, R::CustomerAdmin, "", false),
            (S::New, S::Resolved, R::MsspAnalyst, "done", false),
            (S::Acknowledged, S::InProgress, R::MsspAnalyst, "", true),
            (
                S::InProgress,
                S::WaitingOnCustomer,
                R::MsspAnalyst,
                "",
                true,
            ),
            (
                S::InProgress,
                S::WaitingOnCustomer,
                R::CustomerAdmin,
                "",
                false,
            ),
            (
                S::InProgress,
                S::WaitingOnMssp,
                R::CustomerResponder,
                "",
                true,
            ),
            (S::InProgress, S::WaitingOnMssp, R::MsspAnalyst, "", false),
            (
                S::WaitingOnCustomer,
                S::InProgress,
                R::CustomerResponder,
                "",
                true,
            ),
            (
                S::InProgress,
                S::Resolved,
                R::CustomerResponder,
                "patched and rebooted",
                true,
            ),
            (S::InProgress, S::Resolved, R::CustomerResponder, " ", false),
            (S::InProgress, S::Resolved, R::CustomerViewer, "done", false),
            (S::Resolved, S::InProgress, R::CustomerAdmin, "", true),
            (S::Resolved, S::Closed, R::CustomerAdmin, "", true),
            (
                S::Closed,
                S::Reopened,
                R::CustomerAdmin,
                "it came back",
                true,
            ),
            (S::Closed, S::Reopened, R::MsspAnalyst, "", false),
            (
                S::Closed,
                S::Reopened,
                R::CustomerViewer,
                "it came back",
                false,
            ),
            (S::Closed, S::InProgress, R::MsspAdmin, "", false),
            (S::Reopened, S::Acknowledged, R::MsspAnalyst, "", true),
        ];
        for &(from, to, role, reason, allowed) in cases {
            let got = check(&plan, from, to, Actor::User(role), reason);
            assert_eq!(
                got.is_ok(),
                allowed,
                "{from} -> {to} by {role} ({reason:?}): {got:?}"
            );
        }
        // Every status but closed can move on; closed only reopens.
        for &from in Status::ALL {
            let next: Vec<_> = Status::ALL
                .iter()
                .filter(|&&to| is_step(from, to))
                .collect();
            assert!(!next.is_empty(), "{from} is a dead end");
            assert!(!is_step(from, from), "{from} to itself");
        }
        assert_eq!(
            Status::ALL
                .iter()
                .filter(|&&to| is_step(S::Closed, to))
                .collect::<Vec<_>>(),
            [&S::Reopened]
        );
    }

    #[test]
    fn priorities_from_magnitude_and_criticality() {
        let cases: &[(f64, Option<Criticality>, Priority)] = &[
            (9.1, None, Priority::P1),
            (8.0, Some(Criticality::Low), Priority::P2),
            (7.0, Some(Criticality::Critical), Priority::P1),
            (7.0, Some(Criticality::High), Priority::P2),
            (5.0, None, Priority::P3),
            (5.0, Some(Criticality::Critical), Priority::P2),
            (2.9, None, Priority::P4),
            (2.9, Some(Criticality::Low), Priority::P4),
            (0.5, Some(Criticality::Critical), Priority::P3),
            (10.0, Some(Criticality::Critical), Priority::P1),
        ];
        for &(m, c, want) in cases {
            assert_eq!(derive_priority(m, c), want, "magnitude {m}, {c:?}");
        }
        assert!(override_priority(Priority::P3, Priority::P1, "").is_err());
        assert_eq!(
            override_priority(Priority::P3, Priority::P1, "board meeting tomorrow").ok(),
            Some(Priority::P1)
        );
        assert_eq!(
            override_priority(Priority::P3, Priority::P3, "").ok(),
            Some(Priority::P3)
        );
    }

    #[test]
    fn milestones_for_reports() {
        let t = |s: i64| Timestamp::from_millis(s * 1000);
        let mut m = Milestones {
            detected: Some(t(0)),
            ..Milestones::default()
        };
        m.note(S::Acknowledged, t(60));
        m.note(S::InProgress, t(90));
        m.note_shared_comment(t(120));
        m.note_shared_comment(t(500));
        m.note(S::Resolved, t(600));
        m.note(S::Closed, t(700));
        assert_eq!(
            (m.acknowledged, m.first_response, m.resolved, m.closed),
            (Some(t(60)), Some(t(120)), Some(t(600)), Some(t(700)))
        );
        m.note(S::Reopened, t(800));
        assert_eq!((m.resolved, m.closed), (None, None));
        m.note(S::Resolved, t(900));
        assert_eq!(m.resolved, Some(t(900)));
        assert!(S::WaitingOnCustomer.pauses_clocks() && !S::WaitingOnMssp.pauses_clocks());
    }

    #[test]
    fn names_read_back() {
        for &t in TicketType::ALL {
            assert_eq!(t.as_str().parse::<TicketType>().ok(), Some(t));
            let plan = OwnerPlan::seeded(t);
            assert_ne!(plan.approve_closure, R::CustomerViewer, "{t}");
        }
        assert_eq!(
            "Waiting on customer".parse::<Status>().ok(),
            Some(S::WaitingOnCustomer)
        );
        assert!("P5".parse::<Priority>().is_err());
    }

    #[test]
    fn a_tickets_clocks_pause_while_waiting_on_the_customer() {
        use crate::sla::{ClockKind as K, ClockState as C, Contract, default_business_calendar};
        let at = |s: &str| Timestamp::parse(s).expect("time");
        let ids = (crate::ids::TicketId::new(), crate::ids::TenantId::new());
        let change = |from: Status, to: Status, when: &str| TicketChange {
            id: crate::ids::TicketChangeId::new(),
            ticket_id: ids.0,
            tenant_id: ids.1,
            from,
            to,
            actor_id: None,
            actor: "x".into(),
            reason: String::new(),
            at: at(when),
        };
        let mut ticket = Ticket {
            id: ids.0,
            tenant_id: ids.1,
            ticket_type: TicketType::SecurityIncident,
            title: "t".into(),
            description: String::new(),
            priority: Priority::P1,
            priority_reason: None,
            status: Status::New,
            plan: OwnerPlan::seeded(TicketType::SecurityIncident),
            offense_id: None,
            milestones: Milestones::default(),
            created_by: None,
            created_at: at("2026-05-04T10:00:00Z"),
            updated_at: at("2026-05-04T10:00:00Z"),
        };
        ticket
            .milestones
            .note(S::Acknowledged, at("2026-05-04T10:10:00Z"));
        let changes = [
            change(S::New, S::Acknowledged, "2026-05-04T10:10:00Z"),
            change(
                S::Acknowledged,
                S::WaitingOnCustomer,
                "2026-05-04T11:00:00Z",
            ),
            change(S::WaitingOnCustomer, S::InProgress, "2026-05-04T12:00:00Z"),
        ];
        let contract = Contract::default();
        let cal = default_business_calendar();
        let got = clocks(
            &ticket,
            &changes,
            &contract,
            &cal,
            at("2026-05-04T12:30:00Z"),
        );
        // P1: 24x7; acknowledged in 10 of 15 minutes; no first response
        // within 30 minutes (breached at 10:30); resolve: 4 hours plus the
        // hour waiting on the customer, 1.5 of 4 hours used.
        assert_eq!(
            got[0],
            (
                K::Acknowledge,
                C::Met {
                    at: at("2026-05-04T10:10:00Z"),
                    late: false
                }
            )
        );
        assert_eq!(
            got[1],
            (
                K::FirstResponse,
                C::Breached {
                    due: at("2026-05-04T10:30:00Z"),
                    used_percent: 300
                }
            )
        );
        assert_eq!(
            got[2],
            (
                K::Resolve,
                C::Running {
                    due: at("2026-05-04T15:00:00Z"),
                    used_percent: 37
                }
            )
        );
        // Still waiting: the resolve clock is paused.
        let waiting = &changes[..2];
        let got = clocks(
            &ticket,
            waiting,
            &contract,
            &cal,
            at("2026-05-04T20:00:00Z"),
        );
        assert_eq!(got[2], (K::Resolve, C::Paused { used_percent: 25 }));
        // P3 on the business calendar (09:00-17:00 UTC): opened Friday
        // 16:00, 4 hours to acknowledge: due Monday 12:00.
        ticket.priority = Priority::P3;
        ticket.milestones = Milestones::default();
        ticket.created_at = at("2026-05-08T16:00:00Z");
        let got = clocks(&ticket, &[], &contract, &cal, at("2026-05-08T16:30:00Z"));
        assert_eq!(
            got[0],
            (
                K::Acknowledge,
                C::Running {
                    due: at("2026-05-11T12:00:00Z"),
                    used_percent: 12
                }
            )
        );
    }
}

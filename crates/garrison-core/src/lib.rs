//! Garrison's domain: ids, tenancy, roles, validation rules and error codes.
//!
//! This crate does no IO and knows nothing of databases, HTTP or async
//! runtimes; `.ci/check-deps` fails the build if that changes.
#![forbid(unsafe_code)]

pub mod asset;
pub mod audit;
pub mod error;
pub mod event;
pub mod ids;
pub mod indicator;
pub mod model;
pub mod offense;
pub mod password;
pub mod rng;
pub mod role;
pub mod secret;
pub mod sla;
pub mod tenancy;
pub mod ticket;
pub mod time;
pub mod validate;

pub use error::ErrorCode;
pub use ids::{
    AssetId, AuditId, EventId, FindingId, ImportId, IndicatorId, IngestTokenId, OffenseId, RangeId,
    SessionId, SuppressionId, TenantId, TicketChangeId, TicketCommentId, TicketId, TokenId, UserId,
};
pub use role::{Permission, Role};
pub use secret::Secret;
pub use tenancy::{Principal, TenantAccess, TenantScope};
pub use time::{Clock, SystemClock, Timestamp};

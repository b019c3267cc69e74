//! Transport-neutral error codes. Library crates map their errors onto these;
//! only the web crate turns them into HTTP statuses.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The object does not exist *or the caller may not see it*: wrong-tenant
    /// access is reported exactly like a missing object.
    NotFound,
    /// The caller is known but lacks the permission for this action on an
    /// object they can see.
    Forbidden,
    /// No valid credentials were presented.
    Unauthenticated,
    /// The input is malformed or breaks a rule.
    Invalid,
    /// The action conflicts with existing state (duplicate slug, ...).
    Conflict,
    /// The input exceeds a size limit.
    TooLarge,
    /// Too many attempts; try again later.
    Throttled,
    /// A dependency (database, disk) is unavailable.
    Unavailable,
    /// A bug or an unexpected failure.
    Internal,
}

impl ErrorCode {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::Unauthenticated => "unauthenticated",
            Self::Invalid => "invalid",
            Self::Conflict => "conflict",
            Self::TooLarge => "too_large",
            Self::Throttled => "throttled",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

//! The application's error: one variant per transport-neutral code.

use std::time::Duration;

use garrison_core::ErrorCode;
use garrison_core::validate::Invalid;
use garrison_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, or not visible to the caller: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// Visible, but the caller's role does not allow the action.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Credentials missing, wrong or expired. The message is the same
    /// whatever the reason, so it never tells whether an account exists.
    #[error("authentication failed: the credentials are missing, wrong or expired")]
    Unauthenticated,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    Throttled { retry_after: Duration },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Too much work queued: nothing was taken; try again after
    /// `retry_after` (HTTP 503 with `Retry-After`).
    #[error("the ingest queues are full; try again in {} seconds", retry_after.as_secs().max(1))]
    Busy { retry_after: Duration },
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid(Invalid::new(field, reason))
    }

    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Invalid(_) => ErrorCode::Invalid,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::Throttled { .. } => ErrorCode::Throttled,
            Self::Unavailable(_) | Self::Busy { .. } => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(field) => Self::Conflict(format!("this {field} is already taken")),
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Corrupt(m) | StoreError::Backend(m) => Self::Internal(m),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A message safe to keep where users see it (an import's error): the
/// cause of an internal failure goes to the log, not to the user.
pub(crate) fn public(e: &AppError) -> String {
    match e {
        AppError::Internal(cause) | AppError::Unavailable(cause) => {
            tracing::error!(error.cause = %cause, "import failed");
            "an internal error stopped the import; the operator finds the cause in the server log"
                .to_owned()
        }
        other => other.to_string(),
    }
}

//! Errors as HTTP responses: the JSON shape for the API, status codes for
//! every error code. A 5xx never carries the cause; the cause is logged
//! under an error id that the response shows.

use std::any::Any;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use garrison_app::AppError;
use garrison_core::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code.
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The field at fault, for `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// For server errors: quote it to the operator, who finds the cause in
    /// the log under this id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<garrison_core::validate::Invalid> for ApiError {
    fn from(e: garrison_core::validate::Invalid) -> Self {
        Self(AppError::Invalid(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub(crate) const fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message a client may see, and the error id when the cause is hidden.
pub(crate) fn public_message(e: &AppError) -> (String, Option<String>) {
    match e {
        AppError::Internal(cause) | AppError::Unavailable(cause) => {
            let id = uuid::Uuid::now_v7().to_string();
            tracing::error!(error.id = %id, error.cause = %cause, "request failed");
            let msg = if matches!(e, AppError::Unavailable(_)) {
                "the service is temporarily unavailable; try again shortly"
            } else {
                "an internal error occurred"
            };
            (msg.to_owned(), Some(id))
        }
        other => (other.to_string(), None),
    }
}

/// Adds `Retry-After` to a throttled response.
pub(crate) fn with_retry_after(mut resp: Response, e: &AppError) -> Response {
    if let AppError::Throttled { retry_after } | AppError::Busy { retry_after } = e {
        let secs = retry_after.as_secs().max(1).to_string();
        if let Ok(v) = HeaderValue::from_str(&secs) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    if matches!(e, AppError::Unauthenticated) {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"garrison\""),
        );
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code());
        let (message, error_id) = public_message(&self.0);
        let field = match &self.0 {
            AppError::Invalid(i) => Some(i.field),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code().as_str(),
                message,
                field,
                error_id,
            },
        };
        with_retry_after((status, Json(body)).into_response(), &self.0)
    }
}

/// A panic in a handler becomes a plain 500; the panic is logged.
pub(crate) fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError(AppError::Internal(format!("handler panicked: {detail}"))).into_response()
}

//! HTTP errors as `application/problem+json`, with the same codes as WebSocket error frames.
//! Input errors are shown as they are (naming the field at fault); internal errors are logged
//! and shown generically.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ibasho_protocol::ErrorCode;
use ibasho_protocol::error::Problem;

/// An error an HTTP handler returns.
#[derive(Debug)]
pub enum AppError {
    /// The caller's fault, or a state the caller should know about.
    Client {
        /// The problem to show.
        problem: Box<Problem>,
        /// For 429: seconds until a retry may work (`Retry-After`).
        retry_after_secs: Option<u64>,
    },
    /// Ours. Logged in full, shown as `internal`.
    Internal(anyhow::Error),
}

impl AppError {
    /// A client error.
    pub fn client(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Client {
            problem: Box::new(Problem::new(code, detail)),
            retry_after_secs: None,
        }
    }

    /// A client error about one request field.
    pub fn field(code: ErrorCode, field: &str, detail: impl Into<String>) -> Self {
        Self::Client {
            problem: Box::new(Problem::new(code, detail).with_field(field)),
            retry_after_secs: None,
        }
    }

    /// `429 Too Many Requests` with `Retry-After`.
    pub fn rate_limited(wait_ms: u64, detail: impl Into<String>) -> Self {
        Self::Client {
            problem: Box::new(Problem::new(ErrorCode::RateLimited, detail)),
            retry_after_secs: Some(wait_ms.div_ceil(1000).max(1)),
        }
    }

    /// The error code, for callers that turn errors into other forms (the CLI).
    pub fn describe(&self) -> String {
        match self {
            AppError::Client { problem, .. } => {
                format!(
                    "{}: {}",
                    problem.code,
                    problem.detail.clone().unwrap_or_default()
                )
            }
            AppError::Internal(e) => format!("{e:#}"),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for AppError {
    fn from(e: E) -> Self {
        Self::Internal(e.into())
    }
}

/// Builds a problem response.
pub fn problem_response(body: &Problem) -> Response {
    let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Builds a problem response for `code`.
pub fn problem(code: ErrorCode, detail: impl Into<String>) -> Response {
    problem_response(&Problem::new(code, detail))
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Client {
                problem,
                retry_after_secs,
            } => {
                let mut response = problem_response(&problem);
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                response
            }
            AppError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                problem(
                    ErrorCode::Internal,
                    "something went wrong on our side; please try again",
                )
            }
        }
    }
}

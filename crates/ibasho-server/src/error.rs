//! HTTP errors as `application/problem+json`, with the same codes as WebSocket error frames.
//! Input errors are shown as they are; internal errors are logged and shown generically.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ibasho_protocol::ErrorCode;
use ibasho_protocol::error::Problem;

/// An error an HTTP handler returns.
#[derive(Debug)]
pub enum AppError {
    /// The caller's fault, or a state the caller should know about.
    Client(ErrorCode, String),
    /// Ours. Logged in full, shown as `internal`.
    Internal(anyhow::Error),
}

impl AppError {
    /// A client error.
    pub fn client(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Client(code, detail.into())
    }
}

impl<E: Into<anyhow::Error>> From<E> for AppError {
    fn from(e: E) -> Self {
        Self::Internal(e.into())
    }
}

/// Builds a problem response.
pub fn problem(code: ErrorCode, detail: impl Into<String>) -> Response {
    let body = Problem::new(code, detail);
    let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Client(code, detail) => problem(code, detail),
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

//! Every error response in one place: RFC 6749 §5.2 bodies (`{error, error_description}`),
//! RFC 6750 `WWW-Authenticate` for bearer failures, `Retry-After` for rate limits. The private
//! detail of a domain error is logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_core::{CoreError, ErrorCode};

/// An error as the HTTP API reports it.
#[derive(Debug)]
pub enum ApiError {
    /// A domain error: its code picks the status.
    Core(CoreError),
    /// Malformed input; the message names the field.
    BadRequest(String),
    /// The body is over the size limit.
    PayloadTooLarge,
    /// The body is not of the media type the endpoint reads; the message says which it wants.
    UnsupportedMediaType(String),
    /// The body did not arrive within `http.body_read_timeout`.
    RequestTimeout,
    /// The server is saturated (the password-check queue is full); retry after this many seconds.
    Unavailable(u64),
    /// `grant_type` is one this endpoint does not offer (RFC 6749 §5.2).
    UnsupportedGrantType(String),
    /// Too many attempts; retry after this many seconds.
    TooManyRequests(u64),
    /// The client authenticated with HTTP Basic and failed: answer with a Basic challenge.
    BasicClientAuthFailed,
    /// The bearer token is valid but lacks this scope (RFC 6750 §3.1 `insufficient_scope`).
    InsufficientScope(&'static str),
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> ApiError {
        ApiError::Core(error)
    }
}

/// The status for each code. Exhaustive on purpose: a new code must choose its status.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidGrant
        | ErrorCode::UnauthorizedClient
        | ErrorCode::InvalidScope => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn body(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response =
        (status, axum::Json(json!({ "error": error, "error_description": description }))).into_response();
    // RFC 6749 §5.1/§5.2: token endpoint responses must not be cached.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Core(error) => {
                let code = error.code();
                if code == ErrorCode::ServerError {
                    tracing::error!(error = %error, "request failed");
                } else {
                    tracing::debug!(code = code.as_str(), detail = %error, "request refused");
                }
                let mut response = body(status_of(code), code.as_str(), &error.public_description());
                if code == ErrorCode::InvalidToken {
                    // RFC 6750 §3.
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(r#"Bearer realm="tessera", error="invalid_token""#),
                    );
                }
                response
            }
            ApiError::BadRequest(message) => body(StatusCode::BAD_REQUEST, "invalid_request", &message),
            ApiError::PayloadTooLarge => {
                body(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the request body is larger than 64 KiB")
            }
            ApiError::UnsupportedMediaType(message) => {
                body(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", &message)
            }
            ApiError::RequestTimeout => {
                body(StatusCode::REQUEST_TIMEOUT, "invalid_request", "the request body did not arrive in time")
            }
            ApiError::Unavailable(seconds) => {
                let mut response =
                    body(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "the server is busy; try again");
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                response
            }
            ApiError::UnsupportedGrantType(grant) => body(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {:?} is not supported here", grant.chars().take(64).collect::<String>()),
            ),
            ApiError::TooManyRequests(seconds) => {
                let mut response =
                    body(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "too many attempts; try again later");
                if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            ApiError::InsufficientScope(scope) => {
                let mut response =
                    body(StatusCode::FORBIDDEN, "insufficient_scope", &format!("the token lacks scope {scope}"));
                let challenge = format!(r#"Bearer realm="tessera", error="insufficient_scope", scope="{scope}""#);
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            ApiError::BasicClientAuthFailed => {
                let mut response = body(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
                // RFC 6749 §5.2: a Basic failure answers with the scheme's challenge.
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="tessera""#));
                response
            }
        }
    }
}

/// A bearer request without a token (RFC 6750 §3.1: no error code, just the challenge).
pub fn bearer_required() -> Response {
    let mut response = body(StatusCode::UNAUTHORIZED, "invalid_request", "a bearer access token is required");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="tessera""#));
    response
}

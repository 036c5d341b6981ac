//! Routes by family; each handler parses, authenticates the client, calls one core flow and
//! maps the result.

pub mod auth;
pub mod authorize;
pub mod interaction;
pub mod logout;
pub mod oauth;
pub mod ops;
pub mod well_known;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_core::flows::issuance::IssuedTokens;

/// RFC 6749 §5.1 token response, never cached.
pub fn token_response(tokens: &IssuedTokens) -> Response {
    let mut body = json!({
        "access_token": tokens.access_token.token,
        "token_type": "Bearer",
        "expires_in": tokens.access_token.expires_in,
        "scope": tokens.scopes.join(" "),
    });
    if let Some(refresh) = &tokens.refresh_token {
        body["refresh_token"] = json!(refresh.expose());
    }
    if let Some(id_token) = &tokens.id_token {
        body["id_token"] = json!(id_token);
    }
    no_store(axum::Json(body).into_response())
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

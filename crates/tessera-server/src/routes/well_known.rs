//! Discovery (RFC 8414, OpenID Connect Discovery 1.0) and the JWK Set (RFC 7517).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::AppState;

/// Cache lifetime of the JWKS in seconds. `keys.prepublish` must be longer (checked by
/// `Config::validate`), so every cache has a new key before it signs.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;
/// The `Cache-Control` of the JWKS; its `max-age` is [`JWKS_MAX_AGE_SECONDS`].
const JWKS_MAX_AGE: &str = "public, max-age=300";

/// The metadata common to both documents: only endpoints and values that exist.
fn metadata(state: &AppState) -> Value {
    let issuer = &state.issuer;
    // Every algorithm with an active key: the configured ones and those clients registered.
    let algs: Vec<String> = state.ring.current().signing_algorithms().iter().map(|a| a.name().to_owned()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "end_session_endpoint": format!("{issuer}/oauth/logout"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "acr_values_supported": [tessera_core::flows::login::ACR_PASSWORD],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash",
            "email", "email_verified", "name", "given_name", "family_name", "middle_name", "nickname",
            "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
            "updated_at", "address", "phone_number", "phone_number_verified"
        ],
        "access_token_signing_alg_values_supported": [state.access_alg.name()],
        "id_token_signing_alg_values_supported": algs,
        "subject_types_supported": ["public"],
    })
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn oauth_authorization_server(State(state): State<AppState>) -> Response {
    cached(axum::Json(metadata(&state)).into_response(), "public, max-age=3600")
}

/// `GET /.well-known/openid-configuration`.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    cached(axum::Json(metadata(&state)).into_response(), "public, max-age=3600")
}

/// `GET /.well-known/jwks.json`, with an `ETag` so caches revalidate cheaply.
pub async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ring = state.ring.current();
    let body = ring.jwks_json().to_owned();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body.as_bytes());
    let etag = format!("\"{}\"", tessera_jose::base64url::encode(&digest.as_ref()[..16]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_etag(&mut response, &etag);
        return cached(response, JWKS_MAX_AGE);
    }
    let mut response = ([(header::CONTENT_TYPE, "application/jwk-set+json")], body).into_response();
    set_etag(&mut response, &etag);
    cached(response, JWKS_MAX_AGE)
}

fn set_etag(response: &mut Response, etag: &str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

fn cached(mut response: Response, policy: &'static str) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cache_control_says_the_checked_max_age() {
        assert_eq!(super::JWKS_MAX_AGE, format!("public, max-age={}", super::JWKS_MAX_AGE_SECONDS));
    }
}

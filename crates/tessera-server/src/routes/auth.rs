//! The first-party JSON API: `/auth/login`, `/auth/refresh`, `/auth/logout` (SPEC §5).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::CoreError;
use tessera_core::flows::bearer::authenticate_bearer;
use tessera_core::flows::issuance::IssuedTokens;
use tessera_core::flows::login::{LoginRequest, login as login_flow};
use tessera_core::flows::logout::{end_session, session_of_refresh_token};
use tessera_core::flows::refresh_token::{RefreshRequest, refresh as refresh_flow};
use tessera_core::model::client::{Client, ClientId, ClientStore};
use tessera_core::model::refresh::RefreshToken;
use tessera_core::model::session::SessionId;

use super::token_response;
use crate::client_address::ClientIp;
use crate::error::ApiError;
use crate::extract::{JsonBody, OptionalJsonBody, bearer_token};
use crate::password_pool::BUSY_RETRY_AFTER;
use crate::startup::FIRST_PARTY_CLIENT_ID;
use crate::state::AppState;

/// `POST /auth/login` body.
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
    client_id: Option<String>,
    scope: Option<String>,
}

/// The longest account name: an e-mail address's path is at most 256 octets with its angle
/// brackets (RFC 5321 §4.5.3.1.3), so 254 without. Longer input is refused before it is
/// counted, hashed or looked up.
pub const MAX_USERNAME: usize = 254;

/// `POST /auth/login`: password login for a first-party client.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    let now = state.now();
    if body.username.len() > MAX_USERNAME {
        return Err(ApiError::BadRequest(format!("username: longer than {MAX_USERNAME} bytes")));
    }
    let Some(_place) = state.passwords.admit() else { return Err(ApiError::Unavailable(BUSY_RETRY_AFTER)) };
    let account_key = body.username.trim().to_lowercase();
    let attempt = state.limits.begin(&account_key, ip, now).await.map_err(ApiError::TooManyRequests)?;
    let client = match first_party_client(&state, body.client_id.as_deref()).await {
        Ok(client) => client,
        Err(error) => {
            attempt.not_counted();
            return Err(error);
        }
    };
    let request = LoginRequest {
        client: &client,
        username: &body.username,
        password: &body.password,
        scope: body.scope.as_deref(),
        ip: Some(ip.to_string()),
    };
    match login_flow(&*state.store, &state.passwords, &state.issuance(), request, now).await {
        Ok(tokens) => {
            attempt.succeeded();
            metrics::counter!("tessera_tokens_issued_total", "grant" => "login").increment(1);
            Ok(token_response(&tokens))
        }
        Err(error @ CoreError::InvalidCredentials { .. }) => {
            attempt.failed();
            Err(error.into())
        }
        Err(error) => {
            attempt.not_counted();
            Err(error.into())
        }
    }
}

/// The client a first-party request acts for: the named public client, or the built-in one.
async fn first_party_client(state: &AppState, client_id: Option<&str>) -> Result<Client, ApiError> {
    let id = ClientId::new(client_id.unwrap_or(FIRST_PARTY_CLIENT_ID));
    match state.clients.client(&id).await? {
        Some(client) if !client.is_confidential() => Ok(client),
        Some(_) => Err(CoreError::InvalidClient { detail: "confidential clients use /oauth/token" }.into()),
        None => Err(CoreError::InvalidClient { detail: "unknown client_id" }.into()),
    }
}

/// `POST /auth/refresh` body.
#[derive(Debug, Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
    client_id: Option<String>,
}

/// `POST /auth/refresh`: rotates the refresh token, returns a new access token.
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Response, ApiError> {
    let client = first_party_client(&state, body.client_id.as_deref()).await?;
    let tokens = refresh_grant(&state, &client, &body.refresh_token, None, Some(ip.to_string())).await?;
    Ok(token_response(&tokens))
}

/// The refresh-token grant shared by `/auth/refresh` and `/oauth/token`.
pub async fn refresh_grant(
    state: &AppState,
    client: &Client,
    presented: &str,
    scope: Option<&str>,
    ip: Option<String>,
) -> Result<IssuedTokens, ApiError> {
    let now = state.now();
    let token =
        RefreshToken::parse(presented).map_err(|_| CoreError::InvalidGrant { detail: "malformed refresh token" })?;
    let request = RefreshRequest { client, refresh_token: &token, scope, ip };
    let tokens = refresh_flow(&*state.store, &state.issuance(), request, now).await?;
    metrics::counter!("tessera_tokens_issued_total", "grant" => "refresh_token").increment(1);
    Ok(tokens)
}

/// `POST /auth/logout` body (optional when a bearer token is sent).
#[derive(Debug, Default, Deserialize)]
pub struct LogoutBody {
    refresh_token: Option<String>,
}

/// `POST /auth/logout`: ends the session of the refresh token or bearer token; `204`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<LogoutBody>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let bearer = bearer_token(&headers)?;
    let sid = if let Some(refresh) = body.refresh_token.as_deref() {
        session_of_refresh_token(&*state.store, refresh).await?
    } else if let Some(bearer) = bearer {
        let info = authenticate_bearer(&*state.store, &state.ring.current(), bearer, now).await?;
        match info.claim("sid") {
            Some(sid) => Some(SessionId::new(sid)),
            None => return Err(ApiError::BadRequest("this access token has no session to end".into())),
        }
    } else {
        return Err(ApiError::BadRequest("refresh_token: missing (or send a bearer access token)".into()));
    };
    if let Some(sid) = sid {
        end_session(&*state.store, &state.audit, &sid, state.max_access_ttl(), now).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! The first-party JSON API: `/auth/login`, `/auth/refresh`, `/auth/logout` (SPEC §5).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
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
use crate::error::ApiError;
use crate::extract::{JsonBody, bearer_token};
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

/// `POST /auth/login`: password login for a first-party client.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let ip = peer.ip().to_string();
    if let Some(wait) = state.limits.per_ip.hit(&ip, now) {
        return Err(ApiError::TooManyRequests(wait));
    }
    let account_key = body.username.trim().to_lowercase();
    if let Some(wait) = state.limits.per_account.blocked_for(&account_key, now) {
        return Err(ApiError::TooManyRequests(wait));
    }
    let client = first_party_client(&state, body.client_id.as_deref()).await?;
    let request = LoginRequest {
        client: &client,
        username: &body.username,
        password: &body.password,
        scope: body.scope.as_deref(),
        ip: Some(ip),
    };
    match login_flow(&*state.store, &state.passwords, &state.issuance(), request, now).await {
        Ok(tokens) => {
            state.limits.per_account.clear(&account_key);
            metrics::counter!("tessera_tokens_issued_total", "grant" => "login").increment(1);
            Ok(token_response(&tokens))
        }
        Err(error @ CoreError::InvalidCredentials { .. }) => {
            state.limits.per_account.hit(&account_key, now);
            Err(error.into())
        }
        Err(error) => Err(error.into()),
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Response, ApiError> {
    let client = first_party_client(&state, body.client_id.as_deref()).await?;
    let tokens = refresh_grant(&state, &client, &body.refresh_token, None, Some(peer.ip().to_string())).await?;
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
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let now = state.now();
    let body: LogoutBody = if body.is_empty() {
        LogoutBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let sid = if let Some(refresh) = body.refresh_token.as_deref() {
        session_of_refresh_token(&*state.store, refresh).await?
    } else if let Some(bearer) = bearer_token(&headers) {
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

//! OAuth 2.0 endpoints: token (RFC 6749 §3.2), revocation (RFC 7009), introspection
//! (RFC 7662), and OpenID Connect userinfo (Core §5.3).

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::CoreError;
use tessera_core::flows::authorization_code::{CodeRequest, redeem_code};
use tessera_core::flows::bearer::authenticate_bearer;
use tessera_core::flows::client_credentials::client_credentials;
use tessera_core::flows::introspection::introspect as introspect_flow;
use tessera_core::flows::revocation::revoke_token;
use tessera_core::model::account::UserId;
use tessera_core::model::client::GrantType;
use tessera_core::model::id_token::released_claims;

use super::{auth::refresh_grant, no_store, token_response};
use crate::client_address::ClientIp;
use crate::error::{ApiError, bearer_required};
use crate::extract::{FormBody, FormOrJson, authenticate, bearer_token, presented_client};
use crate::state::AppState;

/// `POST /oauth/token` form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    scope: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// `POST /oauth/token`.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormOrJson(form): FormOrJson<TokenForm>,
) -> Result<Response, ApiError> {
    let grant_type = form.grant_type.as_deref().ok_or_else(|| ApiError::BadRequest("grant_type: missing".into()))?;
    let ip = ip.to_string();
    let presented = presented_client(&headers, form.client_id.as_deref(), form.client_secret.as_deref())?
        .ok_or(CoreError::InvalidClient { detail: "no client credentials" })?;
    let client = authenticate(&state, presented, Some(ip.clone())).await?;
    let tokens = match grant_type {
        "client_credentials" => {
            let tokens = client_credentials(&state.issuance(), &client, form.scope.as_deref(), state.now())?;
            metrics::counter!("tessera_tokens_issued_total", "grant" => "client_credentials").increment(1);
            // Counted, audited as one event per client, address and scope every few seconds
            // (issuance_tally.rs): the hot path of service calls writes nothing per token.
            state.issuance_tally.record(&state.audit, &client.client_id, &ip, &tokens.scopes, state.now());
            tokens
        }
        "authorization_code" => {
            client.require_grant(GrantType::AuthorizationCode)?;
            let code = form
                .code
                .as_deref()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| ApiError::BadRequest("code: missing".into()))?;
            let request = CodeRequest {
                client: &client,
                code,
                redirect_uri: form.redirect_uri.as_deref(),
                code_verifier: form.code_verifier.as_deref(),
                ip: Some(ip),
            };
            let tokens = redeem_code(&*state.store, &state.issuance(), request, state.now()).await?;
            metrics::counter!("tessera_tokens_issued_total", "grant" => "authorization_code").increment(1);
            tokens
        }
        "refresh_token" => {
            let presented =
                form.refresh_token.as_deref().ok_or_else(|| ApiError::BadRequest("refresh_token: missing".into()))?;
            refresh_grant(&state, &client, presented, form.scope.as_deref(), Some(ip)).await?
        }
        // `password` is only the first-party /auth/login (RFC 9700 §2.4 forbids it here);
        // the others arrive with their own endpoints.
        other => return Err(ApiError::UnsupportedGrantType(other.to_owned())),
    };
    Ok(token_response(&tokens))
}

/// `POST /oauth/revoke` and `/oauth/introspect` form.
#[derive(Debug, Deserialize)]
pub struct TokenOnlyForm {
    token: Option<String>,
    #[allow(dead_code)] // RFC 7009 §2.1: a hint the server may ignore; both types are tried.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

async fn client_and_token(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    form: TokenOnlyForm,
) -> Result<(tessera_core::model::client::Client, String), ApiError> {
    let presented = presented_client(headers, form.client_id.as_deref(), form.client_secret.as_deref())?
        .ok_or(CoreError::InvalidClient { detail: "no client credentials" })?;
    let client = authenticate(state, presented, Some(ip.to_string())).await?;
    let token = form.token.filter(|t| !t.is_empty()).ok_or_else(|| ApiError::BadRequest("token: missing".into()))?;
    Ok((client, token))
}

/// `POST /oauth/revoke` (RFC 7009): `200` with an empty body, also for unknown tokens.
pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormBody(form): FormBody<TokenOnlyForm>,
) -> Result<Response, ApiError> {
    let (client, token) = client_and_token(&state, ip, &headers, form).await?;
    revoke_token(&*state.store, &state.audit, &state.ring.current(), &client, &token, state.now()).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /oauth/introspect` (RFC 7662), for confidential clients (resource servers).
pub async fn introspect(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormBody(form): FormBody<TokenOnlyForm>,
) -> Result<Response, ApiError> {
    let (client, token) = client_and_token(&state, ip, &headers, form).await?;
    if !client.is_confidential() {
        return Err(CoreError::UnauthorizedClient { grant_type: "introspection".into() }.into());
    }
    let body = introspect_flow(&*state.store, &state.ring.current(), &client, &token, state.now()).await?;
    Ok(no_store(axum::Json(body).into_response()))
}

/// `POST /oauth/userinfo` form: the RFC 6750 §2.2 body parameter.
#[derive(Debug, Deserialize)]
pub struct UserinfoForm {
    access_token: Option<String>,
}

/// `GET|POST /oauth/userinfo` and `/api/userinfo`: the claims of the token's user that its
/// scopes allow (OIDC Core §5.4). A token without a user (client credentials) has none.
pub async fn userinfo(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let in_header = bearer_token(&parts.headers)?.map(str::to_owned);
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let in_body = if parts.method == Method::POST && is_form {
        let FormBody(form) = FormBody::<UserinfoForm>::from_request(Request::from_parts(parts, body), &state).await?;
        form.access_token
    } else {
        None
    };
    let token = match (in_header, in_body) {
        // RFC 6750 §2: a client must not use more than one method per request.
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "access_token: sent both in the Authorization header and in the body".into(),
            ));
        }
        (Some(token), None) | (None, Some(token)) => token,
        (None, None) => return Ok(bearer_required()),
    };
    let token = token.as_str();
    let info = authenticate_bearer(&*state.store, &state.ring.current(), token, state.now()).await?;
    let invalid = |detail: &str| CoreError::InvalidToken { detail: detail.to_owned() };
    if info.claim("sid").is_none() {
        return Err(invalid("token has no user").into());
    }
    let sub = info.claim("sub").unwrap_or_default();
    let account = match state.store.account(&UserId::new(sub)).await? {
        Some(account) if !account.disabled => account,
        _ => return Err(invalid("account disabled or removed").into()),
    };
    let scopes: Vec<String> = info.scopes().map(str::to_owned).collect();
    // OIDC Core §5.3: userinfo is an OpenID Connect resource; a plain OAuth token is refused.
    if !scopes.iter().any(|s| s == "openid") {
        return Err(ApiError::InsufficientScope("openid"));
    }
    // Claims the client asked for one by one (the claims parameter) are the grant's.
    let requested = match info.claim("jti") {
        Some(jti) => state.store.grant_of_access_token(jti).await?.map(|grant| grant.claims.userinfo),
        None => None,
    };
    let mut claims = released_claims(&account, &scopes, requested.as_deref().unwrap_or_default());
    claims.insert("sub".into(), json!(account.id.as_str()));
    Ok(no_store(axum::Json(Value::Object(claims)).into_response()))
}

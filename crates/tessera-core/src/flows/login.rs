//! The first-party password login (`POST /auth/login`), read top to bottom: the client may use
//! it; the scope is allowed; the password is checked (against a dummy hash when the account
//! does not exist, so both cost the same); an API session is created; a grant is stored with its
//! first access token and, if the client may refresh, its first refresh token.

use async_trait::async_trait;
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::flows::issuance::{Issuance, IssuedTokens};
use crate::flows::refresh_token::start_grant;
use crate::model::account::{Email, PasswordHash};
use crate::model::audit::{AuditEvent, AuditKind};
use crate::model::client::{Client, GrantType};
use crate::model::session::{Session, SessionId, SessionKind};
use crate::random::random_id;
use crate::store::Store;

/// `acr` of a password-only login: one factor. MFA raises it.
pub const ACR_PASSWORD: &str = "1";

/// Checks passwords. The server runs the Argon2id work on a bounded blocking pool; tests
/// may check directly.
#[async_trait]
pub trait PasswordCheck: Send + Sync {
    /// Whether `password` matches `hash`; with no hash, a dummy check of the same cost.
    async fn verify(&self, password: &str, hash: Option<&PasswordHash>) -> bool;
}

/// Checks passwords on the calling thread. For tests and tools, not for an async server.
#[derive(Debug, Default)]
pub struct InlinePasswordCheck;

#[async_trait]
impl PasswordCheck for InlinePasswordCheck {
    async fn verify(&self, password: &str, hash: Option<&PasswordHash>) -> bool {
        crate::secrets::password::verify_password(password, hash)
    }
}

/// A login request.
#[derive(Debug)]
pub struct LoginRequest<'a> {
    /// The client the login is for.
    pub client: &'a Client,
    /// The e-mail address.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// `scope`, space-separated; absent, the client's scopes.
    pub scope: Option<&'a str>,
    /// The request's IP, for the audit log.
    pub ip: Option<String>,
}

/// Checks a username and password, for the JSON login and the browser login form alike. Every
/// credential failure is [`CoreError::InvalidCredentials`] and audited, whether the account is
/// unknown, disabled, password-less or the password is wrong; the password is checked (against
/// a dummy hash for an unknown account) before anything is decided, so both cost the same.
#[allow(clippy::too_many_arguments)] // each is one input of the check; a struct would only rename them
pub async fn check_password<S: Store + ?Sized>(
    store: &S,
    passwords: &dyn PasswordCheck,
    services: &Issuance<'_>,
    client: &Client,
    username: &str,
    password: &str,
    ip: Option<String>,
    now: Timestamp,
) -> Result<crate::model::account::Account, CoreError> {
    let account = match Email::parse(username) {
        Ok(email) => store.account_by_email(&email).await?,
        Err(_) => None,
    };
    let hash = account.as_ref().and_then(|a| a.password_hash.as_ref());
    let password_ok = passwords.verify(password, hash).await;
    let failure = match &account {
        _ if !password_ok => Some("wrong password or unknown account"),
        Some(account) if account.disabled => Some("account disabled"),
        None => Some("unknown account"),
        Some(_) => None,
    };
    match (account, failure) {
        (Some(account), None) => Ok(account),
        (_, failure) => {
            let detail = failure.unwrap_or("unknown account");
            services.audit.record(
                AuditEvent::new(AuditKind::LoginFailed, now)
                    .client(&client.client_id)
                    .ip(ip)
                    .details(json!({ "username": username.chars().take(254).collect::<String>(), "reason": detail })),
            );
            Err(CoreError::InvalidCredentials { detail })
        }
    }
}

/// Runs a password login. Every credential failure is [`CoreError::InvalidCredentials`],
/// whether the account is unknown, disabled, password-less or the password is wrong.
pub async fn login<S: Store + ?Sized>(
    store: &S,
    passwords: &dyn PasswordCheck,
    services: &Issuance<'_>,
    request: LoginRequest<'_>,
    now: Timestamp,
) -> Result<IssuedTokens, CoreError> {
    let client = request.client;
    client.require_grant(GrantType::Password)?;
    let scopes = client.grant_scopes(request.scope)?;

    let account =
        check_password(store, passwords, services, client, request.username, request.password, request.ip.clone(), now)
            .await?;

    let policy = services.policy;
    let session = Session {
        sid: SessionId::new(random_id(services.random)?),
        kind: SessionKind::Api,
        user_id: account.id.clone(),
        client_id: Some(client.client_id.clone()),
        auth_time: now,
        acr: Some(ACR_PASSWORD.to_owned()),
        amr: vec!["pwd".to_owned()],
        created_at: now,
        expires_at: now.plus(policy.refresh_ttl_for(client)),
        revoked_at: None,
    };
    store.create_session(&session).await?;
    let (access_token, refresh_token, id_token) =
        start_grant(store, services, client, &session, Some(&account), scopes.clone(), now).await?;
    services.audit.record(
        AuditEvent::new(AuditKind::LoginSucceeded, now)
            .actor(account.id.as_str())
            .client(&client.client_id)
            .ip(request.ip)
            .details(json!({ "sid": session.sid.as_str(), "amr": ["pwd"] })),
    );
    Ok(IssuedTokens { access_token, refresh_token, scopes, sid: Some(session.sid), id_token })
}

//! The refresh-token grant (RFC 6749 §6), read top to bottom as its steps: the client may use
//! the grant; the presented token is rotated in one storage operation; a reuse has already
//! revoked its family when it is reported here, and is audited as an incident; the session and
//! the account behind the family must still be valid; the scope may be narrowed, not widened.

use serde_json::json;

use crate::access_token::TokenPolicy;
use crate::account::AccountStore;
use crate::audit::{AuditEvent, AuditKind, AuditSink};
use crate::client::{Client, GrantType};
use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::random::Random;
use crate::refresh::{FamilyId, RefreshFamily, RefreshStore, RefreshToken, RotateOutcome};
use crate::session::{Session, SessionStore};

/// Starts the refresh family of a fresh login and returns its first token. The family lives
/// for the client's refresh lifetime from now, and rotation never extends it.
pub async fn start_refresh_family(
    refresh: &dyn RefreshStore,
    random: &dyn Random,
    policy: &TokenPolicy,
    client: &Client,
    session: &Session,
    scopes: Vec<String>,
    now: Timestamp,
) -> Result<(RefreshToken, RefreshFamily), CoreError> {
    client.require_grant(GrantType::RefreshToken)?;
    let token = RefreshToken::generate(random)?;
    let family = RefreshFamily {
        id: FamilyId::generate(random)?,
        client_id: client.client_id.clone(),
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        scopes,
        created_at: now,
        expires_at: now.plus(policy.refresh_ttl_for(client)),
        revoked_at: None,
    };
    refresh.create_refresh_family(&family, &token.hash()).await?;
    Ok((token, family))
}

/// A refresh request from an authenticated client.
#[derive(Debug)]
pub struct RefreshRequest<'a> {
    /// The client, already authenticated.
    pub client: &'a Client,
    /// The presented token.
    pub refresh_token: &'a RefreshToken,
    /// `scope`, to narrow the new access token (RFC 6749 §6).
    pub scope: Option<&'a str>,
    /// The request's IP address, for the audit log.
    pub ip: Option<String>,
}

/// What a successful refresh yields: the replacement token and what the new access token needs.
#[derive(Debug)]
pub struct RefreshGrant {
    /// The replacement refresh token, to return to the client.
    pub refresh_token: RefreshToken,
    /// The family, after the rotation.
    pub family: RefreshFamily,
    /// The session behind the family.
    pub session: Session,
    /// The scopes of the new access token.
    pub scopes: Vec<String>,
}

/// Rotates a refresh token. Every failure is `invalid_grant` to the client; the reuse case is
/// [`CoreError::RefreshTokenReused`] and has revoked the family before this returns.
pub async fn rotate_refresh_token<S>(
    store: &S,
    audit: &dyn AuditSink,
    random: &dyn Random,
    request: RefreshRequest<'_>,
    now: Timestamp,
) -> Result<RefreshGrant, CoreError>
where
    S: AccountStore + SessionStore + RefreshStore + ?Sized,
{
    let client = request.client;
    client.require_grant(GrantType::RefreshToken)?;
    let presented = request.refresh_token.hash();

    // A bad scope must fail before the rotation, or the client would lose its token to a typo.
    // The read only validates the request; the decision is still the atomic rotation below.
    let narrowed = match request.scope.filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(scope) => match store.refresh_token(&presented).await? {
            Some((family, _)) => Some(narrow_scopes(&family.scopes, scope)?),
            None => None,
        },
    };

    let replacement = RefreshToken::generate(random)?;
    let outcome = store.rotate_refresh_token(&presented, &replacement.hash(), &client.client_id, now).await?;
    let family = match outcome {
        RotateOutcome::Rotated { family } => family,
        RotateOutcome::Reused { family_id } => {
            // RFC 9700 §4.14.2: the store revoked the family; record the incident.
            audit.record(
                AuditEvent::new(AuditKind::RefreshReused, now)
                    .client(&client.client_id)
                    .ip(request.ip)
                    .details(json!({ "family_id": family_id.as_str() })),
            );
            return Err(CoreError::RefreshTokenReused { family_id });
        }
        RotateOutcome::Unknown => return Err(invalid_grant("unknown refresh token")),
        RotateOutcome::ClientMismatch => return Err(invalid_grant("refresh token of another client")),
        RotateOutcome::Revoked { .. } => return Err(invalid_grant("refresh family revoked")),
        RotateOutcome::Expired => return Err(invalid_grant("refresh family expired")),
    };

    let session = match store.session(&family.sid).await? {
        Some(session) if session.is_active(now) => session,
        _ => return Err(revoke(store, &family, now, "session ended").await),
    };
    match store.account(&family.user_id).await? {
        Some(account) if !account.disabled => {}
        _ => return Err(revoke(store, &family, now, "account disabled or removed").await),
    }

    audit.record(
        AuditEvent::new(AuditKind::RefreshRotated, now)
            .actor(family.user_id.as_str())
            .client(&client.client_id)
            .ip(request.ip)
            .details(json!({ "family_id": family.id.as_str(), "sid": family.sid.as_str() })),
    );
    let scopes = narrowed.unwrap_or_else(|| family.scopes.clone());
    Ok(RefreshGrant { refresh_token: replacement, family, session, scopes })
}

/// RFC 6749 §6: the requested scope must not include any scope not originally granted.
fn narrow_scopes(granted: &[String], requested: &str) -> Result<Vec<String>, CoreError> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !granted.iter().any(|g| g == scope) {
            return Err(CoreError::InvalidScope { scope: scope.to_owned() });
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    Ok(scopes)
}

fn invalid_grant(detail: &'static str) -> CoreError {
    CoreError::InvalidGrant { detail }
}

/// Revokes a family whose session or account is gone, so its replacement token dies too. The
/// revocation's own failure outranks the grant error: the caller must learn that it did not
/// commit.
async fn revoke<S>(store: &S, family: &RefreshFamily, now: Timestamp, detail: &'static str) -> CoreError
where
    S: RefreshStore + ?Sized,
{
    match store.revoke_refresh_family(&family.id, now).await {
        Ok(_) => invalid_grant(detail),
        Err(error) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, Email, UserId};
    use crate::audit::MemoryAuditSink;
    use crate::client::{ClientId, ClientKind};
    use crate::memory::MemoryStore;
    use crate::random::TestRandom;
    use crate::session::{SessionId, SessionKind};

    const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

    struct World {
        store: MemoryStore,
        audit: MemoryAuditSink,
        random: TestRandom,
        client: Client,
        token: RefreshToken,
        family: RefreshFamily,
    }

    async fn world() -> World {
        let store = MemoryStore::default();
        let random = TestRandom::new(42);
        let client = Client {
            client_id: ClientId::new("app"),
            kind: ClientKind::Public,
            redirect_uris: vec![],
            grant_types: vec![GrantType::RefreshToken, GrantType::Password],
            scopes: vec!["openid".into(), "orders:read".into()],
            audiences: vec!["api".into()],
            access_ttl: None,
            refresh_ttl: Some(600),
            created_at: NOW,
        };
        let account = Account::new(UserId::new("u1"), Email::parse("u1@example.com").unwrap(), None, None, NOW);
        let session = Session {
            sid: SessionId::new("s1"),
            kind: SessionKind::Api,
            user_id: account.id.clone(),
            client_id: Some(client.client_id.clone()),
            auth_time: NOW,
            acr: None,
            amr: vec!["pwd".into()],
            created_at: NOW,
            expires_at: NOW.plus(600),
            revoked_at: None,
        };
        store.create_account(&account).await.unwrap();
        crate::client::ClientStore::create_client(&store, &client).await.unwrap();
        store.create_session(&session).await.unwrap();
        let policy = TokenPolicy { issuer: "https://id.example".into(), access_ttl: 900, refresh_ttl: 86_400 };
        let (token, family) =
            start_refresh_family(&store, &random, &policy, &client, &session, client.scopes.clone(), NOW)
                .await
                .unwrap();
        assert_eq!(family.expires_at, NOW.plus(600), "the client's refresh lifetime applies");
        World { store, audit: MemoryAuditSink::default(), random, client, token, family }
    }

    async fn refresh(
        w: &World,
        token: &RefreshToken,
        scope: Option<&str>,
        now: Timestamp,
    ) -> Result<RefreshGrant, CoreError> {
        let request = RefreshRequest { client: &w.client, refresh_token: token, scope, ip: None };
        rotate_refresh_token(&w.store, &w.audit, &w.random, request, now).await
    }

    #[tokio::test]
    async fn rotation_returns_a_new_token_and_audits() {
        let w = world().await;
        let grant = refresh(&w, &w.token, None, NOW.plus(1)).await.unwrap();
        assert_ne!(grant.refresh_token, w.token);
        assert_eq!(grant.scopes, w.family.scopes);
        assert_eq!(grant.session.sid, w.family.sid);
        assert_eq!(w.audit.events()[0].kind, AuditKind::RefreshRotated);
        assert!(refresh(&w, &grant.refresh_token, None, NOW.plus(2)).await.is_ok());
    }

    #[tokio::test]
    async fn reuse_revokes_the_family_before_the_error_and_is_an_incident() {
        let w = world().await;
        let second = refresh(&w, &w.token, None, NOW.plus(1)).await.unwrap().refresh_token;
        let error = refresh(&w, &w.token, None, NOW.plus(2)).await.unwrap_err();
        assert!(matches!(error, CoreError::RefreshTokenReused { .. }));
        assert_eq!(error.code().as_str(), "invalid_grant");
        let family = w.store.refresh_family(&w.family.id).await.unwrap().unwrap();
        assert_eq!(family.revoked_at, Some(NOW.plus(2)));
        assert!(w.audit.events().iter().any(|e| e.kind == AuditKind::RefreshReused));
        let error = refresh(&w, &second, None, NOW.plus(3)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidGrant { .. }), "the live token died with its family");
    }

    #[tokio::test]
    async fn scope_may_narrow_but_not_widen_and_a_bad_scope_keeps_the_token() {
        let w = world().await;
        let error = refresh(&w, &w.token, Some("openid admin"), NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidScope { .. }));
        let grant = refresh(&w, &w.token, Some("openid"), NOW.plus(2)).await.unwrap();
        assert_eq!(grant.scopes, ["openid"]);
        assert_eq!(grant.family.scopes.len(), 2, "the family keeps what was granted");
    }

    #[tokio::test]
    async fn disabled_account_or_ended_session_revokes_the_family() {
        let w = world().await;
        w.store.set_account_disabled(&UserId::new("u1"), true, NOW).await.unwrap();
        let error = refresh(&w, &w.token, None, NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidGrant { .. }));
        assert!(w.store.refresh_family(&w.family.id).await.unwrap().unwrap().revoked_at.is_some());

        let w = world().await;
        let error = refresh(&w, &w.token, None, NOW.plus(600)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidGrant { detail: "refresh family expired" }));
    }

    #[tokio::test]
    async fn client_without_the_grant_is_refused_before_rotation() {
        let mut w = world().await;
        w.client.grant_types = vec![GrantType::Password];
        let error = refresh(&w, &w.token, None, NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::UnauthorizedClient { .. }));
        let (_, record) = w.store.refresh_token(&w.token.hash()).await.unwrap().unwrap();
        assert_eq!(record.used_at, None);
    }
}

//! The refresh-token grant (RFC 6749 §6), read top to bottom as its steps: the client may use
//! the grant; everything that can fail is checked before anything commits — the token's grant,
//! the session and the account behind it, the narrowed scope, the signed access token — so that
//! the rotation, one atomic storage operation, is followed only by building the response and a
//! client's retry can never look like a reuse. A reuse has already revoked the grant with every
//! token it issued when it is reported here, and is audited as an incident.

use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::flows::issuance::{Issuance, IssuedTokens};
use crate::model::access_token::IssuedAccessToken;
use crate::model::account::AccountStore;
use crate::model::audit::{AuditEvent, AuditKind};
use crate::model::client::{Client, GrantType};
use crate::model::grant::{Grant, GrantId, GrantStore};
use crate::model::id_token::{IdTokenInput, issue_id_token};
use crate::model::refresh::{RefreshContext, RefreshStore, RefreshToken, RotateOutcome, Rotation};
use crate::model::session::Session;

/// Starts the grant of a fresh login: its first access token, an ID token when `openid` is
/// granted and the account is given, and, if the client may refresh, its first refresh token,
/// stored with the grant in one step (everything signed before). The grant lives for the
/// client's refresh lifetime from now, and rotation never extends it.
pub async fn start_grant<S>(
    store: &S,
    services: &Issuance<'_>,
    client: &Client,
    session: &Session,
    account: Option<&crate::model::account::Account>,
    scopes: Vec<String>,
    now: Timestamp,
) -> Result<(IssuedAccessToken, Option<RefreshToken>, Option<String>), CoreError>
where
    S: GrantStore + ?Sized,
{
    let grant = Grant {
        id: GrantId::generate(services.random)?,
        client_id: client.client_id.clone(),
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        scopes,
        claims: Default::default(),
        created_at: now,
        expires_at: now.plus(services.policy.refresh_ttl_for(client)),
        revoked_at: None,
    };
    let (access_token, record) = services.user_access_token(client, &session.user_id, session, &grant.scopes, now)?;
    let id_token = match account {
        Some(account) if grant.scopes.iter().any(|s| s == "openid") => {
            let input = IdTokenInput {
                client,
                account,
                session,
                scopes: &grant.scopes,
                nonce: None,
                access_token: &access_token.token,
                requested: &[],
            };
            Some(issue_id_token(services.id_tokens, &services.policy.issuer, input, now)?)
        }
        _ => None,
    };
    let refresh_token = client
        .grant_types
        .contains(&GrantType::RefreshToken)
        .then(|| RefreshToken::generate(services.random))
        .transpose()?;
    store.create_grant(&grant, refresh_token.as_ref().map(RefreshToken::hash).as_ref(), &record).await?;
    Ok((access_token, refresh_token, id_token))
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

/// Rotates a refresh token and issues the new access token. Every failure is `invalid_grant`
/// to the client; the reuse case is [`CoreError::RefreshTokenReused`] and has revoked the grant
/// before this returns.
pub async fn refresh<S>(
    store: &S,
    services: &Issuance<'_>,
    request: RefreshRequest<'_>,
    now: Timestamp,
) -> Result<IssuedTokens, CoreError>
where
    S: GrantStore + RefreshStore + AccountStore + ?Sized,
{
    let client = request.client;
    client.require_grant(GrantType::RefreshToken)?;
    let presented = request.refresh_token.hash();

    // Checks that can fail, before the commit. The read is not the decision (the rotation below
    // is); it only makes sure nothing but building the response follows a committed rotation.
    let Some(RefreshContext { grant, session, account_active, .. }) = store.refresh_context(&presented).await? else {
        return Err(invalid_grant("unknown refresh token"));
    };
    if grant.client_id != client.client_id {
        return Err(invalid_grant("refresh token of another client"));
    }
    if !grant.is_active(now) {
        return Err(invalid_grant("grant revoked or expired"));
    }
    // A bad scope fails here, or the client would lose its token to a typo.
    let scopes = match request.scope.filter(|s| !s.trim().is_empty()) {
        Some(scope) => narrow_scopes(&grant.scopes, scope)?,
        None => grant.scopes.clone(),
    };
    let session = match session {
        Some(session) if session.is_active(now) => session,
        _ => return Err(revoke(store, &grant.id, now, "session ended").await),
    };
    if !account_active {
        return Err(revoke(store, &grant.id, now, "account disabled or removed").await);
    }
    let (access_token, record) = services.user_access_token(client, &grant.user_id, &session, &scopes, now)?;
    // OIDC Core §12.2: a new ID token with the same iss, sub, aud and auth_time, and no nonce.
    let id_token = if scopes.iter().any(|s| s == "openid") {
        let account = match store.account(&grant.user_id).await? {
            Some(account) if !account.disabled => account,
            _ => return Err(revoke(store, &grant.id, now, "account disabled or removed").await),
        };
        let input = IdTokenInput {
            client,
            account: &account,
            session: &session,
            scopes: &scopes,
            nonce: None,
            access_token: &access_token.token,
            requested: &grant.claims.id_token,
        };
        Some(issue_id_token(services.id_tokens, &services.policy.issuer, input, now)?)
    } else {
        None
    };
    let replacement = RefreshToken::generate(services.random)?;

    let rotation = Rotation {
        presented: &presented,
        replacement: &replacement.hash(),
        client_id: &client.client_id,
        access_token: &record,
        reuse_interval: services.policy.refresh_reuse_interval,
    };
    let (grant, retry) = match store.rotate_refresh_token(rotation, now).await? {
        RotateOutcome::Rotated { grant } => (grant, false),
        RotateOutcome::Retried { grant } => (grant, true),
        RotateOutcome::Reused { grant_id } => {
            // RFC 9700 §4.14.2: the store revoked the grant and its access tokens; an incident.
            services.audit.record(
                AuditEvent::new(AuditKind::RefreshReused, now)
                    .actor(grant.user_id.as_str())
                    .client(&client.client_id)
                    .ip(request.ip)
                    .details(json!({ "grant_id": grant_id.as_str(), "sid": grant.sid.as_str() })),
            );
            return Err(CoreError::RefreshTokenReused { grant_id: grant_id.as_str().to_owned() });
        }
        // The grant changed between the read and the rotation (a concurrent revocation).
        RotateOutcome::Unknown => return Err(invalid_grant("unknown refresh token")),
        RotateOutcome::ClientMismatch => return Err(invalid_grant("refresh token of another client")),
        RotateOutcome::Revoked { .. } => return Err(invalid_grant("grant revoked")),
        RotateOutcome::Expired => return Err(invalid_grant("grant expired")),
    };

    services.audit.record(
        AuditEvent::new(AuditKind::RefreshRotated, now)
            .actor(grant.user_id.as_str())
            .client(&client.client_id)
            .ip(request.ip)
            .details(json!({ "grant_id": grant.id.as_str(), "sid": grant.sid.as_str(), "retry": retry })),
    );
    Ok(IssuedTokens { access_token, refresh_token: Some(replacement), scopes, sid: Some(session.sid), id_token })
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

/// Revokes a grant whose session or account is gone, so its tokens die too. The revocation's
/// own failure outranks the grant error: the caller must learn that it did not commit.
async fn revoke<S>(store: &S, grant_id: &GrantId, now: Timestamp, detail: &'static str) -> CoreError
where
    S: GrantStore + ?Sized,
{
    match store.revoke_grant(grant_id, now).await {
        Ok(_) => invalid_grant(detail),
        Err(error) => error,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::memory::MemoryStore;
    use crate::model::access_token::{AccessTokenClaims, AccessTokenIssuer, TokenPolicy};
    use crate::model::account::{Account, AccountStore, Email, UserId};
    use crate::model::audit::MemoryAuditSink;
    use crate::model::client::{ClientId, ClientKind};
    use crate::model::revocation::{RevocationQuery, RevocationStore};
    use crate::model::session::{SessionId, SessionKind, SessionStore};
    use crate::random::TestRandom;

    const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

    /// Signs nothing: the "token" is its `jti`, so tests can ask about revocations. Can be
    /// told to fail, as a signer without a key would.
    #[derive(Default)]
    struct FakeIssuer {
        broken: AtomicBool,
    }

    impl AccessTokenIssuer for FakeIssuer {
        fn issue_access_token(&self, claims: &AccessTokenClaims) -> Result<IssuedAccessToken, CoreError> {
            if self.broken.load(Ordering::SeqCst) {
                return Err(CoreError::Signing("no active key".into()));
            }
            Ok(IssuedAccessToken { token: claims.jti.clone(), expires_in: claims.exp - claims.iat })
        }
    }

    impl crate::model::id_token::IdTokenIssuer for FakeIssuer {
        fn id_token_alg(&self, _client: &Client) -> Result<tessera_jose::Algorithm, CoreError> {
            Ok(tessera_jose::Algorithm::RS256)
        }

        fn sign_id_token(
            &self,
            _alg: tessera_jose::Algorithm,
            claims: &crate::model::id_token::IdTokenClaims,
        ) -> Result<String, CoreError> {
            serde_json::to_string(claims).map_err(|e| CoreError::Signing(e.to_string()))
        }
    }

    struct World {
        store: MemoryStore,
        audit: MemoryAuditSink,
        random: TestRandom,
        issuer: FakeIssuer,
        policy: TokenPolicy,
        client: Client,
        first_access: String,
        token: RefreshToken,
        grant_id: GrantId,
    }

    impl World {
        fn services(&self) -> Issuance<'_> {
            Issuance {
                audit: &self.audit,
                random: &self.random,
                issuer: &self.issuer,
                policy: &self.policy,
                id_tokens: &self.issuer,
            }
        }

        async fn refresh(
            &self,
            token: &RefreshToken,
            scope: Option<&str>,
            now: Timestamp,
        ) -> Result<IssuedTokens, CoreError> {
            let request = RefreshRequest { client: &self.client, refresh_token: token, scope, ip: None };
            refresh(&self.store, &self.services(), request, now).await
        }

        async fn grant(&self) -> Grant {
            self.store.grant(&self.grant_id).await.unwrap().unwrap()
        }

        async fn access_revoked(&self, jti: &str) -> bool {
            let query = RevocationQuery { jti, sid: None, sub: "nobody", issued_at: NOW };
            self.store.find_revocation(query).await.unwrap().is_some()
        }
    }

    async fn world_with(reuse_interval: i64) -> World {
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
            browser: Default::default(),
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
        crate::model::client::ClientStore::create_client(&store, &client).await.unwrap();
        store.create_session(&session).await.unwrap();
        let policy = TokenPolicy {
            issuer: "https://id.example".into(),
            access_ttl: 900,
            refresh_ttl: 86_400,
            refresh_reuse_interval: reuse_interval,
        };
        let mut world = World {
            store,
            audit: MemoryAuditSink::default(),
            random,
            issuer: FakeIssuer::default(),
            policy,
            client,
            first_access: String::new(),
            token: RefreshToken::parse("placeholder").unwrap(),
            grant_id: GrantId::new(""),
        };
        let (access, refresh, _) = start_grant(
            &world.store,
            &world.services(),
            &world.client,
            &session,
            None,
            world.client.scopes.clone(),
            NOW,
        )
        .await
        .unwrap();
        world.first_access = access.token;
        world.token = refresh.unwrap();
        world.grant_id = world.store.refresh_token(&world.token.hash()).await.unwrap().unwrap().0.id;
        assert_eq!(world.grant().await.expires_at, NOW.plus(600), "the client's refresh lifetime applies");
        world
    }

    #[tokio::test]
    async fn rotation_returns_a_new_token_and_audits() {
        let w = world_with(0).await;
        let tokens = w.refresh(&w.token, None, NOW.plus(1)).await.unwrap();
        let next = tokens.refresh_token.unwrap();
        assert_ne!(next, w.token);
        assert_eq!(tokens.scopes, w.client.scopes);
        assert_eq!(tokens.sid, Some(SessionId::new("s1")));
        assert_eq!(w.audit.events()[0].kind, AuditKind::RefreshRotated);
        assert!(w.refresh(&next, None, NOW.plus(2)).await.is_ok());
    }

    #[tokio::test]
    async fn reuse_revokes_the_grant_and_every_access_token_it_issued() {
        let w = world_with(0).await;
        let winner = w.refresh(&w.token, None, NOW.plus(1)).await.unwrap();
        let error = w.refresh(&w.token, None, NOW.plus(2)).await.unwrap_err();
        assert!(matches!(error, CoreError::RefreshTokenReused { .. }));
        assert_eq!(error.code().as_str(), "invalid_grant");
        assert_eq!(w.grant().await.revoked_at, Some(NOW.plus(2)));
        assert!(w.audit.events().iter().any(|e| e.kind == AuditKind::RefreshReused));
        assert!(w.access_revoked(&winner.access_token.token).await, "the race winner's access token is revoked");
        assert!(w.access_revoked(&w.first_access).await, "the login's access token is revoked");
        let error = w.refresh(winner.refresh_token.as_ref().unwrap(), None, NOW.plus(3)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidGrant { .. }), "the live token died with its grant");
    }

    #[tokio::test]
    async fn within_the_reuse_interval_a_retry_gets_a_fresh_pair_of_the_same_grant() {
        let w = world_with(10).await;
        let first = w.refresh(&w.token, None, NOW.plus(1)).await.unwrap();
        let retry = w.refresh(&w.token, None, NOW.plus(11)).await.unwrap();
        assert_ne!(retry.refresh_token, first.refresh_token);
        assert_eq!(w.grant().await.revoked_at, None);
        assert!(!w.access_revoked(&first.access_token.token).await);
        assert!(w.audit.events().iter().all(|e| e.kind != AuditKind::RefreshReused));
        // Both replacements belong to the live grant.
        assert!(w.refresh(first.refresh_token.as_ref().unwrap(), None, NOW.plus(12)).await.is_ok());
        assert!(w.refresh(retry.refresh_token.as_ref().unwrap(), None, NOW.plus(12)).await.is_ok());
        // Outside the interval the same presentation is a reuse, and revokes everything.
        let error = w.refresh(&w.token, None, NOW.plus(12)).await.unwrap_err();
        assert!(matches!(error, CoreError::RefreshTokenReused { .. }));
        assert!(w.access_revoked(&retry.access_token.token).await);
    }

    #[tokio::test]
    async fn a_failure_before_the_commit_leaves_the_token_usable() {
        let w = world_with(0).await;
        w.issuer.broken.store(true, Ordering::SeqCst);
        let error = w.refresh(&w.token, None, NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::Signing(_)));
        let (_, record) = w.store.refresh_token(&w.token.hash()).await.unwrap().unwrap();
        assert_eq!(record.used_at, None, "nothing committed, so the retry is not a reuse");
        w.issuer.broken.store(false, Ordering::SeqCst);
        assert!(w.refresh(&w.token, None, NOW.plus(2)).await.is_ok());
    }

    #[tokio::test]
    async fn scope_may_narrow_but_not_widen_and_a_bad_scope_keeps_the_token() {
        let w = world_with(0).await;
        let error = w.refresh(&w.token, Some("openid admin"), NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidScope { .. }));
        let tokens = w.refresh(&w.token, Some("openid"), NOW.plus(2)).await.unwrap();
        assert_eq!(tokens.scopes, ["openid"]);
        assert_eq!(w.grant().await.scopes.len(), 2, "the grant keeps what was granted");
    }

    #[tokio::test]
    async fn disabled_account_or_ended_session_revokes_the_grant() {
        let w = world_with(0).await;
        w.store.set_account_disabled(&UserId::new("u1"), true, NOW).await.unwrap();
        let error = w.refresh(&w.token, None, NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidGrant { .. }));
        assert!(w.grant().await.revoked_at.is_some());
        assert!(w.access_revoked(&w.first_access).await);

        let w = world_with(0).await;
        let error = w.refresh(&w.token, None, NOW.plus(600)).await.unwrap_err();
        assert!(matches!(error, CoreError::InvalidGrant { detail: "grant revoked or expired" }));
    }

    #[tokio::test]
    async fn client_without_the_grant_is_refused_before_rotation() {
        let mut w = world_with(0).await;
        w.client.grant_types = vec![GrantType::Password];
        let error = w.refresh(&w.token, None, NOW.plus(1)).await.unwrap_err();
        assert!(matches!(error, CoreError::UnauthorizedClient { .. }));
        let (_, record) = w.store.refresh_token(&w.token.hash()).await.unwrap().unwrap();
        assert_eq!(record.used_at, None);
    }
}

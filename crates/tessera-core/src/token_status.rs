//! What a presented token is worth now: bearer authentication (RFC 6750), introspection
//! (RFC 7662), revocation (RFC 7009) and logout. Access tokens are checked against their
//! signature and claims, then against the revocation list (by `jti`, `sid`, `sub`).

use serde_json::{Map, Value, json};

use crate::audit::{AuditEvent, AuditKind, AuditSink};
use crate::client::Client;
use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::key_ring::KeyRing;
use crate::refresh::{RefreshStore, RefreshToken};
use crate::revocation::{RevocationQuery, RevocationStore, RevocationTarget};
use crate::session::{SessionId, SessionStore};

/// The claims of a valid, unrevoked access token.
#[derive(Debug, Clone)]
pub struct AccessTokenInfo {
    /// Every claim.
    pub claims: Map<String, Value>,
}

impl AccessTokenInfo {
    /// A string claim.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claim("scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty())
    }
}

/// Authenticates a bearer access token: signature, `typ`, `iss`, `exp`, then revocation.
pub async fn authenticate_bearer(
    revocations: &dyn RevocationStore,
    ring: &KeyRing,
    token: &str,
    now: Timestamp,
) -> Result<AccessTokenInfo, CoreError> {
    let valid = ring
        .access_validator()
        .validate::<Map<String, Value>>(token, now.unix())
        .map_err(|e| CoreError::InvalidToken { detail: e.to_string() })?;
    let claims = valid.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    let issued_at = Timestamp::from_unix(claims.get("iat").and_then(Value::as_i64).unwrap_or(0));
    let query = RevocationQuery {
        jti: text("jti"),
        sid: claims.get("sid").and_then(Value::as_str),
        sub: text("sub"),
        issued_at,
    };
    if let Some(revocation) = revocations.find_revocation(query).await? {
        return Err(CoreError::InvalidToken { detail: format!("revoked ({})", revocation.target.kind()) });
    }
    Ok(AccessTokenInfo { claims })
}

/// RFC 7662 §2.2: an active token's claims, or `{"active": false}` for anything else (unknown,
/// expired, revoked, malformed, or a refresh token of another client).
pub async fn introspect<S>(
    store: &S,
    ring: &KeyRing,
    client: &Client,
    token: &str,
    now: Timestamp,
) -> Result<Value, CoreError>
where
    S: RevocationStore + RefreshStore,
{
    if looks_like_jwt(token) {
        return match authenticate_bearer(store, ring, token, now).await {
            Ok(info) => {
                let mut body = info.claims;
                body.insert("active".into(), Value::Bool(true));
                body.insert("token_type".into(), Value::String("Bearer".into()));
                Ok(Value::Object(body))
            }
            Err(CoreError::InvalidToken { .. }) => Ok(json!({ "active": false })),
            Err(other) => Err(other),
        };
    }
    let Ok(refresh) = RefreshToken::parse(token) else { return Ok(json!({ "active": false })) };
    match store.refresh_token(&refresh.hash()).await? {
        // A refresh token is only described to the client it was issued to.
        Some((family, record))
            if record.used_at.is_none() && family.is_active(now) && family.client_id == client.client_id =>
        {
            Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": family.client_id.as_str(),
                "sub": family.user_id.as_str(),
                "sid": family.sid.as_str(),
                "scope": family.scopes.join(" "),
                "iat": record.issued_at.unix(),
                "exp": family.expires_at.unix(),
            }))
        }
        _ => Ok(json!({ "active": false })),
    }
}

/// RFC 7009: revokes a refresh token (its whole family) or an access token (by `jti`, until its
/// `exp`). Unknown or already invalid tokens are not an error (§2.2). A token issued to another
/// client is refused.
pub async fn revoke_token<S>(
    store: &S,
    audit: &dyn AuditSink,
    ring: &KeyRing,
    client: &Client,
    token: &str,
    now: Timestamp,
) -> Result<(), CoreError>
where
    S: RevocationStore + RefreshStore,
{
    if looks_like_jwt(token) {
        let Ok(info) = authenticate_bearer(store, ring, token, now).await else { return Ok(()) };
        if info.claim("client_id") != Some(client.client_id.as_str()) {
            return Err(CoreError::InvalidRequest { field: "token", reason: "was issued to another client" });
        }
        let exp = Timestamp::from_unix(info.claims.get("exp").and_then(Value::as_i64).unwrap_or(now.unix()));
        let jti = info.claim("jti").unwrap_or_default().to_owned();
        store.revoke(&RevocationTarget::Jti(jti.clone()), exp, now).await?;
        audit.record(
            AuditEvent::new(AuditKind::TokenRevoked, now)
                .client(&client.client_id)
                .details(json!({ "token_type": "access_token", "jti": jti })),
        );
        return Ok(());
    }
    let Ok(refresh) = RefreshToken::parse(token) else { return Ok(()) };
    if let Some(family_id) = store.revoke_refresh_token(&refresh.hash(), &client.client_id, now).await? {
        audit.record(
            AuditEvent::new(AuditKind::TokenRevoked, now)
                .client(&client.client_id)
                .details(json!({ "token_type": "refresh_token", "family_id": family_id.as_str() })),
        );
    }
    Ok(())
}

/// Ends a session: the session and its refresh families in one transaction, then a `sid`
/// revocation so that its access tokens die everywhere within their lifetime.
pub async fn end_session<S>(
    store: &S,
    audit: &dyn AuditSink,
    sid: &SessionId,
    max_access_ttl: i64,
    now: Timestamp,
) -> Result<(), CoreError>
where
    S: SessionStore + RevocationStore + ?Sized,
{
    let ended = store.revoke_session(sid, now).await?;
    store.revoke(&RevocationTarget::Sid(sid.as_str().to_owned()), now.plus(max_access_ttl), now).await?;
    if ended {
        audit.record(AuditEvent::new(AuditKind::SessionRevoked, now).details(json!({ "sid": sid.as_str() })));
    }
    Ok(())
}

/// The session a refresh token belongs to, if the token is known.
pub async fn session_of_refresh_token<S>(store: &S, token: &str) -> Result<Option<SessionId>, CoreError>
where
    S: RefreshStore + ?Sized,
{
    let Ok(refresh) = RefreshToken::parse(token) else { return Ok(None) };
    Ok(store.refresh_token(&refresh.hash()).await?.map(|(family, _)| family.sid))
}

/// Compact JWS has exactly two dots; opaque refresh tokens have none.
fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

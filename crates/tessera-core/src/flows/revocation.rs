//! Token revocation (RFC 7009), on the client's request.

use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::flows::bearer::{authenticate_bearer, looks_like_jwt};
use crate::keys::key_ring::KeyRing;
use crate::model::audit::{AuditEvent, AuditKind, AuditSink};
use crate::model::client::Client;
use crate::model::refresh::{RefreshStore, RefreshToken};
use crate::model::revocation::{RevocationStore, RevocationTarget, retain_until};

/// RFC 7009: revokes a refresh token — its whole grant, with every access token the grant
/// issued (§2.1) — or an access token alone, by `jti`, kept until no verifier can accept it.
/// Unknown or already invalid tokens are not an error (§2.2). An access token issued to another
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
    S: RevocationStore + RefreshStore + ?Sized,
{
    if looks_like_jwt(token) {
        let Ok(info) = authenticate_bearer(store, ring, token, now).await else { return Ok(()) };
        if info.claim("client_id") != Some(client.client_id.as_str()) {
            return Err(CoreError::InvalidRequest { field: "token", reason: "was issued to another client" });
        }
        let exp = info.time("exp").unwrap_or(now);
        let jti = info.claim("jti").unwrap_or_default().to_owned();
        store.revoke(&RevocationTarget::Jti(jti.clone()), retain_until(exp), now).await?;
        audit.record(
            AuditEvent::new(AuditKind::TokenRevoked, now)
                .client(&client.client_id)
                .details(json!({ "token_type": "access_token", "jti": jti })),
        );
        return Ok(());
    }
    let Ok(refresh) = RefreshToken::parse(token) else { return Ok(()) };
    if let Some(grant_id) = store.revoke_refresh_token(&refresh.hash(), &client.client_id, now).await? {
        audit.record(
            AuditEvent::new(AuditKind::TokenRevoked, now)
                .client(&client.client_id)
                .details(json!({ "token_type": "refresh_token", "grant_id": grant_id.as_str() })),
        );
    }
    Ok(())
}

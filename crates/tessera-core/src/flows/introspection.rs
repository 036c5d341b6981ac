//! Token introspection (RFC 7662): what the issuer knows of a token, for a resource server.

use serde_json::{Value, json};

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::flows::bearer::{authenticate_bearer, looks_like_jwt};
use crate::keys::key_ring::KeyRing;
use crate::model::client::Client;
use crate::model::refresh::{RefreshStore, RefreshToken};
use crate::model::revocation::RevocationStore;

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
    S: RevocationStore + RefreshStore + ?Sized,
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
        Some((grant, record))
            if record.used_at.is_none() && grant.is_active(now) && grant.client_id == client.client_id =>
        {
            let mut body = json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": grant.client_id.as_str(),
                "sub": grant.user_id.as_str(),
                "sid": grant.sid.as_str(),
                "iat": record.issued_at.unix(),
                "exp": grant.expires_at.unix(),
            });
            if !grant.scopes.is_empty() {
                body["scope"] = Value::String(grant.scopes.join(" "));
            }
            Ok(body)
        }
        _ => Ok(json!({ "active": false })),
    }
}

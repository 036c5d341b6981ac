//! Bearer authentication (RFC 6750): what a presented access token is worth now. Checked
//! against its signature and claims, then against the revocation list (by `jti`, `sid`, `sub`).

use serde_json::{Map, Value};

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::keys::key_ring::KeyRing;
use crate::model::revocation::{RevocationQuery, RevocationStore};

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

    /// An integer claim.
    pub fn time(&self, name: &str) -> Option<Timestamp> {
        self.claims.get(name).and_then(Value::as_i64).map(Timestamp::from_unix)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claim("scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty())
    }
}

/// Authenticates a bearer access token: signature, `typ`, `iss`, `exp`, then revocation.
///
/// The issuer allows itself no leeway on `exp`: its own tokens are inactive from `exp` on
/// (RFC 7662 §2.2), whatever a resource server's clock allows. The validator's leeway still
/// covers `iat` and `nbf`, for nodes whose clocks differ slightly.
pub async fn authenticate_bearer(
    revocations: &(impl RevocationStore + ?Sized),
    ring: &KeyRing,
    token: &str,
    now: Timestamp,
) -> Result<AccessTokenInfo, CoreError> {
    let valid = ring
        .access_validator()
        .validate::<Map<String, Value>>(token, now.unix())
        .map_err(|e| CoreError::InvalidToken { detail: e.to_string() })?;
    let info = AccessTokenInfo { claims: valid.claims };
    match info.time("exp") {
        Some(exp) if now < exp => {}
        _ => return Err(CoreError::InvalidToken { detail: "expired".into() }),
    }
    let query = RevocationQuery {
        jti: info.claim("jti").unwrap_or_default(),
        sid: info.claim("sid"),
        sub: info.claim("sub").unwrap_or_default(),
        issued_at: info.time("iat").unwrap_or(Timestamp::from_unix(0)),
    };
    if let Some(revocation) = revocations.find_revocation(query).await? {
        return Err(CoreError::InvalidToken { detail: format!("revoked ({})", revocation.target.kind()) });
    }
    Ok(info)
}

/// Compact JWS has exactly two dots; opaque refresh tokens have none.
pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

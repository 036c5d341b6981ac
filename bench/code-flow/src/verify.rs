//! Full verification of a sample of flows against the server's JWK Set: the ID token's
//! signature (RS256 by default) and claims (OIDC Core §3.1.3.7: `iss`, `aud`, `exp`, `iat`, `nonce`), the
//! access token's ES256 signature and RFC 9068 `typ`, and the same `sub` and `sid` in both.
//! Doing this for every flow would spend about 85 µs of the shared cores per flow on the
//! generator's side, so it is done for the first flows of every worker only.

use serde::Deserialize;
use tessera_jose::{Algorithm, KeySet, Validator};

use crate::failure::Failure;
use crate::flow::{Attempt, RelyingParty, Tokens};

/// The two validators.
pub struct TokenCheck {
    id_token: Validator,
    access_token: Validator,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    sid: Option<String>,
    nonce: Option<String>,
    at_hash: Option<String>,
}

#[derive(Deserialize)]
struct AccessClaims {
    sub: String,
    sid: Option<String>,
    client_id: String,
}

impl TokenCheck {
    /// Validators over the JWK Set `jwks` (the body of `/.well-known/jwks.json`).
    pub fn new(party: &RelyingParty, jwks: &[u8]) -> Result<TokenCheck, Failure> {
        let keys = || KeySet::from_jwks_json(jwks).map_err(|e| Failure::new("jwks", "invalid", e.to_string()));
        let build = |e: tessera_jose::Error| Failure::new("jwks", "validator", e.to_string());
        let id_token_alg =
            party.id_token_alg.parse::<Algorithm>().map_err(|e| Failure::new("jwks", "id_token_alg", e.to_string()))?;
        let id_token = Validator::builder(keys()?)
            .algorithm(id_token_alg)
            .typ("JWT")
            .issuer(party.issuer.as_str())
            .audience(party.client_id.as_str())
            .build()
            .map_err(build)?;
        let access_token = Validator::builder(keys()?)
            .algorithm(Algorithm::ES256)
            .typ("at+jwt")
            .issuer(party.issuer.as_str())
            .accept_any_audience()
            .build()
            .map_err(build)?;
        Ok(TokenCheck { id_token, access_token })
    }

    /// Verifies the tokens of `attempt`.
    pub fn verify(&self, tokens: &Tokens, attempt: &Attempt, client_id: &str) -> Result<(), Failure> {
        let fail = |kind| move |e: tessera_jose::Error| Failure::new("verify", kind, e.to_string());
        let now = unix_now();
        let id_token = tokens.id_token.as_deref().ok_or_else(|| Failure::new("verify", "no_id_token", ""))?;
        let id = self.id_token.validate::<IdClaims>(id_token, now).map_err(fail("id_token"))?.claims;
        let access =
            self.access_token.validate::<AccessClaims>(&tokens.access_token, now).map_err(fail("access_token"))?.claims;
        if id.nonce.as_deref() != Some(attempt.nonce.as_str()) {
            return Err(Failure::new("verify", "nonce", format!("{:?}", id.nonce)));
        }
        if id.sub != access.sub || id.sid.is_none() || id.sid != access.sid || access.client_id != client_id {
            return Err(Failure::new("verify", "subject", "the ID token and the access token disagree"));
        }
        // OIDC Core §3.3.2.11: at_hash is the left half of SHA-256 of the access token.
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, tokens.access_token.as_bytes());
        if id.at_hash.as_deref() != Some(tessera_jose::base64url::encode(&digest.as_ref()[..16]).as_str()) {
            return Err(Failure::new("verify", "at_hash", format!("{:?}", id.at_hash)));
        }
        Ok(())
    }
}

fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)] // a load generator, outside Tessera's clock
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

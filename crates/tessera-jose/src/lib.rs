//! # tessera-jose
//!
//! JWS compact serialization, JWT claims, JWK and JWK Sets, on aws-lc-rs. No I/O: every
//! function takes bytes and returns values, and "now" is always a parameter.
//!
//! Verification is hard to misuse: a [`Validator`] is built from an explicit algorithm
//! allowlist, a [`KeySet`] whose keys are limited by their own `kty`/`crv`/`alg`/`use`/
//! `key_ops`, a required `typ`, the accepted issuers and audiences. It refuses `alg: none`,
//! keys named by the token (`jwk`, `jku`, `x5u`, `x5c`), unknown `crit`, `b64: false`,
//! duplicate JSON members, non-canonical base64url, oversized or deeply nested input,
//! malformed time claims, out-of-range ECDSA signatures and weak keys — each with its own
//! [`Error`] variant.
//!
//! ```
//! use tessera_jose::{Algorithm, KeySet, RegisteredClaims, SigningKey, Validator};
//!
//! let key = SigningKey::generate(Algorithm::ES256)?;
//! let now = 1_700_000_000;
//! let claims = serde_json::json!({
//!     "iss": "https://id.example", "aud": "api", "sub": "alice", "iat": now, "exp": now + 900,
//! });
//! let token = key.sign_jwt(Some("at+jwt"), &claims)?;
//!
//! let validator = Validator::builder(KeySet::new(vec![key.verifying_key().clone()])?)
//!     .algorithm(Algorithm::ES256)
//!     .typ("at+jwt")
//!     .issuer("https://id.example")
//!     .audience("api")
//!     .build()?;
//! let valid = validator.validate::<RegisteredClaims>(&token, now + 10)?;
//! assert_eq!(valid.claims.sub.as_deref(), Some("alice"));
//! assert!(validator.validate::<RegisteredClaims>(&token, now + 2000).is_err());
//! # Ok::<(), tessera_jose::Error>(())
//! ```

mod algorithm;
pub mod base64url;
mod claims;
mod claims_pass;
mod error;
mod header;
mod header_cache;
mod json;
mod json_fast;
mod jwk;
mod jws;
mod key_set;
mod key_strength;
mod member_names;
mod pem;
mod secret;
mod signing_key;
mod validator;
mod verifying_key;

pub use algorithm::{Algorithm, Curve, KeyFamily};
pub use claims::{Audience, MAX_NUMERIC_DATE, RegisteredClaims};
pub use error::{Error, Part};
pub use header::Header;
pub use jwk::{Jwk, Jwks};
pub use jws::{
    DEFAULT_MAX_KEY_ATTEMPTS, DEFAULT_MAX_TOKEN_SIZE, JwsVerifier, Unverified, VerifiedJws, decode_unverified,
};
pub use key_set::KeySet;
pub use secret::Secret;
pub use signing_key::{RsaBits, SigningKey};
pub use validator::{DEFAULT_LEEWAY, Validated, Validator, ValidatorBuilder};
pub use verifying_key::VerifyingKey;

/// Strict JSON parsing as used for headers and claims, for callers that need the same rules.
pub fn parse_json_object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    json::parse_object(bytes, Part::Payload, json::DEFAULT_MAX_DEPTH)
}

//! One error enum for the crate: each rejection has its own variant, so callers (and tests)
//! can tell exactly why a token or a key was refused.

use crate::Algorithm;

/// Which part of a compact JWS an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header (first segment).
    Header,
    /// The payload, or JWT claims set (second segment).
    Payload,
    /// The signature (third segment).
    Signature,
    /// A JSON Web Key or JWK Set.
    Key,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
            Part::Key => "key",
        })
    }
}

/// An optional name for a message: quoted when present, `none` when absent.
fn shown(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "none".to_owned(), |v| format!("{v:?}"))
}

/// Why a token, a key or a validator configuration was rejected.
///
/// Messages never contain key material or the token itself; they may name a header
/// parameter, a claim or a `kid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token is larger than the validator's limit.
    #[error("token is {size} bytes, over the limit of {limit}")]
    TokenTooLarge {
        /// Size of the input.
        size: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The input is not a JWS in compact serialization (three base64url parts).
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// A segment is not canonical unpadded base64url (RFC 7515 §2).
    #[error("{0} is not canonical base64url")]
    InvalidBase64(Part),
    /// A segment is not valid UTF-8 JSON.
    #[error("{part} is not valid JSON: {reason}")]
    InvalidJson {
        /// The segment.
        part: Part,
        /// What the parser said (never contains the input).
        reason: String,
    },
    /// A JSON object has the same member name twice (RFC 7515 §5.2, RFC 7519 §4).
    #[error("{part} has the member {name:?} twice")]
    DuplicateMember {
        /// The segment.
        part: Part,
        /// The repeated name.
        name: String,
    },
    /// JSON nested deeper than the limit.
    #[error("{0} is nested too deeply")]
    NestingTooDeep(Part),
    /// The header or claims set is JSON but not an object.
    #[error("{0} is not a JSON object")]
    NotAnObject(Part),
    /// A header parameter has the wrong type or value.
    #[error("invalid header parameter {name:?}: {reason}")]
    InvalidHeader {
        /// The parameter name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `alg: none`, in any spelling (RFC 8725 §3.1).
    #[error("the \"none\" algorithm is never accepted")]
    AlgNone,
    /// An `alg` value this crate does not implement.
    #[error("unknown algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// A known algorithm that the validator does not allow (RFC 8725 §3.1).
    #[error("algorithm {0} is not allowed here")]
    AlgorithmNotAllowed(Algorithm),
    /// A header that could make the verifier pick or fetch a key chosen by the sender
    /// (`jwk`, `jku`, `x5u`, `x5c`; RFC 8725 §3.10).
    #[error("header parameter {0:?} is not accepted: keys are never taken from a token")]
    ForbiddenHeader(&'static str),
    /// A `crit` extension this crate does not understand (RFC 7515 §4.1.11).
    #[error("critical header extension {0:?} is not supported")]
    UnsupportedCritical(String),
    /// `b64: false` (RFC 7797): the payload would not be base64url-encoded.
    #[error("unencoded payloads (b64: false) are not accepted")]
    UnencodedPayload,
    /// A nested JWT (`cty: JWT`), which this crate does not unwrap.
    #[error("nested JWTs (cty: JWT) are not accepted")]
    NestedJwt,
    /// The `typ` header is missing or different from the one required.
    #[error("token type {} where {expected:?} is required", shown(.found))]
    WrongType {
        /// The required type.
        expected: String,
        /// The type in the token, if any.
        found: Option<String>,
    },
    /// No key in the set has the token's `kid`, or none fits the algorithm.
    #[error("no key matches (kid {})", shown(.kid))]
    NoMatchingKey {
        /// The token's `kid`, if it had one.
        kid: Option<String>,
    },
    /// The key's type or curve does not fit the algorithm (for instance an RSA or EC key for HS256).
    #[error("key {} cannot be used with {alg}: {reason}", shown(.kid))]
    KeyMismatch {
        /// The key's `kid`.
        kid: Option<String>,
        /// The algorithm asked for.
        alg: Algorithm,
        /// Why it does not fit.
        reason: &'static str,
    },
    /// The key's `use` or `key_ops` forbids verification.
    #[error("key {} is not allowed to verify signatures ({reason})", shown(.kid))]
    KeyUseForbidden {
        /// The key's `kid`.
        kid: Option<String>,
        /// `use` or `key_ops`.
        reason: &'static str,
    },
    /// The signature does not verify.
    #[error("signature does not verify")]
    InvalidSignature,
    /// An ECDSA signature whose r or s is zero or not below the group order, or of the wrong length.
    #[error("ECDSA signature is malformed or out of range")]
    SignatureOutOfRange,
    /// A key is too weak: RSA under 2048 bits, an HMAC secret shorter than the hash, ROCA.
    #[error("weak key: {0}")]
    WeakKey(&'static str),
    /// A JWK or PEM key is invalid.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A key of a type or curve this crate does not implement.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A key set that is ambiguous (duplicate `kid`) or mixes secret and public keys.
    #[error("invalid key set: {0}")]
    InvalidKeySet(&'static str),
    /// A registered claim has the wrong type or is out of range (RFC 7519 §4.1).
    #[error("claim {claim:?} is invalid: {reason}")]
    InvalidClaim {
        /// The claim name.
        claim: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(String),
    /// The token has expired (`exp`, RFC 7519 §4.1.4).
    #[error("token expired")]
    Expired,
    /// The token is not valid yet (`nbf`, RFC 7519 §4.1.5).
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    /// The token was issued in the future (`iat`) beyond the leeway.
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    /// The token is older than the validator's maximum age (`iat`).
    #[error("token too old (iat)")]
    TooOld,
    /// `iss` is not one of the allowed issuers.
    #[error("issuer is not allowed")]
    InvalidIssuer,
    /// `aud` does not name an accepted audience.
    #[error("audience is not accepted")]
    InvalidAudience,
    /// The claims do not fit the caller's claims type.
    #[error("claims do not match the expected shape: {0}")]
    ClaimsShape(String),
    /// A validator was built without a decision it must make explicitly.
    #[error("validator configuration: {0}")]
    Config(&'static str),
    /// The cryptographic library failed (key generation or signing).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_values_not_options() {
        let wrong = Error::WrongType { expected: "at+jwt".into(), found: Some("JWT".into()) };
        assert_eq!(wrong.to_string(), "token type \"JWT\" where \"at+jwt\" is required");
        assert_eq!(Error::NoMatchingKey { kid: None }.to_string(), "no key matches (kid none)");
    }
}

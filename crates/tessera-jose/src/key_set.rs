//! A set of verifying keys and the rule that picks one for a token.

use std::sync::Arc;

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::jwk::{Jwk, Jwks};
use crate::verifying_key::VerifyingKey;

/// Verifying keys, unambiguous by construction: no two share a `kid`, and shared secrets
/// never sit beside public keys (so no token can make a public key act as an HMAC
/// secret, and no set is half-public by mistake). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Arc<[VerifyingKey]>,
}

impl KeySet {
    /// Builds a set from checked keys.
    pub fn new(keys: Vec<VerifyingKey>) -> Result<KeySet, Error> {
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = key.kid()
                && keys[..i].iter().any(|other| other.kid() == Some(kid))
            {
                return Err(Error::InvalidKeySet("two keys share a kid"));
            }
        }
        let symmetric = keys.iter().filter(|k| k.is_symmetric()).count();
        if symmetric != 0 && symmetric != keys.len() {
            return Err(Error::InvalidKeySet("shared secrets and public keys mixed in one set"));
        }
        Ok(KeySet { keys: keys.into() })
    }

    /// Builds a set from a JWK Set document. Keys of a type or curve this crate does not
    /// implement (Ed448, secp256k1, post-quantum…) are skipped, so that a provider's JWKS
    /// that also lists them still works; any other bad key fails the whole set.
    pub fn from_jwks(jwks: &Jwks) -> Result<KeySet, Error> {
        let mut keys = Vec::with_capacity(jwks.keys.len());
        for jwk in &jwks.keys {
            match VerifyingKey::from_jwk(jwk) {
                Ok(key) => keys.push(key),
                Err(Error::UnsupportedKey(_)) => {}
                Err(other) => return Err(other),
            }
        }
        KeySet::new(keys)
    }

    /// Parses a JWK Set from JSON (strictly) and builds the set; see [`Self::from_jwks`].
    pub fn from_jwks_json(bytes: &[u8]) -> Result<KeySet, Error> {
        KeySet::from_jwks(&Jwks::from_json(bytes)?)
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|key| key.kid() == Some(kid))
    }

    /// The public JWK Set (shared secrets are never published and are left out).
    pub fn to_public_jwks(&self) -> Jwks {
        let keys: Vec<Jwk> = self.keys.iter().filter(|k| !k.is_symmetric()).map(VerifyingKey::public_jwk).collect();
        Jwks { keys }
    }

    /// Verifies `signature` over `message`. With a `kid`, only that key is tried and a
    /// mismatch is reported precisely. Without one, only keys that may verify `alg` are
    /// tried, at most `max_attempts` of them.
    pub fn verify(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
        max_attempts: usize,
    ) -> Result<&VerifyingKey, Error> {
        if let Some(kid) = kid {
            let key =
                self.get(kid).ok_or_else(|| Error::NoMatchingKey { kid: Some(kid.chars().take(128).collect()) })?;
            return key.verify(alg, message, signature).map(|()| key);
        }
        let mut candidates = self.keys.iter().filter(|key| key.check_usable(alg).is_ok()).take(max_attempts).peekable();
        if candidates.peek().is_none() {
            return Err(Error::NoMatchingKey { kid: None });
        }
        let mut last = Error::InvalidSignature;
        for key in candidates {
            match key.verify(alg, message, signature) {
                Ok(()) => return Ok(key),
                Err(error) => last = error,
            }
        }
        Err(last)
    }
}

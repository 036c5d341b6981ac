//! Client secrets (RFC 6749 §2.3.1). A generated secret has 256 random bits, so a fast keyed
//! hash is enough to store it: no one can guess it, and the pepper (kept outside the database)
//! makes a stolen database useless for checking guesses. A slow password hash would only cost
//! CPU on every token request.

use std::fmt;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::CoreError;
use crate::random::{Random, random_bytes};

/// The shortest pepper accepted, in bytes: an HMAC-SHA256 key of full strength.
pub const MIN_PEPPER_LEN: usize = 32;

/// A client secret in the clear: generated once and shown once, or presented by a client.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// 256 random bits, base64url without padding (43 characters).
    pub fn generate(random: &dyn Random) -> Result<ClientSecret, CoreError> {
        Ok(ClientSecret(URL_SAFE_NO_PAD.encode(random_bytes::<32>(random)?)))
    }

    /// A secret as presented by a client.
    pub fn new(secret: impl Into<String>) -> ClientSecret {
        ClientSecret(secret.into())
    }

    /// The secret text, to print once at registration or to hash.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// The server-side key of the client-secret HMAC. Never stored in the database.
pub struct SecretPepper(hmac::Key);

impl SecretPepper {
    /// A pepper from key bytes of at least [`MIN_PEPPER_LEN`].
    pub fn new(key: &[u8]) -> Result<SecretPepper, CoreError> {
        if key.len() < MIN_PEPPER_LEN {
            return Err(CoreError::InvalidRequest { field: "pepper", reason: "must be at least 32 bytes" });
        }
        Ok(SecretPepper(hmac::Key::new(hmac::HMAC_SHA256, key)))
    }

    /// The keyed hash of a secret, as stored.
    pub fn hash(&self, secret: &ClientSecret) -> ClientSecretHash {
        let tag = hmac::sign(&self.0, secret.expose().as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(tag.as_ref());
        ClientSecretHash(bytes)
    }

    /// Whether `secret` matches `stored`, compared in constant time by aws-lc-rs.
    pub fn verify(&self, secret: &ClientSecret, stored: &ClientSecretHash) -> bool {
        hmac::verify(&self.0, secret.expose().as_bytes(), &stored.0).is_ok()
    }
}

impl fmt::Debug for SecretPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPepper([redacted])")
    }
}

/// HMAC-SHA256 of a client secret under the pepper.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecretHash([u8; 32]);

impl ClientSecretHash {
    /// Wraps stored hash bytes; [`CoreError::CorruptData`] unless there are exactly 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<ClientSecretHash, CoreError> {
        let array: [u8; 32] =
            bytes.try_into().map_err(|_| CoreError::CorruptData("client secret hash is not 32 bytes".into()))?;
        Ok(ClientSecretHash(array))
    }

    /// The hash bytes, for the store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ClientSecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecretHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    fn pepper() -> SecretPepper {
        SecretPepper::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn generated_secret_verifies_and_others_do_not() {
        let secret = ClientSecret::generate(&SystemRandom::new()).unwrap();
        assert_eq!(secret.expose().len(), 43);
        let stored = pepper().hash(&secret);
        assert!(pepper().verify(&secret, &stored));
        assert!(!pepper().verify(&ClientSecret::new("guess"), &stored));
        let other = SecretPepper::new(&[8u8; 32]).unwrap();
        assert!(!other.verify(&secret, &stored), "the pepper is part of the hash");
    }

    #[test]
    fn short_pepper_is_refused() {
        assert!(SecretPepper::new(&[1u8; 31]).is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let secret = ClientSecret::new("s3cr3t-value");
        let stored = pepper().hash(&secret);
        for text in [format!("{secret:?}"), format!("{stored:?}"), format!("{:?}", pepper())] {
            assert!(!text.contains("s3cr3t"));
            assert!(text.contains("redacted"));
        }
    }
}

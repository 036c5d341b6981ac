//! The master key that encrypts private signing keys at rest (SPEC §4): AES-256-GCM with a
//! random 96-bit nonce per encryption and the `kid` as associated data, so that a sealed
//! key cannot be moved to another row unnoticed.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::CoreError;
use crate::keys::signing_key::EncryptedPrivateKey;
use crate::random::{Random, random_bytes};

/// Version byte in front of every sealed key, so the format can change later.
const FORMAT: u8 = 1;

/// A 256-bit key-encryption key. Redacted in `Debug`.
pub struct MasterKey {
    key: LessSafeKey,
    bytes: [u8; 32],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A fresh random master key.
    pub fn generate(random: &dyn Random) -> Result<MasterKey, CoreError> {
        MasterKey::from_bytes(&random_bytes::<32>(random)?)
    }

    /// A master key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, CoreError> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CoreError::InvalidRequest { field: "master_key", reason: "must be 32 bytes (256 bits)" })?;
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| CoreError::Signing("AES key setup failed".into()))?;
        Ok(MasterKey { key: LessSafeKey::new(key), bytes })
    }

    /// Reads the base64url text form (as in `TESSERA_MASTER_KEY` or the key file).
    pub fn from_base64url(text: &str) -> Result<MasterKey, CoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| CoreError::InvalidRequest { field: "master_key", reason: "must be base64url" })?;
        MasterKey::from_bytes(&bytes)
    }

    /// The base64url text form. Handle it as the secret it is.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    /// A 256-bit key for one purpose, derived with HKDF-SHA256 (RFC 5869) so that one
    /// master secret serves several uses without any two sharing a key.
    pub fn derive(&self, purpose: &'static str) -> Result<[u8; 32], CoreError> {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"tessera master key v1");
        let info = [purpose.as_bytes()];
        let prk = salt.extract(&self.bytes);
        let okm = prk.expand(&info, hkdf::HKDF_SHA256).map_err(|_| CoreError::Random)?;
        let mut out = [0u8; 32];
        okm.fill(&mut out).map_err(|_| CoreError::Random)?;
        Ok(out)
    }

    /// The pepper that keys client-secret hashes, derived from the master key.
    pub fn client_secret_pepper(&self) -> Result<crate::secrets::client_secret::SecretPepper, CoreError> {
        crate::secrets::client_secret::SecretPepper::new(&self.derive("client secret pepper")?)
    }

    /// The key of the username hash in failed-login audit events, derived from the master key.
    pub fn audit_username_key(&self) -> Result<crate::model::audit::UsernameKey, CoreError> {
        Ok(crate::model::audit::UsernameKey::new(&self.derive("audit username hmac")?))
    }

    /// Encrypts `plaintext` (a private key) bound to `kid`.
    pub fn seal(&self, kid: &str, plaintext: &[u8], random: &dyn Random) -> Result<EncryptedPrivateKey, CoreError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>(random)?;
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| CoreError::Signing("key encryption failed".into()))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + buffer.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&buffer);
        Ok(EncryptedPrivateKey::new(sealed))
    }

    /// Decrypts a sealed key; fails if it was sealed under another master key or `kid`.
    pub fn open(&self, kid: &str, sealed: &EncryptedPrivateKey) -> Result<Vec<u8>, CoreError> {
        let wrong = || CoreError::CorruptData(format!("signing key {kid} does not decrypt under this master key"));
        let (format, rest) = sealed.expose().split_first().ok_or_else(wrong)?;
        if *format != FORMAT || rest.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self.key.open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer).map_err(|_| wrong())?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;

    #[test]
    fn seal_open_round_trip_bound_to_kid_and_key() {
        let random = TestRandom::new(7);
        let master = MasterKey::generate(&random).unwrap();
        let sealed = master.seal("kid-1", b"private key bytes", &random).unwrap();
        assert!(!sealed.expose().windows(7).any(|w| w == b"private"));
        assert_eq!(master.open("kid-1", &sealed).unwrap(), b"private key bytes");
        assert!(master.open("kid-2", &sealed).is_err(), "moved to another kid");
        let other = MasterKey::generate(&random).unwrap();
        assert!(other.open("kid-1", &sealed).is_err(), "another master key");
        let again = MasterKey::from_base64url(&master.to_base64url()).unwrap();
        assert_eq!(again.open("kid-1", &sealed).unwrap(), b"private key bytes");
        assert!(MasterKey::from_base64url("c2hvcnQ").is_err());
        assert_eq!(format!("{master:?}"), "MasterKey([redacted])");
        assert_ne!(master.derive("a").unwrap(), master.derive("b").unwrap());
        assert_eq!(master.derive("a").unwrap(), again.derive("a").unwrap());
    }
}

//! Token-signing keys and their life: `next` (published in the JWKS, not yet signing), `active`
//! (signing; one per algorithm), `retired` (published until every token it signed has expired,
//! then deleted), and `revoked` (withdrawn at once after a compromise: never published again,
//! so nothing it signed verifies). Publishing a key before it signs lets verifiers cache it
//! first (SPEC §4).
//! The key material itself is produced and encrypted elsewhere; here it is an opaque blob.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::identifier::string_identifier;

string_identifier!(
    /// A key id, the `kid` of the JWS header and the JWK (RFC 7517 §4.5).
    Kid
);

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Signing new tokens.
    Active,
    /// No longer signing; published until `retire_after`.
    Retired,
    /// Withdrawn (compromised): never published, never signing, verifies nothing.
    Revoked,
}

impl KeyState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Revoked => "revoked",
        }
    }
}

impl FromStr for KeyState {
    type Err = CoreError;

    fn from_str(name: &str) -> Result<KeyState, CoreError> {
        match name {
            "next" => Ok(KeyState::Next),
            "active" => Ok(KeyState::Active),
            "retired" => Ok(KeyState::Retired),
            "revoked" => Ok(KeyState::Revoked),
            other => Err(CoreError::CorruptData(format!("unknown key state {other:?}"))),
        }
    }
}

/// A private key encrypted under the master key. Opaque to the domain; redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedPrivateKey(Vec<u8>);

impl EncryptedPrivateKey {
    /// Wraps the ciphertext.
    pub fn new(ciphertext: Vec<u8>) -> EncryptedPrivateKey {
        EncryptedPrivateKey(ciphertext)
    }

    /// The ciphertext, for the store and the decrypting code only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for EncryptedPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedPrivateKey({} bytes)", self.0.len())
    }
}

/// A signing key as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKey {
    /// The `kid`.
    pub kid: Kid,
    /// The JWS `alg` it signs with, such as `ES256`.
    pub alg: String,
    /// The private key, encrypted at rest.
    pub private_key: EncryptedPrivateKey,
    /// The public JWK as JSON text, ready for the JWKS.
    pub public_jwk: String,
    /// Where the key is in its life.
    pub state: KeyState,
    /// Earliest time a `next` key may become active: verifiers have seen it by then.
    pub not_before: Timestamp,
    /// For a retired key, when it may leave the JWKS: after the last token it signed expired.
    pub retire_after: Option<Timestamp>,
    /// When the key was created.
    pub created_at: Timestamp,
}

impl SigningKey {
    /// Whether the key belongs in the published JWKS at `now`.
    pub fn is_published(&self, now: Timestamp) -> bool {
        match self.state {
            KeyState::Next | KeyState::Active => true,
            KeyState::Retired => self.retire_after.is_some_and(|end| now < end),
            KeyState::Revoked => false,
        }
    }
}

/// The keys to publish in the JWKS at `now`, in the order given.
pub fn published_keys(keys: &[SigningKey], now: Timestamp) -> Vec<&SigningKey> {
    keys.iter().filter(|key| key.is_published(now)).collect()
}

/// What [`SigningKeyStore::activate_signing_key`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivateOutcome {
    /// The key is active; the key that was active for its `alg`, if any, is retired.
    Activated {
        /// The key that was retired.
        retired: Option<Kid>,
    },
    /// The key is not `next` (already active, retired, or activated by another node).
    NotNext,
    /// `now` is before the key's `not_before`.
    TooEarly,
    /// No key has this `kid`.
    Unknown,
}

/// What [`SigningKeyStore::revoke_signing_key`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The key is revoked; if it was active, `activated` is the key that signs in its place.
    Revoked {
        /// The `next` key promoted to active in the same transaction.
        activated: Option<Kid>,
    },
    /// The key is active and no `next` key of its `alg` exists to take over; nothing changed.
    NeedsSuccessor,
    /// The key was revoked before.
    AlreadyRevoked,
    /// No key has this `kid`.
    Unknown,
}

/// Storage of signing keys.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Inserts a key in state `next` or `active`. [`CoreError::Conflict`] if the `kid` exists,
    /// or if it is `active` while another key of its `alg` is (at most one active per `alg`).
    async fn insert_signing_key(&self, key: &SigningKey) -> Result<(), CoreError>;

    /// Inserts `key` (state `next`) unless a `next` key of its `alg` is stored already, deciding
    /// and writing in one transaction: of several processes starting a rotation at once, exactly
    /// one inserts. `false`: another rotation is pending, nothing was written.
    async fn insert_next_signing_key(&self, key: &SigningKey) -> Result<bool, CoreError>;

    /// Every stored key, oldest first.
    async fn signing_keys(&self) -> Result<Vec<SigningKey>, CoreError>;

    /// The active key for `alg`.
    async fn active_signing_key(&self, alg: &str) -> Result<Option<SigningKey>, CoreError>;

    /// Promotes a `next` key whose `not_before` has come to `active` and, in the same
    /// transaction, retires the key that was active for the same `alg` with `retire_after`.
    /// Only one of several nodes racing to activate one key gets `Activated`.
    async fn activate_signing_key(
        &self,
        kid: &Kid,
        retire_after: Timestamp,
        now: Timestamp,
    ) -> Result<ActivateOutcome, CoreError>;

    /// Withdraws a key at once: it becomes `revoked`, never published nor signing again. If it
    /// was the active key of its `alg`, the oldest `next` key of that `alg` becomes active in
    /// the same transaction, so the algorithm is never left without a signer; with no `next`
    /// key, nothing changes and [`RevokeOutcome::NeedsSuccessor`] is returned.
    async fn revoke_signing_key(&self, kid: &Kid, now: Timestamp) -> Result<RevokeOutcome, CoreError>;

    /// Retires an `active` or `next` key (its algorithm is no longer configured), published
    /// until `retire_after`. `false` if the key is not active or next.
    async fn retire_signing_key(&self, kid: &Kid, retire_after: Timestamp) -> Result<bool, CoreError>;

    /// Deletes retired keys whose `retire_after` has passed; returns how many.
    async fn purge_retired_signing_keys(&self, now: Timestamp) -> Result<u64, CoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, state: KeyState, retire_after: Option<i64>) -> SigningKey {
        SigningKey {
            kid: Kid::new(kid),
            alg: "ES256".into(),
            private_key: EncryptedPrivateKey::new(vec![1, 2, 3]),
            public_jwk: "{}".into(),
            state,
            not_before: Timestamp::from_unix(0),
            retire_after: retire_after.map(Timestamp::from_unix),
            created_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn retired_keys_stay_published_until_retire_after() {
        let keys = [
            key("next", KeyState::Next, None),
            key("active", KeyState::Active, None),
            key("old", KeyState::Retired, Some(100)),
            key("compromised", KeyState::Revoked, Some(1_000)),
        ];
        let kids = |now| {
            published_keys(&keys, Timestamp::from_unix(now))
                .iter()
                .map(|k| k.kid.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(kids(99), ["next", "active", "old"]);
        assert_eq!(kids(100), ["next", "active"]);
    }

    #[test]
    fn private_key_is_redacted() {
        let text = format!("{:?}", key("k", KeyState::Active, None));
        assert!(text.contains("EncryptedPrivateKey(3 bytes)"));
    }
}

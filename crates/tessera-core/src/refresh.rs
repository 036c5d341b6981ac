//! Refresh tokens and their families (RFC 6749 §6, RFC 9700 §4.14). A family is everything
//! one login produced: the first refresh token and each one rotated out of it. Tokens are
//! opaque random strings; only their SHA-256 hash is stored, so a database leak yields nothing
//! usable. Each token is bound through its family to one client, user and session.

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::account::UserId;
use crate::client::ClientId;
use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::identifier::string_identifier;
use crate::random::{Random, random_bytes};
use crate::session::SessionId;

string_identifier!(
    /// Identifies a refresh-token family.
    FamilyId
);

/// The longest refresh token accepted from a client; a real one has 43 characters. Bounds the
/// work done on hostile input before the lookup fails.
pub const MAX_REFRESH_TOKEN_LEN: usize = 512;

/// A refresh token in the clear, as handed to or presented by a client.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// 256 random bits, base64url without padding.
    pub fn generate(random: &dyn Random) -> Result<RefreshToken, CoreError> {
        Ok(RefreshToken(URL_SAFE_NO_PAD.encode(random_bytes::<32>(random)?)))
    }

    /// A token as presented by a client.
    pub fn parse(presented: &str) -> Result<RefreshToken, CoreError> {
        if presented.is_empty() || presented.len() > MAX_REFRESH_TOKEN_LEN {
            return Err(CoreError::InvalidRequest { field: "refresh_token", reason: "missing or too long" });
        }
        Ok(RefreshToken(presented.to_owned()))
    }

    /// The token text, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 hash under which the token is stored. Unkeyed on purpose: the token has 256
    /// random bits, so the hash cannot be reversed or guessed, and lookups stay a single index
    /// probe.
    pub fn hash(&self) -> RefreshTokenHash {
        let hash = digest::digest(&digest::SHA256, self.0.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(hash.as_ref());
        RefreshTokenHash(bytes)
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

/// SHA-256 of a refresh token: the only form in which a store ever sees it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash([u8; 32]);

impl RefreshTokenHash {
    /// Wraps stored hash bytes; [`CoreError::CorruptData`] unless there are exactly 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<RefreshTokenHash, CoreError> {
        let array: [u8; 32] =
            bytes.try_into().map_err(|_| CoreError::CorruptData("refresh token hash is not 32 bytes".into()))?;
        Ok(RefreshTokenHash(array))
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RefreshTokenHash {
    // A short prefix is enough to correlate log lines and useless for a lookup.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefreshTokenHash({:02x}{:02x}{:02x}{:02x}…)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

/// A refresh-token family: one login's chain of rotated refresh tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshFamily {
    /// The family's id.
    pub id: FamilyId,
    /// The client every token of the family is bound to.
    pub client_id: ClientId,
    /// The user.
    pub user_id: UserId,
    /// The session the family belongs to; ending it revokes the family.
    pub sid: SessionId,
    /// Scopes granted at login; a refresh may narrow but never widen them (RFC 6749 §6).
    pub scopes: Vec<String>,
    /// When the family was started.
    pub created_at: Timestamp,
    /// Absolute end of the family: rotation never extends it.
    pub expires_at: Timestamp,
    /// When the family was revoked (logout, reuse, revocation request).
    pub revoked_at: Option<Timestamp>,
}

impl RefreshFamily {
    /// Whether tokens of the family may still be rotated at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// One refresh token of a family, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token.
    pub hash: RefreshTokenHash,
    /// The family it belongs to.
    pub family_id: FamilyId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it was rotated; a token with `used_at` set that is presented again is a reuse.
    pub used_at: Option<Timestamp>,
}

/// What [`RefreshStore::rotate_refresh_token`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token is now used and the replacement is live in the same family.
    Rotated {
        /// The family, as it is after the rotation.
        family: RefreshFamily,
    },
    /// The presented token had already been rotated. The store has ALREADY revoked the whole
    /// family, in the same transaction that found the reuse.
    Reused {
        /// The family that was revoked.
        family_id: FamilyId,
    },
    /// No token has this hash.
    Unknown,
    /// The token exists but is bound to another client; nothing was changed.
    ClientMismatch,
    /// The family was revoked before (logout, revocation, an earlier reuse); nothing changed.
    Revoked {
        /// The revoked family.
        family_id: FamilyId,
    },
    /// The family's absolute lifetime is over; nothing changed.
    Expired,
}

/// Storage of refresh families and tokens.
#[async_trait]
pub trait RefreshStore: Send + Sync {
    /// Starts a family with its first token, both or neither.
    async fn create_refresh_family(&self, family: &RefreshFamily, first: &RefreshTokenHash) -> Result<(), CoreError>;

    /// Rotates a refresh token: ONE atomic step that decides and writes, never a read followed
    /// by a separate write. In order: unknown hash → `Unknown`; bound to a client other than
    /// `client_id` → `ClientMismatch` (no change); already used → `Reused`, after revoking the
    /// family (the revocation commits before this returns); family revoked → `Revoked`;
    /// `now >= expires_at` → `Expired`; otherwise the presented token is marked used at `now`
    /// and `replacement` is inserted into the family → `Rotated`.
    ///
    /// Of any number of concurrent calls with one presented token, exactly one returns
    /// `Rotated`; the others see it used and return `Reused`.
    async fn rotate_refresh_token(
        &self,
        presented: &RefreshTokenHash,
        replacement: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<RotateOutcome, CoreError>;

    /// The token with this hash and its family, for introspection. Reads only.
    async fn refresh_token(
        &self,
        hash: &RefreshTokenHash,
    ) -> Result<Option<(RefreshFamily, RefreshTokenRecord)>, CoreError>;

    /// The family with this id.
    async fn refresh_family(&self, id: &FamilyId) -> Result<Option<RefreshFamily>, CoreError>;

    /// Revokes a family; idempotent, keeping the first revocation time. `false` if unknown.
    async fn revoke_refresh_family(&self, id: &FamilyId, now: Timestamp) -> Result<bool, CoreError>;

    /// RFC 7009 §2.1: revokes the family of the presented token, in one conditional statement,
    /// only if the token is bound to `client_id`. `None` if the token is unknown or belongs to
    /// another client (the caller answers 200 either way, RFC 7009 §2.2).
    async fn revoke_refresh_token(
        &self,
        hash: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<FamilyId>, CoreError>;

    /// Deletes families (and their tokens) whose lifetime ended before `now`; returns how many.
    async fn purge_expired_refresh_families(&self, now: Timestamp) -> Result<u64, CoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    #[test]
    fn token_has_256_bits_and_hashes_stably() {
        let token = RefreshToken::generate(&SystemRandom::new()).unwrap();
        assert_eq!(token.expose().len(), 43);
        assert_eq!(token.hash(), RefreshToken::parse(token.expose()).unwrap().hash());
        assert_ne!(token.hash().as_bytes(), token.expose().as_bytes());
    }

    #[test]
    fn token_is_redacted_and_oversized_input_refused() {
        let token = RefreshToken::parse("abcdef-secret").unwrap();
        assert!(!format!("{token:?}").contains("secret"));
        assert!(RefreshToken::parse("").is_err());
        assert!(RefreshToken::parse(&"a".repeat(513)).is_err());
    }
}

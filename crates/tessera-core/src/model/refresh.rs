//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): the rotation chain of a grant — its first
//! refresh token and each one rotated out of it. Tokens are opaque random strings; only their
//! SHA-256 hash is stored, so a database leak yields nothing usable. Each token is bound through
//! its grant to one client, user and session.

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::client::ClientId;
use crate::model::grant::{AccessTokenRecord, Grant, GrantId};
use crate::model::session::Session;
use crate::random::{Random, random_bytes};

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

/// One refresh token of a grant, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token.
    pub hash: RefreshTokenHash,
    /// The grant it belongs to.
    pub grant_id: GrantId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it was rotated; a token with `used_at` set that is presented again is a reuse.
    pub used_at: Option<Timestamp>,
}

/// One rotation, as [`RefreshStore::rotate_refresh_token`] performs it.
#[derive(Clone, Copy, Debug)]
pub struct Rotation<'a> {
    /// The hash of the presented token.
    pub presented: &'a RefreshTokenHash,
    /// The hash of its replacement.
    pub replacement: &'a RefreshTokenHash,
    /// The authenticated client; the token must be bound to it.
    pub client_id: &'a ClientId,
    /// The access token issued with the replacement, recorded under the grant.
    pub access_token: &'a AccessTokenRecord,
    /// `tokens.refresh_reuse_interval`, seconds: a token rotated at most this long ago may be
    /// presented again and rotates again (a benign retry) instead of revoking the grant. 0 is
    /// strict.
    pub reuse_interval: i64,
}

impl Rotation<'_> {
    /// Whether presenting again a token of `grant` rotated at `used_at` is a benign retry
    /// rather than a reuse: only with a reuse interval, only while the grant is not revoked,
    /// only within the interval, and only once per token (`retried`: it was retried before) —
    /// a benign client retries once; a thief replaying it again gets nothing more. Every adapter
    /// decides with this one rule.
    pub fn is_retry(&self, grant: &Grant, used_at: Timestamp, retried: bool, now: Timestamp) -> bool {
        self.reuse_interval > 0
            && !retried
            && grant.revoked_at.is_none()
            && now.unix().saturating_sub(used_at.unix()) <= self.reuse_interval
    }
}

/// What [`RefreshStore::rotate_refresh_token`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token is now used and the replacement is live in the same grant.
    Rotated {
        /// The grant.
        grant: Grant,
    },
    /// The presented token had been rotated within the reuse interval: the replacement is live
    /// in the same grant too, beside the earlier one, and nothing was revoked.
    Retried {
        /// The grant.
        grant: Grant,
    },
    /// The presented token had already been rotated (outside any reuse interval). The store has
    /// ALREADY revoked the grant and every access token it issued, in the same transaction.
    Reused {
        /// The grant that was revoked.
        grant_id: GrantId,
    },
    /// No token has this hash.
    Unknown,
    /// The token exists but is bound to another client; nothing was changed.
    ClientMismatch,
    /// The grant was revoked before (logout, revocation, an earlier reuse); nothing changed.
    Revoked {
        /// The revoked grant.
        grant_id: GrantId,
    },
    /// The grant's absolute lifetime is over; nothing changed.
    Expired,
}

/// Everything a refresh checks before it rotates, read in one step: the token, its grant, and
/// the grant's session and account as they are now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshContext {
    /// The grant the token belongs to.
    pub grant: Grant,
    /// The token.
    pub token: RefreshTokenRecord,
    /// The grant's session, if it still exists.
    pub session: Option<Session>,
    /// Whether the grant's user exists and is not disabled.
    pub account_active: bool,
}

/// Storage of refresh tokens, the rotation chain of a grant.
#[async_trait]
pub trait RefreshStore: Send + Sync {
    /// Rotates a refresh token: ONE atomic step that decides and writes, never a read followed
    /// by a separate write. In order: unknown hash → `Unknown`; bound to a client other than
    /// `client_id` → `ClientMismatch` (no change); already used at `used_at`: if the grant is
    /// not revoked, `now - used_at <= reuse_interval` and the token was not retried before, a
    /// benign retry (go on below, marking the presented token retried), else the grant is revoked with its access tokens (as
    /// [`GrantStore::revoke_grant`](crate::model::grant::GrantStore::revoke_grant), committed before
    /// this returns) → `Reused`; grant revoked → `Revoked`; `now >= expires_at` → `Expired`;
    /// otherwise the presented token is marked used at `now` (unless a retry), and the
    /// replacement and the access record are inserted into the grant → `Rotated` (`Retried`).
    ///
    /// Of any number of concurrent calls with one presented token and a reuse interval of 0,
    /// exactly one returns `Rotated`; the others see it used and return `Reused`.
    async fn rotate_refresh_token(&self, rotation: Rotation<'_>, now: Timestamp) -> Result<RotateOutcome, CoreError>;

    /// The token with this hash and its grant. Reads only: a flow checks with it what can fail
    /// before the rotation commits, but the decision is the rotation's.
    async fn refresh_token(&self, hash: &RefreshTokenHash) -> Result<Option<(Grant, RefreshTokenRecord)>, CoreError>;

    /// [`RefreshContext`] of the token with this hash, in one read (a refresh's checks before
    /// its rotation: one round trip instead of three). Reads only.
    async fn refresh_context(&self, hash: &RefreshTokenHash) -> Result<Option<RefreshContext>, CoreError>;

    /// RFC 7009 §2.1: revokes the grant of the presented token with everything it issued (as
    /// [`GrantStore::revoke_grant`](crate::model::grant::GrantStore::revoke_grant), in one
    /// transaction), only if the token is bound to `client_id`. `None` if the token is unknown
    /// or belongs to another client (the caller answers 200 either way, RFC 7009 §2.2).
    async fn revoke_refresh_token(
        &self,
        hash: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<GrantId>, CoreError>;
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

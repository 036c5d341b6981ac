//! Revocation of self-contained access tokens, which cannot be recalled once issued: by `jti`
//! (one token, kept until its `exp`), by `sid` (every token of a session) and by `sub` (every
//! token of a user), each with a time. Introspection consults it, and the revocation feed
//! streams it to resource servers (SPEC §5).

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::CoreError;

/// The largest clock leeway any verifier of Tessera's tokens may allow past `exp` (jose's
/// default is 60 s; `tessera-verify` refuses more than this). A revocation is kept this long after
/// the last moment its token can expire, so that no verifier anywhere sees the token come back
/// to life when the entry is purged.
pub const RETENTION_LEEWAY: i64 = 300;

/// Until when a revocation of a token that expires at `exp` must be kept: `exp` plus
/// [`RETENTION_LEEWAY`].
pub fn retain_until(exp: Timestamp) -> Timestamp {
    exp.plus(RETENTION_LEEWAY)
}

/// What a revocation names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum RevocationTarget {
    /// One token, by its `jti`.
    Jti(String),
    /// Every token whose `sid` is this and whose `iat` is not after the revocation.
    Sid(String),
    /// Every token whose `sub` is this and whose `iat` is not after the revocation.
    Sub(String),
}

impl RevocationTarget {
    /// `jti`, `sid` or `sub`.
    pub fn kind(&self) -> &'static str {
        match self {
            RevocationTarget::Jti(_) => "jti",
            RevocationTarget::Sid(_) => "sid",
            RevocationTarget::Sub(_) => "sub",
        }
    }

    /// The revoked identifier.
    pub fn value(&self) -> &str {
        match self {
            RevocationTarget::Jti(value) | RevocationTarget::Sid(value) | RevocationTarget::Sub(value) => value,
        }
    }
}

impl fmt::Display for RevocationTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.value())
    }
}

/// A revocation as stored and as streamed on the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Position in the feed; assigned by the store, increasing.
    pub seq: i64,
    /// What is revoked.
    pub target: RevocationTarget,
    /// When it was revoked.
    pub revoked_at: Timestamp,
    /// Until when the entry is kept: [`retain_until`] the token's `exp` for a `jti` entry; for a
    /// `sid`/`sub` entry, until the longest access-token lifetime has passed, plus the same
    /// leeway.
    pub expires_at: Timestamp,
}

/// The claims of an access token that revocation is checked against.
#[derive(Clone, Copy, Debug)]
pub struct RevocationQuery<'a> {
    /// The token's `jti`.
    pub jti: &'a str,
    /// The token's `sid`, if it has one.
    pub sid: Option<&'a str>,
    /// The token's `sub`.
    pub sub: &'a str,
    /// The token's `iat`.
    pub issued_at: Timestamp,
}

/// Storage of revocations.
#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Appends a revocation effective at `now` and lasting until `expires_at`; returns it with
    /// its feed position. Durable before it returns, so an acknowledged revocation holds.
    async fn revoke(
        &self,
        target: &RevocationTarget,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Revocation, CoreError>;

    /// The revocation that applies to a token, if any: its `jti` is revoked, or its `sid` or
    /// `sub` was revoked at or after its `iat`. Whole seconds, so a token issued in the very
    /// second of a revocation counts as revoked: failing closed.
    async fn find_revocation(&self, query: RevocationQuery<'_>) -> Result<Option<Revocation>, CoreError>;

    /// Revocations with `seq > after`, in order, at most `limit`: the feed. Positions follow
    /// commit order, so a reader resuming after `after` never skips an entry that committed
    /// later with a lower position (SQLite: one writer at a time; a future adapter with
    /// concurrent writers must keep this, e.g. by a commit-ordered sequence).
    async fn revocations_after(&self, after: i64, limit: u32) -> Result<Vec<Revocation>, CoreError>;

    /// Deletes entries whose `expires_at` has passed; returns how many.
    async fn purge_expired_revocations(&self, now: Timestamp) -> Result<u64, CoreError>;
}

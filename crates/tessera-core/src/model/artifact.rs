//! Single-use artifacts: authorization codes, magic links, one-time e-mail and SMS codes, MFA
//! tokens. Each is stored only as a hash, taken at most once, atomically, and dies at its
//! expiry. Two ways to redeem one:
//!
//! - [`ArtifactStore::take_artifact`] for high-entropy artifacts presented whole (a code or a
//!   link's `jti`): found by its hash. Presenting one again reports what it was, so that a
//!   replayed authorization code can revoke the grant it produced (RFC 6749 §4.1.2, SPEC §7).
//! - [`ArtifactStore::verify_artifact`] for low-entropy codes a person types (six digits): found
//!   by its subject (the e-mail address or user), compared by keyed hash, with every wrong
//!   attempt counted in the same step; at the limit the artifact is void even for the right code.
//!
//! For e-mail and SMS codes and magic links, a new artifact for a subject voids the previous
//! one ("a new code voids the previous one"), in the same step that stores it
//! ([`ArtifactKind::voids_previous`]); a user's authorization codes and MFA tokens never void
//! each other.

use async_trait::async_trait;
use serde_json::Value;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::grant::{AccessTokenRecord, Grant, GrantId};
use crate::model::refresh::RefreshTokenHash;

/// What an artifact is; one namespace each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    /// An OAuth authorization code (RFC 6749 §4.1.2).
    AuthorizationCode,
    /// A magic-link token's `jti`.
    MagicLink,
    /// A one-time code sent by e-mail.
    EmailCode,
    /// A one-time code sent by SMS.
    SmsCode,
    /// An MFA token's `jti`.
    MfaToken,
    /// A pending authorization request, between `/oauth/authorize` and the code: read by each
    /// page of the interaction ([`ArtifactStore::peek_artifact`]), taken when it completes.
    Interaction,
}

impl ArtifactKind {
    /// Every kind, in a stable order.
    pub const ALL: [ArtifactKind; 6] = [
        ArtifactKind::AuthorizationCode,
        ArtifactKind::MagicLink,
        ArtifactKind::EmailCode,
        ArtifactKind::SmsCode,
        ArtifactKind::MfaToken,
        ArtifactKind::Interaction,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::AuthorizationCode => "authorization_code",
            ArtifactKind::MagicLink => "magic_link",
            ArtifactKind::EmailCode => "email_code",
            ArtifactKind::SmsCode => "sms_code",
            ArtifactKind::MfaToken => "mfa_token",
            ArtifactKind::Interaction => "interaction",
        }
    }

    /// Whether a new artifact of this kind for a subject voids the subject's earlier ones: yes for
    /// what a person asks to be sent again (e-mail and SMS codes, magic links: the newest is the
    /// one to use); no for authorization codes and MFA tokens, of which one user may rightly hold
    /// several at once (two clients, two tabs).
    pub fn voids_previous(self) -> bool {
        matches!(self, ArtifactKind::EmailCode | ArtifactKind::SmsCode | ArtifactKind::MagicLink)
    }

    /// Whether this kind is low-entropy (typed by a person) and so must be redeemed with
    /// [`ArtifactStore::verify_artifact`], which counts attempts, never by
    /// [`ArtifactStore::take_artifact`].
    pub fn is_typed_code(self) -> bool {
        matches!(self, ArtifactKind::EmailCode | ArtifactKind::SmsCode)
    }

    /// The kind with this stored name.
    pub fn from_name(name: &str) -> Result<ArtifactKind, CoreError> {
        ArtifactKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| CoreError::CorruptData(format!("unknown artifact kind {name:?}")))
    }
}

/// The hash under which an artifact is stored: SHA-256 of a high-entropy value, or a keyed hash
/// (HMAC) of a low-entropy code, so that a database leak reveals neither.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArtifactHash(pub [u8; 32]);

impl ArtifactHash {
    /// SHA-256 of a high-entropy value presented whole (a code, an interaction id). Unkeyed:
    /// 256 random bits cannot be guessed from their hash.
    pub fn of_secret(value: &str) -> ArtifactHash {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        ArtifactHash(bytes)
    }

    /// Compares in constant time: a code's keyed hash must not leak through timing how much
    /// of it matched.
    pub fn matches(&self, other: &ArtifactHash) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.0, &other.0).is_ok()
    }
}

impl std::fmt::Debug for ArtifactHash {
    // A short prefix correlates log lines and is useless for a lookup.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ArtifactHash({:02x}{:02x}{:02x}{:02x}…)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

/// A single-use artifact as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    /// What it is.
    pub kind: ArtifactKind,
    /// Its hash; unique per kind.
    pub hash: ArtifactHash,
    /// Whom it is for: a user id or an e-mail address. A new artifact of the same kind for the
    /// same subject voids this one.
    pub subject: String,
    /// The grant it produced or belongs to, if any: a replayed code revokes it.
    pub grant_id: Option<GrantId>,
    /// What the flow needs back when the artifact is redeemed (client, redirect URI, PKCE
    /// challenge, nonce…). Never a secret in the clear.
    pub payload: Value,
    /// Wrong attempts allowed before the artifact is void (for [`ArtifactStore::verify_artifact`]).
    pub max_attempts: u32,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it dies: from then on it cannot be taken.
    pub expires_at: Timestamp,
}

/// What redeeming an artifact did.
#[derive(Clone, Debug, PartialEq)]
pub enum Redeemed {
    /// Taken now, by this call alone; it can never be taken again.
    Taken(Artifact),
    /// It was taken before: a replay. The artifact is returned so the flow can act on it (an
    /// authorization code's grant is revoked).
    AlreadyTaken(Artifact),
    /// No live artifact: unknown, voided by a newer one, or past its expiry.
    Unknown,
    /// The presented code is wrong; the attempt was counted. `remaining` wrong attempts are
    /// left before it is void.
    Mismatch {
        /// Wrong attempts left.
        remaining: u32,
    },
    /// Too many wrong attempts: the artifact is void, whatever is presented.
    Exhausted,
}

/// A grant to create when an artifact is redeemed: what
/// [`GrantStore::create_grant`](crate::model::grant::GrantStore::create_grant) takes.
#[derive(Clone, Copy, Debug)]
pub struct GrantToStore<'a> {
    /// The grant.
    pub grant: &'a Grant,
    /// Its first refresh token, when the client may refresh.
    pub first_refresh: Option<&'a RefreshTokenHash>,
    /// Its first access token.
    pub access_token: &'a AccessTokenRecord,
}

/// Storage of single-use artifacts.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Stores an artifact and, in the same step, when its kind
    /// [voids previous ones](ArtifactKind::voids_previous), voids every untaken artifact of the
    /// same kind for the same subject. A hash already stored for the kind is a
    /// [`CoreError::Conflict`].
    async fn put_artifact(&self, artifact: &Artifact, now: Timestamp) -> Result<(), CoreError>;

    /// Takes the artifact of `kind` with `hash`, atomically: of any number of concurrent calls
    /// exactly one gets [`Redeemed::Taken`]; the others get [`Redeemed::AlreadyTaken`], as does
    /// any later call while the row is kept, expired or not (a replay is reported, never
    /// forgotten early). An untaken one that expired, was voided or does not exist is
    /// [`Redeemed::Unknown`], and nothing changes.
    async fn take_artifact(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError>;

    /// The live artifact of `kind` with `hash` (untaken, not voided, not expired, attempts
    /// left), without taking it. Never the decision for a single use: only
    /// [`take_artifact`](ArtifactStore::take_artifact) and
    /// [`redeem_for_grant`](ArtifactStore::redeem_for_grant) decide.
    async fn peek_artifact(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Option<Artifact>, CoreError>;

    /// Takes the artifact like [`take_artifact`](ArtifactStore::take_artifact) and, only when
    /// this call took it, stores `grant` (as
    /// [`GrantStore::create_grant`](crate::model::grant::GrantStore::create_grant) does) and
    /// records its id on the artifact (the returned [`Redeemed::Taken`] names it already), all in
    /// one transaction. So a replay, which reports
    /// [`Redeemed::AlreadyTaken`] with that grant id, can only come after the grant and its
    /// tokens exist, and revoking the grant reaches them (RFC 6749 §4.1.2).
    async fn redeem_for_grant(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        grant: GrantToStore<'_>,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError>;

    /// Redeems the live artifact of `kind` for `subject` if its hash is `presented`, in one
    /// atomic step that also counts a wrong attempt: [`Redeemed::Taken`] on a match (once);
    /// [`Redeemed::Mismatch`] after counting the attempt; [`Redeemed::Exhausted`] once
    /// `max_attempts` wrong attempts were made, even for the right code; [`Redeemed::Unknown`]
    /// if there is no live one.
    async fn verify_artifact(
        &self,
        kind: ArtifactKind,
        subject: &str,
        presented: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError>;

    /// Deletes artifacts that expired before `now`; returns how many. A replay after the
    /// purge is [`Redeemed::Unknown`], so keep authorization codes' rows until their grants
    /// could matter no more (the caller picks `now` accordingly).
    async fn purge_expired_artifacts(&self, now: Timestamp) -> Result<u64, CoreError>;
}

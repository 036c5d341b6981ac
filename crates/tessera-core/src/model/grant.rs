//! Grants: what a user allowed one client in one session (node-oidc-provider's `grantId`,
//! fosite's request id). Every token a login or a refresh issues belongs to one grant — the
//! access tokens (recorded by `jti`), the refresh tokens (the grant's rotation chain) and, as
//! the browser flows arrive, authorization codes and ID tokens — and a grant belongs to a
//! session. Revoking a grant is one atomic store operation that kills all of it: its refresh
//! tokens stop rotating and each of its access tokens still alive gets a `jti` revocation, so
//! introspection, userinfo and the revocation feed refuse them too (RFC 7009 §2.1, RFC 9700
//! §4.14.2).
//!
//! `client_credentials` tokens have no user and no session, so no grant: they are revoked one by
//! one by `jti`, and their issuance writes nothing (it is the service-to-service hot path).

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::identifier::string_identifier;
use crate::model::account::UserId;
use crate::model::client::ClientId;
use crate::model::refresh::RefreshTokenHash;
use crate::model::session::SessionId;

string_identifier!(
    /// Identifies a grant.
    GrantId
);

/// A grant as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The grant's id.
    pub id: GrantId,
    /// The client it was given to; its refresh tokens are bound to this client.
    pub client_id: ClientId,
    /// The user who gave it.
    pub user_id: UserId,
    /// The session it was given in; ending the session revokes the grant.
    pub sid: SessionId,
    /// Scopes granted; a refresh may narrow but never widen them (RFC 6749 §6).
    pub scopes: Vec<String>,
    /// Claims asked for individually (`claims` parameter), released with the scopes.
    pub claims: crate::model::id_token::RequestedClaims,
    /// When it was given.
    pub created_at: Timestamp,
    /// Absolute end: refresh tokens of the grant stop rotating then, and rotation never extends it.
    pub expires_at: Timestamp,
    /// When it was revoked (logout, reuse, revocation request, ended session).
    pub revoked_at: Option<Timestamp>,
}

impl Grant {
    /// Whether the grant may still issue tokens at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// An access token a grant issued, as the store keeps it: enough to revoke it by `jti` when the
/// grant is revoked, until it could no longer validate anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// The token's `jti`.
    pub jti: String,
    /// The token's `exp`.
    pub expires_at: Timestamp,
}

/// Storage of grants.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new grant with its first access token and, when the client may refresh, its
    /// first refresh token: all or nothing. The session must exist.
    async fn create_grant(
        &self,
        grant: &Grant,
        first_refresh: Option<&RefreshTokenHash>,
        access_token: &AccessTokenRecord,
    ) -> Result<(), CoreError>;

    /// The grant with this id.
    async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, CoreError>;

    /// The grant that issued the access token with this `jti`, while its record is kept.
    async fn grant_of_access_token(&self, jti: &str) -> Result<Option<Grant>, CoreError>;

    /// Revokes a grant and everything it issued, in one transaction: the grant is marked
    /// revoked (the first revocation time is kept), and each of its access tokens that could
    /// still validate gets a `jti` revocation kept until
    /// [`retain_until`](crate::model::revocation::retain_until) its `exp`. Idempotent: revoking again
    /// adds nothing. `false` if there is no such grant.
    async fn revoke_grant(&self, id: &GrantId, now: Timestamp) -> Result<bool, CoreError>;

    /// Deletes grants whose lifetime ended before `now` (with their refresh tokens and access
    /// records), and the access records of live grants whose tokens can no longer validate.
    /// Revocations already written stay until their own end. Returns how many grants went.
    async fn purge_expired_grants(&self, now: Timestamp) -> Result<u64, CoreError>;
}

//! What every token-issuing flow shares: the services it needs and the one way it makes an
//! access token, so that the claims of every grant come from
//! [`AccessTokenClaims`](crate::model::access_token::AccessTokenClaims) alone.

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::access_token::{AccessTokenClaims, AccessTokenIssuer, IssuedAccessToken, TokenPolicy};
use crate::model::account::UserId;
use crate::model::audit::AuditSink;
use crate::model::client::Client;
use crate::model::grant::AccessTokenRecord;
use crate::model::id_token::IdTokenIssuer;
use crate::model::refresh::RefreshToken;
use crate::model::session::{Session, SessionId};
use crate::random::Random;

/// The services a flow that issues tokens needs.
pub struct Issuance<'a> {
    /// Audit events.
    pub audit: &'a dyn AuditSink,
    /// Randomness.
    pub random: &'a dyn Random,
    /// Signs access tokens.
    pub issuer: &'a dyn AccessTokenIssuer,
    /// Issuer name, default lifetimes, reuse interval.
    pub policy: &'a TokenPolicy,
    /// Signs ID tokens.
    pub id_tokens: &'a dyn IdTokenIssuer,
}

impl Issuance<'_> {
    /// Builds and signs a user's access token, and what its grant records of it. Signed before
    /// anything commits, so that a signing failure cannot follow a committed rotation.
    pub fn user_access_token(
        &self,
        client: &Client,
        user_id: &UserId,
        session: &Session,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<(IssuedAccessToken, AccessTokenRecord), CoreError> {
        let claims = AccessTokenClaims::for_user(self.policy, self.random, client, user_id, session, scopes, now)?;
        Ok((self.issuer.issue_access_token(&claims)?, claims.record()))
    }

    /// Builds and signs a client's own access token (`client_credentials`).
    pub fn client_access_token(
        &self,
        client: &Client,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<IssuedAccessToken, CoreError> {
        let claims = AccessTokenClaims::for_client(self.policy, self.random, client, scopes, now)?;
        self.issuer.issue_access_token(&claims)
    }
}

/// What a successful login or grant returns: the token response's content.
#[derive(Debug)]
pub struct IssuedTokens {
    /// The access token and its lifetime.
    pub access_token: IssuedAccessToken,
    /// The refresh token, when the client may refresh.
    pub refresh_token: Option<RefreshToken>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The session behind the tokens, if any.
    pub sid: Option<SessionId>,
    /// The ID token, when `openid` was granted in a flow that makes one.
    pub id_token: Option<String>,
}

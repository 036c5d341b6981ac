//! The one place access tokens are made. Core decides WHAT a token says (RFC 9068 claims, built
//! only here, for every grant); an [`AccessTokenIssuer`] decides HOW it is signed, implemented
//! over `tessera-jose` with the active signing key. Keeping signing behind this trait keeps core
//! free of key material and lets flow tests use a fake issuer.

use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::UserId;
use crate::model::client::{Client, ClientId};
use crate::model::grant::AccessTokenRecord;
use crate::model::session::Session;
use crate::random::Random;

/// Server-wide facts every access token needs.
#[derive(Clone, Debug)]
pub struct TokenPolicy {
    /// The `iss`.
    pub issuer: String,
    /// Access-token lifetime when the client sets none, seconds (SPEC §3: 900).
    pub access_ttl: i64,
    /// Grant (refresh) lifetime when the client sets none, seconds (SPEC §3: 7 days).
    pub refresh_ttl: i64,
    /// `tokens.refresh_reuse_interval`, seconds: how long a rotated refresh token may be
    /// presented again as a benign retry (0: never; SPEC §3).
    pub refresh_reuse_interval: i64,
}

impl TokenPolicy {
    /// The access-token lifetime for `client`.
    pub fn access_ttl_for(&self, client: &Client) -> i64 {
        client.access_ttl.unwrap_or(self.access_ttl)
    }

    /// The grant (refresh) lifetime for `client`.
    pub fn refresh_ttl_for(&self, client: &Client) -> i64 {
        client.refresh_ttl.unwrap_or(self.refresh_ttl)
    }

    /// The `aud` of `client`'s tokens: its registered audiences, or, for a client registered
    /// without any, the issuer itself — the resource Tessera serves (userinfo, introspection).
    /// RFC 9068 §2.2 requires an `aud`, so it is never empty.
    pub fn audiences_for(&self, client: &Client) -> Vec<String> {
        if client.audiences.is_empty() { vec![self.issuer.clone()] } else { client.audiences.clone() }
    }
}

/// The claims of an RFC 9068 access token (`typ: at+jwt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessTokenClaims {
    /// `iss`
    pub iss: String,
    /// `sub`: the user, or the client for `client_credentials` (RFC 9068 §2.2).
    pub sub: String,
    /// `aud`, never empty (RFC 9068 §2.2).
    pub aud: Vec<String>,
    /// `exp`
    pub exp: i64,
    /// `iat`
    pub iat: i64,
    /// `jti`, unique per token so that it can be revoked alone.
    pub jti: String,
    /// `client_id`
    pub client_id: ClientId,
    /// `scope`, space-separated (RFC 9068 §2.2.3); omitted when nothing was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `sid`, when a user session is behind the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `auth_time`, when a user authenticated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// `acr`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// `amr`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

impl AccessTokenClaims {
    /// Claims for a user's token from a session.
    pub fn for_user(
        policy: &TokenPolicy,
        random: &dyn Random,
        client: &Client,
        user_id: &UserId,
        session: &Session,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<AccessTokenClaims, CoreError> {
        let mut claims = AccessTokenClaims::base(policy, random, client, user_id.as_str(), scopes, now)?;
        claims.sid = Some(session.sid.as_str().to_owned());
        claims.auth_time = Some(session.auth_time.unix());
        claims.acr = session.acr.clone();
        claims.amr = (!session.amr.is_empty()).then(|| session.amr.clone());
        Ok(claims)
    }

    /// Claims for a client acting as itself (`client_credentials`): `sub` is the `client_id`.
    pub fn for_client(
        policy: &TokenPolicy,
        random: &dyn Random,
        client: &Client,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<AccessTokenClaims, CoreError> {
        AccessTokenClaims::base(policy, random, client, client.client_id.as_str(), scopes, now)
    }

    fn base(
        policy: &TokenPolicy,
        random: &dyn Random,
        client: &Client,
        sub: &str,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<AccessTokenClaims, CoreError> {
        Ok(AccessTokenClaims {
            iss: policy.issuer.clone(),
            sub: sub.to_owned(),
            aud: policy.audiences_for(client),
            exp: now.plus(policy.access_ttl_for(client)).unix(),
            iat: now.unix(),
            jti: crate::random::random_id(random)?,
            client_id: client.client_id.clone(),
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            sid: None,
            auth_time: None,
            acr: None,
            amr: None,
        })
    }
}

impl AccessTokenClaims {
    /// What a grant records of this token, to revoke it by `jti` with the grant.
    pub fn record(&self) -> AccessTokenRecord {
        AccessTokenRecord { jti: self.jti.clone(), expires_at: Timestamp::from_unix(self.exp) }
    }
}

/// A signed access token and what the token response says about it.
#[derive(Clone, Debug)]
pub struct IssuedAccessToken {
    /// The compact JWS.
    pub token: String,
    /// `expires_in`, seconds.
    pub expires_in: i64,
}

/// Signs access tokens. Implemented outside core over `tessera-jose` and the active key.
pub trait AccessTokenIssuer: Send + Sync {
    /// Signs `claims` as an `at+jwt` and returns the compact serialization.
    fn issue_access_token(&self, claims: &AccessTokenClaims) -> Result<IssuedAccessToken, CoreError>;
}

//! Authentication sessions: one per login, browser (cookie, SSO) or API (`/auth/login`). The
//! `sid` of a session goes into its tokens (OpenID Connect Front-Channel Logout §3), so ending a
//! session can reach every token it produced.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::identifier::string_identifier;
use crate::model::account::UserId;
use crate::model::client::ClientId;

string_identifier!(
    /// A session id, the `sid` claim.
    SessionId
);

/// Where a session lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// A browser session at the server, behind a cookie; reused for single sign-on.
    Browser,
    /// A session created by the JSON login API; it lives as long as its grant.
    Api,
}

impl SessionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }
}

impl FromStr for SessionKind {
    type Err = CoreError;

    fn from_str(name: &str) -> Result<SessionKind, CoreError> {
        match name {
            "browser" => Ok(SessionKind::Browser),
            "api" => Ok(SessionKind::Api),
            other => Err(CoreError::CorruptData(format!("unknown session kind {other:?}"))),
        }
    }
}

impl fmt::Display for SessionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A login session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The `sid`.
    pub sid: SessionId,
    /// Browser or API.
    pub kind: SessionKind,
    /// Who logged in.
    pub user_id: UserId,
    /// The client the login was for; `None` for a browser session shared by many clients.
    pub client_id: Option<ClientId>,
    /// When the user last actively authenticated (`auth_time`, OIDC Core §2).
    pub auth_time: Timestamp,
    /// Authentication context class reached (`acr`).
    pub acr: Option<String>,
    /// Authentication methods used (`amr`, RFC 8176).
    pub amr: Vec<String>,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When the session ends on its own.
    pub expires_at: Timestamp,
    /// When it was ended early (logout, revocation, reuse incident).
    pub revoked_at: Option<Timestamp>,
}

impl Session {
    /// Whether the session is usable at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Storage of sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a new session. The user (and client, when set) must exist.
    async fn create_session(&self, session: &Session) -> Result<(), CoreError>;

    /// The session with this `sid`, revoked or not.
    async fn session(&self, sid: &SessionId) -> Result<Option<Session>, CoreError>;

    /// The sessions of a user that are active at `now`, newest first.
    async fn active_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<Vec<Session>, CoreError>;

    /// Ends a session. Atomically with it, every grant of the session is revoked,
    /// so that no refresh token outlives its session. Idempotent: the first revocation time
    /// is kept. `false` if there is no such session.
    async fn revoke_session(&self, sid: &SessionId, now: Timestamp) -> Result<bool, CoreError>;

    /// Ends every session of a user and revokes their grants, atomically; returns how
    /// many sessions were active.
    async fn revoke_user_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<u64, CoreError>;
}

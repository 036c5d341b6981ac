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

/// The hash of a browser session's cookie: the cookie is the only bearer of a browser session,
/// and the database holds only this SHA-256, so a leaked table logs nobody in. The cookie is not
/// the `sid`, which goes into tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionCookieHash(pub [u8; 32]);

impl fmt::Debug for SessionCookieHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionCookieHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// A browser session as found by its cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserSession {
    /// The session.
    pub session: Session,
    /// When the browser last used it: the idle lifetime runs from here.
    pub last_seen_at: Timestamp,
}

/// A new authentication in a browser that already holds a session of the same user.
#[derive(Clone, Debug)]
pub struct Reauthentication<'a> {
    /// The session.
    pub sid: &'a SessionId,
    /// The new cookie's hash: the old cookie stops working (no session fixation).
    pub cookie: &'a SessionCookieHash,
    /// The new `auth_time`.
    pub auth_time: Timestamp,
    /// The `acr` reached.
    pub acr: Option<&'a str>,
    /// The methods used.
    pub amr: &'a [String],
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

    /// Inserts a browser session, reachable from now on only by the cookie hashing to `cookie`.
    /// A cookie hash or `sid` already stored is a [`CoreError::Conflict`].
    async fn create_browser_session(&self, session: &Session, cookie: &SessionCookieHash) -> Result<(), CoreError>;

    /// The browser session whose cookie hashes to `cookie`, revoked or not; the caller checks
    /// its lifetimes.
    async fn browser_session(&self, cookie: &SessionCookieHash) -> Result<Option<BrowserSession>, CoreError>;

    /// Records that the browser used the session at `now` (the idle lifetime restarts); a time
    /// earlier than the one stored changes nothing.
    async fn touch_browser_session(&self, sid: &SessionId, now: Timestamp) -> Result<(), CoreError>;

    /// A new login of the browser session's user in the same browser: the cookie is replaced,
    /// `auth_time`, `acr` and `amr` are updated and the session counts as used at `now`, in one
    /// step. `false`, changing nothing, if the session is not active at `now`; a cookie hash
    /// another session holds is a [`CoreError::Conflict`].
    async fn reauthenticate_session(&self, update: Reauthentication<'_>, now: Timestamp) -> Result<bool, CoreError>;

    /// Ends a session. Atomically with it, every grant of the session is revoked,
    /// so that no refresh token outlives its session. Idempotent: the first revocation time
    /// is kept. `false` if there is no such session.
    async fn revoke_session(&self, sid: &SessionId, now: Timestamp) -> Result<bool, CoreError>;

    /// Ends every session of a user and revokes their grants, atomically; returns how
    /// many sessions were active.
    async fn revoke_user_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<u64, CoreError>;
}

//! The browser session behind the login cookie (single sign-on): found by the cookie's hash,
//! alive while used within its idle lifetime and before its absolute end, and given a new
//! cookie at every login so that a cookie planted before the login is worth nothing after it
//! (no session fixation, OWASP Session Management).

use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::Account;
use crate::model::audit::{AuditEvent, AuditKind, AuditSink};
use crate::model::session::{Reauthentication, Session, SessionCookieHash, SessionId, SessionKind, SessionStore};
use crate::random::{Random, random_id, random_secret};

/// A session's use is written down at most this often, seconds: the idle lifetime is far
/// longer, and a write per page would put the store on every authorization request's path.
pub const TOUCH_EVERY: i64 = 60;

/// How long browser sessions live (`session.idle_ttl`, `session.absolute_ttl`), seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// Ends after this long unused.
    pub idle: i64,
    /// Ends this long after the login, however used.
    pub absolute: i64,
}

impl SessionCookieHash {
    /// The hash of a cookie value as presented.
    pub fn of(cookie: &str) -> SessionCookieHash {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cookie.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        SessionCookieHash(bytes)
    }
}

/// The live browser session behind `cookie`, if any: not revoked, before its absolute end and
/// used within its idle lifetime. Records the use (at most every [`TOUCH_EVERY`] seconds).
pub async fn current_session<S: SessionStore + ?Sized>(
    store: &S,
    cookie: &str,
    lifetimes: SessionLifetimes,
    now: Timestamp,
) -> Result<Option<Session>, CoreError> {
    let Some(found) = store.browser_session(&SessionCookieHash::of(cookie)).await? else {
        return Ok(None);
    };
    if !found.session.is_active(now) || now >= found.last_seen_at.plus(lifetimes.idle) {
        return Ok(None);
    }
    if now.unix() - found.last_seen_at.unix() >= TOUCH_EVERY {
        store.touch_browser_session(&found.session.sid, now).await?;
    }
    Ok(Some(found.session))
}

/// What a login in the browser proved.
#[derive(Clone, Debug)]
pub struct BrowserLogin<'a> {
    /// Who logged in.
    pub account: &'a Account,
    /// `acr` reached.
    pub acr: &'a str,
    /// Methods used (RFC 8176).
    pub amr: &'a [String],
    /// The request's IP address, for the audit log.
    pub ip: Option<String>,
}

/// Signs `login.account` in in this browser and returns the session with its new cookie
/// value. A live session of the same user is kept (its `sid`, so its grants stay) with a new
/// cookie and `auth_time`; a session of someone else is ended first, with its grants.
pub async fn sign_in<S: SessionStore + ?Sized>(
    store: &S,
    random: &dyn Random,
    audit: &dyn AuditSink,
    login: BrowserLogin<'_>,
    existing: Option<&Session>,
    lifetimes: SessionLifetimes,
    now: Timestamp,
) -> Result<(Session, String), CoreError> {
    let cookie = random_secret(random)?;
    let hash = SessionCookieHash::of(&cookie);
    if let Some(existing) = existing {
        if existing.user_id == login.account.id {
            let update = Reauthentication {
                sid: &existing.sid,
                cookie: &hash,
                auth_time: now,
                acr: Some(login.acr),
                amr: login.amr,
            };
            if store.reauthenticate_session(update, now).await? {
                let mut session = existing.clone();
                session.auth_time = now;
                session.acr = Some(login.acr.to_owned());
                session.amr = login.amr.to_vec();
                audit_login(audit, &session, login.ip, now);
                return Ok((session, cookie));
            }
        } else {
            store.revoke_session(&existing.sid, now).await?;
        }
    }
    let session = Session {
        sid: SessionId::new(random_id(random)?),
        kind: SessionKind::Browser,
        user_id: login.account.id.clone(),
        client_id: None,
        auth_time: now,
        acr: Some(login.acr.to_owned()),
        amr: login.amr.to_vec(),
        created_at: now,
        expires_at: now.plus(lifetimes.absolute),
        revoked_at: None,
    };
    store.create_browser_session(&session, &hash).await?;
    audit_login(audit, &session, login.ip, now);
    Ok((session, cookie))
}

fn audit_login(audit: &dyn AuditSink, session: &Session, ip: Option<String>, now: Timestamp) {
    audit.record(
        AuditEvent::new(AuditKind::LoginSucceeded, now)
            .actor(session.user_id.as_str())
            .ip(ip)
            .details(json!({ "sid": session.sid.as_str(), "amr": session.amr, "session": "browser" })),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::model::account::{AccountStore, Email, UserId};
    use crate::model::audit::MemoryAuditSink;
    use crate::random::TestRandom;

    const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);
    const LIFETIMES: SessionLifetimes = SessionLifetimes { idle: 600, absolute: 3600 };

    #[tokio::test]
    async fn a_session_lives_while_used_and_every_login_changes_the_cookie() {
        let store = MemoryStore::default();
        let (random, audit) = (TestRandom::new(1), MemoryAuditSink::default());
        let alice = Account::new(UserId::new("a"), Email::parse("a@example.com").unwrap(), None, None, NOW);
        let bob = Account::new(UserId::new("b"), Email::parse("b@example.com").unwrap(), None, None, NOW);
        store.create_account(&alice).await.unwrap();
        store.create_account(&bob).await.unwrap();
        let amr = vec!["pwd".to_owned()];
        let login = |account| BrowserLogin { account, acr: "1", amr: &amr, ip: None };

        let (first, cookie) = sign_in(&store, &random, &audit, login(&alice), None, LIFETIMES, NOW).await.unwrap();
        assert_eq!(current_session(&store, &cookie, LIFETIMES, NOW.plus(500)).await.unwrap().unwrap().sid, first.sid);
        // Used at +500, so still alive at +1000; unused for 600 s after that, it ends.
        assert!(current_session(&store, &cookie, LIFETIMES, NOW.plus(1000)).await.unwrap().is_some());
        assert!(current_session(&store, &cookie, LIFETIMES, NOW.plus(1600)).await.unwrap().is_none());
        assert!(current_session(&store, "not a cookie", LIFETIMES, NOW).await.unwrap().is_none());

        // The same user again: same sid, new cookie, later auth_time; the old cookie is dead.
        let later = NOW.plus(1100);
        let (again, new_cookie) =
            sign_in(&store, &random, &audit, login(&alice), Some(&first), LIFETIMES, later).await.unwrap();
        assert_eq!(again.sid, first.sid);
        assert_ne!(new_cookie, cookie);
        assert!(current_session(&store, &cookie, LIFETIMES, later).await.unwrap().is_none());
        let found = current_session(&store, &new_cookie, LIFETIMES, later).await.unwrap().unwrap();
        assert_eq!(found.auth_time, later);

        // Someone else in the same browser: the first session ends.
        let (other, _) = sign_in(&store, &random, &audit, login(&bob), Some(&again), LIFETIMES, later).await.unwrap();
        assert_ne!(other.sid, first.sid);
        assert!(store.session(&first.sid).await.unwrap().unwrap().revoked_at.is_some());
        // Absolute end.
        assert!(current_session(&store, &new_cookie, LIFETIMES, NOW.plus(3600)).await.unwrap().is_none());
    }
}

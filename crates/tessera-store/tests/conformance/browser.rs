//! Browser sessions: reached only by their cookie's hash, touched forward, re-authenticated
//! with a new cookie, revoked and removed like every session.

use std::sync::Arc;

use tessera_core::CoreError;
use tessera_core::model::account::UserId;
use tessera_core::model::client::ClientId;
use tessera_core::model::refresh::{RotateOutcome, Rotation};
use tessera_core::model::session::{BrowserSession, Reauthentication, Session, SessionCookieHash, SessionId};
use tessera_core::store::Store;

use super::fixtures::{
    NOW, access, account, browser_session, confidential_client, cookie, grant, jti_revoked, token_hash,
};

/// The session behind `cookie`, if any.
async fn by_cookie<S: Store>(store: &S, cookie: &SessionCookieHash) -> Option<BrowserSession> {
    store.browser_session(cookie).await.unwrap()
}

/// A browser session is found by its cookie, revoked or not, and by nothing else; its cookie
/// and its `sid` are each unique.
pub async fn a_browser_session_is_found_by_its_cookie<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    let session = browser_session("b1", "u1");
    store.create_browser_session(&session, &cookie("c1")).await.unwrap();

    let found = by_cookie(&*store, &cookie("c1")).await;
    assert_eq!(found, Some(BrowserSession { session: session.clone(), last_seen_at: session.created_at }));
    assert_eq!(by_cookie(&*store, &cookie("unknown")).await, None);
    assert_eq!(store.session(&session.sid).await.unwrap(), Some(session.clone()), "a session like any other");
    assert_eq!(store.active_sessions(&UserId::new("u1"), NOW.plus(1)).await.unwrap(), std::slice::from_ref(&session));

    let same_cookie = store.create_browser_session(&browser_session("b2", "u1"), &cookie("c1")).await;
    assert!(matches!(same_cookie, Err(CoreError::Conflict { .. })), "{same_cookie:?}");
    assert_eq!(store.session(&SessionId::new("b2")).await.unwrap(), None);
    let same_sid = store.create_browser_session(&browser_session("b1", "u1"), &cookie("c2")).await;
    assert!(matches!(same_sid, Err(CoreError::Conflict { .. })), "{same_sid:?}");
    assert_eq!(by_cookie(&*store, &cookie("c2")).await, None);
    let ghost = store.create_browser_session(&browser_session("b3", "ghost"), &cookie("c3")).await;
    assert!(matches!(ghost, Err(CoreError::NotFound { .. })), "{ghost:?}");
    assert_eq!(by_cookie(&*store, &cookie("c3")).await, None);

    assert!(store.revoke_session(&session.sid, NOW.plus(5)).await.unwrap());
    let revoked = by_cookie(&*store, &cookie("c1")).await.expect("a revoked session is still found");
    assert_eq!(revoked.session.revoked_at, Some(NOW.plus(5)), "the caller sees it is revoked");
}

/// Touching moves `last_seen_at` forward, never back, and changes nothing else.
pub async fn touching_a_browser_session_moves_last_seen_forward_only<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    let session = browser_session("b1", "u1");
    store.create_browser_session(&session, &cookie("c1")).await.unwrap();
    for (touched, seen) in [(10, 10), (5, 10), (10, 10), (20, 20), (0, 20)] {
        store.touch_browser_session(&session.sid, NOW.plus(touched)).await.unwrap();
        let found = by_cookie(&*store, &cookie("c1")).await.unwrap();
        assert_eq!(found.last_seen_at, NOW.plus(seen), "touched at +{touched}");
        assert_eq!(found.session, session);
    }
    store.touch_browser_session(&SessionId::new("unknown"), NOW.plus(30)).await.unwrap();
}

/// A new login in the same browser replaces the cookie (no session fixation) and the
/// authentication facts in one step; the session stays the same one.
pub async fn reauthentication_replaces_the_cookie<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    let session = browser_session("b1", "u1");
    store.create_browser_session(&session, &cookie("old")).await.unwrap();
    let amr = vec!["pwd".to_owned(), "otp".to_owned()];
    let update = Reauthentication {
        sid: &session.sid,
        cookie: &cookie("new"),
        auth_time: NOW.plus(100),
        acr: Some("urn:tessera:acr:mfa"),
        amr: &amr,
    };
    assert!(store.reauthenticate_session(update.clone(), NOW.plus(100)).await.unwrap());

    assert_eq!(by_cookie(&*store, &cookie("old")).await, None, "the old cookie no longer works");
    let found = by_cookie(&*store, &cookie("new")).await.expect("the new cookie finds the session");
    let expected = Session {
        auth_time: NOW.plus(100),
        acr: Some("urn:tessera:acr:mfa".into()),
        amr: amr.clone(),
        ..session.clone()
    };
    assert_eq!(found.session, expected);
    assert_eq!(store.session(&session.sid).await.unwrap(), Some(expected));

    let unknown = Reauthentication { sid: &SessionId::new("unknown"), cookie: &cookie("other"), ..update };
    assert!(!store.reauthenticate_session(unknown, NOW.plus(101)).await.unwrap());
    assert_eq!(by_cookie(&*store, &cookie("other")).await, None);
}

/// A session that is not active (revoked, or at or past its expiry) is not re-authenticated:
/// `false`, its cookie and authentication facts unchanged.
pub async fn an_ended_session_is_not_reauthenticated<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    let revoked = browser_session("revoked", "u1");
    store.create_browser_session(&revoked, &cookie("revoked")).await.unwrap();
    store.revoke_session(&revoked.sid, NOW.plus(1)).await.unwrap();
    let expired = Session { expires_at: NOW.plus(50), ..browser_session("expired", "u1") };
    store.create_browser_session(&expired, &cookie("expired")).await.unwrap();
    let live = browser_session("live", "u1");
    store.create_browser_session(&live, &cookie("live")).await.unwrap();

    let amr = vec!["otp".to_owned()];
    for (session, new_cookie) in [(&revoked, cookie("after-revoked")), (&expired, cookie("after-expired"))] {
        let before = by_cookie(&*store, &cookie(session.sid.as_str())).await.unwrap();
        let update =
            Reauthentication { sid: &session.sid, cookie: &new_cookie, auth_time: NOW.plus(50), acr: None, amr: &amr };
        assert!(!store.reauthenticate_session(update.clone(), NOW.plus(50)).await.unwrap(), "{}", session.sid);
        // Even with a cookie another session holds: nothing to do, so nothing conflicts.
        let taken = Reauthentication { cookie: &cookie("live"), ..update };
        assert!(!store.reauthenticate_session(taken, NOW.plus(50)).await.unwrap(), "{}", session.sid);
        assert_eq!(by_cookie(&*store, &new_cookie).await, None);
        assert_eq!(by_cookie(&*store, &cookie(session.sid.as_str())).await, Some(before), "{} unchanged", session.sid);
    }
    assert_eq!(by_cookie(&*store, &cookie("live")).await.unwrap().session, live, "the other session is untouched");

    // An active session cannot take over another session's cookie.
    let update =
        Reauthentication { sid: &live.sid, cookie: &cookie("expired"), auth_time: NOW.plus(50), acr: None, amr: &amr };
    let stolen = store.reauthenticate_session(update, NOW.plus(50)).await;
    assert!(matches!(stolen, Err(CoreError::Conflict { .. })), "{stolen:?}");
    assert_eq!(by_cookie(&*store, &cookie("expired")).await.unwrap().session, expired);
    assert_eq!(by_cookie(&*store, &cookie("live")).await.unwrap().session, live);
}

/// Ending a browser session revokes its grants with their tokens, as for an API session.
pub async fn revoking_a_browser_session_revokes_its_grants<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    let session = browser_session("b1", "u1");
    store.create_browser_session(&session, &cookie("c1")).await.unwrap();
    let grant = grant("g1", "app", "u1", "b1");
    let (first, login_access) = (token_hash("first"), access("jti-browser", NOW));
    store.create_grant(&grant, Some(&first), &login_access).await.unwrap();

    assert!(store.revoke_session(&session.sid, NOW.plus(5)).await.unwrap());
    assert_eq!(store.grant(&grant.id).await.unwrap().unwrap().revoked_at, Some(NOW.plus(5)));
    assert!(jti_revoked(&*store, &login_access.jti).await);
    let (next, next_access) = (token_hash("next"), access("jti-next", NOW.plus(6)));
    let rotation = Rotation {
        presented: &first,
        replacement: &next,
        client_id: &ClientId::new("app"),
        access_token: &next_access,
        reuse_interval: 0,
    };
    let outcome = store.rotate_refresh_token(rotation, NOW.plus(6)).await.unwrap();
    assert_eq!(outcome, RotateOutcome::Revoked { grant_id: grant.id.clone() });
}

/// Removing an account removes its browser sessions, and their cookies with them.
pub async fn removing_an_account_removes_its_browser_sessions<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_account(&account("u2", "u2@example.com")).await.unwrap();
    store.create_browser_session(&browser_session("b1", "u1"), &cookie("c1")).await.unwrap();
    store.create_browser_session(&browser_session("b2", "u2"), &cookie("c2")).await.unwrap();

    assert!(store.remove_account(&UserId::new("u1")).await.unwrap());
    assert_eq!(by_cookie(&*store, &cookie("c1")).await, None);
    assert_eq!(store.session(&SessionId::new("b1")).await.unwrap(), None);
    assert!(by_cookie(&*store, &cookie("c2")).await.is_some(), "only that account's");

    // Nothing is left behind: the same account, session and cookie can come back.
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    let again = browser_session("b1", "u1");
    store.create_browser_session(&again, &cookie("c1")).await.unwrap();
    assert_eq!(by_cookie(&*store, &cookie("c1")).await.map(|found| found.session), Some(again));
}

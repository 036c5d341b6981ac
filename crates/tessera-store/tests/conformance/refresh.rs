//! Grants and refresh rotation, reuse detection, expiry and revocation: the heart of the
//! contract.

use std::sync::Arc;

use tessera_core::clock::Timestamp;
use tessera_core::model::client::ClientId;
use tessera_core::model::grant::AccessTokenRecord;
use tessera_core::model::refresh::{RefreshTokenHash, RotateOutcome, Rotation};
use tessera_core::model::revocation::{RevocationQuery, RevocationTarget, retain_until};
use tessera_core::model::session::SessionId;
use tessera_core::store::Store;

use super::fixtures::{GRANT_TTL, NOW, access, confidential_client, grant, jti_revoked, login, session, token_hash};

/// How many rotations of one token race in [`concurrent_rotations_exactly_one_wins`].
pub const CONCURRENT_ROTATIONS: usize = 48;

fn app() -> ClientId {
    ClientId::new("app")
}

/// The access token recorded with the rotation to `next`: its `jti` names the replacement.
fn access_for(next: &RefreshTokenHash, now: Timestamp) -> AccessTokenRecord {
    let hex: String = next.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    access(&format!("jti-{hex}"), now)
}

/// Rotates `presented` to `next` for `client` with a reuse interval.
async fn rotate_within<S: Store>(
    store: &S,
    presented: &RefreshTokenHash,
    next: &RefreshTokenHash,
    client: &ClientId,
    reuse_interval: i64,
    now: Timestamp,
) -> RotateOutcome {
    let access_token = access_for(next, now);
    let rotation =
        Rotation { presented, replacement: next, client_id: client, access_token: &access_token, reuse_interval };
    store.rotate_refresh_token(rotation, now).await.unwrap()
}

/// Rotates strictly (no reuse interval).
async fn rotate<S: Store>(
    store: &S,
    presented: &RefreshTokenHash,
    next: &RefreshTokenHash,
    client: &ClientId,
    now: Timestamp,
) -> RotateOutcome {
    rotate_within(store, presented, next, client, 0, now).await
}

/// Each rotation marks the presented token used and makes the replacement the live one.
pub async fn rotation_chain<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let mut current = login.first;
    for step in 1..=5 {
        let next = token_hash(&format!("step-{step}"));
        let outcome = rotate(&*store, &current, &next, &app(), NOW.plus(step)).await;
        assert_eq!(outcome, RotateOutcome::Rotated { grant: login.grant.clone() });

        let (_, used) = store.refresh_token(&current).await.unwrap().unwrap();
        assert_eq!(used.used_at, Some(NOW.plus(step)));
        let (grant, live) = store.refresh_token(&next).await.unwrap().unwrap();
        assert_eq!(live.used_at, None);
        assert_eq!(live.issued_at, NOW.plus(step));
        assert_eq!(live.grant_id, login.grant.id);
        assert_eq!(grant.expires_at, login.grant.expires_at, "rotation never extends the grant");
        current = next;
    }
}

/// A rotated token presented again revokes the whole grant: the live refresh token, and every
/// access token the grant issued — the race winner's too — by `jti`, kept past their `exp`.
pub async fn reuse_revokes_grant_and_its_access_tokens<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let second = token_hash("second");
    rotate(&*store, &login.first, &second, &app(), NOW.plus(1)).await;
    let winner = access_for(&second, NOW.plus(1));
    assert!(!jti_revoked(&*store, &winner.jti).await);

    let reuse = rotate(&*store, &login.first, &token_hash("attacker"), &app(), NOW.plus(2)).await;
    assert_eq!(reuse, RotateOutcome::Reused { grant_id: login.grant.id.clone() });
    let grant = store.grant(&login.grant.id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(NOW.plus(2)), "revoked before the outcome was returned");
    assert_eq!(store.refresh_token(&token_hash("attacker")).await.unwrap(), None, "no replacement was stored");
    assert!(!jti_revoked(&*store, &access_for(&token_hash("attacker"), NOW.plus(2)).jti).await);
    for token in [&login.access, &winner] {
        let query = RevocationQuery { jti: &token.jti, sid: None, sub: "nobody", issued_at: NOW };
        let revocation = store.find_revocation(query).await.unwrap().expect("access token revoked with its grant");
        assert_eq!(revocation.target, RevocationTarget::Jti(token.jti.clone()));
        assert_eq!(revocation.revoked_at, NOW.plus(2));
        assert_eq!(revocation.expires_at, retain_until(token.expires_at), "kept until no leeway accepts it");
    }

    let legit = rotate(&*store, &second, &token_hash("third"), &app(), NOW.plus(3)).await;
    assert_eq!(legit, RotateOutcome::Revoked { grant_id: login.grant.id.clone() });
    let before = store.revocations_after(0, 100).await.unwrap().len();
    let again = rotate(&*store, &login.first, &token_hash("x"), &app(), NOW.plus(4)).await;
    assert!(matches!(again, RotateOutcome::Reused { .. }));
    let grant = store.grant(&login.grant.id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(NOW.plus(2)), "the first revocation time is kept");
    assert_eq!(store.revocations_after(0, 100).await.unwrap().len(), before, "revoking again adds nothing");
}

/// Within the reuse interval a rotated token rotates again (a benign retry), once, and revokes
/// nothing; both replacements live in the grant. A second retry, or one past the interval, is a
/// reuse.
pub async fn reuse_interval_allows_one_retry<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let (first, retry) = (token_hash("first-reply"), token_hash("retry-reply"));
    let rotated = rotate_within(&*store, &login.first, &first, &app(), 10, NOW.plus(1)).await;
    assert!(matches!(rotated, RotateOutcome::Rotated { .. }));
    let outcome = rotate_within(&*store, &login.first, &retry, &app(), 10, NOW.plus(11)).await;
    assert_eq!(outcome, RotateOutcome::Retried { grant: login.grant.clone() });
    let (_, presented) = store.refresh_token(&login.first).await.unwrap().unwrap();
    assert_eq!(presented.used_at, Some(NOW.plus(1)), "a retry does not move the rotation time");
    assert_eq!(store.grant(&login.grant.id).await.unwrap().unwrap().revoked_at, None);
    for live in [&first, &retry] {
        assert_eq!(store.refresh_token(live).await.unwrap().unwrap().1.used_at, None);
    }
    let again = rotate_within(&*store, &login.first, &token_hash("again"), &app(), 10, NOW.plus(11)).await;
    assert!(matches!(again, RotateOutcome::Reused { .. }), "one retry per token: {again:?}");
    assert!(jti_revoked(&*store, &access_for(&retry, NOW.plus(11)).jti).await);

    // Past the interval, a first retry is a reuse too.
    store.create_session(&session("s2", "u1", Some("app"))).await.unwrap();
    store
        .create_grant(&grant("g2", "app", "u1", "s2"), Some(&token_hash("g2-first")), &access("j-g2", NOW))
        .await
        .unwrap();
    rotate_within(&*store, &token_hash("g2-first"), &token_hash("g2-next"), &app(), 10, NOW.plus(1)).await;
    let late = rotate_within(&*store, &token_hash("g2-first"), &token_hash("g2-late"), &app(), 10, NOW.plus(12)).await;
    assert!(matches!(late, RotateOutcome::Reused { .. }));
}

/// Of many concurrent rotations of one token exactly one succeeds; the rest are reuses, and the
/// grant ends revoked (a strict store: no reuse interval).
pub async fn concurrent_rotations_exactly_one_wins<S: Store + 'static>(store: Arc<S>) {
    let login = login(&store).await;
    let first = login.first;
    let tasks: Vec<_> = (0..CONCURRENT_ROTATIONS)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let replacement = token_hash(&format!("racer-{n}"));
                rotate(&*store, &first, &replacement, &app(), NOW.plus(1)).await
            })
        })
        .collect();
    let mut rotated = 0;
    let mut reused = 0;
    for task in tasks {
        match task.await.unwrap() {
            RotateOutcome::Rotated { .. } => rotated += 1,
            RotateOutcome::Reused { .. } => reused += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(rotated, 1, "exactly one rotation wins");
    assert_eq!(reused, CONCURRENT_ROTATIONS - 1);
    let mut live = 0;
    for n in 0..CONCURRENT_ROTATIONS {
        let hash = token_hash(&format!("racer-{n}"));
        if store.refresh_token(&hash).await.unwrap().is_some() {
            live += 1;
            assert!(jti_revoked(&*store, &access_for(&hash, NOW.plus(1)).jti).await, "the winner's access token died");
        }
    }
    assert_eq!(live, 1, "exactly one replacement was stored");
    let grant = store.grant(&login.grant.id).await.unwrap().unwrap();
    assert!(grant.revoked_at.is_some());
}

/// At and after the grant's absolute expiry nothing rotates and nothing changes.
pub async fn expired_grant_is_refused<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let end = NOW.plus(GRANT_TTL);
    let just_before = rotate(&*store, &login.first, &token_hash("a"), &app(), end.minus(1)).await;
    assert!(matches!(just_before, RotateOutcome::Rotated { .. }));
    for now in [end, end.plus(1_000)] {
        let outcome = rotate(&*store, &token_hash("a"), &token_hash("b"), &app(), now).await;
        assert_eq!(outcome, RotateOutcome::Expired);
    }
    let (grant, token) = store.refresh_token(&token_hash("a")).await.unwrap().unwrap();
    assert_eq!(token.used_at, None, "an expired rotation marks nothing used");
    assert_eq!(grant.revoked_at, None);
    assert_eq!(store.refresh_token(&token_hash("b")).await.unwrap(), None);
}

/// A token presented by another client is refused and left untouched for its own client.
pub async fn client_mismatch_changes_nothing<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_client(&confidential_client("other")).await.unwrap();
    let outcome = rotate(&*store, &login.first, &token_hash("stolen"), &ClientId::new("other"), NOW.plus(1)).await;
    assert_eq!(outcome, RotateOutcome::ClientMismatch);
    let (grant, token) = store.refresh_token(&login.first).await.unwrap().unwrap();
    assert_eq!(token.used_at, None);
    assert_eq!(grant.revoked_at, None);
    let own = rotate(&*store, &login.first, &token_hash("next"), &app(), NOW.plus(2)).await;
    assert!(matches!(own, RotateOutcome::Rotated { .. }));
}

/// An unknown token is reported as such and stores nothing.
pub async fn unknown_token<S: Store>(store: Arc<S>) {
    login(&store).await;
    let outcome = rotate(&*store, &token_hash("guess"), &token_hash("r"), &app(), NOW).await;
    assert_eq!(outcome, RotateOutcome::Unknown);
    assert_eq!(store.refresh_token(&token_hash("r")).await.unwrap(), None);
}

/// After logout (session revoked) the grant's live token no longer rotates.
pub async fn revoked_grant_is_refused<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.revoke_session(&SessionId::new("s1"), NOW.plus(1)).await.unwrap();
    let outcome = rotate(&*store, &login.first, &token_hash("r"), &app(), NOW.plus(2)).await;
    assert_eq!(outcome, RotateOutcome::Revoked { grant_id: login.grant.id.clone() });
    assert!(store.revoke_grant(&login.grant.id, NOW.plus(3)).await.unwrap());
    let grant = store.grant(&login.grant.id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(NOW.plus(1)));
}

/// Revoking a grant reaches its live access tokens in one step, and only once.
pub async fn revoke_grant_reaches_its_access_tokens<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    assert!(!store.revoke_grant(&grant("nope", "app", "u1", "s1").id, NOW).await.unwrap());
    assert!(store.revoke_grant(&login.grant.id, NOW.plus(5)).await.unwrap());
    assert!(jti_revoked(&*store, &login.access.jti).await);
    let count = store.revocations_after(0, 100).await.unwrap().len();
    assert_eq!(count, 1);
    assert!(store.revoke_grant(&login.grant.id, NOW.plus(6)).await.unwrap());
    assert_eq!(store.revocations_after(0, 100).await.unwrap().len(), count, "idempotent");

    // An access token that can no longer validate anywhere needs no revocation.
    store.create_session(&session("s2", "u1", Some("app"))).await.unwrap();
    let old = grant("g2", "app", "u1", "s2");
    store.create_grant(&old, None, &access("jti-old", NOW)).await.unwrap();
    let late = retain_until(access("jti-old", NOW).expires_at);
    assert!(store.revoke_grant(&old.id, late).await.unwrap());
    assert!(!jti_revoked(&*store, "jti-old").await);
}

/// RFC 7009: only the client the token was issued to can revoke it, and revoking a refresh
/// token revokes its grant's access tokens too (§2.1).
pub async fn revoke_refresh_token_checks_client<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_client(&confidential_client("other")).await.unwrap();
    let foreign = store.revoke_refresh_token(&login.first, &ClientId::new("other"), NOW).await.unwrap();
    assert_eq!(foreign, None);
    assert_eq!(store.grant(&login.grant.id).await.unwrap().unwrap().revoked_at, None);
    assert!(!jti_revoked(&*store, &login.access.jti).await);
    assert_eq!(store.revoke_refresh_token(&token_hash("unknown"), &app(), NOW).await.unwrap(), None);

    let own = store.revoke_refresh_token(&login.first, &app(), NOW.plus(1)).await.unwrap();
    assert_eq!(own, Some(login.grant.id.clone()));
    assert_eq!(store.grant(&login.grant.id).await.unwrap().unwrap().revoked_at, Some(NOW.plus(1)));
    assert!(jti_revoked(&*store, &login.access.jti).await);
}

/// Expired grants and their tokens are deleted; live ones stay. Revocations written for a
/// grant outlive it until their own end.
pub async fn purge_expired_grants<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_session(&session("s2", "u1", Some("app"))).await.unwrap();
    let mut long = grant("g2", "app", "u1", "s2");
    long.expires_at = NOW.plus(GRANT_TTL * 10);
    store.create_grant(&long, Some(&token_hash("long")), &access("jti-long", NOW)).await.unwrap();
    store.revoke_grant(&login.grant.id, NOW.plus(1)).await.unwrap();

    assert_eq!(store.purge_expired_grants(NOW.plus(GRANT_TTL - 1)).await.unwrap(), 0);
    assert_eq!(store.purge_expired_grants(NOW.plus(GRANT_TTL)).await.unwrap(), 1);
    assert_eq!(store.grant(&login.grant.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&login.first).await.unwrap(), None);
    assert!(store.refresh_token(&token_hash("long")).await.unwrap().is_some());
    assert!(jti_revoked(&*store, &login.access.jti).await, "the revocation stays until its own end");
    // A later revocation of the long grant no longer names its long-dead first access token.
    store.revoke_grant(&long.id, NOW.plus(GRANT_TTL)).await.unwrap();
    assert!(!jti_revoked(&*store, "jti-long").await);
}

/// One read gives a refresh what it checks: the grant, the token, the session as it is now and
/// whether the account may still act.
pub async fn refresh_context_reads_grant_session_and_account<S: Store>(store: Arc<S>) {
    use tessera_core::model::account::UserId;

    let login = login(&store).await;
    assert_eq!(store.refresh_context(&token_hash("unknown")).await.unwrap(), None);
    let context = store.refresh_context(&login.first).await.unwrap().unwrap();
    assert_eq!(context.grant, login.grant);
    assert_eq!((context.token.grant_id.clone(), context.token.used_at), (login.grant.id.clone(), None));
    assert_eq!(context.session, Some(session("s1", "u1", Some("app"))));
    assert!(context.account_active);

    rotate(&*store, &login.first, &token_hash("next"), &app(), NOW.plus(1)).await;
    store.set_account_disabled(&UserId::new("u1"), true, NOW.plus(2)).await.unwrap();
    store.revoke_session(&SessionId::new("s1"), NOW.plus(3)).await.unwrap();
    let context = store.refresh_context(&login.first).await.unwrap().unwrap();
    assert_eq!(context.token.used_at, Some(NOW.plus(1)));
    assert_eq!(context.grant.revoked_at, Some(NOW.plus(3)), "the session took its grant with it");
    assert_eq!(context.session.unwrap().revoked_at, Some(NOW.plus(3)));
    assert!(!context.account_active);
}

/// Ending a session, or every session of a user, revokes their grants' access tokens by `jti`
/// in the same step: a token a refresh issued just before the logout dies whatever its `iat`.
pub async fn ending_sessions_revokes_their_grants_access_tokens<S: Store>(store: Arc<S>) {
    use tessera_core::model::account::UserId;

    let login = login(&store).await;
    // A refresh "after" the logout's clock reading: its token's iat is later than the revocation.
    rotate(&*store, &login.first, &token_hash("late"), &app(), NOW.plus(10)).await;
    let late = access_for(&token_hash("late"), NOW.plus(10));
    assert!(store.revoke_session(&SessionId::new("s1"), NOW.plus(5)).await.unwrap());
    assert!(jti_revoked(&*store, &login.access.jti).await);
    assert!(jti_revoked(&*store, &late.jti).await, "by jti, not by iat");

    store.create_session(&session("s2", "u1", Some("app"))).await.unwrap();
    store.create_grant(&grant("g2", "app", "u1", "s2"), None, &access("jti-s2", NOW)).await.unwrap();
    assert_eq!(store.revoke_user_sessions(&UserId::new("u1"), NOW.plus(20)).await.unwrap(), 1);
    assert!(jti_revoked(&*store, "jti-s2").await);
}

/// A grant is found by any access token it recorded, with the claims asked for one by one;
/// an unknown `jti` finds nothing.
pub async fn a_grant_is_found_by_its_access_tokens<S: Store>(store: Arc<S>) {
    store.create_account(&super::fixtures::account("u1", "u1@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    store.create_session(&session("s1", "u1", Some("app"))).await.unwrap();
    let mut with_claims = grant("g1", "app", "u1", "s1");
    with_claims.claims.userinfo = vec!["email".into(), "phone_number".into()];
    with_claims.claims.id_token = vec!["given_name".into()];
    store.create_grant(&with_claims, Some(&token_hash("first")), &access("jti-1", NOW)).await.unwrap();
    assert_eq!(store.grant(&with_claims.id).await.unwrap().unwrap().claims, with_claims.claims, "claims round-trip");
    let found = store.grant_of_access_token("jti-1").await.unwrap().unwrap();
    assert_eq!(found, with_claims);
    // A rotation records its new access token under the same grant.
    let rotation = Rotation {
        presented: &token_hash("first"),
        replacement: &token_hash("second"),
        client_id: &ClientId::new("app"),
        access_token: &access("jti-2", NOW.plus(5)),
        reuse_interval: 0,
    };
    assert!(matches!(store.rotate_refresh_token(rotation, NOW.plus(5)).await.unwrap(), RotateOutcome::Rotated { .. }));
    assert_eq!(store.grant_of_access_token("jti-2").await.unwrap().unwrap().id, with_claims.id);
    assert_eq!(store.grant_of_access_token("jti-unknown").await.unwrap(), None);
}

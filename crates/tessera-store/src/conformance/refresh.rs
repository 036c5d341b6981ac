//! Refresh rotation, reuse detection, expiry and revocation: the heart of the contract.

use std::sync::Arc;

use tessera_core::client::ClientId;
use tessera_core::refresh::RotateOutcome;
use tessera_core::session::SessionId;
use tessera_core::store::Store;

use super::fixtures::{FAMILY_TTL, NOW, confidential_client, family, login, session, token_hash};

/// How many rotations of one token race in [`concurrent_rotations_exactly_one_wins`].
pub const CONCURRENT_ROTATIONS: usize = 48;

fn app() -> ClientId {
    ClientId::new("app")
}

/// Each rotation marks the presented token used and makes the replacement the live one.
pub async fn rotation_chain<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let mut current = login.first;
    for step in 1..=5 {
        let next = token_hash(&format!("step-{step}"));
        let outcome = store.rotate_refresh_token(&current, &next, &app(), NOW.plus(step)).await.unwrap();
        assert_eq!(outcome, RotateOutcome::Rotated { family: login.family.clone() });

        let (_, used) = store.refresh_token(&current).await.unwrap().unwrap();
        assert_eq!(used.used_at, Some(NOW.plus(step)));
        let (family, live) = store.refresh_token(&next).await.unwrap().unwrap();
        assert_eq!(live.used_at, None);
        assert_eq!(live.issued_at, NOW.plus(step));
        assert_eq!(live.family_id, login.family.id);
        assert_eq!(family.expires_at, login.family.expires_at, "rotation never extends the family");
        current = next;
    }
}

/// A rotated token presented again revokes the whole family, including the live token.
pub async fn reuse_revokes_family<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let second = token_hash("second");
    store.rotate_refresh_token(&login.first, &second, &app(), NOW.plus(1)).await.unwrap();

    let reuse = store.rotate_refresh_token(&login.first, &token_hash("attacker"), &app(), NOW.plus(2)).await.unwrap();
    assert_eq!(reuse, RotateOutcome::Reused { family_id: login.family.id.clone() });
    let family = store.refresh_family(&login.family.id).await.unwrap().unwrap();
    assert_eq!(family.revoked_at, Some(NOW.plus(2)), "revoked before the outcome was returned");
    assert_eq!(store.refresh_token(&token_hash("attacker")).await.unwrap(), None, "no replacement was stored");

    let legit = store.rotate_refresh_token(&second, &token_hash("third"), &app(), NOW.plus(3)).await.unwrap();
    assert_eq!(legit, RotateOutcome::Revoked { family_id: login.family.id.clone() });
    let again = store.rotate_refresh_token(&login.first, &token_hash("x"), &app(), NOW.plus(4)).await.unwrap();
    assert!(matches!(again, RotateOutcome::Reused { .. }));
    let family = store.refresh_family(&login.family.id).await.unwrap().unwrap();
    assert_eq!(family.revoked_at, Some(NOW.plus(2)), "the first revocation time is kept");
}

/// Of many concurrent rotations of one token exactly one succeeds; the rest are reuses, and the
/// family ends revoked (RFC 9700 §4.14.2 gives no grace window).
pub async fn concurrent_rotations_exactly_one_wins<S: Store + 'static>(store: Arc<S>) {
    let login = login(&store).await;
    let first = login.first;
    let tasks: Vec<_> = (0..CONCURRENT_ROTATIONS)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let replacement = token_hash(&format!("racer-{n}"));
                store.rotate_refresh_token(&first, &replacement, &app(), NOW.plus(1)).await
            })
        })
        .collect();
    let mut rotated = 0;
    let mut reused = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            RotateOutcome::Rotated { .. } => rotated += 1,
            RotateOutcome::Reused { .. } => reused += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(rotated, 1, "exactly one rotation wins");
    assert_eq!(reused, CONCURRENT_ROTATIONS - 1);
    let live: usize = {
        let mut count = 0;
        for n in 0..CONCURRENT_ROTATIONS {
            if store.refresh_token(&token_hash(&format!("racer-{n}"))).await.unwrap().is_some() {
                count += 1;
            }
        }
        count
    };
    assert_eq!(live, 1, "exactly one replacement was stored");
    let family = store.refresh_family(&login.family.id).await.unwrap().unwrap();
    assert!(family.revoked_at.is_some());
}

/// At and after the family's absolute expiry nothing rotates and nothing changes.
pub async fn expired_family_is_refused<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let end = NOW.plus(FAMILY_TTL);
    let just_before = store.rotate_refresh_token(&login.first, &token_hash("a"), &app(), end.minus(1)).await.unwrap();
    assert!(matches!(just_before, RotateOutcome::Rotated { .. }));
    for now in [end, end.plus(1_000)] {
        let outcome = store.rotate_refresh_token(&token_hash("a"), &token_hash("b"), &app(), now).await.unwrap();
        assert_eq!(outcome, RotateOutcome::Expired);
    }
    let (family, token) = store.refresh_token(&token_hash("a")).await.unwrap().unwrap();
    assert_eq!(token.used_at, None, "an expired rotation marks nothing used");
    assert_eq!(family.revoked_at, None);
    assert_eq!(store.refresh_token(&token_hash("b")).await.unwrap(), None);
}

/// A token presented by another client is refused and left untouched for its own client.
pub async fn client_mismatch_changes_nothing<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_client(&confidential_client("other")).await.unwrap();
    let outcome = store
        .rotate_refresh_token(&login.first, &token_hash("stolen"), &ClientId::new("other"), NOW.plus(1))
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::ClientMismatch);
    let (family, token) = store.refresh_token(&login.first).await.unwrap().unwrap();
    assert_eq!(token.used_at, None);
    assert_eq!(family.revoked_at, None);
    let own = store.rotate_refresh_token(&login.first, &token_hash("next"), &app(), NOW.plus(2)).await.unwrap();
    assert!(matches!(own, RotateOutcome::Rotated { .. }));
}

/// An unknown token is reported as such and stores nothing.
pub async fn unknown_token<S: Store>(store: Arc<S>) {
    login(&store).await;
    let outcome = store.rotate_refresh_token(&token_hash("guess"), &token_hash("r"), &app(), NOW).await.unwrap();
    assert_eq!(outcome, RotateOutcome::Unknown);
    assert_eq!(store.refresh_token(&token_hash("r")).await.unwrap(), None);
}

/// After logout (session revoked) the family's live token no longer rotates.
pub async fn revoked_family_is_refused<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.revoke_session(&SessionId::new("s1"), NOW.plus(1)).await.unwrap();
    let outcome = store.rotate_refresh_token(&login.first, &token_hash("r"), &app(), NOW.plus(2)).await.unwrap();
    assert_eq!(outcome, RotateOutcome::Revoked { family_id: login.family.id.clone() });
    assert!(store.revoke_refresh_family(&login.family.id, NOW.plus(3)).await.unwrap());
    let family = store.refresh_family(&login.family.id).await.unwrap().unwrap();
    assert_eq!(family.revoked_at, Some(NOW.plus(1)));
}

/// RFC 7009: only the client the token was issued to can revoke it.
pub async fn revoke_refresh_token_checks_client<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_client(&confidential_client("other")).await.unwrap();
    let foreign = store.revoke_refresh_token(&login.first, &ClientId::new("other"), NOW).await.unwrap();
    assert_eq!(foreign, None);
    assert_eq!(store.refresh_family(&login.family.id).await.unwrap().unwrap().revoked_at, None);
    assert_eq!(store.revoke_refresh_token(&token_hash("unknown"), &app(), NOW).await.unwrap(), None);

    let own = store.revoke_refresh_token(&login.first, &app(), NOW.plus(1)).await.unwrap();
    assert_eq!(own, Some(login.family.id.clone()));
    assert_eq!(store.refresh_family(&login.family.id).await.unwrap().unwrap().revoked_at, Some(NOW.plus(1)));
}

/// Expired families and their tokens are deleted; live ones stay.
pub async fn purge_expired_families<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_session(&session("s2", "u1", Some("app"))).await.unwrap();
    let mut long = family("f2", "app", "u1", "s2");
    long.expires_at = NOW.plus(FAMILY_TTL * 10);
    store.create_refresh_family(&long, &token_hash("long")).await.unwrap();

    assert_eq!(store.purge_expired_refresh_families(NOW.plus(FAMILY_TTL - 1)).await.unwrap(), 0);
    assert_eq!(store.purge_expired_refresh_families(NOW.plus(FAMILY_TTL)).await.unwrap(), 1);
    assert_eq!(store.refresh_family(&login.family.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&login.first).await.unwrap(), None);
    assert!(store.refresh_token(&token_hash("long")).await.unwrap().is_some());
}

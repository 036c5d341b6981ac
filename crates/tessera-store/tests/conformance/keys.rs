//! Signing-key states: next → active → retired → purged.

use std::sync::Arc;

use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::keys::signing_key::{
    ActivateOutcome, EncryptedPrivateKey, KeyState, Kid, RevokeOutcome, SigningKey, published_keys,
};
use tessera_core::store::Store;

use super::fixtures::NOW;

fn key(kid: &str, alg: &str, state: KeyState, not_before: Timestamp) -> SigningKey {
    SigningKey {
        kid: Kid::new(kid),
        alg: alg.into(),
        private_key: EncryptedPrivateKey::new(vec![0xA5; 48]),
        public_jwk: format!(r#"{{"kty":"EC","kid":"{kid}"}}"#),
        state,
        not_before,
        retire_after: None,
        created_at: not_before,
    }
}

/// One active key per algorithm; activation retires the old one; retired keys are purged once
/// every token they signed has expired.
pub async fn key_lifecycle<S: Store>(store: Arc<S>) {
    let first = key("k1", "ES256", KeyState::Active, NOW);
    store.insert_signing_key(&first).await.unwrap();
    store.insert_signing_key(&key("rsa", "RS256", KeyState::Active, NOW)).await.unwrap();
    let second_active = store.insert_signing_key(&key("k1b", "ES256", KeyState::Active, NOW)).await;
    assert!(matches!(second_active, Err(CoreError::Conflict { .. })), "{second_active:?}");
    let duplicate = store.insert_signing_key(&key("k1", "ES256", KeyState::Next, NOW)).await;
    assert!(matches!(duplicate, Err(CoreError::Conflict { .. })), "{duplicate:?}");

    let next = key("k2", "ES256", KeyState::Next, NOW.plus(100));
    store.insert_signing_key(&next).await.unwrap();
    assert_eq!(store.active_signing_key("ES256").await.unwrap(), Some(first.clone()));
    assert_eq!(store.signing_keys().await.unwrap().len(), 3);

    let early = store.activate_signing_key(&next.kid, NOW.plus(1_000), NOW.plus(99)).await.unwrap();
    assert_eq!(early, ActivateOutcome::TooEarly);
    let unknown = store.activate_signing_key(&Kid::new("nope"), NOW, NOW).await.unwrap();
    assert_eq!(unknown, ActivateOutcome::Unknown);

    let done = store.activate_signing_key(&next.kid, NOW.plus(1_000), NOW.plus(100)).await.unwrap();
    assert_eq!(done, ActivateOutcome::Activated { retired: Some(first.kid.clone()) });
    assert_eq!(store.active_signing_key("ES256").await.unwrap().unwrap().kid, next.kid);
    assert_eq!(store.active_signing_key("RS256").await.unwrap().unwrap().kid, Kid::new("rsa"));
    let again = store.activate_signing_key(&next.kid, NOW.plus(1_000), NOW.plus(101)).await.unwrap();
    assert_eq!(again, ActivateOutcome::NotNext);

    let keys = store.signing_keys().await.unwrap();
    let old = keys.iter().find(|k| k.kid == first.kid).unwrap();
    assert_eq!(old.state, KeyState::Retired);
    assert_eq!(old.retire_after, Some(NOW.plus(1_000)));
    assert_eq!(old.private_key, first.private_key, "the key blob round-trips");
    assert_eq!(published_keys(&keys, NOW.plus(999)).len(), 3);
    assert_eq!(published_keys(&keys, NOW.plus(1_000)).len(), 2);

    assert_eq!(store.purge_retired_signing_keys(NOW.plus(999)).await.unwrap(), 0);
    assert_eq!(store.purge_retired_signing_keys(NOW.plus(1_000)).await.unwrap(), 1);
    let kids: Vec<String> = store.signing_keys().await.unwrap().iter().map(|k| k.kid.to_string()).collect();
    assert_eq!(kids.len(), 2);
    assert!(!kids.contains(&"k1".to_owned()));
}

/// Several nodes activating one key at once: exactly one does it.
pub async fn concurrent_activation_exactly_one_wins<S: Store + 'static>(store: Arc<S>) {
    store.insert_signing_key(&key("old", "ES256", KeyState::Active, NOW)).await.unwrap();
    store.insert_signing_key(&key("new", "ES256", KeyState::Next, NOW)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.activate_signing_key(&Kid::new("new"), NOW.plus(60), NOW.plus(1)).await })
        })
        .collect();
    let mut activated = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            ActivateOutcome::Activated { retired } => {
                assert_eq!(retired, Some(Kid::new("old")));
                activated += 1;
            }
            ActivateOutcome::NotNext => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(activated, 1);
    let active: Vec<SigningKey> =
        store.signing_keys().await.unwrap().into_iter().filter(|k| k.state == KeyState::Active).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].kid, Kid::new("new"));
}

/// Several processes starting a rotation of one algorithm at once: exactly one next key.
pub async fn concurrent_rotations_insert_one_next_key<S: Store + 'static>(store: Arc<S>) {
    store.insert_signing_key(&key("old", "ES256", KeyState::Active, NOW)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            let next = key(&format!("next-{i}"), "ES256", KeyState::Next, NOW.plus(100));
            tokio::spawn(async move { store.insert_next_signing_key(&next).await })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 1);
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Next).count(), 1);
    assert!(store.insert_next_signing_key(&key("rsa-next", "RS256", KeyState::Next, NOW)).await.unwrap(), "per alg");
    let active = store.insert_next_signing_key(&key("not-next", "EdDSA", KeyState::Active, NOW)).await;
    assert!(active.is_err(), "only next keys go through the guarded insert: {active:?}");
}

/// A revoked key leaves the JWKS at once; an active one hands over to the next key in the same
/// transaction, and is refused (changing nothing) when there is none.
pub async fn revocation_withdraws_a_key_and_hands_over<S: Store>(store: Arc<S>) {
    store.insert_signing_key(&key("k1", "ES256", KeyState::Active, NOW)).await.unwrap();
    assert_eq!(store.revoke_signing_key(&Kid::new("k1"), NOW).await.unwrap(), RevokeOutcome::NeedsSuccessor);
    assert_eq!(store.active_signing_key("ES256").await.unwrap().unwrap().kid, Kid::new("k1"), "unchanged");
    assert_eq!(store.revoke_signing_key(&Kid::new("nope"), NOW).await.unwrap(), RevokeOutcome::Unknown);

    store.insert_signing_key(&key("k2", "ES256", KeyState::Next, NOW.plus(3_600))).await.unwrap();
    let outcome = store.revoke_signing_key(&Kid::new("k1"), NOW.plus(1)).await.unwrap();
    assert_eq!(outcome, RevokeOutcome::Revoked { activated: Some(Kid::new("k2")) });
    assert_eq!(store.active_signing_key("ES256").await.unwrap().unwrap().kid, Kid::new("k2"), "before not_before");
    assert_eq!(store.revoke_signing_key(&Kid::new("k1"), NOW.plus(2)).await.unwrap(), RevokeOutcome::AlreadyRevoked);
    let keys = store.signing_keys().await.unwrap();
    let kids: Vec<&str> = published_keys(&keys, NOW.plus(2)).iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["k2"], "a revoked key is never published");

    // A retired key still published, and a next key, are withdrawn without a handover.
    store.insert_signing_key(&key("k3", "ES256", KeyState::Next, NOW.plus(10))).await.unwrap();
    assert!(store.retire_signing_key(&Kid::new("k3"), NOW.plus(1_000)).await.unwrap());
    assert!(!store.retire_signing_key(&Kid::new("k3"), NOW.plus(1_000)).await.unwrap(), "only active or next");
    assert_eq!(
        store.revoke_signing_key(&Kid::new("k3"), NOW.plus(3)).await.unwrap(),
        RevokeOutcome::Revoked { activated: None }
    );
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.iter().find(|k| k.kid.as_str() == "k3").unwrap().state, KeyState::Revoked);
    assert_eq!(published_keys(&keys, NOW.plus(3)).len(), 1);
    assert_eq!(store.purge_retired_signing_keys(NOW.plus(5_000)).await.unwrap(), 0, "revoked keys are kept on record");
}

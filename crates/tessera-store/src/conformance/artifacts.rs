//! Single-use artifacts: taken once under concurrency, attempts counted, newer voids older.

use std::sync::Arc;

use serde_json::json;
use tessera_core::model::artifact::{Artifact, ArtifactHash, ArtifactKind, Redeemed};
use tessera_core::model::grant::GrantId;
use tessera_core::store::Store;

use super::fixtures::NOW;

/// How many takes of one code race in [`an_artifact_is_taken_once_under_concurrency`].
pub const CONCURRENT_TAKES: usize = 24;

fn hash(label: &str) -> ArtifactHash {
    let mut bytes = [0u8; 32];
    for (slot, byte) in bytes.iter_mut().zip(label.bytes()) {
        *slot = byte;
    }
    ArtifactHash(bytes)
}

fn artifact(kind: ArtifactKind, label: &str, subject: &str) -> Artifact {
    Artifact {
        kind,
        hash: hash(label),
        subject: subject.to_owned(),
        grant_id: Some(GrantId::new(format!("grant-of-{label}"))),
        payload: json!({ "redirect_uri": "https://app.example/cb", "label": label }),
        max_attempts: 5,
        created_at: NOW,
        expires_at: NOW.plus(60),
    }
}

/// Of many concurrent takes exactly one wins; every later take is a replay that still names
/// the grant, so the flow can revoke it.
pub async fn an_artifact_is_taken_once_under_concurrency<S: Store + 'static>(store: Arc<S>) {
    let code = artifact(ArtifactKind::AuthorizationCode, "code", "u1");
    store.put_artifact(&code, NOW).await.unwrap();
    let tasks: Vec<_> = (0..CONCURRENT_TAKES)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store.take_artifact(ArtifactKind::AuthorizationCode, &hash("code"), NOW.plus(1)).await
            })
        })
        .collect();
    let (mut taken, mut replays) = (0, 0);
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Redeemed::Taken(found) => {
                assert_eq!(found, code, "the stored artifact comes back whole");
                taken += 1;
            }
            Redeemed::AlreadyTaken(found) => {
                assert_eq!(found.grant_id, code.grant_id);
                replays += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((taken, replays), (1, CONCURRENT_TAKES - 1));
    let late = store.take_artifact(ArtifactKind::AuthorizationCode, &hash("code"), NOW.plus(3_600)).await.unwrap();
    assert!(matches!(late, Redeemed::AlreadyTaken(_)), "a replay is reported even after expiry: {late:?}");
}

/// Unknown, expired and other-kind artifacts are `Unknown`, and nothing changes.
pub async fn expired_unknown_and_other_kinds_are_unknown<S: Store>(store: Arc<S>) {
    let link = artifact(ArtifactKind::MagicLink, "link", "alice@example.com");
    store.put_artifact(&link, NOW).await.unwrap();
    assert_eq!(store.take_artifact(ArtifactKind::MagicLink, &hash("nope"), NOW).await.unwrap(), Redeemed::Unknown);
    assert_eq!(store.take_artifact(ArtifactKind::MfaToken, &hash("link"), NOW).await.unwrap(), Redeemed::Unknown);
    assert_eq!(
        store.take_artifact(ArtifactKind::MagicLink, &hash("link"), NOW.plus(60)).await.unwrap(),
        Redeemed::Unknown
    );
    assert_eq!(
        store.take_artifact(ArtifactKind::MagicLink, &hash("link"), NOW.plus(61)).await.unwrap(),
        Redeemed::Unknown
    );
    assert!(matches!(
        store.take_artifact(ArtifactKind::MagicLink, &hash("link"), NOW.plus(59)).await.unwrap(),
        Redeemed::Taken(_)
    ));
    let duplicate = store.put_artifact(&artifact(ArtifactKind::MagicLink, "link", "bob@example.com"), NOW).await;
    assert!(matches!(duplicate, Err(tessera_core::CoreError::Conflict { .. })));
    store.put_artifact(&artifact(ArtifactKind::MfaToken, "link", "u1"), NOW).await.unwrap();
}

/// Wrong codes are counted in the same step; at the limit even the right code is refused.
pub async fn wrong_attempts_are_counted_then_the_code_is_void<S: Store + 'static>(store: Arc<S>) {
    let email = "alice@example.com";
    store.put_artifact(&artifact(ArtifactKind::EmailCode, "123456", email), NOW).await.unwrap();
    for remaining in (0..5).rev() {
        let outcome =
            store.verify_artifact(ArtifactKind::EmailCode, email, &hash("000000"), NOW.plus(1)).await.unwrap();
        assert_eq!(outcome, Redeemed::Mismatch { remaining });
    }
    let right = store.verify_artifact(ArtifactKind::EmailCode, email, &hash("123456"), NOW.plus(2)).await.unwrap();
    assert_eq!(right, Redeemed::Exhausted);
    assert_eq!(
        store.take_artifact(ArtifactKind::EmailCode, &hash("123456"), NOW.plus(2)).await.unwrap(),
        Redeemed::Unknown
    );

    // Concurrent wrong guesses cannot exceed the limit between them.
    store.put_artifact(&artifact(ArtifactKind::SmsCode, "654321", "u1"), NOW).await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store.verify_artifact(ArtifactKind::SmsCode, "u1", &hash("999999"), NOW.plus(1)).await
            })
        })
        .collect();
    let mut mismatches = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Redeemed::Mismatch { .. } => mismatches += 1,
            Redeemed::Exhausted => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(mismatches, 5, "exactly max_attempts wrong guesses were checked");
    let right = store.verify_artifact(ArtifactKind::SmsCode, "u1", &hash("654321"), NOW.plus(2)).await.unwrap();
    assert_eq!(right, Redeemed::Exhausted);
}

/// The right code is taken once; a new code for the subject voids the previous one.
pub async fn a_new_code_voids_the_previous_one<S: Store>(store: Arc<S>) {
    let email = "alice@example.com";
    store.put_artifact(&artifact(ArtifactKind::EmailCode, "111111", email), NOW).await.unwrap();
    store.put_artifact(&artifact(ArtifactKind::EmailCode, "222222", email), NOW.plus(1)).await.unwrap();
    assert_eq!(
        store.take_artifact(ArtifactKind::EmailCode, &hash("111111"), NOW.plus(2)).await.unwrap(),
        Redeemed::Unknown
    );
    let other =
        store.verify_artifact(ArtifactKind::EmailCode, "bob@example.com", &hash("222222"), NOW.plus(2)).await.unwrap();
    assert_eq!(other, Redeemed::Unknown, "a code is only for its subject");
    let right = store.verify_artifact(ArtifactKind::EmailCode, email, &hash("222222"), NOW.plus(2)).await.unwrap();
    assert!(matches!(right, Redeemed::Taken(ref a) if a.payload["label"] == "222222"), "{right:?}");
    let again = store.verify_artifact(ArtifactKind::EmailCode, email, &hash("222222"), NOW.plus(3)).await.unwrap();
    assert_eq!(again, Redeemed::Unknown, "single use");
    // Another kind for the same subject is independent.
    store.put_artifact(&artifact(ArtifactKind::MagicLink, "link", email), NOW).await.unwrap();
    store.put_artifact(&artifact(ArtifactKind::EmailCode, "333333", email), NOW.plus(4)).await.unwrap();
    assert!(matches!(
        store.take_artifact(ArtifactKind::MagicLink, &hash("link"), NOW.plus(5)).await.unwrap(),
        Redeemed::Taken(_)
    ));
}

/// A user's authorization codes (two clients, two tabs) never void each other.
pub async fn authorization_codes_of_one_user_do_not_void_each_other<S: Store>(store: Arc<S>) {
    store.put_artifact(&artifact(ArtifactKind::AuthorizationCode, "tab-1", "u1"), NOW).await.unwrap();
    store.put_artifact(&artifact(ArtifactKind::AuthorizationCode, "tab-2", "u1"), NOW).await.unwrap();
    for tab in ["tab-1", "tab-2"] {
        let taken = store.take_artifact(ArtifactKind::AuthorizationCode, &hash(tab), NOW.plus(1)).await.unwrap();
        assert!(matches!(taken, Redeemed::Taken(_)), "{tab}: {taken:?}");
    }
}

/// Expired artifacts are purged; live ones stay.
pub async fn purge_expired_artifacts<S: Store>(store: Arc<S>) {
    store.put_artifact(&artifact(ArtifactKind::MfaToken, "short", "u1"), NOW).await.unwrap();
    let mut long = artifact(ArtifactKind::MfaToken, "long", "u2");
    long.expires_at = NOW.plus(600);
    store.put_artifact(&long, NOW).await.unwrap();
    assert_eq!(store.purge_expired_artifacts(NOW.plus(59)).await.unwrap(), 0);
    assert_eq!(store.purge_expired_artifacts(NOW.plus(60)).await.unwrap(), 1);
    assert!(matches!(
        store.take_artifact(ArtifactKind::MfaToken, &hash("long"), NOW.plus(61)).await.unwrap(),
        Redeemed::Taken(_)
    ));
}

//! Single-use artifacts: taken once under concurrency, attempts counted, newer voids older;
//! peeked without being taken; an authorization code redeemed for its grant in one step.

use std::sync::Arc;

use serde_json::json;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::artifact::{Artifact, ArtifactHash, ArtifactKind, GrantToStore, Redeemed};
use tessera_core::model::client::ClientId;
use tessera_core::model::grant::{AccessTokenRecord, Grant, GrantId};
use tessera_core::model::refresh::{RefreshTokenHash, RotateOutcome, Rotation};
use tessera_core::store::Store;

use super::fixtures::{NOW, access, account, confidential_client, grant, jti_revoked, login, session, token_hash};

/// How many takes of one code race in [`an_artifact_is_taken_once_under_concurrency`].
pub const CONCURRENT_TAKES: usize = 24;

/// How many redemptions of one code race in [`concurrent_redemptions_store_exactly_one_grant`].
pub const CONCURRENT_REDEMPTIONS: usize = 20;

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

/// A peek returns the live artifact whole and changes nothing: peeking again, taking after a
/// peek and counting wrong attempts all go on as if no peek had happened.
pub async fn a_peek_finds_a_live_artifact_and_changes_nothing<S: Store>(store: Arc<S>) {
    let interaction = artifact(ArtifactKind::Interaction, "interaction", "u1");
    store.put_artifact(&interaction, NOW).await.unwrap();
    for now in [NOW, NOW.plus(1), NOW.plus(59)] {
        let peeked = store.peek_artifact(ArtifactKind::Interaction, &hash("interaction"), now).await.unwrap();
        assert_eq!(peeked, Some(interaction.clone()), "at {now:?}");
    }
    let taken = store.take_artifact(ArtifactKind::Interaction, &hash("interaction"), NOW.plus(2)).await.unwrap();
    assert_eq!(taken, Redeemed::Taken(interaction), "a take after peeks still succeeds");

    // A typed code keeps its attempts: peeks count none.
    let email = "alice@example.com";
    store.put_artifact(&artifact(ArtifactKind::EmailCode, "123456", email), NOW).await.unwrap();
    for _ in 0..10 {
        assert!(store.peek_artifact(ArtifactKind::EmailCode, &hash("123456"), NOW).await.unwrap().is_some());
    }
    let wrong = store.verify_artifact(ArtifactKind::EmailCode, email, &hash("000000"), NOW.plus(1)).await.unwrap();
    assert_eq!(wrong, Redeemed::Mismatch { remaining: 4 });
    assert!(
        store.peek_artifact(ArtifactKind::EmailCode, &hash("123456"), NOW.plus(1)).await.unwrap().is_some(),
        "attempts left: still live"
    );
}

/// A peek finds nothing that a take would refuse: taken, expired, voided, exhausted, unknown
/// or of another kind.
pub async fn a_peek_finds_nothing_that_is_not_live<S: Store>(store: Arc<S>) {
    let kind = ArtifactKind::Interaction;
    store.put_artifact(&artifact(kind, "interaction", "u1"), NOW).await.unwrap();
    assert_eq!(store.peek_artifact(kind, &hash("unknown"), NOW).await.unwrap(), None);
    assert_eq!(store.peek_artifact(ArtifactKind::MfaToken, &hash("interaction"), NOW).await.unwrap(), None);
    for expired in [NOW.plus(60), NOW.plus(61)] {
        assert_eq!(store.peek_artifact(kind, &hash("interaction"), expired).await.unwrap(), None, "{expired:?}");
    }
    assert!(matches!(store.take_artifact(kind, &hash("interaction"), NOW.plus(1)).await.unwrap(), Redeemed::Taken(_)));
    assert_eq!(store.peek_artifact(kind, &hash("interaction"), NOW.plus(1)).await.unwrap(), None, "taken");

    let email = "alice@example.com";
    store.put_artifact(&artifact(ArtifactKind::MagicLink, "old-link", email), NOW).await.unwrap();
    store.put_artifact(&artifact(ArtifactKind::MagicLink, "new-link", email), NOW.plus(1)).await.unwrap();
    assert_eq!(store.peek_artifact(ArtifactKind::MagicLink, &hash("old-link"), NOW.plus(2)).await.unwrap(), None);
    assert!(store.peek_artifact(ArtifactKind::MagicLink, &hash("new-link"), NOW.plus(2)).await.unwrap().is_some());

    store.put_artifact(&artifact(ArtifactKind::SmsCode, "654321", "u1"), NOW).await.unwrap();
    for _ in 0..5 {
        store.verify_artifact(ArtifactKind::SmsCode, "u1", &hash("999999"), NOW.plus(1)).await.unwrap();
    }
    assert_eq!(
        store.peek_artifact(ArtifactKind::SmsCode, &hash("654321"), NOW.plus(2)).await.unwrap(),
        None,
        "exhausted"
    );
}

/// An authorization code as the authorize endpoint stores it: no grant yet.
fn code(label: &str) -> Artifact {
    Artifact { grant_id: None, ..artifact(ArtifactKind::AuthorizationCode, label, "u1") }
}

/// Account `u1`, client `app` and session `s1`: what a code's grant needs.
async fn consented<S: Store>(store: &S) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    store.create_session(&session("s1", "u1", None)).await.unwrap();
}

/// A grant to store on redemption, with its first refresh token `token_hash(id)` and access
/// token `jti-{id}`.
struct Issued {
    grant: Grant,
    first: RefreshTokenHash,
    access: AccessTokenRecord,
}

impl Issued {
    fn new(id: &str, sid: &str) -> Issued {
        Issued { grant: grant(id, "app", "u1", sid), first: token_hash(id), access: access(&format!("jti-{id}"), NOW) }
    }

    fn to_store(&self) -> GrantToStore<'_> {
        GrantToStore { grant: &self.grant, first_refresh: Some(&self.first), access_token: &self.access }
    }
}

async fn code_is_live<S: Store>(store: &S, label: &str) -> bool {
    store.peek_artifact(ArtifactKind::AuthorizationCode, &hash(label), NOW.plus(1)).await.unwrap().is_some()
}

/// Redeems the artifact of `kind` labelled `label` for `issued`.
async fn redeem_kind<S: Store>(
    store: &S,
    kind: ArtifactKind,
    label: &str,
    issued: &Issued,
    now: Timestamp,
) -> Result<Redeemed, CoreError> {
    store.redeem_for_grant(kind, &hash(label), issued.to_store(), now).await
}

/// Redeems the authorization code labelled `label` for `issued`.
async fn redeem<S: Store>(store: &S, label: &str, issued: &Issued, now: Timestamp) -> Redeemed {
    redeem_kind(store, ArtifactKind::AuthorizationCode, label, issued, now).await.unwrap()
}

/// Rotates `presented` for client `app`, recording an access token named after `label`.
async fn rotate<S: Store>(store: &S, presented: &RefreshTokenHash, label: &str) -> RotateOutcome {
    let (replacement, access_token) = (token_hash(label), access(&format!("jti-{label}"), NOW.plus(2)));
    let rotation = Rotation {
        presented,
        replacement: &replacement,
        client_id: &ClientId::new("app"),
        access_token: &access_token,
        reuse_interval: 0,
    };
    store.rotate_refresh_token(rotation, NOW.plus(2)).await.unwrap()
}

/// A redeemed code leaves its grant stored as `create_grant` stores one (the refresh token
/// rotates, revoking the grant reaches the access token) and names it, so every later take or
/// redemption is a replay that can revoke it.
pub async fn redeeming_a_code_stores_its_grant<S: Store>(store: Arc<S>) {
    consented(&*store).await;
    store.put_artifact(&code("code"), NOW).await.unwrap();
    let issued = Issued::new("g1", "s1");
    let expected = Artifact { grant_id: Some(issued.grant.id.clone()), ..code("code") };
    assert_eq!(redeem(&*store, "code", &issued, NOW.plus(1)).await, Redeemed::Taken(expected.clone()));

    assert_eq!(store.grant(&issued.grant.id).await.unwrap(), Some(issued.grant.clone()));
    let (grant, token) = store.refresh_token(&issued.first).await.unwrap().expect("the first refresh token");
    assert_eq!((grant.id, token.used_at), (issued.grant.id.clone(), None));
    assert_eq!(store.peek_artifact(ArtifactKind::AuthorizationCode, &hash("code"), NOW.plus(1)).await.unwrap(), None);

    let replay = store.take_artifact(ArtifactKind::AuthorizationCode, &hash("code"), NOW.plus(2)).await.unwrap();
    assert_eq!(replay, Redeemed::AlreadyTaken(expected.clone()), "a replay names the grant");
    let second = Issued::new("g2", "s1");
    assert_eq!(redeem(&*store, "code", &second, NOW.plus(2)).await, Redeemed::AlreadyTaken(expected));
    assert_eq!(store.grant(&second.grant.id).await.unwrap(), None, "a replay stores no grant");
    assert_eq!(store.refresh_token(&second.first).await.unwrap(), None);

    assert!(matches!(rotate(&*store, &issued.first, "next").await, RotateOutcome::Rotated { .. }));
    assert!(store.revoke_grant(&issued.grant.id, NOW.plus(3)).await.unwrap());
    assert!(jti_revoked(&*store, &issued.access.jti).await, "the code's access token was recorded");
    assert!(!jti_revoked(&*store, &second.access.jti).await);
}

/// A grant that cannot be stored (no such session, a grant id or refresh token taken) fails
/// the redemption and leaves the code untaken, with nothing of the grant stored.
pub async fn a_grant_that_cannot_be_stored_leaves_the_code_untaken<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.put_artifact(&code("code"), NOW).await.unwrap();

    let orphan = Issued::new("g-orphan", "no-such-session");
    let result = redeem_kind(&*store, ArtifactKind::AuthorizationCode, "code", &orphan, NOW.plus(1)).await;
    assert!(matches!(result, Err(CoreError::NotFound { .. })), "{result:?}");
    assert!(code_is_live(&*store, "code").await, "the code stays untaken");
    assert_eq!(store.grant(&orphan.grant.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&orphan.first).await.unwrap(), None);

    let duplicate = Issued::new(login.grant.id.as_str(), "s1");
    let result = redeem_kind(&*store, ArtifactKind::AuthorizationCode, "code", &duplicate, NOW.plus(1)).await;
    assert!(matches!(result, Err(CoreError::Conflict { .. })), "{result:?}");
    assert!(code_is_live(&*store, "code").await, "the code stays untaken");
    assert_eq!(store.refresh_token(&duplicate.first).await.unwrap(), None);
    assert_eq!(store.grant(&login.grant.id).await.unwrap(), Some(login.grant.clone()), "the other grant is untouched");

    let mut reused_token = Issued::new("g-reused-token", "s1");
    reused_token.first = login.first;
    let result = redeem_kind(&*store, ArtifactKind::AuthorizationCode, "code", &reused_token, NOW.plus(1)).await;
    assert!(matches!(result, Err(CoreError::Conflict { .. })), "{result:?}");
    assert!(code_is_live(&*store, "code").await, "the code stays untaken");
    assert_eq!(store.grant(&reused_token.grant.id).await.unwrap(), None);

    let issued = Issued::new("g2", "s1");
    assert!(matches!(redeem(&*store, "code", &issued, NOW.plus(2)).await, Redeemed::Taken(_)));
    // Nothing of the failed attempts was recorded: revoking the grant they collided with
    // reaches none of their access tokens.
    store.revoke_grant(&login.grant.id, NOW.plus(3)).await.unwrap();
    for failed in [&orphan, &duplicate, &reused_token] {
        assert!(!jti_revoked(&*store, &failed.access.jti).await, "{}", failed.access.jti);
    }
}

/// Unknown, expired, voided, exhausted and other-kind codes are `Unknown`, and no grant is stored.
pub async fn redeeming_a_dead_code_stores_no_grant<S: Store>(store: Arc<S>) {
    consented(&*store).await;
    store.put_artifact(&code("code"), NOW).await.unwrap();
    let issued = Issued::new("g1", "s1");
    assert_eq!(redeem(&*store, "unknown", &issued, NOW.plus(1)).await, Redeemed::Unknown);
    for expired in [NOW.plus(60), NOW.plus(61)] {
        assert_eq!(redeem(&*store, "code", &issued, expired).await, Redeemed::Unknown, "{expired:?}");
    }
    let other_kind = redeem_kind(&*store, ArtifactKind::MfaToken, "code", &issued, NOW.plus(1)).await;
    assert_eq!(other_kind.unwrap(), Redeemed::Unknown);

    let email = "alice@example.com";
    store.put_artifact(&artifact(ArtifactKind::MagicLink, "old-link", email), NOW).await.unwrap();
    store.put_artifact(&artifact(ArtifactKind::MagicLink, "new-link", email), NOW.plus(1)).await.unwrap();
    let voided = redeem_kind(&*store, ArtifactKind::MagicLink, "old-link", &issued, NOW.plus(2)).await;
    assert_eq!(voided.unwrap(), Redeemed::Unknown);
    store.put_artifact(&artifact(ArtifactKind::SmsCode, "654321", "u1"), NOW).await.unwrap();
    for _ in 0..5 {
        store.verify_artifact(ArtifactKind::SmsCode, "u1", &hash("999999"), NOW.plus(1)).await.unwrap();
    }
    let exhausted = redeem_kind(&*store, ArtifactKind::SmsCode, "654321", &issued, NOW.plus(2)).await;
    assert_eq!(exhausted.unwrap(), Redeemed::Unknown);

    assert_eq!(store.grant(&issued.grant.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&issued.first).await.unwrap(), None);
    assert!(!jti_revoked(&*store, &issued.access.jti).await);
    assert!(matches!(redeem(&*store, "code", &issued, NOW.plus(59)).await, Redeemed::Taken(_)), "still redeemable");
}

/// RFC 6749 §4.1.2: of many concurrent redemptions of one code, each bringing its own grant,
/// exactly one stores its grant; every other one is a replay naming that grant, so revoking it
/// (what a replay does) reaches the winner's access and refresh tokens.
pub async fn concurrent_redemptions_store_exactly_one_grant<S: Store + 'static>(store: Arc<S>) {
    consented(&*store).await;
    store.put_artifact(&code("code"), NOW).await.unwrap();
    let tasks: Vec<_> = (0..CONCURRENT_REDEMPTIONS)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let issued = Issued::new(&format!("g-{n}"), "s1");
                (n, redeem(&*store, "code", &issued, NOW.plus(1)).await)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut replays = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (n, Redeemed::Taken(artifact)) => {
                assert_eq!(artifact.grant_id, Some(GrantId::new(format!("g-{n}"))));
                winners.push(n);
            }
            (_, Redeemed::AlreadyTaken(artifact)) => replays.push(artifact.grant_id),
            (_, other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption wins: {winners:?}");
    let winner = Issued::new(&format!("g-{}", winners[0]), "s1");
    assert_eq!(replays.len(), CONCURRENT_REDEMPTIONS - 1);
    assert!(
        replays.iter().all(|id| id.as_ref() == Some(&winner.grant.id)),
        "each replay names the winner: {replays:?}"
    );

    for n in 0..CONCURRENT_REDEMPTIONS {
        let issued = Issued::new(&format!("g-{n}"), "s1");
        let stored = store.grant(&issued.grant.id).await.unwrap();
        let token = store.refresh_token(&issued.first).await.unwrap();
        if n == winners[0] {
            assert_eq!(stored, Some(issued.grant.clone()));
            assert!(token.is_some());
        } else {
            assert_eq!((stored, token), (None, None), "a loser's grant g-{n} was stored");
        }
    }

    // What the flow does on a replay: revoke the grant it names.
    assert!(store.revoke_grant(&winner.grant.id, NOW.plus(2)).await.unwrap());
    assert!(jti_revoked(&*store, &winner.access.jti).await, "the winner's access token is revoked");
    let rotation = rotate(&*store, &winner.first, "after-revocation").await;
    assert_eq!(rotation, RotateOutcome::Revoked { grant_id: winner.grant.id.clone() });
    let late = store.take_artifact(ArtifactKind::AuthorizationCode, &hash("code"), NOW.plus(3_600)).await.unwrap();
    assert!(matches!(late, Redeemed::AlreadyTaken(ref a) if a.grant_id == Some(winner.grant.id.clone())), "{late:?}");
}

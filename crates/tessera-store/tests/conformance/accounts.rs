//! Accounts, clients and sessions.

use std::sync::Arc;

use tessera_core::CoreError;
use tessera_core::model::account::{Email, PasswordHash, UserId};
use tessera_core::model::client::{BrowserSettings, Client, ClientId};
use tessera_core::model::session::SessionId;
use tessera_core::store::Store;

use super::fixtures::{NOW, access, account, confidential_client, grant, login, public_client, session, token_hash};

/// Create, read, list, disable and re-hash accounts; e-mails are unique.
pub async fn account_crud<S: Store>(store: Arc<S>) {
    let alice = account("u-alice", "alice@example.com");
    store.create_account(&alice).await.unwrap();
    store.create_account(&account("u-bob", "bob@example.com")).await.unwrap();

    assert_eq!(store.account(&alice.id).await.unwrap(), Some(alice.clone()));
    let by_email = store.account_by_email(&Email::parse("ALICE@example.com").unwrap()).await.unwrap();
    assert_eq!(by_email, Some(alice.clone()));
    assert_eq!(store.account(&UserId::new("nobody")).await.unwrap(), None);

    let duplicate = store.create_account(&account("u-other", "alice@example.com")).await;
    assert!(matches!(duplicate, Err(CoreError::Conflict { .. })), "{duplicate:?}");

    let emails: Vec<String> = store.list_accounts().await.unwrap().iter().map(|a| a.email.to_string()).collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);

    assert!(store.set_account_disabled(&alice.id, true, NOW.plus(5)).await.unwrap());
    let disabled = store.account(&alice.id).await.unwrap().unwrap();
    assert!(disabled.disabled);
    assert_eq!(disabled.updated_at, NOW.plus(5));

    let hash = PasswordHash::new("$argon2id$new");
    assert!(store.set_password_hash(&alice.id, &hash, NOW.plus(6)).await.unwrap());
    assert_eq!(store.account(&alice.id).await.unwrap().unwrap().password_hash, Some(hash.clone()));
    assert!(!store.set_password_hash(&UserId::new("nobody"), &hash, NOW).await.unwrap());
    assert!(!store.set_account_disabled(&UserId::new("nobody"), true, NOW).await.unwrap());

    // The profile claims round-trip whole, and the name goes with them.
    let profile = tessera_core::model::account::Profile {
        given_name: Some("Alice".into()),
        birthdate: Some("1865-11-26".into()),
        phone_number: Some("+441234567890".into()),
        phone_number_verified: true,
        address: Some(tessera_core::model::account::Address {
            formatted: Some("1 Rabbit Hole\nOxford".into()),
            country: Some("GB".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(store.update_profile(&alice.id, Some("Alice L."), &profile, NOW.plus(7)).await.unwrap());
    let updated = store.account(&alice.id).await.unwrap().unwrap();
    assert_eq!(
        (updated.name.as_deref(), &updated.profile, updated.updated_at),
        (Some("Alice L."), &profile, NOW.plus(7))
    );
    assert!(store.update_profile(&alice.id, None, &Default::default(), NOW.plus(8)).await.unwrap());
    let cleared = store.account(&alice.id).await.unwrap().unwrap();
    assert_eq!((cleared.name, cleared.profile), (None, Default::default()));
    assert!(!store.update_profile(&UserId::new("nobody"), None, &profile, NOW).await.unwrap());
}

/// A client with every browser setting away from its default.
fn browser_client(client_id: &str) -> Client {
    let browser = BrowserSettings {
        name: Some("Billing — \"Rechnungen\"".into()),
        post_logout_redirect_uris: vec![
            format!("https://{client_id}.example/logged-out"),
            format!("https://{client_id}.example/bye?from=tessera"),
        ],
        first_party: true,
        require_pkce: true,
        id_token_alg: Some("ES256".into()),
        allowed_origins: vec![format!("https://{client_id}.example"), "http://127.0.0.1:3000".into()],
    };
    Client { browser, ..confidential_client(client_id) }
}

/// Clients round-trip every field, the browser settings too; `client_id` is unique; removal
/// reports whether it removed.
pub async fn client_crud<S: Store>(store: Arc<S>) {
    let confidential = browser_client("billing");
    let public = public_client("mobile");
    assert_eq!(public.browser, BrowserSettings::default());
    store.create_client(&confidential).await.unwrap();
    store.create_client(&public).await.unwrap();

    assert_eq!(store.client(&confidential.client_id).await.unwrap(), Some(confidential.clone()));
    assert_eq!(store.client(&public.client_id).await.unwrap(), Some(public.clone()));
    let duplicate = store.create_client(&public_client("billing")).await;
    assert!(matches!(duplicate, Err(CoreError::Conflict { .. })), "{duplicate:?}");

    assert_eq!(store.list_clients().await.unwrap(), [confidential.clone(), public.clone()], "ordered by client_id");

    // An update replaces the settings and keeps the kind (and secret) and registration time.
    let mut changed = browser_client("billing");
    changed.kind = tessera_core::model::client::ClientKind::Public;
    changed.created_at = NOW.plus(99);
    changed.redirect_uris = vec!["https://billing.example/new".into()];
    changed.scopes = vec!["openid".into()];
    changed.access_ttl = Some(60);
    changed.browser.first_party = false;
    changed.browser.name = Some("Billing".into());
    assert!(store.update_client(&changed).await.unwrap());
    let stored = store.client(&confidential.client_id).await.unwrap().unwrap();
    assert_eq!(stored.kind, confidential.kind, "the secret stays");
    assert_eq!(stored.created_at, confidential.created_at);
    assert_eq!(
        (stored.redirect_uris, stored.scopes, stored.access_ttl),
        (changed.redirect_uris, changed.scopes, Some(60))
    );
    assert_eq!(stored.browser, changed.browser);
    assert!(!store.update_client(&public_client("nobody")).await.unwrap());

    assert!(store.remove_client(&public.client_id).await.unwrap());
    assert!(!store.remove_client(&public.client_id).await.unwrap());
    assert_eq!(store.client(&public.client_id).await.unwrap(), None);
}

/// No refresh token outlives its client.
pub async fn removing_a_client_removes_its_grants<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    assert!(store.remove_client(&ClientId::new("app")).await.unwrap());
    assert_eq!(store.grant(&login.grant.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&login.first).await.unwrap(), None);
    let session = store.session(&SessionId::new("s1")).await.unwrap().unwrap();
    assert_eq!(session.client_id, None, "the session stays, without its client");
}

/// Removing an account removes its sessions, grants and their tokens with it.
pub async fn removing_an_account_removes_its_sessions_and_grants<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_account(&account("u-other", "other@example.com")).await.unwrap();
    assert!(store.remove_account(&UserId::new("u1")).await.unwrap());
    assert_eq!(store.account(&UserId::new("u1")).await.unwrap(), None);
    assert_eq!(store.session(&SessionId::new("s1")).await.unwrap(), None);
    assert_eq!(store.grant(&login.grant.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&login.first).await.unwrap(), None);
    assert!(store.account(&UserId::new("u-other")).await.unwrap().is_some(), "only that account");
    assert!(!store.remove_account(&UserId::new("u1")).await.unwrap(), "false when there is none");
}

/// Sessions are created, listed while active, and revoked with their grants.
pub async fn session_lifecycle<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    let mut later = session("s2", "u1", None);
    later.created_at = NOW.plus(10);
    store.create_session(&later).await.unwrap();
    let mut expired = session("s3", "u1", None);
    expired.expires_at = NOW.plus(1);
    store.create_session(&expired).await.unwrap();

    let s1 = store.session(&SessionId::new("s1")).await.unwrap().unwrap();
    assert_eq!(s1, session("s1", "u1", Some("app")));
    let active: Vec<String> = store
        .active_sessions(&UserId::new("u1"), NOW.plus(20))
        .await
        .unwrap()
        .iter()
        .map(|s| s.sid.to_string())
        .collect();
    assert_eq!(active, ["s2", "s1"], "newest first, expired left out");

    assert!(store.revoke_session(&s1.sid, NOW.plus(30)).await.unwrap());
    assert!(store.revoke_session(&s1.sid, NOW.plus(40)).await.unwrap());
    let revoked = store.session(&s1.sid).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(NOW.plus(30)), "the first revocation time is kept");
    let grant = store.grant(&login.grant.id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(NOW.plus(30)), "the session's grant is revoked with it");
    assert!(!store.revoke_session(&SessionId::new("none"), NOW).await.unwrap());
}

/// Ending all of a user's sessions counts the active ones and revokes every grant.
pub async fn revoking_user_sessions_revokes_grants<S: Store>(store: Arc<S>) {
    let login = login(&store).await;
    store.create_session(&session("s2", "u1", Some("app"))).await.unwrap();
    store
        .create_grant(&grant("g2", "app", "u1", "s2"), Some(&token_hash("second")), &access("jti-2", NOW))
        .await
        .unwrap();
    store.create_account(&account("u2", "u2@example.com")).await.unwrap();
    store.create_session(&session("other", "u2", None)).await.unwrap();

    assert_eq!(store.revoke_user_sessions(&UserId::new("u1"), NOW.plus(1)).await.unwrap(), 2);
    assert!(store.active_sessions(&UserId::new("u1"), NOW.plus(2)).await.unwrap().is_empty());
    for id in [login.grant.id.clone(), grant("g2", "app", "u1", "s2").id] {
        let grant = store.grant(&id).await.unwrap().unwrap();
        assert_eq!(grant.revoked_at, Some(NOW.plus(1)));
    }
    assert_eq!(store.active_sessions(&UserId::new("u2"), NOW.plus(2)).await.unwrap().len(), 1);
    assert_eq!(store.revoke_user_sessions(&UserId::new("u1"), NOW.plus(3)).await.unwrap(), 0);
}

/// A session cannot point at a user that does not exist.
pub async fn session_needs_an_account<S: Store>(store: Arc<S>) {
    let result = store.create_session(&session("s1", "ghost", None)).await;
    assert!(matches!(result, Err(CoreError::NotFound { .. })), "{result:?}");
}

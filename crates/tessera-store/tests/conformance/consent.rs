//! Consents: the scopes a user allowed a client, grown by union, gone with the user or client.

use std::sync::Arc;

use tessera_core::CoreError;
use tessera_core::model::account::UserId;
use tessera_core::model::client::ClientId;
use tessera_core::store::Store;

use super::fixtures::{NOW, account, confidential_client};

/// How many consents to one client race in [`concurrent_consents_all_count`].
pub const CONCURRENT_CONSENTS: usize = 12;

fn scopes(names: &[&str]) -> Vec<String> {
    names.iter().map(|&name| name.to_owned()).collect()
}

/// The consented scopes, sorted: the contract promises a set, not an order.
async fn consented<S: Store>(store: &S, user: &str, client: &str) -> Vec<String> {
    let mut found = store.consented_scopes(&UserId::new(user), &ClientId::new(client)).await.unwrap();
    found.sort();
    found
}

async fn record<S: Store>(store: &S, user: &str, client: &str, names: &[&str]) -> Result<(), CoreError> {
    store.record_consent(&UserId::new(user), &ClientId::new(client), &scopes(names), NOW).await
}

/// Recorded scopes add up, each once, per user and client; the user and client must exist.
pub async fn consent_is_the_union_of_recorded_scopes<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_account(&account("u2", "u2@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    store.create_client(&confidential_client("other")).await.unwrap();
    assert!(consented(&*store, "u1", "app").await.is_empty(), "none yet");

    record(&*store, "u1", "app", &["openid", "profile"]).await.unwrap();
    assert_eq!(consented(&*store, "u1", "app").await, ["openid", "profile"]);
    record(&*store, "u1", "app", &["profile", "orders:read"]).await.unwrap();
    assert_eq!(consented(&*store, "u1", "app").await, ["openid", "orders:read", "profile"]);
    record(&*store, "u1", "app", &[]).await.unwrap();
    record(&*store, "u1", "app", &["email", "email"]).await.unwrap();
    assert_eq!(consented(&*store, "u1", "app").await, ["email", "openid", "orders:read", "profile"]);
    assert!(consented(&*store, "u1", "other").await.is_empty(), "per client");
    assert!(consented(&*store, "u2", "app").await.is_empty(), "per user");

    let no_user = record(&*store, "ghost", "app", &["openid"]).await;
    assert!(matches!(no_user, Err(CoreError::NotFound { .. })), "{no_user:?}");
    let no_client = record(&*store, "u1", "ghost", &["openid"]).await;
    assert!(matches!(no_client, Err(CoreError::NotFound { .. })), "{no_client:?}");
    assert!(consented(&*store, "ghost", "app").await.is_empty());
    assert!(consented(&*store, "u1", "ghost").await.is_empty());
}

/// Consents given at the same moment (two tabs) all count.
pub async fn concurrent_consents_all_count<S: Store + 'static>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    let tasks: Vec<_> = (0..CONCURRENT_CONSENTS)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { record(&*store, "u1", "app", &["openid", &format!("scope-{n:02}")]).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut expected: Vec<String> = (0..CONCURRENT_CONSENTS).map(|n| format!("scope-{n:02}")).collect();
    expected.insert(0, "openid".into());
    assert_eq!(consented(&*store, "u1", "app").await, expected);
}

/// A consent goes with its client or its user: one registered again under the same id starts
/// with none.
pub async fn removing_a_client_or_account_removes_its_consents<S: Store>(store: Arc<S>) {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_account(&account("u2", "u2@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    store.create_client(&confidential_client("other")).await.unwrap();
    for (user, client) in [("u1", "app"), ("u2", "app"), ("u1", "other")] {
        record(&*store, user, client, &["openid"]).await.unwrap();
    }

    assert!(store.remove_client(&ClientId::new("app")).await.unwrap());
    store.create_client(&confidential_client("app")).await.unwrap();
    assert!(consented(&*store, "u1", "app").await.is_empty(), "the new client has no consent");
    assert!(consented(&*store, "u2", "app").await.is_empty());
    assert_eq!(consented(&*store, "u1", "other").await, ["openid"], "other clients keep theirs");

    record(&*store, "u2", "app", &["profile"]).await.unwrap();
    assert!(store.remove_account(&UserId::new("u1")).await.unwrap());
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    assert!(consented(&*store, "u1", "other").await.is_empty(), "the new account has no consent");
    assert_eq!(consented(&*store, "u2", "app").await, ["profile"], "other users keep theirs");
}

//! The conformance suite against SQLite, on a fresh database file per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tempfile::TempDir;
use tessera_store::SqliteStore;

async fn fresh_store() -> (Arc<SqliteStore>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tessera.db")).await.unwrap();
    (Arc::new(store), dir)
}

tessera_store::conformance_suite!(fresh_store);

#[tokio::test]
async fn database_is_in_wal_mode_with_foreign_keys() {
    let (store, _dir) = fresh_store().await;
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.unwrap();
    assert_eq!(journal, "wal");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(store.pool()).await.unwrap();
    assert_eq!(foreign_keys, 1);
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_migrate_twice() {
    use tessera_core::account::AccountStore;
    let (store, dir) = fresh_store().await;
    let account = tessera_store::conformance::fixtures::account("u1", "u1@example.com");
    store.create_account(&account).await.unwrap();
    store.close().await;
    let reopened = SqliteStore::open(&dir.path().join("tessera.db")).await.unwrap();
    assert_eq!(reopened.account(&account.id).await.unwrap(), Some(account));
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    use tessera_core::refresh::RefreshToken;
    let (store, _dir) = fresh_store().await;
    tessera_store::conformance::fixtures::login(&store).await;
    let plain = RefreshToken::parse("refresh-token-first").unwrap();
    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT hash FROM refresh_tokens").fetch_all(store.pool()).await.unwrap();
    assert_eq!(hashes, vec![plain.hash().as_bytes().to_vec()]);
    assert!(!hashes[0].windows(plain.expose().len()).any(|w| w == plain.expose().as_bytes()));
}

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
    use tessera_core::model::account::AccountStore;
    let (store, dir) = fresh_store().await;
    let account = tessera_store::conformance::fixtures::account("u1", "u1@example.com");
    store.create_account(&account).await.unwrap();
    store.close().await;
    let reopened = SqliteStore::open(&dir.path().join("tessera.db")).await.unwrap();
    assert_eq!(reopened.account(&account.id).await.unwrap(), Some(account));
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    use tessera_core::model::refresh::RefreshToken;
    let (store, _dir) = fresh_store().await;
    tessera_store::conformance::fixtures::login(&store).await;
    let plain = RefreshToken::parse("refresh-token-first").unwrap();
    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT hash FROM refresh_tokens").fetch_all(store.pool()).await.unwrap();
    assert_eq!(hashes, vec![plain.hash().as_bytes().to_vec()]);
    assert!(!hashes[0].windows(plain.expose().len()).any(|w| w == plain.expose().as_bytes()));
}

#[tokio::test]
async fn a_database_of_the_first_schema_migrates_to_grants_and_keeps_its_tokens() {
    use std::borrow::Cow;

    use sqlx::SqlSafeStr as _;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    use tessera_core::model::client::{ClientId, ClientStore};
    use tessera_core::model::grant::{AccessTokenRecord, GrantStore};
    use tessera_core::model::refresh::{RefreshStore, RefreshToken, RotateOutcome, Rotation};
    use tessera_store::conformance::fixtures::NOW;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let first = include_str!("../migrations/sqlite/0001_initial.sql");
    let only_first = Migrator::with_migrations(vec![Migration::new(
        1,
        Cow::Borrowed("initial"),
        MigrationType::Simple,
        first.into_sql_str(),
        false,
    )]);
    only_first.run(&pool).await.unwrap();
    let token = RefreshToken::parse("refresh-token-of-the-old-schema").unwrap();
    for statement in [
        "INSERT INTO accounts VALUES ('u1', 'u1@example.com', NULL, NULL, 0, 1, 1)".to_owned(),
        "INSERT INTO clients VALUES ('tessera', NULL, '[]', '[\"password\",\"refresh_token\"]', '[\"openid\"]', \
         '[\"http://127.0.0.1:8080\"]', NULL, NULL, 1)"
            .to_owned(),
        "INSERT INTO sessions VALUES ('s1', 'api', 'u1', 'tessera', 1, '1', '[\"pwd\"]', 1, 9999999999, NULL)"
            .to_owned(),
        "INSERT INTO refresh_families VALUES ('f1', 'tessera', 'u1', 's1', '[\"openid\"]', 1, 9999999999, NULL)"
            .to_owned(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&pool).await.unwrap();
    }
    sqlx::query("INSERT INTO refresh_tokens VALUES (?, 'f1', 1, NULL)")
        .bind(token.hash().as_bytes().as_slice())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let (grant, record) = store.refresh_token(&token.hash()).await.unwrap().expect("the family became a grant");
    assert_eq!((grant.id.as_str(), record.used_at), ("f1", None));
    let client = store.client(&ClientId::new("tessera")).await.unwrap().unwrap();
    assert!(client.audiences.is_empty(), "the stale first-party audience is gone");
    let next = RefreshToken::parse("refresh-token-next").unwrap().hash();
    let access = AccessTokenRecord { jti: "j1".into(), expires_at: NOW.plus(900) };
    let rotation = Rotation {
        presented: &token.hash(),
        replacement: &next,
        client_id: &ClientId::new("tessera"),
        access_token: &access,
        reuse_interval: 0,
    };
    assert!(matches!(store.rotate_refresh_token(rotation, NOW).await.unwrap(), RotateOutcome::Rotated { .. }));
    assert!(store.revoke_grant(&grant.id, NOW.plus(1)).await.unwrap());
}

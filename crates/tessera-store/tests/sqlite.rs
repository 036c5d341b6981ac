//! The conformance suite against SQLite, on a fresh database file per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tempfile::TempDir;
use tessera_store::SqliteStore;

#[macro_use]
mod conformance;

async fn fresh_store() -> (Arc<SqliteStore>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tessera.db")).await.unwrap();
    (Arc::new(store), dir)
}

conformance_suite!(fresh_store);

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
    let account = conformance::fixtures::account("u1", "u1@example.com");
    store.create_account(&account).await.unwrap();
    store.close().await;
    let reopened = SqliteStore::open(&dir.path().join("tessera.db")).await.unwrap();
    assert_eq!(reopened.account(&account.id).await.unwrap(), Some(account));
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    use tessera_core::model::refresh::RefreshToken;
    let (store, _dir) = fresh_store().await;
    conformance::fixtures::login(&store).await;
    let plain = RefreshToken::parse("refresh-token-first").unwrap();
    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT hash FROM refresh_tokens").fetch_all(store.pool()).await.unwrap();
    assert_eq!(hashes, vec![plain.hash().as_bytes().to_vec()]);
    assert!(!hashes[0].windows(plain.expose().len()).any(|w| w == plain.expose().as_bytes()));
}

#[tokio::test]
async fn a_database_of_the_first_schema_migrates_to_grants_and_keeps_its_tokens() {
    use std::borrow::Cow;

    use conformance::fixtures::NOW;
    use sqlx::SqlSafeStr as _;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    use tessera_core::model::client::{ClientId, ClientStore};
    use tessera_core::model::grant::{AccessTokenRecord, GrantStore};
    use tessera_core::model::refresh::{RefreshStore, RefreshToken, RotateOutcome, Rotation};

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

/// Group commit: operations queued while the writer waits run in one transaction; one that
/// fails (even after writing) is rolled back alone, a reuse revokes its grant, and every other
/// operation of the batch commits with its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_commits_each_operation_with_its_own_outcome() {
    use conformance::fixtures::{NOW, access, grant, login, session, token_hash};
    use sqlx::Connection as _;
    use tessera_core::CoreError;
    use tessera_core::model::client::ClientId;
    use tessera_core::model::grant::GrantStore;
    use tessera_core::model::refresh::{RefreshStore, RotateOutcome, Rotation};
    use tessera_core::model::revocation::{RevocationStore, RevocationTarget};
    use tessera_core::model::session::SessionStore;

    let (store, dir) = fresh_store().await;
    let first = login(&store).await;
    for n in 2..=4 {
        store.create_session(&session(&format!("s{n}"), "u1", Some("app"))).await.unwrap();
        let chain = grant(&format!("g{n}"), "app", "u1", &format!("s{n}"));
        store
            .create_grant(&chain, Some(&token_hash(&format!("chain-{n}"))), &access(&format!("j{n}"), NOW))
            .await
            .unwrap();
    }
    let before = store.writer_stats();

    // Another connection holds the write lock, so the writer's next transaction waits and the
    // operations below queue behind it.
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("tessera.db"));
    let mut holder = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    let waiting = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.revoke(&RevocationTarget::Jti("first-in".into()), NOW.plus(60), NOW).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let rotate = |presented: String, next: String| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let (presented, next) = (token_hash(&presented), token_hash(&next));
            let record = access(&format!("jti-{next:?}"), NOW.plus(1));
            let rotation = Rotation {
                presented: &presented,
                replacement: &next,
                client_id: &ClientId::new("app"),
                access_token: &record,
                reuse_interval: 0,
            };
            store.rotate_refresh_token(rotation, NOW.plus(1)).await
        })
    };
    let mut rotations = vec![rotate("first".into(), "first-next".into())];
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    rotations.push(rotate("first".into(), "first-again".into())); // a reuse in the same batch
    for n in 2..=4 {
        rotations.push(rotate(format!("chain-{n}"), format!("chain-{n}-next")));
    }
    // Fails after its first insert (the refresh token's hash is taken): rolled back alone.
    let failing = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let orphan = grant("g-orphan", "app", "u1", "s1");
            store.create_grant(&orphan, Some(&token_hash("chain-2")), &access("j-orphan", NOW)).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();

    assert!(waiting.await.unwrap().is_ok());
    let mut outcomes = Vec::new();
    for rotation in rotations {
        outcomes.push(rotation.await.unwrap().unwrap());
    }
    assert!(matches!(outcomes[0], RotateOutcome::Rotated { .. }), "{:?}", outcomes[0]);
    assert_eq!(outcomes[1], RotateOutcome::Reused { grant_id: first.grant.id.clone() });
    assert!(outcomes[2..].iter().all(|o| matches!(o, RotateOutcome::Rotated { .. })), "{outcomes:?}");
    assert!(matches!(failing.await.unwrap(), Err(CoreError::Conflict { .. })));

    let after = store.writer_stats();
    assert!(after.largest_batch >= 6, "the queued operations ran as one batch: {before:?} -> {after:?}");

    // What committed is there after a reopen; what failed left nothing behind.
    store.close().await;
    let reopened = SqliteStore::open(&dir.path().join("tessera.db")).await.unwrap();
    assert!(reopened.grant(&grant("g-orphan", "app", "u1", "s1").id).await.unwrap().is_none());
    assert!(reopened.grant(&first.grant.id).await.unwrap().unwrap().revoked_at.is_some());
    for n in 2..=4 {
        let (live, record) = reopened.refresh_token(&token_hash(&format!("chain-{n}-next"))).await.unwrap().unwrap();
        assert_eq!((live.revoked_at, record.used_at), (None, None));
    }
}

/// A purge larger than one chunk deletes everything expired, in several short statements.
#[tokio::test]
async fn purges_go_in_chunks_and_miss_nothing() {
    use conformance::fixtures::NOW;
    use tessera_core::model::revocation::{RevocationStore, RevocationTarget};

    let (store, _dir) = fresh_store().await;
    let mut insert =
        sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO revocations (kind, value, revoked_at, expires_at) ");
    insert.push_values(0..2_500, |mut row, n| {
        row.push_bind("jti").push_bind(format!("j{n}")).push_bind(NOW.unix()).push_bind(NOW.plus(10).unix());
    });
    insert.build().execute(store.pool()).await.unwrap();
    store.revoke(&RevocationTarget::Jti("live".into()), NOW.plus(1_000), NOW).await.unwrap();
    assert_eq!(store.purge_expired_revocations(NOW.plus(10)).await.unwrap(), 2_500);
    let left = store.revocations_after(0, 10).await.unwrap();
    assert_eq!(left.iter().map(|r| r.target.value()).collect::<Vec<_>>(), ["live"]);
}

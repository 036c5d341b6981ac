//! Key rotation reaches a running server: the next key is published before it signs, then
//! signs, and the retired key keeps verifying what it signed. Rotation happens once however
//! many processes share the database; a revoked key is withdrawn at the next reload; a changed
//! `tokens.signing_alg` keeps the old key verifying.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{TestServer, header};
use serde_json::Value;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::keys::key_ring::{ensure_signing_keys, revoke_signing_key, rotate_due_keys, rotate_signing_key};
use tessera_core::keys::master_key::MasterKey;
use tessera_core::keys::signing_key::{KeyState, Kid, SigningKeyStore};
use tessera_core::model::audit::MemoryAuditSink;
use tessera_core::model::client::GrantType;
use tessera_core::random::SystemRandom;
use tessera_jose::Algorithm;
use tessera_server::app::maintain_once;
use tessera_store::SqliteStore;

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_prepublishes_then_signs_and_keeps_the_old_key_published() {
    let server = TestServer::start().await;
    let secret = server.add_client("svc", &[GrantType::ClientCredentials], &[], &["api"]).await;
    let resource = server.add_client("rs", &[GrantType::ClientCredentials], &[], &[]).await;
    let token = |server: &TestServer| {
        let (http, url, secret) = (server.http.clone(), server.url("/oauth/token"), secret.clone());
        async move {
            let response = http
                .post(url)
                .basic_auth("svc", Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let master =
        MasterKey::from_base64url(&std::fs::read_to_string(server.data_dir.join("master.key")).unwrap()).unwrap();
    let old_token = token(&server).await;
    let old_kid = header(&old_token)["kid"].as_str().unwrap().to_owned();

    // A rotation with pre-publication: published at once, not signing yet.
    let next = rotate_signing_key(
        &*server.state.store,
        &master,
        &server.state.random,
        &MemoryAuditSink::default(),
        Algorithm::ES256,
        3600,
        server.state.now(),
    )
    .await
    .unwrap();
    maintain_once(&server.state, &master, false).await.unwrap();
    let jwks = server.get("/.well-known/jwks.json", None).await.1;
    assert!(kids(&jwks).contains(&next.kid.as_str().to_owned()), "published before it signs");
    assert_eq!(header(&token(&server).await)["kid"], old_kid.as_str(), "still the old key signing");

    // An immediate rotation (like `tessera keys rotate --now`) takes over at the next round.
    let now_key = rotate_signing_key(
        &*server.state.store,
        &master,
        &server.state.random,
        &MemoryAuditSink::default(),
        Algorithm::ES256,
        0,
        server.state.now(),
    )
    .await
    .unwrap();
    maintain_once(&server.state, &master, false).await.unwrap();
    let new_token = token(&server).await;
    let new_kid = header(&new_token)["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert!([next.kid.as_str(), now_key.kid.as_str()].contains(&new_kid.as_str()));
    let jwks = server.get("/.well-known/jwks.json", None).await.1;
    assert!(kids(&jwks).contains(&old_kid), "the retired key stays published while its tokens live");
    for token in [&old_token, &new_token] {
        let (status, body, _) =
            server.post_form("/oauth/introspect", &[("token", token)], Some(("rs", &resource))).await;
        assert_eq!((status, body["active"].as_bool()), (200, Some(true)), "{body}");
    }
}

async fn client_credentials_token(server: &TestServer, secret: &str) -> String {
    let (status, body, _) =
        server.post_form("/oauth/token", &[("grant_type", "client_credentials")], Some(("svc", secret))).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn active(server: &TestServer, token: &str, resource: &str) -> bool {
    let (status, body, _) = server.post_form("/oauth/introspect", &[("token", token)], Some(("rs", resource))).await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap()
}

fn master_key(server: &TestServer) -> MasterKey {
    MasterKey::from_base64url(&std::fs::read_to_string(server.data_dir.join("master.key")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_leaves_the_jwks_and_its_tokens_stop_verifying_at_the_next_reload() {
    let server = TestServer::start().await;
    let secret = server.add_client("svc", &[GrantType::ClientCredentials], &[], &["api"]).await;
    let resource = server.add_client("rs", &[GrantType::ClientCredentials], &[], &[]).await;
    let master = master_key(&server);
    let old_token = client_credentials_token(&server, &secret).await;
    let old_kid = header(&old_token)["kid"].as_str().unwrap().to_owned();
    assert!(active(&server, &old_token, &resource).await);

    let revocation = revoke_signing_key(
        &*server.state.store,
        &master,
        &server.state.random,
        &MemoryAuditSink::default(),
        &Kid::new(old_kid.as_str()),
        server.state.now(),
    )
    .await
    .unwrap();
    let successor = revocation.activated.expect("the active key was replaced first");
    assert!(revocation.created, "no key was waiting, so one was created");
    // Until the reload the running server still has the old ring: the documented 30 s window.
    assert!(kids(&server.get("/.well-known/jwks.json", None).await.1).contains(&old_kid));
    maintain_once(&server.state, &master, false).await.unwrap();

    let jwks = kids(&server.get("/.well-known/jwks.json", None).await.1);
    assert!(!jwks.contains(&old_kid), "out of the JWKS: {jwks:?}");
    assert!(jwks.contains(&successor.as_str().to_owned()));
    assert!(!active(&server, &old_token, &resource).await, "what the revoked key signed no longer verifies");
    let new_token = client_credentials_token(&server, &secret).await;
    assert_eq!(header(&new_token)["kid"], successor.as_str(), "never signs again; the successor does");
    assert!(active(&server, &new_token, &resource).await);
    let again = revoke_signing_key(
        &*server.state.store,
        &master,
        &server.state.random,
        &MemoryAuditSink::default(),
        &Kid::new(old_kid.as_str()),
        server.state.now(),
    )
    .await;
    assert!(matches!(again, Err(CoreError::Conflict { .. })), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_rotating_at_once_create_exactly_one_key() {
    let random = SystemRandom::new();
    let master = MasterKey::generate(&random).unwrap();
    let t0 = Timestamp::from_unix(1_750_000_000);
    for round in 0..4 {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("tessera.db");
        // Two stores on one file: two processes sharing the database.
        let (first, second) = (SqliteStore::open(&path).await.unwrap(), SqliteStore::open(&path).await.unwrap());
        ensure_signing_keys(&first, &master, &random, &[Algorithm::ES256], t0).await.unwrap();
        let later = t0.plus(31 * 86_400);
        let rotate = |store: &SqliteStore| {
            let (store, master, random) = (store.clone(), &master, &random);
            async move {
                rotate_due_keys(&store, master, random, &MemoryAuditSink::default(), 30 * 86_400, 86_400, later).await
            }
        };
        let (a, b) = tokio::join!(rotate(&first), rotate(&second));
        let started = a.unwrap().len() + b.unwrap().len();
        let next: Vec<_> =
            first.signing_keys().await.unwrap().into_iter().filter(|k| k.state == KeyState::Next).collect();
        assert_eq!((started, next.len()), (1, 1), "round {round}: exactly one new key");
        first.close().await;
        second.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_signing_alg_keeps_the_old_key_verifying_until_its_tokens_expire() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = common::config(temp.path());
    config.issuer = Some("http://tessera.test".into());
    let first = TestServer::start_with(config.clone()).await;
    let secret = first.add_client("svc", &[GrantType::ClientCredentials], &[], &["api"]).await;
    let resource = first.add_client("rs", &[GrantType::ClientCredentials], &[], &[]).await;
    let es256_token = client_credentials_token(&first, &secret).await;
    let es256_kid = header(&es256_token)["kid"].as_str().unwrap().to_owned();
    first.stop().await;

    config.tokens.signing_alg = "EdDSA".into();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let second = TestServer::start_with(config).await;
    let master = master_key(&second);
    maintain_once(&second.state, &master, false).await.unwrap();
    let new_token = client_credentials_token(&second, &secret).await;
    assert_eq!(header(&new_token)["alg"], "EdDSA");
    let keys = second.state.store.signing_keys().await.unwrap();
    let old = keys.iter().find(|k| k.kid.as_str() == es256_kid).unwrap();
    assert_eq!(old.state, KeyState::Retired, "the old algorithm's key signs nothing more");
    assert!(old.retire_after.unwrap().unix() >= second.state.now().unix() + 900, "kept for the access-token lifetime");
    assert!(kids(&second.get("/.well-known/jwks.json", None).await.1).contains(&es256_kid));
    assert!(active(&second, &es256_token, &resource).await, "an ES256 token issued before the change still verifies");
    assert!(active(&second, &new_token, &resource).await);
    second.stop().await;
}

//! Key rotation reaches a running server: the next key is published before it signs, then
//! signs, and the retired key keeps verifying what it signed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{TestServer, header};
use serde_json::Value;
use tessera_core::audit::MemoryAuditSink;
use tessera_core::client::GrantType;
use tessera_core::key_ring::rotate_signing_key;
use tessera_core::master_key::MasterKey;
use tessera_jose::Algorithm;
use tessera_server::app::maintain_once;

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

//! A restart keeps keys, users, clients and grants: state that a response
//! acknowledged is durable.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::TestServer;
use serde_json::{Value, json};
use tessera_core::model::client::GrantType;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_keys_users_clients_and_refresh_families() {
    let temp = tempfile::tempdir().unwrap();
    let first = TestServer::start_with(common::config(temp.path())).await;
    first.add_user("alice@example.com", "correct horse battery").await;
    let secret = first.add_client("svc", &[GrantType::ClientCredentials], &[], &["api"]).await;
    let login = first.login("alice@example.com", "correct horse battery").await;
    let jwks_before: Value = first.get("/.well-known/jwks.json", None).await.1;
    let old_access = login["access_token"].as_str().unwrap().to_owned();
    first.stop().await;
    let master_key = std::fs::metadata(temp.path().join("master.key")).unwrap();
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&master_key.permissions()) & 0o777, 0o600);

    let mut config = common::config(temp.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let second = TestServer::start_with(config).await;
    let jwks_after: Value = second.get("/.well-known/jwks.json", None).await.1;
    // The audit queue was drained at shutdown: the first run's login is on record.
    let events = tessera_core::model::audit::AuditStore::audit_tail(&*second.state.store, 100).await.unwrap();
    assert!(events.iter().any(|e| e.kind.as_str() == "login.succeeded"), "{events:?}");
    assert_eq!(jwks_before, jwks_after, "same signing keys after a restart");
    let (status, body, _) = second.post_json("/auth/refresh", json!({"refresh_token": login["refresh_token"]})).await;
    assert_eq!(status, 200, "the grant survived: {body}");
    let (status, _, _) =
        second.post_form("/oauth/token", &[("grant_type", "client_credentials")], Some(("svc", &secret))).await;
    assert_eq!(status, 200, "the client and its secret survived");
    second.login("alice@example.com", "correct horse battery").await;
    // The issuer is per listen address here, so the old token's iss differs; its signature
    // still verifies with the same key set.
    let kid = common::header(&old_access)["kid"].as_str().unwrap().to_owned();
    assert!(jwks_after["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid));
    second.stop().await;
}

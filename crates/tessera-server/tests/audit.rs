//! What the server audits, as stored once the queue is drained: client-credentials issuance,
//! and failed logins with the typed username only when it is an account name.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::TestServer;
use serde_json::json;
use tessera_core::model::client::GrantType;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_are_audited_and_a_typed_password_never_is() {
    let server = TestServer::start().await;
    let secret = server.add_client("svc", &[GrantType::ClientCredentials], &["orders:read"], &["api"]).await;
    for _ in 0..3 {
        let (status, body, _) = server
            .post_form(
                "/oauth/token",
                &[("grant_type", "client_credentials"), ("scope", "orders:read")],
                Some(("svc", &secret)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for username in ["my secret passphrase", "nobody@example.com"] {
        let (status, _, _) =
            server.post_json("/auth/login", json!({"username": username, "password": "wrong one"})).await;
        assert_eq!(status, 400);
    }
    let store = Arc::clone(&server.state.store);
    server.stop().await;

    let events = store.audit_tail(100).await.unwrap();
    let issued = events.iter().find(|e| e.kind.as_str() == "token.client_credentials").expect("issuance audited");
    assert_eq!(issued.client_id.as_ref().map(|c| c.as_str()), Some("svc"));
    assert_eq!(issued.details.as_map()["scope"], "orders:read");
    // Counted, not one row per token: the shutdown flush writes the count.
    assert_eq!(issued.details.as_map()["tokens_issued"], 3);
    assert_eq!(events.iter().filter(|e| e.kind.as_str() == "token.client_credentials").count(), 1);
    let failed: Vec<_> = events.iter().filter(|e| e.kind.as_str() == "login.failed").collect();
    assert_eq!(failed.len(), 2);
    let all = format!("{events:?}");
    assert!(!all.contains("my secret passphrase"), "a typed password reached the audit table");
    assert!(failed[0].details.as_map()["username"]["hmac_sha256"].is_string(), "{:?}", failed[0].details);
    assert_eq!(failed[1].details.as_map()["username"], "nobody@example.com");
}

//! Every endpoint over real HTTP against a fresh server: the success paths and the failures a
//! client relies on.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{TestServer, claims, header};
use serde_json::{Value, json};
use tessera_core::model::client::GrantType;
use tessera_jose::{KeySet, Validator};

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery";

async fn server_with_alice() -> TestServer {
    let server = TestServer::start().await;
    server.add_user(EMAIL, PASSWORD).await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_documents_list_what_exists_and_jwks_is_cacheable() {
    let server = TestServer::start().await;
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let (status, doc, _) = server.get(path, None).await;
        assert_eq!(status, 200);
        assert_eq!(doc["issuer"], server.base);
        for endpoint in [
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "introspection_endpoint",
            "userinfo_endpoint",
            "end_session_endpoint",
            "jwks_uri",
        ] {
            let url = doc[endpoint].as_str().unwrap();
            let response = server.http.get(url).send().await.unwrap();
            assert_ne!(response.status().as_u16(), 404, "{endpoint} {url} must exist");
        }
        // OpenID Connect Discovery 1.0 §3: every REQUIRED member.
        for required in ["response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"]
        {
            assert!(doc[required].as_array().is_some_and(|a| !a.is_empty()), "{required}");
        }
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert!(doc["id_token_signing_alg_values_supported"].as_array().unwrap().contains(&"RS256".into()));
    }
    let response = server.http.get(server.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let etag = response.headers()["etag"].clone();
    let jwks: Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(algs.contains(&"ES256") && algs.contains(&"RS256"), "{algs:?}");
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "private member {private} published");
        }
    }
    let again =
        server.http.get(server.url("/.well-known/jwks.json")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_issues_an_rfc9068_access_token_and_a_refresh_token() {
    let server = server_with_alice().await;
    let (status, body, headers) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(header(token)["typ"], "at+jwt");
    assert_eq!(header(token)["alg"], "ES256");
    let c = claims(token);
    for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "sid", "auth_time", "acr", "amr"] {
        assert!(c.get(claim).is_some(), "missing {claim}: {c}");
    }
    assert_eq!(c["iss"], server.base);
    assert_eq!(c["client_id"], "tessera");
    assert_eq!(c["amr"], json!(["pwd"]));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    assert!(c.get("email").is_none() && c.get("password").is_none(), "no personal data beyond the claims");
    // Any service validates it offline from the JWKS.
    let jwks = server.http.get(server.url("/.well-known/jwks.json")).send().await.unwrap().bytes().await.unwrap();
    let validator = Validator::builder(KeySet::from_jwks_json(&jwks).unwrap())
        .algorithm(tessera_jose::Algorithm::ES256)
        .typ("at+jwt")
        .issuer(&server.base)
        .audience(&server.base)
        .build()
        .unwrap();
    validator.validate::<Value>(token, c["iat"].as_i64().unwrap()).unwrap();
    // openid was granted (the first-party client's scopes): an ID token of the same session.
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(header(body["id_token"].as_str().unwrap())["alg"], "RS256");
    assert_eq!((&id["sub"], &id["sid"], &id["aud"]), (&c["sub"], &c["sid"], &json!("tessera")));
    let (_, without, _) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD, "scope": "email"})).await;
    assert!(without.get("id_token").is_none(), "no openid, no ID token: {without}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_look_the_same_and_bad_input_names_the_field() {
    let server = server_with_alice().await;
    let (wrong_status, wrong, _) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": "nope nope"})).await;
    let (unknown_status, unknown, _) =
        server.post_json("/auth/login", json!({"username": "bob@example.com", "password": "nope nope"})).await;
    assert_eq!((wrong_status, unknown_status), (400, 400));
    assert_eq!(wrong, unknown, "the body does not tell whether the account exists");
    assert_eq!(wrong["error"], "invalid_grant");
    let (status, body, _) = server.post_json("/auth/login", json!({"username": EMAIL})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"].as_str().unwrap().contains("password"), "{body}");
    let response = server
        .http
        .post(server.url("/auth/login"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, body, _) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD, "scope": "admin"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    let (status, body, _) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD, "client_id": "nobody"})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limits_per_account_and_per_ip() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = common::config(temp.path());
    config.rate_limit.login_per_account = 3;
    config.rate_limit.login_per_ip = 6;
    let server = TestServer::start_with(config).await;
    server.add_user(EMAIL, PASSWORD).await;
    for _ in 0..3 {
        let (status, _, _) =
            server.post_json("/auth/login", json!({"username": EMAIL, "password": "wrong wrong"})).await;
        assert_eq!(status, 400);
    }
    let (status, body, headers) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD})).await;
    assert_eq!(status, 429, "{body}");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    // Another account from the same address still works until the address limit.
    server.add_user("carol@example.com", PASSWORD).await;
    let (status, _, _) =
        server.post_json("/auth/login", json!({"username": "carol@example.com", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    let (status, _, _) =
        server.post_json("/auth/login", json!({"username": "carol@example.com", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    let (status, _, headers) =
        server.post_json("/auth/login", json!({"username": "carol@example.com", "password": PASSWORD})).await;
    assert_eq!(status, 429, "the seventh attempt from one IP");
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let server = server_with_alice().await;
    let first = server.login(EMAIL, PASSWORD).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, second, _) = server.post_json("/auth/refresh", json!({"refresh_token": r1})).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_eq!(
        claims(second["access_token"].as_str().unwrap())["sid"],
        claims(first["access_token"].as_str().unwrap())["sid"]
    );
    // r1 again: reuse. The family dies, r2 with it.
    let (status, body, _) = server.post_json("/auth/refresh", json!({"refresh_token": r1})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _, _) = server.post_json("/auth/refresh", json!({"refresh_token": r2})).await;
    assert_eq!(status, 400, "the whole family is revoked");
    let kinds = wait_for_audit(&server, "refresh.reused").await;
    assert!(kinds.contains(&"refresh.rotated".to_owned()));
    let (status, body, _) = server.post_json("/auth/refresh", json!({"refresh_token": "not a token"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

/// Polls the audit table (writes are batched off the request path) until `kind` appears.
async fn wait_for_audit(server: &TestServer, kind: &str) -> Vec<String> {
    for _ in 0..100 {
        let events = server.state.store.audit_tail(500).await.unwrap();
        let kinds: Vec<String> = events.iter().map(|e| e.kind.as_str().to_owned()).collect();
        if kinds.iter().any(|k| k == kind) {
            return kinds;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events = server.state.store.audit_tail(500).await.unwrap();
    panic!("no {kind} audit event in {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_dozens_of_concurrent_refreshes_exactly_one_succeeds() {
    let server = server_with_alice().await;
    let refresh = server.login(EMAIL, PASSWORD).await["refresh_token"].as_str().unwrap().to_owned();
    let attempts = (0..40).map(|_| {
        let http = server.http.clone();
        let url = server.url("/auth/refresh");
        let body = json!({"refresh_token": refresh});
        tokio::spawn(async move { http.post(url).json(&body).send().await.unwrap().status().as_u16() })
    });
    let statuses: Vec<u16> = futures_join(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 39, "{statuses:?}");
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_basic_and_post_and_every_refusal() {
    let server = TestServer::start().await;
    let secret = server
        .add_client("orders-svc", &[GrantType::ClientCredentials], &["orders:read", "orders:write"], &["api://orders"])
        .await;
    let form = [("grant_type", "client_credentials"), ("scope", "orders:read")];
    let (status, body, headers) = server.post_form("/oauth/token", &form, Some(("orders-svc", &secret))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.get("refresh_token").is_none());
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        (c["sub"].as_str(), c["client_id"].as_str(), c["scope"].as_str()),
        (Some("orders-svc"), Some("orders-svc"), Some("orders:read"))
    );
    assert_eq!(c["aud"], json!(["api://orders"]));
    assert!(c.get("sid").is_none());
    let post = [("grant_type", "client_credentials"), ("client_id", "orders-svc"), ("client_secret", secret.as_str())];
    assert_eq!(server.post_form("/oauth/token", &post, None).await.0, 200);

    let (status, body, headers) = server.post_form("/oauth/token", &form, Some(("orders-svc", "wrong"))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let wrong_post = [("grant_type", "client_credentials"), ("client_id", "orders-svc"), ("client_secret", "wrong")];
    assert_eq!(server.post_form("/oauth/token", &wrong_post, None).await.0, 401);
    let (status, body, _) = server.post_form("/oauth/token", &form, Some(("nobody", "x"))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let (status, body, _) = server
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("scope", "admin")],
            Some(("orders-svc", &secret)),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    let (status, body, _) = server.post_form("/oauth/token", &[("scope", "x")], Some(("orders-svc", &secret))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    assert!(body["error_description"].as_str().unwrap().contains("grant_type"));
    let (status, body, _) =
        server.post_form("/oauth/token", &[("grant_type", "authorization_code")], Some(("orders-svc", &secret))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
    for grant in ["password", "urn:example:nope"] {
        let (status, body, _) =
            server.post_form("/oauth/token", &[("grant_type", grant)], Some(("orders-svc", &secret))).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")), "{grant}");
    }
    let (status, body, _) = server
        .post_form(
            "/oauth/token",
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            Some(("orders-svc", &secret)),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
    // Both Basic and a form secret: refused.
    let (status, _, _) = server.post_form("/oauth/token", &post, Some(("orders-svc", &secret))).await;
    assert_eq!(status, 400);
    wait_for_audit(&server, "client.authentication_failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_grant_at_the_token_endpoint_for_a_public_client() {
    let server = server_with_alice().await;
    let refresh = server.login(EMAIL, PASSWORD).await["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "tessera"),
        ("scope", "openid"),
    ];
    let (status, body, _) = server.post_form("/oauth/token", &form, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid", "narrowed");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ("client_id", "tessera"),
        ("scope", "openid admin"),
    ];
    let (status, body, _) = server.post_form("/oauth/token", &form, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_revocation_logout_and_userinfo() {
    let server = server_with_alice().await;
    let rs_secret = server.add_client("resource", &[GrantType::ClientCredentials], &[], &[]).await;
    let rs = Some(("resource", rs_secret.as_str()));
    let login = server.login(EMAIL, PASSWORD).await;
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();

    let (status, body, _) = server.post_form("/oauth/introspect", &[("token", &access)], rs).await;
    assert_eq!((status, body["active"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(body["client_id"], "tessera");
    assert_eq!(server.post_form("/oauth/introspect", &[("token", "garbage")], rs).await.1, json!({"active": false}));
    assert_eq!(
        server.post_form("/oauth/introspect", &[("token", &refresh)], rs).await.1["active"],
        false,
        "not its refresh token"
    );
    let (status, body, _) =
        server.post_form("/oauth/introspect", &[("token", &access), ("client_id", "tessera")], None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "public clients do not introspect"
    );
    assert_eq!(server.post_form("/oauth/introspect", &[], rs).await.0, 400);

    for path in ["/oauth/userinfo", "/api/userinfo"] {
        let (status, body, _) = server.get(path, Some(&access)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["email"], EMAIL);
        assert_eq!(body["name"], "Test User");
    }
    let (status, _, headers) = server.get("/oauth/userinfo", None).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let (status, body, headers) = server.get("/oauth/userinfo", Some("abc.def.ghi")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    assert!(headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));

    // Revoke the access token: introspection and userinfo see it at once.
    let (status, _, _) = server.post_form("/oauth/revoke", &[("token", &access), ("client_id", "tessera")], None).await;
    assert_eq!(status, 200);
    assert_eq!(server.post_form("/oauth/introspect", &[("token", &access)], rs).await.1["active"], false);
    assert_eq!(server.get("/oauth/userinfo", Some(&access)).await.0, 401);
    assert_eq!(server.post_form("/oauth/revoke", &[("token", "unknown"), ("client_id", "tessera")], None).await.0, 200);
    let (status, _, _) = server.post_form("/oauth/revoke", &[("token", &refresh)], rs).await;
    assert_eq!(status, 200, "another client's refresh token: nothing happens");
    assert_eq!(server.post_json("/auth/refresh", json!({"refresh_token": refresh})).await.0, 200, "still valid");

    // Logout with a bearer token ends the session: its grant and its access tokens.
    let login = server.login(EMAIL, PASSWORD).await;
    let access = login["access_token"].as_str().unwrap().to_owned();
    let response = server.http.post(server.url("/auth/logout")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(server.post_json("/auth/refresh", json!({"refresh_token": login["refresh_token"]})).await.0, 400);
    assert_eq!(server.get("/oauth/userinfo", Some(&access)).await.0, 401);

    // Logout with the refresh token.
    let login = server.login(EMAIL, PASSWORD).await;
    let (status, _, _) = server.post_json("/auth/logout", json!({"refresh_token": login["refresh_token"]})).await;
    assert_eq!(status, 204);
    assert_eq!(
        server.post_form("/oauth/introspect", &[("token", login["access_token"].as_str().unwrap())], rs).await.1["active"],
        false
    );
    assert_eq!(server.post_json("/auth/logout", json!({})).await.0, 400);

    // A client registered without audience or scope still gets a valid RFC 9068 token: `aud`
    // is the issuer, `scope` is left out. It introspects as active; it has no user for userinfo.
    let cc = server.post_form("/oauth/token", &[("grant_type", "client_credentials")], rs).await.1;
    let cc = cc["access_token"].as_str().unwrap();
    assert_eq!(claims(cc)["aud"], json!([server.base]));
    assert!(claims(cc).get("scope").is_none(), "no empty scope claim");
    let (status, body, _) = server.post_form("/oauth/introspect", &[("token", cc)], rs).await;
    assert_eq!((status, body["active"].as_bool()), (200, Some(true)), "{body}");
    let (status, body, _) = server.get("/oauth/userinfo", Some(cc)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_revokes_everything_at_once() {
    let server = server_with_alice().await;
    let login = server.login(EMAIL, PASSWORD).await;
    tessera_core::flows::account_admin::disable_account(
        &*server.state.store,
        &tessera_core::model::audit::MemoryAuditSink::default(),
        EMAIL,
        900,
        server.state.now(),
    )
    .await
    .unwrap();
    assert_eq!(server.get("/api/userinfo", Some(login["access_token"].as_str().unwrap())).await.0, 401);
    assert_eq!(server.post_json("/auth/refresh", json!({"refresh_token": login["refresh_token"]})).await.0, 400);
    assert_eq!(server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD})).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints_and_limits() {
    let server = TestServer::start().await;
    assert_eq!(server.http.get(server.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(server.http.get(server.url("/readyz")).send().await.unwrap().status(), 200);
    server.get("/.well-known/jwks.json", None).await;
    let metrics = server.http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tessera_http_request_duration_seconds"), "{metrics}");
    assert_eq!(server.http.get(server.url("/nope")).send().await.unwrap().status(), 404);
    let big = "x".repeat(100 * 1024);
    let response = server
        .http
        .post(server.url("/auth/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let response = server.http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rows_and_log_carry_no_secret() {
    let server = server_with_alice().await;
    let secret = server.add_client("svc", &[GrantType::ClientCredentials], &[], &[]).await;
    let login = server.login(EMAIL, PASSWORD).await;
    let refresh = login["refresh_token"].as_str().unwrap();
    server.post_json("/auth/refresh", json!({"refresh_token": refresh})).await;
    server.post_json("/auth/refresh", json!({"refresh_token": refresh})).await;
    server.post_json("/auth/login", json!({"username": EMAIL, "password": "Tr0ub4dor&3-guess"})).await;
    server.post_form("/oauth/token", &[("grant_type", "client_credentials")], Some(("svc", "bad-secret-value"))).await;
    wait_for_audit(&server, "client.authentication_failed").await;
    wait_for_audit(&server, "refresh.reused").await;
    let events = server.state.store.audit_tail(100).await.unwrap();
    let text = format!("{events:?}");
    for secret_text in [
        PASSWORD,
        "Tr0ub4dor&3-guess",
        refresh,
        secret.as_str(),
        "bad-secret-value",
        login["access_token"].as_str().unwrap(),
    ] {
        assert!(!text.contains(secret_text), "audit holds a secret: {secret_text} in {text}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["login.succeeded", "login.failed", "refresh.rotated", "refresh.reused", "client.authentication_failed"]
    {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

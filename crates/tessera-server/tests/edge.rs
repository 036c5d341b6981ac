//! The connection edge and the login limits over real sockets: exact limits under
//! concurrency, client addresses through trusted proxies only, bounded memory, slow clients,
//! duplicate credentials, and native TLS.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use tessera_server::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery";
/// An upper bound for waits that only a hang would reach (never an assertion on timing).
const HANG: Duration = Duration::from_secs(30);

fn config(temp: &tempfile::TempDir) -> Config {
    common::config(temp.path())
}

fn behind_proxy(temp: &tempfile::TempDir) -> Config {
    let mut config = config(temp);
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    config
}

async fn login_from(server: &TestServer, forwarded_for: &str, username: &str, password: &str) -> (u16, Value) {
    let response = server
        .http
        .post(server.url("/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let (status, body, _) = common::split(response).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_from_many_addresses_check_exactly_the_ceiling() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = behind_proxy(&temp);
    config.rate_limit.login_per_account_total = 5;
    let server = TestServer::start_with(config).await;
    server.add_user(EMAIL, PASSWORD).await;
    let attempts = (0..40).map(|i| {
        let server = &server;
        async move { login_from(server, &format!("203.0.113.{i}"), EMAIL, "wrong wrong").await }
    });
    let results = futures_join_all(attempts).await;
    let checked = results.iter().filter(|(status, _)| *status == 400).count();
    let limited = results.iter().filter(|(status, _)| *status == 429).count();
    assert_eq!((checked, limited), (5, 35), "{results:?}");
    // The owner is now limited from everywhere until the window ends: the ceiling is exact.
    let (status, _) = login_from(&server, "198.51.100.1", EMAIL, PASSWORD).await;
    assert_eq!(status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_right_passwords_beyond_the_limit_wait_instead_of_being_refused() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.rate_limit.login_per_account = 2;
    let server = TestServer::start_with(config).await;
    server.add_user(EMAIL, PASSWORD).await;
    let attempts = (0..8).map(|_| {
        let server = &server;
        async move { server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD})).await.0 }
    });
    let statuses = futures_join_all(attempts).await;
    assert_eq!(statuses, [200; 8], "deciding attempts fill the limit only until they succeed");
}

/// `join_all` without the futures crate: spawn-free, all polled at once by one task.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_lock_the_owner_out() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = behind_proxy(&temp);
    config.rate_limit.login_per_account = 3;
    let server = TestServer::start_with(config).await;
    server.add_user(EMAIL, PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(login_from(&server, "203.0.113.9", EMAIL, "wrong wrong").await.0, 400);
    }
    let (status, body) = login_from(&server, "203.0.113.9", EMAIL, PASSWORD).await;
    assert_eq!(status, 429, "the guesser's address is limited: {body}");
    let (status, body) = login_from(&server, "198.51.100.7", EMAIL, PASSWORD).await;
    assert_eq!(status, 200, "the owner elsewhere is not: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let temp = tempfile::tempdir().unwrap();
    let mut untrusted = config(&temp);
    untrusted.rate_limit.login_per_ip = 2;
    let server = TestServer::start_with(untrusted).await;
    // The peer is not a trusted proxy: its forwarded addresses are ignored, so all three
    // attempts come from 127.0.0.1.
    assert_eq!(login_from(&server, "203.0.113.1", EMAIL, "x").await.0, 400);
    assert_eq!(login_from(&server, "203.0.113.2", EMAIL, "x").await.0, 400);
    assert_eq!(login_from(&server, "203.0.113.3", EMAIL, "x").await.0, 429);
    drop(server);

    let temp = tempfile::tempdir().unwrap();
    let mut trusted = behind_proxy(&temp);
    trusted.rate_limit.login_per_ip = 2;
    let server = TestServer::start_with(trusted).await;
    // RFC 7239 `Forwarded` is read too, and wins over X-Forwarded-For.
    let forwarded = |client: &'static str| {
        server
            .http
            .post(server.url("/auth/login"))
            .header("forwarded", format!("for={client}"))
            .header("x-forwarded-for", "198.51.100.1")
            .json(&json!({"username": EMAIL, "password": "x"}))
            .send()
    };
    for client in ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"] {
        assert_eq!(forwarded(client).await.unwrap().status(), 400, "{client}");
    }
    assert_eq!(forwarded("203.0.113.1").await.unwrap().status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_the_forwarded_client_address() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(behind_proxy(&temp)).await;
    server.add_user(EMAIL, PASSWORD).await;
    login_from(&server, "198.51.100.1, 203.0.113.77", EMAIL, "wrong wrong").await;
    login_from(&server, "203.0.113.78", EMAIL, PASSWORD).await;
    for _ in 0..200 {
        // Called through the trait by name: the store's type differs between branches.
        let events = tessera_core::model::audit::AuditStore::audit_tail(&*server.state.store, 50).await.unwrap();
        let ips: Vec<(&str, Option<&str>)> = events.iter().map(|e| (e.kind.as_str(), e.ip.as_deref())).collect();
        let kinds: Vec<&str> = ips.iter().map(|(kind, _)| *kind).collect();
        if kinds.contains(&"login.failed") && kinds.contains(&"login.succeeded") {
            assert!(ips.contains(&("login.failed", Some("203.0.113.77"))), "{ips:?}");
            assert!(ips.contains(&("login.succeeded", Some("203.0.113.78"))), "{ips:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the audit events were never written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_addresses_in_one_64_share_a_counter() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = behind_proxy(&temp);
    config.rate_limit.login_per_ip = 2;
    let server = TestServer::start_with(config).await;
    assert_eq!(login_from(&server, "2001:db8:1:2::1", EMAIL, "x").await.0, 400);
    assert_eq!(login_from(&server, "2001:db8:1:2:aaaa::2", EMAIL, "x").await.0, 400);
    assert_eq!(login_from(&server, "2001:db8:1:2:ffff:ffff:ffff:ffff", EMAIL, "x").await.0, 429, "same /64");
    assert_eq!(login_from(&server, "2001:db8:1:3::1", EMAIL, "x").await.0, 400, "another /64");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlong_username_is_refused_and_not_counted() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.rate_limit.login_per_ip = 2;
    let server = TestServer::start_with(config).await;
    let long = format!("{}@example.com", "a".repeat(60 * 1024));
    for _ in 0..5 {
        let (status, body, _) = server.post_json("/auth/login", json!({"username": long, "password": "x"})).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
        assert!(body["error_description"].as_str().unwrap().contains("username"), "{body}");
    }
    let limits = &server.state.limits;
    assert!(limits.per_ip.is_empty() && limits.per_account.is_empty() && limits.per_account_address.is_empty());
    let at_the_limit = format!("{}@example.com", "a".repeat(254 - 12));
    for _ in 0..2 {
        let (status, _, _) = server.post_json("/auth/login", json!({"username": at_the_limit, "password": "x"})).await;
        assert_eq!(status, 400, "254 bytes is still an account name, checked and counted");
    }
    assert_eq!(limits.per_account.len(), 1, "one key, however long the name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_password_queue_answers_503_with_retry_after() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.http.password_queue = 0;
    let server = TestServer::start_with(config).await;
    server.add_user(EMAIL, PASSWORD).await;
    let held: Vec<_> = std::iter::from_fn(|| server.state.passwords.admit()).collect();
    assert!(!held.is_empty());
    let (status, body, headers) =
        server.post_json("/auth/login", json!({"username": EMAIL, "password": PASSWORD})).await;
    assert_eq!(status, 503, "{body}");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(server.state.limits.per_ip.is_empty(), "a refused login is not counted");
    drop(held);
    server.login(EMAIL, PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_authorization_header_is_refused() {
    let server = TestServer::start().await;
    server.add_user(EMAIL, PASSWORD).await;
    let access = server.login(EMAIL, PASSWORD).await["access_token"].as_str().unwrap().to_owned();
    let response = server
        .http
        .get(server.url("/oauth/userinfo"))
        .header("authorization", format!("Bearer {access}"))
        .header("authorization", "Bearer another")
        .send()
        .await
        .unwrap();
    let (status, body, _) = common::split(response).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("Authorization"), "{body}");

    // A bearer token in the header and in the body (RFC 6750 §2: one method only).
    let response = server
        .http
        .post(server.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    let (status, body, _) = common::split(response).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("access_token"), "{body}");
    // The body alone is a valid method.
    let response =
        server.http.post(server.url("/oauth/userinfo")).form(&[("access_token", access.as_str())]).send().await;
    assert_eq!(response.unwrap().status(), 200);

    // Client authentication: Basic plus a second Authorization.
    let secret =
        server.add_client("svc", &[tessera_core::model::client::GrantType::ClientCredentials], &[], &["api"]).await;
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth("svc", Some(&secret))
        .header("authorization", "Basic c3ZjOm5vcGU=")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth("svc", Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "one header is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_parses_its_body_like_its_siblings() {
    let server = TestServer::start().await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        server.http.post(server.url("/auth/logout")).header("content-type", content_type).body(body).send()
    };
    let (status, body, _) =
        common::split(post("text/plain", b"{\"refresh_token\":\"x\"}".to_vec()).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (415, Some("invalid_request")), "{body}");
    let huge = format!("{{\"refresh_token\":\"{}\"}}", "a".repeat(70 * 1024)).into_bytes();
    let (status, body, _) = common::split(post("application/json", huge).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("invalid_request")), "a JSON error: {body}");
    let (status, body, _) =
        common::split(post("application/json", b"{\"refresh_token\":5}".to_vec()).await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("refresh_token"), "{body}");
    // An empty body with no token at all still names what is missing.
    let (status, body, _) = common::split(server.http.post(server.url("/auth/logout")).send().await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
}

/// Reads until the server closes the connection; what it sent before.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(HANG, stream.read_to_end(&mut received))
        .await
        .expect("the server never closed the connection")
        .ok();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_and_the_cap_makes_others_wait_not_fail() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.http.header_read_timeout = Duration::from_secs(1);
    config.http.max_connections = 4;
    let server = TestServer::start_with(config).await;
    let mut slow = Vec::new();
    for _ in 0..12 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        slow.push(stream);
    }
    // Past the cap the slow connections wait in the backlog; as each is cut for its slow
    // head, the next is let in, and then /healthz.
    let health = tokio::time::timeout(HANG, server.http.get(server.url("/healthz")).send())
        .await
        .expect("/healthz never answered")
        .unwrap();
    assert_eq!(health.status(), 200);
    for stream in &mut slow {
        let received = read_until_closed(stream).await;
        assert!(!received.contains("200 OK"), "a partial head is never served: {received}");
    }
}

/// Sends one `GET /healthz` on a kept-alive connection and reads its response.
async fn healthz_kept_alive(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !received.ends_with(b"ok") {
        let n = tokio::time::timeout(HANG, stream.read(&mut buffer)).await.expect("no response").unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_a_connection_waits_for_a_free_slot() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.http.header_read_timeout = Duration::from_secs(3600);
    config.http.idle_timeout = Duration::from_secs(3600);
    config.http.max_connections = 2;
    let server = TestServer::start_with(config).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    assert!(healthz_kept_alive(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(healthz_kept_alive(&mut second).await.starts_with("HTTP/1.1 200"));
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    // Not served while both slots are held (this can only pass wrongly, never fail wrongly).
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buffer)).await;
    assert!(early.is_err(), "a third connection was served past the cap of two");
    drop(first);
    let n = tokio::time::timeout(HANG, third.read(&mut buffer)).await.expect("never served").unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_by_the_body_deadline() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.http.body_read_timeout = Duration::from_secs(1);
    let server = TestServer::start_with(config).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    let received = read_until_closed(&mut stream).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("\"error\":\"invalid_request\""), "a JSON error: {received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_by_the_idle_timeout() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.http.header_read_timeout = Duration::from_secs(3600);
    config.http.idle_timeout = Duration::from_secs(1);
    let server = TestServer::start_with(config).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // One request on a kept-alive connection, then silence.
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let received = read_until_closed(&mut stream).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connections_still_open_after_the_grace() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.http.header_read_timeout = Duration::from_secs(3600);
    config.http.idle_timeout = Duration::from_secs(3600);
    config.http.shutdown_grace = Duration::from_secs(1);
    let server = TestServer::start_with(config).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    let stopped = tokio::time::timeout(HANG, server.stop()).await;
    assert!(stopped.is_ok(), "the drain has a deadline");
    let received = read_until_closed(&mut stream).await;
    assert!(!received.contains("200 OK"), "{received}");
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

/// A client that trusts `cert_pem` and nothing else.
fn trusting(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

async fn tls_server() -> (TestServer, tempfile::TempDir, String) {
    let temp = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    std::fs::write(temp.path().join("cert.pem"), &cert).unwrap();
    std::fs::write(temp.path().join("key.pem"), &key).unwrap();
    let mut config = config(&temp);
    config.tls.cert = Some(temp.path().join("cert.pem"));
    config.tls.key = Some(temp.path().join("key.pem"));
    (TestServer::start_with(config).await, temp, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_tls_serves_https_with_hsts_and_an_https_issuer() {
    let (server, _temp, cert) = tls_server().await;
    assert!(server.base.starts_with("https://"));
    let client = trusting(&cert);
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
    let discovery: Value =
        client.get(server.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["issuer"], format!("https://{}", server.addr));
    // Plain HTTP on the TLS port is not served.
    let plain = server.http.get(format!("http://{}/healthz", server.addr)).send().await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_server_sends_no_hsts() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url("/healthz")).send().await.unwrap();
    assert!(response.headers().get("strict-transport-security").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_swaps_the_certificate_and_a_failed_one_keeps_it() {
    let (server, temp, old_cert) = tls_server().await;
    let tls = server.tls.clone().unwrap();
    assert_eq!(trusting(&old_cert).get(server.url("/healthz")).send().await.unwrap().status(), 200);

    std::fs::write(temp.path().join("key.pem"), "not a key").unwrap();
    let error = tls.reload().unwrap_err().to_string();
    assert!(error.contains("tls.key"), "{error}");
    assert_eq!(
        trusting(&old_cert).get(server.url("/healthz")).send().await.unwrap().status(),
        200,
        "a failed reload keeps the certificate in use"
    );

    let (new_cert, new_key) = self_signed();
    std::fs::write(temp.path().join("cert.pem"), &new_cert).unwrap();
    std::fs::write(temp.path().join("key.pem"), &new_key).unwrap();
    tls.reload().unwrap();
    assert_eq!(trusting(&new_cert).get(server.url("/healthz")).send().await.unwrap().status(), 200);
    assert!(
        trusting(&old_cert).get(server.url("/healthz")).send().await.is_err(),
        "new handshakes present the new certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tls_file_without_the_other_stops_the_start_naming_it() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = config(&temp);
    config.tls.cert = Some(temp.path().join("cert.pem"));
    let error = tessera_server::app::prepare(config, None).await.err().unwrap().to_string();
    assert!(error.contains("tls.key"), "{error}");
    let mut config = common::config(temp.path());
    config.tls.key = Some(temp.path().join("key.pem"));
    let error = tessera_server::app::prepare(config, None).await.err().unwrap().to_string();
    assert!(error.contains("tls.cert"), "{error}");
    let mut config = common::config(temp.path());
    config.tls.cert = Some(temp.path().join("missing.pem"));
    config.tls.key = Some(temp.path().join("missing-key.pem"));
    let error = tessera_server::app::prepare(config, None).await.err().unwrap().to_string();
    assert!(error.contains("tls.cert") && error.contains("missing.pem"), "{error}");
}

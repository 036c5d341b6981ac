//! The security rules of the browser flow, one test each, black-box over HTTP: redirect URIs,
//! PKCE downgrades, single-use codes (also under concurrency), client binding, expiry, CSRF,
//! cookies, interaction binding, page headers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::TestServer;
use common::browser::{Browser, CHALLENGE, VERIFIER, authorize_url, query_of};
use serde_json::Value;
use tessera_core::clock::{Clock, TestClock, Timestamp};
use tessera_core::model::client::BrowserSettings;

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery";
const APP: &str = "https://app.example/cb";

struct World {
    server: TestServer,
    secret: String,
    clock: Arc<TestClock>,
}

async fn world() -> World {
    let temp = tempfile::tempdir().unwrap();
    let config = common::config(temp.path());
    let clock = Arc::new(TestClock::new(Timestamp::from_unix(1_900_000_000)));
    let mut server = TestServer::start_with_clock(config, Arc::clone(&clock) as Arc<dyn Clock>).await;
    server.keep_temp(temp);
    server.add_user(EMAIL, PASSWORD).await;
    let settings = BrowserSettings { first_party: true, ..BrowserSettings::default() };
    let secret = server.add_browser_client("app", true, APP, settings).await.unwrap();
    World { server, secret, clock }
}

impl World {
    async fn code(&self, browser: &mut Browser, extra: &[(&str, &str)]) -> String {
        let page = browser.authorize(&authorize_url("app", APP, extra), EMAIL, PASSWORD).await;
        query_of(&page.location().unwrap())["code"].clone()
    }

    async fn redeem(&self, code: &str, verifier: Option<&str>) -> (u16, Value) {
        self.server.redeem("app", Some(&self.secret), code, APP, verifier).await
    }

    async fn refresh_works(&self, tokens: &Value) -> bool {
        let form = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
        self.server.post_form("/oauth/token", &form, Some(("app", &self.secret))).await.0 == 200
    }

    async fn access_works(&self, tokens: &Value) -> bool {
        self.server.get("/oauth/userinfo", tokens["access_token"].as_str()).await.0 == 200
    }
}

#[tokio::test]
async fn redirect_uri_manipulations_get_an_error_page_and_never_a_redirect() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    for wrong in [
        "https://app.example/cb/extra",
        "https://app.example/cb?x=1",
        "https://app.example/cb#frag",
        "https://app.example.evil.example/cb",
        "https://app.example@evil.example/cb",
        "https://evil.example@app.example/cb",
        "http://app.example/cb",
        "https://app.example:8443/cb",
        "https://APP.EXAMPLE/cb",
        "https://app.example/CB",
        "https://app.example/cb/../cb",
        "https://app.example/%2e%2e/cb",
        "https://app.example/cb%2f",
        "",
    ] {
        let page = browser.get(&authorize_url("app", APP, &[("redirect_uri", wrong)])).await;
        assert_eq!(page.status, 400, "{wrong:?}");
        assert!(page.location().is_none(), "{wrong:?} must not redirect");
        assert!(page.body.contains("redirect_uri"), "{wrong:?}: the page names the parameter");
    }
    // An unknown client, or client_id twice: a page too.
    let page = browser.get(&authorize_url("nobody", APP, &[])).await;
    assert!(page.status == 400 && page.location().is_none());
    let twice = format!("{}&client_id=app", authorize_url("app", APP, &[]));
    assert!(browser.get(&twice).await.location().is_none());
}

#[tokio::test]
async fn errors_after_the_redirect_uri_go_back_with_state_and_iss() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 7] = [
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "")], "invalid_request"),
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("request", "eyJhbGciOiJub25lIn0.e30.")], "request_not_supported"),
        (&[("request_uri", "https://app.example/r")], "request_uri_not_supported"),
        (&[("prompt", "none login")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let page = browser.get(&authorize_url("app", APP, extra)).await;
        let location = page.location().unwrap_or_else(|| panic!("{extra:?}: {}", page.body));
        assert!(location.starts_with(APP), "{location}");
        let query = query_of(&location);
        assert_eq!(query["error"], error, "{extra:?}");
        assert_eq!(query["state"], "st-1");
        assert_eq!(query["iss"], world.server.base);
        assert!(query.contains_key("error_description"));
    }
    let repeated = format!("{}&scope=openid", authorize_url("app", APP, &[]));
    let query = query_of(&browser.get(&repeated).await.location().unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert!(query["error_description"].contains("scope"));
}

#[tokio::test]
async fn pkce_cannot_be_downgraded_either_way() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    // Issued with a challenge: the verifier is needed, and must be the right one.
    let code = world.code(&mut browser, &[]).await;
    assert_eq!(world.redeem(&code, None).await.1["error"], "invalid_grant");
    let wrong = "x".repeat(43);
    assert_eq!(world.redeem(&code, Some(&wrong)).await.1["error"], "invalid_grant");
    assert_eq!(world.redeem(&code, Some(VERIFIER)).await.0, 200, "failed tries do not burn the code");
    // Issued without one (a confidential client may): a verifier is refused.
    let bare = world.code(&mut browser, &[("code_challenge", ""), ("code_challenge_method", "")]).await;
    assert_eq!(world.redeem(&bare, Some(VERIFIER)).await.1["error"], "invalid_grant");
    assert_eq!(world.redeem(&bare, None).await.0, 200);
    // `plain` and a challenge without a method (which means plain) are refused at once.
    for extra in [[("code_challenge_method", "plain")], [("code_challenge_method", "")]] {
        let page = browser.get(&authorize_url("app", APP, &extra)).await;
        assert!(query_of(&page.location().unwrap())["error_description"].contains("S256"));
    }
    // A client registered --require-pkce cannot go without.
    let settings = BrowserSettings { require_pkce: true, first_party: true, ..BrowserSettings::default() };
    world.server.add_browser_client("strict", true, APP, settings).await;
    let page =
        browser.get(&authorize_url("strict", APP, &[("code_challenge", ""), ("code_challenge_method", "")])).await;
    assert_eq!(query_of(&page.location().unwrap())["error"], "invalid_request");
    let _ = CHALLENGE;
}

#[tokio::test]
async fn a_code_used_twice_fails_and_revokes_what_it_issued() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let code = world.code(&mut browser, &[]).await;
    let (status, tokens) = world.redeem(&code, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    assert!(world.access_works(&tokens).await);

    world.clock.advance(30); // oidcc-codereuse-30seconds
    let (status, body) = world.redeem(&code, Some(VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!world.access_works(&tokens).await, "the first redemption's access token is revoked");
    assert!(!world.refresh_works(&tokens).await, "and its refresh token");
    // The audit queue writes in batches off the request path: wait for it, within reason.
    let mut audited = false;
    for _ in 0..100 {
        let events = world.server.state.store.audit_tail(50).await.unwrap();
        if events.iter().any(|e| e.kind.as_str() == "code.reused") {
            audited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(audited, "audited as an incident");
}

#[tokio::test]
async fn of_twenty_concurrent_redemptions_exactly_one_wins_and_its_tokens_are_revoked() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let code = world.code(&mut browser, &[]).await;
    let world = Arc::new(world);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (world, code) = (Arc::clone(&world), code.clone());
            tokio::spawn(async move { world.redeem(&code, Some(VERIFIER)).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => winners.push(body),
            400 => assert_eq!(body["error"], "invalid_grant"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption succeeds");
    assert!(!world.access_works(&winners[0]).await, "the replays revoked the winner's access token");
    assert!(!world.refresh_works(&winners[0]).await, "and its refresh token");
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_its_redirect_uri_and_sixty_seconds() {
    let world = world().await;
    let settings = BrowserSettings { first_party: true, ..BrowserSettings::default() };
    let other = world.server.add_browser_client("other", true, APP, settings).await.unwrap();
    let mut browser = Browser::new(&world.server);

    let code = world.code(&mut browser, &[]).await;
    let (status, body) = world.server.redeem("other", Some(&other), &code, APP, Some(VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "client A's code at client B");
    let (status, _) =
        world.server.redeem("app", Some(&world.secret), &code, "https://app.example/other", Some(VERIFIER)).await;
    assert_eq!(status, 400, "another redirect_uri");
    assert_eq!(world.redeem(&code, Some(VERIFIER)).await.0, 200, "the rightful client still can");

    let code = world.code(&mut browser, &[]).await;
    world.clock.advance(61);
    assert_eq!(world.redeem(&code, Some(VERIFIER)).await.1["error"], "invalid_grant", "expired after 60 s");
}

#[tokio::test]
async fn the_login_form_needs_its_csrf_token_and_the_browser_that_opened_it() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let page = browser.visit(&authorize_url("app", APP, &[])).await;
    assert!(page.is_login_form());
    let action = page.form_action().unwrap();
    for csrf in ["", "forged-token"] {
        let answer = browser.post(&action, &[("csrf", csrf), ("email", EMAIL), ("password", PASSWORD)]).await;
        assert_eq!(answer.status, 400, "csrf {csrf:?}");
        assert!(!browser.cookies.contains_key("tessera_session"), "no session from a forged form");
    }
    // Login CSRF: the attacker's own form, posted from the victim's browser, does not log in.
    let mut victim = Browser::new(&world.server);
    let csrf = page.hidden("csrf").unwrap();
    let answer = victim.post(&action, &[("csrf", &csrf), ("email", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(answer.status, 400);
    assert!(!victim.cookies.contains_key("tessera_session"));
    let shown = victim.get(&action.replace("/login", "")).await;
    assert!(!shown.is_login_form(), "another browser cannot even open the interaction");
    // The rightful browser still can.
    let done = browser.login(&page, EMAIL, PASSWORD).await;
    assert!(done.location().unwrap().starts_with(APP));
}

#[tokio::test]
async fn cookies_and_page_headers() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let first = browser.get(&authorize_url("app", APP, &[])).await;
    let interaction = first.set_cookies().into_iter().find(|c| c.starts_with("tessera_interaction=")).unwrap();
    let page = browser.follow(first).await;
    for (name, value) in [
        ("content-security-policy", "frame-ancestors 'none'"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        let header = page.headers.get(name).unwrap_or_else(|| panic!("{name} missing")).to_str().unwrap();
        assert!(header.contains(value), "{name}: {header}");
    }
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(!page.body.contains("<script>"), "no inline script on the login page");

    let done = browser.login(&page, EMAIL, PASSWORD).await;
    let session = done.set_cookies().into_iter().find(|c| c.starts_with("tessera_session=")).unwrap();
    for cookie in [&interaction, &session] {
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        assert!(!cookie.contains("Secure"), "plain HTTP here; Secure is set over TLS");
    }
    let value = session.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 43, "256 random bits");
    let sid = tessera_core::model::session::SessionId::new(value);
    assert!(world.server.state.store.session(&sid).await.unwrap().is_none(), "the cookie is not the sid");
}

#[tokio::test]
async fn an_interaction_lasts_ten_minutes_and_completes_once() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let page = browser.visit(&authorize_url("app", APP, &[])).await;
    world.clock.advance(601);
    let late = browser.login(&page, EMAIL, PASSWORD).await;
    assert_eq!(late.status, 400);
    assert!(late.body.contains("expired"), "{}", late.body);

    let page = browser.visit(&authorize_url("app", APP, &[])).await;
    let done = browser.login(&page, EMAIL, PASSWORD).await;
    assert!(done.location().unwrap().starts_with(APP));
    let again = browser.login(&page, EMAIL, PASSWORD).await;
    assert_eq!(again.status, 400, "a completed interaction cannot issue a second code");
}

#[tokio::test]
async fn the_token_endpoint_takes_json_as_strictly_as_a_form() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let code = world.code(&mut browser, &[]).await;
    let send = |body: String, content_type: &'static str| {
        let request = world
            .server
            .http
            .post(world.server.url("/oauth/token"))
            .basic_auth("app", Some(&world.secret))
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let duplicate = format!(
        r#"{{"grant_type":"authorization_code","code":"{code}","code":"{code}","redirect_uri":"{APP}","code_verifier":"{VERIFIER}"}}"#
    );
    let (status, body) = send(duplicate, "application/json").await;
    assert_eq!(status, 400);
    assert!(body["error_description"].as_str().unwrap().contains("code"), "{body}");
    let (status, body) =
        send(format!(r#"{{"grant_type":"authorization_code","code":{}}}"#, 42), "application/json").await;
    assert_eq!(status, 400, "a number where a string belongs: {body}");
    let (status, _) = send(format!("grant_type=authorization_code&code={code}"), "text/plain").await;
    assert_eq!(status, 415);
    let json = serde_json::json!({
        "grant_type": "authorization_code", "code": code, "redirect_uri": APP, "code_verifier": VERIFIER,
    });
    let (status, body) = send(json.to_string(), "application/json; charset=utf-8").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn a_clients_registered_origin_may_call_the_browser_endpoints_and_nothing_else() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(common::config(temp.path())).await;
    let settings =
        BrowserSettings { allowed_origins: vec!["https://spa.example".into()], ..BrowserSettings::default() };
    server.add_browser_client("spa", false, "https://spa.example/cb", settings).await;
    // A registration reaches a running server at its next maintenance round; a restart reads it at once.
    server.stop().await;
    let server = TestServer::start_with(common::config(temp.path())).await;
    let preflight = |path: &str, origin: &'static str| {
        let request = server
            .http
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST");
        async move {
            let response = request.send().await.unwrap();
            response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
        }
    };
    for path in ["/oauth/token", "/oauth/userinfo", "/oauth/revoke", "/.well-known/jwks.json"] {
        assert_eq!(preflight(path, "https://spa.example").await.as_deref(), Some("https://spa.example"), "{path}");
        assert_eq!(preflight(path, "https://evil.example").await, None, "{path}");
    }
    for path in ["/auth/login", "/oauth/introspect"] {
        assert_eq!(preflight(path, "https://spa.example").await, None, "{path}: not for a client's origin");
    }
    let response = server
        .http
        .get(server.url("/.well-known/openid-configuration"))
        .header("origin", "https://spa.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://spa.example");
    assert!(response.headers().get("access-control-allow-credentials").is_none(), "never with cookies");
}

#[tokio::test]
async fn behind_a_tls_proxy_an_https_issuer_makes_the_cookies_secure() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = common::config(temp.path());
    config.issuer = Some("https://id.example".into());
    let mut server = TestServer::start_with(config).await;
    server.keep_temp(temp);
    server.add_user(EMAIL, PASSWORD).await;
    let settings = BrowserSettings { first_party: true, ..BrowserSettings::default() };
    server.add_browser_client("app", true, APP, settings).await;
    let mut browser = Browser::new(&server);
    let first = browser.get(&authorize_url("app", APP, &[])).await;
    assert!(first.set_cookies().iter().all(|c| c.contains("; Secure")), "{:?}", first.set_cookies());
    let page = browser.follow(first).await;
    let done = browser.login(&page, EMAIL, PASSWORD).await;
    let session = done.set_cookies().into_iter().find(|c| c.starts_with("tessera_session=")).unwrap();
    assert!(session.contains("; Secure"), "{session}");
}

#[tokio::test]
async fn pages_templates_override_the_built_in_pages_and_stay_escaped() {
    let temp = tempfile::tempdir().unwrap();
    let templates = temp.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("login.html"),
        r#"{% extends "base.html" %}{% block content %}<h1>Acme sign-in for {{ client_name }}</h1>
<form method="post" action="/interaction/{{ interaction }}/login"><input type="hidden" name="csrf" value="{{ csrf }}">
<input name="email" value="{{ email }}"><input name="password" type="password"><button>Go</button></form>{% endblock %}"#,
    )
    .unwrap();
    let mut config = common::config(&temp.path().join("data"));
    config.pages.templates = Some(templates);
    let mut server = TestServer::start_with(config).await;
    server.keep_temp(temp);
    server.add_user(EMAIL, PASSWORD).await;
    let settings =
        BrowserSettings { name: Some("<b>Shop</b>".into()), first_party: true, ..BrowserSettings::default() };
    server.add_browser_client("app", true, APP, settings).await;
    let mut browser = Browser::new(&server);
    let page = browser.visit(&authorize_url("app", APP, &[])).await;
    assert!(page.body.contains("Acme sign-in for &lt;b&gt;Shop&lt;&#x2f;b&gt;"), "{}", page.body);
    let done = browser.login(&page, EMAIL, PASSWORD).await;
    assert!(done.location().unwrap().starts_with(APP), "the overridden form still signs in");
    // The other pages are still the built-in ones.
    let error = browser.get(&authorize_url("nobody", APP, &[])).await;
    assert!(error.body.contains("We can’t continue this sign-in"));
}

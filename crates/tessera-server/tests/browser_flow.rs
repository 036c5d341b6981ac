//! The authorization code flow over real HTTP: login and consent pages, the browser session
//! (SSO), codes, PKCE, ID tokens, refresh, userinfo and logout.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::browser::{Browser, VERIFIER, authorize_url, query_of};
use common::{TestServer, claims, header};
use serde_json::Value;
use tessera_core::clock::{Clock, TestClock, Timestamp};
use tessera_core::model::client::BrowserSettings;
use tessera_jose::{Jwks, KeySet, Validator};

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery";
const APP: &str = "https://app.example/cb";
const OTHER_APP: &str = "https://other.example/cb";

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
    let browser = BrowserSettings {
        name: Some("App".into()),
        post_logout_redirect_uris: vec!["https://app.example/bye".into()],
        ..BrowserSettings::default()
    };
    let secret = server.add_browser_client("app", true, APP, browser).await.unwrap();
    World { server, secret, clock }
}

impl World {
    async fn code(&self, browser: &mut Browser, extra: &[(&str, &str)]) -> String {
        let page = browser.authorize(&authorize_url("app", APP, extra), EMAIL, PASSWORD).await;
        let query = query_of(&page.location().unwrap());
        assert_eq!(query["state"], "st-1");
        assert_eq!(query["iss"], self.server.base, "RFC 9207 iss in every response");
        query["code"].clone()
    }

    async fn tokens(&self, code: &str) -> Value {
        let (status, body) = self.server.redeem("app", Some(&self.secret), code, APP, Some(VERIFIER)).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn validate_id_token(&self, token: &str) -> Value {
        let (_, jwks, _) = self.server.get("/.well-known/jwks.json", None).await;
        let keys = KeySet::from_jwks(&Jwks::from_json(jwks.to_string().as_bytes()).unwrap()).unwrap();
        let validator = Validator::builder(keys)
            .algorithm(tessera_jose::Algorithm::RS256)
            .typ("JWT")
            .issuer(&self.server.base)
            .audience("app")
            .build()
            .unwrap();
        validator.validate::<Value>(token, self.clock.now().unix()).unwrap().claims
    }
}

#[tokio::test]
async fn login_consent_code_tokens_userinfo_refresh() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);

    // First visit: the login form, then the consent page naming the client and the scopes.
    let page = browser.visit(&authorize_url("app", APP, &[])).await;
    assert!(page.is_login_form() && page.body.contains("App"), "{}", page.body);
    let wrong = browser.login(&page, EMAIL, "wrong password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("role=\"alert\"") && !browser.cookies.contains_key("tessera_session"));
    let consent = browser.login_follow(&wrong, EMAIL, PASSWORD).await;
    assert!(consent.is_consent_page() && consent.body.contains("See your email address"), "{}", consent.body);
    let callback = browser.consent(&consent, "allow").await;
    let code = query_of(&callback.location().unwrap())["code"].clone();

    let tokens = world.tokens(&code).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string());
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(header(id_token)["alg"], "RS256");
    assert!(header(id_token)["kid"].is_string());
    let id = world.validate_id_token(id_token).await;
    assert_eq!(id["nonce"], "nonce-1");
    assert_eq!(id["email"], EMAIL);
    assert_eq!(id["auth_time"], world.clock.now().unix());
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(id["sub"], access["sub"]);
    assert_eq!(id["sid"], access["sid"], "sid is the browser session in both");
    assert_eq!(
        id["at_hash"].as_str().unwrap(),
        tessera_core::model::id_token::token_hash(
            tessera_jose::Algorithm::RS256,
            tokens["access_token"].as_str().unwrap()
        )
    );

    let (status, info, _) = world.server.get("/oauth/userinfo", tokens["access_token"].as_str()).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["email"], EMAIL);

    // OIDC Core §12.2: a refresh with openid returns an ID token with the same iss, sub, aud and
    // auth_time, a new iat and no nonce.
    world.clock.advance(30);
    let form = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    let (status, refreshed, _) = world.server.post_form("/oauth/token", &form, Some(("app", &world.secret))).await;
    assert_eq!(status, 200, "{refreshed}");
    let again = world.validate_id_token(refreshed["id_token"].as_str().unwrap()).await;
    for claim in ["iss", "sub", "aud", "auth_time", "sid"] {
        assert_eq!(again[claim], id[claim], "{claim}");
    }
    assert_eq!(again["iat"], world.clock.now().unix());
    assert!(again.get("nonce").is_none());
}

#[tokio::test]
async fn a_second_client_gets_a_code_through_sso_without_a_login_form() {
    let world = world().await;
    let browser_settings = BrowserSettings { first_party: true, ..BrowserSettings::default() };
    let other = world.server.add_browser_client("other", true, OTHER_APP, browser_settings).await.unwrap();
    let mut browser = Browser::new(&world.server);
    let first = world.tokens(&world.code(&mut browser, &[]).await).await;

    world.clock.advance(60);
    let page = browser.get(&authorize_url("other", OTHER_APP, &[])).await;
    assert_eq!(page.status, 303);
    let location = page.location().unwrap();
    assert!(location.starts_with(OTHER_APP), "straight back to the client, no page: {location}");
    let code = query_of(&location)["code"].clone();
    let (status, second) = world.server.redeem("other", Some(&other), &code, OTHER_APP, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{second}");
    let (a, b) = (claims(first["id_token"].as_str().unwrap()), claims(second["id_token"].as_str().unwrap()));
    assert_eq!(a["sub"], b["sub"]);
    assert_eq!(a["auth_time"], b["auth_time"], "one login serves both");
    assert_eq!(a["sid"], b["sid"]);
    assert_eq!(b["aud"], "other");

    // The same client again: consent is remembered, so no page either.
    let page = browser.get(&authorize_url("app", APP, &[])).await;
    assert!(page.location().unwrap().starts_with(APP));
}

#[tokio::test]
async fn prompt_login_and_max_age_force_a_new_login_with_a_later_auth_time() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let first = claims(world.tokens(&world.code(&mut browser, &[]).await).await["id_token"].as_str().unwrap());
    let first_cookie = browser.cookies["tessera_session"].clone();

    world.clock.advance(100);
    let page = browser.visit(&authorize_url("app", APP, &[("prompt", "login")])).await;
    assert!(page.is_login_form(), "prompt=login shows the form despite the session");
    let page = browser.login_follow(&page, EMAIL, PASSWORD).await;
    let code = query_of(&page.location().unwrap())["code"].clone();
    let second = claims(world.tokens(&code).await["id_token"].as_str().unwrap());
    assert_eq!(second["auth_time"].as_i64().unwrap(), first["auth_time"].as_i64().unwrap() + 100);
    assert_eq!(second["sid"], first["sid"], "same user, same session");
    assert_ne!(browser.cookies["tessera_session"], first_cookie, "a new cookie at every login (no fixation)");

    // The cookie from before the login no longer opens the session.
    let mut old = Browser::new(&world.server);
    old.cookies.insert("tessera_session".into(), first_cookie);
    let page = old.get(&authorize_url("app", APP, &[("prompt", "none")])).await;
    assert_eq!(query_of(&page.location().unwrap())["error"], "login_required");

    // max_age: a login older than max_age needs a new one.
    world.clock.advance(5);
    let page = browser.visit(&authorize_url("app", APP, &[("max_age", "1")])).await;
    assert!(page.is_login_form());
    let page = browser.get(&authorize_url("app", APP, &[("max_age", "10")])).await;
    assert!(page.location().unwrap().starts_with(APP), "a recent enough login needs no form");
}

#[tokio::test]
async fn prompt_login_and_max_age_zero_ask_even_in_the_second_of_the_last_login() {
    // The test clock does not move: every step happens in one second, where a comparison of
    // whole seconds would call the last login fresh enough.
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    world.code(&mut browser, &[]).await;
    for extra in [[("prompt", "login")], [("max_age", "0")]] {
        let page = browser.visit(&authorize_url("app", APP, &extra)).await;
        assert!(page.is_login_form(), "{extra:?} must show the login form");
        let done = browser.login_follow(&page, EMAIL, PASSWORD).await;
        assert!(done.location().unwrap().starts_with(APP), "{extra:?}: the login satisfies it");
        // The login form cannot be posted a second time: its interaction is spent.
        assert_eq!(browser.login(&page, EMAIL, PASSWORD).await.status, 400);
    }
}

#[tokio::test]
async fn the_standard_claims_follow_the_granted_scopes_in_userinfo_and_the_id_token() {
    let world = world().await;
    let profile = tessera_core::model::account::Profile {
        given_name: Some("Alice".into()),
        family_name: Some("Liddell".into()),
        locale: Some("en-GB".into()),
        phone_number: Some("+441234567890".into()),
        address: Some(tessera_core::model::account::Address {
            locality: Some("Oxford".into()),
            country: Some("GB".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    tessera_core::flows::account_admin::update_profile(
        &*world.server.state.store,
        &tessera_core::model::audit::MemoryAuditSink::default(),
        EMAIL,
        Some("Alice Liddell".into()),
        profile,
        world.clock.now(),
    )
    .await
    .unwrap();
    let mut browser = Browser::new(&world.server);
    for (scope, present, absent) in [
        (
            "openid profile",
            &["name", "given_name", "family_name", "locale", "updated_at"][..],
            &["email", "address", "phone_number"][..],
        ),
        ("openid address phone", &["address", "phone_number", "phone_number_verified"], &["given_name", "email"]),
        ("openid", &[], &["name", "address", "phone_number", "email"]),
    ] {
        let tokens = world.tokens(&world.code(&mut browser, &[("scope", scope)]).await).await;
        let (status, info, _) = world.server.get("/oauth/userinfo", tokens["access_token"].as_str()).await;
        assert_eq!(status, 200);
        let id = claims(tokens["id_token"].as_str().unwrap());
        for document in [&info, &id] {
            for claim in present {
                assert!(document.get(*claim).is_some(), "{scope}: {claim} missing in {document}");
            }
            for claim in absent {
                assert!(document.get(*claim).is_none(), "{scope}: {claim} must not be in {document}");
            }
        }
        if scope.contains("address") {
            assert_eq!(info["address"]["locality"], "Oxford");
            assert_eq!(info["phone_number_verified"], false);
        }
    }
}

#[tokio::test]
async fn userinfo_needs_the_openid_scope() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let tokens = world.tokens(&world.code(&mut browser, &[("scope", "email profile")]).await).await;
    assert!(tokens.get("id_token").is_none(), "no openid, no ID token: plain OAuth 2.0");
    let (status, body, headers) = world.server.get("/oauth/userinfo", tokens["access_token"].as_str()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
    assert!(headers["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
}

#[tokio::test]
async fn prompt_none_answers_without_a_page() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let page = browser.get(&authorize_url("app", APP, &[("prompt", "none")])).await;
    let query = query_of(&page.location().unwrap());
    assert_eq!(query["error"], "login_required");
    assert_eq!(query["state"], "st-1");
    assert_eq!(query["iss"], world.server.base);

    world.code(&mut browser, &[]).await;
    let page = browser.get(&authorize_url("app", APP, &[("prompt", "none")])).await;
    assert!(query_of(&page.location().unwrap()).contains_key("code"), "a session and consent: a code, no page");
    let page = browser.get(&authorize_url("app", APP, &[("prompt", "none"), ("scope", "openid offline_access")])).await;
    assert_eq!(query_of(&page.location().unwrap())["error"], "invalid_scope", "scope checked before the session");
}

#[tokio::test]
async fn consent_is_asked_again_for_new_scopes_and_a_denial_goes_back_as_access_denied() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    world.code(&mut browser, &[("scope", "openid")]).await;
    let page = browser.visit(&authorize_url("app", APP, &[("scope", "openid email")])).await;
    assert!(page.is_consent_page(), "email was not consented before");
    let denied = browser.consent(&page, "deny").await;
    let query = query_of(&denied.location().unwrap());
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "st-1");
    // The interaction is over: allowing it afterwards does nothing.
    let again = browser.consent(&page, "allow").await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn form_post_returns_the_code_in_a_form_to_the_redirect_uri() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    world.code(&mut browser, &[]).await;
    let page = browser.get(&authorize_url("app", APP, &[("response_mode", "form_post")])).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.form_action().unwrap(), APP);
    let code = page.hidden("code").unwrap();
    assert_eq!(page.hidden("state").unwrap(), "st-1");
    assert_eq!(page.hidden("iss").unwrap(), world.server.base);
    assert!(page.body.contains("src=\"/assets/form_post.js\""), "no inline script");
    world.tokens(&code).await;
}

#[tokio::test]
async fn logout_with_a_hint_ends_the_session_and_what_it_issued() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let tokens = world.tokens(&world.code(&mut browser, &[]).await).await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let url = format!(
        "/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye-1",
        "https://app.example/bye"
    );
    let page = browser.get(&url).await;
    assert_eq!(page.location().unwrap(), "https://app.example/bye?state=bye-1");
    assert!(!browser.cookies.contains_key("tessera_session"), "the cookie is cleared");

    let (status, _, _) = world.server.get("/oauth/userinfo", tokens["access_token"].as_str()).await;
    assert_eq!(status, 401, "the session's access tokens are revoked");
    let form = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    let (status, body, _) = world.server.post_form("/oauth/token", &form, Some(("app", &world.secret))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let page = browser.visit(&authorize_url("app", APP, &[])).await;
    assert!(page.is_login_form(), "logged out: the login form again");
}

#[tokio::test]
async fn logout_without_a_hint_asks_first_and_needs_the_forms_csrf_token() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    world.code(&mut browser, &[]).await;
    let url = "/oauth/logout?client_id=app&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=s";
    let confirm = browser.get(url).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Sign out"), "{}", confirm.body);
    assert!(browser.cookies.contains_key("tessera_session"), "nothing ended yet");

    let forged =
        browser.post("/oauth/logout", &[("logout", "confirm"), ("csrf", "forged"), ("client_id", "app")]).await;
    assert_eq!(forged.status, 200, "a forged confirmation only shows the page again");
    assert!(browser.cookies.contains_key("tessera_session"));

    let csrf = confirm.hidden("csrf").unwrap();
    let done = browser
        .post(
            "/oauth/logout",
            &[
                ("logout", "confirm"),
                ("csrf", &csrf),
                ("client_id", "app"),
                ("post_logout_redirect_uri", "https://app.example/bye"),
                ("state", "s"),
            ],
        )
        .await;
    assert_eq!(done.location().unwrap(), "https://app.example/bye?state=s");
    assert!(!browser.cookies.contains_key("tessera_session"));

    // Signed out, with no post-logout URI: the "signed out" page.
    let page = browser.get("/oauth/logout").await;
    assert!(page.status == 200 && page.body.contains("signed out"), "{}", page.body);
    // An unregistered post-logout URI is never followed.
    let page = browser.get("/oauth/logout?client_id=app&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F").await;
    assert!(page.status == 400 && page.location().is_none());
}

#[tokio::test]
async fn a_public_client_must_use_pkce_and_authenticates_with_none() {
    let world = world().await;
    world.server.add_browser_client("spa", false, "http://127.0.0.1/cb", BrowserSettings::default()).await;
    let mut browser = Browser::new(&world.server);
    // RFC 8252 §7.3: a loopback redirect may use any port.
    let redirect = "http://127.0.0.1:53123/cb";
    let page = browser.authorize(&authorize_url("spa", redirect, &[]), EMAIL, PASSWORD).await;
    let code = query_of(&page.location().unwrap())["code"].clone();
    let (status, _) = world.server.redeem("spa", None, &code, redirect, None).await;
    assert_eq!(status, 400, "no verifier");
    let (status, body) = world.server.redeem("spa", None, &code, redirect, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");

    let page =
        browser.get(&authorize_url("spa", redirect, &[("code_challenge", ""), ("code_challenge_method", "")])).await;
    let query = query_of(&page.location().unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert!(query["error_description"].contains("code_challenge"), "{query:?}");
}

#[tokio::test]
async fn the_claims_parameter_asks_for_single_claims_with_the_consent_of_their_scope() {
    let world = world().await;
    let mut browser = Browser::new(&world.server);
    let claims = r#"{"id_token":{"name":{"essential":true}},"userinfo":{"email":null}}"#;
    let page = browser.visit(&authorize_url("app", APP, &[("scope", "openid"), ("claims", claims)])).await;
    let consent = browser.login_follow(&page, EMAIL, PASSWORD).await;
    assert!(
        consent.body.contains("See your email address") && consent.body.contains("See your name"),
        "{}",
        consent.body
    );
    let callback = browser.consent(&consent, "allow").await;
    let code = query_of(&callback.location().unwrap())["code"].clone();
    let tokens = world.tokens(&code).await;
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["name"], "Test User");
    assert!(id.get("email").is_none() && id.get("updated_at").is_none(), "only what was asked for: {id}");
    let (_, info, _) = world.server.get("/oauth/userinfo", tokens["access_token"].as_str()).await;
    assert_eq!(info["email"], EMAIL);
    assert!(info.get("name").is_none(), "{info}");
    // The same claims after a refresh.
    let form = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    let (_, refreshed, _) = world.server.post_form("/oauth/token", &form, Some(("app", &world.secret))).await;
    assert_eq!(claims_of(refreshed["id_token"].as_str().unwrap())["name"], "Test User");
    let (_, info, _) = world.server.get("/oauth/userinfo", refreshed["access_token"].as_str()).await;
    assert_eq!(info["email"], EMAIL);
    // Malformed: an error back to the client naming the parameter.
    let page = browser.get(&authorize_url("app", APP, &[("claims", "[1]")])).await;
    let query = query_of(&page.location().unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert!(query["error_description"].contains("claims"));
}

fn claims_of(token: &str) -> Value {
    claims(token)
}

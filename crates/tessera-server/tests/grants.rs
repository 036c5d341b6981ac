//! Grants over HTTP: revoking a grant reaches every token it issued; the refresh reuse
//! interval; the issuer's own expiry; retention decided by the database, not by whichever
//! process writes. Time is driven by a test clock, never by sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, claims};
use serde_json::{Value, json};
use tessera_core::clock::{Clock, TestClock, Timestamp};
use tessera_core::model::revocation::RETENTION_LEEWAY;

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery";
const START: Timestamp = Timestamp::from_unix(1_900_000_000);

struct World {
    server: TestServer,
    clock: Arc<TestClock>,
    resource: String,
}

async fn world(configure: impl FnOnce(&mut tessera_server::config::Config)) -> World {
    let temp = tempfile::tempdir().unwrap();
    let mut config = common::config(temp.path());
    configure(&mut config);
    let clock = Arc::new(TestClock::new(START));
    let mut server = TestServer::start_with_clock(config, Arc::clone(&clock) as Arc<dyn Clock>).await;
    server.keep_temp(temp);
    server.add_user(EMAIL, PASSWORD).await;
    let resource =
        server.add_client("resource", &[tessera_core::model::client::GrantType::ClientCredentials], &[], &[]).await;
    World { server, clock, resource }
}

impl World {
    async fn active(&self, token: &str) -> bool {
        let rs = Some(("resource", self.resource.as_str()));
        let (status, body, _) = self.server.post_form("/oauth/introspect", &[("token", token)], rs).await;
        assert_eq!(status, 200, "{body}");
        body["active"].as_bool().unwrap()
    }

    async fn refresh(&self, token: &str) -> (u16, Value) {
        let (status, body, _) = self.server.post_json("/auth/refresh", json!({ "refresh_token": token })).await;
        (status, body)
    }

    fn advance(&self, seconds: i64) {
        self.clock.set(self.clock.now().plus(seconds));
    }
}

fn text(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_revokes_the_race_winners_access_token_too() {
    let w = world(|_| {}).await;
    let login = w.server.login(EMAIL, PASSWORD).await;
    let (a1, r1) = (text(&login, "access_token"), text(&login, "refresh_token"));
    let (status, winner) = w.refresh(&r1).await;
    assert_eq!(status, 200, "{winner}");
    let a2 = text(&winner, "access_token");
    assert!(w.active(&a2).await);

    let (status, body) = w.refresh(&r1).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!w.active(&a2).await, "the winner's access token dies with its grant");
    assert!(!w.active(&a1).await, "and so does the login's");
    assert_eq!(w.server.get("/oauth/userinfo", Some(&a2)).await.0, 401);
    assert_eq!(w.refresh(&text(&winner, "refresh_token")).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let w = world(|_| {}).await;
    let login = w.server.login(EMAIL, PASSWORD).await;
    let access = text(&login, "access_token");
    let form = [("token", login["refresh_token"].as_str().unwrap()), ("client_id", "tessera")];
    assert_eq!(w.server.post_form("/oauth/revoke", &form, None).await.0, 200);
    // RFC 7009 §2.1: the access tokens of the same grant are invalidated too.
    assert!(!w.active(&access).await);
    assert_eq!(w.server.get("/oauth/userinfo", Some(&access)).await.0, 401);
    assert_eq!(w.refresh(form[0].1).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_within_the_reuse_interval_keeps_the_session() {
    let w = world(|config| config.tokens.refresh_reuse_interval = Duration::from_secs(30)).await;
    let login = w.server.login(EMAIL, PASSWORD).await;
    let r1 = text(&login, "refresh_token");
    let (status, first) = w.refresh(&r1).await;
    assert_eq!(status, 200, "{first}");
    w.advance(30);
    let (status, retry) = w.refresh(&r1).await;
    assert_eq!(status, 200, "a benign retry: {retry}");
    assert_ne!(retry["refresh_token"], first["refresh_token"]);
    assert_eq!(claims(&text(&retry, "access_token"))["sid"], claims(&text(&first, "access_token"))["sid"]);
    assert!(w.active(&text(&first, "access_token")).await);
    assert_eq!(w.refresh(&text(&first, "refresh_token")).await.0, 200, "both replacements live");

    w.advance(1);
    let (status, _) = w.refresh(&r1).await;
    assert_eq!(status, 400, "past the interval it is a reuse");
    assert!(!w.active(&text(&retry, "access_token")).await);
    assert_eq!(w.refresh(&text(&retry, "refresh_token")).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_by_default_even_in_the_same_second() {
    let w = world(|_| {}).await;
    let login = w.server.login(EMAIL, PASSWORD).await;
    let r1 = text(&login, "refresh_token");
    assert_eq!(w.refresh(&r1).await.0, 200);
    assert_eq!(w.refresh(&r1).await.0, 400, "tokens.refresh_reuse_interval defaults to 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_says_inactive_from_exp_on_and_keeps_revocations_past_it() {
    let w = world(|config| config.tokens.access_ttl = Duration::from_secs(600)).await;
    let login = w.server.login(EMAIL, PASSWORD).await;
    let access = text(&login, "access_token");
    let exp = claims(&access)["exp"].as_i64().unwrap();
    w.clock.set(Timestamp::from_unix(exp - 1));
    assert!(w.active(&access).await);
    w.clock.set(Timestamp::from_unix(exp));
    assert!(!w.active(&access).await, "no leeway for the issuer's own introspection");
    assert_eq!(w.server.get("/oauth/userinfo", Some(&access)).await.0, 401);

    // A revocation outlives the token's exp by the largest verifier leeway.
    w.clock.set(START);
    let login = w.server.login(EMAIL, PASSWORD).await;
    let access = text(&login, "access_token");
    let exp = claims(&access)["exp"].as_i64().unwrap();
    let form = [("token", access.as_str()), ("client_id", "tessera")];
    assert_eq!(w.server.post_form("/oauth/revoke", &form, None).await.0, 200);
    let store = &w.server.state.store;
    let kept = store.revocations_after(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(kept.expires_at, Timestamp::from_unix(exp + RETENTION_LEEWAY));
    assert_eq!(store.purge_expired_revocations(Timestamp::from_unix(exp + 60)).await.unwrap(), 0);

    // Logout: the sid entry lasts the longest access lifetime plus the leeway.
    let login = w.server.login(EMAIL, PASSWORD).await;
    let logout = w.server.post_json("/auth/logout", json!({ "refresh_token": login["refresh_token"] })).await;
    assert_eq!(logout.0, 204);
    let sid = store.revocations_after(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(sid.target.kind(), "sid");
    assert_eq!(sid.expires_at, START.plus(600 + RETENTION_LEEWAY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_comes_from_the_database_not_the_callers_configuration() {
    let w = world(|config| config.tokens.access_ttl = Duration::from_secs(3600)).await;
    let store = &*w.server.state.store;
    // An admin command reads its own configuration (default 900 s) but must keep what the
    // server keeps.
    let shell = tessera_server::config::Config::default();
    let longest = tessera_server::startup::max_access_ttl(store, &shell, w.clock.now()).await.unwrap();
    assert_eq!(longest, 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_party_audience_follows_the_issuer_of_each_start() {
    let temp = tempfile::tempdir().unwrap();
    let first = TestServer::start_with(common::config(temp.path())).await;
    first.add_user(EMAIL, PASSWORD).await;
    let issuer_a = first.base.clone();
    assert_eq!(claims(&text(&first.login(EMAIL, PASSWORD).await, "access_token"))["aud"], json!([issuer_a]));
    first.stop().await;
    // Same data folder, another port: the tokens name the new issuer as audience too.
    let second = TestServer::start_with(common::config(temp.path())).await;
    assert_ne!(second.base, issuer_a);
    let token = text(&second.login(EMAIL, PASSWORD).await, "access_token");
    assert_eq!(claims(&token)["iss"], json!(second.base));
    assert_eq!(claims(&token)["aud"], json!([second.base]));
    second.stop().await;
}

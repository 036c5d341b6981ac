//! `tessera serve --demo`: a demo user and clients, and the commands to try them.

use std::net::SocketAddr;

use tessera_core::flows::account_admin::add_account;
use tessera_core::flows::client_authentication::{NewClient, register_client};
use tessera_core::model::account::Email;
use tessera_core::model::audit::MemoryAuditSink;
use tessera_core::model::client::{ClientId, GrantType};
use tessera_server::state::AppState;

/// The demo account.
pub const DEMO_EMAIL: &str = "demo@tessera.test";
/// Its password: a demo, printed on purpose.
pub const DEMO_PASSWORD: &str = "tessera-demo-password";
/// The demo service client (client credentials).
pub const DEMO_SERVICE: &str = "demo-service";

/// The demo browser application: a public client of the authorization code flow.
pub const DEMO_WEB: &str = "demo-web";
/// Its redirect URI: nothing listens there, so the browser shows the code in the address bar.
pub const DEMO_WEB_REDIRECT: &str = "http://127.0.0.1:8081/callback";
/// The RFC 7636 Appendix B verifier and its S256 challenge: fixed so that the printed commands
/// work as they are; a real application makes a fresh verifier for every request.
const DEMO_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const DEMO_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// What the demo created.
pub struct Demo {
    /// The service client's secret (a fresh one at every `--demo` start).
    pub service_secret: String,
}

/// Creates the demo user (once) and re-creates the demo service client with a new secret.
pub async fn seed(state: &AppState) -> anyhow::Result<Demo> {
    let now = state.now();
    let audit = MemoryAuditSink::default();
    if state.store.account_by_email(&Email::parse(DEMO_EMAIL)?).await?.is_none() {
        add_account(
            &*state.store,
            &audit,
            &state.random,
            DEMO_EMAIL,
            Some("Demo User".into()),
            Some(DEMO_PASSWORD),
            now,
        )
        .await?;
    }
    // The secret is shown once only, so the demo client is replaced to show a fresh one.
    state.store.remove_client(&ClientId::new(DEMO_SERVICE)).await?;
    let service = NewClient {
        client_id: DEMO_SERVICE.into(),
        confidential: true,
        grant_types: vec![GrantType::ClientCredentials],
        scopes: vec!["orders:read".into(), "orders:write".into()],
        audiences: vec!["api://orders".into()],
        ..NewClient::default()
    };
    let (_, secret) = register_client(&*state.store, &state.random, &state.pepper, service, now).await?;
    let service_secret = secret.map(|s| s.expose().to_owned()).unwrap_or_default();
    if state.store.client(&ClientId::new(DEMO_WEB)).await?.is_none() {
        let web = NewClient {
            client_id: DEMO_WEB.into(),
            confidential: false,
            redirect_uris: vec![DEMO_WEB_REDIRECT.into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: ["openid", "profile", "email", "offline_access"].map(String::from).to_vec(),
            browser: tessera_core::model::client::BrowserSettings {
                name: Some("Tessera demo app".into()),
                post_logout_redirect_uris: vec![DEMO_WEB_REDIRECT.into()],
                ..Default::default()
            },
            ..NewClient::default()
        };
        register_client(&*state.store, &state.random, &state.pepper, web, now).await?;
    }
    Ok(Demo { service_secret })
}

/// The text printed at a demo start. It says that the demo password is public and how to
/// remove the account, since a demo started on a reachable host is an open door.
pub fn instructions(issuer: &str, address: SocketAddr, demo: &Demo) -> String {
    let secret = &demo.service_secret;
    format!(
        "\nTessera demo on http://{address} (issuer {issuer})\n\
         \n  user   {DEMO_EMAIL} / {DEMO_PASSWORD}\n  client {DEMO_SERVICE} / {secret}\n\
         \n  WARNING: the demo account's password is published (printed here, and in Tessera's source).\n  \
         Do not leave it on a server that others can reach. Remove the account with\n  \
         `tessera user remove {DEMO_EMAIL}` (with the server's --data-dir or --config).\n\
         \nTry:\n\
         \n  # log in (API authentication), then call userinfo with the access token\n\
         \n  curl -s {issuer}/auth/login -H 'content-type: application/json' \\\n    -d '{{\"username\":\"{DEMO_EMAIL}\",\"password\":\"{DEMO_PASSWORD}\"}}'\n\
         \n  curl -s {issuer}/api/userinfo -H \"authorization: Bearer $ACCESS_TOKEN\"\n\
         \n  # rotate the refresh token (a second use of the old one revokes the family)\n\
         \n  curl -s {issuer}/auth/refresh -H 'content-type: application/json' -d \"{{\\\"refresh_token\\\":\\\"$REFRESH_TOKEN\\\"}}\"\n\
         \n  # service identity (client credentials)\n\
         \n  curl -s -u {DEMO_SERVICE}:{secret} {issuer}/oauth/token -d grant_type=client_credentials\n\
         \n  # verify any token offline against the JWKS\n\
         \n  tessera token verify $ACCESS_TOKEN --jwks {issuer}/.well-known/jwks.json --iss {issuer}\n\
         \n  # single sign-on in a browser (OpenID Connect code flow with PKCE): open this, sign in,\n  \
         # allow, then copy the code from the address bar of the page that does not load\n\
         \n  {issuer}/oauth/authorize?response_type=code&client_id={DEMO_WEB}&redirect_uri={redirect}&scope=openid%20profile%20email&state=demo&code_challenge={DEMO_CHALLENGE}&code_challenge_method=S256\n\
         \n  curl -s {issuer}/oauth/token -d grant_type=authorization_code -d client_id={DEMO_WEB} \\\n    -d redirect_uri={DEMO_WEB_REDIRECT} -d code_verifier={DEMO_VERIFIER} -d code=$CODE\n",
        redirect = DEMO_WEB_REDIRECT.replace(':', "%3A").replace('/', "%2F"),
    )
}

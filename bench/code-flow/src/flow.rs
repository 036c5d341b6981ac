//! The steps of the browser flows as a relying party and a browser run them, each response
//! checked: the login (once per browser), the code flow with an existing session
//! (authorize → `303` with a code → token exchange with PKCE), and the login page of a pending
//! interaction.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use hyper::header::HeaderValue;
use serde::Deserialize;

use crate::failure::Failure;
use crate::http::{Browser, Connection, Response, basic_form_request};

/// The relying party and the user it signs in.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    /// The server's issuer (`http://127.0.0.1:PORT`), which `iss` in every response must equal.
    pub issuer: String,
    /// `client_id`.
    pub client_id: String,
    /// `Authorization: Basic …` of the client (RFC 6749 §2.3.1).
    pub basic: HeaderValue,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// `scope`.
    pub scope: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's password.
    pub password: String,
    /// The algorithm the client's ID tokens must be signed with (`RS256` unless the client
    /// registered another).
    pub id_token_alg: String,
}

/// A PKCE pair (RFC 7636 §4.1–4.2): a fresh verifier per flow and its S256 challenge.
pub struct Pkce {
    /// `code_verifier`: 32 random bytes, base64url (43 characters).
    pub verifier: String,
    /// `code_challenge`: BASE64URL(SHA256(verifier)).
    pub challenge: String,
}

impl Pkce {
    /// A new pair.
    pub fn generate(random: &SystemRandom) -> Result<Pkce, Failure> {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes).map_err(|_| Failure::new("pkce", "random", "no randomness"))?;
        let verifier = tessera_jose::base64url::encode(bytes);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        Ok(Pkce { challenge: tessera_jose::base64url::encode(digest.as_ref()), verifier })
    }
}

/// What one authorization request carries that its response must echo.
pub struct Attempt {
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// The PKCE pair.
    pub pkce: Pkce,
}

impl Attempt {
    /// Attempt `n` of worker `worker`.
    pub fn new(random: &SystemRandom, worker: usize, n: u64) -> Result<Attempt, Failure> {
        Ok(Attempt { state: format!("s{worker}-{n}"), nonce: format!("n{worker}-{n}"), pkce: Pkce::generate(random)? })
    }
}

/// `/oauth/authorize?…` for `attempt`.
pub fn authorize_path(party: &RelyingParty, attempt: &Attempt) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &party.client_id)
        .append_pair("redirect_uri", &party.redirect_uri)
        .append_pair("scope", &party.scope)
        .append_pair("state", &attempt.state)
        .append_pair("nonce", &attempt.nonce)
        .append_pair("code_challenge", &attempt.pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("/oauth/authorize?{query}")
}

/// The token response (RFC 6749 §5.1, OIDC Core §3.1.3.3), as far as it is checked.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    /// The access token (an ES256 JWT).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// The ID token (an RS256 JWT).
    pub id_token: Option<String>,
}

/// How long the steps of one flow took.
pub struct FlowTimes {
    /// `GET /oauth/authorize` to its `303`.
    pub authorize: Duration,
    /// `POST /oauth/token` to its `200`.
    pub token: Duration,
}

/// A browser with a session and the relying party's back channel: worker `worker`'s side of
/// the code flow.
pub struct CodeFlow {
    /// The browser.
    pub browser: Browser,
    /// The relying party's connection to the token endpoint.
    pub back_channel: Connection,
    worker: usize,
    attempts: u64,
}

impl CodeFlow {
    /// Logs `party.email` in in `browser` through the login page (authorize → `303` to the
    /// interaction → the form → post it with its CSRF token → `303` to the client with a
    /// code), then redeems that first code. Returns the flow and the first tokens.
    pub async fn sign_in(
        mut browser: Browser,
        back_channel: Connection,
        party: &RelyingParty,
        random: &SystemRandom,
        worker: usize,
    ) -> Result<(CodeFlow, Attempt, Tokens), Failure> {
        let attempt = Attempt::new(random, worker, 0)?;
        let (id, _) = start_interaction(&mut browser, party, &attempt).await?;
        let page = login_page(&mut browser, &id).await?;
        let action = form_action(page.text()).ok_or_else(|| Failure::new("login", "no_form_action", ""))?;
        let csrf = hidden(page.text(), "csrf").ok_or_else(|| Failure::new("login", "no_csrf", ""))?;
        let form = [("csrf", csrf.as_str()), ("email", party.email.as_str()), ("password", party.password.as_str())];
        let response = browser.post_form("login", &action, &form).await?;
        if !browser.cookies.contains_key("tessera_session") {
            return Err(Failure::status("login", 303, &response));
        }
        let code = code_of("login", &response, party, &attempt)?;
        let mut flow = CodeFlow { browser, back_channel, worker, attempts: 0 };
        let tokens = flow.redeem(party, &code, &attempt).await?;
        Ok((flow, attempt, tokens))
    }

    /// One complete flow with the session: authorize, then the token exchange.
    pub async fn run(
        &mut self,
        party: &RelyingParty,
        random: &SystemRandom,
    ) -> Result<(FlowTimes, Attempt, Tokens), Failure> {
        self.attempts += 1;
        let attempt = Attempt::new(random, self.worker, self.attempts)?;
        let started = Instant::now();
        let response = self.browser.get("authorize", &authorize_path(party, &attempt)).await?;
        let code = code_of("authorize", &response, party, &attempt)?;
        let authorized = Instant::now();
        let tokens = self.redeem(party, &code, &attempt).await?;
        let times = FlowTimes { authorize: authorized - started, token: authorized.elapsed() };
        Ok((times, attempt, tokens))
    }

    /// `POST /oauth/token` with `grant_type=authorization_code` and the verifier, checked.
    async fn redeem(&mut self, party: &RelyingParty, code: &str, attempt: &Attempt) -> Result<Tokens, Failure> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", party.redirect_uri.as_str()),
            ("code_verifier", attempt.pkce.verifier.as_str()),
        ];
        let request = basic_form_request("/oauth/token", &party.basic, &form)?;
        let response = self.back_channel.send("token", request).await?;
        if response.status != 200 {
            return Err(Failure::status("token", 200, &response));
        }
        let tokens: Tokens =
            serde_json::from_slice(&response.body).map_err(|e| Failure::new("token", "json", e.to_string()))?;
        check_shape(&tokens, &party.id_token_alg)?;
        Ok(tokens)
    }
}

/// Every flow's tokens, checked cheaply: the three tokens are there and the two JWTs carry
/// the algorithms expected (ES256 access tokens, the server's default). (Signatures and claims are verified on a
/// sample, `verify.rs`, so that the generator leaves the cores to the server.)
fn check_shape(tokens: &Tokens, id_token_alg: &str) -> Result<(), Failure> {
    if tokens.token_type != "Bearer" {
        return Err(Failure::new("token", "token_type", tokens.token_type.clone()));
    }
    if tokens.refresh_token.as_deref().is_none_or(str::is_empty) {
        return Err(Failure::new("token", "no_refresh_token", ""));
    }
    let id_token = tokens.id_token.as_deref().ok_or_else(|| Failure::new("token", "no_id_token", ""))?;
    check_alg(id_token, id_token_alg, "id_token_alg")?;
    check_alg(&tokens.access_token, "ES256", "access_token_alg")
}

fn check_alg(jwt: &str, expected: &str, kind: &'static str) -> Result<(), Failure> {
    let mut parts = jwt.split('.');
    let header = parts.next().and_then(tessera_jose::base64url::decode);
    let (Some(header), Some(_), Some(_), None) = (header, parts.next(), parts.next(), parts.next()) else {
        return Err(Failure::new("token", kind, "not a compact JWS"));
    };
    #[derive(Deserialize)]
    struct Header<'a> {
        alg: &'a str,
    }
    match serde_json::from_slice::<Header>(&header) {
        Ok(header) if header.alg == expected => Ok(()),
        Ok(header) => Err(Failure::new("token", kind, format!("alg {} instead of {expected}", header.alg))),
        Err(e) => Err(Failure::new("token", kind, e.to_string())),
    }
}

/// The code in a `303` to the redirect URI, after checking `state` and `iss` (RFC 9207).
fn code_of(
    step: &'static str,
    response: &Response,
    party: &RelyingParty,
    attempt: &Attempt,
) -> Result<String, Failure> {
    if response.status != 303 {
        return Err(Failure::status(step, 303, response));
    }
    let location = response.location().unwrap_or_default();
    let Some(query) = location.strip_prefix(party.redirect_uri.as_str()).and_then(|rest| rest.strip_prefix('?')) else {
        return Err(Failure::new(step, "not_to_client", location.to_owned()));
    };
    let query: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    if let Some(error) = query.get("error") {
        return Err(Failure::new(
            step,
            "error",
            format!("{error}: {}", query.get("error_description").cloned().unwrap_or_default()),
        ));
    }
    if query.get("state") != Some(&attempt.state) {
        return Err(Failure::new(step, "state", location.to_owned()));
    }
    if query.get("iss") != Some(&party.issuer) {
        return Err(Failure::new(step, "iss", location.to_owned()));
    }
    query
        .get("code")
        .filter(|c| !c.is_empty())
        .cloned()
        .ok_or_else(|| Failure::new(step, "no_code", location.to_owned()))
}

/// Authorize without a session: `303` to `/interaction/{id}`, which sets the binding cookie.
/// Returns the id and the page's path.
pub async fn start_interaction(
    browser: &mut Browser,
    party: &RelyingParty,
    attempt: &Attempt,
) -> Result<(String, String), Failure> {
    let response = browser.get("start", &authorize_path(party, attempt)).await?;
    if response.status != 303 {
        return Err(Failure::status("start", 303, &response));
    }
    let location = response.location().unwrap_or_default();
    let Some(id) = location.strip_prefix("/interaction/") else {
        return Err(Failure::new("start", "not_to_interaction", location.to_owned()));
    };
    if !browser.cookies.contains_key("tessera_interaction") {
        return Err(Failure::new("start", "no_binding_cookie", ""));
    }
    Ok((id.to_owned(), location.to_owned()))
}

/// `GET /interaction/{id}`, which must be the login form with its CSRF field.
pub async fn login_page(browser: &mut Browser, id: &str) -> Result<Response, Failure> {
    let response = browser.get("page", &format!("/interaction/{id}")).await?;
    if response.status != 200 {
        return Err(Failure::status("page", 200, &response));
    }
    let text = response.text();
    if !text.contains("name=\"password\"") || !text.contains("name=\"csrf\" value=\"") {
        return Err(Failure::new("page", "not_the_login_form", text.chars().take(300).collect::<String>()));
    }
    Ok(response)
}

/// The value of hidden input `name`.
fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(unescape(&body[start..start + end]))
}

/// The `action` of the first form.
fn form_action(body: &str) -> Option<String> {
    let start = body.find("action=\"")? + "action=\"".len();
    let end = body[start..].find('"')?;
    Some(unescape(&body[start..start + end]))
}

/// Undoes the HTML escaping of an attribute value (minijinja escapes `/` too).
fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

//! The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2), read as its
//! steps: the client and its redirect URI are checked first, and until both are known good
//! nothing is sent to the redirect URI (RFC 6749 §4.1.2.1); then every other parameter, each
//! error going back to the client; then what the request needs of the browser — a login, a
//! consent, or nothing — and finally the single-use code.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::artifact::{Artifact, ArtifactHash, ArtifactKind, ArtifactStore};
use crate::model::client::{Client, ClientId, GrantType};
use crate::model::id_token::RequestedClaims;
use crate::model::session::Session;
use crate::random::{Random, random_secret};

/// How long an authorization code lives, seconds (SPEC §7).
pub const CODE_TTL: i64 = 60;

/// The longest value accepted for any authorization parameter: enough for a `claims` document
/// or a long `state`, small enough that an interaction row stays small.
pub const MAX_PARAMETER_LEN: usize = 4096;

/// How the response reaches the client (OAuth 2.0 Multiple Response Types, Form Post).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// In the redirect URI's query (the default for `code`).
    Query,
    /// As an auto-submitted HTML form (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

/// The `prompt` values asked for (OIDC Core §3.1.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: no page may be shown.
    pub none: bool,
    /// `login`: authenticate again even with a session.
    pub login: bool,
    /// `consent`: ask for consent even if given before.
    pub consent: bool,
    /// `select_account`: let the person choose; Tessera shows its login form.
    pub select_account: bool,
}

/// A checked authorization request, kept with the interaction while pages are shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: ClientId,
    /// The redirect URI, one the client registered.
    pub redirect_uri: String,
    /// How the response goes back.
    pub response_mode: ResponseMode,
    /// The scopes asked for, each allowed to the client.
    pub scopes: Vec<String>,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// `nonce`, put into the ID token.
    pub nonce: Option<String>,
    /// The PKCE `code_challenge` (S256 only).
    pub code_challenge: Option<String>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// `login_hint`, to prefill the login form.
    pub login_hint: Option<String>,
    /// `acr_values`, recorded (enforced once MFA exists).
    pub acr_values: Option<String>,
    /// Claims asked for individually (`claims`, OIDC Core §5.5), those the client may have.
    pub claims: RequestedClaims,
    /// The `sub` of a valid `id_token_hint`: only that user's session fits.
    pub id_token_hint_sub: Option<String>,
    /// `ui_locales`, recorded for the pages.
    pub ui_locales: Option<String>,
}

/// Where an error or a code is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The checked redirect URI.
    pub redirect_uri: String,
    /// How.
    pub response_mode: ResponseMode,
    /// `state` to echo.
    pub state: Option<String>,
}

/// Why an authorization request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or its redirect URI is not known good: the person sees an error page and the
    /// browser is sent nowhere (no open redirect, RFC 9700 §4.11).
    Page {
        /// What was wrong, naming the parameter; safe to show.
        reason: String,
    },
    /// Sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        /// Where.
        to: Redirect,
        /// The error code.
        error: &'static str,
        /// A description naming the parameter; safe to show.
        description: String,
    },
}

impl AuthorizeError {
    fn page(reason: impl Into<String>) -> AuthorizeError {
        AuthorizeError::Page { reason: reason.into() }
    }
}

/// The parameters of a request as received (query or form), in order, repeated ones included.
pub type Parameters = [(String, String)];

/// One parameter: `Ok(None)` when absent or empty (RFC 6749 §3.1: empty is absent), an error
/// naming it when repeated (RFC 6749 §3.1: parameters must not be included more than once).
fn single<'a>(params: &'a Parameters, name: &'static str) -> Result<Option<&'a str>, String> {
    let mut values = params.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(format!("{name}: repeated"));
    }
    match first {
        Some(value) if value.len() > MAX_PARAMETER_LEN => Err(format!("{name}: too long")),
        Some(value) if !value.is_empty() => Ok(Some(value)),
        _ => Ok(None),
    }
}

/// The `client_id` of a request, to find the client before [`check_request`].
pub fn requested_client_id(params: &Parameters) -> Result<ClientId, AuthorizeError> {
    match single(params, "client_id").map_err(AuthorizeError::page)? {
        Some(id) => Ok(ClientId::new(id)),
        None => Err(AuthorizeError::page("client_id: missing")),
    }
}

/// Checks an authorization request for `client` (`None`: no such client).
pub fn check_request(params: &Parameters, client: Option<&Client>) -> Result<AuthorizationRequest, AuthorizeError> {
    let client = client.ok_or_else(|| AuthorizeError::page("client_id: unknown client"))?;
    // OIDC Core §3.1.2.1 makes redirect_uri required; without it nothing is known good.
    let redirect_uri = single(params, "redirect_uri")
        .map_err(AuthorizeError::page)?
        .ok_or_else(|| AuthorizeError::page("redirect_uri: missing"))?;
    if !client.redirect_uri_allowed(redirect_uri) {
        return Err(AuthorizeError::page("redirect_uri: not registered for this client"));
    }
    // From here on, errors go to the redirect URI, in the response mode asked for if it is one
    // we support, with `state` if it could be read.
    let mut to = Redirect { redirect_uri: redirect_uri.to_owned(), response_mode: ResponseMode::Query, state: None };
    to.state = match single(params, "state") {
        Ok(state) => state.map(str::to_owned),
        Err(reason) => return Err(invalid(to, reason)),
    };
    let response_mode = match single(params, "response_mode") {
        Ok(None) | Ok(Some("query")) => ResponseMode::Query,
        Ok(Some("form_post")) => ResponseMode::FormPost,
        Ok(Some(_)) => return Err(invalid(to, "response_mode: only query and form_post are supported")),
        Err(reason) => return Err(invalid(to, reason)),
    };
    to.response_mode = response_mode;
    match check_parameters(params, client) {
        Ok(mut request) => {
            request.redirect_uri = to.redirect_uri;
            request.response_mode = response_mode;
            request.state = to.state;
            Ok(request)
        }
        Err((error, description)) => Err(AuthorizeError::Redirect { to, error, description }),
    }
}

fn invalid(to: Redirect, description: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Redirect { to, error: "invalid_request", description: description.into() }
}

/// Every parameter after the redirect URI, in the order the specifications give them.
fn check_parameters(params: &Parameters, client: &Client) -> Result<AuthorizationRequest, (&'static str, String)> {
    let invalid_request = |reason: String| ("invalid_request", reason);
    // RFC 6749 §3.1: no parameter twice, whatever it is.
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in params {
        if seen.contains(&name.as_str()) {
            return Err(invalid_request(format!("{name}: repeated")));
        }
        seen.push(name);
    }
    let get = |name: &'static str| single(params, name).map_err(invalid_request);

    // OIDC Core §6: request objects are not supported, and say so.
    if get("request")?.is_some() {
        return Err(("request_not_supported", "request: request objects are not supported".into()));
    }
    if get("request_uri")?.is_some() {
        return Err(("request_uri_not_supported", "request_uri: request objects are not supported".into()));
    }
    match get("response_type")? {
        None => return Err(invalid_request("response_type: missing".into())),
        Some("code") => {}
        Some(_) => return Err(("unsupported_response_type", "response_type: only code is supported".into())),
    }
    if client.require_grant(GrantType::AuthorizationCode).is_err() {
        return Err(("unauthorized_client", "client_id: not allowed to use the authorization code flow".into()));
    }
    let scopes = match client.grant_scopes(get("scope")?) {
        Ok(scopes) => scopes,
        Err(CoreError::InvalidScope { scope }) => return Err(("invalid_scope", format!("scope: {scope} not allowed"))),
        Err(_) => return Err(("invalid_scope", "scope: not allowed".into())),
    };
    let code_challenge = check_pkce(get("code_challenge")?, get("code_challenge_method")?, client)?;
    let prompt = parse_prompt(get("prompt")?)?;
    let max_age = match get("max_age")? {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return Err(invalid_request("max_age: must be a whole number of seconds".into())),
        },
    };
    let claims = match get("claims")? {
        None => RequestedClaims::default(),
        Some(text) => {
            let value = serde_json::from_str::<Value>(text)
                .map_err(|_| invalid_request("claims: must be a JSON object".into()))?;
            RequestedClaims::parse(&value, &client.scopes).map_err(|reason| invalid_request(reason.into()))?
        }
    };
    if let Some(display) = get("display")?
        && !["page", "popup", "touch", "wap"].contains(&display)
    {
        return Err(invalid_request("display: must be page, popup, touch or wap".into()));
    }
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: String::new(),
        response_mode: ResponseMode::Query,
        scopes,
        state: None,
        nonce: get("nonce")?.map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: get("login_hint")?.map(str::to_owned),
        acr_values: get("acr_values")?.map(str::to_owned),
        claims,
        id_token_hint_sub: None,
        ui_locales: get("ui_locales")?.map(str::to_owned),
    })
}

/// RFC 7636 §4.3 with RFC 9700 §2.1.1: S256 only (a `plain` challenge, or one without a
/// method, which means `plain`, is refused), required for public clients and for clients
/// registered to require it.
fn check_pkce(
    challenge: Option<&str>,
    method: Option<&str>,
    client: &Client,
) -> Result<Option<String>, (&'static str, String)> {
    let invalid_request = |reason: &str| ("invalid_request", reason.to_owned());
    match (challenge, method) {
        (None, None) if client.requires_pkce() => Err(invalid_request("code_challenge: required for this client")),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(invalid_request("code_challenge: missing")),
        (Some(_), None) | (Some(_), Some("plain")) => {
            Err(invalid_request("code_challenge_method: only S256 is supported"))
        }
        (Some(_), Some(method)) if method != "S256" => {
            Err(invalid_request("code_challenge_method: only S256 is supported"))
        }
        // A SHA-256 in base64url without padding is exactly 43 characters.
        (Some(challenge), Some(_)) if challenge.len() != 43 || !challenge.bytes().all(is_base64url) => {
            Err(invalid_request("code_challenge: must be the base64url SHA-256 of the verifier"))
        }
        (Some(challenge), Some(_)) => Ok(Some(challenge.to_owned())),
    }
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, (&'static str, String)> {
    let mut prompt = Prompt::default();
    for word in value.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            _ => return Err(("invalid_request", format!("prompt: unknown value {word:?}"))),
        }
    }
    // OIDC Core §3.1.2.1: none with any other value is an error.
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        return Err(("invalid_request", "prompt: none cannot be combined with other values".into()));
    }
    Ok(prompt)
}

impl AuthorizationRequest {
    /// What the person consents to: the scopes asked for and those of the claims asked for
    /// individually.
    pub fn consent_scopes(&self) -> Vec<String> {
        let mut scopes = self.scopes.clone();
        for scope in self.claims.scopes() {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
        scopes
    }

    /// The request once the person has just logged in for it: what asked for a fresh login
    /// (`prompt=login`, `select_account`, `max_age`) is satisfied by that login, whatever the
    /// clock's resolution says about how recent it was.
    pub fn after_login(&self) -> AuthorizationRequest {
        let mut request = self.clone();
        request.prompt.login = false;
        request.prompt.select_account = false;
        request.max_age = None;
        request
    }
}

/// What the browser must do before a code can be issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Show the login form.
    Login,
    /// Show the consent page.
    Consent,
    /// Nothing: issue the code.
    Issue,
}

/// Where the request stands, given the browser's session (already checked active and within
/// its idle lifetime) and the scopes the user consented to before. A request with
/// `prompt=login` (or `select_account`) never fits a session: a login in the interaction
/// satisfies it, and the interaction then continues as [`AuthorizationRequest::after_login`].
pub fn next_step(
    request: &AuthorizationRequest,
    client: &Client,
    session: Option<&Session>,
    consented: &[String],
    now: Timestamp,
) -> Result<NextStep, (&'static str, &'static str)> {
    let fits = session.is_some_and(|session| {
        let fresh_enough = !(request.prompt.login || request.prompt.select_account);
        // OIDC Core §3.1.2.1: max_age is the allowable elapsed time since the last login.
        // In whole seconds an elapsed 0 may be 0.9 s: strictly less, so max_age=0 always asks.
        let recent_enough = request.max_age.is_none_or(|max| now.unix() - session.auth_time.unix() < max);
        let same_user = request.id_token_hint_sub.as_deref().is_none_or(|sub| sub == session.user_id.as_str());
        fresh_enough && recent_enough && same_user
    });
    if !fits {
        return if request.prompt.none {
            Err(("login_required", "a login is needed and prompt=none forbids it"))
        } else {
            Ok(NextStep::Login)
        };
    }
    let all_consented = request.consent_scopes().iter().all(|scope| consented.contains(scope));
    if !client.browser.first_party && (request.prompt.consent || !all_consented) {
        return if request.prompt.none {
            Err(("consent_required", "consent is needed and prompt=none forbids it"))
        } else {
            Ok(NextStep::Consent)
        };
    }
    Ok(NextStep::Issue)
}

/// What an authorization code carries to the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePayload {
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The redirect URI it was sent to: the token request must repeat it.
    pub redirect_uri: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The `nonce` for the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge.
    pub code_challenge: Option<String>,
    /// The session the user authenticated in.
    pub sid: String,
    /// Claims asked for individually.
    #[serde(default)]
    pub claims: RequestedClaims,
}

/// Issues a single-use authorization code for `request` in `session`: 256 random bits, stored
/// only as its hash, valid [`CODE_TTL`] seconds.
pub async fn issue_code<S: ArtifactStore + ?Sized>(
    store: &S,
    random: &dyn Random,
    request: &AuthorizationRequest,
    session: &Session,
    now: Timestamp,
) -> Result<String, CoreError> {
    let code = random_secret(random)?;
    let payload = CodePayload {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        sid: session.sid.as_str().to_owned(),
        claims: request.claims.clone(),
    };
    let artifact = Artifact {
        kind: ArtifactKind::AuthorizationCode,
        hash: ArtifactHash::of_secret(&code),
        subject: session.user_id.as_str().to_owned(),
        grant_id: None,
        payload: serde_json::to_value(&payload).map_err(|e| CoreError::CorruptData(e.to_string()))?,
        max_attempts: 1,
        created_at: now,
        expires_at: now.plus(CODE_TTL),
    };
    store.put_artifact(&artifact, now).await?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::client::{BrowserSettings, ClientKind};
    use crate::secrets::client_secret::ClientSecretHash;

    fn client(confidential: bool) -> Client {
        Client {
            client_id: ClientId::new("app"),
            kind: if confidential {
                ClientKind::Confidential { secret_hash: ClientSecretHash::from_bytes(&[1; 32]).unwrap() }
            } else {
                ClientKind::Public
            },
            redirect_uris: vec!["https://app.example/cb".into()],
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: vec!["openid".into(), "email".into()],
            audiences: vec![],
            access_ttl: None,
            refresh_ttl: None,
            browser: BrowserSettings::default(),
            created_at: Timestamp::from_unix(0),
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("client_id", "app"),
            ("redirect_uri", "https://app.example/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (key, value) in extra {
            params.retain(|(k, _)| k != key);
            if !value.is_empty() {
                params.push(((*key).to_owned(), (*value).to_owned()));
            }
        }
        params
    }

    fn redirected(result: Result<AuthorizationRequest, AuthorizeError>) -> (&'static str, String) {
        match result {
            Err(AuthorizeError::Redirect { error, description, to }) => {
                assert_eq!(to.redirect_uri, "https://app.example/cb");
                (error, description)
            }
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn an_error_about_response_mode_still_echoes_state() {
        let result = check_request(&params(&[("response_mode", "fragment")]), Some(&client(false)));
        match result {
            Err(AuthorizeError::Redirect { to, .. }) => assert_eq!(to.state.as_deref(), Some("s1")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_good_request_is_checked_into_its_parts() {
        let request =
            check_request(&params(&[("nonce", "n"), ("prompt", "login consent")]), Some(&client(false))).unwrap();
        assert_eq!(request.scopes, vec!["openid"]);
        assert_eq!(request.state.as_deref(), Some("s1"));
        assert!(request.prompt.login && request.prompt.consent && !request.prompt.none);
    }

    #[test]
    fn client_and_redirect_uri_errors_never_redirect() {
        let page =
            |result: Result<AuthorizationRequest, AuthorizeError>| matches!(result, Err(AuthorizeError::Page { .. }));
        assert!(page(check_request(&params(&[]), None)));
        assert!(page(check_request(&params(&[("redirect_uri", "https://evil.example/cb")]), Some(&client(false)))));
        assert!(page(check_request(&params(&[("redirect_uri", "")]), Some(&client(false)))));
        let mut twice = params(&[]);
        twice.push(("redirect_uri".into(), "https://app.example/cb".into()));
        assert!(page(check_request(&twice, Some(&client(false)))));
    }

    #[test]
    fn pkce_is_s256_only_and_required_for_public_clients() {
        let public = client(false);
        assert_eq!(
            redirected(check_request(&params(&[("code_challenge_method", "plain")]), Some(&public))).0,
            "invalid_request"
        );
        assert!(redirected(check_request(&params(&[("code_challenge_method", "")]), Some(&public))).1.contains("S256"));
        let missing = params(&[("code_challenge", ""), ("code_challenge_method", "")]);
        assert!(redirected(check_request(&missing, Some(&public))).1.contains("required"));
        // A confidential client may go without, unless registered to require it.
        let mut confidential = client(true);
        assert!(check_request(&missing, Some(&confidential)).unwrap().code_challenge.is_none());
        confidential.browser.require_pkce = true;
        assert!(redirected(check_request(&missing, Some(&confidential))).1.contains("required"));
        assert!(
            redirected(check_request(&params(&[("code_challenge", "short")]), Some(&public))).1.contains("SHA-256")
        );
    }

    #[test]
    fn each_bad_parameter_is_named_in_its_error() {
        let app = client(false);
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: [Case; 8] = [
            (&[("response_type", "")], "invalid_request", "response_type"),
            (&[("response_type", "token")], "unsupported_response_type", "response_type"),
            (&[("scope", "openid admin")], "invalid_scope", "admin"),
            (&[("prompt", "none login")], "invalid_request", "prompt"),
            (&[("max_age", "-1")], "invalid_request", "max_age"),
            (&[("request", "eyJ")], "request_not_supported", "request"),
            (&[("request_uri", "https://x")], "request_uri_not_supported", "request_uri"),
            (&[("response_mode", "fragment")], "invalid_request", "response_mode"),
        ];
        for (extra, error, named) in cases {
            let (code, description) = redirected(check_request(&params(extra), Some(&app)));
            assert_eq!(code, error, "{extra:?}");
            assert!(description.contains(named), "{extra:?}: {description}");
        }
        let mut twice = params(&[]);
        twice.push(("scope".into(), "openid".into()));
        assert!(redirected(check_request(&twice, Some(&app))).1.contains("scope: repeated"));
    }

    fn session(auth_time: i64) -> Session {
        Session {
            sid: crate::model::session::SessionId::new("s"),
            kind: crate::model::session::SessionKind::Browser,
            user_id: crate::model::account::UserId::new("u"),
            client_id: None,
            auth_time: Timestamp::from_unix(auth_time),
            acr: None,
            amr: vec![],
            created_at: Timestamp::from_unix(auth_time),
            expires_at: Timestamp::from_unix(auth_time + 3600),
            revoked_at: None,
        }
    }

    #[test]
    fn the_next_step_follows_session_prompt_max_age_and_consent() {
        let app = client(false);
        let now = Timestamp::from_unix(1_000);
        let mut request = check_request(&params(&[]), Some(&app)).unwrap();
        let consented = vec!["openid".to_owned()];
        let step = |request: &AuthorizationRequest, session: Option<Session>, consented: &[String]| {
            next_step(request, &app, session.as_ref(), consented, now)
        };
        assert_eq!(step(&request, None, &[]), Ok(NextStep::Login));
        assert_eq!(step(&request, Some(session(900)), &[]), Ok(NextStep::Consent));
        assert_eq!(step(&request, Some(session(900)), &consented), Ok(NextStep::Issue));

        request.max_age = Some(60);
        assert_eq!(step(&request, Some(session(900)), &consented), Ok(NextStep::Login));
        assert_eq!(step(&request, Some(session(941)), &consented), Ok(NextStep::Issue));
        // A login in this very second satisfies neither max_age=0 nor prompt=login…
        request.max_age = Some(0);
        assert_eq!(step(&request, Some(session(1000)), &consented), Ok(NextStep::Login));
        request.max_age = None;
        request.prompt.login = true;
        assert_eq!(step(&request, Some(session(1000)), &consented), Ok(NextStep::Login));
        // …only a login made for the request does.
        assert_eq!(step(&request.after_login(), Some(session(1000)), &consented), Ok(NextStep::Issue));

        request.prompt = Prompt { none: true, ..Prompt::default() };
        assert_eq!(step(&request, None, &[]).unwrap_err().0, "login_required");
        assert_eq!(step(&request, Some(session(900)), &[]).unwrap_err().0, "consent_required");
        request.id_token_hint_sub = Some("someone else".into());
        assert_eq!(step(&request, Some(session(900)), &consented).unwrap_err().0, "login_required");
    }
}

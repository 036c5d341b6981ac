//! `GET|POST /oauth/authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2): checks the request (core's
//! `flows::authorize`), then either answers at once (a code, or an error) or starts an
//! interaction — the pending request kept server-side behind an opaque id for ten minutes — and
//! sends the browser to its pages (`routes::interaction`).
//!
//! Also the responses every step of the browser flow ends with: a redirect to the client with
//! `code` or `error`, `state` and `iss` (RFC 9207), in the query or as a form post.

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_core::CoreError;
use tessera_core::flows::authorize::{
    AuthorizationRequest, AuthorizeError, NextStep, Redirect, ResponseMode, check_request, issue_code, next_step,
    requested_client_id,
};
use tessera_core::model::artifact::{Artifact, ArtifactHash, ArtifactKind, Redeemed};
use tessera_core::model::client::{Client, ClientStore};
use tessera_core::model::session::Session;
use tessera_core::random::random_secret;

use crate::browser::{INTERACTION_COOKIE, INTERACTION_COOKIE_MAX_AGE, browser_session, cookie, set_cookie};
use crate::error::ApiError;
use crate::pages::secure_page_headers;
use crate::state::AppState;

/// How long an interaction (the pages between the request and the code) may take, seconds.
pub const INTERACTION_TTL: i64 = 600;

/// The largest authorization request read from a form body: the parameters' own limits add up
/// to less.
const MAX_FORM: usize = 64 * 1024;

/// `GET|POST /oauth/authorize`.
pub async fn authorize(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let params = match parameters(&state, &parts.method, &parts.headers, parts.uri.query(), body).await {
        Ok(params) => params,
        Err(message) => return state.pages.error(StatusCode::BAD_REQUEST, "We can’t continue this sign-in", &message),
    };
    match authorize_checked(&state, &parts.headers, &params).await {
        Ok(response) => response,
        Err(error) => failure(&state, error),
    }
}

async fn authorize_checked(
    state: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<Response, Failure> {
    let client_id = requested_client_id(params)?;
    let client = state.clients.client(&client_id).await?;
    let mut request = check_request(params, client.as_ref())?;
    let Some(client) = client else { return Err(AuthorizeError::Page { reason: "client_id: unknown".into() }.into()) };
    let to = redirect_of(&request);
    // OIDC Core §3.1.2.1: a hint must be an ID token of ours; it names whom the client expects.
    if let Some((_, hint)) = params.iter().find(|(name, value)| name == "id_token_hint" && !value.is_empty()) {
        let claims = state.ring.current().id_token_hint(hint, state.now());
        let sub = claims.as_ref().and_then(|c| c.get("sub")).and_then(|s| s.as_str());
        match sub {
            Some(sub) => request.id_token_hint_sub = Some(sub.to_owned()),
            None => {
                return Err(Failure::Redirect(
                    to,
                    "invalid_request",
                    "id_token_hint: not a valid ID token of this server".into(),
                ));
            }
        }
    }
    let session = browser_session(state, headers).await?;
    // A first-party client never asks, so its consents need no read.
    let consented = match &session {
        Some(session) if !client.browser.first_party => {
            state.store.consented_scopes(&session.user_id, &client.client_id).await?
        }
        _ => Vec::new(),
    };
    match next_step(&request, &client, session.as_ref(), &consented, state.now()) {
        Err((error, description)) => Err(Failure::Redirect(to, error, description.into())),
        Ok(NextStep::Issue) => match session {
            Some(session) => Ok(code_response(state, &client, &request, &session).await?),
            None => Err(CoreError::CorruptData("issue without a session".into()).into()),
        },
        Ok(NextStep::Login | NextStep::Consent) => Ok(start_interaction(state, headers, &request).await?),
    }
}

/// The request's parameters, from the query (GET) or the form body (POST, OIDC Core §3.1.2.1).
async fn parameters(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: axum::body::Body,
) -> Result<Vec<(String, String)>, String> {
    let decode = |bytes: &[u8]| url::form_urlencoded::parse(bytes).into_owned().collect::<Vec<(String, String)>>();
    if *method != Method::POST {
        return Ok(decode(query.unwrap_or_default().as_bytes()));
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err("A POST to the authorization endpoint must be a form (application/x-www-form-urlencoded).".into());
    }
    let request = Request::builder().body(body).map_err(|_| "unreadable body".to_owned())?;
    let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|_| "unreadable body".to_owned())?;
    if bytes.len() > MAX_FORM {
        return Err("The request is too large.".into());
    }
    Ok(decode(&bytes))
}

/// Why a browser step failed: a page (nothing is safe to redirect to), a redirect with an
/// error to the client, or a server fault.
pub enum Failure {
    /// Shown to the person.
    Page(String),
    /// Sent to the client.
    Redirect(Redirect, &'static str, String),
    /// Anything else: a 500 page.
    Server(ApiError),
}

impl From<AuthorizeError> for Failure {
    fn from(error: AuthorizeError) -> Failure {
        match error {
            AuthorizeError::Page { reason } => Failure::Page(reason),
            AuthorizeError::Redirect { to, error, description } => Failure::Redirect(to, error, description),
        }
    }
}

impl From<CoreError> for Failure {
    fn from(error: CoreError) -> Failure {
        Failure::Server(ApiError::Core(error))
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Failure {
        Failure::Server(error)
    }
}

/// The response for a failure.
pub fn failure(state: &AppState, failure: Failure) -> Response {
    match failure {
        Failure::Page(reason) => {
            // The reason names the parameter for the application's developer; the title is for the person.
            state.pages.error(StatusCode::BAD_REQUEST, "We can’t continue this sign-in", &reason)
        }
        Failure::Redirect(to, error, description) => {
            client_response(state, &to, &[("error", error), ("error_description", &description)], None)
        }
        Failure::Server(error) => {
            let response = error.into_response();
            if response.status().is_server_error() {
                state.pages.error(response.status(), "Something went wrong", "Please try again in a moment.")
            } else {
                response
            }
        }
    }
}

/// Where responses to `request` go.
pub fn redirect_of(request: &AuthorizationRequest) -> Redirect {
    Redirect {
        redirect_uri: request.redirect_uri.clone(),
        response_mode: request.response_mode,
        state: request.state.clone(),
    }
}

/// Issues the code and sends it to the client.
pub async fn code_response(
    state: &AppState,
    client: &Client,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<Response, CoreError> {
    let code = issue_code(&*state.store, &state.random, request, session, state.now()).await?;
    metrics::counter!("tessera_authorization_codes_issued_total").increment(1);
    Ok(client_response(state, &redirect_of(request), &[("code", &code)], Some(client)))
}

/// A response to the client's redirect URI with `fields`, `state` and `iss` (RFC 9207 §2), in
/// the query (`303`) or as an auto-submitted form (`form_post`).
pub fn client_response(state: &AppState, to: &Redirect, fields: &[(&str, &str)], client: Option<&Client>) -> Response {
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    if let Some(value) = &to.state {
        all.push(("state", value));
    }
    all.push(("iss", &state.issuer));
    match to.response_mode {
        ResponseMode::Query => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(all.iter());
            let separator = if to.redirect_uri.contains('?') { '&' } else { '?' };
            see_other(&format!("{}{separator}{}", to.redirect_uri, query.finish()))
        }
        ResponseMode::FormPost => {
            let client_name = client.map_or("the application", Client::display_name).to_owned();
            let fields: Vec<(String, String)> = all.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let context = minijinja::context! { action => to.redirect_uri.clone(), fields, client_name };
            state.pages.render(StatusCode::OK, "form_post.html", context)
        }
    }
}

/// A `303 See Other` to `location`, with the page headers (no caching, no referrer).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            headers.insert(header::LOCATION, value);
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    secure_page_headers(headers);
    response
}

/// An interaction as stored: the checked request, the hash of the browser binding it may be
/// continued from, and when it began (a `prompt=login` needs a login after that).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Interaction {
    /// The authorization request.
    pub request: AuthorizationRequest,
    /// SHA-256 of the `tessera_interaction` cookie, base64url.
    pub binding: String,
    /// When it began.
    pub started_at: i64,
}

fn binding_hash(binding: &str) -> String {
    tessera_jose::base64url::encode(ArtifactHash::of_secret(binding).0)
}

/// Stores an interaction for `request` bound to this browser and sends the browser to it.
async fn start_interaction(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
) -> Result<Response, CoreError> {
    let existing = cookie(headers, INTERACTION_COOKIE).map(str::to_owned);
    let binding = match &existing {
        Some(binding) => binding.clone(),
        None => random_secret(&state.random)?,
    };
    let interaction =
        Interaction { request: request.clone(), binding: binding_hash(&binding), started_at: state.now().unix() };
    let id = store_interaction(state, &interaction).await?;
    let mut response = see_other(&format!("/interaction/{id}"));
    // One binding per browser, kept across interactions: two tabs' sign-ins both work.
    let cookie = set_cookie(INTERACTION_COOKIE, &binding, Some(INTERACTION_COOKIE_MAX_AGE), state.secure_cookies());
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends interaction `id` and continues it under a new id as `request` (after a login): the old
/// id, and so a replay of the form that led here, is spent. Returns the new id.
pub async fn advance_interaction(
    state: &AppState,
    id: &str,
    interaction: &Interaction,
    request: AuthorizationRequest,
) -> Result<String, Failure> {
    if !take_interaction(state, id).await? {
        return Err(Failure::Page(
            "This sign-in request was already completed. Start again from the application.".into(),
        ));
    }
    let next = Interaction { request, binding: interaction.binding.clone(), started_at: state.now().unix() };
    Ok(store_interaction(state, &next).await?)
}

/// Stores `interaction` for ten minutes under a fresh id.
async fn store_interaction(state: &AppState, interaction: &Interaction) -> Result<String, CoreError> {
    let now = state.now();
    let id = random_secret(&state.random)?;
    let request = &interaction.request;
    let artifact = Artifact {
        kind: ArtifactKind::Interaction,
        hash: ArtifactHash::of_secret(&id),
        subject: request.client_id.as_str().to_owned(),
        grant_id: None,
        payload: serde_json::to_value(interaction).map_err(|e| CoreError::CorruptData(e.to_string()))?,
        max_attempts: 1,
        created_at: now,
        expires_at: now.plus(INTERACTION_TTL),
    };
    state.store.put_artifact(&artifact, now).await?;
    state.interactions.insert(artifact.hash, interaction, artifact.expires_at, now);
    Ok(id)
}

/// Takes interaction `id` for good (the store decides, once); `false` if it was not live.
pub async fn take_interaction(state: &AppState, id: &str) -> Result<bool, CoreError> {
    let hash = ArtifactHash::of_secret(id);
    state.interactions.remove(&hash);
    Ok(matches!(state.store.take_artifact(ArtifactKind::Interaction, &hash, state.now()).await?, Redeemed::Taken(_)))
}

/// The live interaction `id`, if this browser may continue it: its binding cookie must be the
/// one it was started with.
pub async fn load_interaction(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<(Interaction, String), Failure> {
    let expired = || {
        Failure::Page("This sign-in request has expired or was already used. Start again from the application.".into())
    };
    if id.len() != 43 {
        return Err(expired());
    }
    let (hash, now) = (ArtifactHash::of_secret(id), state.now());
    let interaction = match state.interactions.get(&hash, now) {
        Some(interaction) => interaction,
        None => {
            let artifact =
                state.store.peek_artifact(ArtifactKind::Interaction, &hash, now).await?.ok_or_else(expired)?;
            let interaction: Interaction = serde_json::from_value(artifact.payload)
                .map_err(|e| CoreError::CorruptData(format!("interaction payload: {e}")))?;
            state.interactions.insert(hash, &interaction, artifact.expires_at, now);
            interaction
        }
    };
    let binding = cookie(headers, INTERACTION_COOKIE)
        .filter(|binding| {
            let hash = binding_hash(binding);
            aws_lc_rs::constant_time::verify_slices_are_equal(hash.as_bytes(), interaction.binding.as_bytes()).is_ok()
        })
        .ok_or_else(|| {
            Failure::Page("This sign-in page was opened in another browser. Start again from the application.".into())
        })?;
    Ok((interaction, binding.to_owned()))
}

/// Ends interaction `id` (single use) and issues the code.
pub async fn finish_interaction(
    state: &AppState,
    id: &str,
    client: &Client,
    interaction: &Interaction,
    session: &Session,
) -> Result<Response, Failure> {
    if take_interaction(state, id).await? {
        Ok(code_response(state, client, &interaction.request, session).await?)
    } else {
        Err(Failure::Page("This sign-in request was already completed. Start again from the application.".into()))
    }
}

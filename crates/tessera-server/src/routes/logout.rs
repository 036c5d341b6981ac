//! `GET|POST /oauth/logout`: OpenID Connect RP-Initiated Logout 1.0. The browser session ends
//! with everything it issued (its grants, and a `sid` revocation for its access tokens), the
//! cookie is cleared, and the browser goes back to a `post_logout_redirect_uri` the client
//! registered exactly, or sees a "signed out" page.
//!
//! Without an `id_token_hint` naming the current session, the person is asked first (§2: the
//! OP should confirm, or any site could log its visitors out); the confirmation form carries a
//! CSRF token bound to the session cookie.

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use tessera_core::flows::logout::end_session;
use tessera_core::model::client::{Client, ClientId, ClientStore};
use tessera_core::model::session::Session;

use super::authorize::see_other;
use crate::browser::{SESSION_COOKIE, browser_session, clear_cookie, cookie, csrf_matches, csrf_token};
use crate::error::ApiError;
use crate::state::AppState;

/// The purpose the logout form's CSRF token is bound to.
const LOGOUT_PURPOSE: &str = "logout";

/// `GET|POST /oauth/logout`.
pub async fn logout(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let params: Vec<(String, String)> = if parts.method == Method::POST {
        let request = Request::from_parts(parts.clone(), body);
        match axum::body::Bytes::from_request(request, &state).await {
            Ok(bytes) => url::form_urlencoded::parse(&bytes).into_owned().collect(),
            Err(_) => return bad(&state, "The request could not be read."),
        }
    } else {
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect()
    };
    match logout_checked(&state, &parts.method, &parts.headers, &params).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(error = ?error, "logout failed");
            state.pages.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again in a moment.",
            )
        }
    }
}

fn bad(state: &AppState, message: &str) -> Response {
    state.pages.error(StatusCode::BAD_REQUEST, "We can’t complete this sign-out", message)
}

fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, String> {
    let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let first = values.next();
    if values.next().is_some() {
        return Err(format!("{name}: repeated"));
    }
    Ok(first)
}

async fn logout_checked(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<Response, ApiError> {
    let read = |name| single(params, name);
    let (hint, client_id, post_logout, logout_state, confirmed, csrf) = match (
        read("id_token_hint"),
        read("client_id"),
        read("post_logout_redirect_uri"),
        read("state"),
        read("logout"),
        read("csrf"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f)) => (a, b, c, d, e, f),
        _ => return Ok(bad(state, "A parameter was repeated.")),
    };
    let now = state.now();
    let hint_claims = match hint {
        Some(token) => match state.ring.current().id_token_hint(token, now) {
            Some(claims) => Some(claims),
            None => return Ok(bad(state, "id_token_hint: not a valid ID token of this server.")),
        },
        None => None,
    };
    // The client: the hint's audience, or client_id; both given, they must agree (§2).
    let hint_client = hint_claims.as_ref().and_then(|c| match &c["aud"] {
        serde_json::Value::String(aud) => Some(aud.clone()),
        serde_json::Value::Array(auds) if auds.len() == 1 => auds[0].as_str().map(str::to_owned),
        _ => None,
    });
    let client_id = match (hint_client, client_id) {
        (Some(from_hint), Some(named)) if from_hint != named => {
            return Ok(bad(state, "client_id: does not match the id_token_hint."));
        }
        (Some(from_hint), _) => Some(from_hint),
        (None, named) => named.map(str::to_owned),
    };
    let client = match &client_id {
        Some(id) => state.clients.client(&ClientId::new(id.as_str())).await?,
        None => None,
    };
    // Only a URI the client registered, exactly; otherwise there is nowhere safe to go.
    let back = match (post_logout, &client) {
        (None, _) => None,
        (Some(uri), Some(client)) if client.post_logout_redirect_uri_allowed(uri) => Some(uri),
        (Some(_), None) => {
            return Ok(bad(state, "post_logout_redirect_uri: needs a client_id or an id_token_hint to be checked."));
        }
        (Some(_), Some(_)) => {
            return Ok(bad(state, "post_logout_redirect_uri: not registered for this client."));
        }
    };
    let session = browser_session(state, headers).await?;
    let Some(session) = session else {
        // Nothing to end: the person is signed out already.
        return Ok(done(state, back, logout_state));
    };
    let hint_names_session = hint_claims.as_ref().is_some_and(|claims| {
        claims["sid"].as_str() == Some(session.sid.as_str()) && claims["sub"].as_str() == Some(session.user_id.as_str())
    });
    let session_cookie = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    let form_confirmed = *method == Method::POST
        && confirmed.is_some()
        && csrf.is_some_and(|token| csrf_matches(session_cookie, LOGOUT_PURPOSE, token));
    if !(hint_names_session || form_confirmed) {
        return confirmation(state, &session, session_cookie, client.as_ref(), back, logout_state).await;
    }
    end_session(&*state.store, &state.audit, &session.sid, state.max_access_ttl(), now).await?;
    let mut response = done(state, back, logout_state);
    response.headers_mut().append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE, state.secure_cookies()));
    Ok(response)
}

/// After logout: back to the client, with `state`, or the "signed out" page.
fn done(state: &AppState, back: Option<&str>, logout_state: Option<&str>) -> Response {
    match back {
        Some(uri) => {
            let mut location = uri.to_owned();
            if let Some(value) = logout_state {
                let query: String =
                    url::form_urlencoded::Serializer::new(String::new()).append_pair("state", value).finish();
                location.push(if uri.contains('?') { '&' } else { '?' });
                location.push_str(&query);
            }
            see_other(&location)
        }
        None => state.pages.render(StatusCode::OK, "logged_out.html", minijinja::context! {}),
    }
}

/// The confirmation page; its form repeats the request's parameters.
async fn confirmation(
    state: &AppState,
    session: &Session,
    session_cookie: &str,
    client: Option<&Client>,
    back: Option<&str>,
    logout_state: Option<&str>,
) -> Result<Response, ApiError> {
    let user = state.store.account(&session.user_id).await?.map(|a| a.email.as_str().to_owned());
    let context = minijinja::context! {
        csrf => csrf_token(session_cookie, LOGOUT_PURPOSE), logout => "confirm", user,
        client_id => client.map(|c| c.client_id.as_str().to_owned()),
        post_logout_redirect_uri => back.map(str::to_owned), state => logout_state.map(str::to_owned),
    };
    Ok(state.pages.render(StatusCode::OK, "logout.html", context))
}

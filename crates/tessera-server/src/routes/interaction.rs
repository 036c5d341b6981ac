//! The pages of an interaction: `GET /interaction/{id}` shows the login form or the consent
//! page, whichever the pending request needs next; `POST …/login` and `POST …/consent` take
//! their forms. Every POST needs the browser's binding cookie and the form's CSRF token; every
//! step re-decides with core's `next_step`, so no page can be skipped by posting out of order.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tessera_core::CoreError;
use tessera_core::flows::authorize::NextStep;
use tessera_core::flows::browser_session::{BrowserLogin, sign_in};
use tessera_core::flows::login::{ACR_PASSWORD, check_password};
use tessera_core::model::audit::{AuditEvent, AuditKind, AuditSink};
use tessera_core::model::client::{Client, ClientStore};
use tessera_core::model::session::Session;

use super::authorize::{
    Failure, Interaction, advance_interaction, client_response, failure, finish_interaction, load_interaction,
    redirect_of, see_other,
};
use crate::browser::{SESSION_COOKIE, browser_session, csrf_matches, csrf_token, lifetimes, set_cookie};
use crate::client_address::ClientIp;
use crate::error::ApiError;
use crate::extract::FormBody;
use crate::pages::describe_scope;
use crate::password_pool::BUSY_RETRY_AFTER;
use crate::routes::auth::MAX_USERNAME;
use crate::state::AppState;

/// `GET /interaction/{id}`.
pub async fn show(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    match show_step(&state, &id, &headers).await {
        Ok(response) => response,
        Err(error) => failure(&state, error),
    }
}

async fn show_step(state: &AppState, id: &str, headers: &HeaderMap) -> Result<Response, Failure> {
    let (interaction, binding) = load_interaction(state, headers, id).await?;
    let client = client_of(state, &interaction).await?;
    let session = browser_session(state, headers).await?;
    match step(state, &interaction, &client, session.as_ref()).await? {
        NextStep::Login => Ok(login_page(state, id, &binding, &client, &interaction, None, StatusCode::OK)),
        NextStep::Consent => match &session {
            Some(session) => Ok(consent_page(state, id, &binding, &client, &interaction, session).await?),
            None => Err(CoreError::CorruptData("consent without a session".into()).into()),
        },
        NextStep::Issue => match &session {
            Some(session) => finish_interaction(state, id, &client, &interaction, session).await,
            None => Err(CoreError::CorruptData("issue without a session".into()).into()),
        },
    }
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

/// `POST /interaction/{id}/login`.
pub async fn login(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    match login_step(&state, &id, ip, &headers, form).await {
        Ok(response) => response,
        Err(error) => failure(&state, error),
    }
}

async fn login_step(
    state: &AppState,
    id: &str,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    form: LoginForm,
) -> Result<Response, Failure> {
    let (interaction, binding) = load_interaction(state, headers, id).await?;
    check_csrf(&binding, id, form.csrf.as_deref())?;
    let client = client_of(state, &interaction).await?;
    let (email, password) = (form.email.unwrap_or_default(), form.password.unwrap_or_default());
    let wrong = |state: &AppState, message: &str, status| {
        Ok(login_page(state, id, &binding, &client, &interaction, Some((message, email.as_str())), status))
    };
    if email.is_empty() || password.is_empty() {
        return wrong(state, "Enter your email and password.", StatusCode::BAD_REQUEST);
    }
    if email.len() > MAX_USERNAME {
        return wrong(state, "That email address is too long.", StatusCode::BAD_REQUEST);
    }
    let now = state.now();
    let Some(_place) = state.passwords.admit() else { return Err(ApiError::Unavailable(BUSY_RETRY_AFTER).into()) };
    let attempt = match state.limits.begin(&email.trim().to_lowercase(), ip, now).await {
        Ok(attempt) => attempt,
        Err(_) => {
            return wrong(
                state,
                "Too many attempts. Wait a few minutes, then try again.",
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
    };
    let ip_text = Some(ip.to_string());
    let services = state.issuance();
    let account = match check_password(
        &*state.store,
        &state.passwords,
        &services,
        &client,
        &email,
        &password,
        ip_text.clone(),
        now,
    )
    .await
    {
        Ok(account) => {
            attempt.succeeded();
            account
        }
        Err(CoreError::InvalidCredentials { .. }) => {
            attempt.failed();
            return wrong(state, "The email or password is wrong.", StatusCode::UNAUTHORIZED);
        }
        Err(other) => {
            attempt.not_counted();
            return Err(other.into());
        }
    };
    let existing = browser_session(state, headers).await?;
    let amr = vec!["pwd".to_owned()];
    let login = BrowserLogin { account: &account, acr: ACR_PASSWORD, amr: &amr, ip: ip_text };
    let (session, cookie) =
        sign_in(&*state.store, &state.random, &state.audit, login, existing.as_ref(), lifetimes(state), now).await?;
    // This login satisfies what asked for one (prompt=login, max_age), whatever the clock says.
    let after_login = Interaction { request: interaction.request.after_login(), ..interaction.clone() };
    let mut response = match step(state, &after_login, &client, Some(&session)).await? {
        NextStep::Issue => finish_interaction(state, id, &client, &after_login, &session).await?,
        // On under a new id, by a GET: a reload does not post the password again, and a replay
        // of this form finds its interaction spent.
        NextStep::Consent | NextStep::Login => {
            let next = advance_interaction(state, id, &interaction, after_login.request).await?;
            see_other(&format!("/interaction/{next}"))
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &cookie, None, state.secure_cookies()));
    Ok(response)
}

/// The consent form.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    csrf: Option<String>,
    decision: Option<String>,
}

/// `POST /interaction/{id}/consent`.
pub async fn consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormBody(form): FormBody<ConsentForm>,
) -> Response {
    match consent_step(&state, &id, ip, &headers, form).await {
        Ok(response) => response,
        Err(error) => failure(&state, error),
    }
}

async fn consent_step(
    state: &AppState,
    id: &str,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    form: ConsentForm,
) -> Result<Response, Failure> {
    let (interaction, binding) = load_interaction(state, headers, id).await?;
    check_csrf(&binding, id, form.csrf.as_deref())?;
    let client = client_of(state, &interaction).await?;
    let session = browser_session(state, headers).await?;
    // Consent only from a session that satisfies the request (login, max_age, hint).
    let session = match (step(state, &interaction, &client, session.as_ref()).await?, session) {
        (NextStep::Login, _) | (_, None) => return Ok(see_other(&format!("/interaction/{id}"))),
        (_, Some(session)) => session,
    };
    let now = state.now();
    match form.decision.as_deref() {
        Some("allow") => {
            let scopes = &interaction.request.consent_scopes();
            state.store.record_consent(&session.user_id, &client.client_id, scopes, now).await?;
            state.audit.record(
                AuditEvent::new(AuditKind::ConsentGranted, now)
                    .actor(session.user_id.as_str())
                    .client(&client.client_id)
                    .ip(Some(ip.to_string()))
                    .details(json!({ "scopes": scopes })),
            );
            finish_interaction(state, id, &client, &interaction, &session).await
        }
        Some("deny") => {
            // The interaction ends: the same request cannot be allowed afterwards.
            super::authorize::take_interaction(state, id).await?;
            let to = redirect_of(&interaction.request);
            let fields = [("error", "access_denied"), ("error_description", "the user denied the request")];
            Ok(client_response(state, &to, &fields, Some(&client)))
        }
        _ => Ok(see_other(&format!("/interaction/{id}"))),
    }
}

fn check_csrf(binding: &str, id: &str, presented: Option<&str>) -> Result<(), Failure> {
    match presented {
        Some(token) if csrf_matches(binding, id, token) => Ok(()),
        _ => Err(Failure::Page("This form has expired. Go back and try again.".into())),
    }
}

async fn client_of(state: &AppState, interaction: &Interaction) -> Result<Client, Failure> {
    state
        .clients
        .client(&interaction.request.client_id)
        .await?
        .ok_or_else(|| Failure::Page("The application was removed. Start again from the application.".into()))
}

/// What the request needs next, in this interaction.
async fn step(
    state: &AppState,
    interaction: &Interaction,
    client: &Client,
    session: Option<&Session>,
) -> Result<NextStep, Failure> {
    let consented = match session {
        Some(session) if !client.browser.first_party => {
            state.store.consented_scopes(&session.user_id, &client.client_id).await?
        }
        _ => Vec::new(),
    };
    tessera_core::flows::authorize::next_step(&interaction.request, client, session, &consented, state.now())
        .map_err(|(error, description)| Failure::Redirect(redirect_of(&interaction.request), error, description.into()))
}

fn login_page(
    state: &AppState,
    id: &str,
    binding: &str,
    client: &Client,
    interaction: &Interaction,
    error: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    let (message, email) = match error {
        Some((message, email)) => (message, email),
        None => ("", interaction.request.login_hint.as_deref().unwrap_or_default()),
    };
    let context = minijinja::context! {
        client_name => client.display_name().to_owned(), interaction => id.to_owned(),
        csrf => csrf_token(binding, id), error => message.to_owned(), email => email.to_owned(),
    };
    state.pages.render(status, "login.html", context)
}

async fn consent_page(
    state: &AppState,
    id: &str,
    binding: &str,
    client: &Client,
    interaction: &Interaction,
    session: &Session,
) -> Result<Response, CoreError> {
    let user = match state.store.account(&session.user_id).await? {
        Some(account) => account.email.as_str().to_owned(),
        None => session.user_id.as_str().to_owned(),
    };
    let scopes: Vec<String> = interaction.request.consent_scopes().iter().map(|s| describe_scope(s)).collect();
    let context = minijinja::context! {
        client_name => client.display_name().to_owned(), interaction => id.to_owned(),
        csrf => csrf_token(binding, id), scopes, user,
    };
    Ok(state.pages.render(StatusCode::OK, "consent.html", context))
}

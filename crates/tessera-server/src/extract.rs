//! Request parsing that turns every malformed input into a 400 naming the field, and the
//! credentials of RFC 6749 §2.3.1 (client) and RFC 6750 §2.1 (bearer).

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use tessera_core::CoreError;
use tessera_core::flows::client_authentication::authenticate_client;
use tessera_core::model::audit::{AuditEvent, AuditKind, AuditSink};
use tessera_core::model::client::{Client, ClientId};
use tessera_core::secrets::client_secret::ClientSecret;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; any error is `400 invalid_request` with serde's message, which names the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| JsonBody(value))
            .map_err(|rejection| rejected(rejection.status(), rejection.body_text(), &rejection))
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`; one that is sent must
/// be JSON as for [`JsonBody`] (content type, size limit, errors naming the field).
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| rejected(rejection.status(), rejection.body_text(), &rejection))?;
        if bytes.is_empty() {
            return Ok(OptionalJsonBody(T::default()));
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        JsonBody::<T>::from_request(request, state).await.map(|JsonBody(value)| OptionalJsonBody(value))
    }
}

/// An `application/x-www-form-urlencoded` body (RFC 6749 §4); errors as for [`JsonBody`].
pub struct FormBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|axum::Form(value)| FormBody(value))
            .map_err(|rejection| rejected(rejection.status(), rejection.body_text(), &rejection))
    }
}

/// The body of `POST /oauth/token`: a form (RFC 6749 §4), or the same members as a JSON object
/// (`Content-Type: application/json`), as several hosted providers and SPEC §5's own examples
/// send it. The content type decides, and each is read as strictly as the other: a repeated
/// member or a member of the wrong type is a 400 naming it; any other media type is a 415.
pub struct FormOrJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        match media_type.as_deref() {
            Some("application/json") => {
                JsonBody::<T>::from_request(request, state).await.map(|JsonBody(v)| FormOrJson(v))
            }
            Some("application/x-www-form-urlencoded") => {
                FormBody::<T>::from_request(request, state).await.map(|FormBody(v)| FormOrJson(v))
            }
            _ => Err(ApiError::UnsupportedMediaType(
                "the body must be application/x-www-form-urlencoded or application/json".into(),
            )),
        }
    }
}

/// Maps an extractor's rejection to the JSON error of the same meaning.
pub(crate) fn rejected(status: StatusCode, message: String, error: &(dyn std::error::Error + 'static)) -> ApiError {
    if timed_out(error) {
        return ApiError::RequestTimeout;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(message),
        _ => ApiError::BadRequest(message),
    }
}

/// Whether a body error was the body-read deadline (tower-http's `TimeoutError`, however
/// deep axum wrapped it).
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The one `Authorization` header, if any. Two are refused: which one counts would depend on
/// the parser, and a proxy and the server could read different ones (RFC 9110 §5.3: a field
/// that is not a list must not be repeated; RFC 6750 §2 allows one method per request).
pub fn authorization(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::BadRequest("Authorization: sent more than once".into()));
    }
    match first.map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(value)) => Ok(Some(value)),
        Some(Err(_)) => Err(ApiError::BadRequest("Authorization: not visible ASCII".into())),
    }
}

/// Client credentials as presented: HTTP Basic or form parameters, never both (§2.3.1).
#[derive(Debug)]
pub struct PresentedClient {
    /// The `client_id`.
    pub client_id: String,
    /// The secret, for `client_secret_basic` and `client_secret_post`.
    pub secret: Option<ClientSecret>,
    /// Whether HTTP Basic was used (a failure then answers with a Basic challenge).
    pub basic: bool,
}

/// Reads the client's credentials from the `Authorization: Basic` header or the form.
pub fn presented_client(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Option<PresentedClient>, ApiError> {
    let basic = match authorization(headers)? {
        Some(value) if value.len() > 6 && value[..6].eq_ignore_ascii_case("basic ") => Some(decode_basic(&value[6..])?),
        _ => None,
    };
    match basic {
        Some((id, secret)) => {
            if form_secret.is_some() || form_id.is_some_and(|f| f != id) {
                return Err(ApiError::BadRequest("client credentials must be sent in one way only".into()));
            }
            Ok(Some(PresentedClient { client_id: id, secret: Some(ClientSecret::new(secret)), basic: true }))
        }
        None => Ok(form_id.map(|id| PresentedClient {
            client_id: id.to_owned(),
            secret: form_secret.map(ClientSecret::new),
            basic: false,
        })),
    }
}

/// RFC 6749 §2.3.1: `base64(urlencode(client_id) ":" urlencode(secret))`.
fn decode_basic(encoded: &str) -> Result<(String, String), ApiError> {
    let malformed = || ApiError::BadRequest("Authorization: malformed Basic credentials".into());
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8().map(|c| c.into_owned());
    Ok((unescape(id).map_err(|_| malformed())?, unescape(secret).map_err(|_| malformed())?))
}

/// Authenticates the presented client; a failure is audited and answered as RFC 6749 asks.
pub async fn authenticate(
    state: &AppState,
    presented: PresentedClient,
    ip: Option<String>,
) -> Result<Client, ApiError> {
    let client_id = ClientId::new(&presented.client_id);
    match authenticate_client(&state.clients, &state.pepper, &client_id, presented.secret.as_ref()).await {
        Ok(client) => Ok(client),
        Err(CoreError::InvalidClient { detail }) => {
            let mut event = AuditEvent::new(AuditKind::ClientAuthenticationFailed, state.now())
                .ip(ip)
                .details(serde_json::json!({ "reason": detail }));
            // Only a plausible client_id goes into the log; garbage stays out.
            if presented.client_id.len() <= 128 && presented.client_id.chars().all(|c| c.is_ascii_graphic()) {
                event = event.client(&client_id);
            }
            state.audit.record(event);
            if presented.basic {
                Err(ApiError::BasicClientAuthFailed)
            } else {
                Err(ApiError::Core(CoreError::InvalidClient { detail }))
            }
        }
        Err(other) => Err(other.into()),
    }
}

/// The bearer token of `Authorization: Bearer …` (RFC 6750 §2.1), if any; a repeated
/// `Authorization` header is an error.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = authorization(headers)? else { return Ok(None) };
    let Some(scheme) = value.get(..7) else { return Ok(None) };
    Ok(scheme.eq_ignore_ascii_case("bearer ").then(|| value[7..].trim()).filter(|t| !t.is_empty()))
}

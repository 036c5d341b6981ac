//! The browser's side of the page flows: cookies, the session behind them, and CSRF tokens.
//!
//! Two cookies, both `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` over HTTPS:
//! - `tessera_session`: the browser session (its value is stored only as a hash);
//! - `tessera_interaction`: a random value binding pending authorization requests to this
//!   browser, so that a login form can only be posted by the browser that opened it (login
//!   CSRF, RFC 6749 §10.12). Each form's `csrf` field is an HMAC of that value and the form's
//!   purpose, so the cookie itself never appears in a page.

use aws_lc_rs::hmac;
use axum::http::{HeaderMap, HeaderValue, header};
use tessera_core::flows::browser_session::{SessionLifetimes, current_session};
use tessera_core::model::session::Session;

use crate::error::ApiError;
use crate::state::AppState;

/// The browser-session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";
/// The cookie binding interactions to the browser.
pub const INTERACTION_COOKIE: &str = "tessera_interaction";
/// How long the interaction cookie lives, seconds: longer than any interaction (10 minutes).
pub const INTERACTION_COOKIE_MAX_AGE: i64 = 3600;

/// The value of cookie `name`, if the request carries exactly one well-formed one. Cookie
/// values of this server are base64url, so anything else is ignored.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| value);
    let value = found.next()?;
    // Two cookies of one name (one planted by a sibling domain) are refused, not guessed at.
    if found.next().is_some() || value.is_empty() || value.len() > 128 {
        return None;
    }
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_').then_some(value)
}

/// A `Set-Cookie` header for `name=value`; `max_age` `None` makes it end with the browser.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    // Our names and base64url values are always valid header text.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `Set-Cookie` header that deletes cookie `name`.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", Some(0), secure)
}

/// The lifetimes of browser sessions in force.
pub fn lifetimes(state: &AppState) -> SessionLifetimes {
    let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    SessionLifetimes {
        idle: seconds(state.config.session.idle_ttl),
        absolute: seconds(state.config.session.absolute_ttl),
    }
}

/// The live browser session of this request, if any.
pub async fn browser_session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    match cookie(headers, SESSION_COOKIE) {
        Some(value) => Ok(current_session(&*state.store, value, lifetimes(state), state.now()).await?),
        None => Ok(None),
    }
}

/// The CSRF token of a form for `purpose` (an interaction id, or "logout"), bound to the
/// browser's `binding` cookie value.
pub fn csrf_token(binding: &str, purpose: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, binding.as_bytes());
    tessera_jose::base64url::encode(hmac::sign(&key, purpose.as_bytes()).as_ref())
}

/// Whether `presented` is the CSRF token for `purpose` under `binding`, in constant time.
pub fn csrf_matches(binding: &str, purpose: &str, presented: &str) -> bool {
    let expected = csrf_token(binding, purpose);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), presented.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_strictly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; tessera_session=abc_-9; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc_-9"));
        assert_eq!(cookie(&headers, INTERACTION_COOKIE), None);
        headers.append(header::COOKIE, HeaderValue::from_static("tessera_session=other"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), None, "two values are refused");
        let mut odd = HeaderMap::new();
        odd.insert(header::COOKIE, HeaderValue::from_static("tessera_session=a%20b"));
        assert_eq!(cookie(&odd, SESSION_COOKIE), None);
    }

    #[test]
    fn cookie_attributes_and_csrf() {
        let value = set_cookie(SESSION_COOKIE, "v", None, true);
        assert_eq!(value, "tessera_session=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        assert!(clear_cookie(SESSION_COOKIE, false).to_str().unwrap().contains("Max-Age=0"));
        let token = csrf_token("binding", "i1");
        assert!(csrf_matches("binding", "i1", &token));
        assert!(!csrf_matches("binding", "i2", &token));
        assert!(!csrf_matches("other", "i1", &token));
    }
}

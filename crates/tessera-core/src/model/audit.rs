//! Audit events: every authentication decision, refresh, incident and revocation, as a row.
//! No secret may reach an event: details pass through [`AuditDetails`], which redacts any
//! member whose name says it holds one, and a username typed at a failed login is kept only
//! when it is a well-formed account name ([`username_for_log`]).

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::client::ClientId;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed.
    LoginFailed,
    /// A refresh token was rotated.
    RefreshRotated,
    /// A rotated refresh token was presented again; its family was revoked. An incident.
    RefreshReused,
    /// A token or family was revoked on request.
    TokenRevoked,
    /// A session ended (logout or revocation).
    SessionRevoked,
    /// A client failed to authenticate.
    ClientAuthenticationFailed,
    /// An account was created.
    AccountCreated,
    /// An account was disabled.
    AccountDisabled,
    /// An account was removed.
    AccountRemoved,
    /// A client was registered.
    ClientRegistered,
    /// A client was removed.
    ClientRemoved,
    /// A signing key was created or changed state.
    SigningKeyRotated,
    /// A signing key was withdrawn at once (`tessera keys revoke`).
    SigningKeyRevoked,
    /// An account's password was set or reset by an administrator.
    PasswordChanged,
    /// A client-credentials access token was issued (RFC 6749 §4.4).
    ClientCredentialsIssued,
    /// An authorization code was presented again; the grant it produced was revoked. An incident.
    CodeReused,
    /// A user allowed a client scopes on the consent page.
    ConsentGranted,
    /// An account's name or profile claims were changed by an administrator.
    AccountUpdated,
    /// A client's settings were changed.
    ClientUpdated,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [AuditKind; 20] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::RefreshRotated,
        AuditKind::RefreshReused,
        AuditKind::TokenRevoked,
        AuditKind::SessionRevoked,
        AuditKind::ClientAuthenticationFailed,
        AuditKind::AccountCreated,
        AuditKind::AccountDisabled,
        AuditKind::AccountRemoved,
        AuditKind::ClientRegistered,
        AuditKind::ClientRemoved,
        AuditKind::SigningKeyRotated,
        AuditKind::SigningKeyRevoked,
        AuditKind::PasswordChanged,
        AuditKind::ClientCredentialsIssued,
        AuditKind::CodeReused,
        AuditKind::ConsentGranted,
        AuditKind::AccountUpdated,
        AuditKind::ClientUpdated,
    ];

    /// The stored and logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login.succeeded",
            AuditKind::LoginFailed => "login.failed",
            AuditKind::RefreshRotated => "refresh.rotated",
            AuditKind::RefreshReused => "refresh.reused",
            AuditKind::TokenRevoked => "token.revoked",
            AuditKind::SessionRevoked => "session.revoked",
            AuditKind::ClientAuthenticationFailed => "client.authentication_failed",
            AuditKind::AccountCreated => "account.created",
            AuditKind::AccountDisabled => "account.disabled",
            AuditKind::AccountRemoved => "account.removed",
            AuditKind::ClientRegistered => "client.registered",
            AuditKind::ClientRemoved => "client.removed",
            AuditKind::SigningKeyRotated => "signing_key.rotated",
            AuditKind::SigningKeyRevoked => "signing_key.revoked",
            AuditKind::PasswordChanged => "account.password_changed",
            AuditKind::ClientCredentialsIssued => "token.client_credentials",
            AuditKind::CodeReused => "code.reused",
            AuditKind::ConsentGranted => "consent.granted",
            AuditKind::AccountUpdated => "account.updated",
            AuditKind::ClientUpdated => "client.updated",
        }
    }
}

impl FromStr for AuditKind {
    type Err = CoreError;

    fn from_str(name: &str) -> Result<AuditKind, CoreError> {
        AuditKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| CoreError::CorruptData(format!("unknown audit kind {name:?}")))
    }
}

/// Words that make a member secret wherever they stand in its name (`new_password`,
/// `client_secret_hash`, `private_key_pem`).
const SECRET_WORDS: [&str; 8] =
    ["password", "passwd", "secret", "pepper", "private", "authorization", "credential", "credentials"];

/// Nouns that make a member secret when its name ends with them: `refresh_token` and `mfa_code`
/// hold one, `token_type` and `code_challenge_method` describe one and stay readable.
const SECRET_NOUNS: [&str; 12] =
    ["token", "tokens", "code", "codes", "otp", "jwt", "assertion", "verifier", "key", "hash", "cookie", "nonce"];

/// Whether a member name says its value is a secret: its words, split at `_`, `-`, `.` and
/// lower-to-upper case changes, contain a [`SECRET_WORDS`] entry or end with a [`SECRET_NOUNS`] one.
fn is_secret_member(name: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = matches!(c, '_' | '-' | '.' | ' ') || (c.is_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words.last().is_some_and(|last| SECRET_NOUNS.contains(&last.as_str()))
}

/// The placeholder written instead of a secret value.
pub const REDACTED: &str = "[redacted]";

/// Event details as a JSON object, with any member that looks like a secret redacted.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AuditDetails(Map<String, Value>);

impl AuditDetails {
    /// Details from a JSON value: an object is kept (secrets redacted, recursively), anything
    /// else is stored under `"value"`.
    pub fn new(value: Value) -> AuditDetails {
        let map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        AuditDetails(redact_map(map))
    }

    /// The details as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The details as JSON text.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

fn redact_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(name, value)| {
            let value = if is_secret_member(&name) { Value::String(REDACTED.to_owned()) } else { redact_value(value) };
            (name, value)
        })
        .collect()
}

fn redact_value(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(redact_map(map)),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_value).collect()),
        other => other,
    }
}

/// The key of the username hash in failed-login events (HMAC-SHA256), derived from the master
/// key so that one installation's hashes compare with each other and no one else's. Redacted
/// in `Debug`.
pub struct UsernameKey(hmac::Key);

impl UsernameKey {
    /// A key from 32 bytes (see `MasterKey::audit_username_key`).
    pub fn new(bytes: &[u8; 32]) -> UsernameKey {
        UsernameKey(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }
}

impl fmt::Debug for UsernameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UsernameKey([redacted])")
    }
}

/// What a failed login records of the username that was typed: the account name when it is
/// well-formed (`name@domain.tld`, at most 254 characters), else a keyed hash. People type
/// passwords into the username field, and an audit log must not collect them; the hash still
/// lets an operator see that the same wrong input came back, or match a suspected input.
pub fn username_for_log(name: &str, key: &UsernameKey) -> Value {
    if let Some(account) = well_formed_account_name(name) {
        return Value::String(account);
    }
    let tag = hmac::sign(&key.0, name.as_bytes());
    json!({ "hmac_sha256": URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16]) })
}

/// A login name as accounts hold it, if `name` is one: an e-mail address whose domain has a
/// dot and letters-only last label, none of it spaces or control characters.
fn well_formed_account_name(name: &str) -> Option<String> {
    let email = crate::model::account::Email::parse(name).ok()?;
    let (local, domain) = email.as_str().split_once('@')?;
    let labels: Vec<&str> = domain.split('.').collect();
    let top = labels.last()?;
    let plausible = !local.is_empty()
        && labels.len() >= 2
        && labels.iter().all(|label| !label.is_empty())
        && top.len() >= 2
        && top.chars().all(|c| c.is_alphabetic());
    plausible.then(|| email.as_str().to_owned())
}

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Position in the log, assigned by the store (0 before it is stored).
    pub seq: i64,
    /// What happened.
    pub kind: AuditKind,
    /// Who acted: a user id, a client id or `admin`; never a password or token.
    pub actor: Option<String>,
    /// The client's IP address, when there was a request.
    pub ip: Option<String>,
    /// The client involved.
    pub client_id: Option<ClientId>,
    /// Further facts, secrets redacted.
    pub details: AuditDetails,
    /// When it happened.
    pub time: Timestamp,
}

impl AuditEvent {
    /// An event of `kind` at `time` with no other facts yet.
    pub fn new(kind: AuditKind, time: Timestamp) -> AuditEvent {
        AuditEvent { seq: 0, kind, actor: None, ip: None, client_id: None, details: AuditDetails::default(), time }
    }

    /// Sets the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> AuditEvent {
        self.actor = Some(actor.into());
        self
    }

    /// Sets the IP address.
    pub fn ip(mut self, ip: Option<String>) -> AuditEvent {
        self.ip = ip;
        self
    }

    /// Sets the client.
    pub fn client(mut self, client_id: &ClientId) -> AuditEvent {
        self.client_id = Some(client_id.clone());
        self
    }

    /// Sets the details, redacting secrets.
    pub fn details(mut self, details: Value) -> AuditEvent {
        self.details = AuditDetails::new(details);
        self
    }

    /// Replaces a `username` detail given as text by [`username_for_log`]'s value, so that what
    /// was typed reaches a log or the table only if it is an account name. Idempotent.
    pub fn protect_username(mut self, key: &UsernameKey) -> AuditEvent {
        if let Some(Value::String(typed)) = self.details.0.get("username") {
            let logged = username_for_log(typed, key);
            self.details.0.insert("username".to_owned(), logged);
        }
        self
    }
}

/// Storage of audit events.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends events in one transaction, in order, assigning increasing `seq`. A batch is all
    /// or nothing, so a crash never leaves half a batch.
    async fn append_audit_events(&self, events: &[AuditEvent]) -> Result<(), CoreError>;

    /// The newest `limit` events, oldest first.
    async fn audit_tail(&self, limit: u32) -> Result<Vec<AuditEvent>, CoreError>;
}

/// Where flows hand audit events. Infallible and synchronous: the server's sink queues events
/// and writes them to an [`AuditStore`] in batches, off the request path, so auditing never
/// serializes token issuance.
pub trait AuditSink: Send + Sync {
    /// Records an event.
    fn record(&self, event: AuditEvent);
}

/// A sink that keeps events in memory, for tests and tools.
#[derive(Debug, Default)]
pub struct MemoryAuditSink(Mutex<Vec<AuditEvent>>);

impl MemoryAuditSink {
    /// The events recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0.lock().map(|events| events.clone()).unwrap_or_default()
    }
}

impl AuditSink for MemoryAuditSink {
    fn record(&self, event: AuditEvent) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_in_details_are_redacted_at_any_depth() {
        let details = AuditDetails::new(json!({
            "reason": "wrong secret",
            "client_secret": "abc",
            "Password": "hunter2",
            "nested": {"refresh_token": "rt", "list": [{"mfa_code": "123456"}]},
        }));
        let text = details.to_json();
        for secret in ["abc", "hunter2", "\"rt\"", "123456"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("wrong secret"));
    }

    #[test]
    fn secrets_are_redacted_by_field_and_descriptions_stay_readable() {
        let details = AuditDetails::new(json!({
            "token_type": "Bearer", "token_type_hint": "refresh_token", "code_challenge_method": "S256",
            "grant_type": "client_credentials", "kid": "k1", "tokens_issued": 2,
            "access_token": "at", "subjectToken": "st", "otp": "1", "private_key_pem": "pk",
            "client_secret_hash": "h", "api-key": "ak", "session.cookie": "c",
        }));
        let map = details.as_map();
        for readable in ["token_type", "token_type_hint", "code_challenge_method", "grant_type", "kid", "tokens_issued"]
        {
            assert_ne!(map[readable], REDACTED, "{readable} must stay readable");
        }
        for secret in [
            "access_token",
            "subjectToken",
            "otp",
            "private_key_pem",
            "client_secret_hash",
            "api-key",
            "session.cookie",
        ] {
            assert_eq!(map[secret], REDACTED, "{secret} must be redacted");
        }
    }

    #[test]
    fn a_username_is_logged_only_when_it_is_an_account_name() {
        let key = UsernameKey::new(&[7; 32]);
        assert_eq!(username_for_log(" Alice@Example.COM ", &key), json!("alice@example.com"));
        for typed in ["hunter2", "correct horse battery", "p@ss", "a@b", "x@host.12", "@example.com"] {
            let logged = username_for_log(typed, &key).to_string();
            assert!(logged.contains("hmac_sha256") && !logged.contains(typed), "{typed}: {logged}");
        }
        assert_eq!(username_for_log("hunter2", &key), username_for_log("hunter2", &key), "comparable");
        assert_ne!(username_for_log("hunter2", &key), username_for_log("hunter2", &UsernameKey::new(&[8; 32])));
        assert_eq!(format!("{key:?}"), "UsernameKey([redacted])");
        let event = AuditEvent::new(AuditKind::LoginFailed, Timestamp::from_unix(0))
            .details(json!({"username": "my secret password", "reason": "unknown account"}))
            .protect_username(&key)
            .protect_username(&key);
        assert_eq!(event.details.as_map()["username"], username_for_log("my secret password", &key));
        assert_eq!(event.details.as_map()["reason"], "unknown account");
    }

    #[test]
    fn kinds_round_trip() {
        for kind in AuditKind::ALL {
            assert_eq!(kind.as_str().parse::<AuditKind>().unwrap(), kind);
        }
    }
}

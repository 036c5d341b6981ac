//! Audit events: every authentication decision, refresh, incident and revocation, as a row.
//! No secret may reach an event: details pass through [`AuditDetails`], which redacts any
//! member whose name says it holds one.

use std::str::FromStr;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::client::ClientId;
use crate::clock::Timestamp;
use crate::error::CoreError;

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
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [AuditKind; 15] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::RefreshRotated,
        AuditKind::RefreshReused,
        AuditKind::TokenRevoked,
        AuditKind::SessionRevoked,
        AuditKind::ClientAuthenticationFailed,
        AuditKind::AccountCreated,
        AuditKind::AccountDisabled,
        AuditKind::ClientRegistered,
        AuditKind::ClientRemoved,
        AuditKind::SigningKeyRotated,
        AuditKind::SigningKeyRevoked,
        AuditKind::PasswordChanged,
        AuditKind::ClientCredentialsIssued,
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
            AuditKind::ClientRegistered => "client.registered",
            AuditKind::ClientRemoved => "client.removed",
            AuditKind::SigningKeyRotated => "signing_key.rotated",
            AuditKind::SigningKeyRevoked => "signing_key.revoked",
            AuditKind::PasswordChanged => "account.password_changed",
            AuditKind::ClientCredentialsIssued => "token.client_credentials",
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

/// Member names whose values are never written to the audit log.
const SECRET_MEMBER_MARKERS: [&str; 8] =
    ["password", "secret", "token", "code", "otp", "pepper", "private", "authorization"];

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
            let lower = name.to_lowercase();
            let value = if SECRET_MEMBER_MARKERS.iter().any(|marker| lower.contains(marker)) {
                Value::String(REDACTED.to_owned())
            } else {
                redact_value(value)
            };
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
    fn kinds_round_trip() {
        for kind in AuditKind::ALL {
            assert_eq!(kind.as_str().parse::<AuditKind>().unwrap(), kind);
        }
    }
}

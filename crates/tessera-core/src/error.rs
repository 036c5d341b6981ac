//! The one error type of the domain. Each variant carries protocol meaning: an error code
//! (RFC 6749 §5.2 where one applies) and a fixed description that is safe to show a client.
//! Anything more specific lives in the private detail of the variant and is only logged.

use std::error::Error as StdError;

/// A boxed error from a storage adapter, kept for the logs.
pub type StorageSource = Box<dyn StdError + Send + Sync + 'static>;

/// Why a domain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request is malformed; `field` names the offending input (SPEC §5).
    #[error("invalid {field}: {reason}")]
    InvalidRequest {
        /// The field that is wrong, as the client named it.
        field: &'static str,
        /// Why, in words safe to return.
        reason: &'static str,
    },
    /// Client authentication failed (RFC 6749 §5.2 `invalid_client`).
    #[error("client authentication failed: {detail}")]
    InvalidClient {
        /// Private detail for the log.
        detail: &'static str,
    },
    /// The grant (refresh token, code, credentials) is invalid, expired, revoked or bound to
    /// another client (RFC 6749 §5.2 `invalid_grant`).
    #[error("invalid grant: {detail}")]
    InvalidGrant {
        /// Private detail for the log.
        detail: &'static str,
    },
    /// A refresh token was presented after it had been rotated. Its whole grant, with every
    /// token the grant issued, is already revoked when this error is returned (RFC 9700 §4.14.2).
    #[error("refresh token reused; grant {grant_id} revoked")]
    RefreshTokenReused {
        /// The grant that was revoked (a plain string: the error type is the ground and
        /// imports nothing above it).
        grant_id: String,
    },
    /// The client may not use this grant type (RFC 6749 §5.2 `unauthorized_client`).
    #[error("client not allowed to use grant type {grant_type}")]
    UnauthorizedClient {
        /// The grant type that was asked for.
        grant_type: String,
    },
    /// A scope asked for is not allowed for the client (RFC 6749 §5.2 `invalid_scope`).
    #[error("scope not allowed: {scope}")]
    InvalidScope {
        /// The first scope that is not allowed.
        scope: String,
    },
    /// The account is disabled or the session ended.
    #[error("access denied: {detail}")]
    AccessDenied {
        /// Private detail for the log.
        detail: &'static str,
    },
    /// A login with a wrong username or password. One variant for both, so that nothing
    /// tells whether the account exists (SPEC §5).
    #[error("invalid credentials: {detail}")]
    InvalidCredentials {
        /// Private detail for the log.
        detail: &'static str,
    },
    /// A bearer token is missing, malformed, expired or revoked (RFC 6750 §3.1 `invalid_token`).
    #[error("invalid token: {detail}")]
    InvalidToken {
        /// Private detail for the log.
        detail: String,
    },
    /// A record with the same unique name already exists.
    #[error("{what} already exists")]
    Conflict {
        /// What kind of record, such as "client" or "account".
        what: &'static str,
    },
    /// The record does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What kind of record.
        what: &'static str,
    },
    /// The CSPRNG failed; nothing random can be trusted, so the operation stops.
    #[error("random number generator failed")]
    Random,
    /// Signing a token failed.
    #[error("token signing failed: {0}")]
    Signing(String),
    /// The storage backend failed.
    #[error("storage error: {0}")]
    Storage(#[source] StorageSource),
    /// Stored data could not be read back; the database holds something the code never writes.
    #[error("corrupt stored data: {0}")]
    CorruptData(String),
}

/// Error codes: RFC 6749 §5.2 and RFC 6750 §3.1, plus two for the administration API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `invalid_token` (RFC 6750 §3.1)
    InvalidToken,
    /// `conflict` (administration API)
    Conflict,
    /// `not_found` (administration API)
    NotFound,
    /// `server_error`
    ServerError,
}

impl ErrorCode {
    /// The code as it appears in an error response.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::Conflict => "conflict",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ServerError => "server_error",
        }
    }
}

impl CoreError {
    /// The public error code. Exhaustive on purpose: a new variant must choose its code.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            CoreError::InvalidClient { .. } => ErrorCode::InvalidClient,
            CoreError::InvalidGrant { .. }
            | CoreError::RefreshTokenReused { .. }
            | CoreError::InvalidCredentials { .. } => ErrorCode::InvalidGrant,
            CoreError::InvalidToken { .. } => ErrorCode::InvalidToken,
            CoreError::UnauthorizedClient { .. } => ErrorCode::UnauthorizedClient,
            CoreError::InvalidScope { .. } => ErrorCode::InvalidScope,
            CoreError::AccessDenied { .. } => ErrorCode::AccessDenied,
            CoreError::Conflict { .. } => ErrorCode::Conflict,
            CoreError::NotFound { .. } => ErrorCode::NotFound,
            CoreError::Random | CoreError::Signing(_) | CoreError::Storage(_) | CoreError::CorruptData(_) => {
                ErrorCode::ServerError
            }
        }
    }

    /// A description safe to send to the client: fixed text, never the private detail.
    pub fn public_description(&self) -> String {
        match self {
            CoreError::InvalidRequest { field, reason } => format!("{field}: {reason}"),
            CoreError::InvalidClient { .. } => "client authentication failed".to_owned(),
            // One text for every refresh failure so a client cannot tell reuse from expiry.
            CoreError::InvalidGrant { .. } | CoreError::RefreshTokenReused { .. } => {
                "the grant is invalid, expired or revoked".to_owned()
            }
            CoreError::InvalidCredentials { .. } => "invalid username or password".to_owned(),
            CoreError::InvalidToken { .. } => "the access token is invalid, expired or revoked".to_owned(),
            CoreError::UnauthorizedClient { .. } => "the client may not use this grant type".to_owned(),
            CoreError::InvalidScope { scope } => format!("scope not allowed: {scope}"),
            CoreError::AccessDenied { .. } => "access denied".to_owned(),
            CoreError::Conflict { what } => format!("{what} already exists"),
            CoreError::NotFound { what } => format!("{what} not found"),
            CoreError::Random | CoreError::Signing(_) | CoreError::Storage(_) | CoreError::CorruptData(_) => {
                "internal error".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_description_hides_private_detail() {
        let error = CoreError::InvalidGrant { detail: "token hash abc not found" };
        assert_eq!(error.code().as_str(), "invalid_grant");
        assert!(!error.public_description().contains("abc"));
        let storage = CoreError::Storage("disk path /secret/db".into());
        assert_eq!(storage.code(), ErrorCode::ServerError);
        assert!(!storage.public_description().contains("/secret"));
    }
}

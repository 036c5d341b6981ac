//! User accounts: who can log in. The password hash is an opaque PHC string produced and
//! checked elsewhere (Argon2id on a blocking pool); the domain only stores and hands it back.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::identifier::string_identifier;

string_identifier!(
    /// A user's stable identifier; the `sub` of the user's tokens.
    UserId
);

/// The longest e-mail address accepted (RFC 5321 §4.5.3.1.3 limits a path to 256 octets).
pub const MAX_EMAIL_LEN: usize = 254;

/// An e-mail address, trimmed and lower-cased so that one mailbox is one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Checks the shape only (one `@`, something on each side, no spaces); whether the
    /// mailbox exists is for a confirmation mail to find out.
    pub fn parse(input: &str) -> Result<Email, CoreError> {
        let email = input.trim().to_lowercase();
        let invalid = |reason| CoreError::InvalidRequest { field: "email", reason };
        if email.is_empty() || email.len() > MAX_EMAIL_LEN {
            return Err(invalid("must be between 1 and 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        match email.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {
                Ok(Email(email))
            }
            _ => Err(invalid("must look like name@example.com")),
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password hash in PHC string format. Opaque here; redacted in `Debug` because an offline
/// guess against a leaked hash is still an attack.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string.
    pub fn new(phc: impl Into<String>) -> PasswordHash {
        PasswordHash(phc.into())
    }

    /// The PHC string, for the verifier and the store only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Stable identifier.
    pub id: UserId,
    /// Unique, normalized e-mail address; the login name.
    pub email: Email,
    /// Display name, if given.
    pub name: Option<String>,
    /// `None` for accounts that only log in without a password.
    pub password_hash: Option<PasswordHash>,
    /// A disabled account cannot log in or refresh.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the account last changed.
    pub updated_at: Timestamp,
}

impl Account {
    /// A new, enabled account.
    pub fn new(
        id: UserId,
        email: Email,
        name: Option<String>,
        password_hash: Option<PasswordHash>,
        now: Timestamp,
    ) -> Account {
        Account { id, email, name, password_hash, disabled: false, created_at: now, updated_at: now }
    }
}

/// Storage of accounts.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Inserts a new account. Fails with [`CoreError::Conflict`] if the id or e-mail is taken;
    /// the uniqueness check is the database's, so two concurrent sign-ups cannot both win.
    async fn create_account(&self, account: &Account) -> Result<(), CoreError>;

    /// The account with this id.
    async fn account(&self, id: &UserId) -> Result<Option<Account>, CoreError>;

    /// The account with this normalized e-mail address.
    async fn account_by_email(&self, email: &Email) -> Result<Option<Account>, CoreError>;

    /// All accounts, ordered by e-mail.
    async fn list_accounts(&self) -> Result<Vec<Account>, CoreError>;

    /// Enables or disables an account; `false` if there is no such account. Disabling does not
    /// end sessions by itself: the caller also revokes them (see `SessionStore`).
    async fn set_account_disabled(&self, id: &UserId, disabled: bool, now: Timestamp) -> Result<bool, CoreError>;

    /// Replaces the password hash; `false` if there is no such account.
    async fn set_password_hash(&self, id: &UserId, hash: &PasswordHash, now: Timestamp) -> Result<bool, CoreError>;

    /// Deletes the account with its sessions and grants, in one operation; `false`
    /// if there is no such account. Access tokens it holds are the caller's to revoke (by `sub`).
    async fn remove_account(&self, id: &UserId) -> Result<bool, CoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalized() {
        assert_eq!(Email::parse("  Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
    }

    #[test]
    fn malformed_email_names_the_field() {
        for bad in ["", "alice", "@example.com", "alice@", "a b@example.com", "a@b@c"] {
            let error = Email::parse(bad).unwrap_err();
            assert!(matches!(error, CoreError::InvalidRequest { field: "email", .. }), "{bad}");
        }
    }

    #[test]
    fn password_hash_is_redacted() {
        let hash = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        assert!(!format!("{hash:?}").contains("argon2id"));
    }
}

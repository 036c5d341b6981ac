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
    /// The standard claims about the person (OIDC Core §5.1) beyond name and e-mail.
    pub profile: Profile,
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
        Account {
            id,
            email,
            name,
            profile: Profile::default(),
            password_hash,
            disabled: false,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The OpenID Connect standard claims an account may carry (OIDC Core §5.1), released by the
/// `profile`, `address` and `phone` scopes. Stored as one document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// `given_name`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `family_name`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// `middle_name`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// `nickname`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// `preferred_username`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// `profile`: a profile page URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `picture`: a picture URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// `website`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// `gender`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `birthdate`, `YYYY-MM-DD` (or `YYYY`, or `0000-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// `zoneinfo`, such as `Europe/Paris`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// `locale`, a BCP 47 tag such as `fr-FR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `phone_number`, E.164 preferred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `phone_number_verified`
    pub phone_number_verified: bool,
    /// `address` (OIDC Core §5.1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A postal address (OIDC Core §5.1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Address {
    /// `formatted`: the whole address for display, lines separated by newlines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// `street_address`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// `locality`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// `region`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `postal_code`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// `country`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Profile {
    /// Checks the shapes a relying party relies on (OIDC Core §5.1): `birthdate` as a date,
    /// URLs as http(s), and no value longer than 512 characters.
    pub fn validate(&self) -> Result<(), CoreError> {
        let invalid = |field, reason| Err(CoreError::InvalidRequest { field, reason });
        let texts = [
            &self.given_name,
            &self.family_name,
            &self.middle_name,
            &self.nickname,
            &self.preferred_username,
            &self.profile,
            &self.picture,
            &self.website,
            &self.gender,
            &self.birthdate,
            &self.zoneinfo,
            &self.locale,
            &self.phone_number,
        ];
        if texts.iter().any(|t| t.as_ref().is_some_and(|t| t.len() > 512 || t.chars().any(char::is_control))) {
            return invalid("profile", "each value at most 512 characters, without control characters");
        }
        for (field, url) in [("profile", &self.profile), ("picture", &self.picture), ("website", &self.website)] {
            if url.as_ref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://"))) {
                return invalid(field, "must be an http or https URL");
            }
        }
        if let Some(date) = &self.birthdate {
            let parts: Vec<&str> = date.split('-').collect();
            let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            let ok = match parts.as_slice() {
                [year] => digits(year, 4),
                [year, month, day] => digits(year, 4) && digits(month, 2) && digits(day, 2),
                _ => false,
            };
            if !ok {
                return invalid("birthdate", "must be YYYY-MM-DD, YYYY or 0000-MM-DD");
            }
        }
        Ok(())
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

    /// Replaces the display name and the profile claims; `false` if there is no such account.
    async fn update_profile(
        &self,
        id: &UserId,
        name: Option<&str>,
        profile: &Profile,
        now: Timestamp,
    ) -> Result<bool, CoreError>;

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

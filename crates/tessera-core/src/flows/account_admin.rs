//! Administration of accounts, shared by the CLI and (later) the admin API.

use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::{Account, AccountStore, Email, UserId};
use crate::model::audit::{AuditEvent, AuditKind, AuditSink};
use crate::model::revocation::{RevocationStore, RevocationTarget, retain_until};
use crate::model::session::SessionStore;
use crate::random::{Random, random_id};
use crate::secrets::password::hash_password;

/// Creates an account; the password, if any, is hashed with Argon2id here.
pub async fn add_account(
    store: &dyn AccountStore,
    audit: &dyn AuditSink,
    random: &dyn Random,
    email: &str,
    name: Option<String>,
    password: Option<&str>,
    now: Timestamp,
) -> Result<Account, CoreError> {
    let email = Email::parse(email)?;
    let hash = password.map(|p| hash_password(p, random)).transpose()?;
    let account = Account::new(UserId::new(random_id(random)?), email, name, hash, now);
    store.create_account(&account).await?;
    audit.record(AuditEvent::new(AuditKind::AccountCreated, now).actor(account.id.as_str()));
    Ok(account)
}

/// Replaces an account's display name and profile claims, after checking their shapes; the
/// change reaches ID tokens and userinfo from the next request on.
pub async fn update_profile<S: AccountStore + ?Sized>(
    store: &S,
    audit: &dyn AuditSink,
    email: &str,
    name: Option<String>,
    profile: crate::model::account::Profile,
    now: Timestamp,
) -> Result<Account, CoreError> {
    profile.validate()?;
    let mut account = account_by_email(store, email).await?;
    if !store.update_profile(&account.id, name.as_deref(), &profile, now).await? {
        return Err(CoreError::NotFound { what: "account" });
    }
    audit.record(AuditEvent::new(AuditKind::AccountUpdated, now).actor(account.id.as_str()));
    account.name = name;
    account.profile = profile;
    account.updated_at = now;
    Ok(account)
}

/// The account with this e-mail address, or [`CoreError::NotFound`].
async fn account_by_email<S: AccountStore + ?Sized>(store: &S, email: &str) -> Result<Account, CoreError> {
    let email = Email::parse(email)?;
    store.account_by_email(&email).await?.ok_or(CoreError::NotFound { what: "account" })
}

/// Refuses (by `sub`) every access token the account holds, until the last of them could no
/// longer validate anywhere.
async fn revoke_subject<S: RevocationStore + ?Sized>(
    store: &S,
    account: &Account,
    max_access_ttl: i64,
    now: Timestamp,
) -> Result<(), CoreError> {
    let until = retain_until(now.plus(max_access_ttl));
    store.revoke(&RevocationTarget::Sub(account.id.as_str().to_owned()), until, now).await?;
    Ok(())
}

/// Disables an account and revokes everything it holds: its sessions and grants, and
/// (by `sub`) every access token issued until now.
pub async fn disable_account<S>(
    store: &S,
    audit: &dyn AuditSink,
    email: &str,
    max_access_ttl: i64,
    now: Timestamp,
) -> Result<Account, CoreError>
where
    S: AccountStore + SessionStore + RevocationStore + ?Sized,
{
    let account = account_by_email(store, email).await?;
    store.set_account_disabled(&account.id, true, now).await?;
    store.revoke_user_sessions(&account.id, now).await?;
    revoke_subject(store, &account, max_access_ttl, now).await?;
    audit.record(AuditEvent::new(AuditKind::AccountDisabled, now).actor(account.id.as_str()).details(json!({})));
    Ok(account)
}

/// Sets a new password and ends every session of the account: a password is reset because
/// it may be known to someone else, whose sessions must not outlive it.
pub async fn set_password<S>(
    store: &S,
    audit: &dyn AuditSink,
    random: &dyn Random,
    email: &str,
    password: &str,
    max_access_ttl: i64,
    now: Timestamp,
) -> Result<(), CoreError>
where
    S: AccountStore + SessionStore + RevocationStore + ?Sized,
{
    let account = account_by_email(store, email).await?;
    store.set_password_hash(&account.id, &hash_password(password, random)?, now).await?;
    store.revoke_user_sessions(&account.id, now).await?;
    revoke_subject(store, &account, max_access_ttl, now).await?;
    audit.record(
        AuditEvent::new(AuditKind::PasswordChanged, now)
            .actor(account.id.as_str())
            .details(json!({ "via": "admin", "sessions_revoked": true })),
    );
    Ok(())
}

/// Removes an account for good: its sessions and grants go with it, and the access
/// tokens it holds are refused (by `sub`) until the last of them has expired.
pub async fn remove_account<S>(
    store: &S,
    audit: &dyn AuditSink,
    email: &str,
    max_access_ttl: i64,
    now: Timestamp,
) -> Result<Account, CoreError>
where
    S: AccountStore + RevocationStore + ?Sized,
{
    let account = account_by_email(store, email).await?;
    // Revoked first: if the deletion fails, the tokens are refused all the same.
    revoke_subject(store, &account, max_access_ttl, now).await?;
    if !store.remove_account(&account.id).await? {
        return Err(CoreError::NotFound { what: "account" });
    }
    audit.record(AuditEvent::new(AuditKind::AccountRemoved, now).actor(account.id.as_str()).details(json!({})));
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::model::audit::MemoryAuditSink;
    use crate::model::revocation::RevocationQuery;
    use crate::random::TestRandom;

    #[tokio::test]
    async fn password_changes_and_removals_are_audited_and_removal_revokes_by_sub() {
        let (store, audit, random) = (MemoryStore::default(), MemoryAuditSink::default(), TestRandom::new(9));
        let now = Timestamp::from_unix(1_750_000_000);
        let account =
            add_account(&store, &audit, &random, "bob@example.com", None, Some("first password"), now).await.unwrap();
        set_password(&store, &audit, &random, "bob@example.com", "second password", 900, now).await.unwrap();
        let removed = remove_account(&store, &audit, "BOB@example.com", 900, now).await.unwrap();
        assert_eq!(removed.id, account.id);
        assert!(store.account(&account.id).await.unwrap().is_none());
        let kinds: Vec<&str> = audit.events().iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["account.created", "account.password_changed", "account.removed"]);
        let query = RevocationQuery { jti: "j1", sid: None, sub: account.id.as_str(), issued_at: now };
        let revoked = store.find_revocation(query).await;
        assert!(revoked.unwrap().is_some(), "its access tokens are refused");
        let again = remove_account(&store, &audit, "bob@example.com", 900, now).await;
        assert!(matches!(again, Err(CoreError::NotFound { .. })), "{again:?}");
    }
}

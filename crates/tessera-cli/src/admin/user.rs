//! `tessera user`: accounts — add, list, disable, set a password, remove.
//!
//! Passwords come only from standard input (`--password-stdin`), never from an argument that
//! the shell history and `ps` would show.

use std::io::{BufRead, BufReader, IsTerminal, Read};

use clap::{Args, Subcommand};
use serde::Serialize;
use tessera_core::CoreError;
use tessera_core::flows::account_admin::{add_account, disable_account, remove_account, set_password, update_profile};
use tessera_core::model::account::{Account, AccountStore, Email, Profile};
use tessera_core::secrets::password::MAX_PASSWORD_LEN;

use super::{Admin, AdminError, StateArgs, date, table};
use crate::token::{Failure, Output};

/// Arguments of `tessera user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    state: StateArgs,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account.
    Add(Box<AddArgs>),
    /// List every account (never a password hash).
    List,
    /// Disable an account and revoke its sessions, refresh tokens and access tokens.
    Disable {
        /// The account's e-mail address.
        email: String,
    },
    /// Change an account's name or profile claims (only the options given change).
    Update(Box<UpdateArgs>),
    /// Set an account's password, read from standard input.
    Passwd(PasswdArgs),
    /// Remove an account for good, with its sessions and refresh tokens; the access tokens it
    /// holds are refused until they expire.
    Remove {
        /// The account's e-mail address.
        email: String,
    },
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The e-mail address, which is also the login name.
    email: String,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of standard input. Without it the account has
    /// no password.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// The account's e-mail address.
    email: String,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// The OpenID Connect standard claims (OIDC Core §5.1), released by the profile, address and
/// phone scopes.
#[derive(Debug, Args, Default)]
struct ProfileArgs {
    /// `given_name`
    #[arg(long)]
    given_name: Option<String>,
    /// `family_name`
    #[arg(long)]
    family_name: Option<String>,
    /// `middle_name`
    #[arg(long)]
    middle_name: Option<String>,
    /// `nickname`
    #[arg(long)]
    nickname: Option<String>,
    /// `preferred_username`
    #[arg(long)]
    preferred_username: Option<String>,
    /// `profile`: the URL of a profile page.
    #[arg(long, value_name = "URL")]
    profile_url: Option<String>,
    /// `picture`: the URL of a picture.
    #[arg(long, value_name = "URL")]
    picture: Option<String>,
    /// `website`
    #[arg(long, value_name = "URL")]
    website: Option<String>,
    /// `gender`
    #[arg(long)]
    gender: Option<String>,
    /// `birthdate`: YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    birthdate: Option<String>,
    /// `zoneinfo`, such as Europe/Paris.
    #[arg(long, value_name = "ZONE")]
    zoneinfo: Option<String>,
    /// `locale`, such as fr-FR.
    #[arg(long)]
    locale: Option<String>,
    /// `phone_number`, E.164 preferred (+33123456789).
    #[arg(long, value_name = "NUMBER")]
    phone: Option<String>,
    /// Mark the phone number as verified.
    #[arg(long)]
    phone_verified: bool,
    /// `address.street_address`
    #[arg(long)]
    street_address: Option<String>,
    /// `address.locality` (city)
    #[arg(long)]
    locality: Option<String>,
    /// `address.region`
    #[arg(long)]
    region: Option<String>,
    /// `address.postal_code`
    #[arg(long)]
    postal_code: Option<String>,
    /// `address.country`
    #[arg(long)]
    country: Option<String>,
}

impl ProfileArgs {
    /// `base` with every option given replacing its value.
    fn apply(self, mut base: Profile) -> Profile {
        let set = |slot: &mut Option<String>, value: Option<String>| {
            if value.is_some() {
                *slot = value;
            }
        };
        set(&mut base.given_name, self.given_name);
        set(&mut base.family_name, self.family_name);
        set(&mut base.middle_name, self.middle_name);
        set(&mut base.nickname, self.nickname);
        set(&mut base.preferred_username, self.preferred_username);
        set(&mut base.profile, self.profile_url);
        set(&mut base.picture, self.picture);
        set(&mut base.website, self.website);
        set(&mut base.gender, self.gender);
        set(&mut base.birthdate, self.birthdate);
        set(&mut base.zoneinfo, self.zoneinfo);
        set(&mut base.locale, self.locale);
        set(&mut base.phone_number, self.phone);
        if self.phone_verified {
            base.phone_number_verified = true;
        }
        let address_given = [&self.street_address, &self.locality, &self.region, &self.postal_code, &self.country]
            .iter()
            .any(|part| part.is_some());
        if address_given {
            let mut address = base.address.take().unwrap_or_default();
            set(&mut address.street_address, self.street_address);
            set(&mut address.locality, self.locality);
            set(&mut address.region, self.region);
            set(&mut address.postal_code, self.postal_code);
            set(&mut address.country, self.country);
            base.address = Some(address);
        }
        base
    }
}

#[derive(Debug, Args)]
struct PasswdArgs {
    /// The account's e-mail address.
    email: String,
    /// Read the new password from the first line of standard input.
    #[arg(long, required = true)]
    password_stdin: bool,
}

/// An account as shown: everything but the password hash, of which only the presence shows.
#[derive(Debug, Serialize)]
struct AccountView {
    id: String,
    email: String,
    name: Option<String>,
    /// The profile claims.
    #[serde(flatten)]
    profile: Profile,
    disabled: bool,
    has_password: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<&Account> for AccountView {
    fn from(account: &Account) -> AccountView {
        AccountView {
            id: account.id.to_string(),
            email: account.email.to_string(),
            name: account.name.clone(),
            profile: account.profile.clone(),
            disabled: account.disabled,
            has_password: account.password_hash.is_some(),
            created_at: account.created_at.unix(),
            updated_at: account.updated_at.unix(),
        }
    }
}

/// Runs a `tessera user` command at time `now`.
pub fn run(args: UserArgs, now: i64) -> Result<Output, Failure> {
    // Read before the database opens, so a missing password fails without side effects.
    let password = match &args.command {
        UserCommand::Add(add) if add.password_stdin => Some(password_from_stdin()?),
        UserCommand::Passwd(_) => Some(password_from_stdin()?),
        _ => None,
    };
    super::run(&args.state, now, async move |admin: &Admin| match args.command {
        UserCommand::Add(add) => add_user(admin, *add, password.as_deref()).await,
        UserCommand::List => list(admin).await,
        UserCommand::Update(update) => update_user(admin, *update).await,
        UserCommand::Disable { email } => disable(admin, &email).await,
        UserCommand::Remove { email } => remove(admin, &email).await,
        UserCommand::Passwd(passwd) => {
            let password = password.ok_or_else(|| AdminError::usage("no password was read"))?;
            change_password(admin, &passwd.email, &password).await
        }
    })
}

async fn add_user(admin: &Admin, args: AddArgs, password: Option<&str>) -> Result<Output, AdminError> {
    let profile = args.profile.apply(Profile::default());
    // Checked before the account exists, so a bad claim creates nothing.
    profile.validate()?;
    let name = args.name.clone();
    let account = add_account(&admin.store, &admin.audit, &admin.random, &args.email, args.name, password, admin.now)
        .await
        .map_err(|error| match error {
            CoreError::Conflict { .. } => {
                AdminError::usage(format!("an account with e-mail {} already exists", normalized(&args.email)))
            }
            other => other.into(),
        })?;
    let account = if profile == Profile::default() {
        account
    } else {
        update_profile(&admin.store, &admin.audit, &args.email, name, profile, admin.now).await?
    };
    admin.print(&AccountView::from(&account), |view| {
        let password = if view.has_password { "with a password" } else { "without a password" };
        format!("account {} created {password} (id {})", view.email, view.id)
    })
}

async fn update_user(admin: &Admin, args: UpdateArgs) -> Result<Output, AdminError> {
    let email = Email::parse(&args.email)?;
    let Some(account) = admin.store.account_by_email(&email).await? else {
        return Err(AdminError::usage(format!("no account with e-mail {}", email.as_str())));
    };
    let name = args.name.or(account.name);
    let profile = args.profile.apply(account.profile);
    let updated = update_profile(&admin.store, &admin.audit, &args.email, name, profile, admin.now).await?;
    admin.print(&AccountView::from(&updated), |view| format!("account {} updated", view.email))
}

async fn list(admin: &Admin) -> Result<Output, AdminError> {
    let accounts: Vec<AccountView> = admin.store.list_accounts().await?.iter().map(AccountView::from).collect();
    admin.print(&accounts, |accounts| {
        if accounts.is_empty() {
            return "no accounts".to_owned();
        }
        let rows: Vec<Vec<String>> = accounts
            .iter()
            .map(|a| {
                vec![
                    a.email.clone(),
                    a.name.clone().unwrap_or_else(|| "-".into()),
                    if a.disabled { "disabled" } else { "active" }.into(),
                    if a.has_password { "yes" } else { "no" }.into(),
                    date(a.created_at),
                    a.id.clone(),
                ]
            })
            .collect();
        table::render(&["EMAIL", "NAME", "STATUS", "PASSWORD", "CREATED", "ID"], &rows)
    })
}

/// What `user disable` did.
#[derive(Debug, Serialize)]
struct Disabled {
    #[serde(flatten)]
    account: AccountView,
    /// Access tokens issued to the account until now are refused until this time, when the
    /// last of them has expired anyway.
    access_tokens_revoked_until: i64,
}

async fn disable(admin: &Admin, email: &str) -> Result<Output, AdminError> {
    let max_access_ttl = admin.max_access_ttl().await?;
    let account = disable_account(&admin.store, &admin.audit, email, max_access_ttl, admin.now)
        .await
        .map_err(|error| not_found(error, email))?;
    let mut view = AccountView::from(&account);
    view.disabled = true;
    view.updated_at = admin.now.unix();
    let disabled = Disabled { account: view, access_tokens_revoked_until: admin.now.plus(max_access_ttl).unix() };
    admin.print(&disabled, |d| {
        format!(
            "account {} disabled: its sessions and refresh tokens are revoked, and the access tokens it holds \
             are refused until they expire",
            d.account.email
        )
    })
}

/// What `user remove` did.
#[derive(Debug, Serialize)]
struct Removed {
    id: String,
    email: String,
    removed: bool,
    /// Access tokens issued to the account are refused until this time.
    access_tokens_revoked_until: i64,
}

async fn remove(admin: &Admin, email: &str) -> Result<Output, AdminError> {
    let max_access_ttl = admin.max_access_ttl().await?;
    let account = remove_account(&admin.store, &admin.audit, email, max_access_ttl, admin.now)
        .await
        .map_err(|error| not_found(error, email))?;
    let removed = Removed {
        id: account.id.to_string(),
        email: account.email.to_string(),
        removed: true,
        access_tokens_revoked_until: admin.now.plus(max_access_ttl).unix(),
    };
    admin.print(&removed, |r| {
        format!(
            "account {} removed with its sessions and refresh tokens; the access tokens it holds are refused \
             until they expire",
            r.email
        )
    })
}

/// What `user passwd` did.
#[derive(Debug, Serialize)]
struct PasswordSet {
    email: String,
    password_set: bool,
}

async fn change_password(admin: &Admin, email: &str, password: &str) -> Result<Output, AdminError> {
    let max_access_ttl = admin.max_access_ttl().await?;
    set_password(&admin.store, &admin.audit, &admin.random, email, password, max_access_ttl, admin.now)
        .await
        .map_err(|error| not_found(error, email))?;
    let done = PasswordSet { email: normalized(email), password_set: true };
    admin.print(&done, |done| format!("password of {} changed", done.email))
}

fn not_found(error: CoreError, email: &str) -> AdminError {
    match error {
        CoreError::NotFound { .. } => AdminError::usage(format!("no account with e-mail {}", normalized(email))),
        other => other.into(),
    }
}

/// The address as the accounts hold it (trimmed, lower case), for messages.
fn normalized(email: &str) -> String {
    Email::parse(email).map_or_else(|_| email.trim().to_owned(), |email| email.to_string())
}

fn password_from_stdin() -> Result<String, AdminError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // No prompt library: say why nothing happens, and that the typing will show.
        eprintln!("reading the password from standard input (it is echoed); end it with Enter");
    }
    password_from(stdin.lock())
}

/// The first line of `input` without its line ending (`\n`, `\r\n` or none at all).
fn password_from(input: impl Read) -> Result<String, AdminError> {
    // Room for the longest accepted password and its line ending; anything longer is refused
    // by the length check of the password itself.
    let limit = MAX_PASSWORD_LEN as u64 + 3;
    let mut line = Vec::new();
    BufReader::new(input.take(limit))
        .read_until(b'\n', &mut line)
        .map_err(|e| AdminError::usage(format!("cannot read the password from standard input: {e}")))?;
    let line = line.strip_suffix(b"\n").unwrap_or(&line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(AdminError::usage("no password on standard input (--password-stdin reads its first line)"));
    }
    String::from_utf8(line.to_vec()).map_err(|_| AdminError::usage("the password on standard input is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_ending_is_not_part_of_the_password() {
        for input in ["correct horse\n", "correct horse\r\n", "correct horse", "correct horse\nsecond line\n"] {
            assert_eq!(password_from(input.as_bytes()).unwrap(), "correct horse", "{input:?}");
        }
    }

    #[test]
    fn an_empty_or_binary_password_is_refused() {
        for input in [&b""[..], b"\n", b"\r\n", b"\xff\xfe\n"] {
            assert!(password_from(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn an_endless_line_is_not_read_to_its_end() {
        let endless = std::io::repeat(b'a');
        let password = password_from(endless).unwrap();
        assert!(password.len() > MAX_PASSWORD_LEN, "left for the length check to refuse");
    }
}

//! `tessera keys`: the server's signing keys — list them, rotate them with pre-publication
//! (SPEC §4): the next key is in the JWKS `keys.prepublish` before it signs, so every
//! verifier's cache holds it first; the key it replaces stays published until every token it
//! signed has expired — and revoke a compromised one at once.

use clap::{Args, Subcommand};
use serde::Serialize;
use tessera_core::CoreError;
use tessera_core::keys::key_ring::{activate_due_keys, revoke_signing_key, rotate_signing_key, start_rotation};
// A retired key stays published past the longest access lifetime by the largest verifier
// leeway, exactly as the server keeps it.
use tessera_core::keys::signing_key::{KeyState, Kid, SigningKey, SigningKeyStore};
use tessera_core::model::revocation::RETENTION_LEEWAY;
use tessera_jose::Algorithm;
use tessera_server::app::MAINTENANCE_EVERY;
use tessera_server::routes::well_known::JWKS_MAX_AGE_SECONDS;
use tessera_server::startup::key_algorithms;

use super::{Admin, AdminError, StateArgs, date, date_from_now, seconds, table};
use crate::token::{Failure, Output};

/// Arguments of `tessera keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    state: StateArgs,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List the signing keys: next (published, not yet signing), active, retired (published
    /// while its tokens live), revoked (withdrawn).
    List,
    /// Start a rotation: a new key, published now, signing after keys.prepublish.
    Rotate(RotateArgs),
    /// Withdraw a compromised key at once: out of the JWKS, never signing again, and the
    /// tokens it signed no longer verify. An active key is replaced first.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
struct RevokeArgs {
    /// The `kid` of the key to withdraw (see `tessera keys list`).
    kid: String,
}

#[derive(Debug, Args)]
struct RotateArgs {
    /// Rotate the key of this algorithm; repeat for several. Default: every algorithm the
    /// configuration uses (tokens.signing_alg and tokens.id_token_alg).
    #[arg(long = "alg", value_name = "ALG", value_parser = server_algorithm)]
    algs: Vec<Algorithm>,
    /// Sign with the new key at once, without pre-publication. The old key is retired, not
    /// withdrawn: it stays published and its tokens keep verifying until they expire (after a
    /// compromise, use `tessera keys revoke KID`). Verifiers that cached the JWKS before the
    /// rotation reject the new tokens until they fetch it again.
    #[arg(long)]
    now: bool,
}

/// A key as shown: its life, never its material.
#[derive(Debug, Serialize)]
struct KeyView {
    kid: String,
    alg: String,
    /// `next`, `active`, `retired` or `revoked`.
    state: &'static str,
    /// When a `next` key may start signing.
    not_before: i64,
    /// When a retired key leaves the JWKS.
    retire_after: Option<i64>,
    created_at: i64,
}

impl From<&SigningKey> for KeyView {
    fn from(key: &SigningKey) -> KeyView {
        KeyView {
            kid: key.kid.to_string(),
            alg: key.alg.clone(),
            state: key.state.as_str(),
            not_before: key.not_before.unix(),
            retire_after: key.retire_after.map(|time| time.unix()),
            created_at: key.created_at.unix(),
        }
    }
}

/// Runs a `tessera keys` command at time `now`.
pub fn run(args: KeysArgs, now: i64) -> Result<Output, Failure> {
    super::run(&args.state, now, async move |admin: &Admin| match args.command {
        KeysCommand::List => list(admin).await,
        KeysCommand::Rotate(rotate_args) => rotate(admin, rotate_args).await,
        KeysCommand::Revoke(revoke_args) => revoke(admin, &revoke_args.kid).await,
    })
}

async fn list(admin: &Admin) -> Result<Output, AdminError> {
    let keys: Vec<KeyView> = admin.store.signing_keys().await?.iter().map(KeyView::from).collect();
    admin.print(&keys, |keys| {
        let rows: Vec<Vec<String>> = keys
            .iter()
            .map(|k| {
                vec![
                    k.kid.clone(),
                    k.alg.clone(),
                    k.state.to_owned(),
                    date(k.not_before),
                    k.retire_after.map_or_else(|| "-".to_owned(), date),
                    date(k.created_at),
                ]
            })
            .collect();
        table::render(&["KID", "ALG", "STATE", "NOT_BEFORE", "RETIRE_AFTER", "CREATED"], &rows)
    })
}

/// What `keys rotate` did: the new keys and the keys they retired, as they are now.
#[derive(Debug, Serialize)]
struct Rotation {
    rotated: Vec<KeyView>,
    retired: Vec<KeyView>,
}

async fn rotate(admin: &Admin, args: RotateArgs) -> Result<Output, AdminError> {
    let clients = tessera_core::model::client::ClientStore::list_clients(&admin.store).await?;
    let configured = key_algorithms(&admin.config, &clients)?;
    let mut algs = if args.algs.is_empty() { configured.clone() } else { args.algs };
    algs.sort();
    algs.dedup();
    let before = admin.store.signing_keys().await?;
    let earlier_next = |keys: &[SigningKey]| -> Vec<SigningKey> {
        let rotating = |key: &SigningKey| algs.iter().any(|alg| alg.name() == key.alg);
        keys.iter().filter(|key| key.state == KeyState::Next && rotating(key)).cloned().collect()
    };
    // A second pending key would only postpone the first; --now is the way to hurry one.
    if let (false, Some(pending)) = (args.now, earlier_next(&before).first()) {
        return Err(AdminError::usage(format!(
            "{} key {} is already waiting to sign from {}; use --now to replace it at once",
            pending.alg,
            pending.kid,
            date(pending.not_before.unix())
        )));
    }
    let prepublish = if args.now { 0 } else { seconds(admin.config.keys.prepublish) };
    let mut rotated = Vec::new();
    for alg in &algs {
        let (store, master, random, audit) = (&admin.store, &admin.master, &admin.random, &admin.audit);
        let key = if args.now {
            rotate_signing_key(store, master, random, audit, *alg, prepublish, admin.now).await?
        } else {
            // The server's own rotation may have started one since the check above.
            start_rotation(store, master, random, audit, *alg, prepublish, admin.now).await?.ok_or_else(|| {
                AdminError::usage(format!("a {alg} key is already waiting to sign; use --now to replace it at once"))
            })?
        };
        rotated.push(key.kid);
    }
    if args.now {
        let retention = admin.max_access_ttl().await? + RETENTION_LEEWAY;
        activate_due_keys(&admin.store, &admin.audit, retention, admin.now).await?;
    }
    let after = admin.store.signing_keys().await?;
    let was_active = |key: &SigningKey| before.iter().any(|b| b.kid == key.kid && b.state == KeyState::Active);
    let rotation = Rotation {
        rotated: after.iter().filter(|k| rotated.contains(&k.kid)).map(KeyView::from).collect(),
        retired: after.iter().filter(|k| k.state == KeyState::Retired && was_active(k)).map(KeyView::from).collect(),
    };
    let mut output = admin.print(&rotation, |rotation| describe(rotation, admin))?;
    for alg in algs.iter().filter(|alg| !configured.contains(alg)) {
        output.stderr.push(format!("warning: the configuration does not sign with {alg}; its new key signs nothing"));
    }
    for pending in earlier_next(&after).iter().filter(|key| !rotated.contains(&key.kid)) {
        output.stderr.push(format!(
            "note: {} key {}, published earlier, is still next: it replaces the new key at {}",
            pending.alg,
            pending.kid,
            date(pending.not_before.unix())
        ));
    }
    if args.now {
        output.stderr.push(
            "warning: the new keys sign at once; verifiers that cached the JWKS before now may reject their tokens \
             until they fetch it again"
                .to_owned(),
        );
    }
    Ok(output)
}

/// One line per new key, and one per key it retired.
fn describe(rotation: &Rotation, admin: &Admin) -> String {
    let mut text = String::new();
    for key in &rotation.rotated {
        if key.state == KeyState::Active.as_str() {
            text.push_str(&format!("{} key {} is active now\n", key.alg, key.kid));
        } else {
            text.push_str(&format!(
                "{} key {} is published now; the server starts signing with it at {}\n",
                key.alg,
                key.kid,
                date_from_now(key.not_before, admin.now)
            ));
        }
    }
    for key in &rotation.retired {
        let until = key.retire_after.map_or_else(|| "-".to_owned(), date);
        text.push_str(&format!("{} key {} is retired; it stays published until {until}\n", key.alg, key.kid));
    }
    text
}

/// What `keys revoke` did.
#[derive(Debug, Serialize)]
struct Revocation {
    kid: String,
    alg: String,
    state: &'static str,
    /// The key that signs in its place, when the revoked key was active.
    activated: Option<String>,
    /// Whether `activated` was created now (no key was waiting as next).
    created: bool,
    /// Seconds within which a running server reloads its keys.
    server_reload_within: u64,
}

async fn revoke(admin: &Admin, kid: &str) -> Result<Output, AdminError> {
    let kid = Kid::new(kid);
    let done = revoke_signing_key(&admin.store, &admin.master, &admin.random, &admin.audit, &kid, admin.now)
        .await
        .map_err(|error| match error {
            CoreError::NotFound { .. } => {
                AdminError::usage(format!("no signing key has kid {kid} (see tessera keys list)"))
            }
            CoreError::Conflict { what: "revoked signing key" } => {
                AdminError::usage(format!("key {kid} is already revoked"))
            }
            other => other.into(),
        })?;
    let revocation = Revocation {
        kid: kid.to_string(),
        alg: done.alg,
        state: KeyState::Revoked.as_str(),
        activated: done.activated.map(|k| k.to_string()),
        created: done.created,
        server_reload_within: MAINTENANCE_EVERY.as_secs(),
    };
    let mut output = admin.print(&revocation, |r| {
        let mut text = format!(
            "{} key {} is revoked: it is out of the JWKS, signs nothing, and the tokens it signed no longer verify\n",
            r.alg, r.kid
        );
        if let Some(successor) = &r.activated {
            let origin = if r.created { "a new key" } else { "the key that was waiting as next" };
            text.push_str(&format!("{} key {successor} signs in its place ({origin})\n", r.alg));
        }
        text
    })?;
    output.stderr.push(format!(
        "note: a running server applies this at its next key reload, within {} s; verifiers that cached the JWKS \
         keep the key until their copy expires (max-age {JWKS_MAX_AGE_SECONDS} s)",
        MAINTENANCE_EVERY.as_secs()
    ));
    Ok(output)
}

/// `--alg`: an asymmetric JWS algorithm; the server's keys are never shared secrets.
fn server_algorithm(name: &str) -> Result<Algorithm, String> {
    let alg: Algorithm = name.parse().map_err(|e: tessera_jose::Error| e.to_string())?;
    if alg.is_symmetric() {
        return Err(format!("{name} is a shared-secret algorithm; server signing keys are asymmetric"));
    }
    Ok(alg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_asymmetric_algorithms_sign_for_the_server() {
        assert_eq!(server_algorithm("ES256").unwrap(), Algorithm::ES256);
        assert!(server_algorithm("HS256").unwrap_err().contains("shared-secret"));
        assert!(server_algorithm("none").is_err());
        assert!(server_algorithm("es256").is_err());
    }
}

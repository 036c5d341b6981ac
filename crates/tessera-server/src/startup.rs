//! Everything a start needs before it serves: the master key, the store, the signing keys and
//! the first-party client. Shared by `tessera serve` and the admin commands.

use std::io::Write;
use std::path::Path;

use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::flows::client_authentication::{NewClient, register_client};
use tessera_core::keys::key_ring::ensure_signing_keys;
use tessera_core::keys::master_key::MasterKey;
use tessera_core::model::client::{Client, ClientId, GrantType};
use tessera_core::model::retention::longest_access_ttl;
use tessera_core::random::Random;
use tessera_core::store::Store;
use tessera_jose::Algorithm;

use crate::config::Config;

/// The `client_id` that `/auth/login` acts for when the request names none.
pub const FIRST_PARTY_CLIENT_ID: &str = "tessera";

/// Why Tessera could not start (or an admin command could not open its state).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database could not be opened or used.
    #[error("storage: {0}")]
    Storage(String),
    /// A domain operation failed.
    #[error("{0}")]
    Core(#[from] CoreError),
}

impl StartError {
    /// An I/O error with what was being done.
    pub fn io(what: String, source: std::io::Error) -> StartError {
        StartError::Io { what, source }
    }
}

/// The master key: `TESSERA_MASTER_KEY` if set, else `{data_dir}/master.key`, created with
/// mode 0600 at first start and refused at later starts if group or others may read it.
pub fn load_master_key(config: &Config, from_env: Option<&str>, random: &dyn Random) -> Result<MasterKey, StartError> {
    if let Some(text) = from_env {
        return MasterKey::from_base64url(text).map_err(|e| StartError::Config(format!("TESSERA_MASTER_KEY: {e}")));
    }
    let path = config.data_dir.join("master.key");
    match read_master_key(&path)? {
        Some(key) => Ok(key),
        None => {
            let key = MasterKey::generate(random)?;
            // Two processes may start on a fresh folder at once: the first link wins and the
            // other reads the winner's key, so both use the same one.
            if write_secret_file(&path, &key.to_base64url())? {
                Ok(key)
            } else {
                read_master_key(&path)?.ok_or_else(|| StartError::Config(format!("{} vanished", path.display())))
            }
        }
    }
}

/// Reads the key file, refusing one that others may read: whoever reads it can decrypt every
/// signing key. The mode is checked on the opened file, so it is the file that was read.
fn read_master_key(path: &Path) -> Result<Option<MasterKey>, StartError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StartError::io(format!("cannot read {}", path.display()), error)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file
            .metadata()
            .map_err(|e| StartError::io(format!("cannot read {}", path.display()), e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(StartError::Config(format!(
                "{} is readable by other users (mode {:o}); run `chmod 600 {}` and start again",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text)
        .map_err(|e| StartError::io(format!("cannot read {}", path.display()), e))?;
    MasterKey::from_base64url(&text).map(Some).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))
}

/// Writes a file only its owner can read, complete and synced before it appears under its
/// name (a temporary file, then a hard link, which never replaces an existing file): a lost
/// or torn master key makes every stored private key unreadable. `false` if the file existed.
fn write_secret_file(path: &Path, contents: &str) -> Result<bool, StartError> {
    let failed = |e| StartError::io(format!("cannot create {}", path.display()), e);
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::storage::create_private_dir(dir).map_err(failed)?;
    let temporary = dir.join(format!(".master.key.{}", std::process::id()));
    // A leftover of a crashed start with the same pid; create_new then never writes through a
    // file or link that someone else placed there.
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(failed)?;
    file.write_all(contents.as_bytes()).and_then(|()| file.sync_all()).map_err(failed)?;
    let linked = match std::fs::hard_link(&temporary, path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(failed(error)),
    };
    let _ = std::fs::remove_file(&temporary);
    if let Ok(directory) = std::fs::File::open(dir) {
        let _ = directory.sync_all();
    }
    linked
}

/// The longest lifetime of an access token that may be in circulation, from the database
/// ([`longest_access_ttl`]): the lifetime the server recorded at its last start (this
/// configuration's only if no server has started yet) or any client's own. `sid`/`sub`
/// revocations and retired keys are kept this long, so an admin command run with another
/// configuration keeps them exactly as long as the server does.
pub async fn max_access_ttl<S: Store + ?Sized>(store: &S, config: &Config, now: Timestamp) -> Result<i64, StartError> {
    let fallback = i64::try_from(config.tokens.access_ttl.as_secs()).unwrap_or(i64::MAX);
    Ok(longest_access_ttl(store, fallback, now).await?)
}

/// The algorithms of the server's own keys: access tokens, ID tokens, and the ID-token
/// algorithms clients registered (`--id-token-alg`), so each has a key and none is retired.
pub fn key_algorithms(config: &Config, clients: &[Client]) -> Result<Vec<Algorithm>, StartError> {
    let parse = |field: &str, name: &str| {
        name.parse::<Algorithm>()
            .ok()
            .filter(|alg| !alg.is_symmetric())
            .ok_or_else(|| StartError::Config(format!("{field}: {name:?} is not an asymmetric JWS algorithm")))
    };
    let access = parse("tokens.signing_alg", &config.tokens.signing_alg)?;
    let id = parse("tokens.id_token_alg", &config.tokens.id_token_alg)?;
    let mut algs = vec![access, id];
    for client in clients {
        if let Some(name) = &client.browser.id_token_alg {
            algs.push(parse("a client's id_token_alg", name)?);
        }
    }
    algs.sort();
    algs.dedup();
    Ok(algs)
}

/// First-start work, idempotent: signing keys for each algorithm and the first-party client.
pub async fn bootstrap(
    store: &dyn Store,
    master: &MasterKey,
    random: &dyn Random,
    config: &Config,
    now: Timestamp,
) -> Result<(), StartError> {
    let clients = store.list_clients().await?;
    ensure_signing_keys(store, master, random, &key_algorithms(config, &clients)?, now).await?;
    if store.client(&ClientId::new(FIRST_PARTY_CLIENT_ID)).await?.is_none() {
        let first_party = NewClient {
            client_id: FIRST_PARTY_CLIENT_ID.into(),
            confidential: false,
            grant_types: vec![GrantType::Password, GrantType::RefreshToken],
            scopes: ["openid", "profile", "email", "offline_access"].map(String::from).to_vec(),
            // None stored: its tokens take the issuer in force at each start as audience
            // (TokenPolicy::audiences_for), so a later --listen or issuer change cannot leave a
            // stale one behind.
            audiences: vec![],
            ..NewClient::default()
        };
        match register_client(store, random, &master.client_secret_pepper()?, first_party, now).await {
            Ok(_) | Err(CoreError::Conflict { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

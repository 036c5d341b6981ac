//! Everything a start needs before it serves: the master key, the store, the signing keys and
//! the first-party client. Shared by `tessera serve` and the admin commands.

use std::io::Write;
use std::path::Path;

use tessera_core::CoreError;
use tessera_core::client::{ClientId, GrantType};
use tessera_core::client_authentication::{NewClient, register_client};
use tessera_core::clock::Timestamp;
use tessera_core::key_ring::ensure_signing_keys;
use tessera_core::master_key::MasterKey;
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
/// mode 0600 at first start.
pub fn load_master_key(config: &Config, from_env: Option<&str>, random: &dyn Random) -> Result<MasterKey, StartError> {
    if let Some(text) = from_env {
        return MasterKey::from_base64url(text).map_err(|e| StartError::Config(format!("TESSERA_MASTER_KEY: {e}")));
    }
    let path = config.data_dir.join("master.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            MasterKey::from_base64url(&text).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate(random)?;
            write_secret_file(&path, &key.to_base64url())?;
            Ok(key)
        }
        Err(error) => Err(StartError::io(format!("cannot read {}", path.display()), error)),
    }
}

/// Creates a file only its owner can read, refusing to replace one, and syncs it: a lost
/// master key makes every stored private key unreadable.
fn write_secret_file(path: &Path, contents: &str) -> Result<(), StartError> {
    let failed = |e| StartError::io(format!("cannot create {}", path.display()), e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(contents.as_bytes()).and_then(|()| file.sync_all()).map_err(failed)
}

/// The algorithms of the server's own keys: access tokens and ID tokens.
pub fn key_algorithms(config: &Config) -> Result<Vec<Algorithm>, StartError> {
    let parse = |field: &str, name: &str| {
        name.parse::<Algorithm>()
            .ok()
            .filter(|alg| !alg.is_symmetric())
            .ok_or_else(|| StartError::Config(format!("{field}: {name:?} is not an asymmetric JWS algorithm")))
    };
    let access = parse("tokens.signing_alg", &config.tokens.signing_alg)?;
    let id = parse("tokens.id_token_alg", &config.tokens.id_token_alg)?;
    Ok(if access == id { vec![access] } else { vec![access, id] })
}

/// First-start work, idempotent: signing keys for each algorithm and the first-party client.
pub async fn bootstrap<S: Store>(
    store: &S,
    master: &MasterKey,
    random: &dyn Random,
    config: &Config,
    now: Timestamp,
) -> Result<(), StartError> {
    ensure_signing_keys(store, master, random, &key_algorithms(config)?, now).await?;
    if store.client(&ClientId::new(FIRST_PARTY_CLIENT_ID)).await?.is_none() {
        let first_party = NewClient {
            client_id: FIRST_PARTY_CLIENT_ID.into(),
            confidential: false,
            grant_types: vec![GrantType::Password, GrantType::RefreshToken],
            scopes: ["openid", "profile", "email", "offline_access"].map(String::from).to_vec(),
            audiences: vec![config.issuer()],
            ..NewClient::default()
        };
        match register_client(store, random, &master.client_secret_pepper()?, first_party, now).await {
            Ok(_) | Err(CoreError::Conflict { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

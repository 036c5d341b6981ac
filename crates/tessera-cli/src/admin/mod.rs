//! The administration commands — `tessera user|client|keys|audit` — against the server's own
//! database, also while the server runs (SQLite in WAL mode lets both write).
//!
//! Each command opens the state exactly as `tessera serve` does (configuration, store, master
//! key, then the idempotent first-start work), calls one domain flow, appends the audit events
//! the flow recorded, and prints either for people or, with `--json`, for scripts. Failures are
//! exit code 2, one line, like every usage or I/O error of the binary.

pub mod audit;
pub mod client;
pub mod keys;
mod table;
pub mod user;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::keys::master_key::MasterKey;
use tessera_core::model::audit::{AuditStore, MemoryAuditSink};
use tessera_core::random::SystemRandom;
use tessera_server::config::{Config, ConfigError};
use tessera_server::startup::{StartError, bootstrap, load_master_key};
use tessera_server::storage::open_store;
use tessera_store::SqliteStore;

use crate::token::{Failure, Output};

/// Flags every admin command takes; global, so they go before or after the subcommand.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// Configuration file (TOML); `TESSERA_*` variables still apply on top of it.
    #[arg(long, value_name = "FILE", env = "TESSERA_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data folder (database and master key), overriding `data_dir` of the configuration.
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Print JSON for scripts: an array for lists, an object otherwise.
    #[arg(long, global = true)]
    json: bool,
}

/// Why an admin command failed. Every kind is exit code 2; the message is one line.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The configuration could not be loaded.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The state could not be opened or prepared.
    #[error("{0}")]
    Start(#[from] StartError),
    /// A domain operation failed.
    #[error("{0}")]
    Core(#[from] CoreError),
    /// Anything else, already worded for the user.
    #[error("{0}")]
    Usage(String),
}

impl AdminError {
    /// An error worded here.
    pub fn usage(message: impl Into<String>) -> AdminError {
        AdminError::Usage(message.into())
    }
}

impl From<AdminError> for Failure {
    fn from(error: AdminError) -> Failure {
        Failure::Usage(error.to_string())
    }
}

/// What every admin command works with: the server's configuration and store, the master key,
/// the time read once in `main`, and the audit events recorded along the way.
pub struct Admin {
    /// The configuration, with `--data-dir` applied.
    pub config: Config,
    /// The server's database.
    pub store: SqliteStore,
    /// The master key that seals private keys and peppers client secrets.
    pub master: MasterKey,
    /// The system CSPRNG.
    pub random: SystemRandom,
    /// Events recorded by the flows; appended to the store before the command returns.
    pub audit: MemoryAuditSink,
    /// The time of the command.
    pub now: Timestamp,
    json: bool,
}

/// Opens the state, runs `command`, appends its audit events and closes the store.
///
/// The audit events are appended even when the command fails part-way, so that what did
/// change is on record.
pub fn run<F>(state: &StateArgs, now: i64, command: F) -> Result<Output, Failure>
where
    F: AsyncFnOnce(&Admin) -> Result<Output, AdminError>,
{
    let config = state.load_config()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AdminError::usage(format!("cannot start the async runtime: {e}")))?;
    // A command run from the wrong folder would quietly start a new, empty server state.
    let new_data_dir = (!config.data_dir.exists()).then(|| config.data_dir.display().to_string());
    runtime.block_on(async {
        let admin = Admin::open(config, state.json, Timestamp::from_unix(now)).await?;
        let outcome = command(&admin).await;
        let recorded = admin.record_audit_events().await;
        admin.store.close().await;
        let mut output = outcome?;
        recorded?;
        if let Some(dir) = new_data_dir {
            output
                .stderr
                .insert(0, format!("note: created a new data folder {dir} (database, master key, signing keys)"));
        }
        Ok(output)
    })
}

impl StateArgs {
    /// `--config` (or `TESSERA_CONFIG`), then `TESSERA_*` variables, then `--data-dir`.
    fn load_config(&self) -> Result<Config, AdminError> {
        let mut config = Config::load(self.config.as_deref(), std::env::vars())?;
        if let Some(data_dir) = &self.data_dir {
            config.data_dir.clone_from(data_dir);
        }
        Ok(config)
    }
}

impl Admin {
    /// Opens the store and the master key as `tessera serve` does, and runs the idempotent
    /// first-start work so that a fresh data folder has its keys and first-party client.
    async fn open(config: Config, json: bool, now: Timestamp) -> Result<Admin, AdminError> {
        let random = SystemRandom::new();
        let store = open_store(&config).await?;
        let master_key_env = std::env::var("TESSERA_MASTER_KEY").ok();
        let master = load_master_key(&config, master_key_env.as_deref(), &random)?;
        bootstrap(&store, &master, &random, &config, now).await?;
        Ok(Admin { config, store, master, random, audit: MemoryAuditSink::default(), now, json })
    }

    async fn record_audit_events(&self) -> Result<(), AdminError> {
        let events = self.audit.events();
        if !events.is_empty() {
            self.store.append_audit_events(&events).await?;
        }
        Ok(())
    }

    /// The longest lifetime of an access token that may be in circulation, as the server
    /// computes it: from the database, whatever this shell's configuration says.
    pub async fn max_access_ttl(&self) -> Result<i64, AdminError> {
        Ok(tessera_server::startup::max_access_ttl(&self.store, &self.config, self.now).await?)
    }

    /// `value` as pretty JSON with `--json`, else the text `human` makes of it.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> Result<Output, AdminError> {
        let mut stdout = if self.json {
            serde_json::to_string_pretty(value).map_err(|e| AdminError::usage(format!("cannot write JSON: {e}")))?
        } else {
            human(value)
        };
        if !stdout.is_empty() && !stdout.ends_with('\n') {
            stdout.push('\n');
        }
        Ok(Output { stdout, stderr: Vec::new() })
    }
}

/// A configured duration in whole seconds, saturating.
pub fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// A time (seconds since the epoch) for people: RFC 3339 in UTC, or the number if out of range.
pub fn date(seconds: i64) -> String {
    crate::token::times::rfc3339(seconds).unwrap_or_else(|| seconds.to_string())
}

/// A time for people with its distance from `now`: `2025-01-02T03:04:05Z (in 23h 59m)`.
pub fn date_from_now(seconds: i64, now: Timestamp) -> String {
    format!("{} ({})", date(seconds), crate::token::times::relative(seconds, now.unix()))
}

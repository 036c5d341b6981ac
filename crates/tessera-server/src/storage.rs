//! Opening the database named by the configuration, for the server and for the admin commands
//! alike (they share one database, also while the server runs: SQLite's WAL lets them).
//!
//! The data folder holds the master key and every private key (sealed) and refresh-token hash,
//! so it is created readable by its owner only (0700), and so is the database (0600): SQLite
//! gives its `-wal` and `-shm` files the mode of the database file, so creating the database
//! file first with 0600 covers all three.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_store::SqliteStore;

use crate::config::Config;
use crate::startup::StartError;
use crate::state::AppStore;

/// Opens the configured store behind every port, as the server holds it: the routes never
/// learn which adapter answers.
pub async fn open_app_store(config: &Config) -> Result<Arc<AppStore>, StartError> {
    Ok(Arc::new(open_store(config).await?))
}

/// Opens the configured store after checking the configuration, creating the data folder
/// (0700) and the database (0600) on first use. Nothing is created for a configuration that
/// cannot start.
pub async fn open_store(config: &Config) -> Result<SqliteStore, StartError> {
    config.validate().map_err(|e| StartError::Config(e.to_string()))?;
    let url = config.database_url();
    let Some(path) = url.strip_prefix("sqlite://") else {
        return Err(StartError::Config("database.url must be sqlite://PATH".into()));
    };
    let path = PathBuf::from(path);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent).map_err(|e| StartError::io(format!("cannot create {}", parent.display()), e))?;
    }
    create_private_file(&path).map_err(|e| StartError::io(format!("cannot create {}", path.display()), e))?;
    SqliteStore::open(&path).await.map_err(|e| StartError::Storage(e.to_string()))
}

/// Creates `dir` and any missing parents with mode 0700; an existing folder is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates an empty file with mode 0600 unless it exists (`create_new`: never through a link).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

//! Opening the database named by the configuration, for the server and for the admin commands
//! alike (they share one database, also while the server runs: SQLite's WAL lets them).

use std::path::PathBuf;
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

/// Opens the configured store, creating the data folder and the database on first use.
pub async fn open_store(config: &Config) -> Result<SqliteStore, StartError> {
    let url = config.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = PathBuf::from(path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StartError::io(format!("cannot create {}", parent.display()), e))?;
        }
        return SqliteStore::open(&path).await.map_err(|e| StartError::Storage(e.to_string()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StartError::Config("database.url: PostgreSQL is not supported yet; use sqlite://".into()));
    }
    Err(StartError::Config("database.url must start with sqlite:// (or postgres:// in a later release)".into()))
}

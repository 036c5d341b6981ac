//! The SQLite adapter over sqlx: one file database in WAL mode (readers never block the single
//! writer), foreign keys enforced, `synchronous = FULL` so an acknowledged write survives a power
//! cut (SPEC §6), and the embedded migrations applied at open.
//!
//! Every operation that decides and writes runs inside a `BEGIN IMMEDIATE` transaction: it takes
//! the write lock before its first read, so no other writer can change what it read. The
//! request-path writes go through the group-commit writer (`writer.rs`): one connection, one
//! transaction per batch of pending operations, a savepoint per operation, one commit (one
//! fsync) for the batch, every caller answered after it. The rare administrative writes (keys,
//! clients, accounts) keep their own transaction on a pool connection and wait for the lock on
//! the busy timeout, as a second process (an admin command) does.

mod accounts;
mod artifacts;
mod audit;
mod clients;
mod consents;
mod grants;
mod refresh;
mod retention;
mod revocations;
mod sessions;
mod signing_keys;
pub mod writer;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Sqlite, SqliteConnection, Transaction};
use tessera_core::CoreError;

/// How long a writer waits for the lock before giving up. Generous: writes are short, and a
/// failed write is a failed request.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in the pool; WAL lets them all read at once while one writes.
const MAX_CONNECTIONS: u32 = 8;

/// The embedded migrations, in order. Text is compiled in so the binary needs no files.
const MIGRATIONS: [(i64, &str, &str); 4] = [
    (1, "initial", include_str!("../../migrations/sqlite/0001_initial.sql")),
    (2, "grants", include_str!("../../migrations/sqlite/0002_grants.sql")),
    (3, "keys", include_str!("../../migrations/sqlite/0003_keys.sql")),
    (4, "browser", include_str!("../../migrations/sqlite/0004_browser.sql")),
];

/// The migrator for the embedded migrations.
pub fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect(),
    )
}

/// A Tessera store in one SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: writer::Writer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<SqliteStore, CoreError> {
        let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
        SqliteStore::open_with(options).await
    }

    /// Opens a `sqlite://…` URL and migrates the database.
    pub async fn open_url(url: &str) -> Result<SqliteStore, CoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(storage_error)?.create_if_missing(true);
        SqliteStore::open_with(options).await
    }

    /// Opens with the caller's options, then imposes the settings Tessera's guarantees rely on.
    pub async fn open_with(options: SqliteConnectOptions) -> Result<SqliteStore, CoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.clone())
            .await
            .map_err(storage_error)?;
        migrator().run(&pool).await.map_err(|error| CoreError::Storage(Box::new(error)))?;
        // The group-commit writer has a connection of its own, with the same guarantees.
        let connection = options.connect().await.map_err(storage_error)?;
        Ok(SqliteStore { pool, writer: writer::Writer::start(connection) })
    }

    /// What the group-commit writer has done so far.
    pub fn writer_stats(&self) -> writer::WriterStats {
        self.writer.stats()
    }

    /// The connection pool, for health checks.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs a write in the writer's next batch (group commit, `writer.rs`): in its own
    /// savepoint of one `BEGIN IMMEDIATE` transaction, answered after the commit.
    async fn write<T, F>(&self, operation: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> writer::WriteFuture<'c, T> + Send + 'static,
    {
        self.writer.write(operation).await
    }

    /// A write transaction on a pool connection that holds the database lock from its first
    /// statement, for the rare administrative writes that do not go through the writer.
    async fn write_transaction(&self) -> Result<Transaction<'static, Sqlite>, CoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(storage_error)
    }
}

/// Rows one purge statement deletes at most: each chunk is its own short transaction, so an
/// hourly purge of a large backlog never holds the write lock for long (the group-commit writer
/// waits behind it at most one chunk, far below the busy timeout).
const PURGE_CHUNK: i64 = 1_000;

impl SqliteStore {
    /// Deletes the rows of `table` where `expired` (SQL with one `?` for the bound `value`) in
    /// chunks of [`PURGE_CHUNK`]; returns how many went.
    async fn purge_in_chunks(&self, table: &'static str, expired: &'static str, value: i64) -> Result<u64, CoreError> {
        let sql = format!(
            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {expired} LIMIT {PURGE_CHUNK})"
        );
        let mut total = 0;
        loop {
            let deleted = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(value)
                .execute(&self.pool)
                .await
                .map_err(storage_error)?
                .rows_affected();
            total += deleted;
            if deleted < PURGE_CHUNK.unsigned_abs() {
                return Ok(total);
            }
        }
    }
}

/// Maps a sqlx error to the domain's, keeping the cause for the log.
pub(crate) fn storage_error(error: sqlx::Error) -> CoreError {
    CoreError::Storage(Box::new(error))
}

/// Like [`storage_error`], but a uniqueness violation becomes [`CoreError::Conflict`] and a
/// foreign-key violation [`CoreError::NotFound`] for the referenced record.
pub(crate) fn write_error(what: &'static str, referenced: &'static str) -> impl Fn(sqlx::Error) -> CoreError {
    move |error| match error.as_database_error() {
        Some(database) if database.is_unique_violation() => CoreError::Conflict { what },
        Some(database) if database.is_foreign_key_violation() => CoreError::NotFound { what: referenced },
        _ => storage_error(error),
    }
}

/// A list of strings as stored: a JSON array.
pub(crate) fn encode_list<T: serde::Serialize>(items: &[T]) -> Result<String, CoreError> {
    serde_json::to_string(items).map_err(|error| CoreError::CorruptData(error.to_string()))
}

/// A stored JSON array back as a list.
pub(crate) fn decode_list<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, CoreError> {
    serde_json::from_str(text).map_err(|error| CoreError::CorruptData(error.to_string()))
}

//! # tessera-store
//!
//! Storage adapters for `tessera-core`'s ports. Today: [`sqlite::SqliteStore`] (embedded, WAL,
//! migrations applied at open). Every adapter passes the one conformance suite in
//! `tests/conformance/` (run by `tests/memory.rs` and `tests/sqlite.rs`); a PostgreSQL adapter
//! will run the very same suite.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod sqlite;

pub use sqlite::SqliteStore;

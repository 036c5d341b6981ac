//! # tessera-store
//!
//! Storage adapters for `tessera-core`'s ports, and the one conformance suite that every
//! adapter must pass. Today: [`sqlite::SqliteStore`] (embedded, WAL, migrations applied at
//! open). A PostgreSQL adapter will run the very same [`conformance`] suite through
//! [`conformance_suite!`].
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod conformance;
pub mod sqlite;

pub use sqlite::SqliteStore;

//! # tessera-store
//!
//! Storage adapters for `tessera-core`'s ports, and the one conformance suite that every
//! adapter must pass. Today: [`sqlite::SqliteStore`] (embedded, WAL, migrations applied at
//! open). A PostgreSQL adapter will run the very same `conformance` suite through
//! `conformance_suite!`, behind the `conformance` feature: it is test code (it panics on a
//! failed expectation), so the server and the CLI never compile it.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod sqlite;

pub use sqlite::SqliteStore;

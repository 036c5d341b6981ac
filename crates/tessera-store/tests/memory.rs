//! The conformance suite against core's in-memory reference store, which keeps the suite
//! honest: a test that only SQLite passes is testing SQLite, not the contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tessera_core::memory::MemoryStore;

#[macro_use]
mod conformance;

async fn fresh_store() -> (Arc<MemoryStore>, ()) {
    (Arc::new(MemoryStore::default()), ())
}

conformance_suite!(fresh_store);

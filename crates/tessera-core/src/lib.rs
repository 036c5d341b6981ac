//! # tessera-core
//!
//! Tessera's domain: accounts, clients, sessions, grants and their refresh tokens, signing keys,
//! revocations and audit events, and the flows that act on them. No HTTP and no SQL: flows are
//! plain functions over storage traits (the ports), which `tessera-store` implements and checks
//! with one conformance suite.
//!
//! Time and randomness are injected ([`clock::Clock`], [`random::Random`]); every store method
//! takes `now` as a parameter. Signing is out of scope here: flows produce
//! [`access_token::AccessTokenClaims`] and an [`access_token::AccessTokenIssuer`] signs them.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// The ground: imports nothing above it.
pub mod clock;
pub mod error;
mod identifier;
pub mod random;

// The domain's records, each with the storage port it needs.
pub mod model;
// Secrets: password hashing, client secrets.
pub mod secrets;
// Signing keys: their life, sealing, the ring that signs.
pub mod keys;
// One module per grant or flow.
pub mod flows;

/// Every port together.
pub mod store;

#[cfg(any(test, feature = "test-support"))]
pub mod memory;

pub use error::{CoreError, ErrorCode};

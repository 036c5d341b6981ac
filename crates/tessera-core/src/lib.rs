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

pub mod access_token;
pub mod account;
pub mod account_admin;
pub mod artifact;
pub mod audit;
pub mod client;
pub mod client_authentication;
pub mod client_secret;
pub mod clock;
pub mod error;
pub mod flows;
pub mod grant;
mod identifier;
pub mod key_ring;
pub mod master_key;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod password;
pub mod random;
pub mod refresh;
pub mod retention;
pub mod revocation;
pub mod session;
pub mod signing_key;
pub mod store;

pub use error::{CoreError, ErrorCode};

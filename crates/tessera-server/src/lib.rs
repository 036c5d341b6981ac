//! # tessera-server
//!
//! The HTTP face of Tessera: configuration, start-up, axum routes by family, middleware, and
//! the mapping of domain errors to RFC 6749/6750 responses (one place: [`error`]).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod audit_queue;
pub mod browser;
pub mod client_address;
pub mod client_cache;
pub mod config;
pub mod cors;
pub mod error;
pub mod extract;
pub mod interaction_cache;
pub mod issuance_tally;
pub mod listener;
pub mod logging;
pub mod pages;
pub mod password_pool;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod tls;

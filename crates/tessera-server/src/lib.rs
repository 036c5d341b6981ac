//! Tessera server.
pub mod config;

//! The domain's records, each beside the storage port (`*Store` trait) that keeps it; every
//! port method states its security contract and takes `now`.

pub mod access_token;
pub mod account;
pub mod artifact;
pub mod audit;
pub mod client;
pub mod consent;
pub mod grant;
pub mod id_token;
pub mod refresh;
pub mod retention;
pub mod revocation;
pub mod session;

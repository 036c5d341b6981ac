//! Secrets a person or a client presents: Argon2id password hashes and client secrets.

pub mod client_secret;
pub mod password;

//! Signing keys: their records and port, their life (create, rotate with pre-publication,
//! activate, retire, revoke), sealing under the master key, and the ring that signs.

pub mod key_ring;
pub mod master_key;
pub mod signing_key;

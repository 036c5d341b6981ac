//! Randomness as an injected handle: the real one is the operating system's CSPRNG through
//! aws-lc-rs; tests may use a deterministic one so that generated identifiers are repeatable.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::digest;
use aws_lc_rs::rand::SecureRandom;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::CoreError;

/// A source of random bytes.
pub trait Random: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), CoreError>;
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>(random: &dyn Random) -> Result<[u8; N], CoreError> {
    let mut bytes = [0u8; N];
    random.fill(&mut bytes)?;
    Ok(bytes)
}

/// A fresh identifier: 128 random bits in base64url without padding (22 characters).
///
/// 128 bits make guessing or colliding identifiers (user ids, session ids, family ids, `jti`)
/// impractical, so no identifier needs to be kept secret to stay unforgeable.
pub fn random_id(random: &dyn Random) -> Result<String, CoreError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<16>(random)?))
}

/// A fresh bearer secret: 256 random bits in base64url without padding (43 characters), for
/// values that are themselves credentials (authorization codes, session cookies), stored only
/// as their hash.
pub fn random_secret(random: &dyn Random) -> Result<String, CoreError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>(random)?))
}

/// The operating system's CSPRNG.
#[derive(Debug, Default)]
pub struct SystemRandom(aws_lc_rs::rand::SystemRandom);

impl SystemRandom {
    /// The system CSPRNG.
    pub fn new() -> SystemRandom {
        SystemRandom(aws_lc_rs::rand::SystemRandom::new())
    }
}

impl Random for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CoreError> {
        self.0.fill(dest).map_err(|_| CoreError::Random)
    }
}

/// Deterministic bytes for tests: SHA-256 over a seed and a counter. Never use it in a server.
#[derive(Debug)]
pub struct TestRandom {
    seed: u64,
    counter: AtomicU64,
}

impl TestRandom {
    /// A generator whose output depends only on `seed` and the number of calls.
    pub fn new(seed: u64) -> TestRandom {
        TestRandom { seed, counter: AtomicU64::new(0) }
    }
}

impl Random for TestRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CoreError> {
        for chunk in dest.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::SeqCst);
            let mut input = self.seed.to_be_bytes().to_vec();
            input.extend_from_slice(&n.to_be_bytes());
            let block = digest::digest(&digest::SHA256, &input);
            chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_22_base64url_characters_and_distinct() {
        let random = SystemRandom::new();
        let a = random_id(&random).unwrap();
        let b = random_id(&random).unwrap();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn test_random_is_repeatable() {
        let a: [u8; 40] = random_bytes(&TestRandom::new(7)).unwrap();
        let b: [u8; 40] = random_bytes(&TestRandom::new(7)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a[..32], a[8..40]);
    }
}

//! Password hashing with Argon2id at the OWASP parameters (19 MiB, 2 passes, 1 lane). The
//! work is CPU-bound and slow on purpose: callers on an async runtime run it on a bounded
//! blocking pool, never on the async workers.

use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::account::PasswordHash;
use crate::error::CoreError;
use crate::random::{Random, random_bytes};

/// The longest password accepted: Argon2 takes any length, but hashing megabytes is a
/// denial of service.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Checks a new password: at least 8 characters (NIST SP 800-63B §5.1.1.2), at most 1 KiB.
pub fn check_new_password(password: &str) -> Result<(), CoreError> {
    if password.chars().count() < 8 {
        return Err(CoreError::InvalidRequest { field: "password", reason: "must be at least 8 characters" });
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(CoreError::InvalidRequest { field: "password", reason: "must be at most 1024 bytes" });
    }
    Ok(())
}

/// Hashes a password with a fresh 128-bit salt; returns the PHC string.
pub fn hash_password(password: &str, random: &dyn Random) -> Result<PasswordHash, CoreError> {
    check_new_password(password)?;
    let salt = random_bytes::<16>(random)?;
    let hash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| CoreError::Signing(format!("argon2: {e}")))?;
    Ok(PasswordHash::new(hash.to_string()))
}

/// A hash of a password nobody knows, verified against when the account does not exist, so
/// that an unknown user costs the same time as a wrong password (SPEC §5).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password_with_salt(b"no account has this password", b"tessera-dummy-salt")
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Verifies `password` against `hash`, or against a dummy hash when there is no account.
/// Always does one full Argon2id computation; `false` for any mismatch or malformed hash.
pub fn verify_password(password: &str, hash: Option<&PasswordHash>) -> bool {
    let password = if password.len() > MAX_PASSWORD_LEN { "" } else { password };
    let Some(hash) = hash else {
        let _ = Argon2::default().verify_password(password.as_bytes(), DUMMY_HASH.as_str());
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), hash.expose()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;

    #[test]
    fn hashes_verify_and_never_contain_the_password() {
        let hash = hash_password("correct horse", &TestRandom::new(1)).unwrap();
        assert!(hash.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.expose().contains("correct horse"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("correct horsE", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("x", Some(&PasswordHash::new("not a phc string"))));
    }

    #[test]
    fn new_passwords_have_a_length_range() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"x".repeat(2000)).is_err());
        assert!(check_new_password("long enough").is_ok());
    }
}

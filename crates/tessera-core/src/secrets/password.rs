//! Password hashing with Argon2id at the OWASP parameters (19 MiB, 2 passes, 1 lane). The
//! work is CPU-bound and slow on purpose: callers on an async runtime run it on a bounded
//! blocking pool, never on the async workers.

use std::sync::LazyLock;

use argon2::{Argon2, Block, PasswordHasher};

use crate::error::CoreError;
use crate::model::account::PasswordHash;
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
    let phc = match hash {
        Some(hash) => hash.expose(),
        None => {
            let _ = verify_phc(password.as_bytes(), DUMMY_HASH.as_str());
            return false;
        }
    };
    verify_phc(password.as_bytes(), phc)
}

/// Argon2 work memory is allocated with at least this many 1 KiB blocks: 33 MiB, above
/// glibc's largest mmap threshold (32 MiB). An allocation that size always gets its own
/// mapping and goes back to the system when freed; the 19 MiB the parameters need would
/// otherwise stay resident in the allocator's per-thread arenas after a burst of logins.
/// Only the first `m_cost` blocks are used (and touched beyond the zeroing).
const WORK_MEMORY_BLOCKS: usize = 33 * 1024;

/// Verifies a PHC string by computing the hash with work memory of our own (see
/// [`WORK_MEMORY_BLOCKS`]) and comparing in constant time.
fn verify_phc(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
    let Ok(version) = argon2::Version::try_from(parsed.version.unwrap_or(0x13)) else { return false };
    let Ok(params) = argon2::Params::try_from(&parsed) else { return false };
    let mut memory = vec![Block::default(); WORK_MEMORY_BLOCKS.max(params.block_count())];
    let mut computed = vec![0u8; expected.as_ref().len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt.as_ref(),
        &mut computed,
        &mut memory[..],
    );
    hashed.is_ok() && aws_lc_rs::constant_time::verify_slices_are_equal(&computed, expected.as_ref()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use argon2::PasswordVerifier;

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
    fn own_memory_verification_agrees_with_the_reference_verifier() {
        let random = TestRandom::new(2);
        for password in ["correct horse", "another one!", "ünïcødé pässwörd"] {
            let hash = hash_password(password, &random).unwrap();
            for attempt in [password, "correct horsf", ""] {
                let reference = Argon2::default().verify_password(attempt.as_bytes(), hash.expose()).is_ok();
                assert_eq!(verify_password(attempt, Some(&hash)), reference, "{attempt:?}");
            }
        }
        // A hash with other parameters still verifies: they come from the PHC string.
        let light = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"light password", b"0123456789abcdef")
        .unwrap()
        .to_string();
        assert!(verify_password("light password", Some(&PasswordHash::new(light.clone()))));
        assert!(!verify_password("light passworD", Some(&PasswordHash::new(light))));
    }

    #[test]
    fn new_passwords_have_a_length_range() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"x".repeat(2000)).is_err());
        assert!(check_new_password("long enough").is_ok());
    }
}

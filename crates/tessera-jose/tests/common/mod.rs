//! Shared fixtures for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use tessera_jose::{Algorithm, KeySet, SigningKey, Validator, ValidatorBuilder, base64url};

pub const NOW: i64 = 1_750_000_000;
pub const ISS: &str = "https://id.example";
pub const AUD: &str = "api://orders";

/// One key per algorithm, generated once per test binary (RSA generation is slow).
pub fn key(alg: Algorithm) -> &'static SigningKey {
    static KEYS: LazyLock<Mutex<HashMap<Algorithm, &'static SigningKey>>> = LazyLock::new(Default::default);
    let mut keys = KEYS.lock().unwrap();
    keys.entry(alg).or_insert_with(|| Box::leak(Box::new(SigningKey::generate(alg).unwrap())))
}

pub fn claims() -> serde_json::Value {
    serde_json::json!({
        "iss": ISS, "aud": AUD, "sub": "user-42", "iat": NOW, "exp": NOW + 900,
        "jti": "a1b2c3", "client_id": "web", "scope": "orders:read",
    })
}

pub fn key_set(alg: Algorithm) -> KeySet {
    KeySet::new(vec![key(alg).verifying_key().clone()]).unwrap()
}

/// A validator for access tokens signed by `key(alg)`.
pub fn builder(alg: Algorithm) -> ValidatorBuilder {
    Validator::builder(key_set(alg)).algorithm(alg).typ("at+jwt").issuer(ISS).audience(AUD)
}

pub fn validator(alg: Algorithm) -> Validator {
    builder(alg).build().unwrap()
}

/// A token with exactly these header and payload bytes, validly signed by `key`.
pub fn sign_raw(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", base64url::encode(header), base64url::encode(payload));
    let signature = key.sign_bytes(input.as_bytes()).unwrap();
    format!("{input}.{}", base64url::encode(signature))
}

//! Arbitrary bytes through every entry point that reads untrusted input: compact JWS
//! parsing, signature verification, JWT validation, JWK and JWK Set parsing, PEM keys.
//! None of them may panic, whatever the input.
//!
//! The keys are fixed (not generated) so that a crash reproduces, and so that the seeds in
//! `fuzz/seeds/parse_verify/`, signed with them, reach claim validation.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tessera_jose::{
    Algorithm, Jwk, Jwks, JwsVerifier, KeySet, SigningKey, Validator, VerifyingKey, decode_unverified,
    parse_json_object,
};

/// The seeds' clock: they are issued at this second and expire 900 s later.
const NOW: i64 = 1_700_000_000;
const ES256_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"fuzz-es256","x":"XLTKKxZymHgqCDH_XOljd9dniJh8jHntzsy7Fguvy-U","y":"SUKyHyh2Iz34sv4FVKP751rzXKganwTI-bRiEWaAv9I"}"#;
const HS256_JWK: &str = r#"{"kty":"oct","kid":"fuzz-hs256","k":"dGVzc2VyYS1mdXp6LWhzMjU2LXNlY3JldC0zMmJ5dGU"}"#;

struct Fixture {
    verifiers: Vec<JwsVerifier>,
    validators: Vec<Validator>,
}

fn key_set(jwk: &str) -> KeySet {
    let jwk = Jwk::from_json(jwk.as_bytes()).expect("fixed JWK");
    KeySet::new(vec![VerifyingKey::from_jwk(&jwk).expect("fixed key")]).expect("one key")
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let es256 = key_set(ES256_JWK);
    let hs256 = key_set(HS256_JWK);
    let strict = |keys: &KeySet, alg| {
        Validator::builder(keys.clone())
            .algorithm(alg)
            .typ("at+jwt")
            .issuer("https://id.tessera.example")
            .audience("api")
            .build()
            .expect("validator")
    };
    let relaxed = Validator::builder(es256.clone())
        .algorithms(Algorithm::ALL)
        .accept_any_typ()
        .accept_any_issuer()
        .accept_any_audience()
        .build()
        .expect("validator");
    Fixture {
        verifiers: vec![
            JwsVerifier::new([Algorithm::ES256], es256.clone()).expect("verifier"),
            // Every algorithm allowed over an HMAC set: alg confusion must still fail cleanly.
            JwsVerifier::new(Algorithm::ALL, hs256.clone()).expect("verifier"),
        ],
        validators: vec![strict(&es256, Algorithm::ES256), strict(&hs256, Algorithm::HS256), relaxed],
    }
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    if let Ok(unverified) = decode_unverified(text) {
        let _ = unverified.risky_headers();
    }
    for verifier in &FIXTURE.verifiers {
        let _ = verifier.verify(text);
    }
    for validator in &FIXTURE.validators {
        let _ = validator.validate::<serde_json::Value>(text, NOW);
    }

    let _ = parse_json_object(data);
    if let Ok(keys) = KeySet::from_jwks_json(data) {
        let _ = keys.to_public_jwks().to_json();
    }
    let _ = Jwks::from_json(data);
    if let Ok(jwk) = Jwk::from_json(data) {
        let _ = jwk.thumbprint();
        let _ = jwk.to_public();
        if let Ok(key) = VerifyingKey::from_jwk(&jwk) {
            let _ = key.thumbprint();
            let _ = key.public_jwk();
        }
        if let Ok(key) = SigningKey::from_jwk(&jwk, None) {
            let _ = key.sign_jwt(Some("at+jwt"), &serde_json::json!({"sub": "fuzz"}));
        }
    }
    let _ = VerifyingKey::from_spki_pem(text);
    let _ = SigningKey::from_pkcs8_pem(text, None);
});

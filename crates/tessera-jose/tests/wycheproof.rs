//! Project Wycheproof JOSE vectors (../shared/testvectors/wycheproof): every JWS and JWK
//! test that applies to signatures, run through the public API.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use serde_json::Value;
use tessera_jose::{Algorithm, Error, Jwk, JwsVerifier, KeySet, VerifyingKey};

/// tcIds in json_web_signature_test.json that disagree with RFC 7515 and with other mature
/// implementations (the vectors' README lists them as known errata).
const ERRATA: [u64; 8] = [346, 347, 350, 351, 367, 370, 372, 373];

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testvectors/wycheproof").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The key set a test group names: its public key(s) if given, else the private one(s).
fn key_set(group: &Value) -> Result<KeySet, Error> {
    let key = group.get("public").or_else(|| group.get("private")).expect("group has a key");
    if key.get("keys").is_some() {
        KeySet::from_jwks_json(key.to_string().as_bytes())
    } else {
        let jwk = Jwk::from_json(key.to_string().as_bytes())?;
        KeySet::new(vec![VerifyingKey::from_jwk(&jwk)?])
    }
}

/// Runs every test of a file; returns (passed, skipped) and panics listing every failure.
fn run(file: &str) -> (usize, usize) {
    let data = vectors(file);
    let (mut passed, mut skipped, mut failures) = (0, 0, Vec::new());
    for group in data["testGroups"].as_array().unwrap() {
        let keys = key_set(group);
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            if file == "json_web_signature_test.json" && ERRATA.contains(&id) {
                skipped += 1;
                continue;
            }
            let Some(jws) = test["jws"].as_str() else {
                // A JSON-serialized JWS: compact only, so it must be refused.
                assert_eq!(test["result"], "invalid", "tcId {id}");
                let text = test["jws"].to_string();
                let verifier = JwsVerifier::new(Algorithm::ALL, keys.clone().unwrap_or_default()).unwrap();
                assert!(verifier.verify(&text).is_err(), "tcId {id}");
                passed += 1;
                continue;
            };
            let outcome = keys
                .clone()
                .and_then(|keys| JwsVerifier::new(Algorithm::ALL, keys))
                .and_then(|verifier| verifier.verify(jws));
            let expected_valid = test["result"] == "valid";
            if outcome.is_ok() == expected_valid {
                passed += 1;
            } else {
                failures.push(format!(
                    "tcId {id} ({} / {}): expected {}, got {:?}",
                    group["comment"],
                    test["comment"],
                    test["result"],
                    outcome.map(|v| v.header.alg)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    (passed, skipped)
}

/// The reason matters as much as the verdict: spot checks that each attack is named.
#[test]
fn rejections_name_the_attack() {
    let data = vectors("json_web_signature_test.json");
    let keys_data = vectors("json_web_key_test.json");
    let reason = |data: &Value, id: u64| -> Error {
        let group = data["testGroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["tests"].as_array().unwrap().iter().any(|t| t["tcId"] == id))
            .unwrap();
        let test = group["tests"].as_array().unwrap().iter().find(|t| t["tcId"] == id).unwrap();
        key_set(group)
            .and_then(|keys| JwsVerifier::new(Algorithm::ALL, keys))
            .and_then(|v| v.verify(test["jws"].as_str().unwrap()))
            .unwrap_err()
    };
    assert_eq!(reason(&data, 32), Error::ForbiddenHeader("jwk"), "embedded jwk");
    assert!(matches!(reason(&data, 31), Error::KeyMismatch { .. }), "HMAC with an EC public key");
    assert_eq!(reason(&data, 341), Error::AlgNone);
    assert_eq!(reason(&data, 386), Error::SignatureOutOfRange, "r = s = 0");
    assert_eq!(reason(&data, 401), Error::SignatureOutOfRange, "r = s = n");
    assert!(matches!(reason(&data, 353), Error::KeyUseForbidden { .. }), "use: enc");
    assert!(matches!(reason(&data, 355), Error::KeyUseForbidden { .. }), "key_ops without verify");
    assert_eq!(reason(&data, 365), Error::InvalidBase64(tessera_jose::Part::Header));
    assert!(matches!(reason(&keys_data, 1), Error::InvalidKeySet(_)), "mixed key set");
    assert!(matches!(reason(&keys_data, 7), Error::WeakKey(w) if w.contains("ROCA")));
    assert!(matches!(reason(&keys_data, 8), Error::WeakKey(w) if w.contains("2048")));
    assert!(matches!(reason(&keys_data, 9), Error::WeakKey(_)), "e = 1");
    assert!(matches!(reason(&keys_data, 10), Error::WeakKey(_)), "short HMAC key");
    assert!(matches!(reason(&keys_data, 22), Error::InvalidKey(_)), "point not on the curve");
}

#[test]
fn json_web_signature_vectors() {
    let (passed, skipped) = run("json_web_signature_test.json");
    assert_eq!(skipped, ERRATA.len(), "every named erratum exists");
    assert!(passed >= 390, "ran {passed}");
}

#[test]
fn json_web_key_vectors() {
    let (passed, _) = run("json_web_key_test.json");
    assert_eq!(passed, 26);
}

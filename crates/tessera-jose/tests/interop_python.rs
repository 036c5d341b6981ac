//! Interoperability both ways with PyJWT and jwcrypto (interop/python/jose_interop.py).
//!
//! The Python environment comes from `scripts/test` (a venv with interop/python/
//! requirements.txt); set INTEROP_PYTHON to use another interpreter. A missing
//! environment fails the test with instructions rather than skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{AUD, ISS, NOW, claims, key, validator};
use serde_json::{Value, json};
use tessera_jose::Algorithm;

fn python() -> String {
    std::env::var("INTEROP_PYTHON").unwrap_or_else(|_| {
        let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv/bin/python");
        if venv.exists() { venv.display().to_string() } else { "python3".into() }
    })
}

#[test]
fn pyjwt_and_jwcrypto_both_ways() {
    let cases: Vec<Value> = Algorithm::ALL
        .into_iter()
        .map(|alg| {
            let key = key(alg);
            let mut case = json!({"alg": alg.name(), "token": key.sign_jwt(Some("at+jwt"), &claims()).unwrap()});
            if alg.is_symmetric() {
                case["secret_b64u"] = json!(key.to_private_jwk().k);
                case["public_jwk"] = json!({"kid": key.kid()});
            } else {
                case["public_jwk"] = serde_json::to_value(key.public_jwk().unwrap()).unwrap();
                case["private_pem"] = json!(key.to_pkcs8_pem().unwrap());
            }
            case
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("tessera-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("cases.json"), dir.join("results.json"));
    let doc = json!({"issuer": ISS, "audience": AUD, "now": NOW, "cases": cases});
    std::fs::write(&input, doc.to_string()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/python/jose_interop.py");
    let run = Command::new(python()).arg(&script).arg(&input).arg(&output).output().unwrap();
    assert!(
        run.status.success(),
        "the Python interop script failed (run scripts/test, or pip install -r interop/python/requirements.txt):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let results = results["results"].as_array().unwrap();
    assert_eq!(results.len(), Algorithm::ALL.len());
    let mut failures = Vec::new();
    for result in results {
        let alg: Algorithm = result["alg"].as_str().unwrap().parse().unwrap();
        for check in ["pyjwt_verified", "jwcrypto_verified", "tamper_refused"] {
            if result[check] != true {
                failures.push(format!("{alg} {check}: {}", result[check]));
            }
        }
        match result["pyjwt_token"].as_str().filter(|t| t.matches('.').count() == 2) {
            Some(token) => {
                if let Err(error) = validator(alg).validate::<Value>(token, NOW) {
                    failures.push(format!("{alg}: PyJWT's token refused here: {error}"));
                }
            }
            None => failures.push(format!("{alg}: PyJWT could not sign: {}", result["pyjwt_token"])),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

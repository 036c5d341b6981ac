//! Published examples: RFC 7515 appendix A, RFC 7520 §4 and RFC 8037 §A.4.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use serde_json::Value;
use tessera_jose::{Algorithm, Error, Jwk, JwsVerifier, KeySet, RegisteredClaims, SigningKey, Validator, VerifyingKey};

fn cookbook(path: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testvectors/jose-cookbook").join(path);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn jwk(value: &Value) -> Jwk {
    Jwk::from_json(value.to_string().as_bytes()).unwrap()
}

const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_A1_KEY: &str =
    r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;

#[test]
fn rfc7515_a1_hs256_jwt() {
    let keys = KeySet::new(vec![VerifyingKey::from_jwk(&Jwk::from_json(RFC7515_A1_KEY.as_bytes()).unwrap()).unwrap()])
        .unwrap();
    let validator = Validator::builder(keys)
        .algorithm(Algorithm::HS256)
        .typ_jwt_or_absent()
        .issuer("joe")
        .accept_any_audience()
        .build()
        .unwrap();
    let valid = validator.validate::<RegisteredClaims>(RFC7515_A1, 1_300_819_000).unwrap();
    assert_eq!(valid.claims.exp, Some(1_300_819_380));
    assert_eq!(valid.claims.extra["http://example.com/is_root"], true);
    // The example expired in 2011.
    assert_eq!(validator.validate::<RegisteredClaims>(RFC7515_A1, 1_700_000_000).unwrap_err(), Error::Expired);
    // The signature covers the exact bytes, CRLF included: re-signing them gives the same MAC.
    let key =
        SigningKey::from_jwk(&Jwk::from_json(RFC7515_A1_KEY.as_bytes()).unwrap(), Some(Algorithm::HS256)).unwrap();
    let (input, signature) = RFC7515_A1.rsplit_once('.').unwrap();
    assert_eq!(tessera_jose::base64url::encode(key.sign_bytes(input.as_bytes()).unwrap()), signature);
}

#[test]
fn rfc7515_a5_unsecured_jws_is_refused() {
    let token = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
    let keys = KeySet::new(vec![VerifyingKey::from_jwk(&Jwk::from_json(RFC7515_A1_KEY.as_bytes()).unwrap()).unwrap()])
        .unwrap();
    let verifier = JwsVerifier::new(Algorithm::ALL, keys).unwrap();
    assert_eq!(verifier.verify(token).unwrap_err(), Error::AlgNone);
}

/// Verifies `output.compact` with the example's key; where the example is reproducible,
/// signing its signing input gives the very same signature.
fn check_cookbook(path: &str, alg: Algorithm) {
    let example = cookbook(path);
    let key = jwk(&example["input"]["key"]);
    let keys = KeySet::new(vec![VerifyingKey::from_jwk(&key).unwrap()]).unwrap();
    let compact = example["output"]["compact"].as_str().unwrap();
    let verified = JwsVerifier::new([alg], keys).unwrap().verify(compact).unwrap();
    assert_eq!(verified.header.alg, alg);
    assert_eq!(String::from_utf8(verified.payload).unwrap(), example["input"]["payload"].as_str().unwrap());
    let signer = SigningKey::from_jwk(&key, Some(alg)).unwrap();
    let input = example["signing"]["sig-input"].as_str().unwrap();
    let signature = tessera_jose::base64url::encode(signer.sign_bytes(input.as_bytes()).unwrap());
    if example["reproducible"] == true {
        assert_eq!(signature, example["signing"]["sig"].as_str().unwrap(), "{path}");
    }
    // Either way, our own signature over the same input verifies under the same key.
    let ours = format!("{input}.{signature}");
    let keys = KeySet::new(vec![signer.verifying_key().clone()]).unwrap();
    JwsVerifier::new([alg], keys).unwrap().verify(&ours).unwrap();
}

#[test]
fn rfc7520_4_1_rs256() {
    check_cookbook("jws/4_1.rsa_v15_signature.json", Algorithm::RS256);
}

#[test]
fn rfc7520_4_2_ps384() {
    check_cookbook("jws/4_2.rsa-pss_signature.json", Algorithm::PS384);
}

#[test]
fn rfc7520_4_4_hs256() {
    check_cookbook("jws/4_4.hmac-sha2_integrity_protection.json", Algorithm::HS256);
}

#[test]
fn rfc8037_ed25519() {
    check_cookbook("curve25519/jws.json", Algorithm::EdDSA);
}

#[test]
fn rfc7520_4_3_es512_is_outside_the_supported_set() {
    let example = cookbook("jws/4_3.ecdsa_signature.json");
    assert!(matches!(VerifyingKey::from_jwk(&jwk(&example["input"]["key"])), Err(Error::UnsupportedKey(_))));
    assert!(matches!("ES512".parse::<Algorithm>(), Err(Error::UnknownAlgorithm(_))));
}

#[test]
fn rfc7520_jwk_examples_import_and_round_trip() {
    for (public, private) in [
        ("jwk/3_1.ec_public_key.json", "jwk/3_2.ec_private_key.json"),
        ("jwk/3_3.rsa_public_key.json", "jwk/3_4.rsa_private_key.json"),
    ] {
        let public = jwk(&cookbook(public));
        let private = jwk(&cookbook(private));
        if public.crv.as_deref() == Some("P-521") {
            assert!(matches!(VerifyingKey::from_jwk(&public), Err(Error::UnsupportedKey(_))));
            continue;
        }
        let verifying = VerifyingKey::from_jwk(&public).unwrap();
        let signing = SigningKey::from_jwk(&private, None).unwrap();
        assert_eq!(signing.kid(), public.kid.as_deref().unwrap());
        assert_eq!(verifying.thumbprint().unwrap(), signing.verifying_key().thumbprint().unwrap());
        // Export then import gives the same key.
        let again = SigningKey::from_jwk(&signing.to_private_jwk(), None).unwrap();
        assert_eq!(again.to_private_jwk(), signing.to_private_jwk());
    }
    let symmetric = jwk(&cookbook("jwk/3_5.symmetric_key_mac_computation.json"));
    assert!(VerifyingKey::from_jwk(&symmetric).unwrap().is_symmetric());
}

#[test]
fn rfc7797_unencoded_payload_is_refused_even_with_a_valid_mac() {
    let example = cookbook("rfc7797/4.2.hmac-sha2_b64_false.json");
    let keys = KeySet::new(vec![VerifyingKey::from_jwk(&jwk(&example["input"]["key"])).unwrap()]).unwrap();
    let flat = &example["output"]["json_flat"];
    // The detached compact form: protected..signature, with the payload unencoded.
    let compact = format!("{}..{}", flat["protected"].as_str().unwrap(), flat["signature"].as_str().unwrap());
    let verifier = JwsVerifier::new([Algorithm::HS256], keys).unwrap();
    assert_eq!(verifier.verify(&compact).unwrap_err(), Error::UnencodedPayload);
}

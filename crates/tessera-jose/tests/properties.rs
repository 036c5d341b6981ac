//! Property tests: whatever the claims, sign then validate round-trips for every
//! algorithm, and changing any single byte of the token makes it fail.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{AUD, ISS, NOW, claims, key, validator};
use proptest::prelude::*;
use serde_json::{Map, Value};
use tessera_jose::Algorithm;

fn extra_claims() -> impl Strategy<Value = Map<String, Value>> {
    let value = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        prop::collection::vec("[a-z:]{0,12}", 0..4).prop_map(Value::from),
    ];
    prop::collection::btree_map("x_[a-z0-9_]{1,10}", value, 0..6).prop_map(|m| m.into_iter().collect())
}

fn signed(alg: Algorithm, extra: &Map<String, Value>) -> (String, Value) {
    let mut all = claims();
    all.as_object_mut().unwrap().extend(extra.clone());
    (key(alg).sign_jwt(Some("at+jwt"), &all).unwrap(), all)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_validate_round_trips(alg in prop::sample::select(Algorithm::ALL.to_vec()), extra in extra_claims()) {
        let (token, claims) = signed(alg, &extra);
        let valid = validator(alg).validate::<Value>(&token, NOW).unwrap();
        prop_assert_eq!(valid.claims, claims);
        prop_assert_eq!(valid.header.alg, alg);
    }

    #[test]
    fn any_one_byte_change_fails(
        alg in prop::sample::select(Algorithm::ALL.to_vec()),
        extra in extra_claims(),
        position in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let (token, _) = signed(alg, &extra);
        let mut bytes = token.into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        // Not UTF-8 any more: the validator only takes &str, so that is a failure already.
        if let Ok(tampered) = String::from_utf8(bytes) {
            prop_assert!(validator(alg).validate::<Value>(&tampered, NOW).is_err(), "accepted after changing byte {}", i);
        }
    }

    #[test]
    fn validate_never_panics_on_arbitrary_text(text in ".{0,300}") {
        let _ = validator(Algorithm::ES256).validate::<Value>(&text, NOW);
        let _ = tessera_jose::decode_unverified(&text);
    }
}

#[test]
fn exported_keys_reimport_to_the_same_key() {
    for alg in Algorithm::ALL {
        let original = key(alg);
        let from_jwk = tessera_jose::SigningKey::from_jwk(&original.to_private_jwk(), None).unwrap();
        assert_eq!(from_jwk.kid(), original.kid(), "{alg}");
        let token = from_jwk.sign_jwt(Some("at+jwt"), &claims()).unwrap();
        validator(alg).validate::<Value>(&token, NOW).unwrap();
        if alg.is_symmetric() {
            assert!(original.to_pkcs8_pem().is_err() && original.public_jwk().is_err());
            continue;
        }
        let from_pem = tessera_jose::SigningKey::from_pkcs8_pem(&original.to_pkcs8_pem().unwrap(), Some(alg)).unwrap();
        assert_eq!(from_pem.kid(), original.kid(), "thumbprint kid survives PEM, {alg}");
        let public = tessera_jose::VerifyingKey::from_spki_pem(&original.public_key_pem().unwrap()).unwrap();
        assert_eq!(public.thumbprint().unwrap(), original.kid());
        assert!(!serde_json::to_string(&original.public_jwk().unwrap()).unwrap().contains("\"d\""));
    }
}

#[test]
fn every_rsa_size_and_curve_generates() {
    use tessera_jose::{RsaBits, SigningKey};
    for bits in [RsaBits::B3072, RsaBits::B4096] {
        let key = SigningKey::generate_with_rsa_bits(Algorithm::PS512, bits).unwrap();
        let keys = tessera_jose::KeySet::new(vec![key.verifying_key().clone()]).unwrap();
        let v = tessera_jose::Validator::builder(keys)
            .algorithm(Algorithm::PS512)
            .typ("at+jwt")
            .issuer(ISS)
            .audience(AUD)
            .build()
            .unwrap();
        v.validate::<Value>(&key.sign_jwt(Some("at+jwt"), &claims()).unwrap(), NOW).unwrap();
    }
    assert_eq!(
        SigningKey::generate(Algorithm::HS512).unwrap().to_private_jwk().k.map(|k| k.len()),
        Some(86),
        "512-bit secret"
    );
}

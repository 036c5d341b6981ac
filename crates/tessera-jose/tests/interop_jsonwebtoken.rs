//! Interoperability both ways with the `jsonwebtoken` crate, an independent implementation.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{AUD, ISS, NOW, claims, key, validator};
use jsonwebtoken as other;
use serde_json::Value;
use tessera_jose::Algorithm;

/// The same algorithm in `jsonwebtoken`, by its JOSE name (which both crates parse alike).
fn other_alg(alg: Algorithm) -> other::Algorithm {
    alg.name().parse().expect("jsonwebtoken knows every JOSE algorithm name")
}

fn secret(alg: Algorithm) -> Vec<u8> {
    tessera_jose::base64url::decode(key(alg).to_private_jwk().k.as_deref().unwrap()).unwrap()
}

/// The other library's decoding key, built from our exported public JWK (or the secret).
fn decoding_key(alg: Algorithm) -> other::DecodingKey {
    if alg.is_symmetric() {
        return other::DecodingKey::from_secret(&secret(alg)).unwrap();
    }
    let jwk: other::jwk::Jwk =
        serde_json::from_value(serde_json::to_value(key(alg).public_jwk().unwrap()).unwrap()).unwrap();
    other::DecodingKey::from_jwk(&jwk).unwrap()
}

/// The other library's encoding key, from our exported PKCS#8 PEM (or the secret).
fn encoding_key(alg: Algorithm) -> other::EncodingKey {
    let pem = || key(alg).to_pkcs8_pem().unwrap();
    match alg.key_family() {
        tessera_jose::KeyFamily::Symmetric => other::EncodingKey::from_secret(&secret(alg)).unwrap(),
        tessera_jose::KeyFamily::Ed25519 => other::EncodingKey::from_ed_pem(pem().as_bytes()).unwrap(),
        tessera_jose::KeyFamily::Ec(_) => other::EncodingKey::from_ec_pem(pem().as_bytes()).unwrap(),
        tessera_jose::KeyFamily::Rsa => other::EncodingKey::from_rsa_pem(pem().as_bytes()).unwrap(),
    }
}

fn other_validation(alg: Algorithm) -> other::Validation {
    let mut validation = other::Validation::new(other_alg(alg));
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    // Fixed-time claims: let exp pass the other library's wall-clock check.
    validation.validate_exp = false;
    validation
}

#[test]
fn tokens_we_sign_verify_there() {
    for alg in Algorithm::ALL {
        let token = key(alg).sign_jwt(Some("at+jwt"), &claims()).unwrap();
        let decoded = other::decode::<Value>(&token, &decoding_key(alg), &other_validation(alg))
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(decoded.claims, claims());
        assert_eq!(decoded.header.kid.as_deref(), Some(key(alg).kid()));
        assert_eq!(decoded.header.typ.as_deref(), Some("at+jwt"));
    }
}

#[test]
fn tokens_signed_there_verify_here() {
    for alg in Algorithm::ALL {
        let mut header = other::Header::new(other_alg(alg));
        header.typ = Some("at+jwt".into());
        header.kid = Some(key(alg).kid().into());
        let token = other::encode(&header, &claims(), &encoding_key(alg)).unwrap();
        let valid = validator(alg).validate::<Value>(&token, NOW).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(valid.claims, claims());
        // And a tampered one fails here too.
        let tampered = token.replacen("eyJ", "eyK", 1);
        assert!(validator(alg).validate::<Value>(&tampered, NOW).is_err());
    }
}

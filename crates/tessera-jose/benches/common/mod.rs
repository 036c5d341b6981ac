//! What the benches share: one realistic access token per algorithm, and the ways to check
//! it (raw aws-lc-rs, `JwsVerifier`, `Validator`, the `jsonwebtoken` crate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods, missing_docs, dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
pub use jsonwebtoken as other;
use serde::{Deserialize, Serialize};
use tessera_jose::{Algorithm, JwsVerifier, KeyFamily, KeySet, SigningKey, Validator, base64url};

const ISS: &str = "https://id.tessera.example";
const AUD: &str = "https://api.example.com";

/// The claims of an RFC 9068 access token, as Tessera issues them.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
}

/// The raw aws-lc-rs check, with the key parsed once, as the fairest floor.
pub enum RawVerifier {
    Public(ParsedPublicKey),
    // Boxed, as tessera-jose holds it.
    Hmac(Box<hmac::Key>),
}

impl RawVerifier {
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            RawVerifier::Public(key) => key.verify_sig(message, signature).is_ok(),
            RawVerifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        }
    }
}

pub struct Case {
    pub alg: Algorithm,
    pub key: SigningKey,
    pub claims: AccessClaims,
    pub token: String,
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
    pub raw: RawVerifier,
    pub jws: JwsVerifier,
    pub validator: Validator,
    pub other_key: other::DecodingKey,
    pub other_validation: other::Validation,
}

fn decode(member: Option<&String>) -> Vec<u8> {
    base64url::decode(member.expect("key member")).expect("canonical base64url")
}

fn raw_verifier(key: &SigningKey) -> RawVerifier {
    let jwk = key.to_private_jwk();
    let public = |params: &'static dyn signature::VerificationAlgorithm, bytes: &[u8]| {
        RawVerifier::Public(ParsedPublicKey::new(params, bytes).unwrap())
    };
    let rsa = |params: &'static signature::RsaParameters| {
        let (n, e) = (decode(jwk.n.as_ref()), decode(jwk.e.as_ref()));
        RawVerifier::Public(RsaPublicKeyComponents { n: &n[..], e: &e[..] }.to_parsed_public_key(params).unwrap())
    };
    let point = || [vec![4u8], decode(jwk.x.as_ref()), decode(jwk.y.as_ref())].concat();
    let secret = || decode(jwk.k.as_ref());
    match key.algorithm() {
        Algorithm::EdDSA => public(&signature::ED25519, &decode(jwk.x.as_ref())),
        Algorithm::ES256 => public(&signature::ECDSA_P256_SHA256_FIXED, &point()),
        Algorithm::ES384 => public(&signature::ECDSA_P384_SHA384_FIXED, &point()),
        Algorithm::RS256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        Algorithm::HS256 => RawVerifier::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, &secret()))),
        Algorithm::HS384 => RawVerifier::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA384, &secret()))),
        Algorithm::HS512 => RawVerifier::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA512, &secret()))),
    }
}

/// The same algorithm in `jsonwebtoken`, by its JOSE name (which both crates parse alike).
fn other_alg(alg: Algorithm) -> other::Algorithm {
    alg.name().parse().expect("jsonwebtoken knows every JOSE algorithm name")
}

/// `jsonwebtoken`'s key, built once from the same public key (or secret).
fn other_key(key: &SigningKey) -> other::DecodingKey {
    let jwk = key.to_private_jwk();
    match key.algorithm().key_family() {
        KeyFamily::Symmetric => other::DecodingKey::from_secret(&decode(jwk.k.as_ref())).unwrap(),
        KeyFamily::Ed25519 => other::DecodingKey::from_ed_pem(key.public_key_pem().unwrap().as_bytes()).unwrap(),
        KeyFamily::Ec(_) => other::DecodingKey::from_ec_pem(key.public_key_pem().unwrap().as_bytes()).unwrap(),
        KeyFamily::Rsa => other::DecodingKey::from_rsa_pem(key.public_key_pem().unwrap().as_bytes()).unwrap(),
    }
}

/// The same policy as the Validator's, as far as `jsonwebtoken` can express it: one
/// algorithm, issuer, audience, `exp` required and checked with 60 s leeway (its default).
/// It has no `typ` check.
fn other_validation(alg: Algorithm) -> other::Validation {
    let mut validation = other::Validation::new(other_alg(alg));
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_exp = true;
    validation.leeway = 60;
    validation
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn case(alg: Algorithm) -> Case {
    let key = SigningKey::generate(alg).unwrap();
    let iat = now();
    let claims = AccessClaims {
        iss: ISS.into(),
        sub: "248289761001".into(),
        aud: AUD.into(),
        exp: iat + 3600,
        iat,
        jti: "4f1c2a9e-7b3d-4c8e-9a61-2d5f0e8b7c34".into(),
        client_id: "s6BhdRkqt3".into(),
        scope: "openid profile email orders:read orders:write".into(),
    };
    let token = key.sign_jwt(Some("at+jwt"), &claims).unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let keys = KeySet::new(vec![key.verifying_key().clone()]).unwrap();
    let validator =
        Validator::builder(keys.clone()).algorithm(alg).typ("at+jwt").issuer(ISS).audience(AUD).build().unwrap();
    let case = Case {
        alg,
        raw: raw_verifier(&key),
        jws: JwsVerifier::new([alg], keys).unwrap(),
        validator,
        other_key: other_key(&key),
        other_validation: other_validation(alg),
        signing_input: signing_input.as_bytes().to_vec(),
        signature: base64url::decode(signature).unwrap(),
        token,
        claims,
        key,
    };
    // Every path must accept the token, or the bench measures an early rejection.
    assert!(case.raw.verify(&case.signing_input, &case.signature), "{alg} raw");
    case.jws.verify(&case.token).unwrap();
    case.validator.validate::<AccessClaims>(&case.token, now()).unwrap();
    other::decode::<AccessClaims>(&case.token, &case.other_key, &case.other_validation).unwrap();
    case
}

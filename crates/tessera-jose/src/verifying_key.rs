//! Public (or shared-secret) keys that verify signatures, each limited by its JWK
//! `kty`/`crv`/`alg`/`use`/`key_ops` to what it may verify.

use std::fmt;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};

use crate::algorithm::{Algorithm, Curve, KeyFamily};
use crate::error::Error;
use crate::jwk::Jwk;
use crate::key_strength;
use crate::secret::Secret;

/// A key that verifies JWS signatures. Build one from a JWK ([`VerifyingKey::from_jwk`]),
/// a PEM public key ([`VerifyingKey::from_spki_pem`]) or a [`crate::SigningKey`].
#[derive(Clone)]
pub struct VerifyingKey {
    jwk: Jwk,
    family: KeyFamily,
    /// The JWK's `alg`, when it names one. A key whose `alg` this crate does not know
    /// (say `RSA-OAEP`) verifies nothing.
    restricted_to: Option<Result<Algorithm, ()>>,
    verifiers: Vec<(Algorithm, Verifier)>,
}

#[derive(Clone)]
enum Verifier {
    Public(ParsedPublicKey),
    // Boxed: an HMAC key holds its inner and outer states, 20 times a parsed public key.
    Hmac(Box<hmac::Key>),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.jwk.kid)
            .field("family", &self.family)
            .field("alg", &self.jwk.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Checks a JWK and prepares it for verification. Private members are ignored, except
    /// `k` of an `oct` key, which is the shared secret. Refuses RSA keys under 2048 bits,
    /// HMAC secrets under 256 bits, points not on the curve, and keys of unknown type.
    pub fn from_jwk(jwk: &Jwk) -> Result<VerifyingKey, Error> {
        let restricted_to = jwk.alg.as_deref().map(|name| name.parse::<Algorithm>().map_err(|_| ()));
        let (family, jwk_out, verifiers) = match jwk.kty.as_str() {
            "EC" => ec_verifiers(jwk)?,
            "OKP" => ed25519_verifiers(jwk)?,
            "RSA" => rsa_verifiers(jwk)?,
            "oct" => hmac_verifiers(jwk)?,
            other => {
                return Err(Error::UnsupportedKey(format!("kty {:?}", other.chars().take(16).collect::<String>())));
            }
        };
        let verifiers =
            verifiers.into_iter().filter(|(alg, _)| restricted_to.is_none_or(|only| only == Ok(*alg))).collect();
        Ok(VerifyingKey {
            jwk: Jwk {
                key_use: jwk.key_use.clone(),
                key_ops: jwk.key_ops.clone(),
                alg: jwk.alg.clone(),
                kid: jwk.kid.clone(),
                ..jwk_out
            },
            family,
            restricted_to,
            verifiers,
        })
    }

    /// Reads a PEM `PUBLIC KEY` (X.509 SubjectPublicKeyInfo): RSA, P-256, P-384 or Ed25519.
    pub fn from_spki_pem(pem: &str) -> Result<VerifyingKey, Error> {
        VerifyingKey::from_jwk(&crate::pem::spki_pem_to_jwk(pem)?)
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.jwk.kid.as_deref()
    }

    pub(crate) fn set_kid(&mut self, kid: String) {
        self.jwk.kid = Some(kid);
    }

    /// The key's family (type and curve).
    pub fn family(&self) -> KeyFamily {
        self.family
    }

    /// Whether this is a shared secret (`kty: oct`).
    pub fn is_symmetric(&self) -> bool {
        self.family == KeyFamily::Symmetric
    }

    /// The public JWK (with `kid`, `alg`, `use`, `key_ops`); for a shared secret, the JWK
    /// without `k`.
    pub fn public_jwk(&self) -> Jwk {
        self.jwk.to_public()
    }

    /// The RFC 7638 thumbprint of the key.
    pub fn thumbprint(&self) -> Result<String, Error> {
        self.jwk.thumbprint()
    }

    /// Whether this key may verify a signature made with `alg`, and why not.
    pub fn check_usable(&self, alg: Algorithm) -> Result<(), Error> {
        // The kid is copied only into an error: this runs for every token.
        let kid = || self.jwk.kid.clone();
        let mismatch = |reason| Error::KeyMismatch { kid: kid(), alg, reason };
        if alg.key_family() != self.family {
            return Err(mismatch(match (alg.key_family(), self.family) {
                (KeyFamily::Ec(_), KeyFamily::Ec(_)) => "the key is on another curve",
                (KeyFamily::Symmetric, _) => "a public key is never an HMAC secret",
                (_, KeyFamily::Symmetric) => "an HMAC secret cannot verify a signature",
                _ => "the key type does not fit the algorithm",
            }));
        }
        match self.restricted_to {
            Some(Ok(only)) if only != alg => return Err(mismatch("the key's \"alg\" names another algorithm")),
            Some(Err(())) => return Err(mismatch("the key's \"alg\" is not a signature algorithm")),
            _ => {}
        }
        if self.jwk.key_use.as_deref().is_some_and(|usage| usage != "sig") {
            return Err(Error::KeyUseForbidden { kid: kid(), reason: "\"use\" is not \"sig\"" });
        }
        if let Some(ops) = &self.jwk.key_ops
            && !ops.iter().any(|op| op == "verify")
        {
            return Err(Error::KeyUseForbidden { kid: kid(), reason: "\"key_ops\" lacks \"verify\"" });
        }
        if !self.verifiers.iter().any(|(a, _)| *a == alg) {
            return Err(Error::WeakKey("HMAC secret shorter than the hash output"));
        }
        Ok(())
    }

    /// Verifies `signature` over `message` with `alg`, after [`Self::check_usable`].
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.check_usable(alg)?;
        let Some((_, verifier)) = self.verifiers.iter().find(|(a, _)| *a == alg) else {
            return Err(Error::InvalidSignature);
        };
        if let KeyFamily::Ec(curve) = self.family {
            check_ecdsa_range(curve, signature)?;
        }
        let verified = match verifier {
            Verifier::Public(key) => key.verify_sig(message, signature).is_ok(),
            // Constant-time comparison inside aws-lc-rs.
            Verifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        };
        if verified { Ok(()) } else { Err(Error::InvalidSignature) }
    }
}

type Prepared = (KeyFamily, Jwk, Vec<(Algorithm, Verifier)>);

fn public(
    alg: Algorithm,
    params: &'static dyn VerificationAlgorithm,
    bytes: &[u8],
) -> Result<(Algorithm, Verifier), Error> {
    ParsedPublicKey::new(params, bytes)
        .map(|key| (alg, Verifier::Public(key)))
        .map_err(|e| Error::InvalidKey(format!("{alg} public key rejected: {e}")))
}

fn ec_verifiers(jwk: &Jwk) -> Result<Prepared, Error> {
    let (curve, alg, params): (_, _, &'static dyn VerificationAlgorithm) = match jwk.crv.as_deref() {
        Some("P-256") => (Curve::P256, Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED),
        Some("P-384") => (Curve::P384, Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED),
        other => return Err(Error::UnsupportedKey(format!("EC curve {other:?}"))),
    };
    let x = jwk.bytes("x", &jwk.x)?;
    let y = jwk.bytes("y", &jwk.y)?;
    // RFC 7518 §6.2.1.2: coordinates are exactly the field size, leading zeros kept.
    if x.len() != curve.coordinate_len() || y.len() != curve.coordinate_len() {
        return Err(Error::InvalidKey(format!(
            "{} coordinates must be {} bytes",
            curve.name(),
            curve.coordinate_len()
        )));
    }
    let point = [&[4u8][..], &x, &y].concat();
    let verifier = public(alg, params, &point)?;
    let out = Jwk { kty: "EC".into(), crv: jwk.crv.clone(), x: jwk.x.clone(), y: jwk.y.clone(), ..Jwk::default() };
    Ok((KeyFamily::Ec(curve), out, vec![verifier]))
}

fn ed25519_verifiers(jwk: &Jwk) -> Result<Prepared, Error> {
    if jwk.crv.as_deref() != Some("Ed25519") {
        return Err(Error::UnsupportedKey(format!("OKP curve {:?}", jwk.crv)));
    }
    let x = jwk.bytes("x", &jwk.x)?;
    if x.len() != 32 {
        return Err(Error::InvalidKey("Ed25519 public keys are 32 bytes".into()));
    }
    let verifier = public(Algorithm::EdDSA, &signature::ED25519, &x)?;
    let out = Jwk { kty: "OKP".into(), crv: jwk.crv.clone(), x: jwk.x.clone(), ..Jwk::default() };
    Ok((KeyFamily::Ed25519, out, vec![verifier]))
}

fn rsa_verifiers(jwk: &Jwk) -> Result<Prepared, Error> {
    let n = jwk.bytes("n", &jwk.n)?;
    let e = jwk.bytes("e", &jwk.e)?;
    if n.first() == Some(&0) {
        return Err(Error::InvalidKey("RSA modulus has leading zero bytes".into()));
    }
    key_strength::check_rsa_public(&n, &e)?;
    let components = RsaPublicKeyComponents { n: &n[..], e: &e[..] };
    let all: [(Algorithm, &'static signature::RsaParameters); 6] = [
        (Algorithm::RS256, &signature::RSA_PKCS1_2048_8192_SHA256),
        (Algorithm::RS384, &signature::RSA_PKCS1_2048_8192_SHA384),
        (Algorithm::RS512, &signature::RSA_PKCS1_2048_8192_SHA512),
        (Algorithm::PS256, &signature::RSA_PSS_2048_8192_SHA256),
        (Algorithm::PS384, &signature::RSA_PSS_2048_8192_SHA384),
        (Algorithm::PS512, &signature::RSA_PSS_2048_8192_SHA512),
    ];
    let verifiers = all
        .into_iter()
        .map(|(alg, params)| {
            components
                .to_parsed_public_key(params)
                .map(|key| (alg, Verifier::Public(key)))
                .map_err(|e| Error::InvalidKey(format!("RSA public key rejected: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let out = Jwk { kty: "RSA".into(), n: jwk.n.clone(), e: jwk.e.clone(), ..Jwk::default() };
    Ok((KeyFamily::Rsa, out, verifiers))
}

fn hmac_verifiers(jwk: &Jwk) -> Result<Prepared, Error> {
    let secret = Secret::new(jwk.bytes("k", &jwk.k)?);
    if secret.len() < Algorithm::HS256.min_secret_len() {
        return Err(Error::WeakKey("HMAC secret under 256 bits"));
    }
    let verifiers = [
        (Algorithm::HS256, hmac::HMAC_SHA256),
        (Algorithm::HS384, hmac::HMAC_SHA384),
        (Algorithm::HS512, hmac::HMAC_SHA512),
    ]
    .into_iter()
    .filter(|(alg, _)| secret.len() >= alg.min_secret_len())
    .map(|(alg, hash)| (alg, Verifier::Hmac(Box::new(hmac::Key::new(hash, secret.expose())))))
    .collect();
    let out = Jwk { kty: "oct".into(), k: jwk.k.clone(), ..Jwk::default() };
    Ok((KeyFamily::Symmetric, out, verifiers))
}

/// ECDSA signatures in JWS are r‖s, each exactly the curve's size (RFC 7518 §3.4), with
/// 0 < r, s < n. aws-lc would refuse such signatures too; checking here names the reason.
fn check_ecdsa_range(curve: Curve, signature: &[u8]) -> Result<(), Error> {
    const P256_ORDER: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
        0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];
    const P384_ORDER: [u8; 48] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
        0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
    ];
    let order: &[u8] = match curve {
        Curve::P256 => &P256_ORDER,
        Curve::P384 => &P384_ORDER,
    };
    if signature.len() != 2 * order.len() {
        return Err(Error::SignatureOutOfRange);
    }
    let (r, s) = signature.split_at(order.len());
    // Equal-length big-endian byte strings compare like the integers they encode.
    let in_range = |v: &[u8]| v.iter().any(|b| *b != 0) && v < order;
    if in_range(r) && in_range(s) { Ok(()) } else { Err(Error::SignatureOutOfRange) }
}

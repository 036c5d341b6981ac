//! Private keys that sign JWS and JWTs, with their algorithm and `kid` bound to them.

use std::fmt;

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{self, KeyPairComponents, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaEncoding, RsaPublicKeyComponents};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::algorithm::{Algorithm, Curve, KeyFamily};
use crate::base64url;
use crate::error::Error;
use crate::jwk::Jwk;
use crate::pem::{self, KeyKind};
use crate::secret::Secret;
use crate::verifying_key::VerifyingKey;

/// A private key bound to one algorithm and one `kid` (by default its RFC 7638
/// thumbprint). `Debug` shows neither key material nor secret.
pub struct SigningKey {
    alg: Algorithm,
    kid: String,
    signer: Signer,
    /// The private JWK, kept for export; its secret members never reach `Debug`.
    private_jwk: Jwk,
    verifying: VerifyingKey,
}

enum Signer {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(rsa::KeyPair, &'static dyn RsaEncoding),
    Hmac(Box<hmac::Key>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// RSA modulus sizes offered for key generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaBits {
    /// 2048 bits, the minimum.
    B2048,
    /// 3072 bits.
    B3072,
    /// 4096 bits.
    B4096,
}

impl SigningKey {
    /// Generates a fresh key for `alg`: P-256, P-384 or Ed25519 for the curves, RSA 2048
    /// for RS*/PS*, and a random secret as long as the hash for HS*.
    pub fn generate(alg: Algorithm) -> Result<SigningKey, Error> {
        Self::generate_with_rsa_bits(alg, RsaBits::B2048)
    }

    /// Like [`Self::generate`], with the RSA modulus size chosen (ignored for other families).
    pub fn generate_with_rsa_bits(alg: Algorithm, bits: RsaBits) -> Result<SigningKey, Error> {
        let failed = |_| Error::Crypto("key generation failed");
        let der: Vec<u8> = match alg.key_family() {
            KeyFamily::Ec(curve) => EcdsaKeyPair::generate(ecdsa_signing(curve))
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            KeyFamily::Ed25519 => Ed25519KeyPair::generate()
                .and_then(|k| AsDer::<Pkcs8V1Der>::as_der(&k))
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            KeyFamily::Rsa => {
                let size = match bits {
                    RsaBits::B2048 => KeySize::Rsa2048,
                    RsaBits::B3072 => KeySize::Rsa3072,
                    RsaBits::B4096 => KeySize::Rsa4096,
                };
                rsa::KeyPair::generate(size)
                    .and_then(|k| AsDer::<Pkcs8V1Der>::as_der(&k))
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            KeyFamily::Symmetric => {
                let mut secret = vec![0u8; alg.min_secret_len()];
                SystemRandom::new().fill(&mut secret).map_err(failed)?;
                return SigningKey::from_secret(alg, secret);
            }
        };
        SigningKey::from_pkcs8_der(&der, Some(alg))
    }

    /// An HMAC key from a shared secret of at least the hash's length (RFC 7518 §3.2).
    pub fn from_secret(alg: Algorithm, secret: Vec<u8>) -> Result<SigningKey, Error> {
        let hash = match alg {
            Algorithm::HS256 => hmac::HMAC_SHA256,
            Algorithm::HS384 => hmac::HMAC_SHA384,
            Algorithm::HS512 => hmac::HMAC_SHA512,
            _ => return Err(Error::Config("a shared secret needs an HS* algorithm")),
        };
        let secret = Secret::new(secret);
        if secret.len() < alg.min_secret_len() {
            return Err(Error::WeakKey("HMAC secret shorter than the hash output"));
        }
        let jwk = Jwk { kty: "oct".into(), k: Some(base64url::encode(secret.expose())), ..Jwk::default() };
        SigningKey::assemble(alg, Signer::Hmac(Box::new(hmac::Key::new(hash, secret.expose()))), jwk, None)
    }

    /// Reads a private JWK. The algorithm comes from `alg`, else the JWK's `alg`, else the
    /// family's default (ES256, ES384, EdDSA, RS256, HS256); the two must agree.
    pub fn from_jwk(jwk: &Jwk, alg: Option<Algorithm>) -> Result<SigningKey, Error> {
        let named = jwk.alg.as_deref().map(str::parse::<Algorithm>).transpose()?;
        let alg = match (alg, named) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::Config("the key's \"alg\" differs from the one asked for"));
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => default_alg(jwk)?,
        };
        let der: Vec<u8> = match (jwk.kty.as_str(), alg.key_family()) {
            ("oct", KeyFamily::Symmetric) => {
                let key = SigningKey::from_secret(alg, jwk.bytes("k", &jwk.k)?)?;
                return Ok(key.keep_kid(jwk.kid.clone()));
            }
            ("EC", KeyFamily::Ec(curve)) => {
                if jwk.crv.as_deref() != Some(curve.name()) {
                    return Err(Error::InvalidKey(format!("{alg} needs crv {}", curve.name())));
                }
                let point = [vec![4u8], jwk.bytes("x", &jwk.x)?, jwk.bytes("y", &jwk.y)?].concat();
                EcdsaKeyPair::from_private_key_and_public_key(ecdsa_signing(curve), &jwk.bytes("d", &jwk.d)?, &point)
                    .map_err(|e| Error::InvalidKey(format!("EC private key rejected: {e}")))?
                    .to_pkcs8v1()
                    .map_err(|_| Error::Crypto("PKCS#8 encoding failed"))?
                    .as_ref()
                    .to_vec()
            }
            ("OKP", KeyFamily::Ed25519) if jwk.crv.as_deref() == Some("Ed25519") => {
                let pair = Ed25519KeyPair::from_seed_and_public_key(&jwk.bytes("d", &jwk.d)?, &jwk.bytes("x", &jwk.x)?)
                    .map_err(|e| Error::InvalidKey(format!("Ed25519 private key rejected: {e}")))?;
                AsDer::<Pkcs8V1Der>::as_der(&pair)
                    .map_err(|_| Error::Crypto("PKCS#8 encoding failed"))?
                    .as_ref()
                    .to_vec()
            }
            ("RSA", KeyFamily::Rsa) => {
                let member = |name, value| jwk.bytes(name, value);
                let components = KeyPairComponents {
                    public_key: RsaPublicKeyComponents { n: member("n", &jwk.n)?, e: member("e", &jwk.e)? },
                    d: member("d", &jwk.d)?,
                    p: member("p", &jwk.p)?,
                    q: member("q", &jwk.q)?,
                    dP: member("dp", &jwk.dp)?,
                    dQ: member("dq", &jwk.dq)?,
                    qInv: member("qi", &jwk.qi)?,
                };
                crate::key_strength::check_rsa_public(&components.public_key.n, &components.public_key.e)?;
                let pair = rsa::KeyPair::from_components(&components)
                    .map_err(|e| Error::InvalidKey(format!("RSA private key rejected: {e}")))?;
                AsDer::<Pkcs8V1Der>::as_der(&pair)
                    .map_err(|_| Error::Crypto("PKCS#8 encoding failed"))?
                    .as_ref()
                    .to_vec()
            }
            _ => {
                return Err(Error::KeyMismatch {
                    kid: jwk.kid.clone(),
                    alg,
                    reason: "the key type does not fit the algorithm",
                });
            }
        };
        Ok(SigningKey::from_pkcs8_der(&der, Some(alg))?.keep_kid(jwk.kid.clone()))
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8). `alg` picks among the RSA algorithms
    /// (default RS256); for curves it must match the key.
    pub fn from_pkcs8_pem(pem: &str, alg: Option<Algorithm>) -> Result<SigningKey, Error> {
        SigningKey::from_pkcs8_der(&pem::decode(pem, "PRIVATE KEY")?, alg)
    }

    /// Reads a DER PKCS#8 private key; see [`Self::from_pkcs8_pem`].
    pub fn from_pkcs8_der(der: &[u8], alg: Option<Algorithm>) -> Result<SigningKey, Error> {
        let kind = pem::pkcs8_kind(der)?;
        let alg = alg.unwrap_or(match kind {
            KeyKind::Rsa => Algorithm::RS256,
            KeyKind::P256 => Algorithm::ES256,
            KeyKind::P384 => Algorithm::ES384,
            KeyKind::Ed25519 => Algorithm::EdDSA,
        });
        let rejected = |e: aws_lc_rs::error::KeyRejected| Error::InvalidKey(format!("private key rejected: {e}"));
        let b64 = |bytes: &[u8]| Some(base64url::encode(bytes));
        let mut jwk = Jwk::default();
        let signer = match (kind, alg.key_family()) {
            (KeyKind::P256, KeyFamily::Ec(curve @ Curve::P256))
            | (KeyKind::P384, KeyFamily::Ec(curve @ Curve::P384)) => {
                let pair = EcdsaKeyPair::from_pkcs8(ecdsa_signing(curve), der).map_err(rejected)?;
                let size = curve.coordinate_len();
                let Some(xy) = pair.public_key().as_ref().get(1..).filter(|xy| xy.len() == 2 * size) else {
                    return Err(Error::Crypto("unexpected EC public key encoding"));
                };
                let (x, y) = xy.split_at(size);
                let d = pair.private_key().as_be_bytes().map_err(|_| Error::Crypto("private key export failed"))?;
                jwk = Jwk {
                    kty: "EC".into(),
                    crv: Some(curve.name().into()),
                    x: b64(x),
                    y: b64(y),
                    d: b64(d.as_ref()),
                    ..jwk
                };
                Signer::Ecdsa(pair)
            }
            (KeyKind::Ed25519, KeyFamily::Ed25519) => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?;
                let seed = pair
                    .seed()
                    .and_then(|s| s.as_be_bytes())
                    .map_err(|_| Error::Crypto("private key export failed"))?;
                jwk = Jwk {
                    kty: "OKP".into(),
                    crv: Some("Ed25519".into()),
                    x: b64(pair.public_key().as_ref()),
                    d: b64(seed.as_ref()),
                    ..jwk
                };
                Signer::Ed25519(pair)
            }
            (KeyKind::Rsa, KeyFamily::Rsa) => {
                let pair = rsa::KeyPair::from_pkcs8(der).map_err(rejected)?;
                jwk.kty = "RSA".into();
                pem::rsa_private_members(der, &mut jwk)?;
                Signer::Rsa(pair, rsa_encoding(alg))
            }
            _ => return Err(Error::KeyMismatch { kid: None, alg, reason: "the key type does not fit the algorithm" }),
        };
        SigningKey::assemble(alg, signer, jwk, None)
    }

    fn assemble(alg: Algorithm, signer: Signer, mut jwk: Jwk, kid: Option<String>) -> Result<SigningKey, Error> {
        let kid = match kid {
            Some(kid) => kid,
            None => jwk.thumbprint()?,
        };
        jwk.kid = Some(kid.clone());
        jwk.alg = Some(alg.name().into());
        jwk.key_use = Some("sig".into());
        // The same checks as for any verifying key: RSA size, ROCA, points on the curve.
        let verifying = VerifyingKey::from_jwk(&jwk)?;
        Ok(SigningKey { alg, kid, signer, private_jwk: jwk, verifying })
    }

    fn keep_kid(self, kid: Option<String>) -> SigningKey {
        match kid {
            Some(kid) => self.with_kid(kid),
            None => self,
        }
    }

    /// The same key under another `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> SigningKey {
        let kid = kid.into();
        self.private_jwk.kid = Some(kid.clone());
        self.verifying.set_kid(kid.clone());
        self.kid = kid;
        self
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The verifying half (for a shared secret, the secret itself).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The private JWK with `kid`, `alg` and `use: sig`. Handle it as a secret.
    pub fn to_private_jwk(&self) -> Jwk {
        self.private_jwk.clone()
    }

    /// The public JWK, as published in a JWK Set. A shared secret has none.
    pub fn public_jwk(&self) -> Result<Jwk, Error> {
        if self.alg.is_symmetric() {
            return Err(Error::Config("an HMAC secret has no public key to publish"));
        }
        Ok(self.private_jwk.to_public())
    }

    /// The private key as a PEM `PRIVATE KEY` (PKCS#8). Not for HMAC secrets.
    pub fn to_pkcs8_pem(&self) -> Result<String, Error> {
        let failed = |_| Error::Crypto("PKCS#8 encoding failed");
        let der: Vec<u8> = match &self.signer {
            Signer::Ecdsa(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Signer::Ed25519(pair) => AsDer::<Pkcs8V1Der>::as_der(pair).map_err(failed)?.as_ref().to_vec(),
            Signer::Rsa(pair, _) => AsDer::<Pkcs8V1Der>::as_der(pair).map_err(failed)?.as_ref().to_vec(),
            Signer::Hmac(_) => return Err(Error::Config("an HMAC secret has no PEM form")),
        };
        pem::encode("PRIVATE KEY", &der)
    }

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo). Not for HMAC secrets.
    pub fn public_key_pem(&self) -> Result<String, Error> {
        let failed = |_| Error::Crypto("SPKI encoding failed");
        let der: Vec<u8> = match &self.signer {
            Signer::Ecdsa(pair) => {
                AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).map_err(failed)?.as_ref().to_vec()
            }
            Signer::Ed25519(pair) => {
                AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).map_err(failed)?.as_ref().to_vec()
            }
            Signer::Rsa(pair, _) => {
                AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).map_err(failed)?.as_ref().to_vec()
            }
            Signer::Hmac(_) => return Err(Error::Config("an HMAC secret has no public key")),
        };
        pem::encode("PUBLIC KEY", &der)
    }

    /// Signs a JWT: header `{alg, kid, typ}` and the claims serialized as JSON.
    pub fn sign_jwt<T: Serialize + ?Sized>(&self, typ: Option<&str>, claims: &T) -> Result<String, Error> {
        let payload =
            serde_json::to_vec(claims).map_err(|_| Error::ClaimsShape("claims must serialize to JSON".into()))?;
        let mut header = Map::new();
        if let Some(typ) = typ {
            header.insert("typ".into(), Value::String(typ.into()));
        }
        self.sign_compact(header, &payload)
    }

    /// Signs any payload with the given header members; `alg` is always this key's, and
    /// `kid` is this key's unless the header names one.
    pub fn sign_compact(&self, mut header: Map<String, Value>, payload: &[u8]) -> Result<String, Error> {
        header.insert("alg".into(), Value::String(self.alg.name().into()));
        header.entry("kid").or_insert_with(|| Value::String(self.kid.clone()));
        let header = serde_json::to_vec(&header).map_err(|_| Error::Crypto("header encoding failed"))?;
        let mut token = base64url::encode(header);
        token.push('.');
        base64url::encode_into(payload, &mut token);
        let signature = self.sign_bytes(token.as_bytes())?;
        token.push('.');
        base64url::encode_into(signature, &mut token);
        Ok(token)
    }

    /// The raw JWS signature over `message` (for ECDSA, r‖s as RFC 7518 §3.4 requires).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::Crypto("signing failed");
        Ok(match &self.signer {
            Signer::Ecdsa(pair) => pair.sign(&SystemRandom::new(), message).map_err(failed)?.as_ref().to_vec(),
            Signer::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
            Signer::Rsa(pair, encoding) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(*encoding, &SystemRandom::new(), message, &mut signature).map_err(failed)?;
                signature
            }
            Signer::Hmac(key) => hmac::sign(key, message).as_ref().to_vec(),
        })
    }
}

fn default_alg(jwk: &Jwk) -> Result<Algorithm, Error> {
    Ok(match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("EC", Some("P-256")) => Algorithm::ES256,
        ("EC", Some("P-384")) => Algorithm::ES384,
        ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
        ("RSA", _) => Algorithm::RS256,
        ("oct", _) => Algorithm::HS256,
        (kty, crv) => return Err(Error::UnsupportedKey(format!("kty {kty:?} crv {crv:?}"))),
    })
}

fn ecdsa_signing(curve: Curve) -> &'static signature::EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
    }
}

fn rsa_encoding(alg: Algorithm) -> &'static dyn RsaEncoding {
    match alg {
        Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    }
}

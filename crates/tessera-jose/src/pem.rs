//! PEM and DER key containers: X.509 SubjectPublicKeyInfo (`PUBLIC KEY`) and PKCS#8
//! (`PRIVATE KEY`). Parsing only identifies the key and extracts its components; every key
//! then goes through the same JWK checks as any other.

use pkcs8::der::Decode;
use pkcs8::der::pem::LineEnding;
use pkcs8::{ObjectIdentifier, PrivateKeyInfo};
use spki::SubjectPublicKeyInfoRef;

use crate::base64url;
use crate::error::Error;
use crate::jwk::Jwk;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The kind of key a PKCS#8 or SPKI document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

fn kind(oid: ObjectIdentifier, parameter: Option<ObjectIdentifier>) -> Result<KeyKind, Error> {
    match (oid, parameter) {
        (RSA_ENCRYPTION, _) => Ok(KeyKind::Rsa),
        (EC_PUBLIC_KEY, Some(PRIME256V1)) => Ok(KeyKind::P256),
        (EC_PUBLIC_KEY, Some(SECP384R1)) => Ok(KeyKind::P384),
        (ED25519, _) => Ok(KeyKind::Ed25519),
        (oid, parameter) => Err(Error::UnsupportedKey(format!("key algorithm {oid} {parameter:?}"))),
    }
}

/// Decodes a PEM document with the expected label into DER.
pub(crate) fn decode(pem: &str, label: &'static str) -> Result<Vec<u8>, Error> {
    let (found, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
        .map_err(|e| Error::InvalidKey(format!("not a PEM document: {e}")))?;
    if found != label {
        return Err(Error::InvalidKey(format!("PEM label is {found:?}, expected {label:?}")));
    }
    Ok(der)
}

/// Encodes DER as a PEM document.
pub(crate) fn encode(label: &'static str, der: &[u8]) -> Result<String, Error> {
    pem_rfc7468::encode_string(label, LineEnding::LF, der).map_err(|_| Error::Crypto("PEM encoding failed"))
}

/// Identifies the key inside a PKCS#8 document.
pub(crate) fn pkcs8_kind(der: &[u8]) -> Result<KeyKind, Error> {
    let info = PrivateKeyInfo::from_der(der).map_err(|e| Error::InvalidKey(format!("not PKCS#8: {e}")))?;
    kind(info.algorithm.oid, info.algorithm.parameters_oid().ok())
}

/// The private RSA components of a PKCS#8 document, as JWK members.
pub(crate) fn rsa_private_members(der: &[u8], jwk: &mut Jwk) -> Result<(), Error> {
    let info = PrivateKeyInfo::from_der(der).map_err(|e| Error::InvalidKey(format!("not PKCS#8: {e}")))?;
    let key = pkcs1::RsaPrivateKey::from_der(info.private_key)
        .map_err(|e| Error::InvalidKey(format!("not a PKCS#1 RSA key: {e}")))?;
    let member = |v: pkcs1::UintRef<'_>| Some(base64url::encode(v.as_bytes()));
    jwk.n = member(key.modulus);
    jwk.e = member(key.public_exponent);
    jwk.d = member(key.private_exponent);
    jwk.p = member(key.prime1);
    jwk.q = member(key.prime2);
    jwk.dp = member(key.exponent1);
    jwk.dq = member(key.exponent2);
    jwk.qi = member(key.coefficient);
    Ok(())
}

/// Reads a PEM `PUBLIC KEY` into a public JWK.
pub(crate) fn spki_pem_to_jwk(pem: &str) -> Result<Jwk, Error> {
    let der = decode(pem, "PUBLIC KEY")?;
    let info = SubjectPublicKeyInfoRef::from_der(&der)
        .map_err(|e| Error::InvalidKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
    let bits = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| Error::InvalidKey("public key bit string is not whole bytes".into()))?;
    let b64 = |bytes: &[u8]| Some(base64url::encode(bytes));
    match kind(info.algorithm.oid, info.algorithm.parameters_oid().ok())? {
        KeyKind::Rsa => {
            let key = pkcs1::RsaPublicKey::from_der(bits)
                .map_err(|e| Error::InvalidKey(format!("not a PKCS#1 RSA public key: {e}")))?;
            Ok(Jwk {
                kty: "RSA".into(),
                n: b64(key.modulus.as_bytes()),
                e: b64(key.public_exponent.as_bytes()),
                ..Jwk::default()
            })
        }
        ec @ (KeyKind::P256 | KeyKind::P384) => {
            let (crv, size) = if ec == KeyKind::P256 { ("P-256", 32) } else { ("P-384", 48) };
            match bits.split_first() {
                Some((4, xy)) if xy.len() == 2 * size => {
                    let (x, y) = xy.split_at(size);
                    Ok(Jwk { kty: "EC".into(), crv: Some(crv.into()), x: b64(x), y: b64(y), ..Jwk::default() })
                }
                _ => Err(Error::InvalidKey("EC public key must be an uncompressed point".into())),
            }
        }
        KeyKind::Ed25519 => Ok(Jwk { kty: "OKP".into(), crv: Some("Ed25519".into()), x: b64(bits), ..Jwk::default() }),
    }
}

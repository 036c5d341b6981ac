//! Reading keys from files: a private key to sign with, and the keys to verify with.
//!
//! Formats are told apart by content, not by file name: PEM starts with `-----BEGIN`,
//! a JWK Set is a JSON object with `keys`, anything else must be one JWK.

use std::path::Path;

use tessera_jose::{Algorithm, Jwk, Jwks, KeySet, SigningKey, VerifyingKey};

use super::{Failure, input};

/// The private key in `path` (JWK or PKCS#8 PEM), for `alg` if given.
pub fn signing_key(path: &Path, alg: Option<Algorithm>) -> Result<SigningKey, Failure> {
    let shown = path.display();
    let bytes = input::file(path, "the key")?;
    let unusable = |error: tessera_jose::Error| Failure::usage(format!("cannot sign with the key in {shown}: {error}"));
    let text = String::from_utf8_lossy(&bytes);
    if let Some(label) = pem_label(&text) {
        return match label {
            "PRIVATE KEY" => SigningKey::from_pkcs8_pem(&text, alg).map_err(unusable),
            "PUBLIC KEY" => Err(Failure::usage(format!("{shown} holds a public key; signing needs the private key"))),
            other => Err(Failure::usage(format!(
                "{shown} holds a PEM {other:?}; signing needs a PKCS#8 \"PRIVATE KEY\" or a private JWK"
            ))),
        };
    }
    if Jwks::from_json(&bytes).is_ok() {
        return Err(Failure::usage(format!("{shown} is a JWK Set; signing needs one private JWK")));
    }
    let jwk = Jwk::from_json(&bytes).map_err(unusable)?;
    if !jwk.is_private() {
        return Err(Failure::usage(format!("{shown} holds a public JWK; signing needs the private key")));
    }
    SigningKey::from_jwk(&jwk, alg).map_err(unusable)
}

/// The verifying keys in a document from `origin` (a file name or URL): a JWK Set, one
/// JWK (its private members, if any, are ignored) or a SPKI PEM public key.
pub fn verifying_keys(bytes: &[u8], origin: &str) -> Result<KeySet, Failure> {
    let unusable = |error: tessera_jose::Error| Failure::usage(format!("cannot use the keys from {origin}: {error}"));
    let text = String::from_utf8_lossy(bytes);
    let keys = match pem_label(&text) {
        Some("PUBLIC KEY") => {
            VerifyingKey::from_spki_pem(&text).and_then(|key| lone_key(&key.public_jwk())).map_err(unusable)?
        }
        Some(other) => {
            return Err(Failure::usage(format!(
                "{origin} holds a PEM {other:?}; verifying needs a \"PUBLIC KEY\", a JWK or a JWK Set"
            )));
        }
        None if is_jwk_set(bytes) => KeySet::from_jwks_json(bytes).map_err(unusable)?,
        None => Jwk::from_json(bytes).and_then(|jwk| lone_key(&jwk)).map_err(unusable)?,
    };
    if keys.is_empty() {
        return Err(Failure::usage(format!("{origin} holds no key that tessera can use")));
    }
    Ok(keys)
}

/// A set of the one key the user named. PEM has no `kid`, and a JWK may lack one; such a
/// key gets its RFC 7638 thumbprint, the `kid` that `tessera token keygen` gives by
/// default, so that the tokens it signed (which carry that `kid`) find it.
fn lone_key(jwk: &Jwk) -> Result<KeySet, tessera_jose::Error> {
    let mut jwk = jwk.clone();
    if jwk.kid.is_none() {
        jwk.kid = Some(jwk.thumbprint()?);
    }
    KeySet::new(vec![VerifyingKey::from_jwk(&jwk)?])
}

/// The label of the first PEM block (`PRIVATE KEY`, `PUBLIC KEY`, …), if the text is PEM.
fn pem_label(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix("-----BEGIN ")?;
    rest.split_once("-----").map(|(label, _)| label)
}

fn is_jwk_set(bytes: &[u8]) -> bool {
    tessera_jose::parse_json_object(bytes).is_ok_and(|object| object.contains_key("keys"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_labels() {
        assert_eq!(pem_label("\n-----BEGIN PUBLIC KEY-----\nAAAA\n"), Some("PUBLIC KEY"));
        assert_eq!(pem_label("-----BEGIN RSA PRIVATE KEY-----"), Some("RSA PRIVATE KEY"));
        assert_eq!(pem_label("{\"kty\":\"EC\"}"), None);
    }

    #[test]
    fn a_private_jwk_serves_as_its_own_verifying_key() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let json = serde_json::to_vec(&key.to_private_jwk()).unwrap();
        let set = verifying_keys(&json, "test").unwrap();
        assert_eq!(set.keys()[0].kid(), Some(key.kid()));
    }

    #[test]
    fn documents_without_usable_keys_are_refused() {
        assert!(verifying_keys(br#"{"keys":[]}"#, "test").is_err());
        assert!(verifying_keys(b"not json", "test").is_err());
        assert!(verifying_keys(b"-----BEGIN PRIVATE KEY-----\n", "test").is_err());
    }
}

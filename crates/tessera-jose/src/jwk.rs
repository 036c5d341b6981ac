//! JSON Web Key and JWK Set documents (RFC 7517) and RFC 7638 thumbprints.
//!
//! These are the wire shapes only; [`crate::VerifyingKey`] and [`crate::SigningKey`] are
//! what a JWK becomes once it has been checked.

use std::fmt;

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base64url;
use crate::error::{Error, Part};
use crate::json;

/// A JSON Web Key as it appears on the wire. Members this crate does not use (`x5c`,
/// `x5t`, …) are ignored on input. `Debug` hides every private member.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC`, `RSA`, `OKP` or `oct`.
    pub kty: String,
    /// Intended use (`sig` or `enc`).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// Permitted operations (`sign`, `verify`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// The one algorithm this key is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Curve (`EC`, `OKP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// X coordinate (`EC`) or public key (`OKP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Y coordinate (`EC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Private scalar (`EC`), seed (`OKP`) or private exponent (`RSA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// RSA first prime factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// RSA second prime factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// RSA first factor CRT exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    /// RSA second factor CRT exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    /// RSA first CRT coefficient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
    /// Symmetric key value (`oct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("crv", &self.crv)
            .field("private", &self.is_private())
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// Parses one JWK from JSON, strictly (no duplicate members).
    pub fn from_json(bytes: &[u8]) -> Result<Jwk, Error> {
        let map = json::parse_object(bytes, Part::Key, json::DEFAULT_MAX_DEPTH)?;
        Jwk::from_value(Value::Object(map))
    }

    pub(crate) fn from_value(value: Value) -> Result<Jwk, Error> {
        serde_json::from_value(value).map_err(|e| Error::InvalidKey(format!("not a JWK: {e}")))
    }

    /// Whether the key holds private material (`d` or `k`).
    pub fn is_private(&self) -> bool {
        self.d.is_some() || self.k.is_some()
    }

    /// This key without its private members. For `oct` keys there is no public part, so
    /// the result has no `k`.
    pub fn to_public(&self) -> Jwk {
        Jwk { d: None, p: None, q: None, dp: None, dq: None, qi: None, k: None, ..self.clone() }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): the required members, in
    /// lexicographic order, with no whitespace.
    pub fn thumbprint(&self) -> Result<String, Error> {
        fn member<'a>(kty: &str, name: &str, value: &'a Option<String>) -> Result<&'a str, Error> {
            value.as_deref().ok_or_else(|| Error::InvalidKey(format!("{kty} key without {name:?}")))
        }
        let member = |name, value| member(&self.kty, name, value);
        // serde_json writes each string with the escaping RFC 7638 §3.1 asks for.
        let canonical = match self.kty.as_str() {
            "EC" => serde_json::json!({
                "crv": member("crv", &self.crv)?, "kty": "EC",
                "x": member("x", &self.x)?, "y": member("y", &self.y)?,
            }),
            "RSA" => serde_json::json!({
                "e": member("e", &self.e)?, "kty": "RSA", "n": member("n", &self.n)?,
            }),
            "OKP" => serde_json::json!({
                "crv": member("crv", &self.crv)?, "kty": "OKP", "x": member("x", &self.x)?,
            }),
            "oct" => serde_json::json!({ "k": member("k", &self.k)?, "kty": "oct" }),
            other => return Err(Error::UnsupportedKey(format!("kty {other:?}"))),
        };
        let bytes = serde_json::to_vec(&canonical).map_err(|_| Error::InvalidKey("cannot serialize".into()))?;
        Ok(base64url::encode(digest::digest(&digest::SHA256, &bytes)))
    }

    /// Decodes a base64url member that must be present.
    pub(crate) fn bytes(&self, name: &'static str, value: &Option<String>) -> Result<Vec<u8>, Error> {
        let text = value.as_deref().ok_or_else(|| Error::InvalidKey(format!("{} key without {name:?}", self.kty)))?;
        base64url::decode(text).ok_or_else(|| Error::InvalidKey(format!("{name:?} is not canonical base64url")))
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, in document order.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses a JWK Set strictly: no duplicate members anywhere, `keys` must be an array.
    pub fn from_json(bytes: &[u8]) -> Result<Jwks, Error> {
        let mut map = json::parse_object(bytes, Part::Key, json::DEFAULT_MAX_DEPTH)?;
        let Some(Value::Array(items)) = map.remove("keys") else {
            return Err(Error::InvalidKey("a JWK Set needs a \"keys\" array".into()));
        };
        let keys = items.into_iter().map(Jwk::from_value).collect::<Result<_, _>>()?;
        Ok(Jwks { keys })
    }

    /// Serializes the set as JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = Jwk::from_json(br#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#).unwrap();
        assert_eq!(jwk.thumbprint().unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn debug_hides_private_members() {
        let jwk = Jwk { kty: "oct".into(), k: Some("c2VjcmV0".into()), ..Jwk::default() };
        assert!(!format!("{jwk:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn set_rejects_duplicates_and_missing_keys() {
        assert!(matches!(Jwks::from_json(br#"{"keys":[],"keys":[]}"#), Err(Error::DuplicateMember { .. })));
        assert!(matches!(Jwks::from_json(br#"{"key":[]}"#), Err(Error::InvalidKey(_))));
        assert!(matches!(Jwks::from_json(br#"{"keys":[{"kty":1}]}"#), Err(Error::InvalidKey(_))));
    }
}

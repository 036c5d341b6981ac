//! Registered JWT claims (RFC 7519 §4.1): their types and the time checks.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The last second of year 9999: NumericDate values beyond it are refused as nonsense.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// `aud`: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience, serialized as a string.
    One(String),
    /// Several audiences, serialized as an array.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `name` is one of the audiences.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Audience::One(one) => one == name,
            Audience::Many(many) => many.iter().any(|a| a == name),
        }
    }
}

/// The registered claims, with everything else kept in `extra`. A convenient claims type
/// for [`crate::Validator::validate`] and for signing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisteredClaims {
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// JWT ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a NumericDate claim: absent, or an integer from 0 to [`MAX_NUMERIC_DATE`].
pub(crate) fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, Error> {
    let invalid = |reason| Error::InvalidClaim { claim: name.to_owned(), reason };
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(seconds) if (0..=MAX_NUMERIC_DATE).contains(&seconds) => Ok(Some(seconds)),
            Some(_) => Err(invalid("out of range")),
            None if number.is_f64() => Err(invalid("must be an integer number of seconds")),
            None => Err(invalid("out of range")),
        },
        Some(_) => Err(invalid("must be a number")),
    }
}

/// Checks that a claim, when present, is a string.
pub(crate) fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(Error::InvalidClaim { claim: name.to_owned(), reason: "must be a string" }),
    }
}

/// Reads `aud`: a string or a non-empty array of strings.
pub(crate) fn audiences(claims: &Map<String, Value>) -> Result<Option<Vec<&str>>, Error> {
    let invalid = |reason| Error::InvalidClaim { claim: "aud".into(), reason };
    match claims.get("aud") {
        None => Ok(None),
        Some(Value::String(one)) => Ok(Some(vec![one])),
        Some(Value::Array(many)) if !many.is_empty() => many
            .iter()
            .map(|a| a.as_str().ok_or_else(|| invalid("must hold only strings")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(Value::Array(_)) => Err(invalid("must not be empty")),
        Some(_) => Err(invalid("must be a string or an array of strings")),
    }
}

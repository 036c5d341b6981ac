//! Registered JWT claims (RFC 7519 §4.1): their types and the time checks.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::json::{Capture, Shape};

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

/// The registered claims the validator reads, borrowed from the payload while it is
/// scanned, and which of the required claims are present and not null.
#[derive(Debug)]
pub(crate) struct ClaimFields<'de, 'r> {
    pub(crate) iss: Option<Shape<'de>>,
    pub(crate) sub: Option<Shape<'de>>,
    pub(crate) aud: Option<Shape<'de>>,
    pub(crate) exp: Option<Shape<'de>>,
    pub(crate) nbf: Option<Shape<'de>>,
    pub(crate) iat: Option<Shape<'de>>,
    pub(crate) jti: Option<Shape<'de>>,
    required: &'r [String],
    /// `present[i]`: `required[i]` is present and not null.
    pub(crate) present: Vec<bool>,
}

impl<'r> ClaimFields<'_, 'r> {
    /// Nothing seen yet; `required` are the claims that must be present and not null.
    pub(crate) fn new(required: &'r [String]) -> Self {
        ClaimFields {
            iss: None,
            sub: None,
            aud: None,
            exp: None,
            nbf: None,
            iat: None,
            jti: None,
            required,
            present: vec![false; required.len()],
        }
    }
}

/// The registered claims [`ClaimFields`] keeps, matched as three bytes rather than by
/// string comparison (this runs for every member of every token).
fn registered(name: &str) -> Option<usize> {
    let &[a, b, c] = name.as_bytes() else {
        return None;
    };
    Some(match [a, b, c] {
        [b'i', b's', b's'] => 0,
        [b's', b'u', b'b'] => 1,
        [b'a', b'u', b'd'] => 2,
        [b'e', b'x', b'p'] => 3,
        [b'n', b'b', b'f'] => 4,
        [b'i', b'a', b't'] => 5,
        [b'j', b't', b'i'] => 6,
        _ => return None,
    })
}

impl<'de> Capture<'de> for ClaimFields<'de, '_> {
    fn keeps(&self, name: &str) -> bool {
        registered(name).is_some()
    }

    fn ignores(&self, name: &str) -> bool {
        self.required.is_empty() && registered(name).is_none()
    }

    fn member(&mut self, name: &str, value: Shape<'de>) {
        if !self.required.is_empty() && value != Shape::Null {
            for (present, required) in self.present.iter_mut().zip(self.required) {
                *present |= required == name;
            }
        }
        let slot = match registered(name) {
            Some(0) => &mut self.iss,
            Some(1) => &mut self.sub,
            Some(2) => &mut self.aud,
            Some(3) => &mut self.exp,
            Some(4) => &mut self.nbf,
            Some(5) => &mut self.iat,
            Some(6) => &mut self.jti,
            _ => return,
        };
        *slot = Some(value);
    }
}

/// Reads a NumericDate claim: absent, or an integer from 0 to [`MAX_NUMERIC_DATE`].
pub(crate) fn numeric_date(value: Option<&Shape<'_>>, name: &str) -> Result<Option<i64>, Error> {
    let invalid = |reason| Error::InvalidClaim { claim: name.to_owned(), reason };
    let seconds = match value {
        None => return Ok(None),
        Some(Shape::Int(seconds)) => Some(*seconds),
        Some(Shape::UInt(seconds)) => i64::try_from(*seconds).ok(),
        Some(Shape::Float(_)) => return Err(invalid("must be an integer number of seconds")),
        Some(_) => return Err(invalid("must be a number")),
    };
    match seconds {
        Some(seconds) if (0..=MAX_NUMERIC_DATE).contains(&seconds) => Ok(Some(seconds)),
        _ => Err(invalid("out of range")),
    }
}

/// Checks that a claim, when present, is a string.
pub(crate) fn string_claim<'a>(value: Option<&'a Shape<'_>>, name: &str) -> Result<Option<&'a str>, Error> {
    match value {
        None => Ok(None),
        Some(Shape::Str(value)) => Ok(Some(value)),
        Some(_) => Err(Error::InvalidClaim { claim: name.to_owned(), reason: "must be a string" }),
    }
}

/// `aud` once checked: one audience, or a non-empty list of them.
pub(crate) enum Audiences<'a, 'de> {
    One(&'a str),
    /// Every element is a string (checked by [`audiences`]).
    Many(&'a [Option<Cow<'de, str>>]),
}

impl Audiences<'_, '_> {
    /// Whether any audience is in `accepted`.
    pub(crate) fn any_in(&self, accepted: &[String]) -> bool {
        let ok = |a: &str| accepted.iter().any(|b| a == b);
        match self {
            Audiences::One(one) => ok(one),
            Audiences::Many(many) => many.iter().flatten().any(|a| ok(a)),
        }
    }
}

/// Reads `aud`: a string or a non-empty array of strings.
pub(crate) fn audiences<'a, 'de>(value: Option<&'a Shape<'de>>) -> Result<Option<Audiences<'a, 'de>>, Error> {
    let invalid = |reason| Error::InvalidClaim { claim: "aud".into(), reason };
    match value {
        None => Ok(None),
        Some(Shape::Str(one)) => Ok(Some(Audiences::One(one))),
        Some(Shape::Array(many)) if many.is_empty() => Err(invalid("must not be empty")),
        Some(Shape::Array(many)) if many.iter().all(Option::is_some) => Ok(Some(Audiences::Many(many))),
        Some(Shape::Array(_)) => Err(invalid("must hold only strings")),
        Some(_) => Err(invalid("must be a string or an array of strings")),
    }
}

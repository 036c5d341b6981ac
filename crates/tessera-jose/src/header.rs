//! The JOSE header of a JWS (RFC 7515 §4), checked in the RFC's order.

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::json::{Capture, Shape};

/// A checked JWS protected header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `alg` (RFC 7515 §4.1.1).
    pub alg: Algorithm,
    /// `kid` (§4.1.4).
    pub kid: Option<String>,
    /// `typ` (§4.1.9).
    pub typ: Option<String>,
    /// `cty` (§4.1.10).
    pub cty: Option<String>,
}

/// Header parameters that would let the token choose or fetch its own key (RFC 8725 §3.10).
pub const FORBIDDEN: [&str; 4] = ["jku", "jwk", "x5u", "x5c"];

/// The header parameters the checks read, borrowed from the decoded header while it is
/// scanned, so that no other member is ever copied.
#[derive(Debug, Default)]
pub(crate) struct HeaderFields<'de> {
    alg: Option<Shape<'de>>,
    kid: Option<Shape<'de>>,
    typ: Option<Shape<'de>>,
    cty: Option<Shape<'de>>,
    b64: Option<Shape<'de>>,
    crit: Option<Shape<'de>>,
    /// Which of [`FORBIDDEN`] are present, in its order.
    forbidden: [bool; 4],
}

/// A header parameter the checks read: kept in full, or only noted as present.
enum Parameter {
    Kept(usize),
    Forbidden(usize),
}

/// Matched as bytes rather than by string comparison: this runs for every header member.
fn parameter(name: &str) -> Option<Parameter> {
    Some(match name.as_bytes() {
        b"alg" => Parameter::Kept(0),
        b"kid" => Parameter::Kept(1),
        b"typ" => Parameter::Kept(2),
        b"cty" => Parameter::Kept(3),
        b"b64" => Parameter::Kept(4),
        b"crit" => Parameter::Kept(5),
        b"jku" => Parameter::Forbidden(0),
        b"jwk" => Parameter::Forbidden(1),
        b"x5u" => Parameter::Forbidden(2),
        b"x5c" => Parameter::Forbidden(3),
        _ => return None,
    })
}

impl<'de> Capture<'de> for HeaderFields<'de> {
    fn keeps(&self, name: &str) -> bool {
        matches!(parameter(name), Some(Parameter::Kept(_)))
    }

    fn member(&mut self, name: &str, value: Shape<'de>) {
        let slot = match parameter(name) {
            Some(Parameter::Kept(0)) => &mut self.alg,
            Some(Parameter::Kept(1)) => &mut self.kid,
            Some(Parameter::Kept(2)) => &mut self.typ,
            Some(Parameter::Kept(3)) => &mut self.cty,
            Some(Parameter::Kept(4)) => &mut self.b64,
            Some(Parameter::Kept(_)) => &mut self.crit,
            Some(Parameter::Forbidden(index)) => {
                self.forbidden[index] = true;
                return;
            }
            None => return,
        };
        *slot = Some(value);
    }
}

impl Header {
    /// Checks a parsed header object. Nothing here depends on the verifier's policy, except
    /// that every `crit` extension is refused: this crate implements none.
    pub fn from_members(members: Map<String, Value>) -> Result<Header, Error> {
        let mut fields = HeaderFields::default();
        for (name, value) in &members {
            let shape = if fields.keeps(name) { Shape::of(value) } else { Shape::Other };
            fields.member(name, shape);
        }
        Header::check(&fields)
    }

    /// The checks of [`Self::from_members`], in the RFC's order, on scanned members.
    pub(crate) fn check(fields: &HeaderFields<'_>) -> Result<Header, Error> {
        // §4.1.1: alg is required; `none` in any spelling is refused before anything else.
        let alg = match &fields.alg {
            Some(Shape::Str(name)) => name.parse::<Algorithm>()?,
            Some(_) => return Err(Error::InvalidHeader { name: "alg", reason: "must be a string" }),
            None => return Err(Error::InvalidHeader { name: "alg", reason: "is required" }),
        };
        // §4.1.2, §4.1.3, §4.1.5, §4.1.6: never take a key from the token.
        if let Some(index) = fields.forbidden.iter().position(|present| *present) {
            return Err(Error::ForbiddenHeader(FORBIDDEN[index]));
        }
        let kid = optional_string(fields.kid.as_ref(), "kid")?;
        let typ = optional_string(fields.typ.as_ref(), "typ")?;
        let cty = optional_string(fields.cty.as_ref(), "cty")?;
        // RFC 7519 §5.2: cty "JWT" announces a nested token.
        if cty.is_some_and(|cty| cty.eq_ignore_ascii_case("JWT")) {
            return Err(Error::NestedJwt);
        }
        // RFC 7797 §3: b64 false changes what is signed; a JWT must never be read that way.
        match fields.b64 {
            None | Some(Shape::Bool(true)) => {}
            Some(Shape::Bool(false)) => return Err(Error::UnencodedPayload),
            Some(_) => return Err(Error::InvalidHeader { name: "b64", reason: "must be a boolean" }),
        }
        // §4.1.11: crit lists extensions the recipient must understand; we understand none.
        if let Some(crit) = &fields.crit {
            let Some(first) = (match crit {
                Shape::Array(names) => names.first(),
                _ => None,
            }) else {
                return Err(Error::InvalidHeader { name: "crit", reason: "must be a non-empty array" });
            };
            let first = first.as_deref().unwrap_or_default();
            return Err(Error::UnsupportedCritical(first.chars().take(64).collect()));
        }
        Ok(Header { alg, kid: kid.map(str::to_owned), typ: typ.map(str::to_owned), cty: cty.map(str::to_owned) })
    }

    /// Whether `typ` names `expected` (RFC 7515 §4.1.9: case-insensitive, and the
    /// `application/` prefix may be left out).
    pub fn typ_is(&self, expected: &str) -> bool {
        self.typ.as_deref().is_some_and(|typ| media_type_eq(typ, expected))
    }
}

fn media_type_eq(a: &str, b: &str) -> bool {
    fn short(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    short(a).eq_ignore_ascii_case(short(b))
}

fn optional_string<'a>(value: Option<&'a Shape<'_>>, name: &'static str) -> Result<Option<&'a str>, Error> {
    match value {
        None => Ok(None),
        Some(Shape::Str(value)) => Ok(Some(value)),
        Some(_) => Err(Error::InvalidHeader { name, reason: "must be a string" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: serde_json::Value) -> Result<Header, Error> {
        match json {
            Value::Object(map) => Header::from_members(map),
            _ => unreachable!(),
        }
    }

    #[test]
    fn checks_each_parameter() {
        use serde_json::json;
        assert!(header(json!({"alg": "ES256", "kid": "k", "typ": "JWT"})).is_ok());
        assert_eq!(header(json!({"typ": "JWT"})), Err(Error::InvalidHeader { name: "alg", reason: "is required" }));
        assert_eq!(header(json!({"alg": "NoNe"})), Err(Error::AlgNone));
        assert_eq!(header(json!({"alg": "ES256", "jku": "https://evil"})), Err(Error::ForbiddenHeader("jku")));
        assert_eq!(header(json!({"alg": "ES256", "x5c": []})), Err(Error::ForbiddenHeader("x5c")));
        assert_eq!(header(json!({"alg": "ES256", "b64": false, "crit": ["b64"]})), Err(Error::UnencodedPayload));
        assert_eq!(
            header(json!({"alg": "ES256", "crit": ["exp"], "exp": 1})),
            Err(Error::UnsupportedCritical("exp".into()))
        );
        assert!(matches!(header(json!({"alg": "ES256", "crit": []})), Err(Error::InvalidHeader { name: "crit", .. })));
        assert!(matches!(header(json!({"alg": "ES256", "kid": 7})), Err(Error::InvalidHeader { name: "kid", .. })));
        assert_eq!(header(json!({"alg": "ES256", "cty": "jwt"})), Err(Error::NestedJwt));
    }

    #[test]
    fn typ_comparison_follows_rfc_7515() {
        let h = header(serde_json::json!({"alg": "ES256", "typ": "application/AT+JWT"})).unwrap();
        assert!(h.typ_is("at+jwt"));
        assert!(!h.typ_is("JWT"));
    }
}

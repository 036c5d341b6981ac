//! The JOSE header of a JWS (RFC 7515 §4), checked in the RFC's order.

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::error::Error;

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
    /// Every member, as sent.
    pub members: Map<String, Value>,
}

/// Header parameters that would let the token choose or fetch its own key (RFC 8725 §3.10).
pub const FORBIDDEN: [&str; 4] = ["jku", "jwk", "x5u", "x5c"];

impl Header {
    /// Checks a parsed header object. Nothing here depends on the verifier's policy, except
    /// that every `crit` extension is refused: this crate implements none.
    pub fn from_members(members: Map<String, Value>) -> Result<Header, Error> {
        // §4.1.1: alg is required; `none` in any spelling is refused before anything else.
        let alg = match members.get("alg") {
            Some(Value::String(name)) => name.parse::<Algorithm>()?,
            Some(_) => return Err(Error::InvalidHeader { name: "alg", reason: "must be a string" }),
            None => return Err(Error::InvalidHeader { name: "alg", reason: "is required" }),
        };
        // §4.1.2, §4.1.3, §4.1.5, §4.1.6: never take a key from the token.
        if let Some(name) = FORBIDDEN.into_iter().find(|name| members.contains_key(*name)) {
            return Err(Error::ForbiddenHeader(name));
        }
        let kid = optional_string(&members, "kid")?;
        let typ = optional_string(&members, "typ")?;
        let cty = optional_string(&members, "cty")?;
        // RFC 7519 §5.2: cty "JWT" announces a nested token.
        if cty.as_deref().is_some_and(|cty| cty.eq_ignore_ascii_case("JWT")) {
            return Err(Error::NestedJwt);
        }
        // RFC 7797 §3: b64 false changes what is signed; a JWT must never be read that way.
        match members.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(Error::UnencodedPayload),
            Some(_) => return Err(Error::InvalidHeader { name: "b64", reason: "must be a boolean" }),
        }
        // §4.1.11: crit lists extensions the recipient must understand; we understand none.
        if let Some(crit) = members.get("crit") {
            let Some(names) = crit.as_array().filter(|names| !names.is_empty()) else {
                return Err(Error::InvalidHeader { name: "crit", reason: "must be a non-empty array" });
            };
            let first = names.first().and_then(Value::as_str).unwrap_or_default();
            return Err(Error::UnsupportedCritical(first.chars().take(64).collect()));
        }
        Ok(Header { alg, kid, typ, cty, members })
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

fn optional_string(members: &Map<String, Value>, name: &'static str) -> Result<Option<String>, Error> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
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

//! Strict JSON for headers, claims and keys: duplicate member names and deep nesting are
//! errors (RFC 7515 §5.2 lets a parser reject duplicates; RFC 8725 §3.14 says to), and the
//! top level must be an object.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Part};

/// The deepest nesting accepted by default: an object inside an object counts two.
pub const DEFAULT_MAX_DEPTH: usize = 16;

/// Parses `bytes` as a JSON object, rejecting duplicate names and nesting beyond `max_depth`.
pub fn parse_object(bytes: &[u8], part: Part, max_depth: usize) -> Result<Map<String, Value>, Error> {
    let violation = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = Strict { depth: max_depth, violation: &violation };
    let parsed = seed.deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    match (parsed, violation.into_inner()) {
        (_, Some(Violation::Duplicate(name))) => Err(Error::DuplicateMember { part, name }),
        (_, Some(Violation::TooDeep)) => Err(Error::NestingTooDeep(part)),
        (Err(error), None) => Err(Error::InvalidJson { part, reason: describe(&error) }),
        (Ok(Value::Object(map)), None) => Ok(map),
        (Ok(_), None) => Err(Error::NotAnObject(part)),
    }
}

/// A parser message without the input: serde_json's messages quote at most a token's
/// category, never the data, but the position is enough for a user.
fn describe(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!("{category} at line {} column {}", error.line(), error.column())
}

enum Violation {
    Duplicate(String),
    TooDeep,
}

struct Strict<'a> {
    depth: usize,
    violation: &'a Cell<Option<Violation>>,
}

impl Strict<'_> {
    fn nested(&self) -> Option<Strict<'_>> {
        if self.depth == 0 {
            self.violation.set(Some(Violation::TooDeep));
            return None;
        }
        Some(Strict { depth: self.depth - 1, violation: self.violation })
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Some(inner) = self.nested() else {
            return Err(A::Error::custom("nesting too deep"));
        };
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict { ..inner })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let Some(inner) = self.nested() else {
            return Err(A::Error::custom("nesting too deep"));
        };
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                self.violation.set(Some(Violation::Duplicate(name)));
                return Err(A::Error::custom("duplicate member"));
            }
            let value = access.next_value_seed(Strict { ..inner })?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Map<String, Value>, Error> {
        parse_object(text.as_bytes(), Part::Payload, 4)
    }

    #[test]
    fn accepts_objects_and_rejects_the_rest() {
        assert_eq!(parse(r#" {"a": [1, {"b": null}]} "#).map(|m| m.len()), Ok(1));
        assert!(matches!(parse("[1]"), Err(Error::NotAnObject(Part::Payload))));
        assert!(matches!(parse("\"x\""), Err(Error::NotAnObject(_))));
        assert!(matches!(parse("{} x"), Err(Error::InvalidJson { .. })));
        assert!(matches!(parse("{\"a\":1,}"), Err(Error::InvalidJson { .. })));
        assert!(matches!(parse("\u{feff}{}"), Err(Error::InvalidJson { .. })));
    }

    #[test]
    fn rejects_duplicate_names_at_any_depth() {
        assert_eq!(parse(r#"{"a":1,"a":2}"#), Err(Error::DuplicateMember { part: Part::Payload, name: "a".into() }));
        assert!(matches!(parse(r#"{"x":{"b":1,"b":1}}"#), Err(Error::DuplicateMember { .. })));
        // An escaped spelling is the same name once decoded.
        assert!(matches!(parse(r#"{"a":1,"\u0061":2}"#), Err(Error::DuplicateMember { .. })));
    }

    #[test]
    fn bounds_nesting() {
        assert!(parse(r#"{"a":{"b":{"c":[]}}}"#).is_ok());
        assert_eq!(parse(r#"{"a":{"b":{"c":[[]]}}}"#), Err(Error::NestingTooDeep(Part::Payload)));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&format!("{{\"a\":{deep}}}")).is_err());
    }
}

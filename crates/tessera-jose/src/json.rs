//! Strict JSON for headers, claims and keys: duplicate member names and deep nesting are
//! errors (RFC 7515 §5.2 lets a parser reject duplicates; RFC 8725 §3.14 says to), and the
//! top level must be an object.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Part};
use crate::json_fast;
use crate::member_names::Names;

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
    match outcome(parsed, violation, part)? {
        Value::Object(map) => Ok(map),
        _ => Err(Error::NotAnObject(part)),
    }
}

/// Checks `bytes` by the same rules as [`parse_object`] (same errors for the same input)
/// without building it: nothing is allocated for values or for names without escapes.
/// Each top-level member is shown to a capture made by `fresh`, in full when it
/// [`Capture::keeps`] it. Returns the capture and the input as text (an object that passes
/// is UTF-8 throughout), so that it can be deserialized again without re-validating UTF-8.
pub(crate) fn scan_object<'de, C: Capture<'de>>(
    bytes: &'de [u8],
    part: Part,
    max_depth: usize,
    fresh: impl Fn() -> C,
) -> Result<(C, &'de str), Error> {
    let mut capture = fresh();
    if let Some(text) = json_fast::scan(bytes, max_depth, &mut capture) {
        return Ok((capture, text));
    }
    // Anything the fast path does not vouch for, valid or not, is decided by serde_json.
    let mut capture = fresh();
    scan_with_serde(bytes, part, max_depth, &mut capture)?;
    // serde_json checks every string, and everything outside strings must be ASCII.
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::InvalidJson { part, reason: "invalid UTF-8".to_owned() })?;
    Ok((capture, text))
}

/// The reference scan, on `serde_json`'s parser; [`json_fast`] must agree with it.
fn scan_with_serde<'de, C: Capture<'de>>(
    bytes: &'de [u8],
    part: Part,
    max_depth: usize,
    capture: &mut C,
) -> Result<(), Error> {
    let violation = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = Scan { depth: max_depth, keep: false, violation: &violation, capture: Some(capture) };
    let parsed = seed.deserialize(&mut deserializer).and_then(|shape| {
        deserializer.end()?;
        Ok(shape)
    });
    match outcome(parsed, violation, part)? {
        Shape::Object => Ok(()),
        _ => Err(Error::NotAnObject(part)),
    }
}

/// A rule violation wins over the parse error it was reported through.
fn outcome<T>(
    parsed: Result<T, serde_json::Error>,
    violation: Cell<Option<Violation>>,
    part: Part,
) -> Result<T, Error> {
    match (parsed, violation.into_inner()) {
        (_, Some(Violation::Duplicate(name))) => Err(Error::DuplicateMember { part, name }),
        (_, Some(Violation::TooDeep)) => Err(Error::NestingTooDeep(part)),
        (Err(error), None) => Err(Error::InvalidJson { part, reason: describe(&error) }),
        (Ok(value), None) => Ok(value),
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

/// What [`scan_object`] keeps of a value: scalars, strings (borrowed from the input unless
/// they contain escapes) and the string elements of an array, only where asked for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape<'de> {
    /// `null`, always reported, so that "present and not null" can be told.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer (as `serde_json` reads it).
    Int(i64),
    /// A non-negative integer up to `u64::MAX`.
    UInt(u64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(Cow<'de, str>),
    /// An array: each element's string, `None` for an element that is not a string.
    Array(Vec<Option<Cow<'de, str>>>),
    /// An object (its contents are checked, not kept).
    Object,
    /// A non-null value that was checked but not kept.
    Other,
}

impl<'de> Shape<'de> {
    /// The shape of an already parsed value, borrowing its strings.
    pub(crate) fn of(value: &'de Value) -> Shape<'de> {
        match value {
            Value::Null => Shape::Null,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Shape::UInt(u),
                (None, Some(i)) => Shape::Int(i),
                _ => Shape::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Shape::Str(Cow::Borrowed(s)),
            Value::Array(items) => Shape::Array(items.iter().map(|v| v.as_str().map(Cow::Borrowed)).collect()),
            Value::Object(_) => Shape::Object,
        }
    }
}

/// Receives the top-level members of an object being scanned.
pub(crate) trait Capture<'de> {
    /// Whether the value of the top-level member `name` is wanted in full.
    fn keeps(&self, name: &str) -> bool;
    /// Every top-level member, in order: its value in full if [`Self::keeps`] said so,
    /// otherwise [`Shape::Null`] or [`Shape::Other`].
    fn member(&mut self, name: &str, value: Shape<'de>);
    /// Whether [`Self::member`] would do nothing for `name`, whatever its value; then the
    /// one-pass claims reader ([`crate::claims_pass`]) need not record the value at all.
    fn ignores(&self, _name: &str) -> bool {
        false
    }
}

/// A capture lent out, so that it is filled in place rather than moved in and out.
impl<'de, C: Capture<'de>> Capture<'de> for &mut C {
    fn keeps(&self, name: &str) -> bool {
        (**self).keeps(name)
    }
    fn member(&mut self, name: &str, value: Shape<'de>) {
        (**self).member(name, value);
    }
    fn ignores(&self, name: &str) -> bool {
        (**self).ignores(name)
    }
}

/// A capture that keeps nothing: the strict checks alone.
impl<'de> Capture<'de> for () {
    fn keeps(&self, _: &str) -> bool {
        false
    }
    fn member(&mut self, _: &str, _: Shape<'de>) {}
}

/// A member name, borrowed from the input when it has no escapes.
pub(crate) struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// The scanning twin of [`Strict`]: the same depth and duplicate rules, and the same
/// `serde_json` entry point (`deserialize_any`, so numbers are range-checked and strings
/// UTF-8-checked exactly as when a `Value` is built), but values are dropped unless kept.
struct Scan<'a, 'c, C> {
    depth: usize,
    keep: bool,
    violation: &'a Cell<Option<Violation>>,
    capture: Option<&'c mut C>,
}

impl<'a, C> Scan<'a, '_, C> {
    fn nested(&self) -> Option<usize> {
        if self.depth == 0 {
            self.violation.set(Some(Violation::TooDeep));
            return None;
        }
        Some(self.depth - 1)
    }

    fn inner<'c2>(&self, depth: usize, keep: bool) -> Scan<'a, 'c2, C> {
        Scan { depth, keep, violation: self.violation, capture: None }
    }
}

impl<'de, C: Capture<'de>> DeserializeSeed<'de> for Scan<'_, '_, C> {
    type Value = Shape<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Shape<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, C: Capture<'de>> Visitor<'de> for Scan<'_, '_, C> {
    type Value = Shape<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Shape<'de>, E> {
        Ok(if self.keep { Shape::Bool(v) } else { Shape::Other })
    }
    fn visit_i64<E>(self, v: i64) -> Result<Shape<'de>, E> {
        Ok(if self.keep { Shape::Int(v) } else { Shape::Other })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Shape<'de>, E> {
        Ok(if self.keep { Shape::UInt(v) } else { Shape::Other })
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Shape<'de>, E> {
        // As `Number::from_f64` in `Strict`.
        if !v.is_finite() {
            return Err(E::custom("number out of range"));
        }
        Ok(if self.keep { Shape::Float(v) } else { Shape::Other })
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Shape<'de>, E> {
        Ok(if self.keep { Shape::Str(Cow::Borrowed(v)) } else { Shape::Other })
    }
    fn visit_str<E>(self, v: &str) -> Result<Shape<'de>, E> {
        Ok(if self.keep { Shape::Str(Cow::Owned(v.to_owned())) } else { Shape::Other })
    }
    fn visit_string<E>(self, v: String) -> Result<Shape<'de>, E> {
        Ok(if self.keep { Shape::Str(Cow::Owned(v)) } else { Shape::Other })
    }
    fn visit_unit<E>(self) -> Result<Shape<'de>, E> {
        Ok(Shape::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape<'de>, A::Error> {
        let Some(depth) = self.nested() else {
            return Err(A::Error::custom("nesting too deep"));
        };
        let mut kept = Vec::new();
        while let Some(item) = seq.next_element_seed(self.inner(depth, self.keep))? {
            if self.keep {
                kept.push(match item {
                    Shape::Str(s) => Some(s),
                    _ => None,
                });
            }
        }
        Ok(if self.keep { Shape::Array(kept) } else { Shape::Other })
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<Shape<'de>, A::Error> {
        let Some(depth) = self.nested() else {
            return Err(A::Error::custom("nesting too deep"));
        };
        let mut names = Names::new();
        while let Some(name) = access.next_key_seed(NameSeed)? {
            if names.contains(&name) {
                self.violation.set(Some(Violation::Duplicate(name.into_owned())));
                return Err(A::Error::custom("duplicate member"));
            }
            let keep = self.capture.as_ref().is_some_and(|capture| capture.keeps(&name));
            let value = access.next_value_seed(self.inner(depth, keep))?;
            if let Some(capture) = self.capture.as_deref_mut() {
                capture.member(&name, value);
            }
            names.insert(name);
        }
        Ok(Shape::Object)
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

    /// Keeps every top-level member whose name starts with `k`, and sees all of them.
    #[derive(Debug, Default, PartialEq)]
    struct Keep<'de>(Vec<(String, Shape<'de>)>);

    impl<'de> Capture<'de> for Keep<'de> {
        fn keeps(&self, name: &str) -> bool {
            name.starts_with('k')
        }
        fn member(&mut self, name: &str, value: Shape<'de>) {
            self.0.push((name.to_owned(), value));
        }
    }

    fn scan(text: &str) -> Result<(), Error> {
        scan_object(text.as_bytes(), Part::Payload, 4, || ()).map(drop)
    }

    /// The fast path, the serde_json scan and the `Map` parser must give the same answer,
    /// and the two scans the same members.
    fn agree(bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let fast = scan_object(bytes, Part::Payload, 4, Keep::default).map(|(keep, _)| keep);
        let mut slow = Keep::default();
        let slow = scan_with_serde(bytes, Part::Payload, 4, &mut slow).map(|()| slow);
        assert_eq!(fast, slow, "{text:?}");
        assert_eq!(fast.map(drop), parse_object(bytes, Part::Payload, 4).map(drop), "{text:?}");
    }

    #[test]
    fn scanning_gives_the_same_answer_as_parsing() {
        let cases = [
            r#" {"a": [1, {"b": null}]} "#,
            "[1]",
            "\"x\"",
            "null",
            "{}",
            " {\t}\r\n",
            "{} x",
            "{\"a\":1,}",
            "{,}",
            "{\"a\" 1}",
            "\u{feff}{}",
            "{\"a\":1e400}",
            "{\"a\":-1e400}",
            "{\"k\":-0}",
            "{\"k\":-1}",
            "{\"k\":0}",
            "{\"k\":01}",
            "{\"k\":1.5}",
            "{\"k\":1E2}",
            "{\"k\":-}",
            "{\"k\":999999999999999999}",
            "{\"k\":18446744073709551615}",
            "{\"k\":18446744073709551616}",
            "{\"k\":-9223372036854775808}",
            "{\"k\":-9223372036854775809}",
            "{\"k\":tru}",
            "{\"k\":true,\"k2\":false,\"k3\":null,\"x\":true}",
            "{\"k\":nul}",
            "{\"k\":\"\\ud800\"}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\u{1}\"}",
            "{\"k\":\"\u{7f}é\"}",
            "{\"k\":[\"a\",1,[\"b\"],{\"c\":\"d\"}]}",
            "{\"k\":[]}",
            "{\"k\":[1,]}",
            "{\"k\":[1 2]}",
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"x":{"b":1,"b":1}}"#,
            r#"{"x":[{"b":1,"b":1}]}"#,
            r#"{"a":{"b":{"c":[]}}}"#,
            r#"{"a":{"b":{"c":[[]]}}}"#,
            r#"{"a":{"b":{"c":[[]]}},"a":1}"#,
            r#"{"a":1,"a":{"b":{"c":[[]]}}}"#,
            r#"[[[[[{"a":1,"a":1}]]]]]"#,
            r#"{"a":[1,2"#,
            r#"{"a""#,
            r#"{"a"#,
            "{",
            "",
        ];
        for text in cases {
            agree(text.as_bytes());
        }
        agree(b"{\"k\":\"\xff\"}");
        agree(b"{\"k\":\"\xc3\"}");
        agree(b"{\"k\xc3\xa9\":1}");
    }

    proptest::proptest! {
        /// Random documents over an alphabet that makes every branch likely.
        #[test]
        fn the_fast_path_agrees_with_serde_json(parts in proptest::collection::vec(0usize..30, 0..40)) {
            const PIECES: [&str; 30] = [
                "{", "}", "[", "]", ",", ":", " ", "\"k\"", "\"a\"", "\"k\"", "\"\\u006b\"", "0", "-", "1",
                "12", ".5", "e3", "true", "false", "null", "\"s\"", "\"\\n\"", "\"é\"", "\n", "01", "\"",
                "18446744073709551616", "-0", "{\"k\":", "}",
            ];
            let text: String = parts.iter().map(|i| PIECES[*i]).collect();
            agree(text.as_bytes());
            agree(format!("{{\"k\":{text}}}").as_bytes());
        }
    }

    /// Objects big enough to leave the linear name list for the hash set.
    #[test]
    fn thousands_of_members_cost_linear_time() {
        let members: Vec<String> = (0..5000).map(|i| format!("\"m{i}\":{i}")).collect();
        let object = format!("{{{}}}", members.join(","));
        assert_eq!(scan(&object), Ok(()));
        assert_eq!(parse(&object).map(|m| m.len()), Ok(5000));
        for repeated in ["m0", "m15", "m16", "m4999"] {
            let with_duplicate = format!("{{{},\"{repeated}\":0}}", members.join(","));
            let expected = Err(Error::DuplicateMember { part: Part::Payload, name: repeated.into() });
            assert_eq!(scan(&with_duplicate), expected);
            assert_eq!(parse(&with_duplicate).map(drop), expected);
        }
        // An escaped spelling still collides once the set has taken over.
        let escaped = format!("{{{},\"\\u006d7\":0}}", members.join(","));
        assert_eq!(scan(&escaped), Err(Error::DuplicateMember { part: Part::Payload, name: "m7".into() }));
    }

    #[test]
    fn shapes_keep_only_what_is_asked_for() {
        let text = r#"{"k1":"a\"b","k2":[1,"x",{"y":2}],"k3":-5,"k4":7,"k5":0.5,"k6":null,"o":"z","n":null}"#;
        let (keep, _) = scan_object(text.as_bytes(), Part::Payload, 4, Keep::default).unwrap();
        let shapes: Vec<Shape<'_>> = keep.0.into_iter().map(|(_, shape)| shape).collect();
        assert_eq!(
            shapes,
            [
                Shape::Str("a\"b".into()),
                Shape::Array(vec![None, Some("x".into()), None]),
                Shape::Int(-5),
                Shape::UInt(7),
                Shape::Float(0.5),
                Shape::Null,
                Shape::Other,
                Shape::Null,
            ]
        );
    }
}

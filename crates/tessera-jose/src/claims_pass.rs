//! The claims in one pass: the caller's type is deserialized straight from the payload by
//! a strict deserializer of our own, which checks the strict rules (duplicate names, depth)
//! and shows the registered claims to the capture while it goes, instead of a strict scan
//! followed by a second parse into the caller's type.
//!
//! The deserializer walks [`json_fast`]'s cursor and covers the JSON that tokens carry:
//! strings without escapes, integers of up to 18 digits, `true`, `false`, `null`, arrays and
//! objects. It only ever answers "valid, and here is `T`": then the strict scan would accept
//! the same input with the same captured members, and `serde_json::from_str` would build the
//! same `T`, because every `Deserializer` method calls the same visitor method with the same
//! value as `serde_json`'s does (or gives up where `serde_json` would fail). On anything else
//! (an escape, a fraction, a duplicate name, a syntax error, a type mismatch, an enum, a raw
//! value) it answers `None`, and the caller runs the two-pass path, so every rejection and
//! its precedence stay exactly as that path decides.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json::{Capture, Shape};
use crate::json_fast::{self, Cursor};
use crate::member_names::Names;

/// `serde_json`'s private name for `RawValue`, which it hands over as raw text.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// Deserializes `bytes` into `T` while checking the strict rules within `max_depth` and
/// showing each top-level member to `capture`. `None` means "use the two-pass path"
/// (`capture` is then in an unknown state).
pub(crate) fn deserialize<'de, T: Deserialize<'de>, C: Capture<'de>>(
    bytes: &'de [u8],
    max_depth: usize,
    capture: &mut C,
) -> Option<T> {
    // Validated once (fast for ASCII): strings are cut at ASCII quotes, so each is UTF-8.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut cursor = Cursor::new(text);
    cursor.skip_whitespace();
    // A top level other than an object is for the strict scan to name.
    if cursor.peek()? != b'{' {
        return None;
    }
    let top = Value {
        cursor: &mut cursor,
        depth: max_depth.min(json_fast::MAX_FAST_DEPTH),
        kept: None,
        capture: Some(capture),
    };
    let value = T::deserialize(top).ok()?;
    cursor.skip_whitespace();
    cursor.at_end().then_some(value)
}

/// The only error: "not on this path". What went wrong is for the two-pass path to say.
#[derive(Debug)]
struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the two-pass path")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

/// `Some` or give up.
fn need<T>(value: Option<T>) -> Result<T, GiveUp> {
    value.ok_or(GiveUp)
}

/// How far the items of a container (members or elements) have been read.
#[derive(Default)]
struct Progress {
    started: bool,
    /// The closing bracket has been read.
    done: bool,
}

impl Progress {
    /// Moves to the next item: `true` at its first byte, `false` once `end` has been read.
    fn next(&mut self, cursor: &mut Cursor<'_>, end: u8) -> Result<bool, GiveUp> {
        if self.done {
            return Ok(false);
        }
        cursor.skip_whitespace();
        let more = if std::mem::replace(&mut self.started, true) {
            match need(cursor.next())? {
                b',' => {
                    cursor.skip_whitespace();
                    true
                }
                byte if byte == end => false,
                _ => return Err(GiveUp),
            }
        } else {
            !cursor.eat(end)
        };
        self.done = !more;
        Ok(more)
    }

    /// After the visitor has returned: as `serde_json`, the container must end there (a
    /// visitor may stop without asking for the end, as a tuple's does; one that leaves items
    /// unread fails).
    fn finish(&self, cursor: &mut Cursor<'_>, end: u8) -> Result<(), GiveUp> {
        if self.done {
            return Ok(());
        }
        cursor.skip_whitespace();
        if cursor.eat(end) { Ok(()) } else { Err(GiveUp) }
    }
}

/// A deserializer of one value, at its first byte.
struct Value<'a, 'de, C> {
    cursor: &'a mut Cursor<'de>,
    /// Levels of nesting still allowed, a container at this value included.
    depth: usize,
    /// For a kept top-level member: where its scalar's [`Shape`] is recorded as it is read
    /// (a container is scanned again afterwards instead).
    kept: Option<&'a mut Option<Shape<'de>>>,
    /// Only for the document itself: the capture its members are shown to.
    capture: Option<&'a mut C>,
}

impl<'a, 'de, C: Capture<'de>> Value<'a, 'de, C> {
    fn record(&mut self, shape: Shape<'de>) {
        if let Some(kept) = self.kept.as_deref_mut() {
            *kept = Some(shape);
        }
    }

    /// The value must start with one of `first`; otherwise `serde_json` would fail.
    fn first_byte(&self, first: &[u8]) -> Result<u8, GiveUp> {
        need(self.cursor.peek().filter(|byte| first.contains(byte)))
    }

    fn string(&mut self) -> Result<&'de str, GiveUp> {
        let text = need(self.cursor.string())?;
        self.record(Shape::Str(Cow::Borrowed(text)));
        Ok(text)
    }

    /// `true`, `false` or `null`, at its first byte.
    fn literal(&mut self) -> Result<Shape<'de>, GiveUp> {
        let (word, shape) = match self.cursor.peek() {
            Some(b't') => ("true", Shape::Bool(true)),
            Some(b'f') => ("false", Shape::Bool(false)),
            Some(b'n') => ("null", Shape::Null),
            _ => return Err(GiveUp),
        };
        if !self.cursor.literal(word) {
            return Err(GiveUp);
        }
        self.record(shape.clone());
        Ok(shape)
    }

    /// A number, visited as `serde_json` visits it: `u64` when non-negative, `i64` when
    /// negative (anything else is left to `serde_json`: see `Cursor::integer`).
    fn number<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
        let shape = need(self.cursor.integer())?;
        self.record(shape.clone());
        match shape {
            Shape::UInt(value) => visitor.visit_u64(value),
            Shape::Int(value) => visitor.visit_i64(value),
            _ => Err(GiveUp),
        }
    }

    fn map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        let depth = need(self.depth.checked_sub(1))?;
        self.cursor.pos += 1;
        let mut access = Members {
            cursor: self.cursor,
            depth,
            progress: Progress::default(),
            names: Names::new(),
            name: "",
            capture: self.capture,
        };
        let value = visitor.visit_map(&mut access)?;
        access.progress.finish(access.cursor, b'}')?;
        Ok(value)
    }

    fn seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        // The document itself is an object; its members must all reach the capture.
        if self.capture.is_some() {
            return Err(GiveUp);
        }
        let depth = need(self.depth.checked_sub(1))?;
        self.cursor.pos += 1;
        let mut access = Elements { cursor: self.cursor, depth, progress: Progress::default() };
        let value = visitor.visit_seq(&mut access)?;
        access.progress.finish(access.cursor, b']')?;
        Ok(value)
    }
}

/// Gives up at once: what `serde_json` does here differs (128-bit numbers, bytes, enums).
macro_rules! give_up {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, GiveUp> {
            Err(GiveUp)
        }
    )*};
}

/// Numbers, whatever type is asked for: `serde_json` reads them alike and lets the
/// visitor convert.
macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
            self.first_byte(b"-0123456789")?;
            self.number(visitor)
        }
    )*};
}

/// Strings, as `serde_json` serves `str`, `string`, `char` and identifiers.
macro_rules! strings {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
            self.first_byte(b"\"")?;
            visitor.visit_borrowed_str(self.string()?)
        }
    )*};
}

impl<'de, C: Capture<'de>> Deserializer<'de> for Value<'_, 'de, C> {
    type Error = GiveUp;

    give_up! { deserialize_i128 deserialize_u128 deserialize_bytes deserialize_byte_buf }
    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16
        deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
    }
    strings! { deserialize_char deserialize_str deserialize_string deserialize_identifier }

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
        match need(self.cursor.peek())? {
            b'"' => visitor.visit_borrowed_str(self.string()?),
            b'{' => self.map(visitor),
            b'[' => self.seq(visitor),
            b'-' | b'0'..=b'9' => self.number(visitor),
            _ => match self.literal()? {
                Shape::Bool(value) => visitor.visit_bool(value),
                _ => visitor.visit_unit(),
            },
        }
    }
    fn deserialize_bool<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
        self.first_byte(b"tf")?;
        match self.literal()? {
            Shape::Bool(value) => visitor.visit_bool(value),
            _ => Err(GiveUp),
        }
    }
    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
        if self.cursor.peek() == Some(b'n') {
            self.literal()?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }
    fn deserialize_unit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
        self.first_byte(b"n")?;
        self.literal()?;
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, GiveUp> {
        self.deserialize_unit(visitor)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, GiveUp> {
        if name == RAW_VALUE {
            return Err(GiveUp);
        }
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.first_byte(b"[")?;
        self.seq(visitor)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, GiveUp> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, GiveUp> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.first_byte(b"{")?;
        self.map(visitor)
    }
    /// As `serde_json`: a struct from an object, or from an array of its fields in order.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, GiveUp> {
        match self.first_byte(b"{[")? {
            b'{' => self.map(visitor),
            _ => self.seq(visitor),
        }
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, GiveUp> {
        Err(GiveUp)
    }
    /// A value the caller's type skips: checked by the strict scan (and kept, if asked).
    fn deserialize_ignored_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, GiveUp> {
        // Skipping the document itself would hide its members from the capture.
        if self.capture.is_some() {
            return Err(GiveUp);
        }
        let shape = need(self.cursor.value(self.depth, self.kept.is_some()))?;
        self.record(shape);
        visitor.visit_unit()
    }
}

/// The members of an object, after its `{`.
struct Members<'a, 'de, C> {
    cursor: &'a mut Cursor<'de>,
    /// Nesting still allowed for the values.
    depth: usize,
    progress: Progress,
    names: Names<'de>,
    /// The name whose value comes next.
    name: &'de str,
    /// For the document's own members.
    capture: Option<&'a mut C>,
}

impl<'de, C: Capture<'de>> MapAccess<'de> for &mut Members<'_, 'de, C> {
    type Error = GiveUp;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, GiveUp> {
        if !self.progress.next(self.cursor, b'}')? {
            return Ok(None);
        }
        let name = need(self.cursor.string())?;
        if !self.names.insert_new(Cow::Borrowed(name)) {
            return Err(GiveUp);
        }
        self.cursor.skip_whitespace();
        if !self.cursor.eat(b':') {
            return Err(GiveUp);
        }
        self.cursor.skip_whitespace();
        self.name = name;
        seed.deserialize(BorrowedStrDeserializer::new(name)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, GiveUp> {
        let (depth, start) = (self.depth, *self.cursor);
        let Some(capture) = self.capture.as_deref_mut() else {
            return seed.deserialize(Value::<C> { cursor: self.cursor, depth, kept: None, capture: None });
        };
        let name = self.name;
        if capture.keeps(name) {
            let mut kept = None;
            let value =
                seed.deserialize(Value::<C> { cursor: self.cursor, depth, kept: Some(&mut kept), capture: None })?;
            // A container was not recorded as it was read: scan it again, keeping it.
            let shape = match kept {
                Some(shape) => shape,
                None => need({ start }.value(depth, true))?,
            };
            capture.member(name, shape);
            return Ok(value);
        }
        let value = seed.deserialize(Value::<C> { cursor: self.cursor, depth, kept: None, capture: None })?;
        if !capture.ignores(name) {
            capture.member(name, if start.peek() == Some(b'n') { Shape::Null } else { Shape::Other });
        }
        Ok(value)
    }
}

/// The elements of an array, after its `[`.
struct Elements<'a, 'de> {
    cursor: &'a mut Cursor<'de>,
    depth: usize,
    progress: Progress,
}

impl<'de> SeqAccess<'de> for &mut Elements<'_, 'de> {
    type Error = GiveUp;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, GiveUp> {
        if !self.progress.next(self.cursor, b']')? {
            return Ok(None);
        }
        let value = Value::<()> { cursor: self.cursor, depth: self.depth, kept: None, capture: None };
        seed.deserialize(value).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Debug;

    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use super::*;
    use crate::claims::{Audience, ClaimFields, RegisteredClaims};
    use crate::error::Part;
    use crate::json;

    /// A typed claims struct that walks options, an untagged enum, arrays and a map.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Typed {
        iss: Option<String>,
        aud: Option<Audience>,
        exp: Option<i64>,
        k: Option<Vec<String>>,
        m: Option<BTreeMap<String, Value>>,
    }

    /// Externally tagged: its contents are not followed, so the pass must step aside.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    enum Tagged {
        A { b: u8 },
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct WithEnum {
        e: Tagged,
    }

    const REQUIRED: [&str; 2] = ["k", "m"];

    /// When the one pass answers, the two passes accept the same input with the same
    /// captured members and build the same value. Returns whether the one pass answered.
    fn agree<T: DeserializeOwned + PartialEq + Debug>(bytes: &[u8]) -> bool {
        let required: Vec<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
        let mut fields = ClaimFields::new(&required);
        let Some(value) = deserialize::<T, _>(bytes, 4, &mut fields) else {
            return false;
        };
        let text = String::from_utf8_lossy(bytes);
        let (two, json) = json::scan_object(bytes, Part::Payload, 4, || ClaimFields::new(&required))
            .unwrap_or_else(|e| panic!("{text:?}: one pass accepted, the scan said {e}"));
        assert_eq!(format!("{fields:?}"), format!("{two:?}"), "{text:?}");
        assert_eq!(serde_json::from_str::<T>(json).ok(), Some(value), "{text:?}");
        true
    }

    fn agree_all(bytes: &[u8]) {
        agree::<Value>(bytes);
        agree::<RegisteredClaims>(bytes);
        agree::<Typed>(bytes);
        assert!(!agree::<WithEnum>(bytes), "{:?}", String::from_utf8_lossy(bytes));
    }

    #[test]
    fn usual_claims_take_the_one_pass() {
        let usual = br#"{"iss":"https://i","sub":"s","aud":["a","b"],"exp":17,"nbf":-1,"iat":5,"jti":"j",
            "k":["x"],"m":{"n":[1,{"o":null}],"p":true},"x":null,"y":"z"}"#;
        assert!(agree::<Value>(usual));
        assert!(agree::<RegisteredClaims>(usual));
        assert!(agree::<Typed>(usual));
        assert!(agree::<Typed>(br#"{"aud":"one","extra":[[{"deep":true}]]}"#));
        assert!(agree::<Typed>(br#" { } "#));
        assert!(!agree::<WithEnum>(br#"{"e":{"A":{"b":1}}}"#));
    }

    /// The struct and tuple shapes `serde_json` accepts, and the ones it refuses.
    #[test]
    fn follows_serde_json_on_structs_and_tuples() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Inner {
            a: u8,
            b: String,
        }
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Outer {
            s: Option<Inner>,
            t: Option<(u8,)>,
        }
        // A struct from an array of its fields, in order.
        assert!(agree::<Outer>(br#"{"s":[1,"x"],"t":[2]}"#));
        assert!(agree::<Outer>(br#"{"s":{"b":"x","a":1},"t":null}"#));
        // Elements left unread, a wrong type, an unknown field's bad value: never answered.
        for text in [
            r#"{"t":[1,2]}"#,
            r#"{"s":[1]}"#,
            r#"{"t":["1"]}"#,
            r#"{"s":{"a":1,"b":2}}"#,
            r#"{"s":{"a":1,"b":"x","c":[}}"#,
        ] {
            assert_eq!(deserialize::<Outer, _>(text.as_bytes(), 4, &mut ()), None, "{text}");
            assert!(serde_json::from_str::<Outer>(text).is_err(), "{text}");
        }
        // Skipping the whole document would hide its members from the capture.
        assert!(deserialize::<de::IgnoredAny, _>(br#"{"exp":"x"}"#, 4, &mut ()).is_none());
    }

    /// Escapes, fractions, `-0` and long integers are valid, but read by the two passes.
    #[test]
    fn escapes_and_fractions_are_left_to_the_two_passes() {
        for text in [
            r#"{"jti":"j\u0041"}"#,
            r#"{"\u0079":"z"}"#,
            r#"{"iss":"https:\/\/i"}"#,
            r#"{"p":1.5}"#,
            r#"{"p":-0}"#,
            r#"{"p":1e3}"#,
            r#"{"p":1234567890123456789}"#,
        ] {
            let required: Vec<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
            assert!(json::scan_object(text.as_bytes(), Part::Payload, 4, || ClaimFields::new(&required)).is_ok());
            assert!(!agree::<Value>(text.as_bytes()), "{text}");
            assert!(!agree::<RegisteredClaims>(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_two_passes() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"m":{"b":1,"b":1}}"#,
            r#"{"x":[{"b":1,"b":1}]}"#,
            r#"{"x":{"b":{"c":[[]]}}}"#,
            r#"{"m":{"b":{"c":[[]]}}}"#,
            r#"{"k":{"b":{"c":[[]]}}}"#,
            r#"[{"a":1}]"#,
            r#" {"a":1} x"#,
            r#"{"a":1e400}"#,
            r#"{"exp":1.5}"#,
            r#"{"exp":"1"}"#,
            r#"{"aud":[]}"#,
            r#"{"aud":[1]}"#,
        ] {
            let bytes = text.as_bytes();
            let required: Vec<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
            let two = json::scan_object(bytes, Part::Payload, 4, || ClaimFields::new(&required)).map(drop);
            if two.is_err() {
                assert!(deserialize::<Value, _>(bytes, 4, &mut ClaimFields::new(&required)).is_none(), "{text}");
                assert!(deserialize::<Typed, _>(bytes, 4, &mut ClaimFields::new(&required)).is_none(), "{text}");
            }
            agree_all(bytes);
        }
    }

    /// JSON values the one pass reads itself: strings without escapes, integers it takes,
    /// literals, and containers nested at most three deep.
    fn plain_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-999_999_999_999_999_999i64..=999_999_999_999_999_999)
                .prop_filter("-0", |n| *n != 0)
                .prop_map(Value::from),
            Just(Value::from(0)),
            "[a-z :/]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Valid claims of every shape, registered names included: the one pass answers for
        /// a `Value`, and agrees with the two passes for every type that accepts them.
        #[test]
        fn plain_documents_take_the_one_pass(
            members in proptest::collection::btree_map(
                proptest::sample::select(vec!["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "k", "m", "x"]),
                plain_value(),
                0..8,
            ),
            spaced in proptest::bool::ANY,
        ) {
            let document = Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
            let text = if spaced { serde_json::to_string_pretty(&document) } else { serde_json::to_string(&document) };
            let text = text.unwrap();
            proptest::prop_assert!(agree::<Value>(text.as_bytes()), "{}", text);
            agree::<RegisteredClaims>(text.as_bytes());
            agree::<Typed>(text.as_bytes());
        }

        /// Random documents over an alphabet that makes every branch likely.
        #[test]
        fn one_pass_agrees_with_two(parts in proptest::collection::vec(0usize..34, 0..40)) {
            const PIECES: [&str; 34] = [
                "{", "}", "[", "]", ",", ":", " ", "\"k\"", "\"a\"", "\"m\"", "\"\\u006b\"", "0", "-", "1",
                "12", ".5", "e3", "true", "false", "null", "\"s\"", "\"\\n\"", "\"é\"", "\"aud\"", "01",
                "\"", "18446744073709551616", "-0", "{\"k\":", "}", "\"exp\"", "\"iss\"", "\"e\"", "\"A\"",
            ];
            let text: String = parts.iter().map(|i| PIECES[*i]).collect();
            agree_all(text.as_bytes());
            agree_all(format!("{{\"k\":{text}}}").as_bytes());
            agree_all(format!("{{\"aud\":{text}}}").as_bytes());
            agree_all(format!("{{\"m\":{text},\"exp\":1}}").as_bytes());
        }
    }
}

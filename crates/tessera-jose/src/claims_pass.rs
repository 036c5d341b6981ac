//! The claims in one pass: the caller's type is deserialized while the strict rules
//! (duplicate names, depth) are checked and the registered claims are captured, instead of a
//! strict scan followed by a second parse into the caller's type.
//!
//! It works by wrapping `serde_json`'s deserializer: every map and sequence the caller's
//! type walks is checked, values it ignores are checked by the strict scan of `json.rs`, and
//! top-level members are shown to the capture as that scan would show them.
//!
//! This pass only ever answers "valid, and here is `T`" (then the strict scan would accept
//! the same input with the same captured members, and `serde_json::from_str` would build the
//! same `T`). On anything else (any error, a broken rule, or a construct it does not follow,
//! such as an enum's contents or a raw value) it answers `None`, and the caller runs the
//! two-pass path, so every rejection and its precedence stay exactly as that path decides.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

use crate::json::{self, Capture, NameSeed, Shape};
use crate::member_names::Names;

/// `serde_json`'s private name for `RawValue`, which hands the text over unchecked.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// Deserializes `bytes` into `T` while checking the strict rules within `max_depth` and
/// showing each top-level member to `capture`. `None` means "use the two-pass path"
/// (`capture` is then in an unknown state).
pub(crate) fn deserialize<'de, T: Deserialize<'de>, C: Capture<'de>>(
    bytes: &'de [u8],
    max_depth: usize,
    capture: &mut C,
) -> Option<T> {
    // A top level other than an object is for the strict scan to name.
    if bytes.iter().find(|b| !matches!(b, b' ' | b'\n' | b'\t' | b'\r')) != Some(&b'{') {
        return None;
    }
    // Validated once here (fast for ASCII), so that `serde_json` need not check each string.
    let text = std::str::from_utf8(bytes).ok()?;
    // By reference, so that the capture is not moved in and out (it is a few hundred bytes).
    let ctx = Ctx { unchecked: Cell::new(false), recorded: RefCell::new(None), capture: RefCell::new(capture) };
    let mut inner = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Checked { inner: &mut inner, ctx: &ctx, depth: max_depth, mode: Mode::Top }).ok()?;
    inner.end().ok()?;
    if ctx.unchecked.get() {
        return None;
    }
    Some(value)
}

/// What is recorded of the value being deserialized.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The document itself: its object's members go to the capture.
    Top,
    /// A kept top-level member: its [`Shape`] in full.
    Value,
    /// Another top-level member: only whether it is null.
    Presence,
    /// An element of a kept array: its string, or `None`.
    Element,
    /// Nothing.
    Off,
}

struct Ctx<'de, C> {
    /// Set when the pass met something it does not check; the answer is then `None`.
    unchecked: Cell<bool>,
    /// The shape of the top-level member being read.
    recorded: RefCell<Option<Shape<'de>>>,
    capture: RefCell<C>,
}

impl<'de, C> Ctx<'de, C> {
    fn record(&self, mode: Mode, shape: Shape<'de>) {
        match mode {
            Mode::Value => *self.recorded.borrow_mut() = Some(shape),
            Mode::Presence => {
                *self.recorded.borrow_mut() = Some(if shape == Shape::Null { Shape::Null } else { Shape::Other });
            }
            Mode::Element => match &mut *self.recorded.borrow_mut() {
                Some(Shape::Array(items)) => items.push(match shape {
                    Shape::Str(s) => Some(s),
                    _ => None,
                }),
                _ => self.unchecked.set(true),
            },
            Mode::Top => self.unchecked.set(true),
            Mode::Off => {}
        }
    }
}

/// A deserializer of one value, `depth` levels still allowed.
struct Checked<'s, 'de, D, C> {
    inner: D,
    ctx: &'s Ctx<'de, C>,
    depth: usize,
    mode: Mode,
}

impl<'s, 'de, D, C> Checked<'s, 'de, D, C> {
    fn split<V>(self, visitor: V) -> (D, Wrap<'s, 'de, V, C>) {
        (self.inner, Wrap { visitor, ctx: self.ctx, depth: self.depth, mode: self.mode })
    }
}

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            let (inner, wrap) = self.split(visitor);
            inner.$method(wrap)
        }
    )*};
}

impl<'de, D: Deserializer<'de>, C: Capture<'de>> Deserializer<'de> for Checked<'_, 'de, D, C> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq
        deserialize_map deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        let (inner, wrap) = self.split(visitor);
        inner.deserialize_unit_struct(name, wrap)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        if name == RAW_VALUE {
            self.ctx.unchecked.set(true);
        }
        let (inner, wrap) = self.split(visitor);
        inner.deserialize_newtype_struct(name, wrap)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        let (inner, wrap) = self.split(visitor);
        inner.deserialize_tuple(len, wrap)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let (inner, wrap) = self.split(visitor);
        inner.deserialize_tuple_struct(name, len, wrap)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let (inner, wrap) = self.split(visitor);
        inner.deserialize_struct(name, fields, wrap)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // An enum's contents are read through `serde_json`'s own access, unchecked here.
        self.ctx.unchecked.set(true);
        let (inner, wrap) = self.split(visitor);
        inner.deserialize_enum(name, variants, wrap)
    }
    /// A value the caller's type skips: checked (and kept, if asked) by the strict scan.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let keep = matches!(self.mode, Mode::Value | Mode::Element);
        let shape = json::check_value(self.inner, self.depth, keep)?;
        self.ctx.record(self.mode, shape);
        visitor.visit_unit()
    }
}

/// The caller's visitor, recording what it is shown and checking what it walks into.
struct Wrap<'s, 'de, V, C> {
    visitor: V,
    ctx: &'s Ctx<'de, C>,
    depth: usize,
    mode: Mode,
}

impl<'s, 'de, V, C> Wrap<'s, 'de, V, C> {
    fn record(&self, shape: Shape<'de>) {
        self.ctx.record(self.mode, shape);
    }

    /// Depth for the contents of a container, or an error when the limit is reached.
    fn nested<E: de::Error>(&self) -> Result<usize, E> {
        self.depth.checked_sub(1).ok_or_else(|| E::custom("nesting too deep"))
    }

    fn unchecked(&self) {
        self.ctx.unchecked.set(true);
    }
}

impl<'s, 'de, V: Visitor<'de>, C: Capture<'de>> Visitor<'de> for Wrap<'s, 'de, V, C> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.record(Shape::Bool(v));
        self.visitor.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.record(Shape::Int(v));
        self.visitor.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.record(Shape::UInt(v));
        self.visitor.visit_u64(v)
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        self.unchecked();
        self.visitor.visit_i128(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        self.unchecked();
        self.visitor.visit_u128(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        // The strict scan refuses non-finite numbers; leave those to it.
        if !v.is_finite() {
            self.unchecked();
        }
        self.record(Shape::Float(v));
        self.visitor.visit_f64(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        if matches!(self.mode, Mode::Value | Mode::Element) {
            self.record(Shape::Str(v.to_owned().into()));
        } else {
            self.record(Shape::Other);
        }
        self.visitor.visit_str(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.record(Shape::Str(v.into()));
        self.visitor.visit_borrowed_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        if matches!(self.mode, Mode::Value | Mode::Element) {
            self.record(Shape::Str(v.clone().into()));
        } else {
            self.record(Shape::Other);
        }
        self.visitor.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.unchecked();
        self.visitor.visit_bytes(v)
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.unchecked();
        self.visitor.visit_borrowed_bytes(v)
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.unchecked();
        self.visitor.visit_byte_buf(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.record(Shape::Null);
        self.visitor.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.record(Shape::Null);
        self.visitor.visit_unit()
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        let checked = Checked { inner: d, ctx: self.ctx, depth: self.depth, mode: self.mode };
        self.visitor.visit_some(checked)
    }
    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        let checked = Checked { inner: d, ctx: self.ctx, depth: self.depth, mode: self.mode };
        self.visitor.visit_newtype_struct(checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let depth = self.nested()?;
        let mode = match self.mode {
            Mode::Value => {
                *self.ctx.recorded.borrow_mut() = Some(Shape::Array(Vec::new()));
                Mode::Element
            }
            _ => {
                self.record(Shape::Other);
                Mode::Off
            }
        };
        self.visitor.visit_seq(Seq { inner: seq, ctx: self.ctx, depth, mode })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let depth = self.nested()?;
        let top = self.mode == Mode::Top;
        if !top {
            self.record(Shape::Object);
        }
        let access = Map { inner: map, ctx: self.ctx, depth, top, names: Names::new(), pending: None };
        self.visitor.visit_map(access)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.unchecked();
        self.visitor.visit_enum(data)
    }
}

/// A seed whose deserializer is wrapped in [`Checked`].
struct Seed<'s, 'de, S, C> {
    seed: S,
    ctx: &'s Ctx<'de, C>,
    depth: usize,
    mode: Mode,
}

impl<'de, S: DeserializeSeed<'de>, C: Capture<'de>> DeserializeSeed<'de> for Seed<'_, 'de, S, C> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Checked { inner, ctx: self.ctx, depth: self.depth, mode: self.mode })
    }
}

struct Seq<'s, 'de, A, C> {
    inner: A,
    ctx: &'s Ctx<'de, C>,
    depth: usize,
    mode: Mode,
}

impl<'de, A: SeqAccess<'de>, C: Capture<'de>> SeqAccess<'de> for Seq<'_, 'de, A, C> {
    type Error = A::Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, A::Error> {
        self.inner.next_element_seed(Seed { seed, ctx: self.ctx, depth: self.depth, mode: self.mode })
    }
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Map<'s, 'de, A, C> {
    inner: A,
    ctx: &'s Ctx<'de, C>,
    depth: usize,
    /// The document's own object, whose members go to the capture.
    top: bool,
    names: Names<'de>,
    /// The name whose value comes next, for the capture.
    pending: Option<std::borrow::Cow<'de, str>>,
}

impl<'de, A: MapAccess<'de>, C: Capture<'de>> MapAccess<'de> for Map<'_, 'de, A, C> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        use std::borrow::Cow;
        let Some(name) = self.inner.next_key_seed(NameSeed)? else {
            return Ok(None);
        };
        if !self.names.insert_new(name.clone()) {
            return Err(de::Error::custom("duplicate member"));
        }
        // The caller's type reads the name from a copy-free deserializer of the same text.
        let key = match &name {
            Cow::Borrowed(name) => seed.deserialize(BorrowedStrDeserializer::new(name))?,
            Cow::Owned(name) => seed.deserialize(StringDeserializer::new(name.clone()))?,
        };
        if self.top {
            self.pending = Some(name);
        }
        Ok(Some(key))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let (ctx, depth) = (self.ctx, self.depth);
        if !self.top {
            return self.inner.next_value_seed(Seed { seed, ctx, depth, mode: Mode::Off });
        }
        let Some(name) = self.pending.take() else {
            ctx.unchecked.set(true);
            return self.inner.next_value_seed(Seed { seed, ctx, depth, mode: Mode::Off });
        };
        let mode = {
            let capture = ctx.capture.borrow();
            if capture.keeps(&name) {
                Mode::Value
            } else if capture.ignores(&name) {
                // Nothing to record: only the strict rules apply to this member.
                return self.inner.next_value_seed(Seed { seed, ctx, depth, mode: Mode::Off });
            } else {
                Mode::Presence
            }
        };
        let value = self.inner.next_value_seed(Seed { seed, ctx, depth, mode })?;
        match ctx.recorded.borrow_mut().take() {
            Some(shape) => ctx.capture.borrow_mut().member(&name, shape),
            None => ctx.unchecked.set(true),
        }
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
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
        let usual = br#"{"iss":"https://i","sub":"s","aud":["a","b"],"exp":17,"nbf":-1,"iat":5,"jti":"j\u0041",
            "k":["x"],"m":{"n":[1,{"o":null}],"p":1.5},"x":null,"\u0079":"z"}"#;
        assert!(agree::<Value>(usual));
        assert!(agree::<RegisteredClaims>(usual));
        assert!(agree::<Typed>(usual));
        assert!(agree::<Typed>(br#"{"aud":"one","extra":[[{"deep":true}]]}"#));
        assert!(!agree::<WithEnum>(br#"{"e":{"A":{"b":1,"b":2}}}"#));
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

    proptest::proptest! {
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

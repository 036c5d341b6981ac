//! The differential check of tessera-jose's JSON fast paths against `serde_json`, shared by
//! the stable property test (`tests/json_differential.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/json_differential.rs`, which includes this file by path).
//!
//! The reference is `serde_json` alone plus the documented rules, written here without
//! tessera's code: the top level is an object, a member name appears once per object at any
//! depth (RFC 7515 §5.2, RFC 8725 §3.14), at most [`MAX_DEPTH`] containers are nested (the
//! top-level object counts one), then the registered claims of RFC 7519 §4.1 in the RFC's
//! order. [`check`] compares, for one payload:
//!
//! - (a) `parse_json_object` with the reference parse: the same map, or the same refusal;
//! - (a') `Validator::validate::<Value>` (the one-pass reader, or `json_fast` then `serde_json`)
//!   with the reference parse and the reference claim checks;
//! - (b) for each claims type `T`, `validate::<T>` (the one-pass typed deserializer) with
//!   `validate::<Value>` then `serde_json::from_value::<T>` (the two passes).
//!
//! Any difference panics with a message that names the check and shows the input.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Debug};
use std::sync::LazyLock;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tessera_jose::{Algorithm, Audience, Error, Jwk, KeySet, RegisteredClaims, SigningKey, Validator, VerifyingKey};

/// The documented nesting limit (`Validator`'s and `parse_json_object`'s default).
pub const MAX_DEPTH: usize = 16;
/// The validators' clock.
pub const NOW: i64 = 1_700_000_000;
/// The default leeway on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY: i64 = 60;
/// The last second of year 9999, the documented bound of a NumericDate.
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;
/// The claims the second validator requires (present and not null).
const REQUIRED: [&str; 2] = ["client_id", "m"];
/// A fixed HS256 key, so that any finding reproduces.
const HS256_JWK: &str = r#"{"kty":"oct","kid":"diff-hs256","k":"dGVzc2VyYS1kaWZmLWhzMjU2LXNlY3JldC0zMmJ5dGVz"}"#;

/// Why the reference refuses a payload, in kinds that tessera's errors map onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `serde_json` refuses it (syntax, UTF-8, number range, trailing bytes).
    Syntax,
    /// Valid JSON whose top level is not an object.
    NotAnObject,
    /// A member name repeated in one object.
    Duplicate(String),
    /// More than [`MAX_DEPTH`] nested containers.
    TooDeep,
    /// A registered claim of the wrong type or out of range.
    BadClaim(String),
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
    /// A required claim is absent or null.
    Missing(String),
    /// The claims do not fit the caller's type.
    Shape,
}

/// The kind of a tessera error on the payload, or `None` for one the payload cannot cause.
pub fn kind(error: &Error) -> Option<Refusal> {
    Some(match error {
        Error::InvalidJson { .. } => Refusal::Syntax,
        Error::NotAnObject(_) => Refusal::NotAnObject,
        Error::DuplicateMember { name, .. } => Refusal::Duplicate(name.clone()),
        Error::NestingTooDeep(_) => Refusal::TooDeep,
        Error::InvalidClaim { claim, .. } => Refusal::BadClaim(claim.clone()),
        Error::Expired => Refusal::Expired,
        Error::NotYetValid => Refusal::NotYetValid,
        Error::IssuedInFuture => Refusal::IssuedInFuture,
        Error::MissingClaim(name) => Refusal::Missing(name.clone()),
        Error::ClaimsShape(_) => Refusal::Shape,
        _ => return None,
    })
}

/// The reference strict parse: `serde_json` with a visitor that counts depth upwards and
/// keeps a set of names per object. The first rule broken stops the parse, as any parse
/// error does; the top-level check comes after the parse.
pub fn reference_parse(bytes: &[u8]) -> Result<Map<String, Value>, Refusal> {
    let broken = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Checked { level: 0, broken: &broken }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, broken.into_inner()) {
        (_, Some(rule)) => Err(rule),
        (Err(_), None) => Err(Refusal::Syntax),
        (Ok(Value::Object(map)), None) => Ok(map),
        (Ok(_), None) => Err(Refusal::NotAnObject),
    }
}

/// One value at `level` containers deep (the top-level value is at 0).
struct Checked<'a> {
    level: usize,
    broken: &'a RefCell<Option<Refusal>>,
}

impl Checked<'_> {
    /// Entering a container: it is number `level + 1` on the path from the top.
    fn enter<E: de::Error>(&self) -> Result<Checked<'_>, E> {
        if self.level + 1 > MAX_DEPTH {
            *self.broken.borrow_mut() = Some(Refusal::TooDeep);
            return Err(E::custom("too deep"));
        }
        Ok(Checked { level: self.level + 1, broken: self.broken })
    }
}

impl<'de> DeserializeSeed<'de> for Checked<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // `serde_json::Value` holds finite numbers only (its parser refuses the rest).
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Checked { ..inner })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut seen = HashSet::new();
        let mut members = Vec::new();
        while let Some(name) = access.next_key::<String>()? {
            if !seen.insert(name.clone()) {
                *self.broken.borrow_mut() = Some(Refusal::Duplicate(name));
                return Err(de::Error::custom("duplicate"));
            }
            members.push((name, access.next_value_seed(Checked { ..inner })?));
        }
        Ok(Value::Object(members.into_iter().collect()))
    }
}

/// RFC 7519 §4.1 as the validators below are configured (any issuer and audience, `exp`
/// optional, 60 s leeway, `required` present and not null), in the RFC's order.
pub fn reference_claims(claims: &Map<String, Value>, required: &[&str]) -> Result<(), Refusal> {
    let bad = |name: &str| Refusal::BadClaim(name.to_owned());
    let string = |name: &str| match claims.get(name) {
        None | Some(Value::String(_)) => Ok(()),
        Some(_) => Err(bad(name)),
    };
    // A NumericDate: an integer in 0..=MAX_NUMERIC_DATE; a fraction, `-0` included, is not.
    let date = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(seconds) if (0..=MAX_NUMERIC_DATE).contains(&seconds) => Ok(Some(seconds)),
            _ => Err(bad(name)),
        },
        Some(_) => Err(bad(name)),
    };
    string("iss")?;
    string("sub")?;
    match claims.get("aud") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {}
        Some(_) => return Err(bad("aud")),
    }
    if date("exp")?.is_some_and(|exp| NOW >= exp + LEEWAY) {
        return Err(Refusal::Expired);
    }
    if date("nbf")?.is_some_and(|nbf| NOW + LEEWAY < nbf) {
        return Err(Refusal::NotYetValid);
    }
    if date("iat")?.is_some_and(|iat| iat > NOW + LEEWAY) {
        return Err(Refusal::IssuedInFuture);
    }
    string("jti")?;
    match required.iter().find(|name| claims.get(**name).is_none_or(Value::is_null)) {
        Some(name) => Err(Refusal::Missing((*name).to_owned())),
        None => Ok(()),
    }
}

/// RFC 9068 access-token claims, with options and a list audience.
#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct AccessToken {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<Vec<String>>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub auth_time: Option<u64>,
    pub acr: Option<String>,
    pub amr: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub ver: Option<u8>,
    pub ratio: Option<f64>,
    pub admin: Option<bool>,
    pub cnf: Option<BTreeMap<String, String>>,
}

/// Refuses any member it does not name.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    pub sub: Option<String>,
    pub exp: Option<i64>,
    pub n: Option<i32>,
    pub flag: Option<bool>,
    pub list: Option<Vec<i64>>,
}

/// Array-shaped members: a tuple, a tuple struct, a struct that `serde_json` also reads
/// from an array of its fields, a unit, and an enum (which the one pass leaves alone).
#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Shapes {
    pub t: Option<(u8, String)>,
    pub p: Option<Point>,
    pub s: Option<Inner>,
    pub u: Option<()>,
    pub e: Option<Tagged>,
    pub aud: Option<Audience>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Point(pub i64, pub i64);

#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Inner {
    pub a: u8,
    pub b: String,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
pub enum Tagged {
    A { b: u8 },
    B,
}

struct Fixture {
    key: SigningKey,
    /// Relaxed: any issuer and audience, `exp` optional.
    relaxed: Validator,
    /// The same, also requiring [`REQUIRED`].
    requiring: Validator,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let jwk = Jwk::from_json(HS256_JWK.as_bytes()).expect("fixed JWK");
    let key = SigningKey::from_jwk(&jwk, None).expect("fixed key");
    let keys = KeySet::new(vec![VerifyingKey::from_jwk(&jwk).expect("fixed key")]).expect("one key");
    let builder = Validator::builder(keys)
        .algorithm(Algorithm::HS256)
        .accept_any_typ()
        .accept_any_issuer()
        .accept_any_audience()
        .allow_missing_exp();
    let requiring = REQUIRED.iter().fold(builder.clone(), |b, name| b.require_claim(*name));
    Fixture { key, relaxed: builder.build().expect("validator"), requiring: requiring.build().expect("validator") }
});

/// Runs every comparison on one payload; panics on the first difference.
pub fn check(payload: &[u8]) {
    let show = || String::from_utf8_lossy(payload).into_owned();
    let reference = reference_parse(payload);

    // (a) The public strict parse.
    let strict = tessera_jose::parse_json_object(payload).map_err(|e| kind(&e).unwrap_or_else(|| panic!("{e}")));
    assert_eq!(strict, reference, "(a) parse_json_object differs from the reference on {:?}", show());

    let token = FIXTURE.key.sign_compact(Map::new(), payload).expect("signing");
    // Past the 16 KiB token limit nothing reaches the JSON.
    if token.len() > tessera_jose::DEFAULT_MAX_TOKEN_SIZE {
        return;
    }
    for (validator, required) in [(&FIXTURE.relaxed, &[][..]), (&FIXTURE.requiring, &REQUIRED[..])] {
        // (a') The claims path as a `Value`, against the reference parse and claim checks.
        let as_value = validator.validate::<Value>(&token, NOW).map(|v| v.claims);
        let expected = reference.clone().and_then(|map| reference_claims(&map, required).map(|()| Value::Object(map)));
        let found = as_value.as_ref().map_err(|e| kind(e).unwrap_or_else(|| panic!("{e}")));
        assert_eq!(
            found,
            expected.as_ref().map_err(Clone::clone),
            "(a') validate::<Value> differs from the reference on {:?}",
            show()
        );

        // (b) The one-pass typed deserializer against the two passes.
        one_pass_agrees::<AccessToken>(validator, &token, &as_value, &show);
        one_pass_agrees::<RegisteredClaims>(validator, &token, &as_value, &show);
        one_pass_agrees::<Value>(validator, &token, &as_value, &show);
        one_pass_agrees::<Closed>(validator, &token, &as_value, &show);
        one_pass_agrees::<HashMap<String, Value>>(validator, &token, &as_value, &show);
        one_pass_agrees::<Shapes>(validator, &token, &as_value, &show);
    }
}

/// `validate::<T>` against `validate::<Value>` then `serde_json::from_value::<T>`: accepted
/// by both with equal claims, or refused by both for the same reason.
fn one_pass_agrees<T: DeserializeOwned + PartialEq + Debug>(
    validator: &Validator,
    token: &str,
    as_value: &Result<Value, Error>,
    show: &dyn Fn() -> String,
) {
    let typed = validator.validate::<T>(token, NOW).map(|v| v.claims);
    let name = std::any::type_name::<T>();
    match (typed, as_value) {
        (Ok(typed), Ok(value)) => {
            let two = serde_json::from_value::<T>(value.clone());
            assert_eq!(
                two.as_ref().ok(),
                Some(&typed),
                "(b) {name}: one pass accepted, two passes did not: {:?}",
                show()
            );
        }
        (Err(Error::ClaimsShape(_)), Ok(value)) => assert!(
            serde_json::from_value::<T>(value.clone()).is_err(),
            "(b) {name}: the one pass refused the shape, from_value accepted it: {:?}",
            show()
        ),
        (Err(typed), Err(error)) => {
            assert_eq!(&typed, error, "(b) {name}: refused for another reason than the Value path: {:?}", show());
        }
        (typed, value) => panic!("(b) {name}: {typed:?} where the Value path gave {value:?}: {:?}", show()),
    }
}

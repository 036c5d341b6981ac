//! The differential property of `fuzz/fuzz_targets/json_differential.rs` on stable Rust: the
//! JSON fast paths (`parse_json_object`, the claims path of `Validator::validate` and its
//! one-pass typed deserializer) give `serde_json`'s answer, or the same refusal, on generated
//! payloads. The comparisons themselves are in `json_reference/mod.rs`, shared with the fuzz
//! target.
#![allow(clippy::unwrap_used, missing_docs)]

mod json_reference;

use json_reference::{Refusal, check, reference_parse};
use proptest::prelude::*;
use serde_json::Value;

/// Member names that the claims types read, registered claims and a few others.
const NAMES: [&str; 22] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "m",
    "t",
    "p",
    "s",
    "u",
    "e",
    "n",
    "list",
    "cnf",
    "ver",
    "ratio",
    "admin",
    "flag",
];

/// Raw members, spliced in as text: escapes, fractions, `-0`, integers past 18 digits and
/// past `u64`, wrong claim types, duplicates inside, and nesting on both sides of the limit.
fn raw_member() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        r#""exp":1700000000"#,
        r#""exp":1699990000"#,
        r#""exp":1.7e9"#,
        r#""exp":-0"#,
        r#""exp":18446744073709551616"#,
        r#""nbf":1234567890123456789"#,
        r#""iat":9223372036854775807"#,
        r#""\u0065xp":5"#,
        r#""iss":null"#,
        r#""iss":"https:\/\/id.example""#,
        r#""sub":"caf\u00e9""#,
        r#""aud":[]"#,
        r#""aud":["a",1]"#,
        r#""aud":"api""#,
        r#""m":{"a":1,"a":2}"#,
        r#""m":{"a":1,"\u0061":2}"#,
        r#""m":[{"b":true,"b":false}]"#,
        r#""t":[7,"x"]"#,
        r#""t":[7,"x",1]"#,
        r#""p":[1,-2]"#,
        r#""s":[3,"b"]"#,
        r#""s":{"b":"y","a":3}"#,
        r#""e":{"A":{"b":1}}"#,
        r#""e":"B""#,
        r#""u":null"#,
        r#""ratio":0.25"#,
        r#""ver":256"#,
        r#""n":-2147483649"#,
        r#""list":[1,-1,0]"#,
        r#""client_id":"web""#,
        r#""flag":true"#,
        r#""x":1e400"#,
        r#""x":"\ud800""#,
        r#""x":"\u0000""#,
    ])
    .prop_map(str::to_owned);
    let nested = (12usize..20, any::<bool>()).prop_map(|(levels, objects)| {
        // `levels` containers under the top-level object, which counts one more.
        let (open, close) = if objects { (r#"{"d":"#, "}") } else { ("[", "]") };
        format!(r#""deep":{}1{}"#, open.repeat(levels), close.repeat(levels))
    });
    prop_oneof![4 => fixed, 1 => nested]
}

/// Any JSON value a few levels deep, under member names from `names`. Mostly what the one
/// pass reads itself (small integers, strings without escapes, literals), so that whole
/// documents stay on it; sometimes a long integer, a fraction or a string that needs escapes,
/// which sends the whole document to the two passes.
fn value(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        3 => any::<bool>().prop_map(Value::Bool),
        3 => (-1000i64..1000).prop_map(Value::from),
        2 => (0i64..MAX_DATE).prop_map(Value::from),
        3 => "[a-z:/ ]{0,8}".prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => (-1.0e12f64..1.0e12).prop_map(Value::from),
        1 => "[a-z/ é\"\\\\\n\u{1}]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(names), inner, 0..4)
                .prop_map(|members| Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Past the last second of year 9999 a NumericDate is refused.
const MAX_DATE: i64 = 253_402_300_800;

/// The members of the `deny_unknown_fields` type, so that some documents fit it.
const CLOSED: [&str; 5] = ["sub", "exp", "n", "flag", "list"];

/// A claims object: generated members, serialized, with raw members spliced in front.
fn document() -> impl Strategy<Value = String> {
    let names = prop_oneof![Just(&NAMES[..]), Just(&CLOSED[..])];
    let members =
        names.prop_flat_map(|names| prop::collection::btree_map(prop::sample::select(names), value(names), 0..8));
    (members, prop::collection::vec(raw_member(), 0..2), any::<bool>()).prop_map(|(members, raw, pretty)| {
        let object = Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let text = if pretty { serde_json::to_string_pretty(&object) } else { serde_json::to_string(&object) };
        let text = text.unwrap();
        if raw.is_empty() {
            return text;
        }
        let rest = text[1..].trim_start();
        let glue = if rest.starts_with('}') { "" } else { "," };
        format!("{{{}{glue}{rest}", raw.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Claims objects of every shape, valid or breaking one rule.
    #[test]
    fn fast_paths_agree_with_serde_json_on_claims_objects(text in document()) {
        check(text.as_bytes());
    }

    /// Objects wide enough that the duplicate check leaves its linear list of 16 names for a
    /// hash set, with a repeat (plain or escaped) at any position, at the top or nested.
    #[test]
    fn fast_paths_agree_with_serde_json_on_wide_objects(
        width in 1usize..40,
        repeat in prop::option::of((0usize..40, any::<bool>())),
        nested in any::<bool>(),
    ) {
        let mut members: Vec<String> = (0..width).map(|i| format!(r#""k{i}":{i}"#)).collect();
        if let Some((index, escaped)) = repeat {
            let name = format!("k{}", index % width);
            let name = if escaped { format!("\\u006b{}", &name[1..]) } else { name };
            members.insert((index * 7) % (width + 1), format!(r#""{name}":"again""#));
        }
        let object = format!("{{{}}}", members.join(","));
        let text = if nested { format!(r#"{{"m":{object},"client_id":"c","exp":1700000000}}"#) } else { object };
        check(text.as_bytes());
    }

    /// Text over an alphabet of JSON pieces and claim names: mostly invalid, every branch
    /// of the scanners likely.
    #[test]
    fn fast_paths_agree_with_serde_json_on_random_text(parts in prop::collection::vec(0usize..PIECES.len(), 0..40)) {
        let text: String = parts.iter().map(|i| PIECES[*i]).collect();
        check(text.as_bytes());
        check(format!("{{\"aud\":{text}}}").as_bytes());
        check(format!("{{\"s\":{text},\"exp\":1700000000}}").as_bytes());
    }
}

const PIECES: [&str; 38] = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\"iss\"",
    "\"aud\"",
    "\"exp\"",
    "\"m\"",
    "\"t\"",
    "\"s\"",
    "\"e\"",
    "\"A\"",
    "\"\\u0061\"",
    "\"a\"",
    "\"b\"",
    "0",
    "-",
    "1",
    "12",
    "1700000000",
    ".5",
    "e3",
    "true",
    "false",
    "null",
    "\"x\"",
    "\"\\n\"",
    "\"é\"",
    "01",
    "\"",
    "18446744073709551616",
    "-0",
    "{\"a\":",
    "\"client_id\"",
    "\n",
];

/// The reference itself: each rule, and the order of rules against syntax errors.
#[test]
fn the_reference_applies_the_documented_rules() {
    let parse = |text: &str| reference_parse(text.as_bytes()).map(|map| map.len());
    assert_eq!(parse(r#"{"a":[1,{"b":null}]}"#), Ok(1));
    assert_eq!(parse("[1]"), Err(Refusal::NotAnObject));
    assert_eq!(parse("{} x"), Err(Refusal::Syntax));
    assert_eq!(parse(r#"{"a":1,"\u0061":2}"#), Err(Refusal::Duplicate("a".into())));
    assert_eq!(parse(r#"[{"a":1,"a":2}]"#), Err(Refusal::Duplicate("a".into())));
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(parse(&format!(r#"{{"a":{}}}"#, nest(15))), Ok(1));
    assert_eq!(parse(&format!(r#"{{"a":{}}}"#, nest(16))), Err(Refusal::TooDeep));
    // The first rule broken wins; a syntax error before it hides it.
    assert_eq!(parse(&format!(r#"{{"a":1,"a":{}}}"#, nest(16))), Err(Refusal::Duplicate("a".into())));
    assert_eq!(parse(&format!(r#"{{"a":{},"a":1}}"#, nest(16))), Err(Refusal::TooDeep));
    assert_eq!(parse(r#"{"a":1,,"a":1}"#), Err(Refusal::Syntax));
}

/// The seeds of the fuzz target, so that they are checked on every test run too.
#[test]
fn fuzz_seeds_agree() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/json_differential");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        check(&std::fs::read(entry.unwrap().path()).unwrap());
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} seeds in {dir}");
}

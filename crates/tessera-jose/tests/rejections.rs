//! Every rule of the validator, each with a token that only that rule refuses: the tokens
//! are validly signed, so a test fails if its rule is removed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{AUD, ISS, NOW, builder, claims, key, key_set, sign_raw, validator};
use serde_json::{Value, json};
use tessera_jose::{
    Algorithm, Error, Jwk, KeySet, Part, RegisteredClaims, SigningKey, Validator, VerifyingKey, base64url,
};

type Outcome = Result<tessera_jose::Validated<Value>, Error>;

fn validate(alg: Algorithm, token: &str) -> Outcome {
    validator(alg).validate::<Value>(token, NOW)
}

fn header(alg: Algorithm, extra: Value) -> String {
    let mut header = json!({"alg": alg.name(), "typ": "at+jwt", "kid": key(alg).kid()});
    header.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    header.to_string()
}

fn token_with_header(alg: Algorithm, extra: Value) -> String {
    sign_raw(key(alg), &header(alg, extra), &claims().to_string())
}

fn token_with_claims(alg: Algorithm, claims: Value) -> String {
    key(alg).sign_jwt(Some("at+jwt"), &claims).unwrap()
}

fn with(changes: Value) -> Value {
    let mut all = claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            all.as_object_mut().unwrap().remove(name);
        } else {
            all[name] = value.clone();
        }
    }
    all
}

#[test]
fn a_valid_token_passes_every_rule() {
    for alg in Algorithm::ALL {
        let token = token_with_claims(alg, claims());
        let valid = validate(alg, &token).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(valid.claims["sub"], "user-42");
        assert_eq!(valid.key_id.as_deref(), Some(key(alg).kid()));
    }
}

#[test]
fn alg_none_in_any_spelling() {
    for none in ["none", "None", "NONE", "nOnE"] {
        let header = base64url::encode(format!(r#"{{"alg":"{none}","typ":"at+jwt"}}"#));
        let payload = base64url::encode(claims().to_string());
        for signature in ["", "c2ln"] {
            let token = format!("{header}.{payload}.{signature}");
            assert_eq!(validate(Algorithm::ES256, &token).unwrap_err(), Error::AlgNone, "{none} {signature:?}");
        }
    }
}

#[test]
fn algorithm_outside_the_allowlist() {
    let token = token_with_claims(Algorithm::RS256, claims());
    let only_pss = Validator::builder(key_set(Algorithm::RS256))
        .algorithm(Algorithm::PS256)
        .typ("at+jwt")
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap();
    assert_eq!(only_pss.validate::<Value>(&token, NOW).unwrap_err(), Error::AlgorithmNotAllowed(Algorithm::RS256));
    assert!(matches!(validate(Algorithm::RS256, "eyJhbGciOiJIUzEifQ.e30.c2ln"), Err(Error::UnknownAlgorithm(_))));
}

#[test]
fn public_key_used_as_hmac_secret() {
    // The classic confusion: HS256 keyed with the bytes of the server's RSA public key.
    let rsa = key(Algorithm::RS256);
    let pem = rsa.public_key_pem().unwrap();
    let forged_key = SigningKey::from_secret(Algorithm::HS256, pem.into_bytes()).unwrap().with_kid(rsa.kid());
    let forged = forged_key.sign_jwt(Some("at+jwt"), &claims()).unwrap();
    let lax = builder(Algorithm::RS256).algorithm(Algorithm::HS256).build().unwrap();
    assert!(matches!(
        lax.validate::<Value>(&forged, NOW).unwrap_err(),
        Error::KeyMismatch { alg: Algorithm::HS256, .. }
    ));
    // Without a kid, no key of the set may act as an HMAC secret at all.
    let no_kid = sign_raw(&forged_key, r#"{"alg":"HS256","typ":"at+jwt"}"#, &claims().to_string());
    assert_eq!(lax.validate::<Value>(&no_kid, NOW).unwrap_err(), Error::NoMatchingKey { kid: None });
}

#[test]
fn key_type_or_curve_that_does_not_fit() {
    let es384 = key(Algorithm::ES384);
    let keys = KeySet::new(vec![es384.verifying_key().clone()]).unwrap();
    let validator = Validator::builder(keys)
        .algorithms([Algorithm::ES256, Algorithm::RS256])
        .typ("at+jwt")
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap();
    for alg in [Algorithm::ES256, Algorithm::RS256] {
        let token = sign_raw(
            key(alg),
            &format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"{}"}}"#, es384.kid()),
            &claims().to_string(),
        );
        assert!(matches!(validator.validate::<Value>(&token, NOW).unwrap_err(), Error::KeyMismatch { .. }), "{alg}");
    }
    assert!(matches!(SigningKey::from_jwk(&es384.to_private_jwk(), Some(Algorithm::ES256)), Err(Error::Config(_))));
}

#[test]
fn key_carrying_headers_are_never_used() {
    let jwk = serde_json::to_value(key(Algorithm::ES256).public_jwk().unwrap()).unwrap();
    for (name, value) in [
        ("jwk", jwk),
        ("jku", json!("https://evil.example/jwks")),
        ("x5u", json!("https://evil.example/cert")),
        ("x5c", json!(["MIIB"])),
    ] {
        let token = token_with_header(Algorithm::ES256, json!({ name: value }));
        assert!(matches!(validate(Algorithm::ES256, &token).unwrap_err(), Error::ForbiddenHeader(n) if n == name));
    }
}

#[test]
fn unknown_crit_and_unencoded_payload() {
    let token = token_with_header(
        Algorithm::ES256,
        json!({"crit": ["urn:example:must-understand"], "urn:example:must-understand": 1}),
    );
    assert_eq!(
        validate(Algorithm::ES256, &token).unwrap_err(),
        Error::UnsupportedCritical("urn:example:must-understand".into())
    );
    let token = token_with_header(Algorithm::ES256, json!({"b64": false, "crit": ["b64"]}));
    assert_eq!(validate(Algorithm::ES256, &token).unwrap_err(), Error::UnencodedPayload);
    let token = token_with_header(Algorithm::ES256, json!({"crit": "b64"}));
    assert!(matches!(validate(Algorithm::ES256, &token).unwrap_err(), Error::InvalidHeader { name: "crit", .. }));
}

#[test]
fn duplicate_member_names() {
    let alg = Algorithm::ES256;
    let kid = key(alg).kid();
    let token = sign_raw(
        key(alg),
        &format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"at+jwt","alg":"ES256"}}"#),
        &claims().to_string(),
    );
    assert_eq!(validate(alg, &token).unwrap_err(), Error::DuplicateMember { part: Part::Header, name: "alg".into() });
    let payload = claims().to_string().replacen('{', r#"{"sub":"admin","#, 1);
    let token = sign_raw(key(alg), &header(alg, json!({})), &payload);
    assert_eq!(validate(alg, &token).unwrap_err(), Error::DuplicateMember { part: Part::Payload, name: "sub".into() });
}

/// Thousands of members in one object: checked for duplicates in linear time, not quadratic
/// (no timing assertion: the test only has to finish), accepted when distinct, refused when
/// one name comes back at the end.
#[test]
fn objects_with_thousands_of_members() {
    let alg = Algorithm::HS256;
    // Two-character names (62² of them), to fit as many members as possible in a token.
    let name = |i: usize| {
        let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        String::from_utf8(vec![alphabet[i / 62], alphabet[i % 62]]).unwrap()
    };
    let member = |i: usize| format!("\"{}\":0", name(i));
    let with_members = |count: usize, repeat: Option<usize>| {
        let mut all = with(json!({})).to_string();
        all.pop();
        for i in (0..count).chain(repeat) {
            all.push(',');
            all.push_str(&member(i));
        }
        all.push('}');
        sign_raw(key(alg), &header(alg, json!({})), &all)
    };
    // As many as fit under the default 16 KiB limit...
    let fitting = (1000..3844).rev().find(|&n| with_members(n, Some(0)).len() <= 16 * 1024).unwrap();
    assert!(fitting > 1700, "{fitting}");
    let valid = validate(alg, &with_members(fitting, None)).unwrap();
    assert_eq!(valid.claims.as_object().unwrap().len(), claims().as_object().unwrap().len() + fitting);
    assert_eq!(
        validate(alg, &with_members(fitting, Some(0))).unwrap_err(),
        Error::DuplicateMember { part: Part::Payload, name: name(0) }
    );
    // ...and 3000 under a raised limit; the header goes through the same check.
    let roomy = builder(alg).max_token_size(64 * 1024).build().unwrap();
    roomy.validate::<Value>(&with_members(3000, None), NOW).unwrap();
    assert_eq!(
        roomy.validate::<Value>(&with_members(3000, Some(2999)), NOW).unwrap_err(),
        Error::DuplicateMember { part: Part::Payload, name: name(2999) }
    );
    let members: Vec<String> = (0..3000).map(member).collect();
    let big_header = header(alg, serde_json::from_str(&format!("{{{}}}", members.join(","))).unwrap());
    let token = sign_raw(key(alg), &format!("{},{}}}", &big_header[..big_header.len() - 1], member(1)), "{}");
    assert_eq!(
        roomy.validate::<Value>(&token, NOW).unwrap_err(),
        Error::DuplicateMember { part: Part::Header, name: name(1) }
    );
}

#[test]
fn non_canonical_base64url() {
    let token = token_with_claims(Algorithm::ES256, claims());
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let padded_header = format!("{header}=.{payload}.{signature}");
    assert!(matches!(
        validate(Algorithm::ES256, &padded_header).unwrap_err(),
        Error::InvalidBase64(_) | Error::Malformed(_)
    ));
    let standard_alphabet = format!("{header}.{payload}.{}", signature.replace(['-', '_'], "+"));
    if standard_alphabet != token {
        assert_eq!(validate(Algorithm::ES256, &standard_alphabet).unwrap_err(), Error::InvalidBase64(Part::Signature));
    }
    // Flip the unused low bits of the last signature character: same bytes, other text.
    // A 64-byte signature leaves 2 unused bits in its 86th character.
    let last = signature.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    let sibling = alphabet.chars().nth(index ^ 1).unwrap();
    let trailing = format!("{header}.{payload}.{}{sibling}", &signature[..signature.len() - 1]);
    assert_eq!(validate(Algorithm::ES256, &trailing).unwrap_err(), Error::InvalidBase64(Part::Signature));
    let with_space = format!("{header}.{payload} .{signature}");
    assert_eq!(validate(Algorithm::ES256, &with_space).unwrap_err(), Error::InvalidBase64(Part::Payload));
}

#[test]
fn json_that_is_not_an_object_too_deep_or_too_large() {
    let alg = Algorithm::ES256;
    let token = sign_raw(key(alg), &header(alg, json!({})), "[1,2]");
    assert_eq!(validate(alg, &token).unwrap_err(), Error::NotAnObject(Part::Payload));
    let token = sign_raw(key(alg), "\"ES256\"", &claims().to_string());
    assert_eq!(validate(alg, &token).unwrap_err(), Error::NotAnObject(Part::Header));
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let token = token_with_claims(alg, with(json!({ "deep": serde_json::from_str::<Value>(&deep).unwrap() })));
    assert_eq!(validate(alg, &token).unwrap_err(), Error::NestingTooDeep(Part::Payload));
    let token = token_with_claims(alg, with(json!({ "padding": "x".repeat(20_000) })));
    assert!(matches!(validate(alg, &token).unwrap_err(), Error::TokenTooLarge { limit: 16_384, .. }));
    let token = sign_raw(key(alg), &header(alg, json!({})), "{\"sub\":");
    assert!(matches!(validate(alg, &token).unwrap_err(), Error::InvalidJson { part: Part::Payload, .. }));
}

#[test]
fn time_claims_must_be_integers_in_range() {
    let alg = Algorithm::EdDSA;
    for (claim, value) in [
        ("exp", json!("1750000900")),
        ("exp", json!(1_750_000_900.5)),
        ("exp", json!(-1)),
        ("exp", json!(1e20)),
        ("exp", json!(u64::MAX)),
        ("nbf", json!("0")),
        ("iat", json!(true)),
        ("iat", json!(null)),
    ] {
        let mut claims = claims();
        claims[claim] = value.clone();
        let token = token_with_claims(alg, claims);
        assert!(
            matches!(validate(alg, &token).unwrap_err(), Error::InvalidClaim { claim: c, .. } if c == claim),
            "{claim} = {value}"
        );
    }
}

#[test]
fn ecdsa_signatures_with_r_or_s_out_of_range() {
    for alg in [Algorithm::ES256, Algorithm::ES384] {
        let token = token_with_claims(alg, claims());
        let (input, signature) = token.rsplit_once('.').unwrap();
        let size = base64url::decode(signature).unwrap().len();
        let order_bytes = |fill: u8| vec![fill; size / 2];
        for (r, s) in
            [(order_bytes(0), order_bytes(1)), (order_bytes(1), order_bytes(0)), (order_bytes(0xff), order_bytes(1))]
        {
            let forged = format!("{input}.{}", base64url::encode([r, s].concat()));
            assert_eq!(validate(alg, &forged).unwrap_err(), Error::SignatureOutOfRange, "{alg}");
        }
        let short = format!("{input}.{}", base64url::encode(vec![1u8; size - 1]));
        assert_eq!(validate(alg, &short).unwrap_err(), Error::SignatureOutOfRange);
    }
}

#[test]
fn rsa_keys_under_2048_bits() {
    let jwk = key(Algorithm::RS256).public_jwk().unwrap();
    let n = base64url::decode(jwk.n.as_deref().unwrap()).unwrap();
    let small = Jwk { n: Some(base64url::encode(&n[..128])), kid: None, ..jwk };
    assert_eq!(VerifyingKey::from_jwk(&small).unwrap_err(), Error::WeakKey("RSA modulus under 2048 bits"));
}

#[test]
fn key_selection_by_kid_and_bounded_without() {
    let alg = Algorithm::ES256;
    let keys: Vec<SigningKey> = (0..5).map(|_| SigningKey::generate(alg).unwrap()).collect();
    let set = KeySet::new(keys.iter().map(|k| k.verifying_key().clone()).collect()).unwrap();
    let build = |attempts| {
        Validator::builder(set.clone())
            .algorithm(alg)
            .typ("at+jwt")
            .issuer(ISS)
            .audience(AUD)
            .max_key_attempts(attempts)
            .build()
            .unwrap()
    };
    let last = &keys[4];
    // By kid: the right key among five.
    build(1).validate::<Value>(&last.sign_jwt(Some("at+jwt"), &claims()).unwrap(), NOW).unwrap();
    // Unknown kid.
    let stranger = SigningKey::generate(alg).unwrap().sign_jwt(Some("at+jwt"), &claims()).unwrap();
    assert!(matches!(build(5).validate::<Value>(&stranger, NOW).unwrap_err(), Error::NoMatchingKey { kid: Some(_) }));
    // Without kid: found within the bound, not beyond it.
    let no_kid = sign_raw(last, r#"{"alg":"ES256","typ":"at+jwt"}"#, &claims().to_string());
    build(5).validate::<Value>(&no_kid, NOW).unwrap();
    assert_eq!(build(3).validate::<Value>(&no_kid, NOW).unwrap_err(), Error::InvalidSignature);
}

#[test]
fn key_sets_must_be_unambiguous() {
    let a = key(Algorithm::ES256).verifying_key().clone();
    let b =
        SigningKey::generate(Algorithm::ES256).unwrap().with_kid(key(Algorithm::ES256).kid()).verifying_key().clone();
    assert!(matches!(KeySet::new(vec![a.clone(), b]), Err(Error::InvalidKeySet(_))));
    let secret = key(Algorithm::HS256).verifying_key().clone();
    assert!(matches!(KeySet::new(vec![a, secret]), Err(Error::InvalidKeySet(_))));
}

#[test]
fn key_use_and_key_ops_limit_verification() {
    let alg = Algorithm::ES256;
    let token = token_with_claims(alg, claims());
    for (key_use, key_ops) in [(Some("enc"), None), (None, Some(vec!["sign".to_owned()]))] {
        let jwk =
            Jwk { key_use: key_use.map(str::to_owned), key_ops: key_ops.clone(), ..key(alg).public_jwk().unwrap() };
        let keys = KeySet::new(vec![VerifyingKey::from_jwk(&jwk).unwrap()]).unwrap();
        let validator =
            Validator::builder(keys).algorithm(alg).typ("at+jwt").issuer(ISS).audience(AUD).build().unwrap();
        assert!(matches!(validator.validate::<Value>(&token, NOW).unwrap_err(), Error::KeyUseForbidden { .. }));
    }
}

#[test]
fn typ_is_required_and_compared_as_a_media_type() {
    let alg = Algorithm::ES256;
    let id_token = key(alg).sign_jwt(Some("JWT"), &claims()).unwrap();
    assert!(matches!(validate(alg, &id_token).unwrap_err(), Error::WrongType { found: Some(t), .. } if t == "JWT"));
    let untyped = key(alg).sign_jwt(None, &claims()).unwrap();
    assert!(matches!(validate(alg, &untyped).unwrap_err(), Error::WrongType { found: None, .. }));
    let long_form = key(alg).sign_jwt(Some("application/AT+JWT"), &claims()).unwrap();
    validate(alg, &long_form).unwrap();
    let jwt_validator = Validator::builder(common::key_set(alg))
        .algorithm(alg)
        .typ_jwt_or_absent()
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap();
    jwt_validator.validate::<Value>(&id_token, NOW).unwrap();
    jwt_validator.validate::<Value>(&untyped, NOW).unwrap();
    assert!(jwt_validator.validate::<Value>(&long_form, NOW).is_err());
}

#[test]
fn issuer_and_audience() {
    let alg = Algorithm::ES256;
    assert_eq!(
        validate(alg, &token_with_claims(alg, with(json!({"iss": "https://evil.example"})))).unwrap_err(),
        Error::InvalidIssuer
    );
    assert_eq!(
        validate(alg, &token_with_claims(alg, with(json!({"iss": null})))).unwrap_err(),
        Error::MissingClaim("iss".into())
    );
    assert_eq!(
        validate(alg, &token_with_claims(alg, with(json!({"aud": "api://billing"})))).unwrap_err(),
        Error::InvalidAudience
    );
    assert_eq!(
        validate(alg, &token_with_claims(alg, with(json!({"aud": null})))).unwrap_err(),
        Error::MissingClaim("aud".into())
    );
    validate(alg, &token_with_claims(alg, with(json!({"aud": ["api://billing", AUD]})))).unwrap();
    assert!(matches!(
        validate(alg, &token_with_claims(alg, with(json!({"aud": []})))).unwrap_err(),
        Error::InvalidClaim { .. }
    ));
    assert!(matches!(
        validate(alg, &token_with_claims(alg, with(json!({"aud": [AUD, 7]})))).unwrap_err(),
        Error::InvalidClaim { .. }
    ));
    assert!(matches!(
        validate(alg, &token_with_claims(alg, with(json!({"sub": 42})))).unwrap_err(),
        Error::InvalidClaim { .. }
    ));
}

#[test]
fn exp_nbf_iat_with_leeway() {
    let alg = Algorithm::ES256;
    let at = |changes: Value, now: i64| validator(alg).validate::<Value>(&token_with_claims(alg, with(changes)), now);
    assert_eq!(at(json!({"exp": null}), NOW).unwrap_err(), Error::MissingClaim("exp".into()));
    let lenient = builder(alg).allow_missing_exp().build().unwrap();
    lenient.validate::<Value>(&token_with_claims(alg, with(json!({"exp": null}))), NOW).unwrap();
    // Expired once now >= exp + leeway (60 s by default).
    at(json!({"exp": NOW - 59}), NOW).unwrap();
    assert_eq!(at(json!({"exp": NOW - 60}), NOW).unwrap_err(), Error::Expired);
    assert_eq!(at(json!({"nbf": NOW + 61}), NOW).unwrap_err(), Error::NotYetValid);
    at(json!({"nbf": NOW + 60}), NOW).unwrap();
    assert_eq!(at(json!({"iat": NOW + 61}), NOW).unwrap_err(), Error::IssuedInFuture);
    let strict = builder(alg).leeway(Duration::ZERO).max_age(Duration::from_secs(300)).build().unwrap();
    assert_eq!(
        strict.validate::<Value>(&token_with_claims(alg, with(json!({"exp": NOW}))), NOW).unwrap_err(),
        Error::Expired
    );
    assert_eq!(
        strict.validate::<Value>(&token_with_claims(alg, with(json!({"iat": NOW - 301}))), NOW).unwrap_err(),
        Error::TooOld
    );
}

#[test]
fn required_claims_and_typed_claims() {
    let alg = Algorithm::ES256;
    let needs_sid = builder(alg).require_claim("sid").build().unwrap();
    assert_eq!(
        needs_sid.validate::<Value>(&token_with_claims(alg, claims()), NOW).unwrap_err(),
        Error::MissingClaim("sid".into())
    );
    needs_sid.validate::<Value>(&token_with_claims(alg, with(json!({"sid": "s1"}))), NOW).unwrap();
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Needs {
        tenant: u32,
    }
    assert!(matches!(
        validator(alg).validate::<Needs>(&token_with_claims(alg, claims()), NOW),
        Err(Error::ClaimsShape(_))
    ));
    let typed = validator(alg).validate::<RegisteredClaims>(&token_with_claims(alg, claims()), NOW).unwrap();
    assert_eq!(typed.claims.extra["scope"], "orders:read");
}

#[test]
fn the_builder_refuses_to_guess() {
    let keys = key_set(Algorithm::ES256);
    let base = || Validator::builder(keys.clone());
    assert!(matches!(base().typ("at+jwt").issuer(ISS).audience(AUD).build(), Err(Error::Config(_))), "no algorithm");
    assert!(
        matches!(base().algorithm(Algorithm::ES256).issuer(ISS).audience(AUD).build(), Err(Error::Config(_))),
        "no typ"
    );
    assert!(
        matches!(base().algorithm(Algorithm::ES256).typ("at+jwt").audience(AUD).build(), Err(Error::Config(_))),
        "no issuer"
    );
    assert!(
        matches!(base().algorithm(Algorithm::ES256).typ("at+jwt").issuer(ISS).build(), Err(Error::Config(_))),
        "no audience"
    );
}

#[test]
fn structure_errors_are_named() {
    for (token, expected) in [
        ("", Error::Malformed("empty token")),
        ("a.b", Error::Malformed("a compact JWS has exactly three dot-separated parts")),
        ("abc", Error::Malformed("a compact JWS has exactly three dot-separated parts")),
        ("a.b.c.d", Error::Malformed("a compact JWS has exactly three dot-separated parts")),
        ("a.b.c.d.e", Error::Malformed("encrypted tokens (JWE) are not accepted")),
        ("a.b.c.d.e.f", Error::Malformed("a compact JWS has exactly three dot-separated parts")),
        ("..", Error::Malformed("the header is empty")),
        (".b.c", Error::Malformed("the header is empty")),
        ("{\"payload\":\"\"}", Error::Malformed("JSON serialization is not accepted, only compact")),
    ] {
        assert_eq!(validate(Algorithm::ES256, token).unwrap_err(), expected, "{token:?}");
    }
}

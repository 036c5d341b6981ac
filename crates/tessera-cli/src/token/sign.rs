//! `tessera token sign`: claims, plus `iat`, `exp` and the flags' claims, signed into a JWT.

use std::path::PathBuf;
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use clap::Args;
use serde_json::{Map, Value};
use tessera_jose::Algorithm;

use super::{Failure, Output, input, key_file, times};

/// Lifetime of a token when neither --exp nor --no-exp is given (SPEC: access tokens, 900 s).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Arguments of `tessera token sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key: a JWK (as `tessera token keygen` writes) or a PKCS#8 PEM file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Claims as a JSON object: inline, @FILE, or - for standard input.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    claims: String,
    /// Lifetime: exp = now + DURATION (15m, 1h, 7d). Default 15m, unless --claims has exp.
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    exp: Option<Duration>,
    /// No exp claim: a token that never expires.
    #[arg(long, conflicts_with = "exp")]
    no_exp: bool,
    /// Not before: nbf = now + DURATION.
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    nbf: Option<Duration>,
    /// The typ header (for instance at+jwt).
    #[arg(long, default_value = "JWT")]
    typ: String,
    /// Issuer (iss).
    #[arg(long)]
    iss: Option<String>,
    /// Audience (aud); repeat for several.
    #[arg(long)]
    aud: Vec<String>,
    /// Subject (sub).
    #[arg(long)]
    sub: Option<String>,
    /// Add a random jti (128 bits).
    #[arg(long)]
    jti: bool,
    /// Algorithm, when the key allows several (an RSA PEM key: RS256 by default, or PS256…).
    #[arg(long, value_parser = super::parse_algorithm)]
    alg: Option<Algorithm>,
}

/// Signs the claims and prints the token.
pub fn run(args: &SignArgs, now: i64) -> Result<Output, Failure> {
    let key = key_file::signing_key(&args.key, args.alg)?;
    let base = parse_claims(&input::inline_file_or_stdin(&args.claims, "the claims")?)?;
    let jti = if args.jti { Some(random_jti()?) } else { None };
    let claims = complete_claims(args, base, now, jti)?;
    let token =
        key.sign_jwt(Some(&args.typ), &claims).map_err(|error| Failure::usage(format!("cannot sign: {error}")))?;
    let output = Output::stdout(token);
    Ok(if claims.contains_key("exp") { output } else { output.warn("the token has no exp: it never expires") })
}

/// Parses --claims with the same strict rules as a token's payload (no duplicate members).
fn parse_claims(text: &str) -> Result<Map<String, Value>, Failure> {
    tessera_jose::parse_json_object(text.as_bytes()).map_err(|error| {
        Failure::usage(match error {
            tessera_jose::Error::NotAnObject(_) => "--claims must be a JSON object".into(),
            tessera_jose::Error::InvalidJson { reason, .. } => format!("--claims is not valid JSON: {reason}"),
            tessera_jose::Error::DuplicateMember { name, .. } => format!("--claims has the member {name:?} twice"),
            other => format!("--claims: {other}"),
        })
    })
}

/// Adds `iat` and the default `exp` where --claims has none; flags always win.
fn complete_claims(
    args: &SignArgs,
    mut claims: Map<String, Value>,
    now: i64,
    jti: Option<String>,
) -> Result<Map<String, Value>, Failure> {
    claims.entry("iat").or_insert(now.into());
    match (args.exp, args.no_exp) {
        (Some(lifetime), _) => {
            claims.insert("exp".into(), times::after(now, lifetime, "--exp")?.into());
        }
        (None, true) if claims.contains_key("exp") => {
            return Err(Failure::usage("--no-exp, but --claims has an exp"));
        }
        (None, true) => {}
        (None, false) => {
            if !claims.contains_key("exp") {
                claims.insert("exp".into(), times::after(now, DEFAULT_LIFETIME, "--exp")?.into());
            }
        }
    }
    if let Some(delay) = args.nbf {
        claims.insert("nbf".into(), times::after(now, delay, "--nbf")?.into());
    }
    if let Some(iss) = &args.iss {
        claims.insert("iss".into(), iss.clone().into());
    }
    if let Some(sub) = &args.sub {
        claims.insert("sub".into(), sub.clone().into());
    }
    match args.aud.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".into(), one.clone().into());
        }
        many => {
            claims.insert("aud".into(), many.to_vec().into());
        }
    }
    if let Some(jti) = jti {
        claims.insert("jti".into(), jti.into());
    }
    Ok(claims)
}

fn random_jti() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).map_err(|_| Failure::usage("the system random generator failed"))?;
    Ok(tessera_jose::base64url::encode(bytes))
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        args: SignArgs,
    }

    fn claims(flags: &[&str], base: Value) -> Result<Value, Failure> {
        let argv = ["sign", "--key", "k.jwk"].iter().chain(flags);
        let args = Harness::try_parse_from(argv).unwrap().args;
        let Value::Object(base) = base else { unreachable!() };
        complete_claims(&args, base, 1_000, Some("j".into())).map(Value::Object)
    }

    #[test]
    fn defaults_add_iat_and_a_fifteen_minute_exp() {
        assert_eq!(claims(&[], json!({"a": 1})).unwrap(), json!({"a": 1, "iat": 1_000, "exp": 1_900, "jti": "j"}));
    }

    #[test]
    fn claims_keep_their_times_unless_a_flag_sets_them() {
        let base = json!({"iat": 5, "exp": 7});
        assert_eq!(claims(&[], base.clone()).unwrap(), json!({"iat": 5, "exp": 7, "jti": "j"}));
        assert_eq!(claims(&["--exp", "1h"], base.clone()).unwrap()["exp"], 4_600);
        assert!(claims(&["--no-exp"], base).is_err());
    }

    #[test]
    fn flags_set_registered_claims() {
        let flags = ["--iss", "I", "--sub", "S", "--aud", "A", "--aud", "B", "--nbf", "1m", "--no-exp"];
        assert_eq!(
            claims(&flags, json!({"sub": "old"})).unwrap(),
            json!({"iss": "I", "sub": "S", "aud": ["A", "B"], "nbf": 1_060, "iat": 1_000, "jti": "j"})
        );
        assert_eq!(claims(&["--aud", "A"], json!({})).unwrap()["aud"], "A");
    }

    #[test]
    fn claims_must_be_a_strict_json_object() {
        assert!(parse_claims("[1]").is_err());
        assert!(parse_claims("{\"a\":1,\"a\":2}").is_err());
        assert!(parse_claims("{").is_err());
        assert!(parse_claims("{\"a\":1}").is_ok());
    }
}

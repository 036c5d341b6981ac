//! `tessera token verify`: the full tessera-jose validation against a JWK Set file or URL.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use serde_json::Value;
use tessera_jose::{Algorithm, KeySet, Validator};

use super::{Failure, Output, input, jwks_url, key_file};

/// Arguments of `tessera token verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The token, or - to read it from standard input.
    token: String,
    /// The keys: a JWK Set, one JWK or a SPKI PEM file, or an http(s) URL of a JWK Set.
    #[arg(long, value_name = "FILE|URL")]
    jwks: String,
    /// Accepted issuer (iss); repeat for several. Without it, iss is not checked.
    #[arg(long = "iss", value_name = "ISSUER")]
    issuers: Vec<String>,
    /// Accepted audience (aud); repeat for several. Without it, aud is not checked.
    #[arg(long = "aud", value_name = "AUDIENCE")]
    audiences: Vec<String>,
    /// Allowed algorithm; repeat for several. Default: every algorithm the keys can verify.
    #[arg(long = "alg", value_name = "ALG", value_parser = super::parse_algorithm)]
    algorithms: Vec<Algorithm>,
    /// Required typ header (for instance at+jwt). Without it, typ is not checked.
    #[arg(long)]
    typ: Option<String>,
    /// Clock skew allowed on exp, nbf and iat.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = super::parse_duration)]
    leeway: Duration,
    /// Accept a token without exp.
    #[arg(long)]
    allow_missing_exp: bool,
}

/// Validates the token; prints its claims when it is valid.
pub fn run(args: &VerifyArgs, now: i64) -> Result<Output, Failure> {
    let token = input::token(&args.token)?;
    let (keys, mut warnings) = load_keys(&args.jwks)?;
    let (validator, unchecked) = validator(args, keys)?;
    let valid = validator.validate::<Value>(&token, now).map_err(Failure::Invalid)?;
    if !unchecked.is_empty() {
        warnings.push(format!("not checked: {} (use {} to check)", unchecked.join(", "), flags_for(&unchecked)));
    }
    let claims = serde_json::to_string_pretty(&valid.claims).unwrap_or_default();
    Ok(warnings.into_iter().fold(Output::stdout(claims), Output::warn))
}

/// The validator for these flags, and the names of the checks left out.
fn validator(args: &VerifyArgs, keys: KeySet) -> Result<(Validator, Vec<&'static str>), Failure> {
    let algorithms = if args.algorithms.is_empty() { usable_algorithms(&keys) } else { args.algorithms.clone() };
    if algorithms.is_empty() {
        return Err(Failure::usage(format!("no key from {} can verify any algorithm", args.jwks)));
    }
    let mut unchecked = Vec::new();
    let mut builder = Validator::builder(keys).algorithms(algorithms).leeway(args.leeway);
    builder = match &args.typ {
        Some(typ) => builder.typ(typ.clone()),
        None => {
            unchecked.push("token type (typ)");
            builder.accept_any_typ()
        }
    };
    if args.issuers.is_empty() {
        unchecked.push("issuer (iss)");
        builder = builder.accept_any_issuer();
    }
    for issuer in &args.issuers {
        builder = builder.issuer(issuer.clone());
    }
    if args.audiences.is_empty() {
        unchecked.push("audience (aud)");
        builder = builder.accept_any_audience();
    }
    for audience in &args.audiences {
        builder = builder.audience(audience.clone());
    }
    if args.allow_missing_exp {
        builder = builder.allow_missing_exp();
    }
    let validator = builder.build().map_err(|error| Failure::usage(error.to_string()))?;
    Ok((validator, unchecked))
}

/// Every algorithm some key in the set may verify (never `none`: it is not an Algorithm).
fn usable_algorithms(keys: &KeySet) -> Vec<Algorithm> {
    Algorithm::ALL.into_iter().filter(|alg| keys.keys().iter().any(|key| key.check_usable(*alg).is_ok())).collect()
}

fn flags_for(unchecked: &[&str]) -> String {
    let flags: Vec<&str> = unchecked
        .iter()
        .map(|check| match *check {
            "issuer (iss)" => "--iss",
            "audience (aud)" => "--aud",
            _ => "--typ",
        })
        .collect();
    flags.join(", ")
}

/// The key set from a URL or a file, and a warning if it came over plain HTTP.
fn load_keys(source: &str) -> Result<(KeySet, Vec<String>), Failure> {
    if !jwks_url::is_url(source) {
        let bytes = input::file(Path::new(source), "the keys")?;
        return Ok((key_file::verifying_keys(&bytes, source)?, Vec::new()));
    }
    let mut warnings = Vec::new();
    if !source.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")) {
        warnings.push(format!("{source} is plain HTTP: anyone on the path could have replaced the keys"));
    }
    let bytes = jwks_url::fetch(source)?;
    Ok((key_file::verifying_keys(&bytes, source)?, warnings))
}

#[cfg(test)]
mod tests {
    use tessera_jose::SigningKey;

    use super::*;

    #[test]
    fn default_algorithms_are_those_the_keys_serve() {
        let rsa = SigningKey::generate(Algorithm::PS384).unwrap();
        let ec = SigningKey::generate(Algorithm::ES256).unwrap();
        let keys = KeySet::new(vec![rsa.verifying_key().clone(), ec.verifying_key().clone()]).unwrap();
        // Keys from keygen carry their alg, which limits them to that one algorithm.
        assert_eq!(usable_algorithms(&keys), vec![Algorithm::ES256, Algorithm::PS384]);
    }

    #[test]
    fn an_rsa_key_without_alg_serves_every_rsa_algorithm() {
        let key = SigningKey::generate(Algorithm::RS256).unwrap();
        let mut jwk = key.public_jwk().unwrap();
        jwk.alg = None;
        let keys = KeySet::new(vec![tessera_jose::VerifyingKey::from_jwk(&jwk).unwrap()]).unwrap();
        let algorithms = usable_algorithms(&keys);
        assert_eq!(algorithms.len(), 6);
        assert!(algorithms.iter().all(|alg| alg.name().starts_with('R') || alg.name().starts_with('P')));
    }
}

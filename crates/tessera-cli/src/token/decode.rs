//! `tessera token decode`: a token's header and claims for people, WITHOUT verification.

use std::fmt::Write;

use clap::Args;
use serde_json::{Map, Value, json};
use tessera_jose::Unverified;

use super::{Failure, Output, input, times};

/// Said first, in every form of the output.
const NOT_VERIFIED: &str = "NOT VERIFIED: the signature was not checked";

/// Claims that hold a NumericDate: RFC 7519's, OpenID Connect's, and Tessera's MFA claim.
const TIME_CLAIMS: [&str; 6] = ["exp", "nbf", "iat", "auth_time", "updated_at", "mfa_verified_at"];

/// Arguments of `tessera token decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The token, or - to read it from standard input.
    token: String,
    /// Machine-readable JSON output.
    #[arg(long)]
    json: bool,
}

/// Decodes the token and describes it.
pub fn run(args: &DecodeArgs, now: i64) -> Result<Output, Failure> {
    let token = input::token(&args.token)?;
    let unverified = tessera_jose::decode_unverified(&token).map_err(Failure::Invalid)?;
    let claims = tessera_jose::parse_json_object(&unverified.payload);
    Ok(Output::stdout(if args.json { as_json(&unverified, claims, now) } else { as_text(&unverified, claims, now) }))
}

/// One time claim, described.
struct TimeClaim {
    name: &'static str,
    value: Value,
    /// RFC 3339 date and the relative note, when the value is a usable NumericDate.
    date: Option<(String, String)>,
}

fn time_claims(claims: &Map<String, Value>, now: i64) -> Vec<TimeClaim> {
    TIME_CLAIMS
        .iter()
        .filter_map(|name| claims.get(*name).map(|value| (*name, value)))
        .map(|(name, value)| {
            let date = value
                .as_i64()
                .filter(|seconds| (0..=tessera_jose::MAX_NUMERIC_DATE).contains(seconds))
                .and_then(|seconds| Some((times::rfc3339(seconds)?, relative_note(name, seconds, now))));
            TimeClaim { name, value: value.clone(), date }
        })
        .collect()
}

fn relative_note(name: &str, seconds: i64, now: i64) -> String {
    let relative = times::relative(seconds, now);
    match name {
        "exp" if seconds <= now => format!("expired {relative}"),
        "exp" => format!("expires {relative}"),
        "nbf" if seconds > now => format!("not valid until {relative}"),
        _ => relative,
    }
}

fn as_text(token: &Unverified, claims: Result<Map<String, Value>, tessera_jose::Error>, now: i64) -> String {
    let mut out = format!("{NOT_VERIFIED}.\n\nHeader:\n{}\n", pretty(&Value::Object(token.header.clone())));
    match &claims {
        Ok(claims) => {
            let _ = writeln!(out, "\nClaims:\n{}", pretty(&Value::Object(claims.clone())));
            let times = time_claims(claims, now);
            if !times.is_empty() {
                out.push_str("\nTimes:\n");
            }
            for time in times {
                let _ = match time.date {
                    Some((date, note)) => writeln!(out, "  {:<15} {date}  ({note})", time.name),
                    None => writeln!(out, "  {:<15} {} is not a valid NumericDate", time.name, time.value),
                };
            }
        }
        Err(error) => {
            let _ = writeln!(out, "\nPayload ({error}):\n{}", String::from_utf8_lossy(&token.payload));
        }
    }
    let risky = token.risky_headers();
    if !risky.is_empty() {
        out.push_str("\nRisky headers (a verifier must refuse them):\n");
        for note in risky {
            let _ = writeln!(out, "  {note}");
        }
    }
    let _ = writeln!(out, "\nSignature: {} bytes, not checked.", token.signature_len);
    out
}

fn as_json(token: &Unverified, claims: Result<Map<String, Value>, tessera_jose::Error>, now: i64) -> String {
    let (claims, payload_error, times) = match claims {
        Ok(claims) => {
            let times: Map<String, Value> = time_claims(&claims, now)
                .into_iter()
                .map(|time| {
                    let (date, relative) = time.date.unzip();
                    (time.name.to_owned(), json!({"value": time.value, "date": date, "relative": relative}))
                })
                .collect();
            (Value::Object(claims), Value::Null, times)
        }
        Err(error) => (Value::Null, Value::String(error.to_string()), Map::new()),
    };
    let mut document = json!({
        "verified": false,
        "note": NOT_VERIFIED,
        "header": token.header,
        "claims": claims,
        "times": times,
        "risky_headers": token.risky_headers(),
        "signature_bytes": token.signature_len,
    });
    if let (Value::Object(document), Value::String(_)) = (&mut document, &payload_error) {
        document.insert("payload_error".into(), payload_error);
        document.insert("payload".into(), String::from_utf8_lossy(&token.payload).into());
    }
    pretty(&document)
}

fn pretty(value: &Value) -> String {
    // A serde_json Value always serializes.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_notes_read_naturally() {
        assert_eq!(relative_note("exp", 1_000, 1_180), "expired 3m ago");
        assert_eq!(relative_note("exp", 1_720, 1_000), "expires in 12m");
        assert_eq!(relative_note("nbf", 1_060, 1_000), "not valid until in 1m");
        assert_eq!(relative_note("iat", 1_000, 1_060), "1m ago");
    }

    #[test]
    fn bad_time_values_are_named_not_converted() {
        let Value::Object(claims) = json!({"exp": 1.5, "iat": -1, "nbf": "soon", "sub": "x"}) else { unreachable!() };
        let times = time_claims(&claims, 0);
        assert_eq!(times.len(), 3);
        assert!(times.iter().all(|time| time.date.is_none()));
    }
}
